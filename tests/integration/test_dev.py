"""`remote-code dev`: the simulator and the operator in one process, as `make dev` starts it."""
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from simharness import ROOT, binary  # noqa: E402


class DevCommand(unittest.TestCase):
    def test_starts_applies_crds_and_templates_and_stops_on_ctrl_c(self):
        state = tempfile.mkdtemp(prefix="rc-dev-")
        log = open(os.path.join(state, "dev.log"), "w")
        proc = subprocess.Popen([binary(), "dev", "--listen", "127.0.0.1:0", "--state-dir", state,
                                 "--pod-start-seconds", "0.2"],
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
        text = open(os.path.join(state, "dev.log")).read()
        self.assertNotIn("ERROR: AddressSanitizer", text)
        self.assertNotIn("runtime error:", text)


if __name__ == "__main__":
    unittest.main()
