// Bundles the command line into dist/ so `picospike` starts fast (no TypeScript at run time).
// Dependencies stay external: they are installed beside it by npm.
import { build } from "esbuild";
import { existsSync } from "node:fs";

if (!existsSync(new URL("../cli/main.ts", import.meta.url))) process.exit(0);
await build({
  entryPoints: ["cli/main.ts"],
  outdir: "dist",
  entryNames: "picospike",
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true, // each verb's dependencies load only when that verb runs
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
// The live view's page (ui/page/): one script and one stylesheet for the browser, uPlot included
// (no CDN: the page works offline), served by ui/server.ts and inlined into HTML reports.
if (existsSync(new URL("../ui/page/main.ts", import.meta.url))) {
  await build({
    entryPoints: { app: "ui/page/main.ts" },
    outdir: "dist/ui",
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "chrome110",
    minify: true,
    legalComments: "inline",
    logLevel: "warning",
  });
}
