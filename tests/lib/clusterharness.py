"""A real Kubernetes control plane (scripts/cluster) for a test: kube-apiserver with etcd, the
controller-manager and the scheduler, nodes played by KWOK, and the pinned kubectl and Helm.

Cluster() joins the cluster that tests/run-all.sh started ($RC_E2E_CLUSTER_DIR), or starts its own
in a temporary folder and stops it in stop(). It offers what simharness.Sim offers to the
harnesses built on it (kubectl, kubectl_json, wait_for, kubeconfig, dir), so Operator and Portal
run against it unchanged; as_service_account() gives the view through which an operator runs
with exactly a ServiceAccount's RBAC.
"""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from simharness import ROOT, Sim

SCRIPT = os.path.join(ROOT, "scripts", "cluster")


def script(*args, timeout=3600):
    p = subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("scripts/cluster %s failed (%d):\n%s%s" % (
            " ".join(args), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
    return p.stdout


class Cluster:
    kubectl = Sim.kubectl
    kubectl_json = Sim.kubectl_json
    wait_for = Sim.wait_for

    def __init__(self):
        shared = os.environ.get("RC_E2E_CLUSTER_DIR")
        self.owned = not shared
        self.dir = shared or tempfile.mkdtemp(prefix="rc-cluster-")
        if self.owned:
            script("up", "--dir", self.dir)
        self.bin = os.path.join(self.dir, "bin")
        self.kubectl_bin = os.path.join(self.bin, "kubectl")
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig,
                        PATH=self.bin + os.pathsep + os.environ.get("PATH", ""))

    def helm(self, *args, check=True, timeout=300):
        p = subprocess.run([os.path.join(self.bin, "helm"), *args], capture_output=True,
                           text=True, env=self.env, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("helm %s failed (%d):\n%s%s" % (" ".join(args), p.returncode,
                                                                  p.stdout, p.stderr))
        return p

    def kubeconfig_for(self, namespace, service_account):
        return script("kubeconfig-for", "--dir", self.dir, "--namespace", namespace,
                      "--service-account", service_account).strip()

    def as_service_account(self, namespace, service_account):
        """This cluster, but whoever is given its kubeconfig acts as that ServiceAccount."""
        return ServiceAccountView(self, self.kubeconfig_for(namespace, service_account))

    def audit_writes(self, since=None, user=None):
        """Writes the apiserver recorded in its audit log (verb, resource, namespace/name, user),
        after `since` (a time.time()) and by `user` when given."""
        out = []
        with open(os.path.join(self.dir, "logs", "audit.log")) as f:
            for line in f:
                ev = json.loads(line)
                if ev.get("stage") != "ResponseComplete":
                    continue
                if user and ev["user"]["username"] != user:
                    continue
                if since and iso_seconds(ev["requestReceivedTimestamp"]) < since:
                    continue
                ref = ev.get("objectRef") or {}
                out.append({"verb": ev["verb"], "resource": ref.get("resource", ""),
                            "subresource": ref.get("subresource", ""),
                            "object": "%s/%s" % (ref.get("namespace", ""), ref.get("name", "")),
                            "user": ev["user"]["username"], "code": ev["responseStatus"]["code"],
                            "at": ev["requestReceivedTimestamp"]})
        return out

    def pod_logs(self, namespace, lines):
        """Every container in `namespace` prints `lines`: a file KWOK serves to `kubectl logs`
        (a ClusterLogs object), in the CRI log format a kubelet keeps."""
        path = os.path.join(self.dir, "pod-logs-%s.log" % namespace)
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with open(path, "w") as f:
            f.write("".join("%s stdout F %s\n" % (now, line) for line in lines))
        self.kubectl("apply", "-f", "-", input=json.dumps({
            "apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs",
            "metadata": {"name": "logs-" + namespace},
            "spec": {"selector": {"matchNamespaces": [namespace]},
                     "logs": [{"logsFile": path, "follow": False}]}}))

    def stop(self):
        if self.owned:
            script("down", "--dir", self.dir)
            shutil.rmtree(self.dir, ignore_errors=True)


class ServiceAccountView:
    """kubectl and the rest as the cluster's admin; `kubeconfig` is the ServiceAccount's."""

    def __init__(self, cluster, kubeconfig):
        self.cluster = cluster
        self.kubeconfig = kubeconfig
        self.dir = tempfile.mkdtemp(prefix="sa-", dir=cluster.dir)

    def __getattr__(self, name):
        return getattr(self.cluster, name)


def iso_seconds(stamp):
    """An RFC 3339 time with microseconds as seconds since the epoch (UTC)."""
    import calendar
    base, _, frac = stamp.rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


class ApiserverProcess:
    """What a suite asks of Sim.proc (is the server still there?), for the real apiserver."""

    def __init__(self, cluster_dir):
        with open(os.path.join(cluster_dir, "run", "apiserver.pid")) as f:
            self.pid = int(f.read())

    def poll(self):
        return None if os.path.exists("/proc/%d" % self.pid) else 1


class ClusterTarget(Cluster):
    """A fresh real control plane that speaks to a suite as Sim does: url, token, pki, request().

    The token is a cluster-admin ServiceAccount's, as the simulator's one token can do anything.
    """
    request = Sim.request

    def __init__(self):
        saved = os.environ.pop("RC_E2E_CLUSTER_DIR", None)
        try:
            super().__init__()  # always its own cluster: suites assume an empty one
        finally:
            if saved is not None:
                os.environ["RC_E2E_CLUSTER_DIR"] = saved
        self.pki = os.path.join(self.dir, "pki")
        self.proc = ApiserverProcess(self.dir)
        with open(os.path.join(self.dir, "run", "apiserver.port")) as f:
            self.url = "https://127.0.0.1:%s" % f.read().strip()
        self.kubectl("create", "serviceaccount", "conformance", "-n", "kube-system")
        self.kubectl("create", "clusterrolebinding", "conformance", "--clusterrole=cluster-admin",
                     "--serviceaccount=kube-system:conformance")
        self.token = self.kubectl("create", "token", "conformance", "-n", "kube-system",
                                  "--duration", "24h").stdout.strip()

    def set_faults(self, **faults):
        raise unittest.SkipTest("fault injection exists only in the simulator")
