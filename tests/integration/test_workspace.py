"""The Workspace controller end to end: `remote-code operator` against `remote-code sim`.

A Template with an image and a Workspace become a running IDE with a URL and five owned
children; a template image change rolls out; stop/start keep the home; a workspace larger than
any node says why it cannot be scheduled; the idle timeout stops a forgotten workspace; deleting
removes the children (the home only with homeRetention Delete); repository values that could be
read as git options never reach a Deployment; a bad Workspace never blocks a good one.

Each test works in its own namespace and with its own Templates (they are cluster-scoped).

Run with Debian's python:
    RC_BIN=build-asan/bin/remote-code /usr/bin/python3 -m unittest -v tests/integration/test_workspace.py
"""
import datetime
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import Sim, condition  # noqa: E402
from operatorharness import Operator  # noqa: E402

API = "/apis/remotecode.dev/v1alpha1"
CHILDREN = {  # kind -> collection path under a namespace, and the child's name suffix
    "Deployment": ("/apis/apps/v1/namespaces/%s/deployments/", ""),
    "Service": ("/api/v1/namespaces/%s/services/", ""),
    "Ingress": ("/apis/networking.k8s.io/v1/namespaces/%s/ingresses/", ""),
    "NetworkPolicy": ("/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/", ""),
    "PersistentVolumeClaim": ("/api/v1/namespaces/%s/persistentvolumeclaims/", "-home"),
}


def template_yaml(name, image="registry.example/ide:1", max_gpus=4, repository=None, ide="vscode"):
    repo = ""
    if repository:
        repo = "  repository:\n    url: %s\n" % json.dumps(repository[0])
        if repository[1] is not None:
            repo += "    ref: %s\n" % json.dumps(repository[1])
    return """apiVersion: remotecode.dev/v1alpha1
kind: Template
metadata:
  name: %s
spec:
  image: %s
  ide: %s
%s  resources:
    default: {gpus: 1, cpu: "1", memory: 1Gi, homeSize: 1Gi}
    maximum: {gpus: %d, cpu: "8", memory: 16Gi, homeSize: 20Gi}
""" % (name, image, ide, repo, max_gpus)


def workspace_yaml(ns, name, template, extra=""):
    return """apiVersion: remotecode.dev/v1alpha1
kind: Workspace
metadata:
  name: %s
  namespace: %s
spec:
  template: %s
%s""" % (name, ns, template, extra)


class WorkspaceCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = Sim()
        cls.op = Operator(cls.sim)
        # The idle timeout counts whole minutes from the start: begin that clock now, so the
        # test that checks it does not have to wait the full minute on its own.
        cls.start_idle_workspace()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.op.stop()
        finally:
            cls.sim.stop()

    # -- helpers --------------------------------------------------------------------------------

    @classmethod
    def apply(cls, text):
        cls.sim.kubectl("apply", "-f", "-", input=text)

    @classmethod
    def namespace(cls, ns):
        cls.sim.kubectl("create", "namespace", ns)
        return ns

    def get(self, path):
        status, _, body = self.sim.request("GET", path)
        return body if status == 200 else None

    def ws(self, ns, name):
        return self.get("%s/namespaces/%s/workspaces/%s" % (API, ns, name))

    def child(self, kind, ns, name):
        path, suffix = CHILDREN[kind]
        return self.get(path % ns + name + suffix)

    def wait_phase(self, ns, name, phase, timeout=30):
        return self.op.wait_phase("workspace %s/%s" % (ns, name), lambda: self.ws(ns, name),
                                  phase, timeout)

    def patch_ws(self, ns, name, patch):
        self.sim.kubectl("patch", "-n", ns, "workspace", name, "--type", "merge", "-p",
                         json.dumps(patch))

    def events(self, ns, name, reason=None):
        body = self.get("/api/v1/namespaces/%s/events" % ns) or {"items": []}
        return [e for e in body["items"] if e["involvedObject"].get("name") == name
                and (reason is None or e["reason"] == reason)]

    def deployment_image(self, ns, name):
        d = self.child("Deployment", ns, name)
        return d["spec"]["template"]["spec"]["containers"][0]["image"] if d else None

    # -- tests ----------------------------------------------------------------------------------

    def test_create_runs_with_url_and_owned_children(self):
        ns = self.namespace("ws-create")
        self.apply(template_yaml("tpl-create"))
        self.apply(workspace_yaml(ns, "dev", "tpl-create"))
        w = self.wait_phase(ns, "dev", "Running")
        st = w["status"]
        self.assertEqual(st["url"], "/w/ws-create/dev/")
        self.assertEqual(st["image"], "registry.example/ide:1")
        self.assertEqual(st["gpus"], 1)
        self.assertIn("runningSince", st)
        self.assertEqual(condition(w, "Ready")["status"], "True")
        self.assertEqual(condition(w, "Valid")["status"], "True")
        uid = w["metadata"]["uid"]
        for kind in CHILDREN:
            obj = self.child(kind, ns, "dev")
            self.assertIsNotNone(obj, kind)
            owners = obj["metadata"].get("ownerReferences") or []
            self.assertEqual([(o["kind"], o["uid"], o.get("controller")) for o in owners],
                             [("Workspace", uid, True)], kind)
        ingress = self.child("Ingress", ns, "dev")
        self.assertIn("nginx.ingress.kubernetes.io/auth-url", ingress["metadata"]["annotations"])
        pod_spec = self.child("Deployment", ns, "dev")["spec"]["template"]["spec"]
        self.assertFalse(pod_spec["automountServiceAccountToken"])
        self.assertEqual(pod_spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"], "1")
        self.assertEqual(len(self.events(ns, "dev", "Created")), 1)
        self.assertEqual(len(self.events(ns, "dev", "Started")), 1)

        # kubectl get ws shows the printer columns.
        out = self.sim.kubectl("get", "ws", "-n", ns).stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "PHASE", "GPUS", "URL", "AGE"])
        self.assertEqual(out[1].split()[:4], ["dev", "Running", "1", "/w/ws-create/dev/"])
        # ... and the category and short name reach it too.
        self.assertIn("workspace.remotecode.dev/dev",
                      self.sim.kubectl("get", "remotecode", "-n", ns, "-o", "name").stdout)

    def test_template_image_change_rolls_out(self):
        ns = self.namespace("ws-rollout")
        self.apply(template_yaml("tpl-rollout", image="registry.example/ide:1"))
        self.apply(workspace_yaml(ns, "dev", "tpl-rollout"))
        self.wait_phase(ns, "dev", "Running")
        self.apply(template_yaml("tpl-rollout", image="registry.example/ide:2"))
        self.sim.wait_for(lambda: self.deployment_image(ns, "dev") == "registry.example/ide:2",
                          what="the Deployment's new image")
        self.sim.wait_for(lambda: (self.ws(ns, "dev")["status"].get("image")
                                   == "registry.example/ide:2"), what="status.image")
        self.wait_phase(ns, "dev", "Running")

    def test_stop_and_start_keep_the_home(self):
        ns = self.namespace("ws-stop")
        self.apply(template_yaml("tpl-stop"))
        self.apply(workspace_yaml(ns, "dev", "tpl-stop"))
        self.wait_phase(ns, "dev", "Running")
        pvc_uid = self.child("PersistentVolumeClaim", ns, "dev")["metadata"]["uid"]

        self.patch_ws(ns, "dev", {"spec": {"running": False}})
        w = self.wait_phase(ns, "dev", "Stopped")
        self.assertEqual(self.child("Deployment", ns, "dev")["spec"]["replicas"], 0)
        self.assertEqual(condition(w, "Ready")["reason"], "Stopped")
        # The interval closes once the pod is gone: gpuSeconds counted, runningSince cleared.
        self.sim.wait_for(lambda: "runningSince" not in self.ws(ns, "dev")["status"],
                          what="runningSince cleared")
        self.assertGreaterEqual(self.ws(ns, "dev")["status"]["gpuSeconds"], 0)
        self.sim.wait_for(lambda: self.events(ns, "dev", "Stopped"), what="event ns, 'dev', 'Stopped'")

        self.patch_ws(ns, "dev", {"spec": {"running": True}})
        self.wait_phase(ns, "dev", "Running")
        self.assertEqual(self.child("Deployment", ns, "dev")["spec"]["replicas"], 1)
        self.assertEqual(self.child("PersistentVolumeClaim", ns, "dev")["metadata"]["uid"], pvc_uid)

    def test_too_many_gpus_say_why_they_cannot_be_scheduled(self):
        ns = self.namespace("ws-big")
        self.apply(template_yaml("tpl-big", max_gpus=16))
        self.apply(workspace_yaml(ns, "big", "tpl-big", "  resources: {gpus: 9}\n"))

        def unschedulable():
            w = self.ws(ns, "big")
            c = condition(w, "Ready") if w else None
            return w if c and c["reason"] == "Unschedulable" else None
        w = self.sim.wait_for(unschedulable, what="Ready reason Unschedulable")
        self.assertEqual(w["status"]["phase"], "Starting")
        self.assertEqual(w["status"]["gpus"], 9)
        self.assertIn("0/3 nodes are available", condition(w, "Ready")["message"])
        self.assertIn("nvidia.com/gpu", condition(w, "Ready")["message"])
        warnings = self.events(ns, "big", "Unschedulable")
        self.assertTrue(warnings)
        self.assertEqual({e["type"] for e in warnings}, {"Warning"})
        # Once per message: a repeat of the same message is not another Event.
        self.assertEqual(len({e["message"] for e in warnings}), len(warnings))

    @classmethod
    def start_idle_workspace(cls):
        cls.namespace("ws-idle")
        cls.apply(template_yaml("tpl-idle"))
        long_ago = (datetime.datetime.now(datetime.timezone.utc)
                    - datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        cls.apply("""apiVersion: remotecode.dev/v1alpha1
kind: Workspace
metadata:
  name: forgotten
  namespace: ws-idle
  annotations:
    remotecode.dev/last-activity: "%s"
spec:
  template: tpl-idle
  idleTimeoutMinutes: 1
""" % long_ago)

    def test_idle_timeout_stops_a_forgotten_workspace(self):
        ns = "ws-idle"
        # A minute after its pod started (the later of start and last request), it is stopped.
        self.sim.wait_for(lambda: self.ws(ns, "forgotten")["spec"]["running"] is False,
                          timeout=120, interval=0.5, what="spec.running set to false")
        w = self.wait_phase(ns, "forgotten", "Stopped")
        self.assertEqual(condition(w, "Ready")["reason"], "IdleTimeout")
        culled = self.events(ns, "forgotten", "Culled")
        self.assertEqual(len(culled), 1)
        self.assertIn("without a request", culled[0]["message"])
        # Its old last request did not stop it before it ran: the clock started with the pod.
        self.sim.wait_for(lambda: self.events(ns, "forgotten", "Started"), what="event ns, 'forgotten', 'Started'")
        self.assertNotIn("Stopped after 0 minutes", culled[0]["message"])
        self.assertEqual(self.child("Deployment", ns, "forgotten")["spec"]["replicas"], 0)

    def test_delete_removes_children_and_the_home_unless_retained(self):
        ns = self.namespace("ws-delete")
        self.apply(template_yaml("tpl-delete"))
        self.apply(workspace_yaml(ns, "gone", "tpl-delete"))
        self.apply(workspace_yaml(ns, "kept", "tpl-delete", "  homeRetention: Retain\n"))
        self.wait_phase(ns, "gone", "Running")
        self.wait_phase(ns, "kept", "Running")
        self.assertNotIn("ownerReferences",
                         self.child("PersistentVolumeClaim", ns, "kept")["metadata"])

        self.sim.kubectl("delete", "-n", ns, "workspace", "gone", "kept", "--wait=false")
        for name in ("gone", "kept"):
            for kind in CHILDREN:
                if kind == "PersistentVolumeClaim" and name == "kept":
                    continue
                self.sim.wait_for(lambda: self.child(kind, ns, name) is None,
                                  what="%s %s deleted" % (kind, name))
        self.assertIsNotNone(self.child("PersistentVolumeClaim", ns, "kept"))

        # A new Workspace of the same name picks the retained home up again.
        pvc_uid = self.child("PersistentVolumeClaim", ns, "kept")["metadata"]["uid"]
        self.apply(workspace_yaml(ns, "kept", "tpl-delete", "  homeRetention: Retain\n"))
        self.wait_phase(ns, "kept", "Running")
        self.assertEqual(self.child("PersistentVolumeClaim", ns, "kept")["metadata"]["uid"], pvc_uid)

    def test_git_option_injection_never_reaches_a_deployment(self):
        ns = self.namespace("ws-inject")
        for tpl, repo in (("tpl-inject-url", ("--upload-pack=touch /tmp/x", None)),
                          ("tpl-inject-ref", ("https://github.com/example/repo.git", "-x"))):
            p = self.sim.kubectl("apply", "-f", "-", input=template_yaml(tpl, repository=repo),
                                 check=False)
            if p.returncode != 0:
                # Refused by the CRD schema: just as good, and nothing else to check.
                continue

            def invalid():
                t = self.get("%s/templates/%s" % (API, tpl))
                c = condition(t, "Valid") if t else None
                return t if c and c["status"] == "False" else None
            self.sim.wait_for(invalid, what="template %s Valid False" % tpl)
            ws = tpl.replace("tpl-", "ws-")
            self.apply(workspace_yaml(ns, ws, tpl))
            w = self.wait_phase(ns, ws, "Failed")
            self.assertEqual(condition(w, "Ready")["reason"], "TemplateInvalid")
            self.assertIsNone(self.child("Deployment", ns, ws))
        body = self.get("/apis/apps/v1/namespaces/%s/deployments" % ns)
        self.assertEqual(body["items"], [])
        for d in (self.get("/apis/apps/v1/deployments") or {"items": []})["items"]:
            self.assertNotIn("--upload-pack", json.dumps(d))

    def test_a_bad_workspace_never_blocks_a_good_one(self):
        ns = self.namespace("ws-mixed")
        self.apply(template_yaml("tpl-mixed", max_gpus=2))
        self.apply(workspace_yaml(ns, "too-big", "tpl-mixed", "  resources: {gpus: 4}\n"))
        self.apply(workspace_yaml(ns, "batch", "tpl-missing"))
        self.apply(workspace_yaml(ns, "good", "tpl-mixed"))
        self.wait_phase(ns, "good", "Running")

        w = self.wait_phase(ns, "too-big", "Failed")
        valid = condition(w, "Valid")
        self.assertEqual((valid["status"], valid["reason"]), ("False", "ExceedsTemplateMaximum"))
        self.assertIn("spec.resources.gpus: 4 is more than the template's maximum of 2",
                      valid["message"])
        self.assertIsNone(self.child("Deployment", ns, "too-big"))
        self.assertEqual(len(self.events(ns, "too-big", "InvalidSpec")), 1)

        # A missing template is waited for, then used as soon as it exists.
        w = self.wait_phase(ns, "batch", "Pending")
        self.assertEqual(condition(w, "Ready")["reason"], "TemplateNotFound")
        self.assertIn('Template "tpl-missing" does not exist', condition(w, "Ready")["message"])
        self.apply(template_yaml("tpl-missing"))
        self.wait_phase(ns, "batch", "Running")

    def test_datasets_claim_is_mounted_read_only_when_it_exists(self):
        ns = self.namespace("ws-data")
        self.apply(template_yaml("tpl-data"))
        self.apply(workspace_yaml(ns, "dev", "tpl-data"))
        self.wait_phase(ns, "dev", "Running")
        self.assertEqual(len(self.child("Deployment", ns, "dev")["spec"]["template"]["spec"]
                             ["volumes"]), 1)
        self.apply("""apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: remote-code-datasets, namespace: %s}
spec:
  accessModes: [ReadOnlyMany]
  resources: {requests: {storage: 1Gi}}
""" % ns)

        def mounted():
            d = self.child("Deployment", ns, "dev")
            mounts = d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
            return [m for m in mounts if m["mountPath"] == "/data"]
        m = self.sim.wait_for(mounted, what="the /data mount")
        self.assertTrue(m[0]["readOnly"])

    def test_example_is_accepted(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
        self.sim.kubectl("apply", "--dry-run=server", "-f", os.path.join(root, "workspace.yaml"))


class SteadyStateCase(unittest.TestCase):
    """Level-triggered and quiet: once a workspace runs, reconciles (pod and status events keep
    coming) write nothing. Its own operator, so no other test's writes are counted."""

    def test_a_running_workspace_causes_no_writes(self):
        sim = Sim()
        try:
            op = Operator(sim)
            try:
                sim.kubectl("create", "namespace", "quiet")
                sim.kubectl("apply", "-f", "-", input=template_yaml("tpl-quiet"))
                sim.kubectl("apply", "-f", "-", input=workspace_yaml("quiet", "dev", "tpl-quiet"))
                path = "%s/namespaces/quiet/workspaces/dev" % API
                sim.wait_for(lambda: (sim.request("GET", path)[2].get("status") or {})
                             .get("phase") == "Running", what="Running")
                time.sleep(2)  # the last status write and its watch events settle
                sim.request("DELETE", "/sim/requests")
                # A reconcile per child and pod, as a resync would cause.
                sim.kubectl("annotate", "-n", "quiet", "workspace", "dev", "touched=1")
                time.sleep(3)
                _, _, counts = sim.request("GET", "/sim/requests")
                writes = {k: v for k, v in counts.items()
                          if k.split()[0] in ("create", "update", "patch", "delete")
                          and k.split()[-1] == "remote-code"}
                self.assertEqual(writes, {}, op.logs()[-3000:])
            finally:
                op.stop()
        finally:
            sim.stop()


if __name__ == "__main__":
    unittest.main()
