"""Starts `remote-code operator` against a simulator (tests/lib/simharness.py) for a test.

Operator(sim, *flags) applies the CRDs in crds/ to the simulator, starts the operator with the
simulator's kubeconfig (no metrics or probe ports, so tests can run side by side) and waits for
its ready line. stop() ends it and fails the test if it crashed or a sanitizer reported.
"""
import json
import os
import subprocess
import tempfile
import threading

from simharness import ROOT, binary

CRDS = os.path.join(ROOT, "crds")


def apply_crds(sim):
    sim.kubectl("apply", "-f", CRDS)
    for name in ("templates", "workspaces", "trainingjobs"):
        if os.path.exists(os.path.join(CRDS, name + ".yaml")):
            sim.kubectl("wait", "--for=condition=Established", "--timeout=30s",
                        "crd/%s.remotecode.dev" % name)


def flag_map(args):
    """["--a=1", "--b", "--c", "2"] -> {"a": "1", "b": None, "c": "2"}."""
    out, i = {}, 0
    while i < len(args):
        a = args[i]
        assert a.startswith("--"), "argument %r is not a flag" % a
        name, eq, value = a[2:].partition("=")
        if not eq and i + 1 < len(args) and not args[i + 1].startswith("--"):
            value, i = args[i + 1], i + 1
        out[name] = value if (eq or value) else None
        i += 1
    return out


def deployment_flags(deployment, namespace, workdir):
    """The operator Deployment's args, with what the harness sets itself (namespace, ports, the
    admin and its password file) left to it and local paths for the rest."""
    (c,) = deployment["spec"]["template"]["spec"]["containers"]
    harness_sets = {"namespace", "metrics-bind-address", "health-probe-bind-address",
                    "portal-bind-address", "initial-admins", "initial-admin-password-file"}
    out = []
    for name, value in flag_map(c["args"]).items():
        if name in harness_sets:
            continue
        if name == "datasets-dir":
            value = tempfile.mkdtemp(prefix="datasets-", dir=workdir)
        if value is not None:
            value = value.replace("$(POD_NAMESPACE)", namespace)
        out += ["--" + name] + ([value] if value is not None else [])
    return out


class Operator:
    def __init__(self, sim, *flags, apply=True, namespace="remote-code-system"):
        self.sim = sim
        if apply:
            apply_crds(sim)
            if sim.kubectl("get", "namespace", namespace, check=False).returncode != 0:
                sim.kubectl("create", "namespace", namespace)
        self.log_path = os.path.join(sim.dir, "operator.log")
        self.log = open(self.log_path, "w")
        args = [binary(), "operator", "--kubeconfig", sim.kubeconfig,
                "--metrics-bind-address", "0", "--health-probe-bind-address", "0",
                "--namespace", namespace, "--log-level", "debug"]
        args += list(flags)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if "started" not in line:
            self.proc.wait(timeout=10)
            raise RuntimeError("operator did not start: %r\n%s" % (line, self.logs()))
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def wait_phase(self, kind, fetch, phase, timeout):
        """Waits until fetch() returns an object in `phase` and returns it; on time-out the
        object and the end of this operator's log are in the failure."""
        def reached():
            obj = fetch()
            return obj if obj and (obj.get("status") or {}).get("phase") == phase else None
        try:
            return self.sim.wait_for(reached, timeout=timeout, what="%s %s" % (kind, phase))
        except AssertionError:
            raise AssertionError("%s never became %s: %s\n--- operator log ---\n%s" % (
                kind, phase, json.dumps(fetch(), indent=1), self.logs()[-4000:]))

    def logs(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        text = open(self.log_path).read()
        if self.proc.returncode not in (0, -15) or "ERROR: AddressSanitizer" in text \
                or "runtime error:" in text:
            raise AssertionError("operator exited with %s:\n%s" % (self.proc.returncode,
                                                                  text[-6000:]))
