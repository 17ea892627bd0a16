"""What the report says about the machine and the code: CPU, memory, load, other busy processes,
the commit."""
import os
import platform
import subprocess
import time

from procs import CLK_TCK, ROOT


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def mem_total_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def _ticks():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                head, _, rest = f.read().rpartition(")")
            fields = rest.split()
            out[int(pid)] = (head.split("(", 1)[1], int(fields[11]) + int(fields[12]))
        except (OSError, IndexError):
            pass
    return out


def busy_processes(seconds=2.0, threshold=0.1, exclude=()):
    """[(command, share of a core)] of processes using more than `threshold` of a core."""
    before = _ticks()
    time.sleep(seconds)
    after = _ticks()
    busy = []
    for pid, (comm, t) in after.items():
        if pid in exclude or pid not in before:
            continue
        share = (t - before[pid][1]) / CLK_TCK / seconds
        if share >= threshold:
            busy.append((comm, round(share, 2)))
    return sorted(busy, key=lambda x: -x[1])


def commit():
    def git(*args):
        p = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return p.stdout.strip()
    head = git("rev-parse", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return head + (" (with uncommitted changes in the working tree)" if dirty else "")


def describe():
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "memGiB": round(mem_total_gib(), 1),
            "kernel": platform.release(), "commit": commit(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
