/**
 * The reliability soak (firmware-host/jobs/soak.ts): `npx tsx scripts/soak.ts [--board native|mock]
 * [--seconds S] [--record]`; steps from PICOSPIKE_SOAK_STEPS (default 1,000,000), bounded by
 * --seconds (default 60). Prints the report as JSON; --record writes its figures into
 * docs/RELIABILITY.md between the soak markers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { runSoak } from "../firmware-host/jobs/soak.js";

const args = process.argv.slice(2);
const value = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const board = (value("--board") ?? "native") as "native" | "mock";
const seconds = Number(value("--seconds") ?? 60);
const steps = Number(process.env["PICOSPIKE_SOAK_STEPS"] ?? 1_000_000);
const started = performance.now();
let lastPrint = started;
const report = await runSoak({
  board,
  steps,
  seconds,
  // One line a minute on stderr, so a long run can be watched.
  onProgress: (done) => {
    const now = performance.now();
    if (now - lastPrint < 60_000) return;
    lastPrint = now;
    process.stderr.write(`${new Date().toISOString()} ${done} steps, ${Math.round(done / ((now - started) / 1000))} steps/s\n`);
  },
});
process.stdout.write(JSON.stringify(report, null, 2) + "\n");
if (args.includes("--record")) {
  const path = new URL("../docs/RELIABILITY.md", import.meta.url);
  const doc = readFileSync(path, "utf8");
  const i = report.injected;
  const d = report.detected;
  const r = report.recovery;
  const body = [
    "<!-- soak:begin (written by scripts/soak.ts --record) -->",
    `Soak on **${report.board}**, ${new Date().toISOString().slice(0, 10)}: **${report.steps.toLocaleString("en")} lockstep steps** in ${report.seconds} s ` +
      `(${report.stepsPerSecond} steps/s; bounded by ${seconds} s and ${steps.toLocaleString("en")} steps), 1% byte corruption and 1% byte drops both ways, ${i.resets} device resets; ` +
      `learning ${report.learning ? "on (R-STDP, a reward per 50-step sample, learned weights kept across samples, a checkpoint every 500 steps)" : "off (the device announced no PLASTICITY)"}; ` +
      "damage-triggered fast retransmission (spec/protocol.md §2).",
    "",
    "| figure | value |",
    "| --- | --- |",
    `| frames host→device / device→host | ${i.framesHostToDevice} / ${i.framesDeviceToHost} |`,
    `| frames damaged by the injector h→d / d→h | ${i.framesDamagedHostToDevice} / ${i.framesDamagedDeviceToHost} |`,
    `| bytes dropped / bits flipped | ${i.bytesDropped} / ${i.bitsFlipped} |`,
    `| host rejected: bad CRC / bad frame | ${d.badCrc} / ${d.badFrame} |`,
    `| device damage reports received (ERROR 401/402) | ${d.damageReports} |`,
    `| host sequence gaps (frames lost, counted) | ${d.gaps} |`,
    `| retransmissions (of them fast, on detected damage) | ${d.retransmissions} (${d.fastRetransmissions}) |`,
    `| recoveries (resets detected, re-uploads, steps replayed) | ${r.recoveries} (${r.resetsDetected}, ${r.reuploads}, ${r.replayedSteps}) |`,
    `| recoveries by cause | ${
      Object.entries(r.causes)
        .map(([why, n]) => `${why}: ${n}`)
        .join(", ") || "none"
    } |`,
    `| learned-weights checkpoints | ${r.checkpoints} |`,
    `| steps diverging from the interpreter (corrupted frames accepted) | **${report.divergentSteps}** |`,
    `| requests completed (none failed; ${r.recoveries - r.resetsDetected} timeouts reported and recovered) | ${report.requestsCompleted} |`,
    `| final weights = reference = last checkpoint + replayed log | ${report.weightsExact === null ? "n/a (no learning)" : report.weightsExact} |`,
    "",
    `Rerun: \`PICOSPIKE_SOAK_STEPS=${steps} npx tsx scripts/soak.ts --board ${report.board} --seconds ${seconds} --record\`.`,
    "<!-- soak:end -->",
  ].join("\n");
  const re = /<!-- soak:begin[\s\S]*?<!-- soak:end -->/;
  writeFileSync(path, re.test(doc) ? doc.replace(re, body) : `${doc.trimEnd()}\n\n## Soak\n\n${body}\n`);
}
