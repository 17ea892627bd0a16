"""bench/RESULTS.md from the results of bench/run.py."""
import statistics

from convergence import WRITE_VERBS, requests_by_client

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float) and digits == 0:
        return "%.0f" % v
    return ("%%.%df" % digits) % v if isinstance(v, float) else str(v)


def ratio(a, b):
    return a / b if a is not None and b else None


def client_of(mode):
    return "remote-code" if mode == "operator" else "rc-bench-floor"


def per_object(run):
    """(requests, writes) of the controller per Workspace or TrainingJob during convergence."""
    counts = requests_by_client(run.get("requests", {}), client_of(run["mode"]))
    objects = 2 * run["n"]
    total = sum(counts.values())
    writes = sum(c for k, c in counts.items() if k.split(" ")[0] in WRITE_VERBS)
    return total / objects, writes / objects


def convergence_rows(runs):
    rows = []
    for n in sorted({r["n"] for r in runs}):
        by = {m: [r for r in runs if r["n"] == n and r["mode"] == m] for m in ("operator", "floor")}
        row = {"n": n, "runs": len(by["operator"]),
               "allConverged": all(r["converged"] for r in by["operator"] + by["floor"])}
        for m, rs in by.items():
            row[m] = {
                "seconds": med(r["convergedSeconds"] for r in rs),
                "p50": med(r["createToReady"]["all"]["p50"] for r in rs),
                "p99": med(r["createToReady"]["all"]["p99"] for r in rs),
                "requests": med(per_object(r)[0] for r in rs),
                "writes": med(per_object(r)[1] for r in rs),
                "cpu": med(r["cpuSeconds"] for r in rs),
                "simCpu": med(r["simCpuSeconds"] for r in rs),
                "rssMiB": med(r["memoryKiB"]["VmRSS"] / 1024 for r in rs),
                "hwmMiB": med(r["memoryKiB"]["VmHWM"] / 1024 for r in rs),
            }
        rows.append(row)
    return rows


def breakdown(runs, n):
    """Per-object request counts by verb and resource at size n (medians over the runs)."""
    table = {}
    for mode in ("operator", "floor"):
        rs = [r for r in runs if r["n"] == n and r["mode"] == mode]
        keys = set()
        for r in rs:
            keys |= set(requests_by_client(r["requests"], client_of(mode)))
        for k in keys:
            table.setdefault(k, {})[mode] = med(
                requests_by_client(r["requests"], client_of(mode)).get(k, 0) / (2 * n) for r in rs)
    return sorted(table.items(), key=lambda kv: (-(kv[1].get("operator") or 0), kv[0]))


def busy_note(results):
    # Sampled before the first and after the last of our processes: whatever ran was not ours.
    others = results.get("busyStart", []) + results.get("busyEnd", [])
    if not others:
        return "No other process used more than 10% of a core when the run started or ended."
    seen = sorted({c for c, _ in others})
    return ("**The machine was busy**: other processes used CPU when the run started or ended "
            "(%s); absolute figures are pessimistic, the ratios to the floors (measured in the "
            "same run, interleaved) are the fair comparison." % ", ".join(seen))


def render(results, cfg):
    m = results["machine"]
    out = []
    w = out.append
    w("# Benchmarks\n")
    w("Written by `make bench` (bench/run.py); raw data of every run in bench/out/ "
      "(results.json, one file per run). Regenerate with `make bench`.\n")
    w("- **Date**: %s" % m["date"])
    w("- **Machine**: %d x %s, %.1f GiB, Linux %s" % (m["nproc"], m["cpu"], m["memGiB"],
                                                     m["kernel"]))
    w("- **Commit**: %s" % m["commit"])
    w("- **Command**: `make bench`, which runs `/usr/bin/python3 %s`" % results["command"])
    w("- **Took**: %.1f minutes (%s)" % (results["seconds"] / 60, ", ".join(
        "%s %.0f s" % (k, v) for k, v in results.get("phaseSeconds", {}).items()
        if results.get(k))))
    w("- **Load average**: %s at the start; after each phase: %s" % (
        results["loadStart"],
        ", ".join("%s %s" % kv for kv in results.get("loadAfter", {}).items())))
    w("- %s\n" % busy_note(results))

    runs = results.get("converge") or []
    if runs:
        render_convergence(w, runs, cfg)
        steady = [r["steady"] for r in runs if r.get("steady")]
        if steady:
            render_steady(w, steady[0], cfg)
    if results.get("memory"):
        render_memory(w, results["memory"])
    if results.get("portal"):
        render_portal(w, results["portal"], cfg)
    if results.get("profile"):
        render_profile(w, results["profile"], results.get("hardwareCounters"))
    return "\n".join(out) + "\n"


def render_convergence(w, runs, cfg):
    rows = convergence_rows(runs)
    w("## 1 and 5. Convergence of a burst, and how it scales\n")
    w("N Workspaces and N TrainingJobs are created at once (8 client threads, in namespaces of "
      "10 of each, made from one image Template) against a fresh `remote-code sim "
      "--pod-start-seconds 0 --cpu-nodes N/100+5` per run, with the operator "
      "(`remote-code operator %s --portal-bind-address 0`) or the floor (`rc-bench floor "
      "--kube-qps %s --workers %d`) running. Converged: every child exists (home PVC, "
      "Deployment, Service, Ingress, NetworkPolicy per Workspace; a Job per TrainingJob) and every "
      "status is current (observedGeneration == generation, phase Running resp. Succeeded; "
      "training pods are scripted to exit 0 as soon as they start). The floor (bench/floor.cpp) "
      "makes exactly the writes convergence needs, with the operator's client and render "
      "functions: per Workspace 5 server-side applies (PVC, Deployment, Service, Ingress, "
      "NetworkPolicy) and 1 status update once its pod is Ready; per TrainingJob 1 apply of its "
      "Job (not suspended: no admission queue, so no unsuspend patch) and 1 status update once "
      "the Job is Complete; no Events. Times are from the start of "
      "the burst, as `rc-bench converge` sees them through its own watches. Create-to-ready "
      "latency runs from the moment each create request was sent (creationTimestamp has only "
      "one-second resolution) to the watch event with the current status.\n"
      % (" ".join(cfg.operator_flags), fmt(cfg.qps, 0), cfg.workers))
    w("**Rate limit.** Both use `--kube-qps %s` (%s) and %d workers per controller. At the "
      "operator's default of 20 requests/s the floor alone needs 8 writes per Workspace + "
      "TrainingJob pair, i.e. 400 s at N=1000 and 2000 s at N=5000, and the figures would "
      "measure the rate limiter, not the operator.\n"
      % (fmt(cfg.qps, 0), "unlimited" if not cfg.qps else "requests/s", cfg.workers))
    w("| N | runs | operator s | floor s | **operator / floor** | create-to-ready p50 / p99 s, "
      "operator | same, floor | API requests per object, operator / floor | of which writes | "
      "operator CPU s | simulator CPU s, operator / floor run | operator RSS at the end, MiB |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o, f = r["operator"], r["floor"]
        w(("| %d | %d | %s | %s | **%s** | %s / %s | %s / %s | %s / %s | %s / %s | %s | %s / %s "
           "| %s |") % (
            r["n"], r["runs"], fmt(o["seconds"]), fmt(f["seconds"]),
            fmt(ratio(o["seconds"], f["seconds"]), 2), fmt(o["p50"]), fmt(o["p99"]),
            fmt(f["p50"]), fmt(f["p99"]), fmt(o["requests"], 2), fmt(f["requests"], 2),
            fmt(o["writes"], 2), fmt(f["writes"], 2), fmt(o["cpu"]), fmt(o["simCpu"]),
            fmt(f["simCpu"]), fmt(o["rssMiB"], 0)))
    w("")
    w("Each figure is the median over the runs of that size (operator and floor runs "
      "interleaved); \"per object\" divides by 2N (Workspaces plus TrainingJobs); requests are "
      "the simulator's `/sim/requests` counts for the controller's User-Agent from the start of "
      "the burst to convergence (the burst itself and the stopwatch's watches are another "
      "client).%s\n" % ("" if all(r["allConverged"] for r in rows) else
                        " **Some runs did not converge before their timeout**: see bench/out/."))
    if len(rows) > 1:
        w("Scale: from N=%d to N=%d (x%.0f) the operator's time grows x%s, the floor's x%s, the "
          "operator's CPU x%s.\n" % (
              rows[0]["n"], rows[-1]["n"], rows[-1]["n"] / rows[0]["n"],
              fmt(ratio(rows[-1]["operator"]["seconds"], rows[0]["operator"]["seconds"])),
              fmt(ratio(rows[-1]["floor"]["seconds"], rows[0]["floor"]["seconds"])),
              fmt(ratio(rows[-1]["operator"]["cpu"], rows[0]["operator"]["cpu"]))))
    n = cfg.steady_n if cfg.steady_n in {r["n"] for r in rows} else rows[-1]["n"]
    w("Requests per object by verb and resource at N=%d:\n" % n)
    w("| request | operator | floor |")
    w("|---|---|---|")
    for key, v in breakdown(runs, n):
        w("| %s | %s | %s |" % (key, fmt(v.get("operator"), 2), fmt(v.get("floor"), 2)))
    w("")


def render_steady(w, s, cfg):
    per_min = 60.0 / s["seconds"]
    reads = sum(c for k, c in s["requests"].items() if k.split(" ")[0] not in WRITE_VERBS)
    w("## 2. Steady state\n")
    w("The minute after the first N=%d burst converged, with every object still there:\n"
      % cfg.steady_n)
    w("| writes per minute (target 0) | other requests per minute | "
      "operator CPU seconds per minute |")
    w("|---|---|---|")
    w("| %s | %s | %s |\n" % (fmt(s["writes"] * per_min), fmt(reads * per_min),
                             fmt(s["cpuSeconds"] * per_min, 2)))
    if s["requests"]:
        w("Requests in that minute: %s.\n" % ", ".join(
            "%s x%d" % (k, c) for k, c in sorted(s["requests"].items())))


def render_memory(w, mem):
    levels = mem["levels"]
    idle, idle_trim = levels[0]["rssKiB"], levels[0].get("trimmedKiB")
    raw, stripped = mem["rawBytesPerPod"], mem.get("strippedBytesPerPod")
    w("## 3. Memory\n")
    w("Resident memory (VmRSS) of a fresh operator once /readyz answers and it has gone idle, "
      "median of %d starts per level. The cached objects are pods of another application "
      "(one container with ports, env, resources and a probe; Running), created before the "
      "operator starts: the operator lists and watches every pod of the cluster. Raw bytes: "
      "the JSON the API server sends for one such pod in a list (mean over %d pods); the "
      "operator drops managedFields before caching (docs/runtime.md), so \"kept\" is that JSON "
      "without them. \"After trim\": VmRSS once the operator has called malloc_trim(0) "
      "(through gdb), i.e. without the free heap the allocator keeps after the first list.\n"
      % (len(levels[0]["samples"]), mem.get("rawSample", 0)))
    w("| pods in the cluster | VmRSS MiB | above idle MiB | **bytes per cached pod** | raw JSON "
      "bytes per pod | **cache / raw** | cache / kept JSON (%s B) | after trim: MiB above idle | "
      "bytes per pod | / raw |" % fmt(stripped, 0))
    w("|---|---|---|---|---|---|---|---|---|---|")
    for lv in levels:
        n = lv["objects"]
        grow = lv["rssKiB"] - idle
        per = grow * 1024 / n if n else None
        trim = lv.get("trimmedKiB")
        tgrow = trim - idle_trim if trim is not None and idle_trim is not None else None
        tper = tgrow * 1024 / n if n and tgrow is not None else None
        w("| %d | %s | %s | **%s** | %s | **%s** | %s | %s | %s | %s |" % (
            n, fmt(lv["rssKiB"] / 1024), fmt(grow / 1024) if n else "-", fmt(per, 0),
            fmt(raw, 0) if n else "-", fmt(ratio(per, raw), 2), fmt(ratio(per, stripped), 2),
            fmt(tgrow / 1024) if n and tgrow is not None else "-", fmt(tper, 0),
            fmt(ratio(tper, raw), 2)))
    w("")


def render_portal(w, p, cfg):
    w("## 4. Portal\n")
    w("`wrk -t2 -c64 -d%ds --latency`, %d runs per target interleaved, medians. The portal "
      "(`remote-code operator --portal-bind-address`) answers for a signed-in user (session "
      "cookie and X-CSRF-Token header) with %d Running workspaces; `GET /api/v1/workspaces` is "
      "%d bytes, `/auth/workspace` (X-Original-URL `/w/rc-bench/ws-0/`) %d bytes with "
      "X-Remote-User. nginx (Debian, `worker_processes auto`, workers as nobody) serves the same "
      "bytes as static files on another port in the same run%s.\n" % (
          cfg.wrk_seconds, cfg.wrk_repeats, p["workspaces"], p["listBytes"], p["authBytes"],
          "" if p["nginxSameBytes"] else " (**its list body differed**)"))
    w("| route | portal req/s | nginx req/s | **portal / nginx throughput** | "
      "portal p50 / p99 ms | "
      "nginx p50 / p99 ms | **p99 portal / nginx** | non-2xx answers |")
    w("|---|---|---|---|---|---|---|---|")
    names = {"list": "GET /api/v1/workspaces (%d workspaces)" % p["workspaces"],
             "auth": "GET /auth/workspace"}
    for route, servers in p["routes"].items():
        a, b = servers["portal"], servers["nginx"]
        w("| %s | %s | %s | **%s** | %s / %s | %s / %s | **%s** | %d |" % (
            names.get(route, route), fmt(a["rps"], 0), fmt(b["rps"], 0),
            fmt(ratio(a["rps"], b["rps"]), 3), fmt(a["p50ms"], 2), fmt(a["p99ms"], 2),
            fmt(b["p50ms"], 2), fmt(b["p99ms"], 2), fmt(ratio(a["p99ms"], b["p99ms"]), 1),
            a["non2xx"] + b["non2xx"]))
    w("")


def render_profile(w, prof, hardware):
    cpu = prof.get("cpuSeconds", {})
    w("## Where the time goes (profile of a convergence run)\n")
    w("An extra operator run at N=%d (%.1f s to converge, not counted above; operator %s CPU s, "
      "simulator %s CPU s), sampled with `perf record -e cpu-clock -F 99 --call-graph "
      "dwarf,16384 -p PID`, once for the operator and once for the simulator. %s Percentages are "
      "of each process's samples; CPU s = percentage x the process's CPU seconds in the run.\n"
      % (prof["n"], prof["convergedSeconds"], fmt(cpu.get("operator")), fmt(cpu.get("sim")),
         "Hardware counters work here." if hardware else
         "This machine has no hardware counters (`perf stat -e instructions true` reports "
         "<not supported>), so samples come from the cpu-clock software timer, which needs "
         "none (callgrind was not needed)."))
    for who, title in (("operator", "Operator"), ("sim", "Simulator")):
        data = prof.get(who) or {}
        secs = cpu.get(who) or 0
        w("**%s**. Self time by kind: %s. By shared object: %s.\n" % (
            title,
            ", ".join("%s %.0f%%" % (k, v) for k, v in data.get("kinds", []) if v >= 0.5) or "-",
            ", ".join("%s %.0f%%" % (name, pct) for pct, name in data.get("dsos", [])[:6]) or "-"))
        w("| inclusive %% | CPU s | %s function (with what it calls) |" % who)
        w("|---|---|---|")
        for pct, name in data.get("inclusive", [])[:18 if who == "operator" else 10]:
            w("| %.1f | %.1f | `%s` |" % (pct, pct * secs / 100, name.replace("|", "\\|")))
        w("")
        w("| self %% | %s function (alone) |" % who)
        w("|---|---|")
        for pct, name in data.get("self", [])[:12 if who == "operator" else 8]:
            w("| %.1f | `%s` |" % (pct, name.replace("|", "\\|")))
        w("")
