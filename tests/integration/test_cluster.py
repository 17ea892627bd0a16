"""The simulated cluster behind `remote-code sim` (docs/simulator.md, "The cluster behind it"),
checked the way a user of a real Kubernetes 1.32 cluster sees it: kubectl output, object status,
Events, HTTP codes, Status bodies and Warning headers.

Every expectation here is what a real 1.32 cluster does (kube-controller-manager's Job, Deployment,
garbage-collector, namespace, TTL and quota controllers, kube-scheduler, the apiserver's registry
code), not a recording of what the simulator happens to answer.

Each TestCase class starts its own simulator; each test works in its own namespace.

Run with Debian's python:
    RC_BIN=build-asan/bin/remote-code /usr/bin/python3 -m unittest -v tests/integration/test_cluster.py
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import Sim, condition  # noqa: E402

GPU_TOLERATION = """
      tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}"""


def is_true(obj, ctype):
    c = condition(obj, ctype)
    return bool(c) and c.get("status") == "True"


def terminal(pod):
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


class ClusterCase(unittest.TestCase):
    """Shared helpers; subclasses get their own simulator."""

    sim_flags = ()

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim(*cls.sim_flags)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    # -- helpers ------------------------------------------------------------------------------

    def namespace(self, name):
        self.sim.kubectl("create", "namespace", name)
        return name

    def apply(self, ns, manifest):
        return self.sim.kubectl("apply", "-n", ns, "-f", "-", input=manifest)

    def get(self, ns, kind, name):
        """The object as JSON, or None when it does not exist."""
        args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
        p = self.sim.kubectl(*args, check=False)
        if p.returncode != 0:
            self.assertIn("NotFound", p.stderr, p.stderr)
            return None
        return json.loads(p.stdout)

    def items(self, ns, kind, *selector):
        return self.sim.kubectl_json("get", kind, "-n", ns, *selector)["items"]

    def pods(self, ns, *selector):
        return self.items(ns, "pods", *selector)

    def wait_obj(self, ns, kind, name, pred, what, timeout=20):
        def check():
            o = self.get(ns, kind, name)
            return o if o is not None and pred(o) else None
        return self.sim.wait_for(check, timeout=timeout, what=what)

    def wait_gone(self, ns, kind, name, timeout=20):
        self.sim.wait_for(lambda: self.get(ns, kind, name) is None, timeout=timeout,
                          what="%s/%s to be gone" % (kind, name))

    def list_rv(self, path):
        status, _, body = self.sim.request("GET", path)
        self.assertEqual(status, 200, body)
        return body["metadata"]["resourceVersion"]

    def watch_events(self, path, rv, seconds=1):
        """Every watch event on path since rv (the watch ends after `seconds`)."""
        sep = "&" if "?" in path else "?"
        status, _, body = self.sim.request(
            "GET", "%s%swatch=1&resourceVersion=%s&timeoutSeconds=%d" % (path, sep, rv, seconds))
        self.assertEqual(status, 200, body)
        if isinstance(body, dict):
            return [body]
        return [json.loads(line) for line in body.splitlines() if line.strip()]

    @staticmethod
    def max_active(events):
        """The largest number of pods that existed at once without having finished."""
        active, most = {}, 0
        for e in events:
            pod = e["object"]
            name = pod["metadata"]["name"]
            if e["type"] == "DELETED" or terminal(pod):
                active.pop(name, None)
            else:
                active[name] = True
            most = max(most, len(active))
        return most

    def events_for(self, ns, kind, name):
        return [e for e in self.items(ns, "events")
                if e["involvedObject"].get("kind") == kind and e["involvedObject"].get("name") == name]


# ----------------------------------------------------------------------------------------------
# Jobs and quotas
# ----------------------------------------------------------------------------------------------

class JobTest(ClusterCase):

    def test_indexed_job(self):
        ns = self.namespace("job-indexed")
        rv = self.list_rv("/api/v1/namespaces/%s/pods" % ns)
        started = time.time()
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: ranks}
spec:
  completions: 3
  parallelism: 2
  completionMode: Indexed
  template:
    metadata:
      annotations:
        sim.remotecode.dev/run-seconds: "1"
        sim.remotecode.dev/log: "rank $(JOB_COMPLETION_INDEX)"
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        job = self.wait_obj(ns, "job", "ranks", lambda j: is_true(j, "Complete"),
                            "job ranks Complete")
        elapsed = time.time() - started
        st = job["status"]
        self.assertEqual(st.get("completedIndexes"), "0-2")
        self.assertEqual(st.get("succeeded"), 3)
        self.assertNotIn("failed", st)
        self.assertTrue(is_true(job, "SuccessCriteriaMet"), st)
        self.assertIsNone(condition(job, "Failed"), st)
        self.assertIn("completionTime", st)

        pods = self.pods(ns, "-l", "batch.kubernetes.io/job-name=ranks")
        self.assertEqual(len(pods), 3, [p["metadata"]["name"] for p in pods])
        by_index = {}
        for p in pods:
            md = p["metadata"]
            idx = md["annotations"]["batch.kubernetes.io/job-completion-index"]
            self.assertEqual(md["labels"]["batch.kubernetes.io/job-completion-index"], idx)
            self.assertTrue(md["name"].startswith("ranks-%s-" % idx), md["name"])
            self.assertEqual(p["spec"].get("hostname"), "ranks-%s" % idx)
            env = [e["name"] for e in p["spec"]["containers"][0].get("env", [])]
            self.assertIn("JOB_COMPLETION_INDEX", env)
            self.assertEqual(p["status"]["phase"], "Succeeded")
            by_index[idx] = md["name"]
        self.assertEqual(sorted(by_index), ["0", "1", "2"])
        for idx, name in by_index.items():
            out = self.sim.kubectl("logs", "-n", ns, name).stdout
            self.assertEqual(out, "rank %s\n" % idx)

        # Never more than `parallelism` pods running at once, and no pod beyond the three.
        events = self.watch_events("/api/v1/namespaces/%s/pods" % ns, rv)
        self.assertEqual(self.max_active(events), 2)
        created = {e["object"]["metadata"]["name"] for e in events if e["type"] == "ADDED"}
        self.assertEqual(len(created), 3, sorted(created))

        table = self.sim.kubectl("get", "job", "ranks", "-n", ns).stdout
        row = table.splitlines()[1].split()
        self.assertEqual(row[:3], ["ranks", "Complete", "3/3"], table)
        # Three pods of one second each, two at a time: two rounds, so at least two seconds.
        self.assertGreaterEqual(elapsed, 2.0,
                                "3 pods running 1 s each with parallelism 2 finished in %.2f s" % elapsed)

    def test_backoff_limit(self):
        ns = self.namespace("job-backoff")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  backoffLimit: 1
  template:
    metadata:
      annotations:
        sim.remotecode.dev/run-seconds: "0.2"
        sim.remotecode.dev/fail-attempts: "5"
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        job = self.wait_obj(ns, "job", "flaky", lambda j: is_true(j, "Failed"), "job flaky Failed")
        failed = condition(job, "Failed")
        self.assertEqual(failed["reason"], "BackoffLimitExceeded")
        self.assertEqual(failed["message"], "Job has reached the specified backoff limit")
        target = condition(job, "FailureTarget")
        self.assertIsNotNone(target, job["status"])
        self.assertEqual(target["reason"], "BackoffLimitExceeded")
        self.assertEqual(job["status"].get("failed"), 2)
        self.assertNotIn("succeeded", job["status"])
        self.assertFalse(job["status"].get("active"))
        self.assertIsNone(condition(job, "Complete"))
        pods = self.pods(ns, "-l", "batch.kubernetes.io/job-name=flaky")
        self.assertEqual(sorted(p["status"]["phase"] for p in pods), ["Failed", "Failed"])
        for p in pods:
            term = p["status"]["containerStatuses"][0]["state"]["terminated"]
            self.assertEqual(term["exitCode"], 1)
            self.assertEqual(term["reason"], "Error")
        table = self.sim.kubectl("get", "job", "flaky", "-n", ns).stdout
        self.assertEqual(table.splitlines()[1].split()[:3], ["flaky", "Failed", "0/1"], table)

    def test_failed_pod_replaced_after_backoff(self):
        # The job controller recreates failed pods with an exponential back-off: 10 s, 20 s, ...
        ns = self.namespace("job-pod-backoff")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: retry}
spec:
  backoffLimit: 2
  template:
    metadata:
      annotations:
        sim.remotecode.dev/run-seconds: "0.2"
        sim.remotecode.dev/fail-attempts: "1"
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        job = self.wait_obj(ns, "job", "retry", lambda j: is_true(j, "Complete"), "job retry Complete",
                            timeout=30)
        self.assertEqual((job["status"].get("failed"), job["status"].get("succeeded")), (1, 1))
        pods = {p["status"]["phase"]: p for p in self.pods(ns)}
        self.assertEqual(sorted(pods), ["Failed", "Succeeded"])
        failed_at = pods["Failed"]["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"]
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        gap = (time.mktime(time.strptime(pods["Succeeded"]["metadata"]["creationTimestamp"], fmt))
               - time.mktime(time.strptime(failed_at, fmt)))
        self.assertGreaterEqual(gap, 9, "replacement pod created %d s after the failure" % gap)

    def test_suspend_and_resume(self):
        ns = self.namespace("job-suspend")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: later}
spec:
  suspend: true
  template:
    metadata:
      annotations: {sim.remotecode.dev/run-seconds: "0.3"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        job = self.wait_obj(ns, "job", "later", lambda j: is_true(j, "Suspended"),
                            "job later Suspended")
        c = condition(job, "Suspended")
        self.assertEqual((c["reason"], c["message"]), ("JobSuspended", "Job suspended"))
        time.sleep(0.5)
        self.assertEqual(self.pods(ns), [])
        job = self.get(ns, "job", "later")
        self.assertFalse(job["status"].get("active"))
        self.assertNotIn("startTime", job["status"])
        table = self.sim.kubectl("get", "job", "later", "-n", ns).stdout
        self.assertEqual(table.splitlines()[1].split()[:3], ["later", "Suspended", "0/1"], table)

        self.sim.kubectl("patch", "job", "later", "-n", ns, "--type", "merge",
                         "-p", '{"spec":{"suspend":false}}')
        job = self.wait_obj(ns, "job", "later", lambda j: is_true(j, "Complete"), "job later Complete")
        c = condition(job, "Suspended")
        self.assertEqual((c["status"], c["reason"], c["message"]), ("False", "JobResumed", "Job resumed"))
        self.assertEqual(job["status"].get("succeeded"), 1)
        self.assertIn("startTime", job["status"])
        pods = self.pods(ns)
        self.assertEqual([p["status"]["phase"] for p in pods], ["Succeeded"])

    def test_active_deadline(self):
        ns = self.namespace("job-deadline")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  # Long enough to see the pod Running on a loaded machine, short enough to keep the test quick.
  activeDeadlineSeconds: 3
  template:
    metadata:
      annotations: {sim.remotecode.dev/run-seconds: "30"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        self.sim.wait_for(lambda: any(p["status"].get("phase") == "Running" for p in self.pods(ns)),
                          what="the job's pod to run")
        job = self.wait_obj(ns, "job", "slow", lambda j: is_true(j, "Failed"), "job slow Failed",
                            timeout=10)
        c = condition(job, "Failed")
        self.assertEqual(c["reason"], "DeadlineExceeded")
        self.assertEqual(c["message"], "Job was active longer than specified deadline")
        self.assertIsNone(condition(job, "Complete"))
        self.sim.wait_for(lambda: self.pods(ns) == [], what="the job's pods to be deleted")
        job = self.get(ns, "job", "slow")
        st = job["status"]
        # The job controller counts a pod it deleted before it finished as failed (isPodFailed:
        # deletionTimestamp set and not Succeeded), and no pod is left active or ready.
        self.assertEqual((st.get("active", 0), st.get("ready"), st.get("failed")), (0, 0, 1), st)

    def test_job_pods_carry_tracking_finalizer(self):
        # Since 1.26 the job controller creates its pods with the batch.kubernetes.io/job-tracking
        # finalizer and removes it once it has counted the finished pod.
        ns = self.namespace("job-tracking")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: tracked}
spec:
  template:
    metadata:
      annotations: {sim.remotecode.dev/run-seconds: "3"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        running = self.sim.wait_for(
            lambda: [p for p in self.pods(ns) if p["status"].get("phase") == "Running"],
            what="the job's pod to run")[0]
        self.assertIn("batch.kubernetes.io/job-tracking", running["metadata"].get("finalizers", []))
        self.wait_obj(ns, "job", "tracked", lambda j: is_true(j, "Complete"), "job tracked Complete")
        for p in self.pods(ns):
            self.assertNotIn("batch.kubernetes.io/job-tracking", p["metadata"].get("finalizers", []))

    def test_ttl_after_finished(self):
        ns = self.namespace("job-ttl")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: brief}
spec:
  ttlSecondsAfterFinished: 4
  template:
    metadata:
      annotations: {sim.remotecode.dev/run-seconds: "0.2"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        # 4 s, not 1: on a loaded machine a poll can miss a shorter window between Complete
        # and the deletion.
        self.wait_obj(ns, "job", "brief", lambda j: is_true(j, "Complete"), "job brief Complete")
        self.assertEqual(len(self.pods(ns)), 1)
        self.wait_gone(ns, "job", "brief", timeout=15)
        self.sim.wait_for(lambda: self.pods(ns) == [], timeout=10, what="the job's pods to go")

    def test_resource_quota_limits_gpu_pods(self):
        ns = self.namespace("job-quota")
        rv = self.list_rv("/api/v1/namespaces/%s/pods" % ns)
        self.apply(ns, """
apiVersion: v1
kind: ResourceQuota
metadata: {name: gpu-quota}
spec:
  hard: {requests.nvidia.com/gpu: "1"}
""")
        self.wait_obj(ns, "resourcequota", "gpu-quota",
                      lambda q: (q.get("status") or {}).get("used", {}).get("requests.nvidia.com/gpu") == "0",
                      "quota status.used")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  parallelism: 2
  completions: 2
  template:
    metadata:
      annotations: {sim.remotecode.dev/run-seconds: "2"}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: trainer
        resources:
          limits: {nvidia.com/gpu: 1}""" + GPU_TOLERATION + "\n")
        # While the first pod holds the one GPU the quota allows, the second cannot be created.
        self.sim.wait_for(lambda: any(p["status"].get("phase") == "Running" for p in self.pods(ns)),
                          what="the first pod to run")
        quota = self.wait_obj(
            ns, "resourcequota", "gpu-quota",
            lambda q: q["status"]["used"].get("requests.nvidia.com/gpu") == "1", "quota used 1")
        self.assertEqual(quota["status"]["hard"], {"requests.nvidia.com/gpu": "1"})
        events = self.sim.wait_for(
            lambda: [e for e in self.events_for(ns, "Job", "train") if e.get("reason") == "FailedCreate"],
            what="a FailedCreate event on the job")
        ev = events[0]
        self.assertEqual(ev["type"], "Warning")
        self.assertEqual(ev["source"].get("component"), "job-controller")
        self.assertRegex(ev["message"],
                         r'^Error creating: pods "train-[a-z0-9]+" is forbidden: exceeded quota: gpu-quota, '
                         r'requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=1, '
                         r'limited: requests.nvidia.com/gpu=1$')
        table = self.sim.kubectl("get", "events", "-n", ns).stdout
        line = [ln for ln in table.splitlines() if "FailedCreate" in ln]
        self.assertTrue(line, table)
        self.assertIn("Warning", line[0])
        self.assertIn("job/train", line[0])
        self.assertIn("exceeded quota: gpu-quota", line[0])

        job = self.wait_obj(ns, "job", "train", lambda j: is_true(j, "Complete"), "job train Complete",
                            timeout=25)
        self.assertEqual(job["status"]["succeeded"], 2)
        # One GPU at a time: never two pods of the job alive together.
        events = self.watch_events("/api/v1/namespaces/%s/pods" % ns, rv)
        self.assertEqual(self.max_active(events), 1)
        self.wait_obj(ns, "resourcequota", "gpu-quota",
                      lambda q: q["status"]["used"].get("requests.nvidia.com/gpu") == "0",
                      "quota used back to 0")


# ----------------------------------------------------------------------------------------------
# Scheduling
# ----------------------------------------------------------------------------------------------

def pod_manifest(name, gpus=0, tolerate=False, node_selector=None, cpu=None):
    res = {}
    if gpus:
        res.setdefault("limits", {})["nvidia.com/gpu"] = gpus
    if cpu:
        res.setdefault("requests", {})["cpu"] = cpu
    spec = {"containers": [{"name": "main", "image": "busybox", "resources": res}]}
    if tolerate:
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    if node_selector:
        spec["nodeSelector"] = node_selector
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


class SchedulingTest(ClusterCase):
    """Its own simulator: the tests count on all 8 GPUs (2 nodes x 4) being free at the start."""

    def node_of(self, ns, name, timeout=10):
        pod = self.wait_obj(ns, "pod", name, lambda p: p["spec"].get("nodeName"),
                            "pod %s to be scheduled" % name, timeout=timeout)
        return pod["spec"]["nodeName"]

    def unschedulable(self, ns, name):
        pod = self.wait_obj(ns, "pod", name,
                            lambda p: (condition(p, "PodScheduled") or {}).get("reason") == "Unschedulable",
                            "pod %s to be Unschedulable" % name)
        self.assertNotIn("nodeName", pod["spec"])
        self.assertEqual(pod["status"]["phase"], "Pending")
        c = condition(pod, "PodScheduled")
        self.assertEqual(c["status"], "False")
        return c["message"]

    def test_01_gpu_placement_and_capacity(self):
        ns = self.namespace("sched")
        self.apply(ns, pod_manifest("four", gpus=4, tolerate=True))
        self.assertTrue(self.node_of(ns, "four").startswith("gpu-node-"))
        self.apply(ns, pod_manifest("plain"))
        self.assertEqual(self.node_of(ns, "plain"), "cpu-node-0")
        self.apply(ns, pod_manifest("a100", gpus=1, tolerate=True,
                                    node_selector={"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"}))
        a100_node = self.node_of(ns, "a100")
        self.assertTrue(a100_node.startswith("gpu-node-"))
        self.assertNotEqual(a100_node, self.node_of(ns, "four"))
        self.apply(ns, pod_manifest("three", gpus=3, tolerate=True))
        self.assertEqual(self.node_of(ns, "three"), a100_node)
        # All 8 GPUs are taken now.
        self.apply(ns, pod_manifest("waiting", gpus=1, tolerate=True))
        msg = self.unschedulable(ns, "waiting")
        self.assertTrue(msg.startswith("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: "),
                        msg)
        table = self.sim.kubectl("get", "pod", "waiting", "-n", ns).stdout
        self.assertEqual(table.splitlines()[1].split()[:3], ["waiting", "0/1", "Pending"], table)
        time.sleep(0.5)
        self.assertNotIn("nodeName", self.get(ns, "pod", "waiting")["spec"])

        four_node = self.node_of(ns, "four")
        self.sim.kubectl("delete", "pod", "four", "-n", ns, "--wait", "--timeout=20s")
        self.assertEqual(self.node_of(ns, "waiting"), four_node)
        pod = self.wait_obj(ns, "pod", "waiting", lambda p: p["status"].get("phase") == "Running",
                            "pod waiting to run")
        self.assertEqual(condition(pod, "PodScheduled")["status"], "True")

    def test_02_failed_scheduling_event(self):
        # kube-scheduler records every failed attempt as a Warning Event on the pod, which is
        # what `kubectl describe pod` shows under Events.
        ns = self.namespace("sched-event")
        self.apply(ns, pod_manifest("huge", gpus=5, tolerate=True))
        msg = self.unschedulable(ns, "huge")
        events = self.sim.wait_for(
            lambda: [e for e in self.events_for(ns, "Pod", "huge") if e.get("reason") == "FailedScheduling"],
            timeout=5, what="a FailedScheduling event on the pod")
        self.assertEqual(events[0]["type"], "Warning")
        self.assertEqual(events[0]["message"], msg)

    def test_03_untolerated_taint_and_selector_message(self):
        # Taints and node selectors are UnschedulableAndUnresolvable: preemption cannot help.
        ns = self.namespace("sched-taint")
        self.apply(ns, pod_manifest("nowhere", node_selector={"nvidia.com/gpu.product": "NVIDIA-H100"}))
        msg = self.unschedulable(ns, "nowhere")
        self.assertEqual(
            msg,
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
            "2 node(s) had untolerated taint {nvidia.com/gpu: present}. preemption: 0/3 nodes are "
            "available: 3 Preemption is not helpful for scheduling.")

    def test_04_reason_histogram_sorted_like_the_scheduler(self):
        # FitError.Error() sorts the "<count> <reason>" strings as a whole (sort.Strings).
        ns = self.namespace("sched-sort")
        self.apply(ns, pod_manifest("greedy", tolerate=True, cpu="100",
                                    node_selector={"nvidia.com/gpu.present": "true"}))
        msg = self.unschedulable(ns, "greedy")
        self.assertTrue(
            msg.startswith("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                           "2 Insufficient cpu. preemption: "), msg)


# ----------------------------------------------------------------------------------------------
# Storage, services, ingresses, deployments
# ----------------------------------------------------------------------------------------------

class ObjectsTest(ClusterCase):

    def test_pvc_service_ingress(self):
        ns = self.namespace("objects")
        self.apply(ns, """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 2Gi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: peers}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
""")
        pvc = self.wait_obj(ns, "pvc", "data", lambda p: p.get("status", {}).get("phase") == "Bound",
                            "pvc data Bound")
        self.assertEqual(pvc["status"]["capacity"], {"storage": "2Gi"})
        self.assertEqual(pvc["status"]["accessModes"], ["ReadWriteOnce"])
        self.assertTrue(pvc["spec"].get("volumeName"), pvc["spec"])
        row = self.sim.kubectl("get", "pvc", "data", "-n", ns).stdout.splitlines()[1].split()
        self.assertEqual(row[:2], ["data", "Bound"])
        self.assertEqual(row[2], pvc["spec"]["volumeName"])
        self.assertEqual(row[3:5], ["2Gi", "RWO"])

        svc = self.get(ns, "service", "web")
        ip = svc["spec"]["clusterIP"]
        self.assertRegex(ip, r"^\d+\.\d+\.\d+\.\d+$")
        self.assertEqual(svc["spec"]["clusterIPs"], [ip])
        self.assertEqual(svc["spec"]["type"], "ClusterIP")
        headless = self.get(ns, "service", "peers")
        self.assertEqual(headless["spec"]["clusterIP"], "None")
        self.assertEqual(headless["spec"]["clusterIPs"], ["None"])
        table = self.sim.kubectl("get", "services", "-n", ns).stdout
        rows = {ln.split()[0]: ln.split() for ln in table.splitlines()[1:]}
        self.assertEqual(rows["web"][1:3], ["ClusterIP", ip])
        self.assertEqual(rows["peers"][1:3], ["ClusterIP", "None"])

        ing = self.wait_obj(ns, "ingress", "web",
                            lambda i: i.get("status", {}).get("loadBalancer", {}).get("ingress"),
                            "ingress address")
        addr = ing["status"]["loadBalancer"]["ingress"][0]["ip"]
        self.assertRegex(addr, r"^\d+\.\d+\.\d+\.\d+$")
        row = self.sim.kubectl("get", "ingress", "web", "-n", ns).stdout.splitlines()[1].split()
        self.assertEqual(row[0], "web")
        self.assertIn("web.example.com", row)
        self.assertIn(addr, row)

    def test_pod_runs_for_its_run_seconds(self):
        # A container that runs for 1.5 s (like `sleep 1.5`) is Running at least that long.
        ns = self.namespace("run-seconds")
        started = time.time()
        self.apply(ns, """
apiVersion: v1
kind: Pod
metadata:
  name: sleeper
  annotations: {sim.remotecode.dev/run-seconds: "1.5"}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox}]
""")
        pod = self.wait_obj(ns, "pod", "sleeper", lambda p: terminal(p), "pod sleeper to finish")
        elapsed = time.time() - started
        self.assertEqual(pod["status"]["phase"], "Succeeded")
        term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
        self.assertEqual((term["exitCode"], term["reason"]), (0, "Completed"))
        self.assertGreaterEqual(elapsed, 1.5, "a 1.5 s container finished %.2f s after creation" % elapsed)

    def test_pod_starts_after_its_start_seconds(self):
        # Like an image pull: the pod is scheduled but its container waits, even when the pod
        # changes meanwhile (a label here), and then starts.
        ns = self.namespace("start-seconds")
        started = time.time()
        self.apply(ns, """
apiVersion: v1
kind: Pod
metadata:
  name: pulling
  annotations: {sim.remotecode.dev/start-seconds: "2", sim.remotecode.dev/run-seconds: "60"}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox}]
""")
        pod = self.wait_obj(ns, "pod", "pulling", lambda p: p["status"].get("startTime"),
                            "the kubelet to take pod pulling")
        self.sim.kubectl("label", "pod", "pulling", "-n", ns, "touched=yes")
        pod = self.sim.kubectl_json("get", "pod", "pulling", "-n", ns)
        if time.time() - started < 1.5:
            self.assertEqual(pod["status"]["phase"], "Pending")
            waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
            self.assertEqual(waiting["reason"], "ContainerCreating")
        pod = self.wait_obj(ns, "pod", "pulling", lambda p: p["status"].get("phase") == "Running",
                            "pod pulling to run")
        elapsed = time.time() - started
        self.assertGreaterEqual(elapsed, 2, "a 2 s start ran %.2f s after creation" % elapsed)

    DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: nginx:1.27}]
"""

    def test_deployment_rollout_and_scale_to_zero(self):
        ns = self.namespace("deploy")
        self.apply(ns, self.DEPLOYMENT)
        dep = self.wait_obj(ns, "deployment", "web",
                            lambda d: is_true(d, "Available") and d["status"].get("readyReplicas") == 2,
                            "deployment web Available")
        self.assertEqual(condition(dep, "Available")["reason"], "MinimumReplicasAvailable")
        old = self.pods(ns, "-l", "app=web")
        self.assertEqual(len(old), 2)
        old_hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in old}
        self.assertEqual(len(old_hashes), 1)
        old_hash = old_hashes.pop()
        for p in old:
            self.assertTrue(p["metadata"]["name"].startswith("web-%s-" % old_hash), p["metadata"]["name"])

        # A template change rolls the pods over.
        self.sim.kubectl("set", "image", "deployment/web", "app=nginx:1.28", "-n", ns)
        out = self.sim.kubectl("rollout", "status", "deployment/web", "-n", ns, "--timeout=30s").stdout
        self.assertIn('deployment "web" successfully rolled out', out)

        def rolled():
            pods = self.pods(ns, "-l", "app=web")
            return pods if len(pods) == 2 and all(
                p["metadata"]["labels"]["pod-template-hash"] != old_hash
                and p["spec"]["containers"][0]["image"] == "nginx:1.28" for p in pods) else None
        new = self.sim.wait_for(rolled, what="the old pods to be replaced")
        new_hash = new[0]["metadata"]["labels"]["pod-template-hash"]
        self.assertEqual({p["metadata"]["labels"]["pod-template-hash"] for p in new}, {new_hash})
        self.assertFalse({p["metadata"]["name"] for p in new} & {p["metadata"]["name"] for p in old})
        dep = self.wait_obj(ns, "deployment", "web",
                            lambda d: is_true(d, "Available") and d["status"].get("availableReplicas") == 2,
                            "deployment web Available after the rollout")
        st = dep["status"]
        self.assertEqual(st["observedGeneration"], dep["metadata"]["generation"])
        self.assertEqual(dep["metadata"]["generation"], 2)
        self.assertEqual((st.get("replicas"), st.get("updatedReplicas"), st.get("readyReplicas")), (2, 2, 2))
        prog = condition(dep, "Progressing")
        self.assertEqual((prog["status"], prog["reason"]), ("True", "NewReplicaSetAvailable"))
        row = self.sim.kubectl("get", "deployment", "web", "-n", ns).stdout.splitlines()[1].split()
        self.assertEqual(row[:4], ["web", "2/2", "2", "2"])

        # Scaling to zero removes every pod.
        self.sim.kubectl("patch", "deployment", "web", "-n", ns, "--type", "merge",
                         "-p", '{"spec":{"replicas":0}}')
        self.sim.wait_for(lambda: self.pods(ns, "-l", "app=web") == [], what="the pods to go")
        dep = self.wait_obj(ns, "deployment", "web",
                            lambda d: d["status"].get("observedGeneration") == 3 and not d["status"].get("replicas"),
                            "deployment status at 0 replicas")
        st = dep["status"]
        self.assertEqual(st.get("readyReplicas", 0), 0)
        self.assertEqual(st.get("availableReplicas", 0), 0)
        self.assertTrue(is_true(dep, "Available"), st)
        row = self.sim.kubectl("get", "deployment", "web", "-n", ns).stdout.splitlines()[1].split()
        self.assertEqual(row[:4], ["web", "0/0", "0", "0"])


# ----------------------------------------------------------------------------------------------
# Deletion: finalizers, propagation, namespaces, CRDs
# ----------------------------------------------------------------------------------------------

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.cluster.test}
spec:
  group: cluster.test
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


class DeletionTest(ClusterCase):

    def ready_deployment(self, ns, name, replicas=2):
        self.apply(ns, """
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: %d
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers: [{name: app, image: nginx}]
""" % (name, replicas, name, name))
        dep = self.wait_obj(ns, "deployment", name, lambda d: d["status"].get("readyReplicas") == replicas,
                            "deployment %s ready" % name)
        return dep, self.pods(ns, "-l", "app=" + name)

    def test_custom_finalizer(self):
        ns = self.namespace("del-finalizer")
        self.apply(ns, """
apiVersion: v1
kind: ConfigMap
metadata: {name: kept, finalizers: [example.com/keep]}
data: {a: "1"}
""")
        self.sim.kubectl("delete", "configmap", "kept", "-n", ns, "--wait=false")
        time.sleep(0.3)
        cm = self.get(ns, "configmap", "kept")
        self.assertIsNotNone(cm, "an object with a finalizer must outlive its deletion request")
        self.assertIn("deletionTimestamp", cm["metadata"])
        self.assertEqual(cm["metadata"]["deletionGracePeriodSeconds"], 0)
        self.assertEqual(cm["metadata"]["finalizers"], ["example.com/keep"])
        # Still readable, listed, and updatable (finalizers may be removed).
        names = [c["metadata"]["name"] for c in self.items(ns, "configmaps")]
        self.assertIn("kept", names)
        self.sim.kubectl("patch", "configmap", "kept", "-n", ns, "--type", "merge",
                         "-p", '{"metadata":{"finalizers":null}}')
        self.wait_gone(ns, "configmap", "kept", timeout=5)

    def test_foreground_deletion_waits_for_pods(self):
        ns = self.namespace("del-foreground")
        dep, pods = self.ready_deployment(ns, "fg")
        held = pods[0]["metadata"]["name"]
        self.sim.kubectl("patch", "pod", held, "-n", ns, "--type", "merge",
                         "-p", '{"metadata":{"finalizers":["example.com/hold"]}}')
        self.sim.kubectl("delete", "deployment", "fg", "-n", ns, "--cascade=foreground", "--wait=false")
        dep = self.get(ns, "deployment", "fg")
        self.assertIsNotNone(dep)
        self.assertIn("deletionTimestamp", dep["metadata"])
        self.assertIn("foregroundDeletion", dep["metadata"]["finalizers"])
        # The other pod goes; the held one is terminating; the deployment waits for it.
        self.sim.wait_for(lambda: [p["metadata"]["name"] for p in self.pods(ns)] == [held],
                          what="only the held pod to remain")
        self.assertIn("deletionTimestamp", self.get(ns, "pod", held)["metadata"])
        time.sleep(0.5)
        dep = self.get(ns, "deployment", "fg")
        self.assertIsNotNone(dep, "the deployment went before its pods")
        self.assertIn("foregroundDeletion", dep["metadata"]["finalizers"])
        self.sim.kubectl("patch", "pod", held, "-n", ns, "--type", "merge",
                         "-p", '{"metadata":{"finalizers":null}}')
        self.wait_gone(ns, "pod", held, timeout=10)
        self.wait_gone(ns, "deployment", "fg", timeout=10)

    def test_kubectl_foreground_cascade_waits(self):
        ns = self.namespace("del-fg-wait")
        self.ready_deployment(ns, "fgw")
        p = self.sim.kubectl("delete", "deployment", "fgw", "-n", ns, "--cascade=foreground",
                             "--timeout=20s")
        self.assertEqual(p.stdout.strip(), 'deployment.apps "fgw" deleted')
        # --cascade=foreground with --wait returns only when the owner is gone, i.e. after its pods.
        self.assertEqual(self.pods(ns), [])
        self.assertIsNone(self.get(ns, "deployment", "fgw"))

    def test_orphan_cascade_keeps_pods(self):
        ns = self.namespace("del-orphan")
        dep, pods = self.ready_deployment(ns, "orph")
        uid = dep["metadata"]["uid"]
        names = sorted(p["metadata"]["name"] for p in pods)
        p = self.sim.kubectl("delete", "deployment", "orph", "-n", ns, "--cascade=orphan", "--timeout=20s")
        self.assertEqual(p.stdout.strip(), 'deployment.apps "orph" deleted')
        self.assertIsNone(self.get(ns, "deployment", "orph"))

        def released():
            ps = self.pods(ns)
            return ps if all(r.get("uid") != uid for q in ps
                             for r in q["metadata"].get("ownerReferences", [])) else None
        self.sim.wait_for(released, timeout=5, what="the pods to lose their owner reference")
        time.sleep(0.5)
        left = self.pods(ns)
        self.assertEqual(sorted(q["metadata"]["name"] for q in left), names)
        for q in left:
            self.assertNotIn("deletionTimestamp", q["metadata"])
            self.assertEqual(q["status"]["phase"], "Running")
            self.assertFalse([r for r in q["metadata"].get("ownerReferences", []) if r.get("uid") == uid])

    def test_job_delete_without_policy_orphans_pods_with_warning(self):
        ns = self.namespace("del-job")
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: lonely}
spec:
  template:
    metadata:
      annotations: {sim.remotecode.dev/run-seconds: "60"}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        pod = self.sim.wait_for(lambda: [p for p in self.pods(ns) if p["status"].get("phase") == "Running"],
                                what="the job's pod to run")[0]
        name = pod["metadata"]["name"]
        status, headers, body = self.sim.request("DELETE", "/apis/batch/v1/namespaces/%s/jobs/lonely" % ns)
        self.assertEqual(status, 200, body)
        warning = headers.get("Warning")
        self.assertEqual(
            warning,
            '299 - "child pods are preserved by default when jobs are deleted; set '
            'propagationPolicy=Background to remove them or set propagationPolicy=Orphan to '
            'suppress this warning"')
        # The orphan finalizer keeps the Job until the garbage collector has released the pods.
        self.assertEqual(body["kind"], "Job")
        self.assertIn("deletionTimestamp", body["metadata"])
        self.assertIn("orphan", body["metadata"]["finalizers"])
        self.wait_gone(ns, "job", "lonely", timeout=10)
        time.sleep(0.5)
        left = self.get(ns, "pod", name)
        self.assertIsNotNone(left, "the job's pod must survive")
        self.assertNotIn("deletionTimestamp", left["metadata"])
        self.assertFalse(left["metadata"].get("ownerReferences"), left["metadata"].get("ownerReferences"))
        self.assertEqual(left["status"]["phase"], "Running")

        # With an explicit policy there is no warning.
        self.apply(ns, """
apiVersion: batch/v1
kind: Job
metadata: {name: quiet}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
""")
        status, headers, body = self.sim.request("DELETE", "/apis/batch/v1/namespaces/%s/jobs/quiet" % ns,
                                                 {"propagationPolicy": "Background"})
        self.assertEqual(status, 200, body)
        self.assertNotIn("Warning", headers)

    def test_namespace_deletion(self):
        ns = self.namespace("del-ns")
        self.ready_deployment(ns, "app", replicas=1)
        self.apply(ns, """
apiVersion: v1
kind: ConfigMap
metadata: {name: plain}
data: {a: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: held, finalizers: [example.com/hold]}
data: {a: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: svc}
spec: {ports: [{port: 80}]}
""")
        waiter = subprocess.Popen(["kubectl", "delete", "namespace", ns, "--wait", "--timeout=30s"],
                                  env=self.sim.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            nsobj = self.wait_obj("", "namespace", ns, lambda n: "deletionTimestamp" in n["metadata"],
                                  "namespace to be deleting", timeout=10)
            self.assertEqual(nsobj["status"]["phase"], "Terminating")
            self.assertEqual(nsobj["spec"]["finalizers"], ["kubernetes"])
            row = self.sim.kubectl("get", "namespace", ns).stdout.splitlines()[1].split()
            self.assertEqual(row[:2], [ns, "Terminating"])
            # Its contents go; the held config map waits for its finalizer.
            self.sim.wait_for(lambda: [c["metadata"]["name"] for c in self.items(ns, "configmaps")] == ["held"],
                              what="the namespace's config maps to go")
            self.sim.wait_for(lambda: self.items(ns, "deployments") == [] and self.pods(ns) == []
                              and self.items(ns, "services") == [], what="the namespace's workloads to go")
            self.assertIn("deletionTimestamp", self.get(ns, "configmap", "held")["metadata"])
            # Nothing new may be created in it.
            status, _, body = self.sim.request("POST", "/api/v1/namespaces/%s/configmaps" % ns,
                                               {"metadata": {"name": "late"}})
            self.assertEqual(status, 403, body)
            self.assertEqual(body["reason"], "Forbidden")
            self.assertEqual(body["message"],
                             'configmaps "late" is forbidden: unable to create new content in namespace '
                             '%s because it is being terminated' % ns)
            forbidden = body
            self.assertIsNone(waiter.poll(), "kubectl delete --wait returned while the namespace exists")
            self.sim.kubectl("patch", "configmap", "held", "-n", ns, "--type", "merge",
                             "-p", '{"metadata":{"finalizers":null}}')
            out, err = waiter.communicate(timeout=30)
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
        self.assertEqual(waiter.returncode, 0, err)
        self.assertEqual(out.strip(), 'namespace "%s" deleted' % ns)
        self.assertIsNone(self.get("", "namespace", ns))
        # The NamespaceLifecycle admission plugin names the cause, which clients test for
        # (apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause)).
        self.assertIn({"reason": "NamespaceTerminating", "message": "namespace %s is being terminated" % ns,
                       "field": "metadata.namespace"}, forbidden["details"].get("causes", []), forbidden)

    def test_namespace_terminating_conditions(self):
        # The namespace controller reports why a Terminating namespace is still there.
        ns = self.namespace("del-ns-cond")
        self.apply(ns, """
apiVersion: v1
kind: ConfigMap
metadata: {name: held, finalizers: [example.com/hold]}
""")
        self.sim.kubectl("delete", "namespace", ns, "--wait=false")
        try:
            nsobj = self.wait_obj("", "namespace", ns, lambda n: is_true(n, "NamespaceFinalizersRemaining"),
                                  "NamespaceFinalizersRemaining", timeout=5)
            c = condition(nsobj, "NamespaceFinalizersRemaining")
            self.assertEqual(c["reason"], "SomeFinalizersRemain")
            self.assertIn("example.com/hold in 1 resource instances", c["message"])
            c = condition(nsobj, "NamespaceContentRemaining")
            self.assertEqual((c["status"], c["reason"]), ("True", "SomeResourcesRemain"))
        finally:
            self.sim.kubectl("patch", "configmap", "held", "-n", ns, "--type", "merge",
                             "-p", '{"metadata":{"finalizers":null}}', check=False)
            self.wait_gone("", "namespace", ns, timeout=10)

    def test_deleting_a_terminating_namespace_again_conflicts(self):
        ns = self.namespace("del-ns-twice")
        self.apply(ns, """
apiVersion: v1
kind: ConfigMap
metadata: {name: held, finalizers: [example.com/hold]}
""")
        self.sim.kubectl("delete", "namespace", ns, "--wait=false")
        try:
            status, _, body = self.sim.request("DELETE", "/api/v1/namespaces/%s" % ns)
            self.assertEqual(status, 409, body)
            self.assertEqual(body["reason"], "Conflict")
            self.assertEqual(
                body["message"],
                'Operation cannot be fulfilled on namespaces "%s": The system is ensuring all content is '
                'removed from this namespace.  Upon completion, this namespace will automatically be '
                'purged by the system.' % ns)
        finally:
            self.sim.kubectl("patch", "configmap", "held", "-n", ns, "--type", "merge",
                             "-p", '{"metadata":{"finalizers":null}}', check=False)
            self.wait_gone("", "namespace", ns, timeout=10)

    def test_crd_deletion(self):
        ns = self.namespace("del-crd")
        self.sim.kubectl("apply", "-f", "-", input=CRD)
        self.wait_obj("", "crd", "gadgets.cluster.test", lambda c: is_true(c, "Established"), "CRD Established")
        self.apply(ns, """
apiVersion: cluster.test/v1
kind: Gadget
metadata: {name: one}
spec: {size: 1}
---
apiVersion: cluster.test/v1
kind: Gadget
metadata: {name: two, finalizers: [example.com/hold]}
spec: {size: 2}
""")
        out = self.sim.kubectl("get", "gadgets", "-n", ns).stdout
        self.assertEqual(sorted(ln.split()[0] for ln in out.splitlines()[1:]), ["one", "two"])

        self.sim.kubectl("delete", "crd", "gadgets.cluster.test", "--wait=false")
        crd = self.get("", "crd", "gadgets.cluster.test")
        self.assertIsNotNone(crd)
        self.assertIn("deletionTimestamp", crd["metadata"])
        self.assertIn("customresourcecleanup.apiextensions.k8s.io", crd["metadata"]["finalizers"])
        self.wait_gone(ns, "gadget", "one", timeout=10)
        two = self.get(ns, "gadget", "two")
        self.assertIn("deletionTimestamp", two["metadata"])
        time.sleep(0.3)
        crd = self.get("", "crd", "gadgets.cluster.test")
        self.assertIsNotNone(crd, "the CRD went before its custom resources")
        self.sim.kubectl("patch", "gadget", "two", "-n", ns, "--type", "merge",
                         "-p", '{"metadata":{"finalizers":null}}')
        self.wait_gone("", "crd", "gadgets.cluster.test", timeout=10)

        # A fresh discovery cache, as any kubectl that did not see the type before.
        with tempfile.TemporaryDirectory() as cache:
            p = self.sim.kubectl("get", "gadgets", "-n", ns, "--cache-dir", cache, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('error: the server doesn\'t have a resource type "gadgets"', p.stderr)
        status, _, body = self.sim.request("GET", "/apis/cluster.test/v1/namespaces/%s/gadgets" % ns)
        self.assertEqual(status, 404, body)

    def test_crd_terminating_condition_and_no_new_resources(self):
        ns = self.namespace("del-crd-term")
        crd_yaml = CRD.replace("gadgets.cluster.test", "gizmos.cluster.test").replace(
            "plural: gadgets, singular: gadget, kind: Gadget", "plural: gizmos, singular: gizmo, kind: Gizmo")
        self.sim.kubectl("apply", "-f", "-", input=crd_yaml)
        self.wait_obj("", "crd", "gizmos.cluster.test", lambda c: is_true(c, "Established"), "CRD Established")
        self.apply(ns, """
apiVersion: cluster.test/v1
kind: Gizmo
metadata: {name: held, finalizers: [example.com/hold]}
""")
        self.sim.kubectl("delete", "crd", "gizmos.cluster.test", "--wait=false")
        try:
            crd = self.wait_obj("", "crd", "gizmos.cluster.test", lambda c: condition(c, "Terminating"),
                                "the CRD's Terminating condition", timeout=5)
            self.assertEqual(condition(crd, "Terminating")["status"], "True")
            # New custom resources are refused while their definition is terminating.
            status, _, body = self.sim.request(
                "POST", "/apis/cluster.test/v1/namespaces/%s/gizmos" % ns,
                {"apiVersion": "cluster.test/v1", "kind": "Gizmo", "metadata": {"name": "late"}})
            # The apiextensions-apiserver's crdHandler answers 405 MethodNotAllowed with this
            # message (newer servers word it as a 403 Forbidden naming the object).
            self.assertIn(status, (403, 405), body)
            self.assertEqual(body["kind"], "Status")
            self.assertIn("create not allowed while custom resource definition is terminating", body["message"])
            self.assertIsNone(self.get(ns, "gizmo", "late"))
        finally:
            self.sim.kubectl("patch", "gizmo", "held", "-n", ns, "--type", "merge",
                             "-p", '{"metadata":{"finalizers":null}}', check=False)
            self.wait_gone("", "crd", "gizmos.cluster.test", timeout=10)


if __name__ == "__main__":
    unittest.main()
