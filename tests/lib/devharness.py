"""Starts `remote-code dev` (simulator, operator and portal in one process) as `make dev` does,
on free ports and a state folder, and parses what it prints when ready.

Dev(state) starts it; .out is the ready text, .portal the portal's address, .password the first
admin's password, .env a process environment with its KUBECONFIG. interrupt() is Ctrl-C and
returns (exit code, seconds to exit); kill() always ends it. sanitizer_reports() lists what
AddressSanitizer or UndefinedBehaviorSanitizer wrote to the log.
"""
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from simharness import OPENAPI_V3, binary


class Dev:
    def __init__(self, state=None, openapi=False):
        self.state = state or tempfile.mkdtemp(prefix="rc-dev-")
        self.log_path = os.path.join(self.state, "dev.log")
        self.log = open(self.log_path, "a")
        args = [binary(), "dev", "--listen", "127.0.0.1:0", "--portal-listen", "127.0.0.1:0",
                "--state-dir", self.state, "--pod-start-seconds", "0.2"]
        if openapi and os.path.isdir(OPENAPI_V3):  # as the Makefile's dev target does
            args += ["--openapi-dir", OPENAPI_V3]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        self.out = "".join(lines)
        if "remote-code dev: ready" not in self.out:
            self.kill()
            raise AssertionError("remote-code dev did not start:\n%s%s" % (self.out, self.logs()))
        # Keep draining stdout so the process never blocks on a full pipe.
        self.reader = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self.reader.start()
        fields = {}
        for line in lines:
            key, sep, value = line.strip().partition(":")
            if sep:
                fields[key] = value.strip()
        self.portal = fields["portal"].rstrip("/")
        self.password = fields["admin password"]
        self.kubeconfig = os.path.join(self.state, "kubeconfig")
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig)

    def kubectl(self, *args):
        p = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=self.env,
                           timeout=60)
        if p.returncode != 0:
            raise AssertionError("kubectl %s: %s" % (" ".join(args), p.stderr))
        return p.stdout

    def kubectl_json(self, *args):
        return json.loads(self.kubectl(*args, "-o", "json"))

    def portal_request(self, method, path, body=None, cookie=None):
        """(status, headers, body bytes) of one portal request, with the rc_session cookie."""
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

    def logs(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def sanitizer_reports(self):
        text = self.logs()
        return [bad for bad in ("ERROR: AddressSanitizer", "runtime error:") if bad in text]

    def interrupt(self):
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
        self.log.close()
