"""The two install paths of docs/install.md against a real control plane (scripts/cluster), with
the pinned Helm and kubectl: the chart lints, renders, installs into a namespace that enforces the
`restricted` Pod Security Standard, becomes Available and uninstalls without leftovers; the
kustomize base in manifests/ is accepted by the apiserver as it is.

KWOK plays the kubelet, so the operator's pods "run" without an image: what is proven is that the
apiserver, its admission and the controllers accept and roll out every object, not the image.

Run with Debian's python:
    /usr/bin/python3 -m unittest -v tests/cluster/test_e2e_install.py
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import ROOT  # noqa: E402
from clusterharness import Cluster  # noqa: E402

CHART = os.path.join(ROOT, "helm", "remote-code")
MANIFESTS = os.path.join(ROOT, "manifests")
RELEASE, HELM_NS = "rc", "rc-helm"


class InstallOnRealCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster()

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def test_helm_lint_is_clean(self):
        out = self.cluster.helm("lint", "--strict", CHART).stdout
        self.assertIn("0 chart(s) failed", out)

    def test_helm_template_is_accepted_by_the_apiserver(self):
        rendered = self.cluster.helm("template", RELEASE, CHART, "--namespace", "rc-dry",
                                     "--include-crds").stdout
        self.cluster.kubectl("create", "namespace", "rc-dry", check=False)
        p = self.cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=rendered)
        self.assertIn("deployment.apps/%s-remote-code created (server dry run)" % RELEASE,
                      p.stdout)

    def test_helm_install_becomes_available_under_restricted_and_uninstalls_cleanly(self):
        c = self.cluster
        c.kubectl("create", "namespace", HELM_NS, check=False)
        c.kubectl("label", "--overwrite", "namespace", HELM_NS,
                  "pod-security.kubernetes.io/enforce=restricted")
        c.kubectl("create", "secret", "generic", "remote-code-admin", "-n", HELM_NS,
                  "--from-literal=password=admin-password-0", check=False)
        c.helm("install", RELEASE, CHART, "--namespace", HELM_NS, "--wait", "--timeout", "180s")
        deployments = json.loads(c.kubectl("get", "deployments", "-n", HELM_NS, "-o",
                                           "json").stdout)["items"]
        self.assertEqual(len(deployments), 1)
        dep = deployments[0]
        self.assertEqual(dep["status"].get("availableReplicas"), dep["spec"]["replicas"])
        events = json.loads(c.kubectl("get", "events", "-n", HELM_NS, "-o", "json").stdout)
        refused = [e["message"] for e in events["items"] if e["reason"] == "FailedCreate"]
        self.assertEqual(refused, [], "pods the apiserver refused")
        status = json.loads(c.helm("status", RELEASE, "-n", HELM_NS, "-o", "json").stdout)
        self.assertEqual(status["info"]["status"], "deployed")

        c.helm("uninstall", RELEASE, "--namespace", HELM_NS, "--wait", "--timeout", "120s")
        selector = "app.kubernetes.io/instance=" + RELEASE
        left = c.kubectl("get", "all,serviceaccounts,roles,rolebindings,configmaps,pvc,pdb",
                         "-n", HELM_NS, "-l", selector, "-o", "name").stdout.split()
        left += c.kubectl("get", "clusterroles,clusterrolebindings", "-l", selector,
                          "-o", "name").stdout.split()
        # Kept on purpose (docs/helm.md): the datasets claim (helm.sh/resource-policy: keep), so
        # uploads outlive the release, and the CRDs, whose removal would delete every user's
        # workspaces and jobs.
        self.assertEqual(left, ["persistentvolumeclaim/remote-code-datasets"],
                         "objects helm uninstall left behind")
        c.kubectl("get", "crd", "workspaces.remotecode.dev")

    def test_kubectl_apply_k_manifests_is_accepted_as_it_is(self):
        # A server-side dry run creates nothing, so the namespace the objects go to must exist.
        self.cluster.kubectl("create", "namespace", "remote-code-system", check=False)
        p = self.cluster.kubectl("apply", "--dry-run=server", "-k", MANIFESTS)
        for obj in ("namespace/remote-code-system", "deployment.apps/remote-code",
                    "clusterrole.rbac.authorization.k8s.io/remote-code",
                    "customresourcedefinition.apiextensions.k8s.io/workspaces.remotecode.dev"):
            self.assertIn(obj, p.stdout)


if __name__ == "__main__":
    unittest.main()
