"""Two operator processes with leader election against `remote-code sim`: exactly one
reconciles; after kill -9 of the leader the other takes over within 20 s; a leader that stops
cleanly releases the lease so its successor starts at once; a leader cut off from the API server
exits before the other can take the lease, so two never lead at once."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import Sim  # noqa: E402


def demo_binary():
    return os.path.join(os.path.dirname(os.environ.get("RC_BIN", "build-asan/bin/remote-code")), "demo-operator")


class LeaderElectionTest(unittest.TestCase):
    def setUp(self):
        self.sim = Sim()
        self.sim.kubectl("create", "namespace", "le")
        self.procs = {}

    def tearDown(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        self.sim.stop()

    def start(self, identity, user_agent="demo-operator"):
        p = subprocess.Popen([demo_binary(), "--kubeconfig", self.sim.kubeconfig, "--namespace", "le",
                              "--identity", identity, "--leader-elect", "--user-agent", user_agent],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs[identity] = p
        return p

    def holder(self):
        p = self.sim.kubectl("get", "lease", "demo-operator", "-n", "le", "-o", "json", check=False)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)["spec"].get("holderIdentity") or None

    def reconciled_by(self, name):
        p = self.sim.kubectl("get", "secret", name, "-n", "le", "-o", "json", check=False)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)["metadata"].get("annotations", {}).get("demo/reconciled-by")

    def make(self, name):
        self.sim.kubectl("create", "-n", "le", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, "
                         "labels: {demo: \"yes\"}}\ndata: {v: \"1\"}\n" % name)

    def test_one_leader_reconciles_and_a_standby_takes_over_after_kill_9(self):
        self.start("alpha")
        self.sim.wait_for(lambda: self.holder() == "alpha", timeout=15, what="alpha to lead")
        self.start("beta")
        for i in range(5):
            self.make("before-%d" % i)
        for i in range(5):
            self.assertEqual(self.sim.wait_for(lambda: self.reconciled_by("before-%d" % i), what="reconcile"), "alpha")
        time.sleep(2)
        self.assertEqual(self.holder(), "alpha", "the standby did not take the lease")

        self.procs["alpha"].send_signal(signal.SIGKILL)
        self.procs["alpha"].wait()
        killed = time.time()
        self.make("after")
        by = self.sim.wait_for(lambda: self.reconciled_by("after"), timeout=30, what="the standby to reconcile")
        took = time.time() - killed
        self.assertEqual(by, "beta")
        self.assertEqual(self.holder(), "beta")
        self.assertLess(took, 20, "takeover after kill -9 took %.1f s" % took)
        print("\n[ figures  ] takeover after kill -9: %.1f s" % took)

    def test_clean_stop_releases_the_lease(self):
        self.start("alpha")
        self.sim.wait_for(lambda: self.holder() == "alpha", timeout=15, what="alpha to lead")
        self.start("beta")
        time.sleep(1)
        self.procs["alpha"].send_signal(signal.SIGTERM)
        self.assertEqual(self.procs["alpha"].wait(timeout=15), 0)
        stopped = time.time()
        self.sim.wait_for(lambda: self.holder() == "beta", timeout=15, what="beta to lead")
        # Released, so the successor does not wait out the 15 s lease (retry period is 2 s).
        self.assertLess(time.time() - stopped, 6)

    def test_a_black_holed_leader_exits_before_the_standby_takes_over(self):
        alpha = self.start("alpha", user_agent="demo-operator-alpha")
        self.sim.wait_for(lambda: self.holder() == "alpha", timeout=15, what="alpha to lead")
        self.start("beta", user_agent="demo-operator-beta")
        time.sleep(2)
        self.assertEqual(self.holder(), "alpha")
        # Every request of alpha's now goes unanswered, as when its node loses the network.
        self.sim.set_faults(blackholeUserAgent="demo-operator-alpha")
        cut = time.time()
        alpha_exited = beta_took = None
        while time.time() - cut < 60 and beta_took is None:
            if alpha_exited is None and alpha.poll() is not None:
                alpha_exited = time.time() - cut
            if self.holder() == "beta":
                beta_took = time.time() - cut
            time.sleep(0.1)
        self.assertIsNotNone(beta_took, "beta never took the lease")
        self.assertIsNotNone(alpha_exited, "alpha still ran, as a leader, when beta took the lease "
                                           "%.1f s after the cut" % beta_took)
        self.assertLess(alpha_exited, beta_took)
        # Lease 15 s, renew deadline 10 s: alpha gives up within the deadline of its last renewal.
        self.assertLess(alpha_exited, 12)
        self.assertNotEqual(alpha.returncode, 0)
        print("\n[ figures  ] black-holed leader exited at T+%.1f s; standby led at T+%.1f s"
              % (alpha_exited, beta_took))


if __name__ == "__main__":
    unittest.main()
