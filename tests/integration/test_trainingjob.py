"""The TrainingJob controller end to end: `remote-code operator` against `remote-code sim`.

A job runs to Succeeded with its times; under a small GPU quota runs are admitted one at a time
by priority then age, with their queue positions shown while they wait; a job larger than the
quota (or any node) says it never fits; a 2 x 3 sweep is six Jobs with their values; two
workers are an Indexed Job with a headless Service and the rendezvous env; metric lines reach
status; a failing run fails the job; suspend stops and resume finishes; the end is POSTed to a
webhook; values that could be read as git options or leave the source never reach a Job;
--max-running-jobs bounds the runs of the whole cluster; ttlSecondsAfterFinished deletes.

Pods are scripted through the simulator's /sim/pod-scripts (run time, exit code, log lines),
never through anything the operator renders. Each test works in its own namespace.

Run with Debian's python:
    RC_BIN=build-asan/bin/remote-code /usr/bin/python3 -m unittest -v tests/integration/test_trainingjob.py
"""
import http.server
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import ROOT, PodScripts, Sim, condition  # noqa: E402
from operatorharness import Operator  # noqa: E402

API = "/apis/remotecode.dev/v1alpha1"


def env_of(container):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


class WebhookSink:
    """A local HTTP server that keeps every JSON body POSTed to it."""

    def __init__(self):
        bodies = self.bodies = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(json.loads(self.rfile.read(length) or b"null"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class TrainingJobCase(unittest.TestCase):
    """Shared helpers; each subclass starts one simulator and one operator."""
    operator_flags = ()

    @classmethod
    def setUpClass(cls):
        cls.webhook = WebhookSink()
        cls.sim = Sim("--job-backoff-seconds", "0.5")
        cls.op = Operator(cls.sim, "--metrics-poll-seconds", "1",
                          "--notify-webhook-url", cls.webhook.url, *cls.operator_flags)
        cls.scripts = PodScripts(cls.sim)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.op.stop()
        finally:
            cls.sim.stop()
            cls.webhook.stop()

    # -- helpers --------------------------------------------------------------------------------

    def namespace(self, ns):
        self.sim.kubectl("create", "namespace", ns)
        return ns

    def create(self, ns, name, spec, check=True):
        obj = {"apiVersion": "remotecode.dev/v1alpha1", "kind": "TrainingJob",
               "metadata": {"name": name, "namespace": ns}, "spec": spec}
        return self.sim.kubectl("apply", "-f", "-", input=json.dumps(obj), check=check)

    def get(self, path):
        status, _, body = self.sim.request("GET", path)
        return body if status == 200 else None

    def tj(self, ns, name):
        return self.get("%s/namespaces/%s/trainingjobs/%s" % (API, ns, name))

    def job(self, ns, name):
        return self.get("/apis/batch/v1/namespaces/%s/jobs/%s" % (ns, name))

    def jobs(self, ns):
        return self.get("/apis/batch/v1/namespaces/%s/jobs" % ns)["items"]

    def events(self, ns, name, reason=None):
        body = self.get("/api/v1/namespaces/%s/events" % ns) or {"items": []}
        return [e for e in body["items"] if e["involvedObject"].get("name") == name
                and (reason is None or e["reason"] == reason)]

    def wait_phase(self, ns, name, phase, timeout=40):
        return self.op.wait_phase("trainingjob %s/%s" % (ns, name), lambda: self.tj(ns, name),
                                  phase, timeout)

    def patch(self, ns, name, patch):
        self.sim.kubectl("patch", "-n", ns, "trainingjob", name, "--type", "merge", "-p",
                         json.dumps(patch))


class TrainingJobFlows(TrainingJobCase):

    def test_single_job_succeeds_with_status_times(self):
        ns = self.namespace("single")
        self.create(ns, "resnet", {"image": "pytorch/pytorch:2.4",
                                   "command": ["python", "train.py"],
                                   "resources": {"gpus": 1, "cpu": "1", "memory": "1Gi"}})
        t = self.wait_phase(ns, "resnet", "Succeeded")
        st = t["status"]
        self.assertEqual(st["progress"], "1/1")
        self.assertEqual((st["runsTotal"], st["runsSucceeded"], st["runsFailed"]), (1, 1, 0))
        run = st["runs"][0]
        self.assertEqual((run["index"], run["name"], run["phase"]), (0, "resnet-0", "Succeeded"))
        for obj in (st, run):
            self.assertIn("startTime", obj)
            self.assertIn("completionTime", obj)
            self.assertLessEqual(obj["startTime"], obj["completionTime"])
        self.assertEqual(st["observedGeneration"], t["metadata"]["generation"])
        self.assertEqual(condition(t, "Valid")["status"], "True")

        job = self.job(ns, "resnet-0")
        self.assertFalse(job["spec"]["suspend"], "admitted")
        self.assertEqual(job["spec"]["backoffLimit"], 0)
        owner = job["metadata"]["ownerReferences"][0]
        self.assertEqual((owner["kind"], owner["name"], owner["controller"]),
                         ("TrainingJob", "resnet", True))
        pod_labels = job["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(pod_labels["remotecode.dev/kind"], "trainingjob")
        self.assertEqual(pod_labels["remotecode.dev/run"], "0")
        self.assertNotIn("ttlSecondsAfterFinished", job["spec"])
        limits = job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        self.assertEqual(limits["nvidia.com/gpu"], "1")
        for reason in ("Created", "Admitted", "Succeeded"):
            self.sim.wait_for(lambda: self.events(ns, "resnet", reason), what="event ns, 'resnet', reason")

        # Level-triggered and quiet: with nothing changing, nothing is written.
        self.sim.wait_for(lambda: self.tj(ns, "resnet")["status"].get("notified"), what="notified")
        time.sleep(1.5)
        self.sim.request("DELETE", "/sim/requests")
        time.sleep(3)
        _, _, counts = self.sim.request("GET", "/sim/requests")
        writes = {k: v for k, v in counts.items()
                  if k.split()[0] in ("create", "update", "patch", "delete")
                  and k.split()[-1] == "remote-code" and "events" not in k and "leases" not in k}
        self.assertEqual(writes, {}, "the operator wrote although nothing changed")

    def test_queue_admits_by_priority_then_age_within_the_gpu_quota(self):
        ns = self.namespace("queue")
        self.sim.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "gpus"},
            "spec": {"hard": {"requests.nvidia.com/gpu": "2"}}}))
        self.scripts.set(ns, "remotecode.dev/kind=trainingjob", run_seconds=4)
        spec = {"image": "busybox", "resources": {"gpus": 2}}
        self.create(ns, "first", spec)
        self.wait_phase(ns, "first", "Running", timeout=20)
        self.create(ns, "low", dict(spec, priority=0))
        self.create(ns, "high", dict(spec, priority=10))

        def positions():
            lo, hi = self.tj(ns, "low"), self.tj(ns, "high")
            p = ((lo.get("status") or {}).get("queuePosition"),
                 (hi.get("status") or {}).get("queuePosition"))
            return p if p == (2, 1) else None
        self.sim.wait_for(positions, timeout=20, what="queue positions high=1, low=2")
        self.assertEqual(self.tj(ns, "low")["status"]["phase"], "Queued")
        self.assertEqual(condition(self.tj(ns, "low"), "Admitted")["reason"], "Queued")

        # Never more than the quota's worth of runs admitted at once, until all three finish.
        deadline = time.time() + 60
        while time.time() < deadline:
            admitted = [j["metadata"]["name"] for j in self.jobs(ns)
                        if not j["spec"].get("suspend")
                        and not any(c["type"] in ("Complete", "Failed") and c["status"] == "True"
                                    for c in (j.get("status") or {}).get("conditions") or [])]
            self.assertLessEqual(len(admitted), 1, "over-admitted: %s" % admitted)
            done = [(self.tj(ns, n).get("status") or {}).get("phase") == "Succeeded"
                    for n in ("first", "high", "low")]
            if all(done):
                break
            time.sleep(0.2)
        first, high, low = (self.wait_phase(ns, n, "Succeeded", timeout=5)["status"]
                            for n in ("first", "high", "low"))
        self.assertLessEqual(first["completionTime"], high["startTime"])
        self.assertLessEqual(high["completionTime"], low["startTime"])

    def test_a_job_larger_than_the_quota_or_any_node_never_fits(self):
        ns = self.namespace("toobig")
        self.sim.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "gpus"},
            "spec": {"hard": {"requests.nvidia.com/gpu": "2"}}}))
        self.create(ns, "greedy", {"image": "busybox", "resources": {"gpus": 4}})
        t = self.wait_phase(ns, "greedy", "Failed")
        c = condition(t, "Admitted")
        self.assertEqual((c["status"], c["reason"]), ("False", "NeverFits"))
        self.assertTrue(c["message"])
        self.sim.wait_for(lambda: self.events(ns, "greedy", "NeverFits"), what="event ns, 'greedy', 'NeverFits'")
        self.assertTrue(self.job(ns, "greedy-0")["spec"]["suspend"], "it never ran")

        ns2 = self.namespace("hugenode")  # no quota, but 8 GPUs per worker: nodes have 4
        self.create(ns2, "wide", {"image": "busybox", "resources": {"gpus": 8}})
        t = self.wait_phase(ns2, "wide", "Failed")
        self.assertEqual(condition(t, "Admitted")["reason"], "NeverFits")

    def test_sweep_of_six_runs(self):
        ns = self.namespace("sweep")
        self.create(ns, "grid", {
            "image": "busybox", "command": ["python", "train.py"],
            "args": ["--lr=$(lr)", "--batch=$(batch)"],
            "sweep": {"parameters": [{"name": "lr", "values": ["0.1", "0.01"]},
                                     {"name": "batch", "values": ["32", "64", "128"]}]}})
        t = self.wait_phase(ns, "grid", "Succeeded", timeout=60)
        expected = [(lr, b) for lr in ("0.1", "0.01") for b in ("32", "64", "128")]
        runs = t["status"]["runs"]
        self.assertEqual(len(runs), 6)
        self.assertEqual(t["status"]["progress"], "6/6")
        for i, (lr, batch) in enumerate(expected):
            self.assertEqual(runs[i]["values"], {"lr": lr, "batch": batch})
            self.assertEqual(runs[i]["phase"], "Succeeded")
            c = self.job(ns, "grid-%d" % i)["spec"]["template"]["spec"]["containers"][0]
            self.assertEqual(env_of(c)["lr"], lr)
            self.assertEqual(env_of(c)["batch"], batch)
            self.assertEqual(c["args"], ["--lr=" + lr, "--batch=" + batch])
        self.assertEqual(len(self.jobs(ns)), 6)

    def test_two_workers_are_an_indexed_job_with_a_headless_service(self):
        ns = self.namespace("ddp")
        self.create(ns, "ddp", {"image": "busybox", "workers": 2, "resources": {"gpus": 1}})
        self.wait_phase(ns, "ddp", "Succeeded")
        job = self.job(ns, "ddp-0")
        self.assertEqual(job["spec"]["completionMode"], "Indexed")
        self.assertEqual((job["spec"]["completions"], job["spec"]["parallelism"]), (2, 2))
        pod = job["spec"]["template"]["spec"]
        self.assertEqual(pod["subdomain"], "ddp-0")
        env = env_of(pod["containers"][0])
        self.assertEqual(env["MASTER_ADDR"], "ddp-0-0.ddp-0")
        self.assertEqual(env["MASTER_PORT"], "29500")
        self.assertEqual(env["WORLD_SIZE"], "2")
        self.assertIn("job-completion-index", env["RANK"]["fieldRef"]["fieldPath"])
        svc = self.get("/api/v1/namespaces/%s/services/ddp-0" % ns)
        self.assertEqual(svc["spec"]["clusterIP"], "None")
        self.assertTrue(svc["spec"]["publishNotReadyAddresses"])
        self.assertEqual(svc["spec"]["selector"], {"job-name": "ddp-0"})
        self.assertEqual(svc["metadata"]["ownerReferences"][0]["name"], "ddp")
        pods = self.get("/api/v1/namespaces/%s/pods?labelSelector=job-name%%3Dddp-0" % ns)["items"]
        self.assertEqual(sorted(p["spec"].get("hostname") for p in pods), ["ddp-0-0", "ddp-0-1"])

    def test_metric_lines_reach_status(self):
        ns = self.namespace("metrics")
        self.scripts.set(ns, "remotecode.dev/name=curve", run_seconds=1,
                         log="remotecode.metric loss=0.5 step=1\nremotecode.metric loss=0.25 step=2")
        self.create(ns, "curve", {"image": "busybox"})
        t = self.wait_phase(ns, "curve", "Succeeded")
        run = t["status"]["runs"][0]
        self.assertEqual(run["metrics"]["loss"], 0.25)
        self.assertEqual(run["step"], 2)

    def test_a_failing_run_fails_the_job_and_retries_are_honoured(self):
        ns = self.namespace("failing")
        self.scripts.set(ns, "remotecode.dev/name=broken", exit_code=1)
        self.create(ns, "broken", {"image": "busybox"})
        t = self.wait_phase(ns, "broken", "Failed")
        self.assertEqual(t["status"]["runsFailed"], 1)
        self.assertEqual(t["status"]["runs"][0]["phase"], "Failed")
        self.assertIn("completionTime", t["status"])
        self.sim.wait_for(lambda: self.events(ns, "broken", "Failed"), what="event ns, 'broken', 'Failed'")

        self.scripts.set(ns, "remotecode.dev/name=flaky", fail_attempts=1)
        self.create(ns, "flaky", {"image": "busybox", "retries": 1})
        self.wait_phase(ns, "flaky", "Succeeded")
        self.assertEqual(self.job(ns, "flaky-0")["status"].get("failed"), 1)

    def test_suspend_stops_and_resume_finishes(self):
        ns = self.namespace("pause")
        self.scripts.set(ns, "remotecode.dev/name=long", run_seconds=60)
        self.create(ns, "long", {"image": "busybox", "resources": {"gpus": 1}})
        self.wait_phase(ns, "long", "Running")
        self.patch(ns, "long", {"spec": {"suspend": True}})
        self.wait_phase(ns, "long", "Stopped")
        # The run's phase follows its Job, which the Job controller suspends a moment later.
        self.sim.wait_for(lambda: self.tj(ns, "long")["status"]["runs"][0]["phase"] == "Stopped",
                          what="run 0 Stopped")
        self.sim.wait_for(lambda: self.job(ns, "long-0")["spec"]["suspend"], what="Job suspended")
        self.sim.wait_for(lambda: not self.get(
            "/api/v1/namespaces/%s/pods?labelSelector=job-name%%3Dlong-0" % ns)["items"],
            what="pods gone")
        self.sim.wait_for(lambda: self.events(ns, "long", "Stopped"), what="event ns, 'long', 'Stopped'")

        self.scripts.set(ns, "remotecode.dev/name=long", run_seconds=1)
        self.patch(ns, "long", {"spec": {"suspend": False}})
        self.wait_phase(ns, "long", "Succeeded")
        self.sim.wait_for(lambda: self.events(ns, "long", "Resumed"), what="event ns, 'long', 'Resumed'")

    def test_the_end_is_posted_to_the_webhook(self):
        ns = self.namespace("hook")
        self.create(ns, "announce", {"image": "busybox"})
        self.wait_phase(ns, "announce", "Succeeded")

        def posted():
            return [b for b in self.webhook.bodies
                    if b.get("namespace") == ns and b.get("name") == "announce"]
        bodies = self.sim.wait_for(posted, what="webhook POST")
        self.assertEqual(len(bodies), 1, "one notification per job")
        self.assertEqual(bodies[0]["phase"], "Succeeded")
        self.assertEqual(len(bodies[0]["runs"]), 1)
        self.assertTrue(self.sim.wait_for(lambda: self.events(ns, "announce", "Notified"),
                                          what="Notified event"))
        self.assertTrue(self.tj(ns, "announce")["status"]["notified"])

    def test_injection_attempts_are_rejected_without_a_job(self):
        ns = self.namespace("inject")
        bad = {
            "opt-url": {"source": {"git": {"url": "--upload-pack=touch /tmp/pwned"}}},
            "opt-ref": {"source": {"git": {"url": "https://example.com/r.git", "ref": "-b"}}},
            "shell-ref": {"source": {"git": {"url": "https://example.com/r.git",
                                             "ref": "main;reboot"}}},
            "escape": {"source": {"git": {"url": "https://example.com/r.git",
                                          "path": "../../etc"}}},
            "ws-escape": {"source": {"workspace": {"name": "alice", "path": "/etc"}}},
            "reserved": {"env": [{"name": "RANK", "value": "7"}]},
        }
        for name, extra in bad.items():
            self.create(ns, name, dict({"image": "busybox"}, **extra))
        for name in bad:
            def invalid(name=name):
                t = self.tj(ns, name)
                c = condition(t, "Valid") if t else None
                return c if c and c["status"] == "False" else None
            c = self.sim.wait_for(invalid, what="%s Valid=False" % name)
            self.assertEqual(c["reason"], "InvalidSpec")
            # The Event is written after the status, so it may trail the condition a little.
            self.sim.wait_for(lambda name=name: self.events(ns, name, "InvalidSpec"),
                              what="%s InvalidSpec event" % name)
        # The schema already refuses an env name with '='.
        p = self.create(ns, "bad-env", {"image": "busybox", "env": [{"name": "A=B", "value": "x"}]},
                        check=False)
        self.assertNotEqual(p.returncode, 0)
        # A good job in the same namespace is not held up by the bad ones.
        self.create(ns, "good", {"image": "busybox"})
        self.wait_phase(ns, "good", "Succeeded")
        self.assertEqual([j["metadata"]["name"] for j in self.jobs(ns)], ["good-0"])

    def test_ttl_deletes_the_finished_job_with_its_runs(self):
        ns = self.namespace("ttl")
        self.create(ns, "brief", {"image": "busybox", "ttlSecondsAfterFinished": 2})
        self.wait_phase(ns, "brief", "Succeeded")
        self.sim.wait_for(lambda: self.tj(ns, "brief") is None, timeout=20, what="TTL deletion")
        self.sim.wait_for(lambda: self.job(ns, "brief-0") is None, timeout=20,
                          what="its Job garbage-collected")

    def test_an_edit_recreates_a_waiting_run_and_stopping_frees_the_quota(self):
        ns = self.namespace("edit")
        self.sim.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "gpus"},
            "spec": {"hard": {"requests.nvidia.com/gpu": "1"}}}))
        self.scripts.set(ns, "remotecode.dev/name=blocker", run_seconds=120)
        self.create(ns, "blocker", {"image": "busybox", "resources": {"gpus": 1}})
        self.wait_phase(ns, "blocker", "Running")
        self.create(ns, "edited", {"image": "busybox:1", "resources": {"gpus": 1}})
        self.sim.wait_for(lambda: (self.tj(ns, "edited").get("status") or {}).get("queuePosition"),
                          what="edited waits")
        self.patch(ns, "edited", {"spec": {"image": "busybox:2"}})

        def recreated():
            j = self.job(ns, "edited-0")
            c = j["spec"]["template"]["spec"]["containers"][0] if j else {}
            return j if c.get("image") == "busybox:2" else None
        job = self.sim.wait_for(recreated, what="waiting run re-created")
        self.assertTrue(job["spec"]["suspend"], "still waiting")

        self.patch(ns, "blocker", {"spec": {"suspend": True}})
        self.wait_phase(ns, "blocker", "Stopped")
        self.wait_phase(ns, "edited", "Succeeded")

    def test_template_workspace_home_and_datasets_are_mounted(self):
        ns = self.namespace("sources")
        self.sim.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
            "metadata": {"name": "tj-trainer"},
            "spec": {"image": "registry.example/trainer:3", "ide": "none",
                     "resources": {"default": {"gpus": 1, "memory": "2Gi"},
                                   "maximum": {"gpus": 2}}}}))
        spec = {"template": "tj-trainer", "command": ["python", "train.py"],
                "source": {"workspace": {"name": "alice", "path": "projects/resnet"}}}
        self.create(ns, "from-home", spec)

        def unresolved():
            c = condition(self.tj(ns, "from-home") or {}, "Resolved")
            return c if c and c["reason"] == "WorkspaceNotFound" else None
        self.sim.wait_for(unresolved, what="Resolved=False WorkspaceNotFound")
        self.assertIsNone(self.job(ns, "from-home-0"), "no Job without the home volume")

        # The datasets claim first: the home volume is what lets the run start.
        for claim in ("remote-code-datasets", "alice-home"):
            self.sim.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": claim},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}}))
        self.wait_phase(ns, "from-home", "Succeeded")
        pod = self.job(ns, "from-home-0")["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertEqual(c["image"], "registry.example/trainer:3")
        self.assertEqual(c["resources"]["limits"]["nvidia.com/gpu"], "1", "the template's default")
        self.assertEqual(c["workingDir"], "/home/coder/projects/resnet")
        claims = {v["name"]: v["persistentVolumeClaim"] for v in pod["volumes"]}
        self.assertEqual(claims["home"]["claimName"], "alice-home")
        self.assertEqual(claims["data"], {"claimName": "remote-code-datasets", "readOnly": True})
        mounts = {m["name"]: m for m in c["volumeMounts"]}
        self.assertTrue(mounts["data"]["readOnly"])
        self.assertEqual(mounts["data"]["mountPath"], "/data")

        # More GPUs than the template allows is a spec error, not a job that waits for ever.
        self.create(ns, "too-many", dict(spec, resources={"gpus": 4}))
        c = self.sim.wait_for(lambda: condition(self.tj(ns, "too-many") or {}, "Valid"),
                              what="too-many judged")
        self.assertEqual(c["status"], "False")
        self.assertIn("spec.resources.gpus", c["message"])

    def test_examples_are_accepted(self):
        ns = self.namespace("examples")
        for name in ("trainingjob.yaml", "trainingjob-sweep.yaml", "trainingjob-multiworker.yaml"):
            self.sim.kubectl("apply", "-n", ns, "-f", os.path.join(ROOT, "examples", name))
        t = self.sim.wait_for(lambda: (self.tj(ns, "sweep-lr") or {}).get("status"),
                              what="sweep example reconciled")
        self.assertEqual(t["runsTotal"], 6)


class MaxRunningJobs(TrainingJobCase):
    operator_flags = ("--max-running-jobs", "1")

    def test_the_cluster_wide_limit_runs_one_at_a_time(self):
        ns = self.namespace("limited")
        self.scripts.set(ns, "remotecode.dev/kind=trainingjob", run_seconds=2)
        self.create(ns, "one", {"image": "busybox"})
        self.wait_phase(ns, "one", "Running", timeout=20)
        self.create(ns, "two", {"image": "busybox"})
        t = self.sim.wait_for(lambda: (self.tj(ns, "two").get("status") or {}).get("queuePosition"),
                              what="two waits in the queue")
        self.assertEqual(t, 1)
        one = self.wait_phase(ns, "one", "Succeeded")["status"]
        two = self.wait_phase(ns, "two", "Succeeded")["status"]
        self.assertLessEqual(one["completionTime"], two["startTime"])


if __name__ == "__main__":
    unittest.main()
