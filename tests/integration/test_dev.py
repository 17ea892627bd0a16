"""`remote-code dev`: the simulator and the operator in one process, as `make dev` starts it."""
import http.cookies
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from simharness import ROOT, binary  # noqa: E402
from devharness import Dev  # noqa: E402

# Ctrl-C must give the terminal back promptly (seconds, measured from the signal to the exit).
STOP_SECONDS = 5


class DevCommand(unittest.TestCase):
    def test_starts_applies_crds_and_templates_and_stops_on_ctrl_c(self):
        dev = Dev()
        try:
            self.assertIn("export KUBECONFIG=" + dev.kubeconfig, dev.out)
            crds = dev.kubectl("get", "crd", "-o", "name").split()
            for name in ("templates", "workspaces", "trainingjobs"):
                self.assertIn("customresourcedefinition.apiextensions.k8s.io/%s.remotecode.dev"
                              % name, crds)
            templates = dev.kubectl("get", "templates", "-o", "name").split()
            examples = [f for f in os.listdir(os.path.join(ROOT, "examples"))
                        if f.startswith("template-")]
            self.assertEqual(len(templates), len(examples), templates)
            # The controllers run: an image template becomes Ready.
            deadline = time.time() + 30
            phases = ""
            while time.time() < deadline:
                phases = dev.kubectl("get", "templates", "-o",
                                     "jsonpath={.items[*].status.phase}")
                if "Ready" in phases:
                    break
                time.sleep(0.2)
            self.assertIn("Ready", phases)
            self.assertEqual(dev.interrupt()[0], 0)
        finally:
            dev.kill()
        self.assertEqual(dev.sanitizer_reports(), [])

    def test_state_dir_keeps_workspaces_and_admin_password_across_restarts(self):
        state = tempfile.mkdtemp(prefix="rc-dev-")
        stops = []
        dev = Dev(state)
        try:
            dev.kubectl("apply", "-f", os.path.join(ROOT, "examples", "workspace.yaml"))
            deadline = time.time() + 60
            ws = {}
            while time.time() < deadline:
                ws = dev.kubectl_json("get", "workspace", "alice-pytorch")
                if ws.get("status", {}).get("phase") == "Running":
                    break
                time.sleep(0.3)
            self.assertEqual(ws.get("status", {}).get("phase"), "Running", ws)
            pods = {p["metadata"]["name"]: p for p in dev.kubectl_json("get", "pods")["items"]}
            self.assertTrue(pods)
            code, headers, body = dev.portal_request(
                "POST", "/api/v1/login", {"username": "admin", "password": dev.password})
            self.assertEqual(code, 200, body)
            jar = http.cookies.SimpleCookie()
            for value in headers.get_all("Set-Cookie") or []:
                jar.load(value)
            cookie = jar["rc_session"].value
            stops.append(dev.interrupt())
        finally:
            dev.kill()
        self.assertEqual(stops[0][0], 0, "exit code after Ctrl-C")
        self.assertTrue(os.path.exists(os.path.join(state, "cluster.json")))

        again = Dev(state)
        try:
            self.assertEqual(again.password, dev.password)
            # Straight after the restart, as stored: same object, same status.
            ws2 = again.kubectl_json("get", "workspace", "alice-pytorch")
            self.assertEqual(ws2["metadata"]["uid"], ws["metadata"]["uid"])
            for field in ("phase", "url", "image", "gpus", "runningSince"):
                self.assertEqual(ws2["status"].get(field), ws["status"].get(field), field)
            # Its pods kept running: not replaced, same addresses.
            pods2 = {p["metadata"]["name"]: p
                     for p in again.kubectl_json("get", "pods")["items"]}
            self.assertEqual(sorted(pods2), sorted(pods))
            for name, pod in pods.items():
                self.assertEqual(pods2[name]["status"].get("phase"), "Running", name)
                self.assertEqual(pods2[name]["status"].get("podIP"),
                                 pod["status"].get("podIP"), name)
            # Stored users and the session key: the old session and the password still work.
            code, _, body = again.portal_request("GET", "/api/v1/me", cookie=cookie)
            self.assertEqual(code, 200, body)
            self.assertEqual(json.loads(body)["user"]["username"], "admin")
            code, _, body = again.portal_request(
                "POST", "/api/v1/login", {"username": "admin", "password": again.password})
            self.assertEqual(code, 200, body)
            # The cluster goes on: a change made now is there after the next restart too.
            again.kubectl("patch", "workspace", "alice-pytorch", "--type", "merge",
                          "-p", '{"spec":{"running":false}}')
            stops.append(again.interrupt())
        finally:
            again.kill()
        self.assertEqual(stops[1][0], 0, "exit code after Ctrl-C")

        third = Dev(state)
        try:
            ws3 = third.kubectl_json("get", "workspace", "alice-pytorch")
            self.assertEqual(ws3["spec"]["running"], False)
            stops.append(third.interrupt())
        finally:
            third.kill()
        self.assertEqual(third.sanitizer_reports(), [])  # the log of all three runs
        for code, seconds in stops:
            self.assertEqual(code, 0)
            self.assertLess(seconds, STOP_SECONDS, "seconds from Ctrl-C to exit: %s" % stops)

    def test_the_state_folder_and_its_secrets_are_the_owners_alone(self):
        state = tempfile.mkdtemp(prefix="rc-dev-")
        os.chmod(state, 0o755)  # as `mkdir .state` or an older remote-code dev left it
        dev = Dev(state)
        try:
            modes = {name: stat.S_IMODE(os.stat(os.path.join(state, name)).st_mode)
                     for name in ("kubeconfig", "admin-password", "cluster.json")
                     if os.path.exists(os.path.join(state, name))}
            self.assertEqual(stat.S_IMODE(os.stat(state).st_mode), 0o700)
            self.assertEqual(modes.get("kubeconfig"), 0o600)
            self.assertEqual(modes.get("admin-password"), 0o600)
            self.assertEqual(modes.get("cluster.json", 0o600), 0o600)
            dev.interrupt()
        finally:
            dev.kill()

    def test_corrupt_state_file_stops_the_start_and_is_kept(self):
        state = tempfile.mkdtemp(prefix="rc-dev-")
        path = os.path.join(state, "cluster.json")
        with open(path, "w") as f:
            f.write('{"resourceVersion": 3, "objects": [')
        p = subprocess.run([binary(), "dev", "--listen", "127.0.0.1:0", "--portal-listen",
                            "127.0.0.1:0", "--state-dir", state],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn(path, p.stderr)
        self.assertIn("not valid JSON", p.stderr)
        self.assertNotIn("ready", p.stdout)
        with open(path) as f:
            self.assertEqual(f.read(), '{"resourceVersion": 3, "objects": [')


if __name__ == "__main__":
    unittest.main()
