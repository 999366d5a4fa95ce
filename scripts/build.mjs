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
