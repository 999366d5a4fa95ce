import { defineConfig } from "vitest/config";

// Unit tests sit beside the code (x.test.ts); cross-folder suites live in test/.
export default defineConfig({
  test: {
    include: ["{runtime,codegen,models,firmware-host,ui,cli,test}/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
