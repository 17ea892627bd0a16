"""`make bench` with tiny sizes (bench/run.py --smoke), so the harness cannot rot between the
runs someone does by hand: every phase runs against the build under test and its figures are
checked for what they claim (the burst converged, the floor made exactly its writes, memory grew
with the cached pods, the portal and nginx answered 200 with the same bytes)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RC_BIN = os.environ.get("RC_BIN", os.path.join(ROOT, "build-asan", "bin", "remote-code"))
BIN_DIR = os.path.dirname(os.path.abspath(RC_BIN))


class BenchSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        bench_bin = os.path.join(BIN_DIR, "rc-bench")
        if not os.path.exists(bench_bin):
            raise AssertionError("%s is missing: the top-level CMakeLists.txt must "
                                 "add_subdirectory(bench)" % bench_bin)
        cls.out = tempfile.mkdtemp(prefix="rc-bench-smoke-")
        cls.results_md = os.path.join(cls.out, "RESULTS.md")
        cls.proc = subprocess.run(
            [sys.executable, os.path.join(ROOT, "bench", "run.py"), "--smoke",
             "--bin-dir", BIN_DIR, "--bench-bin", bench_bin, "--out", cls.out,
             "--results", cls.results_md],
            capture_output=True, text=True, timeout=300)
        cls.results, cls.markdown = {}, ""
        if os.path.exists(os.path.join(cls.out, "results.json")):
            with open(os.path.join(cls.out, "results.json")) as f:
                cls.results = json.load(f)
        if os.path.exists(cls.results_md):
            with open(cls.results_md) as f:
                cls.markdown = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_the_run_succeeds_and_writes_every_section(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stdout + self.proc.stderr)
        text = self.markdown
        for heading in ("Convergence", "Steady state", "Memory", "Portal"):
            self.assertIn(heading, text)
        self.assertRegex(text, r"\| 10 \| 1 \| [0-9.]+ \| [0-9.]+ \| \*\*[0-9.]+\*\*")

    def test_both_controllers_converge_the_burst(self):
        runs = self.results["converge"]
        self.assertEqual(sorted(r["mode"] for r in runs), ["floor", "operator"])
        for r in runs:
            self.assertTrue(r["converged"], r)
            self.assertEqual(r["statusesCurrent"], 20)  # 10 Workspaces, 10 TrainingJobs
            self.assertEqual(r["childrenSeen"], 60)  # 5 per Workspace, 1 Job per TrainingJob
            self.assertGreater(r["convergedSeconds"], 0)

    def test_the_floor_makes_exactly_its_writes(self):
        floor = [r for r in self.results["converge"] if r["mode"] == "floor"][0]
        mine = {k: v for k, v in floor["requests"].items() if k.endswith(" rc-bench-floor")}
        self.assertEqual(mine, {
            "patch persistentvolumeclaims core rc-bench-floor": 10,
            "patch deployments apps rc-bench-floor": 10,
            "patch services core rc-bench-floor": 10,
            "patch ingresses networking.k8s.io rc-bench-floor": 10,
            "patch networkpolicies networking.k8s.io rc-bench-floor": 10,
            "patch jobs batch rc-bench-floor": 10,
            "update workspaces/status remotecode.dev rc-bench-floor": 10,
            "update trainingjobs/status remotecode.dev rc-bench-floor": 10,
        })

    def test_the_steady_state_is_measured(self):
        op = [r for r in self.results["converge"] if r["mode"] == "operator"][0]
        self.assertGreater(op["steady"]["seconds"], 1.5)
        self.assertIn("writes", op["steady"])

    def test_memory_grows_with_cached_pods(self):
        levels = self.results["memory"]["levels"]
        self.assertEqual([lv["objects"] for lv in levels], [0, 200])
        self.assertGreater(levels[1]["rssKiB"], levels[0]["rssKiB"])
        self.assertGreater(self.results["memory"]["rawBytesPerPod"], 1000)

    def test_portal_and_nginx_answer_the_same_bytes(self):
        portal = self.results["portal"]
        self.assertTrue(portal["nginxSameBytes"])
        for route in ("list", "auth"):
            for server in ("portal", "nginx"):
                r = portal["routes"][route][server]
                self.assertEqual(r["non2xx"], 0, (route, server))
                self.assertGreater(r["rps"], 0)


if __name__ == "__main__":
    unittest.main()
