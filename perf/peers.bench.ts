/**
 * Peer comparison: picospike's TS interpreter against Brian2 and a PyTorch LIF loop in
 * the style of snnTorch, on the same network (the MNIST MLP 784-256-10, perf/peers/workload.ts),
 * the same input spikes (one digit, rate-coded once by picospike) and the same number of steps,
 * batch 1. For each peer the bench checks that it computed the same network (spike counts and
 * membranes) and reports picospike's steps/s divided by the peer's. picospike is timed right
 * before each peer, so every ratio comes from two measurements taken side by side on a shared
 * machine. Peers that cannot be imported are reported as missing (scripts/install-bench-deps.sh).
 */
import type { StepEvents } from "../runtime/events.js";
import type { EventTable } from "../runtime/model.js";
import type { BenchModule, BenchRow } from "./harness.js";
import { PEERS, PEER_PYTHON, compareRuns, runPeer, runPicospike, stepsPerSecond, withWorkloadFile, type PeerSpec } from "./peers/driver.js";
import { LIF_LEAK_SHIFT, encodeInput, mnistDigit, mnistMlp, withShiftLeak, type PeerNetwork } from "./peers/workload.js";

/** Targets: picospike steps/s ≥ this multiple of the peer's, at batch 1 on the MNIST MLP. */
const TARGET_RATIO: Readonly<Record<string, number>> = { brian2: 5, torch: 2 };

/** Longest a peer may take for one case (Brian2's first cython build alone takes minutes on a loaded machine). */
const PEER_TIMEOUT_MS = 30 * 60_000;

interface PeerCase {
  readonly name: string;
  readonly network: PeerNetwork;
  readonly steps: number;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

function targetOf(peer: PeerSpec): number {
  return TARGET_RATIO[peer.script.startsWith("brian2") ? "brian2" : "torch"]!;
}

function describeInfo(info: Readonly<Record<string, string | number>>): string {
  const parts = [`v${info.version ?? "?"}`];
  if (info.target !== undefined) parts.push(`${info.target} codegen target`);
  if (info.threads !== undefined) parts.push(`${info.threads} thread${info.threads === 1 ? "" : "s"}`);
  parts.push(String(info.dtype ?? "float64"), `Python ${info.python ?? "?"}`);
  return parts.join(", ");
}

function measureCase(c: PeerCase, input: readonly StepEvents[], runs: number, workloadPath: string): BenchRow[] {
  const table: EventTable = c.network.table;
  const inputPerStep = input.reduce((s, e) => s + e.indices.length, 0) / input.length;
  const base = `T=${c.steps}, batch 1, ${inputPerStep.toFixed(1)} input spikes/step; ${c.network.origin}`;
  return PEERS.map((peer): BenchRow => {
    const name = `${c.name} vs ${peer.label}`;
    // picospike is timed right before its peer so that both see the same machine load
    const ours = runPicospike(table, input, runs);
    const oursPerSecond = stepsPerSecond(ours);
    const outcome = runPeer(peer, workloadPath, runs, PEER_TIMEOUT_MS);
    if (outcome.status !== "ok") {
      process.stderr.write(`  ${name}: ${outcome.status}: ${outcome.reason}\n`);
      const why = outcome.reason.split("\n").pop() ?? outcome.reason;
      return { name, figures: { "picospike steps/s": Math.round(oursPerSecond) }, workload: `${base}; peer ${outcome.status.toUpperCase()}: ${why}` };
    }
    const theirs = outcome.run;
    const theirsPerSecond = stepsPerSecond(theirs);
    const agreement = compareRuns(table, ours, theirs);
    const ratio = oursPerSecond / theirsPerSecond;
    const target = targetOf(peer);
    const verdict = ratio >= target ? `target ≥ ${target}× met` : `target ≥ ${target}× NOT met`;
    return {
      name,
      figures: {
        "picospike steps/s": Math.round(oursPerSecond),
        "peer steps/s": Math.round(theirsPerSecond),
        "picospike ÷ peer": round(ratio, 2),
        "target ×": target,
        "hidden counts identical %": round(100 * agreement.hiddenCountsIdentical, 1),
        "output identical %": round(100 * agreement.outputIdentical, 1),
        "hidden spikes (picospike)": agreement.hiddenSpikes,
        "hidden spikes (peer)": agreement.peerHiddenSpikes,
      },
      workload:
        `${base}; peer ${describeInfo(outcome.info)}; output compared by ${agreement.outputCompared}; ` +
        `${agreement.exact ? "all counts and membranes identical" : "NOT identical"}; ${verdict}`,
    };
  });
}

/** The peer comparison benchmark module. */
export const peersBench: BenchModule = {
  title: "Peer simulators (Brian2, PyTorch LIF)",
  description:
    "Same network, same input spikes, same run: the MNIST MLP 784-256-10 (int8, reset by subtraction) on one digit rate-coded once by picospike " +
    "(spec/ops.md §7.2) and replayed by each peer (bench/peers/). Brian2 runs in runtime mode with the cython target (its default when Cython is present) and with numpy; " +
    "its timing is the wall time of `net.run`, which includes Brian2's per-run preparation. PyTorch runs an snnTorch-style loop at batch 1 on the CPU (nn.Linear, float64), " +
    "with 1 thread and with its default thread count. Peers compute in float64 on integer values, so agreement is expected to be exact: " +
    "'identical %' are the fractions of neurons whose spike counts (or, for the integrator readout, final membranes) equal picospike's. " +
    `The LIF variant uses the shift leak v − floor(v / 2^${LIF_LEAK_SHIFT}), expressed with floor in both peers. ` +
    "Ratios are picospike steps/s over peer steps/s, each the median of the timed runs (5, or 2 with --quick) after a warm-up, picospike timed right before each peer; " +
    "a picospike run of T=100 lasts about a millisecond, so its warm-up lasts at least 0.3 s and each of its timed samples repeats the run until it lasts 30 ms (seconds per run = sample ÷ repetitions). " +
    `Peers run under ${PEER_PYTHON}; a peer that cannot be imported is listed as MISSING (install with scripts/install-bench-deps.sh).`,
  run({ quick }) {
    const runs = quick ? 2 : 5;
    const ifNet = mnistMlp();
    const lifNet = withShiftLeak(ifNet);
    const cases: PeerCase[] = quick
      ? [{ name: "MNIST MLP IF, T=100", network: ifNet, steps: 100 }]
      : [
          { name: "MNIST MLP IF, T=100", network: ifNet, steps: 100 },
          { name: "MNIST MLP IF, T=1000", network: ifNet, steps: 1000 },
          { name: `MNIST MLP LIF (shift ${LIF_LEAK_SHIFT}), T=1000`, network: lifNet, steps: 1000 },
        ];
    const digit = mnistDigit();
    return cases.flatMap((c) => {
      const input = encodeInput(c.network.table, digit, c.steps);
      return withWorkloadFile(c.network.table, input, (path) => measureCase(c, input, runs, path));
    });
  },
};
