#!/usr/bin/env python3
"""`make bench`: convergence, steady state, memory and portal figures of the operator, each the
median of several runs and a ratio to a floor measured in the same run, written to
bench/RESULTS.md (raw data in bench/out/). `--smoke` runs every phase with tiny sizes (the
integration test does, so the harness cannot rot)."""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "harness"))

import convergence  # noqa: E402
import machine  # noqa: E402
import memory  # noqa: E402
import portal  # noqa: E402
import sampling  # noqa: E402
import report  # noqa: E402
from procs import ROOT  # noqa: E402


class Config:
    def __init__(self, a):
        self.bin_dir = os.path.abspath(a.bin_dir)
        self.bench_bin = os.path.abspath(a.bench_bin)
        self.out = os.path.abspath(a.out)
        self.results = os.path.abspath(a.results)
        self.sizes = [int(x) for x in a.sizes.split(",")]
        self.repeats = dict((int(k), int(v)) for k, v in
                            (x.split(":") for x in a.repeats.split(",")))
        self.steady_n = a.steady_n
        self.steady_seconds = a.steady_seconds
        # Client rate limit and concurrency, the same for the operator and the floor.
        self.qps, self.burst, self.workers = a.kube_qps, a.kube_burst, a.workers
        self.operator_flags = ["--kube-qps", str(a.kube_qps), "--kube-burst", str(a.kube_burst),
                               "--workers", str(a.workers)]
        self.profile_n = a.profile_n
        self.memory_sizes = [int(x) for x in a.memory_sizes.split(",") if x]
        self.memory_repeats = a.memory_repeats
        self.portal_workspaces = a.portal_workspaces
        self.wrk_seconds, self.wrk_repeats = a.wrk_seconds, a.wrk_repeats
        self.phases = set(a.phases.split(","))
        self.workdir = tempfile.mkdtemp(prefix="rc-bench-")
        os.chmod(self.workdir, 0o755)  # nginx workers (nobody) read files below it
        self._perf = None

    def repeats_for(self, n):
        return self.repeats.get(n, 1)

    def converge_timeout(self, n):
        return max(120, n // 5)

    # --- profiles (harness/sampling.py) ---
    def perf_works(self):
        if self._perf is None:
            self._perf = sampling.sampling_works(self.workdir)
        return self._perf

    def perf_path(self, name):
        return os.path.join(self.out, "perf-%s.data" % name)

    def start_perf(self, pid, name):
        return sampling.start(pid, self.perf_path(name), os.path.join(self.out, "perf.log"))

    def stop_perf(self, proc):
        sampling.stop(proc)

    def perf_report(self, name):
        return sampling.report(self.perf_path(name))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"),
                   help="folder of remote-code (a build without sanitizers)")
    p.add_argument("--bench-bin", default=None, help="rc-bench (default: beside remote-code)")
    p.add_argument("--out", default=os.path.join(HERE, "out"))
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    p.add_argument("--sizes", default="100,1000,5000")
    p.add_argument("--repeats", default="100:3,1000:3,5000:1", help="runs per size, N:runs,...")
    p.add_argument("--steady-n", type=int, default=1000)
    p.add_argument("--steady-seconds", type=int, default=60)
    p.add_argument("--kube-qps", type=float, default=0)
    p.add_argument("--kube-burst", type=int, default=30)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--profile-n", type=int, default=1000)
    p.add_argument("--memory-sizes", default="10000,50000")
    p.add_argument("--memory-repeats", type=int, default=3)
    p.add_argument("--portal-workspaces", type=int, default=50)
    p.add_argument("--wrk-seconds", type=int, default=4)
    p.add_argument("--wrk-repeats", type=int, default=3)
    p.add_argument("--phases", default="converge,memory,portal,profile")
    p.add_argument("--smoke", action="store_true", help="tiny sizes: checks the harness works")
    p.add_argument("--render-only", action="store_true",
                   help="write RESULTS.md again from OUT/results.json, measuring nothing")
    a = p.parse_args(argv)
    if a.smoke:
        a.sizes, a.repeats, a.steady_n, a.steady_seconds = "10", "10:1", 10, 2
        a.profile_n, a.memory_sizes, a.memory_repeats = 0, "200", 1
        a.portal_workspaces, a.wrk_seconds, a.wrk_repeats = 3, 1, 1
    if a.bench_bin is None:
        a.bench_bin = os.path.join(a.bin_dir, "rc-bench")
    return a


def render_only(a):
    with open(os.path.join(a.out, "results.json")) as f:
        results = json.load(f)
    settings = argparse.Namespace(**results["settings"])
    settings.out, settings.results = a.out, a.results
    cfg = Config(settings)
    shutil.rmtree(cfg.workdir, ignore_errors=True)
    if results.get("profile"):  # the samples are kept: read them again with today's report
        for name in ("operator", "sim"):
            if os.path.exists(cfg.perf_path(name)):
                results["profile"][name] = cfg.perf_report(name)
    with open(cfg.results, "w") as f:
        f.write(report.render(results, cfg))
    return 0


def main(argv):
    a = parse_args(argv)
    if a.render_only:
        return render_only(a)
    cfg = Config(a)
    os.makedirs(cfg.out, exist_ok=True)
    started = time.time()

    def log(msg):
        print("[%4.0fs] %s" % (time.time() - started, msg), flush=True)

    results = {"machine": machine.describe(), "command": " ".join(["bench/run.py"] + argv),
               "hardwareCounters": sampling.hardware_counters(),
               "settings": {k: v for k, v in vars(a).items()},
               "loadStart": machine.loadavg(),
               "busyStart": machine.busy_processes(exclude=(os.getpid(),), seconds=1.0)}
    log("machine: %s x %d, load %s, busy: %s" % (results["machine"]["cpu"],
                                                 results["machine"]["nproc"],
                                                 results["loadStart"], results["busyStart"]))
    try:
        for phase, fn in (("converge", convergence.run), ("memory", memory.run),
                          ("portal", portal.run), ("profile", convergence.profile)):
            if phase not in cfg.phases:
                continue
            t0 = time.time()
            results[phase] = fn(cfg, log)
            results.setdefault("phaseSeconds", {})[phase] = time.time() - t0
            results.setdefault("loadAfter", {})[phase] = machine.loadavg()
    finally:
        results["busyEnd"] = machine.busy_processes(exclude=(os.getpid(),), seconds=1.0)
        results["seconds"] = time.time() - started
        with open(os.path.join(cfg.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1, default=str)
        shutil.rmtree(cfg.workdir, ignore_errors=True)
    with open(cfg.results, "w") as f:
        f.write(report.render(results, cfg))
    log("wrote %s (%.0f s in all)" % (cfg.results, time.time() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
