"""Chaos: Workspaces and TrainingJobs converge while the API server fails requests (500s, 429s),
drops watches every few seconds and expires them (410), and the operator is killed with SIGKILL
every few seconds and started again. At the end every object has converged with exactly one
child of each kind, no run or metric of a TrainingJob is lost or doubled, and no object has an
Event storm.

RC_CHAOS_OBJECTS (500) Workspaces and as many TrainingJobs, RC_CHAOS_KILLS (20) kills. The
figures go to stdout ("[ figures ] ..."). A larger run, outside make test:
    RC_CHAOS_OBJECTS=5000 RC_BIN=build/bin/remote-code /usr/bin/python3 -m unittest -v \\
        tests/integration/test_chaos.py
"""
import collections
import json
import os
import random
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import PodScripts, Sim  # noqa: E402
from operatorharness import Operator  # noqa: E402

OBJECTS = int(os.environ.get("RC_CHAOS_OBJECTS", "500"))
KILLS = int(os.environ.get("RC_CHAOS_KILLS", "20"))
NS = "chaos"
FAULTS = {"error500": {"list": 0.05, "create": 0.05, "update": 0.05, "patch": 0.05,
                       "delete": 0.05, "get": 0.05},
          "error429": 0.03, "retryAfterSeconds": 1, "closeWatchSeconds": 5, "force410": True}
# The Events one object may carry in all: each reason the operator records once per change of
# state, a handful per object; a storm is the same Event again and again.
MAX_EVENTS_PER_OBJECT = 10


def items(sim, *what):
    return json.loads(sim.kubectl("get", *what, "-n", NS, "-o", "json").stdout)["items"]


def owner_uid(obj):
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref["uid"]
    return None


class Chaos(unittest.TestCase):
    def setUp(self):
        # Nodes hold 110 pods each, as a kubelet's default: room for every workspace's pod and
        # every run's at once.
        self.sim = Sim("--job-backoff-seconds", "0.5", "--cpu-nodes", str(2 * OBJECTS // 100 + 1))
        self.scripts = PodScripts(self.sim)
        self.ops = []

    def tearDown(self):
        for op in self.ops:
            if op.proc.poll() is None:
                op.proc.kill()
                op.proc.wait()
        self.sim.stop()

    def start_operator(self):
        op = Operator(self.sim, "--metrics-poll-seconds", "2", "--workers", "4",
                      apply=not self.ops)
        self.ops.append(op)
        return op

    def kill(self, op):
        op.proc.kill()
        op.proc.wait()
        op.log.flush()
        text = open(op.log_path).read()
        self.assertNotIn("runtime error:", text)
        self.assertNotIn("ERROR: AddressSanitizer", text)

    def create_everything(self):
        self.sim.kubectl("create", "namespace", NS)
        self.scripts.set(NS, "remotecode.dev/kind=trainingjob", run_seconds=1,
                         log="remotecode.metric loss=0.5 step=7")
        api = "/apis/remotecode.dev/v1alpha1"
        self.post(api + "/templates", {
            "apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
            "metadata": {"name": "chaos"},
            "spec": {"image": "registry.example/ide:1", "ide": "vscode",
                     "resources": {"default": {"gpus": 0, "cpu": "10m", "memory": "16Mi",
                                               "homeSize": "1Gi"}}}})
        for i in range(OBJECTS):
            self.post(api + "/namespaces/%s/workspaces" % NS, {
                "apiVersion": "remotecode.dev/v1alpha1", "kind": "Workspace",
                "metadata": {"name": "ws-%d" % i},
                "spec": {"template": "chaos", "owner": "u%d" % (i % 10)}})
            self.post(api + "/namespaces/%s/trainingjobs" % NS, {
                "apiVersion": "remotecode.dev/v1alpha1", "kind": "TrainingJob",
                "metadata": {"name": "tj-%d" % i},
                "spec": {"image": "registry.example/train:1", "command": ["python", "train.py"],
                         "resources": {"gpus": 0, "cpu": "10m", "memory": "16Mi"}}})

    def post(self, path, obj):
        status, _, body = self.sim.request("POST", path, obj)
        self.assertEqual(status, 201, body)

    def converged(self):
        ws = items(self.sim, "workspaces")
        tjs = items(self.sim, "trainingjobs")
        running = sum((w.get("status") or {}).get("phase") == "Running" for w in ws)
        done = sum((t.get("status") or {}).get("phase") == "Succeeded" for t in tjs)
        return running, done

    def test_everything_converges_through_faults_and_kill_9(self):
        started = time.monotonic()
        op = self.start_operator()
        self.create_everything()
        created = time.monotonic()
        rng = random.Random(13)
        self.sim.set_faults(**FAULTS)
        for k in range(KILLS):
            time.sleep(rng.uniform(2, 5))
            self.kill(op)
            if k % 3 == 0:
                self.sim.set_faults(**FAULTS)  # force410 is spent by the first watch after it
            op = self.start_operator()
        self.sim.set_faults()
        faults_over = time.monotonic()
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            running, done = self.converged()
            if running == OBJECTS and done == OBJECTS:
                break
            time.sleep(5)
        converged_at = time.monotonic()
        running, done = self.converged()
        print("\n[ figures  ] %d Workspaces and %d TrainingJobs, %d kill -9s: created in %.0f s, "
              "converged %.0f s after the faults ended (%.0f s in all); Running %d, "
              "Succeeded %d" % (OBJECTS, OBJECTS, KILLS, created - started,
                                converged_at - faults_over, converged_at - started, running,
                                done))
        self.assertEqual((running, done), (OBJECTS, OBJECTS), "not every object converged")

        ws = {w["metadata"]["uid"]: w for w in items(self.sim, "workspaces")}
        tjs = {t["metadata"]["uid"]: t for t in items(self.sim, "trainingjobs")}
        for kind, owners in (("deployments", ws), ("services", ws),
                             ("persistentvolumeclaims", ws), ("jobs", tjs)):
            children = collections.Counter(owner_uid(c) for c in items(self.sim, kind))
            wrong = {owners[u]["metadata"]["name"]: children[u] for u in owners
                     if children[u] != 1}
            self.assertEqual(wrong, {}, "objects without exactly one child in " + kind)

        lost = []
        for t in tjs.values():
            runs = t["status"].get("runs") or []
            if len(runs) != 1 or runs[0].get("phase") != "Succeeded" or \
                    (runs[0].get("metrics") or {}).get("loss") != 0.5 or \
                    not runs[0].get("completionTime") or t["status"].get("progress") != "1/1":
                lost.append((t["metadata"]["name"], t["status"]))
        self.assertEqual(lost[:3], [], "%d TrainingJobs lost or doubled runs" % len(lost))

        per_object = collections.Counter()
        for e in items(self.sim, "events"):
            per_object[e["involvedObject"].get("uid")] += e.get("count") or 1
        worst = per_object.most_common(1)
        print("[ figures  ] Events: %d in all, at most %d for one object" % (
            sum(per_object.values()), worst[0][1] if worst else 0))
        storms = {uid: n for uid, n in per_object.items() if n > MAX_EVENTS_PER_OBJECT}
        self.assertEqual(storms, {}, "objects with an Event storm")


if __name__ == "__main__":
    unittest.main()
