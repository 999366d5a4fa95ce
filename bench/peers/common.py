"""Shared by the peer simulators of bench/peers: reads the workload the TS driver wrote
(bench/peers/driver.ts, format "picospike-peer-workload" v1) and writes the result file.

Everything is float64 holding integers: weights are w * 2**shift (exact), sums of at most a few
million terms of |x| < 2**31 stay below 2**53, and the shift leak v - floor(v / 2**k) divides by
a power of two, which is exact. So a peer computing the same network gets bit-identical spike
counts and membranes to picospike's integer interpreter, as long as nothing would saturate int32
(the driver checks the membranes it gets back against picospike's).
"""
import json
import sys
import time

WORKLOAD_FORMAT = "picospike-peer-workload"
RESULT_FORMAT = "picospike-peer-result"


def parse_args(argv):
    """--workload PATH --out PATH --runs N, plus peer options as --name value pairs."""
    opts = {}
    it = iter(argv)
    for key in it:
        if not key.startswith("--"):
            raise SystemExit(f"unexpected argument {key!r}")
        opts[key[2:]] = next(it, None)
    for need in ("workload", "out", "runs"):
        if opts.get(need) is None:
            raise SystemExit(f"missing --{need}")
    opts["runs"] = int(opts["runs"])
    return opts


def load_workload(path):
    """The workload as dicts plus numpy arrays: dense float64 weight matrices [in, out] already
    multiplied by 2**shift of their post neuron, biases, and the input spike indices per step."""
    import numpy as np

    with open(path, "r", encoding="utf-8") as f:
        w = json.load(f)
    if w.get("format") != WORKLOAD_FORMAT or w.get("version") != 1:
        raise SystemExit(f"{path}: not a {WORKLOAD_FORMAT} v1 file")
    layers = []
    inputs = w["inputSize"]
    for L in w["layers"]:
        size = L["size"]
        weights = np.asarray(L["weights"], dtype=np.float64).reshape(inputs, size)
        scale = np.ldexp(1.0, np.asarray(L["shift"], dtype=np.int64))  # one entry or one per post neuron
        layers.append({
            "name": L["name"],
            "size": size,
            "inputs": inputs,
            "model": L["model"],
            "threshold": float(L["threshold"]),
            "leakShift": int(L["leakShift"]),
            "weights": weights * scale,  # broadcasts over the post axis
            "bias": np.asarray(L["bias"], dtype=np.float64) if L["bias"] is not None else None,
        })
        inputs = size
    return {"inputSize": w["inputSize"], "steps": w["steps"], "input": w["input"], "layers": layers}


def time_runs(runs, run_once):
    """One untimed warm-up, then `runs` timed calls; returns (seconds list, last result)."""
    result = run_once()
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = run_once()
        seconds.append(time.perf_counter() - t0)
    return seconds, result


def write_result(path, peer, info, seconds, counts, membranes, steps):
    """Result file: per layer spike counts and final membranes (lists of floats), run times."""
    out = {
        "format": RESULT_FORMAT,
        "available": True,
        "peer": peer,
        "info": info,
        "steps": steps,
        "seconds": seconds,
        "counts": [[float(x) for x in c] for c in counts],
        "membranes": [[float(x) for x in m] for m in membranes],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f)


def write_missing(path, peer, reason):
    """Result file of a peer whose package cannot be imported: reported as missing, not failed."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"format": RESULT_FORMAT, "available": False, "peer": peer, "reason": reason}, f)


def import_or_missing(module, out_path, peer):
    """Imports `module`, or writes a missing-peer result and exits 0."""
    import importlib

    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken install failing at import time
        write_missing(out_path, peer, f"cannot import {module} with {sys.executable}: {e}")
        raise SystemExit(0)
