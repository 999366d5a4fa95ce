import { configDefaults, defineConfig } from "vitest/config";

// Unit tests sit beside the code (x.test.ts, benches' own tests too); cross-folder suites live in test/. Four tiers
// (vitest projects), each a file list; a file sits in exactly one tier, `unit` holds the rest.
// `npm test` runs unit + native; `npm run test:all` (and CI) runs all four.

/** Needs gcc (host C builds, the native board); seconds to a few minutes. */
const NATIVE = [
  "firmware-host/boards/boards.test.ts",
  "firmware-host/boards/build-cache.test.ts",
  "firmware-host/bridge/session.test.ts",
  "firmware-host/wire/protocol-c.test.ts",
  "cli/build.test.ts",
  "test/c-table-reader.test.ts",
  "test/c-learning-switch.test.ts",
  "test/error-catalogue.test.ts",
  "test/boards/live.test.ts",
  "cli/device.test.ts",
  "firmware-host/boards/flash/flash.test.ts",
  "test/twin.test.ts",
  // the packed package, installed outside the repository, every README verb (gcc for the native board)
  "test/acceptance/acceptance.test.ts",
  // Debian's chromium against a native-board stream (skips with its reason when chromium is absent)
  "test/ui/browser.test.ts",
];
/** Needs the cross compilers and QEMU (the emulated boards; the library build runs its example under QEMU). */
const BOARDS = [
  "test/boards/echo.test.ts",
  "test/fold.test.ts",
  "test/library/library.test.ts",
  // the packed package building for every cross board, and stream, compare and bench under QEMU
  "test/acceptance/acceptance-boards.test.ts",
];
/** Minutes each: the soak, the long conformance run, fuzz smoke runs, the Python peers, the full demo. */
const LONG = [
  "test/soak.test.ts",
  "test/conformance/**/*.test.ts",
  "test/fuzz-smoke.test.ts",
  "test/fuzz-proto-smoke.test.ts",
  "perf/peers/driver.test.ts",
  "cli/demo.test.ts",
];
/** The board end-to-end suite runs in two tiers: the native board with `native`, the QEMU boards with `boards`. */
const E2E = "test/boards/e2e.test.ts";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["{runtime,codegen,models,firmware-host,ui,cli,perf,bench,test,scripts}/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...NATIVE, ...BOARDS, ...LONG, E2E],
        },
      },
      { extends: true, test: { name: "native", include: [...NATIVE, E2E], env: { PICOSPIKE_TEST_BOARDS: "host" } } },
      { extends: true, test: { name: "boards", include: [...BOARDS, E2E], env: { PICOSPIKE_TEST_BOARDS: "qemu" } } },
      { extends: true, test: { name: "long", include: LONG } },
    ],
  },
});
