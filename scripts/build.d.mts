/** Types of scripts/build.mjs for the tests that build with its options. */
import type { BuildOptions } from "esbuild";

/** esbuild's options for the CLI bundle. */
export declare const BUILD_OPTIONS: BuildOptions;
