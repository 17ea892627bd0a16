"""The operator of this build against a real control plane (scripts/cluster): kube-apiserver 1.36
with etcd, its RBAC, admission (PodSecurity included), scheduler, Job controller and garbage
collector, nodes played by KWOK.

manifests/ is applied as a cluster admin would (`kubectl apply -k`, through an overlay that only
scales the operator Deployment to 0: no image of it exists here), and the operator runs as a
local process with the Deployment's own flags and a kubeconfig of the manifests' ServiceAccount,
so every permission it lacks fails a test. Users' namespaces enforce the `restricted` Pod Security
Standard. Then every file in examples/ converges, and so do the flows a user depends on.

Training pods are scripted through their environment (tests/cluster/kwok/stages.yaml):
E2E_RUN_SECONDS and E2E_EXIT_CODE. Their logs are files served by KWOK (ClusterLogs).

Run with Debian's python (after `ninja -C build-asan remote-code`):
    RC_BIN=build-asan/bin/remote-code /usr/bin/python3 -m unittest -v tests/cluster/test_e2e_operator.py
"""
import json
import os
import sys
import time
import unittest

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import ROOT, condition  # noqa: E402
from clusterharness import Cluster  # noqa: E402
from operatorharness import deployment_flags  # noqa: E402
from portalharness import ADMIN, ADMIN_PASSWORD, Portal  # noqa: E402

NS = "remote-code-system"
SA_USER = "system:serviceaccount:%s:remote-code" % NS
OVERLAY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifests-e2e")
EXAMPLES = os.path.join(ROOT, "examples")
PASSWORD = "a-long-enough-password-1"
WORKSPACE_CHILDREN = ("deployment", "service", "ingress", "networkpolicy")


class OperatorOnRealCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()
        cls.portal = None
        try:
            cls.install()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def install(cls):
        c = cls.cluster
        c.kubectl("apply", "-k", OVERLAY)
        for crd in ("templates", "workspaces", "trainingjobs"):
            c.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                      "crd/%s.remotecode.dev" % crd)
        c.kubectl("create", "secret", "generic", "remote-code-admin", "-n", NS,
                  "--from-literal=password=" + ADMIN_PASSWORD, check=False)
        objects = list(yaml.safe_load_all(c.kubectl("kustomize", OVERLAY).stdout))
        (dep,) = [o for o in objects if o and o["kind"] == "Deployment"]
        cls.sa = c.as_service_account(NS, "remote-code")
        flags = deployment_flags(dep, NS, cls.sa.dir)
        cls.portal = Portal(cls.sa, *flags, "--metrics-poll-seconds", "2", apply=False)
        cls.portal.wait_synced()

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.portal:
                cls.portal.stop()
        finally:
            cls.cluster.stop()

    # -- helpers ------------------------------------------------------------------------------

    def kubectl(self, *args, **kw):
        return self.cluster.kubectl(*args, **kw)

    def namespace(self, name, restricted=True):
        """A user namespace that enforces the restricted Pod Security Standard."""
        if self.kubectl("get", "namespace", name, check=False).returncode != 0:
            self.kubectl("create", "namespace", name)
        if restricted:
            self.kubectl("label", "--overwrite", "namespace", name,
                         "pod-security.kubernetes.io/enforce=restricted",
                         "pod-security.kubernetes.io/warn=restricted")
        return name

    def apply(self, ns, text_or_path):
        args = ["apply", "-n", ns, "-f"]
        if os.path.exists(text_or_path):
            return self.kubectl(*args, text_or_path)
        return self.kubectl(*args, "-", input=text_or_path)

    def get(self, kind, name, ns=None):
        args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
        p = self.kubectl(*args, check=False)
        return json.loads(p.stdout) if p.returncode == 0 else None

    def wait_phase(self, kind, name, ns, phase, timeout=120):
        return self.portal.op.wait_phase("%s %s/%s" % (kind, ns, name),
                                         lambda: self.get(kind, name, ns), phase, timeout)

    def failed_creates(self, ns):
        """Events of pods the apiserver refused (Pod Security, quota, ...) in `ns`."""
        events = json.loads(self.kubectl("get", "events", "-n", ns, "-o", "json").stdout)["items"]
        return ["%s %s: %s" % (e["involvedObject"]["kind"], e["involvedObject"]["name"],
                               e["message"]) for e in events if e["reason"] == "FailedCreate"]

    # -- the examples -------------------------------------------------------------------------

    def test_examples_converge_with_every_pod_admitted_as_restricted(self):
        ns = self.namespace("examples")
        self.cluster.pod_logs(ns, ["epoch 1", "remotecode.metric loss=0.5 step=1",
                           "remotecode.metric loss=0.25 accuracy=0.9 step=2"])
        for f in ("template-image.yaml", "template-build.yaml"):
            self.kubectl("apply", "-f", os.path.join(EXAMPLES, f))
        self.wait_phase("template", "pytorch-image", None, "Ready")
        self.wait_phase("template", "jupyter-build", None, "Ready", timeout=180)
        for f in ("workspace.yaml", "trainingjob.yaml", "trainingjob-sweep.yaml",
                  "trainingjob-multiworker.yaml"):
            self.apply(ns, os.path.join(EXAMPLES, f))

        ws = self.wait_phase("workspace", "alice-pytorch", ns, "Running")
        for kind in WORKSPACE_CHILDREN:
            child = self.get(kind, "alice-pytorch", ns)
            self.assertIsNotNone(child, "workspace child %s missing" % kind)
            self.assertEqual(child["metadata"]["ownerReferences"][0]["name"], "alice-pytorch")
        pvc = self.get("pvc", "alice-pytorch-home", ns)
        self.assertEqual(pvc["status"]["phase"], "Bound")
        self.assertTrue(ws["status"].get("url"))

        mnist = self.wait_phase("trainingjob", "mnist", ns, "Succeeded", timeout=180)
        self.assertEqual(mnist["status"]["runs"][0]["metrics"]["loss"], 0.25)
        sweep = self.wait_phase("trainingjob", "sweep-lr", ns, "Succeeded", timeout=240)
        self.assertEqual(len(sweep["status"]["runs"]), 6)
        ddp = self.wait_phase("trainingjob", "ddp-resnet", ns, "Succeeded", timeout=240)
        job = self.get("job", "ddp-resnet-0", ns)
        self.assertEqual(job["spec"]["completionMode"], "Indexed")
        self.assertEqual(job["status"]["succeeded"], 2)
        svc = self.get("service", "ddp-resnet-0", ns)
        self.assertEqual(svc["spec"]["clusterIP"], "None")
        self.assertEqual(ddp["status"]["runs"][0]["phase"], "Succeeded")
        self.assertEqual(self.failed_creates(ns), [])
        self.assertEqual(self.failed_creates(NS), [])

    # -- queue, scheduling, stop and delete ---------------------------------------------------

    def test_runs_queue_against_a_gpu_resource_quota(self):
        ns = self.namespace("quota")
        self.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "gpus"},
            "spec": {"hard": {"requests.nvidia.com/gpu": "1"}}}))
        for name in ("first", "second"):
            self.apply(ns, json.dumps({
                "apiVersion": "remotecode.dev/v1alpha1", "kind": "TrainingJob",
                "metadata": {"name": name},
                "spec": {"image": "registry.example/train:1", "command": ["python", "train.py"],
                         "env": [{"name": "E2E_RUN_SECONDS", "value": "6s"}],
                         "resources": {"gpus": 1, "cpu": "1", "memory": "1Gi"}}}))
            if name == "first":
                self.wait_phase("trainingjob", "first", ns, "Running")
        second = self.wait_phase("trainingjob", "second", ns, "Queued", timeout=30)
        self.assertEqual(condition(second, "Admitted")["reason"], "Queued")
        first = self.wait_phase("trainingjob", "first", ns, "Succeeded")
        second = self.wait_phase("trainingjob", "second", ns, "Succeeded")
        self.assertLessEqual(first["status"]["completionTime"], second["status"]["startTime"])
        self.assertEqual(self.failed_creates(ns), [])

    def test_a_failing_run_fails_the_job(self):
        ns = self.namespace("failing")
        self.apply(ns, json.dumps({
            "apiVersion": "remotecode.dev/v1alpha1", "kind": "TrainingJob",
            "metadata": {"name": "broken"},
            "spec": {"image": "registry.example/train:1", "command": ["python", "train.py"],
                     "env": [{"name": "E2E_EXIT_CODE", "value": "3"},
                             {"name": "E2E_RUN_SECONDS", "value": "1s"}],
                     "resources": {"gpus": 0, "cpu": "100m", "memory": "128Mi"}}}))
        t = self.wait_phase("trainingjob", "broken", ns, "Failed")
        self.assertEqual(t["status"]["runs"][0]["phase"], "Failed")
        self.assertEqual(t["status"]["runsFailed"], 1)

    def test_a_workspace_no_node_fits_shows_the_schedulers_message(self):
        ns = self.namespace("toobig")
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump({
            "apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
            "metadata": {"name": "e2e-wide"},
            "spec": {"image": "registry.example/ide:1", "ide": "vscode",
                     "resources": {"default": {"gpus": 1, "cpu": "1", "memory": "1Gi",
                                               "homeSize": "1Gi"},
                                   "maximum": {"gpus": 16, "cpu": "8", "memory": "16Gi",
                                               "homeSize": "10Gi"}}}}))
        self.wait_phase("template", "e2e-wide", None, "Ready")
        self.apply(ns, yaml.safe_dump({
            "apiVersion": "remotecode.dev/v1alpha1", "kind": "Workspace",
            "metadata": {"name": "big"},
            "spec": {"template": "e2e-wide", "owner": "bob", "resources": {"gpus": 9}}}))

        def unschedulable():
            w = self.get("workspace", "big", ns)
            c = condition(w, "Ready") if w else None
            return w if c and c.get("reason") == "Unschedulable" else None
        w = self.cluster.wait_for(unschedulable, timeout=90, what="Ready reason Unschedulable")
        message = condition(w, "Ready")["message"]
        # The real scheduler's words, e.g. "0/4 nodes are available: 3 Insufficient
        # nvidia.com/gpu, 1 node(s) had untolerated taint ..."
        self.assertRegex(message, r"0/\d+ nodes are available")
        self.assertIn("Insufficient nvidia.com/gpu", message)

    def test_stop_keeps_the_home_and_delete_lets_the_garbage_collector_remove_children(self):
        ns = self.namespace("lifecycle")
        self.kubectl("apply", "-f", os.path.join(EXAMPLES, "template-image.yaml"))
        self.apply(ns, yaml.safe_dump({
            "apiVersion": "remotecode.dev/v1alpha1", "kind": "Workspace",
            "metadata": {"name": "ws"},
            "spec": {"template": "pytorch-image", "owner": "carol",
                     "resources": {"gpus": 1}, "homeRetention": "Retain"}}))
        self.wait_phase("workspace", "ws", ns, "Running")
        home_uid = self.get("pvc", "ws-home", ns)["metadata"]["uid"]

        self.kubectl("patch", "workspace", "ws", "-n", ns, "--type", "merge",
                     "-p", '{"spec":{"running":false}}')
        self.wait_phase("workspace", "ws", ns, "Stopped")
        self.cluster.wait_for(lambda: not self.kubectl(
            "get", "pods", "-n", ns, "-l", "remotecode.dev/workspace=ws", "-o", "name").stdout,
            timeout=60, what="the workspace's pod to go")
        self.assertEqual(self.get("pvc", "ws-home", ns)["metadata"]["uid"], home_uid)

        self.kubectl("patch", "workspace", "ws", "-n", ns, "--type", "merge",
                     "-p", '{"spec":{"running":true}}')
        self.wait_phase("workspace", "ws", ns, "Running")
        self.assertEqual(self.get("pvc", "ws-home", ns)["metadata"]["uid"], home_uid)

        self.kubectl("delete", "workspace", "ws", "-n", ns, "--wait=true", "--timeout=60s")
        # Owner references, not the operator, remove the children: the real garbage collector.
        self.cluster.wait_for(lambda: all(self.get(k, "ws", ns) is None
                                          for k in WORKSPACE_CHILDREN),
                              timeout=90, what="the garbage collector to remove the children")
        self.assertEqual(self.get("pvc", "ws-home", ns)["metadata"]["uid"], home_uid,
                         "homeRetention Retain keeps the home")

    # -- a converged operator is quiet --------------------------------------------------------

    def test_zz_after_convergence_a_minute_without_writes(self):
        """Runs last (zz): everything the other tests made has converged by now."""
        ns = self.namespace("quiet")
        self.kubectl("apply", "-f", os.path.join(EXAMPLES, "template-image.yaml"))
        self.apply(ns, os.path.join(EXAMPLES, "workspace.yaml"))
        self.apply(ns, yaml.safe_dump({
            "apiVersion": "remotecode.dev/v1alpha1", "kind": "TrainingJob",
            "metadata": {"name": "done"},
            "spec": {"image": "registry.example/train:1", "command": ["python", "train.py"],
                     "env": [{"name": "E2E_RUN_SECONDS", "value": "1s"}],
                     "resources": {"gpus": 1, "cpu": "1", "memory": "1Gi"}}}))
        self.wait_phase("workspace", "alice-pytorch", ns, "Running")
        self.wait_phase("trainingjob", "done", ns, "Succeeded")
        time.sleep(10)  # the last status writes and Events of convergence
        start = time.time()
        time.sleep(60)
        minute = self.cluster.audit_writes(since=start, user=SA_USER)
        writes = [w for w in minute if w["resource"] != "leases"]
        print("\nwrites by the operator in the quiet minute: %d (and %d Lease renewals)" % (
            len(writes), len(minute) - len(writes)))
        self.assertEqual(writes, [], "the operator wrote in a minute in which nothing changed")

    def test_zz_no_request_of_the_operator_was_forbidden(self):
        """With exactly the RBAC of manifests/, nothing the operator asked for was refused."""
        refused = [w for w in self.cluster.audit_writes(user=SA_USER) if w["code"] == 403]
        self.assertEqual(refused, [], "writes the apiserver refused the operator")
        forbidden = [line for line in self.portal.logs().splitlines()
                     if " 403 " in line or "forbidden" in line.lower()]
        self.assertEqual(forbidden, [], "requests of the operator that RBAC refused")

    # -- the portal ---------------------------------------------------------------------------

    def test_portal_users_quota_share_link_workspace_job_and_isolation(self):
        admin = self.portal.login(ADMIN, ADMIN_PASSWORD)
        for user in ("erin", "frank"):
            r = admin.post("/api/v1/users", {"username": user, "password": PASSWORD,
                                             "role": "user"})
            self.assertIn(r.status, (201, 409), r)
        erin = self.portal.login("erin", PASSWORD)
        frank = self.portal.login("frank", PASSWORD)
        ns = "rc-erin"
        self.cluster.wait_for(lambda: self.get("resourcequota", "remote-code", ns),
                              timeout=30, what="erin's namespace with its quota")
        labels = self.get("namespace", ns)["metadata"]["labels"]
        self.assertEqual(labels.get("pod-security.kubernetes.io/enforce"), "restricted")
        self.cluster.pod_logs(ns, ["step one", "remotecode.metric loss=0.75 step=1",
                           "remotecode.metric loss=0.5 step=2"])

        with open(os.path.join(EXAMPLES, "template-image.yaml")) as f:
            tpl = yaml.safe_load(f)
        r = admin.post("/api/v1/templates", {"name": "portal-shared", "spec": tpl["spec"]})
        self.assertIn(r.status, (201, 409), r)
        self.wait_phase("template", "portal-shared", None, "Ready")
        share = admin.get("/api/v1/templates/portal-shared").json["share"]
        token = share["url"].rsplit("/", 1)[1]
        r = frank.post("/api/v1/shared/%s/workspaces" % token, {})
        self.assertEqual(r.status, 201, r)
        frank_ws = r.json["name"]
        self.wait_phase("workspace", frank_ws, "rc-frank", "Running")

        r = erin.post("/api/v1/workspaces", {"name": "notebook",
                                             "spec": {"template": "portal-shared",
                                                      "resources": {"gpus": 1}}})
        self.assertEqual(r.status, 201, r)
        self.wait_phase("workspace", "notebook", ns, "Running")
        # A user who is not an admin runs the image of a template she may use.
        r = erin.post("/api/v1/jobs", {"name": "train",
                                       "spec": {"template": "portal-shared",
                                                "command": ["python", "train.py"],
                                                "env": [{"name": "E2E_RUN_SECONDS",
                                                         "value": "3s"}],
                                                "resources": {"gpus": 1}}})
        self.assertEqual(r.status, 201, r)
        t = self.wait_phase("trainingjob", "train", ns, "Succeeded")
        self.assertEqual(t["status"]["runs"][0]["metrics"]["loss"], 0.5)
        logs = erin.get("/api/v1/jobs/train/logs")
        self.assertEqual(logs.status, 200, logs)
        self.assertIn("step one", logs.text)

        # Frank sees none of it, and cannot reach it by naming erin's namespace.
        self.assertEqual(frank.get("/api/v1/workspaces/notebook").status, 404)
        self.assertEqual(frank.get("/api/v1/jobs/train").status, 404)
        self.assertEqual(frank.get("/api/v1/jobs/train?namespace=" + ns).status, 404)
        listed = frank.get("/api/v1/workspaces")
        self.assertEqual(listed.status, 200, listed)
        self.assertNotIn("notebook", listed.text)
        self.assertEqual(self.failed_creates(ns), [])


if __name__ == "__main__":
    unittest.main()
