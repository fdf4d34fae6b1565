// Builds the browser bundles: src/main.ts -> dist/main.js (the game) and src/admin/main.ts -> dist/admin.js (the
// operator console, /admin), plus their HTML and CSS. Fails on any warning.
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await esbuild.build({
  entryPoints: { main: join(root, "src/main.ts"), admin: join(root, "src/admin/main.ts") },
  outdir: dist,
  bundle: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  logLevel: "silent",
});
for (const w of result.warnings) console.error(`warning: ${w.text}`);
if (result.warnings.length > 0) process.exit(1);

for (const f of ["index.html", "style.css", "admin.html", "admin.css"]) copyFileSync(join(root, f), join(dist, f));
console.log("built dist/ (main.js, admin.js and their maps, index.html, style.css, admin.html, admin.css)");
