"""`remote-code dev`: the simulator and the operator in one process, as `make dev` starts it."""
import http.cookies
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from simharness import ROOT, binary  # noqa: E402

# Ctrl-C must give the terminal back promptly (seconds, measured from the signal to the exit).
STOP_SECONDS = 5


class Dev:
    """One `remote-code dev` process on a state folder, its ready text parsed."""

    def __init__(self, state, log):
        self.proc = subprocess.Popen(
            [binary(), "dev", "--listen", "127.0.0.1:0", "--portal-listen", "127.0.0.1:0",
             "--state-dir", state, "--pod-start-seconds", "0.2"],
            stdout=subprocess.PIPE, stderr=log, text=True)
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        self.out = "".join(lines)
        if "remote-code dev: ready" not in self.out:
            self.kill()
            raise AssertionError("dev did not start:\n" + self.out)
        self.reader = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self.reader.start()
        fields = {}
        for line in lines:
            key, sep, value = line.strip().partition(":")
            if sep:
                fields[key] = value.strip()
        self.password = fields["admin password"]
        self.portal = fields["portal"].rstrip("/")
        self.env = dict(os.environ, KUBECONFIG=os.path.join(state, "kubeconfig"))

    def kubectl(self, *args):
        p = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=self.env,
                           timeout=60)
        if p.returncode != 0:
            raise AssertionError("kubectl %s: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def kubectl_json(self, *args):
        return json.loads(self.kubectl(*args, "-o", "json"))

    def portal_request(self, method, path, body=None, cookie=None):
        req = urllib.request.Request(self.portal + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        if cookie:
            req.add_header("Cookie", "rc_session=" + cookie)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, res.headers, res.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def stop(self):
        """Ctrl-C; returns (exit code, seconds it took)."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=60)
        return code, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if getattr(self, "reader", None):
            self.reader.join(timeout=10)
        self.proc.stdout.close()


class DevCommand(unittest.TestCase):
    def test_starts_applies_crds_and_templates_and_stops_on_ctrl_c(self):
        state = tempfile.mkdtemp(prefix="rc-dev-")
        log = open(os.path.join(state, "dev.log"), "w")
        proc = subprocess.Popen([binary(), "dev", "--listen", "127.0.0.1:0", "--state-dir", state,
                                 "--portal-listen", "127.0.0.1:0", "--pod-start-seconds", "0.2"],
                                stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("Press Ctrl-C"):
                    break
            out = "".join(lines)
            self.assertIn("remote-code dev: ready", out)
            kubeconfig = os.path.join(state, "kubeconfig")
            self.assertIn("export KUBECONFIG=" + kubeconfig, out)
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            env = dict(os.environ, KUBECONFIG=kubeconfig)

            def kubectl(*args):
                return subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env,
                                      timeout=60)

            crds = kubectl("get", "crd", "-o", "name").stdout.split()
            for name in ("templates", "workspaces", "trainingjobs"):
                self.assertIn("customresourcedefinition.apiextensions.k8s.io/%s.remotecode.dev"
                              % name, crds)
            templates = kubectl("get", "templates", "-o", "name").stdout.split()
            examples = [f for f in os.listdir(os.path.join(ROOT, "examples"))
                        if f.startswith("template-")]
            self.assertEqual(len(templates), len(examples), templates)
            # The controllers run: an image template becomes Ready.
            deadline = time.time() + 30
            phases = ""
            while time.time() < deadline:
                phases = kubectl("get", "templates", "-o",
                                 "jsonpath={.items[*].status.phase}").stdout
                if "Ready" in phases:
                    break
                time.sleep(0.2)
            self.assertIn("Ready", phases)
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
        with open(os.path.join(state, "dev.log")) as f:
            text = f.read()
        self.assertNotIn("ERROR: AddressSanitizer", text)
        self.assertNotIn("runtime error:", text)

    def test_state_dir_keeps_workspaces_and_admin_password_across_restarts(self):
        state = tempfile.mkdtemp(prefix="rc-dev-")
        log_path = os.path.join(state, "dev.log")
        stops = []
        with open(log_path, "w") as log:
            dev = Dev(state, log)
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
                stops.append(dev.stop())
            finally:
                dev.kill()
            self.assertEqual(stops[0][0], 0, "exit code after Ctrl-C")
            self.assertTrue(os.path.exists(os.path.join(state, "cluster.json")))

            again = Dev(state, log)
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
                stops.append(again.stop())
            finally:
                again.kill()
            self.assertEqual(stops[1][0], 0, "exit code after Ctrl-C")

            third = Dev(state, log)
            try:
                ws3 = third.kubectl_json("get", "workspace", "alice-pytorch")
                self.assertEqual(ws3["spec"]["running"], False)
                stops.append(third.stop())
            finally:
                third.kill()
        with open(log_path) as f:
            text = f.read()
        self.assertNotIn("ERROR: AddressSanitizer", text)
        self.assertNotIn("runtime error:", text)
        for code, seconds in stops:
            self.assertEqual(code, 0)
            self.assertLess(seconds, STOP_SECONDS, "seconds from Ctrl-C to exit: %s" % stops)

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
