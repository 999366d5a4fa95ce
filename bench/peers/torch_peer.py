"""PyTorch peer: the workload as an snnTorch-style LIF loop (nn.Linear per layer, the membrane
as a tensor, a Python loop over time steps), batch 1, float64 on the CPU.

Per step and layer, in picospike's order (spec/ops.md §4.1, §6): leak (lif-shift:
v - floor(v / 2**k)), then bias + W·spikes (nn.Linear), then threshold v >= theta and reset by
subtraction; the layer's spikes feed the next layer in the same step. An integrator layer only
adds. snnTorch's Leaky multiplies by a float beta and resets from the previous step's spike, which
does not compute picospike's network; this loop keeps snnTorch's structure with picospike's
integer dynamics so the spike counts can be compared exactly.

  /usr/bin/python3 torch_peer.py --workload W.json --out R.json --runs N [--threads K]
(--threads 0 keeps torch's default thread count.)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    opts = common.parse_args(sys.argv[1:])
    torch = common.import_or_missing("torch", opts["out"], "torch")
    import numpy as np

    threads = int(opts.get("threads") or 0)
    if threads > 0:
        torch.set_num_threads(threads)
    w = common.load_workload(opts["workload"])
    steps = w["steps"]
    dtype = torch.float64

    x = torch.zeros(steps, 1, w["inputSize"], dtype=dtype)
    for t, idx in enumerate(w["input"]):
        if idx:
            x[t, 0, torch.tensor(idx, dtype=torch.long)] = 1.0

    layers = []
    for L in w["layers"]:
        fc = torch.nn.Linear(L["inputs"], L["size"], bias=L["bias"] is not None, dtype=dtype)
        with torch.no_grad():
            fc.weight.copy_(torch.from_numpy(np.ascontiguousarray(L["weights"].T)))
            if L["bias"] is not None:
                fc.bias.copy_(torch.from_numpy(L["bias"]))
        layers.append({
            "fc": fc,
            "spiking": L["model"] != "integrator",
            "leakDiv": float(2 ** L["leakShift"]) if L["model"] == "lif-shift" and L["leakShift"] > 0 else None,
            "threshold": L["threshold"],
            "size": L["size"],
        })

    def run_once():
        with torch.inference_mode():
            mems = [torch.zeros(1, L["size"], dtype=dtype) for L in layers]
            counts = [torch.zeros(1, L["size"], dtype=dtype) for L in layers]
            for t in range(steps):
                spk = x[t]
                for k, L in enumerate(layers):
                    mem = mems[k]
                    if L["leakDiv"] is not None:
                        mem = mem - torch.floor(mem / L["leakDiv"])
                    mem = mem + L["fc"](spk)
                    if L["spiking"]:
                        spk = (mem >= L["threshold"]).to(dtype)
                        mem = mem - spk * L["threshold"]
                        counts[k] += spk
                    mems[k] = mem
            return counts, mems

    seconds, (counts, mems) = common.time_runs(opts["runs"], run_once)
    info = {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "dtype": "float64",
        "device": "cpu",
    }
    common.write_result(opts["out"], "torch", info, seconds,
                        [c[0].tolist() for c in counts], [m[0].tolist() for m in mems], steps)


if __name__ == "__main__":
    main()
