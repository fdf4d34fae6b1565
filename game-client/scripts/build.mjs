// Builds the browser bundle: src/main.ts -> dist/main.js, plus index.html and style.css. Fails on any warning.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await esbuild.build({
  entryPoints: [join(root, "src/main.ts")],
  outfile: join(dist, "main.js"),
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  logLevel: "silent",
});
for (const w of result.warnings) console.error(`warning: ${w.text}`);
if (result.warnings.length > 0) process.exit(1);

for (const f of ["index.html", "style.css"]) copyFileSync(join(root, f), join(dist, f));
console.log("built dist/ (main.js, main.js.map, index.html, style.css)");
