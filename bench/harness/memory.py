"""Phase 3: the operator's resident memory idle and with many objects in its caches. The objects
are pods of other applications (the operator caches every pod of the cluster, as its informers
list and watch pods cluster-wide), created before the operator starts, so its first list fills
the cache; each level is measured over several fresh operator starts."""
import json
import os
import shutil
import statistics
import subprocess
import time

from procs import Operator, Sim, memory_kib, wait_idle


def trimmed_kib(pid):
    """VmRSS after the process calls malloc_trim(0) (through gdb): what is left once the
    allocator returns the free memory it kept (mostly from parsing the first lists). None
    without gdb."""
    if not shutil.which("gdb"):
        return None
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-iex", "set auto-solib-add off",
                    "-ex", "sharedlibrary libc.so", "-ex", "call (int)malloc_trim(0)"],
                   capture_output=True, timeout=120)
    return memory_kib(pid)["VmRSS"]


def populate(cfg, sim, n, start, out):
    p = subprocess.run([cfg.bench_bin, "populate", "--kubeconfig", sim.kubeconfig, "--kind", "pods",
                        "--n", str(n), "--from", str(start), "--out", out],
                       capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError("rc-bench populate failed: %s" % p.stderr)
    with open(out) as f:
        return json.load(f)


def measure(cfg, sim, label, log):
    """VmRSS (KiB) of fresh operators once their caches are full and they are idle."""
    samples = []
    for i in range(cfg.memory_repeats):
        t0 = time.time()
        op = Operator(cfg.bin_dir, sim, flags=cfg.operator_flags)
        try:
            wait_idle(op.pid)
            sample = memory_kib(op.pid)
            sample["trimmedRSS"] = trimmed_kib(op.pid)
            samples.append(sample)
        finally:
            op.stop()
        log("memory %s start %d: VmRSS %d KiB, %s KiB after malloc_trim (ready and idle after "
            "%.1f s)" % (label, i + 1, sample["VmRSS"], sample["trimmedRSS"], time.time() - t0))
    trimmed = [s["trimmedRSS"] for s in samples if s["trimmedRSS"] is not None]
    return {"samples": samples,
            "rssKiB": statistics.median(s["VmRSS"] for s in samples),
            "hwmKiB": statistics.median(s["VmHWM"] for s in samples),
            "trimmedKiB": statistics.median(trimmed) if trimmed else None}


def run(cfg, log):
    sim = Sim(cfg.bin_dir, cfg.workdir, cpu_nodes=1)
    levels = []
    try:
        levels.append(dict(objects=0, **measure(cfg, sim, "idle", log)))
        have = 0
        for target in cfg.memory_sizes:
            t0 = time.time()
            listed = populate(cfg, sim, target - have, have,
                              os.path.join(cfg.out, "populate-%d.json" % target))
            have = target
            wait_idle(sim.pid, timeout=600)  # the kubelet has started every pod
            log("memory: %d pods in the cluster after %.0f s" % (have, time.time() - t0))
            level = dict(objects=target, **measure(cfg, sim, "%d pods" % target, log))
            level["populate"] = listed
            levels.append(level)
        # The pods of one namespace as the API server sends them to a list; all are alike.
        body = sim.request("GET", "/api/v1/namespaces/filler-0/pods", raw=True)
        items = json.loads(body)["items"]
    finally:
        sim.stop()
    for item in items:  # what the operator's informers keep of them (runtime::drop_unread_fields)
        item["metadata"].pop("managedFields", None)
    stripped = sum(len(json.dumps(i, separators=(",", ":"))) for i in items)
    result = {"levels": levels, "rawSample": len(items),
              "rawBytesPerPod": len(body) / len(items) if items else 0,
              "strippedBytesPerPod": stripped / len(items) if items else 0}
    with open(os.path.join(cfg.out, "memory.json"), "w") as f:
        json.dump(result, f, indent=1)
    return result
