"""Phases 1, 2 and 5: a burst of N Workspaces and N TrainingJobs converged by the operator and by
the floor (each on a fresh simulator), the steady state after convergence, and a CPU profile."""
import json
import os
import subprocess
import time

from procs import Floor, Operator, Sim, cpu_seconds, memory_kib

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")


def cpu_nodes_for(n):
    """Room for every workspace pod at 110 pods per node (training pods end at once)."""
    return n // 100 + 5


def requests_by_client(counts, client):
    """{"verb resource group": count} of one client from /sim/requests."""
    out = {}
    for key, count in counts.items():
        parts = key.split(" ")
        if parts[-1] == client:
            out[" ".join(parts[:-1])] = count
    return out


def writes(counts):
    return sum(c for k, c in counts.items() if k.split(" ")[0] in WRITE_VERBS)


def run_converge(cfg, sim, n, out):
    timeout = cfg.converge_timeout(n)
    p = subprocess.run([cfg.bench_bin, "converge", "--kubeconfig", sim.kubeconfig, "--n", str(n),
                        "--timeout", str(timeout), "--out", out],
                       capture_output=True, text=True, timeout=timeout + 120)
    if not os.path.exists(out):
        raise RuntimeError("rc-bench converge failed (%d): %s" % (p.returncode, p.stderr))
    with open(out) as f:
        return json.load(f)


def steady_state(sim, pid, seconds):
    """Writes and CPU seconds of the operator over `seconds` after convergence."""
    sim.request("DELETE", "/sim/requests")
    cpu0, t0 = cpu_seconds(pid), time.time()
    time.sleep(seconds)
    counts = requests_by_client(sim.request("GET", "/sim/requests"), "remote-code")
    elapsed = time.time() - t0
    return {"seconds": elapsed, "cpuSeconds": cpu_seconds(pid) - cpu0,
            "writes": writes(counts), "requests": counts}


def one_run(cfg, mode, n, index, steady_seconds=0, profile=False):
    """One burst on a fresh simulator; mode is "operator" or "floor"."""
    tag = "%s%s-n%d-%d" % ("profile-" if profile else "", mode, n, index)
    sim = Sim(cfg.bin_dir, cfg.workdir, cpu_nodes=cpu_nodes_for(n))
    proc = None
    perf = []
    try:
        if mode == "operator":
            proc = Operator(cfg.bin_dir, sim, flags=cfg.operator_flags)
        else:
            proc = Floor(cfg.bench_bin, sim, cfg.qps, cfg.burst, cfg.workers,
                         os.path.join(cfg.out, "floor-%s.json" % tag))
        if profile:
            perf = [cfg.start_perf(pid, name) for pid, name in
                    ((proc.pid, "operator"), (sim.pid, "sim"))]
        cpu0 = cpu_seconds(proc.pid)
        sim_cpu0 = cpu_seconds(sim.pid)
        result = run_converge(cfg, sim, n, os.path.join(cfg.out, "converge-%s.json" % tag))
        result["mode"] = mode
        result["cpuSeconds"] = cpu_seconds(proc.pid) - cpu0
        result["simCpuSeconds"] = cpu_seconds(sim.pid) - sim_cpu0
        result["memoryKiB"] = memory_kib(proc.pid)
        for p in perf:
            cfg.stop_perf(p)
        perf = []
        if steady_seconds:
            result["steady"] = steady_state(sim, proc.pid, steady_seconds)
        with open(os.path.join(cfg.out, "converge-%s.json" % tag), "w") as f:
            json.dump(result, f, indent=1)
        return result
    finally:
        for p in perf:
            cfg.stop_perf(p)
        if proc:
            proc.stop()
        sim.stop()


def run(cfg, log):
    """Every size, operator and floor interleaved so that noise hits both alike."""
    runs = []
    steady_done = False
    for n in cfg.sizes:
        for i in range(cfg.repeats_for(n)):
            for mode in ("operator", "floor"):
                steady = 0
                if mode == "operator" and not steady_done and n == cfg.steady_n:
                    steady, steady_done = cfg.steady_seconds, True
                t0 = time.time()
                r = one_run(cfg, mode, n, i, steady_seconds=steady)
                log("converge %s N=%d run %d: %.1f s (converged: %s), wall %.0f s" % (
                    mode, n, i + 1, r["convergedSeconds"], r["converged"], time.time() - t0))
                runs.append(r)
    return runs


def profile(cfg, log):
    """One extra operator run at cfg.profile_n under perf (not counted in the figures)."""
    if not cfg.profile_n or not cfg.perf_works():
        return None
    t0 = time.time()
    r = one_run(cfg, "operator", cfg.profile_n, 0, profile=True)
    log("profile run N=%d: %.1f s, wall %.0f s" % (cfg.profile_n, r["convergedSeconds"],
                                                    time.time() - t0))
    return {"n": cfg.profile_n, "convergedSeconds": r["convergedSeconds"],
            "cpuSeconds": {"operator": r["cpuSeconds"], "sim": r["simCpuSeconds"]},
            "operator": cfg.perf_report("operator"), "sim": cfg.perf_report("sim")}
