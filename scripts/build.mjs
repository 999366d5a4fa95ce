// Bundles the command line into dist/ so `picospike` starts fast (no TypeScript at run time).
// Dependencies stay external: they are installed beside it by npm (only `dependencies` are: the
// packaging test checks every external import of the bundle against them).
import { build } from "esbuild";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** esbuild's options for the CLI bundle (the packaging test builds with the same, to read its imports). */
export const BUILD_OPTIONS = {
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
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // an installed package has no sources (and no esbuild): its dist/ is already built
  if (!existsSync(new URL("../cli/main.ts", import.meta.url))) process.exit(0);
  const root = fileURLToPath(new URL("..", import.meta.url));
  const result = await build({ ...BUILD_OPTIONS, absWorkingDir: root, metafile: true });
  // Chunk names carry content hashes: remove those of earlier builds, or the package ships them all.
  const written = new Set(Object.keys(result.metafile.outputs).map((f) => relative("dist", f)));
  const dist = join(root, "dist");
  for (const dir of ["", "chunks"]) {
    if (!existsSync(join(dist, dir))) continue;
    for (const entry of readdirSync(join(dist, dir), { withFileTypes: true })) {
      const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isFile() && !written.has(rel)) rmSync(join(dist, rel));
    }
  }
  // The live view's page (ui/page/): one script and one stylesheet for the browser, uPlot included
  // (no CDN: the page works offline), served by ui/server.ts and inlined into HTML reports. It
  // lands in dist/ui/, which the chunk cleanup above leaves alone.
  await build({
    entryPoints: { app: "ui/page/main.ts" },
    outdir: "dist/ui",
    absWorkingDir: root,
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "chrome110",
    minify: true,
    legalComments: "inline",
    logLevel: "warning",
  });
}
