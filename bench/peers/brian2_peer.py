"""Brian2 peer: the workload as a Brian2 network (NeuronGroups without differential equations,
Synapses with on_pre 'v_post += w', a SpikeGeneratorGroup replaying picospike's input spikes),
float64, runtime mode with the codegen target given by --target (numpy or cython).

picospike's step (spec/ops.md §4.1, §6) is reproduced by scheduling: in the 'groups' slot every
layer leaks and adds its bias (run_regularly: v = v - floor(v / 2**k) + b); then, all in the
'thresholds' slot, in this order: the input generator, the input pathway, layer 0's threshold
and reset, layer 0 → 1 pathway, layer 1's threshold and reset, ... With zero synaptic delay, a
spike therefore crosses every layer within the step, as in picospike (Brian2's default schedule
would deliver it one step later per layer). Spike counts are a state variable incremented by the
reset, final membranes are read after the run.

  /usr/bin/python3 brian2_peer.py --workload W.json --out R.json --runs N --target numpy|cython
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    opts = common.parse_args(sys.argv[1:])
    b2 = common.import_or_missing("brian2", opts["out"], "brian2")
    import numpy as np

    target = opts.get("target") or "numpy"
    if target == "cython":
        try:
            import Cython  # noqa: F401
        except Exception as e:
            common.write_missing(opts["out"], "brian2", f"cython target needs Cython: {e}")
            return
    b2.BrianLogger.log_level_error()
    b2.prefs.codegen.target = target
    b2.defaultclock.dt = 1 * b2.ms
    dt = b2.defaultclock.dt

    w = common.load_workload(opts["workload"])
    steps = w["steps"]
    idx = [i for t, step in enumerate(w["input"]) for i in step]
    times = [t for t, step in enumerate(w["input"]) for _ in step]
    source = b2.SpikeGeneratorGroup(w["inputSize"], np.asarray(idx, dtype=np.int64),
                                    np.asarray(times, dtype=np.float64) * dt, name="input")
    source.order = 0
    objects = [source]
    groups = []
    order = 1
    for k, L in enumerate(w["layers"]):
        spiking = L["model"] != "integrator"
        ns = {"theta": L["threshold"], "leak_div": float(2 ** L["leakShift"])}
        group = b2.NeuronGroup(
            L["size"], "v : 1\nb : 1 (constant)\nnspk : 1",
            threshold="v >= theta" if spiking else None,
            reset="v -= theta\nnspk += 1" if spiking else None,
            namespace=ns, name=f"layer{k}")
        has_bias = L["bias"] is not None and bool(np.any(L["bias"] != 0))
        if has_bias:
            group.b = L["bias"]
        leaks = L["model"] == "lif-shift" and L["leakShift"] > 0
        if leaks or has_bias:
            code = ("v = v - floor(v / leak_div)" if leaks else "v = v") + (" + b" if has_bias else "")
            group.run_regularly(code, when="groups", name=f"layer{k}_leak_bias")
        syn = b2.Synapses(source, group, "w : 1 (constant)", on_pre="v_post += w", name=f"syn{k}")
        n_in, n_out = L["inputs"], L["size"]
        syn.connect(i=np.repeat(np.arange(n_in), n_out), j=np.tile(np.arange(n_out), n_in))
        syn.w = L["weights"].reshape(-1)  # pre-major, the synapse order connect() was given
        syn.pre.when, syn.pre.order = "thresholds", order
        order += 1
        if spiking:
            group.thresholder["spike"].when, group.thresholder["spike"].order = "thresholds", order
            group.resetter["spike"].when, group.resetter["spike"].order = "thresholds", order + 1
            order += 2
        objects += [group, syn]
        groups.append(group)
        source = group

    net = b2.Network(*objects)
    net.store("init")
    seconds = []
    for r in range(opts["runs"] + 1):  # the first run is the warm-up (code generation, compilation)
        net.restore("init")
        t0 = time.perf_counter()
        net.run(steps * dt)
        if r > 0:
            seconds.append(time.perf_counter() - t0)
    info = {
        "version": b2.__version__,
        "target": target,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "dtype": "float64",
        "timing": "wall time of net.run(T*dt) after restore(), including Brian2's per-run preparation",
    }
    common.write_result(opts["out"], "brian2", info, seconds,
                        [np.asarray(g.nspk[:]) for g in groups], [np.asarray(g.v[:]) for g in groups], steps)


if __name__ == "__main__":
    main()
