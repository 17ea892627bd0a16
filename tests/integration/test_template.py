"""The Template controller end to end: `remote-code operator` against `remote-code sim`.

Image templates become Ready at once; build templates run one Kaniko Job per distinct build
(the hash is in its name), report Building then Ready with <registry>/<name>:<hash>, surface a
failed build's last log lines, reject injection attempts without building, keep a stable share
token, and lose their build Jobs with them.

Run with Debian's python:
    RC_BIN=build-asan/bin/remote-code /usr/bin/python3 -m unittest -v tests/integration/test_template.py
"""
import base64
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import ROOT, SIM_ANNOTATION as SIM, Sim, condition  # noqa: E402
from operatorharness import Operator  # noqa: E402

NS = "remote-code-system"
REGISTRY = "registry.test:5000/rc"


def build_template(name, steps, **spec):
    spec = dict(spec, build={"steps": steps})
    return {"apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
            "metadata": {"name": name}, "spec": spec}


class TemplateTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim("--job-backoff-seconds", "0.2")
        try:
            cls.op = Operator(cls.sim, "--registry", REGISTRY)
        except Exception:
            cls.sim.stop()
            raise
        # Build pods are scripted by the labels the operator puts on them (PUT replaces every
        # rule, so all tests' rules are set here; the first rule setting a key wins). A simulated
        # Job pod runs until its run-seconds are over, so every build pod gets some.
        rules = [
            {"namespace": NS, "selector": "remotecode.dev/name=slow-build",
             "annotations": {SIM + "run-seconds": "2"}},
            {"namespace": NS, "selector": "remotecode.dev/name=broken-build",
             "annotations": {SIM + "exit-code": "1",
                             SIM + "log": "Step 1/3 : FROM base\nstep 3 failed: pip not found"}},
            {"namespace": NS, "selector": "remotecode.dev/kind=template-build",
             "annotations": {SIM + "run-seconds": "0.3"}},
        ]
        status, _, body = cls.sim.request("PUT", "/sim/pod-scripts", rules)
        assert status == 200, body

    @classmethod
    def tearDownClass(cls):
        try:
            cls.op.stop()
        finally:
            cls.sim.stop()

    # -- helpers ------------------------------------------------------------------------------

    def apply(self, obj):
        self.sim.kubectl("apply", "-f", "-", input=json.dumps(obj))

    def get(self, kind, name, ns=None):
        args = ["get", kind, name, "-o", "json"] + (["-n", ns] if ns else [])
        p = self.sim.kubectl(*args, check=False)
        if p.returncode != 0:
            self.assertIn("NotFound", p.stderr, p.stderr)
            return None
        return json.loads(p.stdout)

    def template(self, name):
        return self.get("template", name)

    def wait_template(self, name, pred, what, timeout=30):
        def check():
            t = self.template(name)
            return t if t is not None and pred(t) else None
        try:
            return self.sim.wait_for(check, timeout=timeout, what=what)
        except AssertionError:
            print(json.dumps(self.template(name), indent=1))
            print(self.op.logs()[-4000:])
            raise

    def wait_phase(self, name, phase, timeout=30):
        return self.wait_template(name, lambda t: (t.get("status") or {}).get("phase") == phase,
                                  "template %s to be %s" % (name, phase), timeout)

    def build_jobs(self, name):
        return self.sim.kubectl_json("get", "jobs", "-n", NS, "-l",
                                     "remotecode.dev/name=" + name)["items"]

    def events(self, name, reason=None):
        # Templates are cluster-scoped: their Events are in "default", as the apiserver wants.
        items = self.sim.kubectl_json("get", "events", "-n", "default")["items"]
        return [e for e in items
                if e["involvedObject"].get("kind") == "Template"
                and e["involvedObject"].get("name") == name
                and (reason is None or e["reason"] == reason)]

    def event_count(self, name, reason):
        return sum(e.get("count", 1) for e in self.events(name, reason))

    def assert_owned_by(self, child, tpl):
        refs = child["metadata"].get("ownerReferences") or []
        self.assertEqual([(r["kind"], r["name"], r["uid"], r.get("controller")) for r in refs],
                         [("Template", tpl["metadata"]["name"], tpl["metadata"]["uid"], True)])

    # -- tests --------------------------------------------------------------------------------

    def test_image_template_is_ready_with_its_image(self):
        self.apply({"apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
                    "metadata": {"name": "ready-image"},
                    "spec": {"image": "ghcr.io/example/pytorch:2.4", "ide": "jupyter"}})
        t = self.wait_phase("ready-image", "Ready")
        self.assertEqual(t["status"]["image"], "ghcr.io/example/pytorch:2.4")
        self.assertEqual(condition(t, "Ready")["status"], "True")
        self.assertEqual(condition(t, "Valid")["status"], "True")
        self.assertEqual(t["status"]["observedGeneration"], t["metadata"]["generation"])
        self.assertEqual(self.build_jobs("ready-image"), [])
        table = self.sim.kubectl("get", "tpl", "ready-image").stdout
        self.assertRegex(table, r"NAME\s+IMAGE\s+PHASE\s+IDE\s+AGE")
        self.assertRegex(table, r"ready-image\s+ghcr.io/example/pytorch:2.4\s+Ready\s+jupyter")

    def test_build_runs_once_per_distinct_spec(self):
        name = "slow-build"
        seen_jobs = set()
        self.apply(build_template(name, ["RUN pip install torch", "ENV A=1"]))
        t = self.wait_phase(name, "Building")
        self.assertNotIn("image", t["status"])
        first_hash = t["status"]["buildHash"]
        self.assertRegex(first_hash, r"^[0-9a-f]{16}$")
        job_name = "tpl-%s-%s" % (name, first_hash[:8])
        self.assertEqual(t["status"]["buildJob"], job_name)

        t = self.wait_phase(name, "Ready")
        self.assertEqual(t["status"]["image"], "%s/%s:%s" % (REGISTRY, name, first_hash))
        self.assertEqual(condition(t, "Built")["status"], "True")
        job = self.get("job", job_name, NS)
        self.assert_owned_by(job, t)
        args = job["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertIn("--destination=%s/%s:%s" % (REGISTRY, name, first_hash), args)
        cm = self.get("configmap", job_name, NS)
        self.assert_owned_by(cm, t)
        self.assertEqual(cm["data"]["Dockerfile"],
                         "FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04\n"
                         "RUN pip install torch\nENV A=1\n")
        self.assertEqual(self.event_count(name, "BuildStarted"), 1)
        self.assertEqual(self.event_count(name, "BuildSucceeded"), 1)

        # The same spec again, and a change that does not touch the build: no new Job.
        self.apply(build_template(name, ["RUN pip install torch", "ENV A=1"]))
        self.apply(build_template(name, ["RUN pip install torch", "ENV A=1"], ide="none"))
        self.wait_template(name, lambda t: t["status"].get("observedGeneration") ==
                           t["metadata"]["generation"], "the ide change to be observed")
        time.sleep(1)
        self.assertEqual([j["metadata"]["name"] for j in self.build_jobs(name)], [job_name])
        self.assertEqual(self.template(name)["status"]["image"],
                         "%s/%s:%s" % (REGISTRY, name, first_hash))

        # A changed step: exactly one new build, then the old one is cleaned up.
        self.apply(build_template(name, ["RUN pip install torch==2.4.1", "ENV A=1"], ide="none"))
        t = self.wait_phase(name, "Building")
        second_hash = t["status"]["buildHash"]
        self.assertNotEqual(second_hash, first_hash)
        deadline = time.time() + 30
        while time.time() < deadline:
            seen_jobs.update(j["metadata"]["name"] for j in self.build_jobs(name))
            t = self.template(name)
            if t["status"].get("phase") == "Ready":
                break
            time.sleep(0.1)
        self.assertEqual(t["status"]["image"], "%s/%s:%s" % (REGISTRY, name, second_hash))
        self.assertEqual(seen_jobs, {job_name, "tpl-%s-%s" % (name, second_hash[:8])})
        self.sim.wait_for(lambda: [j["metadata"]["name"] for j in self.build_jobs(name)] ==
                          ["tpl-%s-%s" % (name, second_hash[:8])], what="the old build cleaned up")
        self.assertEqual(self.event_count(name, "BuildStarted"), 2)
        self.assertEqual(self.event_count(name, "BuildSucceeded"), 2)

    def test_failed_build_reports_the_log(self):
        name = "broken-build"
        self.apply(build_template(name, ["RUN pip install nothing-here"]))
        t = self.wait_phase(name, "Failed", timeout=40)
        built = condition(t, "Built")
        self.assertEqual(built["status"], "False")
        self.assertEqual(built["reason"], "BuildFailed")
        self.assertIn("step 3 failed: pip not found", built["message"])
        self.assertIn("BackoffLimitExceeded", built["message"])
        self.assertNotIn("image", t["status"])
        failed = self.events(name, "BuildFailed")
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["type"], "Warning")
        self.assertIn("step 3 failed: pip not found", failed[0]["message"])
        # Later reconciles keep the failure without building again.
        self.apply(build_template(name, ["RUN pip install nothing-here"], ide="jupyter"))
        time.sleep(1)
        self.assertEqual(len(self.build_jobs(name)), 1)
        t = self.template(name)
        self.assertEqual(t["status"]["phase"], "Failed")
        # Deleting the failed Job builds again (the Ready condition says so).
        self.assertIn("delete Job %s to build again" % t["status"]["buildJob"],
                      condition(t, "Ready")["message"])
        first_uid = self.build_jobs(name)[0]["metadata"]["uid"]
        self.sim.kubectl("delete", "job", "-n", NS, t["status"]["buildJob"])
        self.sim.wait_for(lambda: [j for j in self.build_jobs(name)
                                   if j["metadata"]["uid"] != first_uid], what="a new build Job")
        self.sim.wait_for(lambda: self.event_count(name, "BuildFailed") == 2,
                          timeout=30, what="the second build to fail")
        self.assertEqual(self.template(name)["status"]["phase"], "Failed")

    def test_injection_attempts_are_rejected_without_a_build(self):
        cases = {
            "inject-newline": (["RUN echo hi", "RUN x\nUSER root"], "spec.build.steps[1]",
                               "must be a single line"),
            "inject-copy": (["COPY . /"], "spec.build.steps[0]",
                            'only RUN and ENV instructions are allowed, found "COPY"'),
            "inject-continuation": (["RUN true \\", "USER root"], "spec.build.steps[0]",
                                    "line continuation"),
        }
        for name, (steps, field, text) in cases.items():
            self.apply(build_template(name, steps))
        for name, (steps, field, text) in cases.items():
            t = self.wait_phase(name, "Failed")
            valid = condition(t, "Valid")
            self.assertEqual(valid["status"], "False")
            self.assertEqual(valid["reason"], "InvalidBuildStep")
            self.assertIn(field, valid["message"])
            self.assertIn(text, valid["message"])
            warnings = self.events(name, "InvalidBuildStep")
            self.assertEqual([e["type"] for e in warnings], ["Warning"])
        time.sleep(0.5)
        for name in cases:
            self.assertEqual(self.build_jobs(name), [], name)

    def test_both_image_and_build_is_refused_by_the_schema(self):
        obj = build_template("both", ["RUN true"], image="x:1")
        p = self.sim.kubectl("apply", "-f", "-", input=json.dumps(obj), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("must validate one and only one schema (oneOf)", p.stderr)

    def test_share_secret_is_stable(self):
        name = "shared"
        spec = {"image": "x:1", "sharing": {"enabled": True}}
        self.apply({"apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
                    "metadata": {"name": name}, "spec": spec})
        t = self.wait_template(name, lambda t: t.get("status", {}).get("shareSecret"),
                               "the share secret in status")
        secret_name = "tpl-%s-share" % name
        self.assertEqual(t["status"]["shareSecret"], secret_name)
        secret = self.get("secret", secret_name, NS)
        self.assert_owned_by(secret, t)
        token = base64.b64decode(secret["data"]["token"]).decode()
        self.assertRegex(token, r"^[0-9a-f]{48}$")
        self.assertNotIn("accessKey", secret["data"])

        # More reconciles (a spec change) keep the token; requiring a key adds one.
        self.apply({"apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
                    "metadata": {"name": name},
                    "spec": dict(spec, sharing={"enabled": True, "requireAccessKey": True})})

        def with_key():
            s = self.get("secret", secret_name, NS)
            return s if "accessKey" in s.get("data", {}) else None
        secret = self.sim.wait_for(with_key, what="an access key")
        self.assertEqual(base64.b64decode(secret["data"]["token"]).decode(), token)
        self.assertRegex(base64.b64decode(secret["data"]["accessKey"]).decode(), r"^[0-9a-f]{16}$")
        time.sleep(1)
        again = self.get("secret", secret_name, NS)
        self.assertEqual(again["data"], secret["data"])
        self.assertEqual(again["metadata"]["resourceVersion"], secret["metadata"]["resourceVersion"])

        # Disabling deletes the Secret.
        self.apply({"apiVersion": "remotecode.dev/v1alpha1", "kind": "Template",
                    "metadata": {"name": name}, "spec": dict(spec, sharing={"enabled": False})})
        self.sim.wait_for(lambda: self.get("secret", secret_name, NS) is None,
                          what="the share secret deleted")
        self.wait_template(name, lambda t: "shareSecret" not in t["status"],
                           "shareSecret cleared")

    def test_deleting_the_template_deletes_its_build(self):
        name = "short-lived"
        self.apply(build_template(name, ["RUN true"]))
        t = self.wait_phase(name, "Ready")
        job_name = t["status"]["buildJob"]
        self.assertIsNotNone(self.get("job", job_name, NS))
        self.sim.kubectl("delete", "template", name)
        self.sim.wait_for(lambda: self.get("job", job_name, NS) is None, what="the build Job gone")
        self.sim.wait_for(lambda: self.get("configmap", job_name, NS) is None,
                          what="the Dockerfile ConfigMap gone")

    def test_nothing_is_written_when_nothing_changed(self):
        name = "quiet"
        self.apply(build_template(name, ["RUN true"], sharing={"enabled": True,
                                                              "requireAccessKey": True}))
        self.wait_phase(name, "Ready")
        time.sleep(1)
        self.sim.request("DELETE", "/sim/requests")
        # A metadata-only change makes the controller reconcile the Template again.
        self.sim.kubectl("annotate", "template", name, "example.com/note=touched")
        time.sleep(1.5)
        _, _, counts = self.sim.request("GET", "/sim/requests")
        writes = {k: v for k, v in counts.items() if k.endswith(" remote-code")
                  and k.split()[0] in ("create", "update", "patch", "delete")}
        self.assertEqual(writes, {})

    def test_examples_apply_as_they_are(self):
        for f in ("template-image.yaml", "template-build.yaml"):
            self.sim.kubectl("apply", "-f", os.path.join(ROOT, "examples", f))
        t = self.wait_phase("pytorch-image", "Ready")
        self.assertEqual(t["status"]["shareSecret"], "tpl-pytorch-image-share")
        t = self.wait_phase("jupyter-build", "Ready")
        self.assertTrue(t["status"]["image"].startswith(REGISTRY + "/jupyter-build:"))
        secret = self.get("secret", "tpl-jupyter-build-share", NS)
        self.assertIn("accessKey", secret["data"])

    def test_explain_teaches_the_api(self):
        out = self.sim.kubectl("explain", "tpl.spec.build.steps").stdout
        self.assertIn("each one RUN or ENV instruction on a single line", " ".join(out.split()))
        out = self.sim.kubectl("explain", "templates.status.shareSecret").stdout
        self.assertIn("share token", " ".join(out.split()))


if __name__ == "__main__":
    unittest.main()
