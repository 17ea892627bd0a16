"""Starts `remote-code sim` for a test and stops it afterwards.

The binary comes from $RC_BIN (set by tests/run-all.sh). Each simulator gets its own temporary
folder with its kubeconfig, so tests never share state.
"""
import json
import os
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
OPENAPI_V3 = os.path.join(SHARED, "k8s-openapi", "v3")


# The prefix of the annotations through which the simulated kubelet is scripted.
SIM_ANNOTATION = "sim.remotecode.dev/"


def condition(obj, ctype):
    """The condition of that type in obj.status.conditions, or None."""
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def binary():
    return os.environ.get("RC_BIN", os.path.join(ROOT, "build-asan", "bin", "remote-code"))


class Sim:
    kubectl_bin = "kubectl"

    def __init__(self, *extra_args, openapi=True):
        self.dir = tempfile.mkdtemp(prefix="rc-sim-")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.pki = os.path.join(self.dir, "pki")
        args = [binary(), "sim", "--listen", "127.0.0.1:0", "--kubeconfig-out", self.kubeconfig,
                "--pki-out", self.pki, "--pod-start-seconds", "0.2"]
        if "--log-level" not in extra_args:
            args += ["--log-level", "warn"]
        if openapi and os.path.isdir(OPENAPI_V3):
            args += ["--openapi-dir", OPENAPI_V3]
        args += list(extra_args)
        self.log_path = os.path.join(self.dir, "sim.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        while line and "ready at" not in line:
            line = self.proc.stdout.readline()
        if "ready at" not in line:
            self.stop()
            raise RuntimeError("simulator did not start: %r\n%s" % (line, open(self.log_path).read()))
        self.url = line.split("ready at ")[1].split()[0]
        # Keep draining stdout so the process never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        cfg = open(self.kubeconfig).read()
        self.token = cfg.split("token: ")[1].split()[0]
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig)

    def kubectl(self, *args, input=None, check=True, timeout=60):
        p = subprocess.run([self.kubectl_bin, *args], input=input, capture_output=True, text=True,
                           env=self.env, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s%s" % (" ".join(args), p.returncode,
                                                                     p.stdout, p.stderr))
        return p

    def kubectl_json(self, *args):
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        """A raw API request; returns (status, headers, parsed JSON or text)."""
        ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            data = data.encode() if isinstance(data, str) else data
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                raw = r.read().decode()
                status, hdrs = r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            raw = e.read().decode()
            status, hdrs = e.code, dict(e.headers)
        try:
            return status, hdrs, json.loads(raw)
        except ValueError:
            return status, hdrs, raw

    def set_faults(self, **faults):
        status, _, body = self.request("PUT", "/sim/faults", faults)
        assert status == 200, body
        return body

    def wait_for(self, predicate, timeout=20, interval=0.1, what="condition"):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.proc.returncode not in (0, -15):
            raise AssertionError("simulator exited with %s:\n%s" % (self.proc.returncode,
                                                                    open(self.log_path).read()[-4000:]))


class PodScripts:
    """How the simulated kubelet runs the pods created from now on (/sim/pod-scripts).

    Rules match by namespace and label selector; the first match wins. The kubelet runs a pod
    without run-seconds for ever, so a last rule ends every training pod after half a second.
    """

    def __init__(self, sim):
        self.sim = sim
        self.rules = {}
        self.put()

    def set(self, ns, selector, **annotations):
        """Pods in `ns` matching `selector` behave as annotated (run_seconds -> run-seconds)."""
        self.rules[(ns, selector)] = {SIM_ANNOTATION + k.replace("_", "-"): str(v)
                                      for k, v in annotations.items()}
        self.put()

    def put(self):
        rules = [{"namespace": n, "selector": s, "annotations": a}
                 for (n, s), a in self.rules.items()]
        rules.append({"namespace": "", "selector": "remotecode.dev/kind=trainingjob",
                      "annotations": {SIM_ANNOTATION + "run-seconds": "0.5"}})
        status, _, body = self.sim.request("PUT", "/sim/pod-scripts", rules)
        assert status == 200, body
