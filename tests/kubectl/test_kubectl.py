"""The real kubectl (v1.32) against `remote-code sim`: what a user types, what a user sees."""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from target import REAL, api_server  # noqa: E402

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.dev
spec:
  group: example.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd], categories: [things]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Phase, type: string, jsonPath: .status.phase}
    - {name: Color, type: string, jsonPath: .spec.color, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        description: A widget made for tests.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10, description: How big it is.}
              color: {type: string, enum: [red, blue], default: red, description: Its color.}
          status:
            type: object
            properties:
              phase: {type: string}
              conditions:
                type: array
                items:
                  type: object
                  properties:
                    type: {type: string}
                    status: {type: string}
"""

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {app: demo}}
data: {key: one}
"""

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
      containers:
      - {name: app, image: nginx:1.27, env: [{name: A, value: "1"}]}
"""


class KubectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = api_server("--bookmark-interval-seconds", "1")
        cls.sim.kubectl("apply", "-f", "-", input=CRD)
        cls.sim.kubectl("wait", "--for=condition=Established", "crd/widgets.example.dev", "--timeout=20s")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def k(self, *args, **kw):
        return self.sim.kubectl(*args, **kw)

    def test_api_resources_lists_builtins_and_crd(self):
        out = self.k("api-resources").stdout
        for line in ["pods", "deployments", "jobs", "leases", "customresourcedefinitions", "widgets"]:
            self.assertIn(line, out)
        wide = self.k("api-resources", "--api-group=example.dev", "-o", "wide").stdout
        self.assertRegex(wide, r"widgets\s+wd\s+example.dev/v1\s+true\s+Widget\s+.*things")

    def test_create_get_json_and_wide_printer_columns(self):
        self.k("create", "-f", "-", input="""
apiVersion: example.dev/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3, color: blue}
""")
        obj = self.sim.kubectl_json("get", "widget", "w1")
        self.assertEqual(obj["spec"], {"size": 3, "color": "blue"})
        self.assertEqual(obj["metadata"]["generation"], 1)
        self.assertTrue(obj["metadata"]["uid"])
        out = self.k("get", "wd", "w1").stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "SIZE", "PHASE", "AGE"])
        self.assertEqual(out[1].split()[:2], ["w1", "3"])
        # A date column reads as an age, as on a real cluster ("4s"), not as a timestamp.
        self.assertRegex(out[1].split()[-1], r"^\d+s$")
        wide = self.k("get", "wd", "w1", "-o", "wide").stdout.splitlines()
        self.assertEqual(wide[0].split(), ["NAME", "SIZE", "PHASE", "COLOR", "AGE"])
        self.assertIn("blue", wide[1])
        # kubectl get by category
        self.assertIn("widget.example.dev/w1", self.k("get", "things", "-o", "name").stdout)

    def test_schema_validation_and_defaults(self):
        bad = self.k("create", "-f", "-", check=False, input="""
apiVersion: example.dev/v1
kind: Widget
metadata: {name: too-big}
spec: {size: 11}
""")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn('The Widget "too-big" is invalid', bad.stderr)
        self.assertIn("spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10", bad.stderr)
        unknown = self.k("create", "-f", "-", check=False, input="""
apiVersion: example.dev/v1
kind: Widget
metadata: {name: typo}
spec: {size: 2, colour: red}
""")
        self.assertNotEqual(unknown.returncode, 0)
        self.assertIn('unknown field "spec.colour"', unknown.stderr)
        self.k("create", "-f", "-", input="""
apiVersion: example.dev/v1
kind: Widget
metadata: {name: defaulted}
spec: {size: 2}
""")
        self.assertEqual(self.sim.kubectl_json("get", "wd", "defaulted")["spec"]["color"], "red")

    def test_apply_then_server_side_apply_conflict(self):
        self.k("apply", "-f", "-", input=CONFIGMAP)
        cm = self.sim.kubectl_json("get", "cm", "settings")
        self.assertEqual(cm["data"], {"key": "one"})
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration", cm["metadata"]["annotations"])
        # apply again with a change: a patch, not a re-create
        uid = cm["metadata"]["uid"]
        self.k("apply", "-f", "-", input=CONFIGMAP.replace("key: one", "key: two"))
        cm2 = self.sim.kubectl_json("get", "cm", "settings")
        self.assertEqual((cm2["metadata"]["uid"], cm2["data"]["key"]), (uid, "two"))

        ssa = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {owner: alice}\n"
        self.k("apply", "--server-side", "--field-manager=alice", "-f", "-", input=ssa)
        conflict = self.k("apply", "--server-side", "--field-manager=bob", "-f", "-",
                          input=ssa.replace("alice}", "bob}"), check=False)
        self.assertNotEqual(conflict.returncode, 0)
        self.assertIn('conflict with "alice"', conflict.stderr)
        self.assertIn(".data.owner", conflict.stderr)
        self.k("apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", "-",
               input=ssa.replace("alice}", "bob}"))
        cm = self.sim.kubectl_json("get", "cm", "shared", "--show-managed-fields")
        self.assertEqual(cm["data"]["owner"], "bob")
        managers = {m["manager"] for m in cm["metadata"]["managedFields"]}
        self.assertIn("bob", managers)

    def test_patch_types_and_label(self):
        self.k("apply", "-f", "-", input=DEPLOYMENT)
        self.k("patch", "deployment", "web", "--type", "merge", "-p", '{"spec":{"replicas":3}}')
        self.k("patch", "deployment", "web", "--type", "json",
               "-p", '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:1.28"}]')
        self.k("patch", "deployment", "web", "--type", "strategic",
               "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"2"}]}]}}}}')
        d = self.sim.kubectl_json("get", "deploy", "web")
        c = d["spec"]["template"]["spec"]["containers"]
        self.assertEqual(len(c), 1)
        self.assertEqual(d["spec"]["replicas"], 3)
        self.assertEqual(c[0]["image"], "nginx:1.28")
        self.assertEqual({e["name"] for e in c[0]["env"]}, {"A", "B"})
        self.assertEqual(d["metadata"]["generation"], 4)
        self.k("label", "deployment", "web", "tier=frontend")
        self.assertIn("web", self.k("get", "deploy", "-l", "tier=frontend", "-o", "name").stdout)
        self.assertEqual(self.k("get", "deploy", "-l", "tier!=frontend", "-o", "name").stdout.strip(), "")
        # Available comes before the last patch's rollout is done; rollout status waits for it.
        self.k("wait", "--for=condition=Available", "deployment/web", "--timeout=30s")
        self.k("rollout", "status", "deployment/web", "--timeout=60s")
        out = self.k("get", "deploy", "web").stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"])
        self.assertEqual(out[1].split()[1:4], ["3/3", "3", "3"])
        # The old ReplicaSets' pods may still be terminating for a moment on a real cluster.
        def three_running():
            pods = self.k("get", "pods", "-l", "app=web", "-o", "wide").stdout.splitlines()
            ok = len(pods) == 4 and all("Running" in p for p in pods[1:])
            return pods if ok else None
        pods = self.sim.wait_for(three_running, timeout=30, what="three Running web pods")
        self.assertEqual(pods[0].split()[:6], ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP"])

    def test_get_watch_with_timeout(self):
        proc = subprocess.Popen(["kubectl", "get", "cm", "-w", "--request-timeout=4s"],
                                env=self.sim.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        self.k("create", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched}\ndata: {a: b}\n")
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        self.assertIn("watched", out, err)
        self.assertIn("NAME", out.splitlines()[0])

    def test_delete_wait_removes_children(self):
        self.k("apply", "-f", "-", input=DEPLOYMENT.replace("name: web", "name: gone").replace("app: web", "app: gone"))
        self.k("wait", "--for=condition=Available", "deployment/gone", "--timeout=30s")
        self.assertEqual(len(self.k("get", "pods", "-l", "app=gone", "-o", "name").stdout.split()), 2)
        self.k("delete", "deployment", "gone", "--wait", "--timeout=30s")
        self.sim.wait_for(lambda: self.k("get", "pods", "-l", "app=gone", "-o", "name").stdout.strip() == "",
                          what="pods of a deleted deployment to be garbage collected")

    def test_imperative_create_commands(self):
        # kubectl's generators send protobuf bodies, which the simulator decodes for these kinds.
        self.k("create", "namespace", "team-a")
        self.k("create", "configmap", "c1", "-n", "team-a", "--from-literal=a=b", "--from-literal=x=y")
        self.k("create", "secret", "generic", "s1", "-n", "team-a", "--from-literal=pw=hunter2")
        self.k("create", "serviceaccount", "bot", "-n", "team-a")
        self.assertEqual(self.sim.kubectl_json("get", "cm", "c1", "-n", "team-a")["data"], {"a": "b", "x": "y"})
        secret = self.sim.kubectl_json("get", "secret", "s1", "-n", "team-a")
        self.assertEqual((secret["type"], secret["data"]), ("Opaque", {"pw": "aHVudGVyMg=="}))
        ns = self.sim.kubectl_json("get", "ns", "team-a")
        self.assertEqual(ns["status"]["phase"], "Active")
        self.assertNotIn("generateName", ns["metadata"])
        names = self.k("get", "sa", "-n", "team-a", "-o", "name").stdout.split()
        self.assertEqual(sorted(names), ["serviceaccount/bot", "serviceaccount/default"])
        self.k("create", "deployment", "web", "-n", "team-a", "--image=nginx:1.27",
               "--replicas=0", "--port=8080")
        d = self.sim.kubectl_json("get", "deployment", "web", "-n", "team-a")
        self.assertEqual(d["spec"]["replicas"], 0)
        self.assertEqual(d["spec"]["selector"], {"matchLabels": {"app": "web"}})
        (c,) = d["spec"]["template"]["spec"]["containers"]
        self.assertEqual((c["name"], c["image"], c["ports"][0]["containerPort"]),
                         ("nginx", "nginx:1.27", 8080))
        self.k("create", "job", "once", "-n", "team-a", "--image=busybox:1.36", "--", "echo", "hi")
        j = self.sim.kubectl_json("get", "job", "once", "-n", "team-a")
        (c,) = j["spec"]["template"]["spec"]["containers"]
        self.assertEqual((c["image"], c["command"]), ("busybox:1.36", ["echo", "hi"]))
        self.assertEqual(j["spec"]["template"]["spec"]["restartPolicy"], "Never")

    def test_explain_custom_resource(self):
        out = self.k("explain", "widget.spec").stdout
        self.assertIn("What the widget should be.", out)
        self.assertIn("size", out)
        self.assertIn("How big it is.", out)
        self.assertIn("-required-", out)

    def test_job_runs_to_completion_with_logs(self):
        job = """
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    metadata:
      annotations:
        sim.remotecode.dev/run-seconds: "1"
        sim.remotecode.dev/log: "epoch 1\\nepoch 2\\ndone"
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36}]
"""
        if REAL:  # KWOK serves logs from a file; the simulator reads the annotation
            self.sim.pod_logs("default", ["epoch 1", "epoch 2", "done"])
        self.k("apply", "-f", "-", input=job)
        self.k("wait", "--for=condition=Complete", "job/train", "--timeout=30s")
        out = self.k("get", "job", "train").stdout.splitlines()
        self.assertEqual(out[0].split()[:4], ["NAME", "STATUS", "COMPLETIONS", "DURATION"])
        self.assertEqual(out[1].split()[1:3], ["Complete", "1/1"])
        logs = self.k("logs", "job/train").stdout
        self.assertEqual(logs.splitlines(), ["epoch 1", "epoch 2", "done"])

    def test_unschedulable_gpu_pod_says_why(self):
        pod = """
apiVersion: v1
kind: Pod
metadata: {name: greedy}
spec:
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
  containers:
  - name: main
    image: cuda:12
    resources: {limits: {nvidia.com/gpu: "5"}}
"""
        self.k("apply", "-f", "-", input=pod)
        def message():
            p = self.sim.kubectl_json("get", "pod", "greedy")
            for c in p["status"].get("conditions", []):
                if c["type"] == "PodScheduled" and c["status"] == "False":
                    return c["message"]
            return None
        msg = self.sim.wait_for(message, what="an Unschedulable condition")
        self.assertIn("0/3 nodes are available", msg)
        self.assertIn("3 Insufficient nvidia.com/gpu", msg)
        self.assertIn("Pending", self.k("get", "pod", "greedy").stdout)


if __name__ == "__main__":
    unittest.main()
