"""helm/remote-code without a helm binary: what docs/helm.md ("How the chart is tested") promises.

The values validate against the chart's schema and typos fail; every operator flag has exactly one
value that the Deployment renders; the RBAC rules are manifests/' rules; Chart.yaml and the CRD
links are right.
"""
import copy
import json
import os
import re
import subprocess
import sys
import unittest

import jsonschema
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import ROOT, binary  # noqa: E402

CHART = os.path.join(ROOT, "helm", "remote-code")
TEMPLATES = os.path.join(CHART, "templates")
DOC = os.path.join(ROOT, "docs", "helm.md")
MANIFESTS = os.path.join(ROOT, "manifests")

# Operator flags with no value, and why (docs/helm.md lists the same).
NOT_IN_CHART = {
    "help": "prints the flags",
    "kubeconfig": "in a pod the operator uses its ServiceAccount",
    "context": "in a pod the operator uses its ServiceAccount",
    "webui-dir": "the image carries the pages",
}
# Values whose default is not the operator's flag default (docs/helm.md says why).
CHART_DEFAULTS = {
    "namespace": "",
    "leaderElection.enabled": True,
    "workspaces.authUrl": "",
    "datasets.dir": "/datasets",
    "portal.initialAdmins": ["admin"],
    "portal.initialAdminPasswordSecret": "remote-code-admin",
}
# Values that are set as a whole (Kubernetes fields), not walked key by key.
WHOLE_VALUES = {"resources", "nodeSelector"}

RELEASE, RELEASE_NAMESPACE = "remote-code", "remote-code-system"


def read(path):
    with open(path) as f:
        return f.read()


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def default_values():
    return load_yaml(os.path.join(CHART, "values.yaml"))


def schema():
    with open(os.path.join(CHART, "values.schema.json")) as f:
        return json.load(f)


def merged(base, override):
    """Helm's merge of a user's values file over the chart's: maps merge, null deletes."""
    out = copy.deepcopy(base)
    for k, v in override.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merged(out[k], v)
        else:
            out[k] = v
    return out


def leaves(values, prefix=""):
    """Dotted keys of every setting in values."""
    out = {}
    for k, v in values.items():
        key = prefix + k
        if isinstance(v, dict) and key not in WHOLE_VALUES:
            out.update(leaves(v, key + "."))
        else:
            out[key] = v
    return out


def lookup(values, dotted):
    for part in dotted.split("."):
        values = values[part]
    return values


def operator_flags():
    """{flag: default or None} from `remote-code operator --help`."""
    out = subprocess.run([binary(), "operator", "--help"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    flags = {}
    for line in out.splitlines():
        m = re.match(r"^  --([a-z0-9-]+)( arg)?(?: \(=(.*)\))?", line)
        if m:
            flags[m.group(1)] = m.group(3) if m.group(2) else None
    return flags


def doc_table():
    """[(key, flag or None, default, meaning)] from the values table of docs/helm.md."""
    rows = []
    for line in read(DOC).splitlines():
        m = re.match(r"^\| `([A-Za-z.]+)` \| (?:`--([a-z0-9-]+)`|—) \| `(.*)` \| (.+) \|$", line)
        if m:
            rows.append((m.group(1), m.group(2), yaml.safe_load(m.group(3)), m.group(4)))
    return rows


def flag_text(value):
    """A value as the operator's --help shows its default."""
    if isinstance(value, bool):
        return "true" if value else None
    if isinstance(value, list):
        return ",".join(value) or None
    if value == "":
        return None
    return str(value)


class SchemaTest(unittest.TestCase):
    def errors(self, override):
        values = merged(default_values(), override)
        return list(jsonschema.Draft7Validator(schema()).iter_errors(values))

    def test_schema_is_draft07_and_closed_at_every_level(self):
        s = schema()
        self.assertEqual(s["$schema"], "http://json-schema.org/draft-07/schema#")
        jsonschema.Draft7Validator.check_schema(s)
        open_objects = []

        def walk(node, path):
            if isinstance(node, dict):
                if "properties" in node and node.get("additionalProperties") is not False:
                    open_objects.append(path or "(top)")
                for k, v in node.items():
                    if k not in ("if", "then", "else"):  # conditions on a closed object
                        walk(v, path + "/" + k)
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, "%s/%d" % (path, i))

        walk(s, "")
        self.assertEqual(open_objects, [], "objects that accept unknown keys")

    def test_default_values_validate(self):
        self.assertEqual([e.message for e in self.errors({})], [])

    def test_the_documented_values_file_validates(self):
        block = re.search(r"A `my-values.yaml`.*?```yaml\n(.*?)```", read(DOC), re.S)
        self.assertIsNotNone(block, "docs/helm.md has no my-values.yaml example")
        override = yaml.safe_load(block.group(1))
        self.assertIn("workspaces", override)
        self.assertEqual([e.message for e in self.errors(override)], [])

    def test_bad_values_fail(self):
        cases = [
            ("typo at the top", {"replica": 3}, "replica"),
            ("typo in a group", {"portal": {"ingres": {"enabled": True}}}, "ingres"),
            ("typo two levels down", {"portal": {"ingress": {"hots": "x"}}}, "hots"),
            ("typo in the SMTP group", {"notify": {"smtp": {"pasword": "x"}}}, "pasword"),
            ("unknown GPU sharing mode", {"gpu": {"sharing": "full"}}, "full"),
            ("unknown log format", {"log": {"format": "xml"}}, "xml"),
            ("unknown log level", {"log": {"level": "verbose"}}, "verbose"),
            ("negative replicas", {"replicas": -1}, "-1"),
            ("replicas as a string", {"replicas": "2"}, "'2'"),
            ("no workers", {"workers": 0}, "0"),
            ("negative job limit", {"jobs": {"maxRunning": -1}}, "-1"),
            ("portal without a port", {"portal": {"bindAddress": "0"}}, "'0'"),
            ("admins without a password", {"portal": {"initialAdmins": ["alice"],
                                                     "initialAdminPasswordSecret": ""}}, "''"),
            ("admin name kubectl would reject", {"portal": {"initialAdmins": ["Alice"]}}, "Alice"),
            ("datasets dir without a claim", {"datasets": {"claim": ""}}, "''"),
            ("no MIG profiles", {"gpu": {"migProfiles": []}}, "[]"),
            ("MIG profile misspelt", {"gpu": {"migProfiles": ["1g10gb"]}}, "1g10gb"),
            ("SMTP URL without a scheme", {"notify": {"smtp": {"url": "mail:25"}}}, "mail:25"),
            ("bad toleration effect", {"tolerations": [{"key": "a", "effect": "Never"}]}, "Never"),
        ]
        for name, override, shown in cases:
            with self.subTest(name):
                messages = [e.message for e in self.errors(override)]
                self.assertTrue(messages, "accepted: %r" % override)
                self.assertTrue(any(shown in m for m in messages), messages)


class FlagsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flags = operator_flags()
        cls.rows = doc_table()
        cls.values = default_values()
        cls.deployment = read(os.path.join(TEMPLATES, "deployment.yaml")).splitlines()
        cls.helpers = helper_bodies()

    def test_the_table_names_every_flag_once(self):
        self.assertGreater(len(self.flags), 40, "could not read `remote-code operator --help`")
        table_flags = [f for _, f, _, _ in self.rows if f]
        self.assertEqual(len(table_flags), len(set(table_flags)), "a flag in two rows")
        self.assertEqual(sorted(table_flags), sorted(set(self.flags) - set(NOT_IN_CHART)))
        self.assertTrue(set(NOT_IN_CHART) <= set(self.flags), "a flag left out no longer exists")
        for flag in NOT_IN_CHART:
            self.assertIn("`--%s`" % flag, read(DOC))

    def test_the_table_and_values_yaml_have_the_same_keys(self):
        table_keys = [k for k, _, _, _ in self.rows]
        self.assertEqual(len(table_keys), len(set(table_keys)), "a key in two rows")
        self.assertEqual(sorted(table_keys), sorted(leaves(self.values)))

    def test_the_table_shows_the_defaults_of_values_yaml(self):
        for key, _, default, _ in self.rows:
            with self.subTest(key):
                self.assertEqual(default, lookup(self.values, key))

    def test_defaults_are_the_operators_unless_documented(self):
        for key, flag, _, _ in self.rows:
            if not flag:
                continue
            with self.subTest(key):
                value = lookup(self.values, key)
                if key in CHART_DEFAULTS:
                    self.assertEqual(value, CHART_DEFAULTS[key])
                    self.assertIn("`%s`" % key, read(DOC).split("Defaults that differ")[1])
                else:
                    self.assertEqual(flag_text(value), self.flags[flag])

    def test_each_flag_is_rendered_from_its_value(self):
        for key, flag, _, _ in self.rows:
            if not flag:
                continue
            with self.subTest(flag):
                at = [i for i, line in enumerate(self.deployment)
                      if re.search(r"--%s(?![a-z0-9-])" % flag, line)]
                self.assertEqual(len(at), 1, "--%s in deployment.yaml %d times" % (flag, len(at)))
                near = self.deployment[max(at[0] - 1, 0):at[0] + 2]
                self.assertTrue(any(self.names(line, key) for line in near),
                                "--%s is not next to .Values.%s:\n%s"
                                % (flag, key, "\n".join(near)))

    def test_every_value_is_used_by_a_template(self):
        text = "".join(read(os.path.join(TEMPLATES, f)) for f in os.listdir(TEMPLATES))
        for key in leaves(self.values):
            with self.subTest(key):
                self.assertRegex(text, r"\.Values\.%s(?![A-Za-z0-9_])" % re.escape(key))

    def names(self, text, key, seen=()):
        """Whether text mentions .Values.<key>, directly or through the helpers it includes."""
        if re.search(r"\.Values\.%s(?![A-Za-z0-9_.])" % re.escape(key), text):
            return True
        for helper in re.findall(r'include "([^"]+)"', text):
            if helper not in seen and self.names(self.helpers.get(helper, ""), key,
                                                 seen + (helper,)):
                return True
        return False


def helper_bodies():
    """{name: text} of _helpers.tpl's defines (each body runs to the next define)."""
    parts = re.split(r'{{-? define "([^"]+)" -?}}', read(os.path.join(TEMPLATES, "_helpers.tpl")))
    return dict(zip(parts[1::2], parts[2::2]))


def render_rbac(values, release=RELEASE, release_namespace=RELEASE_NAMESPACE):
    """templates/rbac.yaml rendered by the substitution docs/helm.md describes."""
    text = re.sub(r"{{-? ?/\*.*?\*/ ?-?}}\n?", "", read(os.path.join(TEMPLATES, "rbac.yaml")),
                  flags=re.S)
    fullname = release if "remote-code" in release else release + "-remote-code"
    namespace = values["namespace"] or release_namespace

    def value(expr):
        m = re.fullmatch(r"(not )?\.Values\.([A-Za-z.]+)( \| quote)?", expr)
        if not m:
            raise AssertionError("rbac.yaml uses {{ %s }}; keep it to the expressions "
                                 "docs/helm.md lists" % expr)
        v = lookup(values, m.group(2))
        if m.group(1):
            return not v
        return json.dumps(v) if m.group(3) else v

    def inline(m):
        expr = m.group(1).strip()
        if expr == 'include "remote-code.fullname" .':
            return fullname
        if expr == 'include "remote-code.namespace" .':
            return namespace
        return str(value(expr))

    out, keep = [], [True]
    for line in text.splitlines():
        control = re.fullmatch(r"\s*{{- (if (.+?)|end) }}", line)
        if control:
            if control.group(1) == "end":
                keep.pop()
            else:
                keep.append(keep[-1] and bool(value(control.group(2))))
            continue
        if re.fullmatch(r'\s*{{- include "remote-code.labels" \. \| nindent \d+ }}', line):
            continue
        if keep[-1]:
            out.append(re.sub(r"{{-? (.+?) -?}}", inline, line))
    if len(keep) != 1:
        raise AssertionError("rbac.yaml: unbalanced if/end")
    return [d for d in yaml.safe_load_all("\n".join(out)) if d]


def canonical_rules(rules):
    return sorted(json.dumps({k: sorted(v) if isinstance(v, list) else v for k, v in r.items()},
                             sort_keys=True) for r in rules)


class RbacTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifests = {}
        for name in ("clusterrole.yaml", "role.yaml"):
            with open(os.path.join(MANIFESTS, name)) as f:
                for d in yaml.safe_load_all(f):
                    if d:
                        cls.manifests[d["kind"]] = d

    def by_kind(self, docs, kind):
        return [d for d in docs if d["kind"] == kind]

    def test_default_install_has_manifests_rules(self):
        docs = render_rbac(default_values())
        self.assertEqual(sorted(d["kind"] for d in docs),
                         ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"])
        for d in docs:
            with self.subTest(d["kind"]):
                want = self.manifests[d["kind"]]
                self.assertEqual(d["metadata"]["name"], want["metadata"]["name"])
                if d["kind"] in ("Role", "RoleBinding"):
                    self.assertEqual(d["metadata"]["namespace"], RELEASE_NAMESPACE)
                if "rules" in want:
                    self.assertEqual(canonical_rules(d["rules"]), canonical_rules(want["rules"]))
                else:
                    self.assertEqual(d["roleRef"], want["roleRef"])
                    # manifests/ leaves the subject's namespace to kustomize, which sets it to the
                    # install namespace, as the chart does.
                    want_subjects = [{"namespace": RELEASE_NAMESPACE, **x} for x in want["subjects"]]
                    self.assertEqual(d["subjects"], want_subjects)

    def test_lease_rules_follow_the_lease_namespace(self):
        values = merged(default_values(), {"leaderElection": {"namespace": "kube-system"}})
        roles = self.by_kind(render_rbac(values), "Role")
        self.assertEqual(sorted((r["metadata"]["namespace"], r["metadata"]["name"]) for r in roles),
                         [("kube-system", "remote-code-leader-election"),
                          (RELEASE_NAMESPACE, "remote-code")])
        for r in roles:
            leases = [x for x in r["rules"] if "leases" in x["resources"]]
            self.assertEqual(bool(leases), r["metadata"]["namespace"] == "kube-system")
        together = [rule for r in roles for rule in r["rules"]]
        self.assertEqual(canonical_rules(together),
                         canonical_rules(self.manifests["Role"]["rules"]))
        bindings = self.by_kind(render_rbac(values), "RoleBinding")
        self.assertEqual(sorted(b["roleRef"]["name"] for b in bindings),
                         ["remote-code", "remote-code-leader-election"])

    def test_lease_rule_names_the_lease(self):
        values = merged(default_values(), {"leaderElection": {"id": "rc-leader"}})
        role = self.by_kind(render_rbac(values), "Role")[0]
        named = [r["resourceNames"] for r in role["rules"] if "resourceNames" in r]
        self.assertEqual(named, [["rc-leader"]])

    def test_another_release_name_prefixes_every_name(self):
        docs = render_rbac(default_values(), release="gpu", release_namespace="ops")
        for d in docs:
            self.assertEqual(d["metadata"]["name"], "gpu-remote-code")
            for s in d.get("subjects", []):
                self.assertEqual((s["name"], s["namespace"]), ("gpu-remote-code", "ops"))


class ChartTest(unittest.TestCase):
    def test_chart_yaml(self):
        chart = load_yaml(os.path.join(CHART, "Chart.yaml"))
        self.assertEqual(chart["apiVersion"], "v2")
        self.assertEqual(chart["name"], "remote-code")
        self.assertEqual(chart["name"], os.path.basename(CHART), "helm lint wants them equal")
        self.assertEqual(chart["version"], "0.1.0")
        self.assertEqual(chart["appVersion"], "0.1.0")  # a string: 0.1.0 quoted in the file
        self.assertEqual(chart["type"], "application")

    def test_crds_are_links_to_crds(self):
        source = os.path.join(ROOT, "crds")
        wanted = sorted(f for f in os.listdir(source) if f.endswith(".yaml"))
        chart_crds = os.path.join(CHART, "crds")
        self.assertEqual(sorted(os.listdir(chart_crds)), wanted)
        for name in wanted:
            with self.subTest(name):
                link = os.path.join(chart_crds, name)
                self.assertTrue(os.path.islink(link), "%s is a copy, not a link" % name)
                self.assertEqual(os.readlink(link), "../../../crds/" + name)
                with open(link, "rb") as a, open(os.path.join(source, name), "rb") as b:
                    self.assertEqual(a.read(), b.read())

    def test_templates_are_balanced(self):
        for name in sorted(os.listdir(TEMPLATES)):
            text = read(os.path.join(TEMPLATES, name))
            with self.subTest(name):
                self.assertEqual(text.count("{{"), text.count("}}"))
                actions = re.findall(r"{{-?\s*(if|with|range|define|end)\b", text)
                opened = sum(1 for a in actions if a != "end")
                self.assertEqual(opened, actions.count("end"))


if __name__ == "__main__":
    unittest.main()
