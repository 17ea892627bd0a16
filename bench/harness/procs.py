"""The processes a bench phase runs: `remote-code sim`, `remote-code operator`, `rc-bench floor`,
and what /proc says about them (CPU seconds, resident memory, whether they are idle)."""
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRDS = os.path.join(ROOT, "crds")
TEMPLATE = """apiVersion: remotecode.dev/v1alpha1
kind: Template
metadata:
  name: bench
spec:
  image: busybox:1.36
  ide: vscode
  resources:
    default:
      gpus: 0
      cpu: 100m
      memory: 128Mi
      homeSize: 1Gi
"""
# Training pods end as soon as they run, with exit code 0.
POD_SCRIPTS = [{"namespace": "", "selector": "remotecode.dev/kind=trainingjob",
                "annotations": {"sim.remotecode.dev/run-seconds": "0"}}]
OPERATOR_NAMESPACE = "remote-code-system"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    """User + system CPU seconds of a process (fields 14 and 15 of /proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_kib(pid):
    """{"VmRSS": KiB, "VmHWM": KiB} from /proc/<pid>/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0])
    return out


def wait_idle(pid, below=0.05, window=1.0, timeout=300):
    """Waits until the process used less than `below` of a core over `window` seconds."""
    deadline = time.time() + timeout
    last = cpu_seconds(pid)
    while time.time() < deadline:
        time.sleep(window)
        now = cpu_seconds(pid)
        if now - last < below * window:
            return True
        last = now
    return False


def stop_process(proc, timeout=30):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Sim:
    """A simulator with the CRDs, the operator's namespace, the Template `bench` and the pod
    scripts applied."""

    def __init__(self, bin_dir, workdir, cpu_nodes=1):
        self.dir = tempfile.mkdtemp(prefix="sim-", dir=workdir)
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.pki = os.path.join(self.dir, "pki")
        args = [os.path.join(bin_dir, "remote-code"), "sim", "--listen", "127.0.0.1:0",
                "--kubeconfig-out", self.kubeconfig, "--pki-out", self.pki,
                "--pod-start-seconds", "0", "--cpu-nodes", str(cpu_nodes),
                # Enough change history that no watch falls out of it during a burst.
                "--history", "2000000", "--log-level", "warn"]
        self.log = open(os.path.join(self.dir, "sim.log"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "ready at" not in line:
            stop_process(self.proc)
            raise RuntimeError("simulator did not start: %r" % line)
        self.url = line.split("ready at ")[1].split()[0]
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.token = open(self.kubeconfig).read().split("token: ")[1].split()[0]
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig)
        self.kubectl("create", "namespace", OPERATOR_NAMESPACE)
        self.kubectl("apply", *sum((["-f", os.path.join(CRDS, f)] for f in sorted(os.listdir(CRDS))
                                    if f.endswith(".yaml")), []))
        self.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd", "--all")
        self.kubectl("apply", "-f", "-", input=TEMPLATE)
        self.request("PUT", "/sim/pod-scripts", POD_SCRIPTS)

    @property
    def pid(self):
        return self.proc.pid

    def kubectl(self, *args, input=None):
        p = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True,
                           env=self.env, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("kubectl %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def request(self, method, path, body=None, raw=False):
        """The parsed JSON answer, or with raw=True its bytes as the server sent them."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, context=self.ctx, timeout=60) as r:
            answer = r.read()
        if raw:
            return answer
        return json.loads(answer) if answer else None

    def stop(self):
        stop_process(self.proc)
        self.log.close()


def http_ok(url, timeout=1.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Operator:
    """`remote-code operator` against `sim`, with the portal off unless `portal_port` is given.
    Ready when /readyz answers 200 (every cache synced)."""

    def __init__(self, bin_dir, sim, flags=(), portal_port=None, ready_timeout=300):
        self.probe_port = free_port()
        args = [os.path.join(bin_dir, "remote-code"), "operator", "--kubeconfig", sim.kubeconfig,
                "--metrics-bind-address", "0",
                "--health-probe-bind-address", "127.0.0.1:%d" % self.probe_port,
                "--portal-bind-address", "127.0.0.1:%d" % portal_port if portal_port else "0",
                "--log-level", "warn", *flags]
        self.log_path = os.path.join(sim.dir, "operator.log")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.time() + ready_timeout
        while not http_ok("http://127.0.0.1:%d/readyz" % self.probe_port):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("operator never became ready; see %s" % self.log_path)
            time.sleep(0.1)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        # SIGKILL: everything was measured, and a clean stop takes the operator seconds (its
        # informers notice their cancel one after another), which would only lengthen the bench.
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Floor:
    """`rc-bench floor` against `sim`; ready when it prints its ready line."""

    def __init__(self, bench_bin, sim, qps, burst, workers, out):
        args = [bench_bin, "floor", "--kubeconfig", sim.kubeconfig, "--kube-qps", str(qps),
                "--kube-burst", str(burst), "--workers", str(workers), "--out", out]
        self.log = open(os.path.join(sim.dir, "floor.log"), "a")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "ready" not in line:
            self.stop()
            raise RuntimeError("rc-bench floor did not start: %r" % line)
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        stop_process(self.proc)
        self.log.close()
