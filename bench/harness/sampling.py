"""Sampling profiles with perf. This machine class often has no hardware counters
(`perf stat -e instructions` says <not supported>), so samples come from the cpu-clock software
event, which needs none. Call chains are unwound from DWARF (the binaries have no frame
pointers), which is what attributes malloc and JSON copies to the operator's own functions."""
import os
import re
import shutil
import signal
import subprocess

ENV = dict(os.environ, DEBUGINFOD_URLS="")  # never ask the network for debug info


def hardware_counters():
    """True when `perf stat -e instructions true` counts instructions."""
    if not shutil.which("perf"):
        return False
    p = subprocess.run(["perf", "stat", "-x,", "-e", "instructions", "true"],
                       capture_output=True, text=True, env=ENV)
    return p.returncode == 0 and "not supported" not in p.stderr and "<not" not in p.stderr


def sampling_works(workdir):
    if not shutil.which("perf"):
        return False
    out = os.path.join(workdir, "perf-check.data")
    p = subprocess.run(["perf", "record", "-e", "cpu-clock", "-o", out, "--", "true"],
                       capture_output=True, text=True, env=ENV)
    if os.path.exists(out):
        os.remove(out)
    return p.returncode == 0


def start(pid, path, log_path):
    log = open(log_path, "a")
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "99",
                             "--call-graph", "dwarf,16384", "-p", str(pid), "-o", path],
                            stdout=log, stderr=log, env=ENV)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def shorten(name):
    """A C++ symbol without template arguments, trailing perf columns or parameter lists of
    lambdas: `nlohmann::basic_json<…>::basic_json`."""
    name = re.sub(r"\s+-\s+-\s*$", "", name).strip()
    prev = None
    while prev != name:  # innermost first; \x01 marks what was elided
        prev = name
        name = re.sub(r"<[^<>]*>", "\x01", name)
    name = name.replace("(anonymous namespace)", "\x02").replace("operator()", "\x03")
    prev = None
    while prev != name:  # parameter lists, also those of lambdas inside a function
        prev = name
        name = re.sub(r"\([^()]*\)(\s*const)?", "", name)
    name = name.replace("\x02", "(anonymous namespace)").replace("\x03", "operator()")
    return name.replace("\x01", "<…>").replace("json_abi_v3_11_2::", "").replace(
        "std::__cxx11::", "std::")


ROW = re.compile(r"^\s+([0-9.]+)%\s+(?:([0-9.]+)%\s+)?(.*?)\s*$")


def _report(path, *args):
    if not os.path.exists(path):
        return []
    p = subprocess.run(["perf", "report", "-i", path, "--stdio", "--no-inline", "-g", "none",
                        *args], capture_output=True, text=True, env=ENV, timeout=600)
    rows = []
    for line in p.stdout.splitlines():
        m = ROW.match(line) if not line.startswith("#") else None
        if m:
            rows.append((float(m.group(1)), re.sub(r"^\[[.k]\]\s+", "", m.group(3))))
    return rows


# Self time by kind: the first pattern that matches a "dso symbol" row wins.
KINDS = [
    ("kernel (syscalls, scheduling, network)", r"^\[kernel"),
    ("TLS and hashing (libssl, libcrypto)", r"^lib(ssl|crypto)"),
    ("HTTP client (libcurl)", r"^libcurl"),
    ("malloc and free", r"malloc|free|_int_|unlink_chunk|operator new|operator delete|"
                        r"consolidate|tcache"),
    ("JSON (nlohmann::json)", r"nlohmann"),
    ("std::map nodes (JSON objects)", r"_Rb_tree"),
    ("strings and memory copies", r"basic_string|mem(cpy|move|cmp|set)|str(len|cmp)"),
]


def by_kind(rows):
    """[(kind, percent)]; "other" also holds the symbols below the report's limit."""
    out = {k: 0.0 for k, _ in KINDS}
    for pct, name in rows:
        for kind, pattern in KINDS:
            if re.search(pattern, name):
                out[kind] += pct
                break
    out["other"] = max(0.0, 100.0 - sum(out.values())) if rows else 0.0
    return sorted(out.items(), key=lambda kv: -kv[1])


def report(path):
    """Self time by shared object and by kind, the top self symbols, and the inclusive time of
    our own functions (rc::...), each as a percentage of the process's samples."""
    inclusive, seen = [], set()
    for pct, name in _report(path, "--children", "--sort", "symbol", "--percent-limit", "1"):
        short = shorten(name)
        if short.startswith("rc::") and short not in seen:
            seen.add(short)
            inclusive.append((pct, short))
    return {
        "dsos": _report(path, "--no-children", "--sort", "dso", "--percent-limit", "0.5"),
        "kinds": by_kind(_report(path, "--no-children", "--sort", "dso,symbol",
                                 "--percent-limit", "0.1")),
        "self": [(pct, shorten(name)) for pct, name in
                 _report(path, "--no-children", "--sort", "symbol", "--percent-limit", "1")],
        "inclusive": inclusive,
    }
