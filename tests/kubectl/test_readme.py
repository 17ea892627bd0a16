"""The README's commands, run for real against `remote-code dev`, and the README checked against
what the binary and the controllers say.

- Commands: every command in a ```sh block of README.md (and only those: ```text and ```yaml
  blocks are not commands) runs, in README order, in one bash session, as a user would type them
  after `make dev` in a second terminal. The session's folder holds links to the repository's
  files and `.state`, a link to the state folder of the `remote-code dev` this test started (on
  free ports), so `export KUBECONFIG=$PWD/.state/kubeconfig` and `.state/admin-password` work
  as written. The only rewrite: the portal's address under `make dev`, http://127.0.0.1:8080,
  becomes the one this dev prints. A command that exits non-zero fails the test, named.
  Commands that cannot run here are in SKIPPED, each with its reason and, where one exists,
  what runs instead; an entry the README no longer has fails the test, so the list stays short.
- YAML: each ```yaml block of the README that is a remotecode.dev object is applied and must be
  accepted by the controller (no Valid condition False).
- Flags: every flag of `remote-code operator --help` and `remote-code dev --help` is in the
  README's configuration tables.
- Reasons: every condition and Event reason the controllers set (found in operator/controllers)
  is explained in docs/troubleshooting.md.
- The picture of the portal exists, is a PNG and stays small.

Run with Debian's python (RC_README_SHOW=1 prints what the commands printed):
    /usr/bin/python3 -m unittest -v tests/kubectl/test_readme.py
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import ROOT, binary  # noqa: E402
from devharness import Dev  # noqa: E402

README = os.path.join(ROOT, "README.md")
TROUBLESHOOTING = os.path.join(ROOT, "docs", "troubleshooting.md")
PICTURE = os.path.join(ROOT, "docs", "images", "portal.png")
# The portal's address as `make dev` prints it; the README's commands use it.
MAKE_DEV_PORTAL = "http://127.0.0.1:8080"

# Commands of the README that are not run here: the start of the command -> (why, what runs
# instead or None). Each must still be in the README.
SKIPPED = {
    "make dev": ("this test starts the same `remote-code dev` itself, on free ports", None),
    "make test": ("it runs every test, this one included; CI runs it", None),
    "docker build": ("no Docker engine here; tests/kubectl/test_manifests.py checks the "
                     "Dockerfiles statically", None),
    "helm install": ("it needs a real cluster: tests/cluster/test_e2e_install.py installs the "
                     "chart into one with the pinned Helm", None),
    "scripts/cluster": ("tests/run-all.sh starts the real control plane for the tests/cluster "
                        "suites, which do what these commands do", None),
    "/tmp/rc-cluster/bin/kubectl": ("part of the scripts/cluster example above", None),
    "build/bin/remote-code operator": ("it runs until stopped; tests/cluster/test_e2e_operator.py "
                                       "runs the operator against a real control plane", None),
}

SECONDS_PER_COMMAND = 90


def fenced_blocks(text, language):
    """The bodies of the ```<language> blocks of a Markdown text, in order."""
    return re.findall(r"^```%s\n(.*?)^```" % re.escape(language), text, re.M | re.S)


def commands_of(block):
    """The commands of one sh block: lines joined at a trailing backslash; blank lines and
    comment-only lines dropped."""
    out, current = [], ""
    for line in block.splitlines():
        if current:
            current += "\n" + line
        elif line.strip() and not line.lstrip().startswith("#"):
            current = line
        else:
            continue
        if not current.endswith("\\"):
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return out


def skipped(command):
    for prefix in SKIPPED:
        if command == prefix or command.startswith(prefix + " "):
            return prefix
    return None


def shell_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def readme_commands():
    with open(README) as f:
        text = f.read()
    return [c for block in fenced_blocks(text, "sh") for c in commands_of(block)]


def session_folder(state):
    """A folder that looks like the repository after `make dev`: links to its files, and
    `.state` linked to the dev's state folder."""
    folder = tempfile.mkdtemp(prefix="rc-readme-cwd-")
    for name in os.listdir(ROOT):
        if name != ".state":
            os.symlink(os.path.join(ROOT, name), os.path.join(folder, name))
    os.symlink(state, os.path.join(folder, ".state"))
    return folder


class ReadmeCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dev = Dev(openapi=True)
        cls.folder = session_folder(cls.dev.state)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.dev.interrupt()
        finally:
            cls.dev.kill()
        reports, text = cls.dev.sanitizer_reports(), cls.dev.logs()
        shutil.rmtree(cls.folder, ignore_errors=True)
        shutil.rmtree(cls.dev.state, ignore_errors=True)
        if reports:
            raise AssertionError("remote-code dev reported %r:\n%s" % (reports, text))

    def run_session(self, commands):
        """Runs the commands in one bash, stopping at the first that fails; returns
        (index of the failed command or None, output)."""
        lines = ["set -o pipefail"]
        for i, command in enumerate(commands):
            lines.append("printf '%%s\\n' %s" % shell_quote("$ " + command))
            lines.append(command)
            lines.append("__rc=$?; if [ $__rc -ne 0 ]; then echo \"README-FAILED %d $__rc\"; "
                         "exit 3; fi" % i)
        script = "\n".join(lines) + "\n"
        env = dict(os.environ)
        env.pop("KUBECONFIG", None)  # the README sets it
        p = subprocess.run(["bash", "-c", script], cwd=self.folder, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=SECONDS_PER_COMMAND * max(1, len(commands)))
        m = re.search(r"^README-FAILED (\d+) (\d+)$", p.stdout, re.M)
        if m:
            return int(m.group(1)), p.stdout
        if p.returncode != 0:
            return -1, p.stdout
        return None, p.stdout

    def test_every_sh_command_runs(self):
        commands = readme_commands()
        self.assertGreater(len(commands), 10, "the README's ```sh blocks were not found")
        self.assertTrue(commands[0].startswith("make dev") and commands[1].startswith("make test"),
                        "the README must start with `make dev` and `make test`: %s" % commands[:2])
        used = set()
        to_run = []
        for command in commands:
            prefix = skipped(command)
            if prefix:
                used.add(prefix)
                instead = SKIPPED[prefix][1]
                if instead:
                    to_run.append(instead)
                continue
            to_run.append(command.replace(MAKE_DEV_PORTAL, self.dev.portal))
        self.assertEqual(sorted(set(SKIPPED) - used), [],
                         "SKIPPED lists commands the README no longer has")
        failed, output = self.run_session(to_run)
        if os.environ.get("RC_README_SHOW"):
            print(output)
        if failed is not None:
            which = to_run[failed] if failed >= 0 else "(the session itself)"
            self.fail("README command failed: %s\n--- session output ---\n%s" % (which, output))

    def test_yaml_objects_are_accepted(self):
        with open(README) as f:
            blocks = [b for b in fenced_blocks(f.read(), "yaml")
                      if "apiVersion: remotecode.dev/" in b]
        self.assertGreaterEqual(len(blocks), 3, "the README's three example objects")
        # A namespace of their own keeps them apart from the objects the commands create.
        subprocess.run(["kubectl", "create", "namespace", "readme-yaml"], capture_output=True,
                       env=self.dev.env, timeout=60)
        names = []
        for block in blocks:
            p = subprocess.run(["kubectl", "apply", "-n", "readme-yaml", "-f", "-", "-o", "name"],
                               input=block, capture_output=True, text=True, env=self.dev.env,
                               timeout=60)
            self.assertEqual(p.returncode, 0, "README yaml rejected:\n%s\n%s" % (block, p.stderr))
            names.append(p.stdout.strip())
        deadline = time.time() + 30
        pending = list(names)
        while pending and time.time() < deadline:
            for name in list(pending):
                obj = self.dev.kubectl_json("get", "-n", "readme-yaml", name)
                status = obj.get("status") or {}
                if status.get("observedGeneration") != obj["metadata"].get("generation"):
                    continue
                for c in status.get("conditions", []):
                    if c.get("type") == "Valid":
                        self.assertNotEqual(c.get("status"), "False",
                                            "%s: %s" % (name, c.get("message")))
                pending.remove(name)
            time.sleep(0.3)
        self.assertEqual(pending, [], "the controllers never looked at these")


class ReadmeAgainstTheCode(unittest.TestCase):
    def test_every_flag_is_in_the_configuration_tables(self):
        with open(README) as f:
            text = f.read()
        section = text[text.index("## Configuration"):text.index("## GPU sharing")]
        for command in ("operator", "dev"):
            p = subprocess.run([binary(), command, "--help"], capture_output=True, text=True,
                               timeout=60)
            flags = sorted(set(re.findall(r"^\s+(--[a-z0-9-]+)", p.stdout, re.M)) - {"--help"})
            self.assertGreater(len(flags), 10, p.stdout + p.stderr)
            missing = [f for f in flags if not re.search(r"`%s[ `]" % re.escape(f), section)]
            self.assertEqual(missing, [], "flags of `remote-code %s` the README does not "
                                          "describe" % command)

    def test_every_reason_the_controllers_set_is_explained(self):
        reasons = set()
        patterns = [
            # {"Ready", "False", "Reason", ...}: a Condition written inline
            r'\{\s*"[A-Z][A-Za-z]+",\s*"(?:True|False|Unknown)",\s*"([A-Z][A-Za-z]+)"',
            # Condition{kValidCondition, "False", "Reason", ...}
            r'\{\s*k[A-Z][A-Za-z]+,\s*"(?:True|False|Unknown)",\s*"([A-Z][A-Za-z]+)"',
            # record(obj, "Warning", "Reason", ...) and transitions {"Normal", "Reason", ...}
            r'"(?:Normal|Warning)",\s*"([A-Z][A-Za-z]+)"',
            # blocked("Phase", "Reason", ...), SpecError("Reason", ...), set(..., "Reason", ...)
            r'blocked\(\s*"[A-Za-z]+",\s*"([A-Z][A-Za-z]+)"',
            r'SpecError(?:\s+\w+)?\(\s*"([A-Z][A-Za-z]+)"',
            r'set\(status, at, "[A-Za-z]+", (?:true|false), "([A-Z][A-Za-z]+)"',
            r'k[A-Za-z]+Reason = "([A-Z][A-Za-z]+)"',
            r'throw_if_any\(\s*"([A-Z][A-Za-z]+)"',
        ]
        sources = glob.glob(os.path.join(ROOT, "operator", "controllers", "**", "*.cpp"),
                            recursive=True)
        sources += glob.glob(os.path.join(ROOT, "operator", "api", "*.cpp"))
        sources += glob.glob(os.path.join(ROOT, "include", "remotecode", "controllers", "*.h"))
        for path in sources:
            with open(path) as f:
                code = f.read()
            for pattern in patterns:
                reasons.update(re.findall(pattern, code))
        # The default reason of a SpecError (api::Errors::throw_if_any).
        reasons.add("InvalidSpec")
        # Container waiting reasons come from the kubelet; those the workspace controller words
        # itself are matched by name.
        reasons.update({"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CrashLoopBackOff"})
        self.assertGreater(len(reasons), 30, "the patterns no longer find the reasons: %s"
                           % sorted(reasons))
        with open(TROUBLESHOOTING) as f:
            doc = f.read()
        missing = sorted(r for r in reasons if "`%s`" % r not in doc)
        self.assertEqual(missing, [], "reasons docs/troubleshooting.md does not explain")

    def test_the_portal_picture(self):
        with open(README) as f:
            self.assertIn("](docs/images/portal.png)", f.read())
        with open(PICTURE, "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertLess(len(data), 200 * 1024)


if __name__ == "__main__":
    unittest.main()
