// Printed at the end of `npm test`: the test tiers it did not run, and how to run them.
process.stdout.write(
  [
    "",
    "npm test ran the unit and native tiers; not run:",
    "  boards  (QEMU Cortex-M boards: e2e, echo, fold)       npm run test:boards",
    "  long    (soak, long conformance, fuzz smoke, peers, demo)  npm run test:long",
    "every tier: npm run test:all (CI runs npm test, then boards and long)",
    "",
  ].join("\n"),
);
