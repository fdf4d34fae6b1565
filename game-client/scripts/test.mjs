// Runs the unit tests: bundles test/*.test.ts with esbuild into a temp dir, then runs node's built-in test runner.
import * as esbuild from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const testDir = join(root, "test");
const entries = readdirSync(testDir)
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => join(testDir, f));
if (entries.length === 0) {
  console.error("no test files in test/");
  process.exit(1);
}

const out = mkdtempSync(join(tmpdir(), "tickrelay-client-tests-"));
let code = 1;
try {
  const result = await esbuild.build({
    entryPoints: entries,
    outdir: out,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "inline",
    logLevel: "silent",
  });
  for (const w of result.warnings) console.error(`warning: ${w.text}`);
  if (result.warnings.length > 0) process.exit(1);
  const files = readdirSync(out)
    .filter((f) => f.endsWith(".mjs"))
    .map((f) => join(out, f));
  const run = spawnSync(process.execPath, ["--enable-source-maps", "--test", ...files], {
    stdio: "inherit",
    cwd: root,
  });
  code = run.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(code);
