"""The portal's JSON API (docs/api.md) end to end: `remote-code operator --portal-bind-address`
against `remote-code sim`, driven as a page would drive it (the rc_session cookie, X-CSRF-Token).

- PortalApi: the authorization matrix (every route of docs/api.md x anonymous, owner, other user,
  admin), CSRF, sign-in, sign-out and password change, share links with and without an access
  key, forward-auth for workspace Ingresses, error shapes, tenancy (rc-<user> namespaces with a
  GPU quota), jobs (filters, logs, stop, metrics), datasets, server-sent events and usage.
- SessionExpiry: --session-ttl-seconds 2 (and no --datasets-dir).
- RateLimit: the default limit of 5 failed sign-ins per user and per address; other addresses
  are other loopback addresses (127.0.0.N), which Linux routes to the same listener.
- TrustedHeader: --auth-header X-Forwarded-User, as behind oauth2-proxy.

Each class starts one simulator and one operator; the tests of a class share them and use
their own object names.

Run with Debian's python:
    RC_BIN=build-asan/bin/remote-code /usr/bin/python3 -m unittest -v tests/integration/test_portal.py
"""
import base64
import datetime
import http.client
import itertools
import json
import os
import re
import socket
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from simharness import ROOT, PodScripts, Sim  # noqa: E402
from portalharness import ADMIN, ADMIN_PASSWORD, Portal  # noqa: E402

PASSWORD = "correct-horse-1"
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large",
               415: "unsupported_media_type", 429: "rate_limited", 502: "upstream",
               503: "unavailable"}
OBJECT_KEYS = {"name", "namespace", "createdAt", "spec", "status"}

# Callers of the authorization matrix. "bob naming rc-alice" adds ?namespace=rc-alice, as the
# admin does to reach alice's objects.
ANON, OWNER, OTHER, OTHER_NS, ADMIN_C = ("anonymous", "alice (owner)", "bob (other user)",
                                         "bob naming rc-alice", "admin")


def tpl_spec(sharing=None, image="registry.example/ide:1"):
    spec = {"image": image, "ide": "vscode",
            "resources": {"default": {"gpus": 0, "cpu": "100m", "memory": "256Mi",
                                      "homeSize": "1Gi"},
                          "maximum": {"gpus": 2, "cpu": "4", "memory": "8Gi",
                                      "homeSize": "10Gi"}}}
    if sharing is not None:
        spec["sharing"] = sharing
    return spec


def job_spec():
    # The image of template "tpl": users who are not admins run only their templates' images.
    return {"image": "registry.example/ide:1", "command": ["python", "train.py"],
            "resources": {"gpus": 0, "cpu": "100m", "memory": "128Mi"}}


def documented_routes():
    """Every "METHOD /api/..." and "METHOD /auth/..." that docs/api.md names."""
    text = open(os.path.join(ROOT, "docs", "api.md")).read()
    found = re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/(?:api|auth)/[^`?\s]*)", text)
    return {"%s %s" % (m, p) for m, p in found}


class EventStream:
    """GET /api/v1/events read on a thread: every event as (event, parsed data)."""

    def __init__(self, client):
        self.conn, self.sock, self.resp = client.stream("/api/v1/events")
        self.status = self.resp.status
        self.events = []
        self.ended = False
        self.cond = threading.Condition()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event, data = None, []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    return
                line = line.decode().rstrip("\r\n")
                if line == "":
                    if data:
                        raw = "\n".join(data)
                        try:
                            payload = json.loads(raw)
                        except ValueError:
                            payload = raw
                        with self.cond:
                            self.events.append((event or "message", payload))
                            self.cond.notify_all()
                    event, data = None, []
                elif line.startswith(":"):
                    continue
                elif line.startswith("event:"):
                    event = line[len("event:"):].strip()
                elif line.startswith("data:"):
                    data.append(line[len("data:"):].lstrip(" "))
        except Exception:  # the connection was closed or timed out: the stream ends
            return
        finally:
            with self.cond:
                self.ended = True
                self.cond.notify_all()

    def wait_for(self, pred, timeout):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def close(self):
        try:
            if self.sock:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


class PortalCase(unittest.TestCase):
    """One simulator and one operator with the portal per class."""

    @classmethod
    def portal_flags(cls):
        return ()

    @classmethod
    def portal_options(cls):
        return {}

    @classmethod
    def setUpClass(cls):
        cls.names = itertools.count(1)
        cls.sim = Sim()
        try:
            cls.portal = Portal(cls.sim, *cls.portal_flags(), **cls.portal_options())
        except Exception:
            cls.sim.stop()
            raise
        try:
            cls.portal.wait_synced(cls.admin_client)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.portal.stop()
        finally:
            cls.sim.stop()

    # -- helpers --------------------------------------------------------------------------------

    @classmethod
    def unique(cls, prefix):
        return "%s-%d" % (prefix, next(cls.names))

    @classmethod
    def must(cls, resp, status, what=""):
        statuses = status if isinstance(status, tuple) else (status,)
        if resp.status not in statuses:
            raise AssertionError("%s%sexpected %s, got %r" % (
                what, ": " if what else "", " or ".join(map(str, statuses)), resp))
        return resp.json

    @classmethod
    def admin_client(cls):
        return cls.portal.login(ADMIN, ADMIN_PASSWORD)

    @classmethod
    def create_user(cls, admin, name, role="user", password=PASSWORD):
        return cls.must(admin.post("/api/v1/users", {"username": name, "password": password,
                                                      "role": role}), 201, "creating " + name)

    @classmethod
    def wait_ok(cls, client, path, pred=None, timeout=30, what=None):
        """GET path until 200 (and pred(body)); the body."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = client.get(path)
            if last.status == 200 and (pred is None or pred(last.json)):
                return last.json
            time.sleep(0.2)
        raise AssertionError("timed out waiting for %s (last: %r)\n--- operator log ---\n%s" % (
            what or "GET " + path, last, cls.portal.logs()[-3000:]))

    @classmethod
    def wait_share(cls, admin, template, with_key=False):
        def ready(t):
            share = t.get("share") or {}
            return share.get("token") and (share.get("accessKey") or not with_key)
        return cls.wait_ok(admin, "/api/v1/templates/" + template, ready,
                           what="the share link of " + template)["share"]

    def assertError(self, resp, status, what="", message=None):
        self.must(resp, status, what)
        body = resp.json
        self.assertIsInstance(body, dict, "%s: the error is not a JSON object: %r" % (what, resp))
        self.assertEqual(body.get("error"), ERROR_CODES[status], "%s: %r" % (what, resp))
        self.assertIsInstance(body.get("message"), str, "%s: %r" % (what, resp))
        self.assertTrue(body["message"], "%s: empty message" % what)
        if message is not None:
            self.assertIn(message, body["message"], what)
        return body


class PortalApi(PortalCase):
    @classmethod
    def portal_flags(cls):
        cls.datasets = os.path.join(cls.sim.dir, "datasets")
        # The limiter has its own class; here a few wrong keys and passwords must not lock out
        # the shared users.
        return ("--login-max-failures", "1000", "--datasets-dir", cls.datasets,
                "--max-upload-bytes", "65536")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.fixtures()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def fixtures(cls):
        cls.scripts = PodScripts(cls.sim)
        cls.admin = cls.admin_client()
        cls.create_user(cls.admin, "alice")
        cls.create_user(cls.admin, "bob")
        cls.create_user(cls.admin, "mx-login")
        cls.a = cls.portal.login("alice", PASSWORD)
        cls.b = cls.portal.login("bob", PASSWORD)
        for name, sharing in (("tpl", None), ("mx-tpl", None), ("mx-tpl-put", None),
                              ("tpl-open", {"enabled": True}),
                              ("tpl-key", {"enabled": True, "requireAccessKey": True}),
                              ("mx-share", {"enabled": True})):
            cls.must(cls.admin.post("/api/v1/templates", {"name": name, "spec": tpl_spec(sharing)}),
                     201, "creating template " + name)
        cls.scripts.set("rc-alice", "job-name=mx-job-0", run_seconds="0.5",
                        log="step one\nremotecode.metric loss=1 step=1")
        cls.scripts.set("rc-alice", "job-name=mx-stop-0", run_seconds="600")
        for client, name in ((cls.a, "mx-ws"), (cls.a, "fa-ws"), (cls.b, "b-ws")):
            cls.create_ws(client, name)
        for name in ("mx-job", "mx-stop"):
            cls.create_job(cls.a, name)
        cls.mx_token = cls.wait_share(cls.admin, "mx-share")["token"]
        cls.wait_ok(cls.a, "/api/v1/jobs/mx-job", lambda j: j.get("pods"),
                    what="the pod of mx-job")

    @classmethod
    def create_ws(cls, client, name, spec=None):
        body = cls.must(client.post("/api/v1/workspaces",
                                    {"name": name, "spec": spec or {"template": "tpl"}}),
                        201, "creating workspace " + name)
        cls.wait_ok(client, "/api/v1/workspaces/" + name)
        return body

    @classmethod
    def create_job(cls, client, name):
        body = cls.must(client.post("/api/v1/jobs", {"name": name, "spec": job_spec()}),
                        201, "creating job " + name)
        cls.wait_ok(client, "/api/v1/jobs/" + name)
        return body

    def kube(self, kind, ns, name):
        """The object as kubectl reads it, or None; ns None for cluster-scoped kinds."""
        p = self.sim.kubectl("get", kind, name, *(("-n", ns) if ns else ()), "-o", "json",
                             check=False)
        return json.loads(p.stdout) if p.returncode == 0 else None

    def names(self, resp):
        return {i["name"] for i in self.must(resp, 200)["items"]}

    # -- the authorization matrix ---------------------------------------------------------------

    def fresh_account(self, caller):
        """A signed-in account of the caller's role that may be signed out for good."""
        if caller == ANON:
            return {}
        name = self.unique("acct")
        self.create_user(self.admin, name, "admin" if caller == ADMIN_C else "user")
        return {"client": self.portal.login(name, PASSWORD)}

    def fresh_ws(self, caller):
        name = self.unique("mx-del-ws")
        self.create_ws(self.a, name)
        return {"params": {"name": name}}

    def fresh_job(self, caller):
        name = self.unique("mx-del-job")
        self.create_job(self.a, name)
        return {"params": {"name": name}}

    def fresh_template(self, caller):
        name = self.unique("mx-del-tpl")
        self.must(self.admin.post("/api/v1/templates", {"name": name, "spec": tpl_spec()}), 201)
        self.wait_ok(self.admin, "/api/v1/templates/" + name)
        return {"params": {"name": name}}

    def fresh_dataset(self, caller):
        name = self.unique("mx-del") + ".txt"
        self.must(self.a.post("/api/v1/datasets/" + name, b"hello"), 201, "uploading " + name)
        return {"params": {"name": name}}

    def matrix(self):
        signed_in = lambda ok: {ANON: 401, OWNER: ok, OTHER: ok, ADMIN_C: ok}  # noqa: E731
        admin_only = lambda ok: {ANON: 401, OWNER: 403, OTHER: 403, ADMIN_C: ok}  # noqa: E731
        owner_admin = lambda ok: {ANON: 401, OTHER: 404, OTHER_NS: 404,  # noqa: E731
                                  OWNER: ok, ADMIN_C: ok}
        created = (200, 201)
        u = self.unique
        forward = {"X-Original-URL": "http://portal.example/w/rc-alice/mx-ws/index.html"}
        return [
            dict(route="POST /api/v1/login",
                 expect={ANON: 200, OWNER: 200, OTHER: 200, ADMIN_C: 200},
                 body={"username": "mx-login", "password": PASSWORD}),
            dict(route="POST /api/v1/logout", expect=signed_in(204), setup=self.fresh_account,
                 kind="empty"),
            dict(route="GET /api/v1/me", expect=signed_in(200)),
            dict(route="PUT /api/v1/me/password", expect=signed_in(200), setup=self.fresh_account,
                 body={"currentPassword": PASSWORD, "newPassword": "changed-pass-9"},
                 kind="empty"),
            dict(route="GET /api/v1/users", expect=admin_only(200)),
            dict(route="POST /api/v1/users", expect=admin_only(201),
                 body=lambda c, p: {"username": u("mx-user"), "password": PASSWORD,
                                    "role": "user"}),
            dict(route="GET /api/v1/templates", expect=signed_in(200)),
            dict(route="POST /api/v1/templates", expect=admin_only(201),
                 body=lambda c, p: {"name": u("mx-new-tpl"), "spec": tpl_spec()}),
            dict(route="GET /api/v1/templates/{name}", expect=signed_in(200),
                 params={"name": "mx-tpl"}),
            dict(route="PUT /api/v1/templates/{name}", expect=admin_only(200),
                 params={"name": "mx-tpl-put"},
                 body={"spec": tpl_spec(image="registry.example/ide:2")}),
            dict(route="DELETE /api/v1/templates/{name}", expect=admin_only(204),
                 setup=self.fresh_template, kind="empty"),
            dict(route="GET /api/v1/templates/{name}/build", expect=admin_only(200),
                 params={"name": "mx-tpl"}),
            dict(route="GET /api/v1/shared/{token}", expect=signed_in(200),
                 params={"token": self.mx_token}),
            dict(route="POST /api/v1/shared/{token}/workspaces", expect=signed_in(created),
                 params={"token": self.mx_token}, body={}),
            dict(route="GET /api/v1/workspaces", expect=signed_in(200)),
            dict(route="POST /api/v1/workspaces", expect=signed_in(201),
                 body=lambda c, p: {"name": u("mx-new-ws"), "spec": {"template": "tpl"}}),
            dict(route="GET /api/v1/workspaces/{name}", expect=owner_admin(200),
                 params={"name": "mx-ws"}),
            dict(route="PATCH /api/v1/workspaces/{name}", expect=owner_admin(200),
                 params={"name": "mx-ws"}, body={"running": True}),
            dict(route="DELETE /api/v1/workspaces/{name}", expect=owner_admin(204),
                 setup=self.fresh_ws, kind="empty"),
            dict(route="GET /api/v1/jobs", expect=signed_in(200)),
            dict(route="POST /api/v1/jobs", expect=signed_in(201),
                 body=lambda c, p: {"name": u("mx-new-job"), "spec": job_spec()}),
            dict(route="GET /api/v1/jobs/{name}", expect=owner_admin(200),
                 params={"name": "mx-job"}),
            dict(route="DELETE /api/v1/jobs/{name}", expect=owner_admin(204),
                 setup=self.fresh_job, kind="empty"),
            dict(route="POST /api/v1/jobs/{name}/stop", expect=owner_admin(200),
                 params={"name": "mx-stop"}),
            dict(route="POST /api/v1/jobs/{name}/resume", expect=owner_admin(200),
                 params={"name": "mx-stop"}),
            dict(route="GET /api/v1/jobs/{name}/logs", expect=owner_admin(200),
                 params={"name": "mx-job"}, kind="text"),
            dict(route="GET /api/v1/jobs/{name}/metrics", expect=owner_admin(200),
                 params={"name": "mx-job"}),
            dict(route="GET /api/v1/datasets", expect=signed_in(200)),
            dict(route="POST /api/v1/datasets/{name}", expect=signed_in(201),
                 setup=lambda c: {"params": {"name": u("mx-up") + ".txt"}}, body=b"hello\n"),
            # Datasets are one shared volume that everyone lists: another user's dataset is
            # visible, so deleting it is forbidden rather than not found.
            dict(route="DELETE /api/v1/datasets/{name}",
                 expect={ANON: 401, OTHER: 403, OWNER: 204, ADMIN_C: 204},
                 setup=self.fresh_dataset, kind="empty"),
            dict(route="GET /api/v1/usage", expect=signed_in(200)),
            dict(route="GET /api/v1/events", expect=signed_in(200), kind="stream"),
            # Forward-auth lets only the owner in: an admin is "anyone else" too.
            dict(route="GET /auth/workspace", expect={ANON: 401, OWNER: 200, OTHER: 403,
                                                      ADMIN_C: 403},
                 headers=forward, kind="auth"),
        ]

    def call(self, row, caller, client):
        method, pattern = row["route"].split(" ", 1)
        ctx = row["setup"](caller) if "setup" in row else {}
        params = dict(row.get("params", {}), **ctx.get("params", {}))
        path = pattern.format(**params)
        if OTHER_NS in row["expect"] and caller in (ADMIN_C, OTHER_NS):
            path += "?namespace=rc-alice"
        client = (ctx.get("client") or client).copy()
        body = row.get("body")
        if callable(body):
            body = body(caller, params)
        if row.get("kind") == "stream":
            conn, sock, r = client.stream(path)
            try:
                raw = r.read() if r.status != 200 else b""
                ctype = r.headers.get("Content-Type", "")
            finally:
                if sock:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                conn.close()
            return path, r.status, ctype, raw
        r = client.request(method, path, body, headers=row.get("headers"))
        return path, r.status, r.headers.get("Content-Type", ""), r.raw

    def test_authorization_matrix(self):
        """Every documented route x anonymous, owner, other user, admin: the status a caller
        sees, and a JSON error of the documented shape for every refusal."""
        rows = self.matrix()
        covered = {row["route"] for row in rows}
        missing = documented_routes() - covered
        self.assertFalse(missing, "routes of docs/api.md missing from the matrix: %s" % missing)
        clients = {ANON: self.portal.client(), OWNER: self.a, OTHER: self.b, OTHER_NS: self.b,
                   ADMIN_C: self.admin}
        failures = []
        for row in rows:
            kind = row.get("kind", "json")
            for caller, want in row["expect"].items():
                wants = want if isinstance(want, tuple) else (want,)
                try:
                    path, status, ctype, raw = self.call(row, caller, clients[caller])
                except Exception as e:  # a broken fixture or connection names the cell too
                    failures.append("%s as %s: %s: %s" % (row["route"], caller,
                                                          type(e).__name__, e))
                    continue
                text = raw.decode("utf-8", "replace")
                cell = "%s as %s (%s)" % (row["route"], caller, path)
                if status not in wants:
                    failures.append("%s: expected %s, got %d %s" % (
                        cell, " or ".join(map(str, wants)), status, text[:200]))
                    continue
                if status >= 400 and kind != "auth":
                    try:
                        body = json.loads(text)
                    except ValueError:
                        body = None
                    if not (isinstance(body, dict) and body.get("error") == ERROR_CODES[status]
                            and isinstance(body.get("message"), str)):
                        failures.append("%s: %d without the error body %r: %s" % (
                            cell, status, ERROR_CODES[status], text[:200]))
                elif status == 204 and raw:
                    failures.append("%s: 204 with a body: %s" % (cell, text[:200]))
                elif status < 300 and kind == "json":
                    if "application/json" not in ctype:
                        failures.append("%s: Content-Type %r" % (cell, ctype))
                    try:
                        if not isinstance(json.loads(text), dict):
                            raise ValueError
                    except ValueError:
                        failures.append("%s: not a JSON object: %s" % (cell, text[:200]))
                elif status < 300 and kind == "text" and not ctype.startswith("text/plain"):
                    failures.append("%s: Content-Type %r, not text/plain" % (cell, ctype))
                elif status < 300 and kind == "stream" and \
                        not ctype.startswith("text/event-stream"):
                    failures.append("%s: Content-Type %r, not text/event-stream" % (cell, ctype))
        if failures:
            self.fail("%d of the authorization matrix's cells are wrong:\n  %s" % (
                len(failures), "\n  ".join(failures)))

    def test_denied_writes_change_nothing(self):
        for path, method, body in (("/api/v1/workspaces/mx-ws", "PATCH", {"running": False}),
                                   ("/api/v1/workspaces/mx-ws", "DELETE", None),
                                   ("/api/v1/jobs/mx-job", "DELETE", None)):
            for q in ("", "?namespace=rc-alice"):
                self.assertError(self.b.request(method, path + q, body), 404, method + " " + path)
        time.sleep(1)
        self.assertTrue(self.kube("workspace", "rc-alice", "mx-ws")["spec"]["running"])
        self.assertIsNotNone(self.kube("trainingjob", "rc-alice", "mx-job"))
        # Admin-only writes by a user: the template is untouched.
        self.assertError(self.a.put("/api/v1/templates/mx-tpl",
                                    {"spec": tpl_spec(image="evil.example/x:1")}), 403)
        self.assertError(self.a.delete("/api/v1/templates/mx-tpl"), 403)
        time.sleep(0.5)
        t = self.kube("template", None, "mx-tpl")
        self.assertEqual(t["spec"]["image"], "registry.example/ide:1")

    # -- accounts, sessions, CSRF ---------------------------------------------------------------

    def test_login_sets_a_session_cookie_and_me_answers(self):
        c = self.portal.client()
        r = c.login("alice", PASSWORD)
        body = self.must(r, 200, "login")
        self.assertEqual(body["user"], {"username": "alice", "role": "user",
                                        "namespace": "rc-alice"})
        self.assertTrue(body["csrfToken"])
        value, attrs = r.cookies()["rc_session"]
        self.assertTrue(value)
        self.assertIn("httponly", attrs)
        self.assertEqual(attrs.get("samesite", "").lower(), "lax")
        self.assertEqual(attrs.get("path"), "/")
        self.assertNotIn("secure", attrs, "plain HTTP without X-Forwarded-Proto")
        me = self.must(c.get("/api/v1/me"), 200)
        self.assertEqual(me, body)

        behind_tls = self.portal.client().login("alice", PASSWORD,
                                                headers={"X-Forwarded-Proto": "https"})
        self.must(behind_tls, 200, "login behind TLS")
        self.assertIn("secure", behind_tls.cookies()["rc_session"][1])

        for user, pw in (("alice", "wrong-password"), ("nobody", PASSWORD), ("alice", "")):
            r = self.portal.client().login(user, pw)
            self.assertError(r, 401, "login %s/%r" % (user, pw))
            self.assertNotIn("rc_session", {k for k, (v, _) in r.cookies().items() if v})
        self.assertError(self.portal.client().post("/api/v1/login", "{bad json", csrf=False), 400)

    def test_a_forged_or_tampered_cookie_is_not_a_session(self):
        payload, _, mac = self.a.cookie.partition(".")
        forged = []
        try:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims["user"] = ADMIN
            forged.append(base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":"))
                                                   .encode()).decode().rstrip("=") + "." + mac)
        except (ValueError, TypeError, KeyError):
            pass
        flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
        forged += [flipped + "." + mac, payload + ".", "garbage", self.b.cookie.split(".")[0]
                   + "." + mac]
        for cookie in forged:
            c = self.portal.client()
            c.cookie = cookie
            self.assertError(c.get("/api/v1/me"), 401, "cookie %r" % cookie)
            self.assertError(c.get("/api/v1/users"), 401, "cookie %r" % cookie)

    def test_csrf_token_is_required_and_bound_to_the_session(self):
        a = self.a
        wanted = {"error": "forbidden", "message": "missing or wrong X-CSRF-Token"}
        ws = lambda n: {"name": n, "spec": {"template": "tpl"}}  # noqa: E731
        r = a.post("/api/v1/workspaces", ws("csrf-none"), csrf=False)
        self.must(r, 403, "no token")
        self.assertEqual(r.json, wanted)
        r = a.post("/api/v1/workspaces", ws("csrf-wrong"), csrf=False,
                   headers={"X-CSRF-Token": "0" * len(a.csrf)})
        self.must(r, 403, "a wrong token")
        self.assertEqual(r.json, wanted)
        r = a.post("/api/v1/workspaces", ws("csrf-bobs"), csrf=False,
                   headers={"X-CSRF-Token": self.b.csrf})
        self.must(r, 403, "bob's token with alice's cookie")
        self.assertEqual(r.json, wanted)
        time.sleep(1.1)  # a later session, so its cookie differs from a's
        a2 = self.portal.login("alice", PASSWORD)
        self.assertNotEqual(a2.cookie, a.cookie)
        self.assertNotEqual(a2.csrf, a.csrf, "two sessions of alice share a CSRF token")
        r = a.post("/api/v1/workspaces", ws("csrf-other"), csrf=False,
                   headers={"X-CSRF-Token": a2.csrf})
        self.must(r, 403, "the token of alice's other session")
        for method, path, body in (("PATCH", "/api/v1/workspaces/mx-ws", {"running": False}),
                                   ("DELETE", "/api/v1/workspaces/mx-ws", None),
                                   ("POST", "/api/v1/jobs/mx-stop/stop", None),
                                   ("PUT", "/api/v1/me/password",
                                    {"currentPassword": PASSWORD, "newPassword": "x" * 12}),
                                   ("POST", "/api/v1/logout", None)):
            r = a.request(method, path, body, csrf=False)
            self.must(r, 403, "%s %s without a token" % (method, path))
            self.assertEqual(r.json, wanted)
        self.must(self.admin.post("/api/v1/users", {"username": "csrf-user", "password": PASSWORD,
                                                    "role": "admin"}, csrf=False), 403,
                  "POST /api/v1/users without a token")
        time.sleep(1)
        for n in ("csrf-none", "csrf-wrong", "csrf-bobs", "csrf-other"):
            self.assertIsNone(self.kube("workspace", "rc-alice", n), n + " was created")
        self.assertTrue(self.kube("workspace", "rc-alice", "mx-ws")["spec"]["running"])
        self.must(a.get("/api/v1/me"), 200, "the session still works")
        self.must(a.post("/api/v1/workspaces", ws("csrf-ok")), 201, "with the token")
        self.must(a2.post("/api/v1/workspaces", ws("csrf-ok2")), 201, "with the other token")

    def test_logout_ends_every_session_of_the_user(self):
        self.create_user(self.admin, "leaver")
        s1 = self.portal.login("leaver", PASSWORD)
        s2 = self.portal.login("leaver", PASSWORD)
        old = s1.copy()
        r = s1.post("/api/v1/logout")
        self.must(r, 204, "logout")
        value, attrs = r.cookies().get("rc_session", (None, {}))
        self.assertTrue(value == "" or attrs.get("max-age") == "0" or "expires" in attrs,
                        "the cookie is not cleared: %r" % r.headers.get_all("Set-Cookie"))
        self.assertError(old.get("/api/v1/me"), 401, "the old cookie")
        self.assertError(s2.get("/api/v1/me"), 401, "the user's other session")
        self.assertError(old.post("/api/v1/workspaces", {"name": "after-logout",
                                                         "spec": {"template": "tpl"}}), 401)
        self.must(self.portal.login("leaver", PASSWORD).get("/api/v1/me"), 200,
                  "signing in again")
        self.must(self.a.get("/api/v1/me"), 200, "other users stay signed in")

    def test_password_change_ends_other_sessions(self):
        self.create_user(self.admin, "changer")
        s1 = self.portal.login("changer", PASSWORD)
        s2 = self.portal.login("changer", PASSWORD)
        r = s1.put("/api/v1/me/password", {"currentPassword": "not-the-password",
                                           "newPassword": "new-password-1"})
        self.assertTrue(400 <= r.status < 500 and r.status != 401, r)
        self.must(s2.get("/api/v1/me"), 200, "a refused change ends nothing")
        self.assertError(s1.put("/api/v1/me/password", {"currentPassword": PASSWORD,
                                                        "newPassword": "short"}), 400)
        self.assertError(s1.put("/api/v1/me/password", {"currentPassword": PASSWORD}), 400)
        self.must(self.portal.client().login("changer", PASSWORD), 200, "the old password still")

        self.must(s1.put("/api/v1/me/password", {"currentPassword": PASSWORD,
                                                 "newPassword": "new-password-1"}), 200)
        self.assertError(s2.get("/api/v1/me"), 401, "the other session")
        self.must(s1.get("/api/v1/me"), 200, "the session that changed it")
        self.assertError(self.portal.client().login("changer", PASSWORD), 401, "old password")
        self.must(self.portal.client().login("changer", "new-password-1"), 200, "new password")

    def test_users_admin_creates_users_and_admins(self):
        users = {u["username"]: u for u in self.must(self.admin.get("/api/v1/users"), 200)["items"]}
        self.assertEqual(users["alice"], {"username": "alice", "role": "user",
                                          "namespace": "rc-alice"})
        self.assertEqual(users[ADMIN]["role"], "admin")
        for u in users.values():
            self.assertEqual(set(u), {"username", "role", "namespace"}, u)
        body = self.create_user(self.admin, "dora", role="admin")
        self.assertEqual(body, {"username": "dora", "role": "admin", "namespace": "rc-dora"})
        dora = self.portal.login("dora", PASSWORD)
        self.must(dora.get("/api/v1/users"), 200, "a new admin lists users")
        for bad, field in (({"username": "Bad_Name", "password": PASSWORD, "role": "user"},
                            "username"),
                           ({"username": "-dash", "password": PASSWORD, "role": "user"},
                            "username"),
                           ({"username": "x" * 33, "password": PASSWORD, "role": "user"},
                            "username"),
                           ({"username": "shorty", "password": "1234567", "role": "user"},
                            "password"),
                           ({"username": "rooty", "password": PASSWORD, "role": "root"},
                            "role")):
            r = self.admin.post("/api/v1/users", bad)
            self.assertError(r, 400, json.dumps(bad))
            self.assertIn(field, r.json["message"].lower(), json.dumps(bad))
        self.assertError(self.admin.post("/api/v1/users", {"username": "alice",
                                                           "password": PASSWORD,
                                                           "role": "user"}), 409)
        # The password is stored as a scrypt hash, never as given.
        secret = self.kube("secret", "remote-code-system", "user-dora")
        stored = json.dumps(secret)
        self.assertNotIn(PASSWORD, stored)
        self.assertNotIn(base64.b64encode(PASSWORD.encode()).decode(), stored)
        self.assertNotIn(PASSWORD, self.portal.logs())

    # -- share links ----------------------------------------------------------------------------

    def test_share_link_without_access_key(self):
        share = self.wait_share(self.admin, "tpl-open")
        token = share["token"]
        self.assertEqual(share["url"], "/share/" + token)
        self.assertFalse(share.get("accessKey"), "no access key without requireAccessKey")
        self.assertGreaterEqual(len(token), 16, "a share token must be unguessable")
        as_user = self.must(self.a.get("/api/v1/templates/tpl-open"), 200)
        self.assertNotIn("share", as_user, "only admins see the share token")
        self.assertNotIn(token, json.dumps(self.must(self.a.get("/api/v1/templates"), 200)))

        info = self.must(self.a.get("/api/v1/shared/" + token), 200)
        self.assertTrue({"template", "ide", "defaults", "accessKeyRequired", "workspace"}
                        <= set(info), info)
        self.assertIs(info["accessKeyRequired"], False)
        self.assertIsNone(info["workspace"])
        self.assertEqual(info["ide"], "vscode")

        ws = self.must(self.a.post("/api/v1/shared/%s/workspaces" % token, {}), 201, "first")
        self.assertEqual(ws["namespace"], "rc-alice")
        self.assertEqual(ws["spec"]["template"], "tpl-open")
        self.assertEqual(ws["spec"]["owner"], "alice")
        name = ws["name"]
        self.wait_ok(self.a, "/api/v1/shared/" + token,
                     lambda i: (i.get("workspace") or {}).get("name") == name,
                     what="the share info naming alice's workspace")
        self.must(self.a.patch("/api/v1/workspaces/" + name, {"running": False}), 200)
        self.sim.wait_for(lambda: self.kube("workspace", "rc-alice", name)["spec"]["running"]
                          is False, what="stopped")
        self.wait_ok(self.a, "/api/v1/workspaces/" + name,
                     lambda w: w["spec"].get("running") is False)
        again = self.must(self.a.post("/api/v1/shared/%s/workspaces" % token, {}), 200, "repeat")
        self.assertEqual(again["name"], name)
        self.sim.wait_for(lambda: self.kube("workspace", "rc-alice", name)["spec"]["running"]
                          is True, what="started again by the share link")
        self.assertEqual(len([w for w in self.must(self.a.get("/api/v1/workspaces"), 200)["items"]
                              if w["spec"]["template"] == "tpl-open"]), 1)
        bobs = self.must(self.b.post("/api/v1/shared/%s/workspaces" % token, {}), 201, "bob")
        self.assertEqual((bobs["namespace"], bobs["spec"]["owner"]), ("rc-bob", "bob"))

        anon = self.portal.client()
        self.assertError(anon.get("/api/v1/shared/" + token), 401)
        self.assertError(anon.post("/api/v1/shared/%s/workspaces" % token, {}), 401)
        for bad in ("no-such-token", token[:-1] + ("0" if token[-1] != "0" else "1")):
            self.assertError(self.a.get("/api/v1/shared/" + bad), 404, bad)
            self.assertError(self.a.post("/api/v1/shared/%s/workspaces" % bad, {}), 404, bad)

    def test_share_link_with_access_key(self):
        share = self.wait_share(self.admin, "tpl-key", with_key=True)
        token, key = share["token"], share["accessKey"]
        self.assertNotIn("share", self.must(self.a.get("/api/v1/templates/tpl-key"), 200))
        info = self.must(self.a.get("/api/v1/shared/" + token), 200)
        self.assertIs(info["accessKeyRequired"], True)
        self.assertNotIn(key, json.dumps(info), "the share info must not reveal the key")
        wrong = {"error": "forbidden", "message": "the access key is wrong"}
        for body in ({}, {"accessKey": ""}, {"accessKey": "wrong-key"}, {"accessKey": key + "x"},
                     {"accessKey": key[:-1]}):
            r = self.a.post("/api/v1/shared/%s/workspaces" % token, body)
            self.must(r, 403, json.dumps(body))
            self.assertEqual(r.json, wrong)
        time.sleep(0.5)
        self.assertFalse([w for w in self.sim.kubectl_json("get", "workspaces", "-n",
                                                           "rc-alice")["items"]
                          if w["spec"]["template"] == "tpl-key"], "created with a wrong key")
        ws = self.must(self.a.post("/api/v1/shared/%s/workspaces" % token, {"accessKey": key}),
                       201, "the right key")
        self.assertEqual((ws["namespace"], ws["spec"]["template"], ws["spec"]["owner"]),
                         ("rc-alice", "tpl-key", "alice"))
        self.assertError(self.portal.client().post("/api/v1/shared/%s/workspaces" % token,
                                                   {"accessKey": key}, csrf=False), 401)

    def test_users_run_only_images_of_templates_they_may_use(self):
        self.must(self.admin.post("/api/v1/templates", {
            "name": "tpl-secret", "spec": tpl_spec({"enabled": True, "requireAccessKey": True},
                                                   image="registry.example/secret:1")}), 201)
        self.wait_ok(self.a, "/api/v1/templates/tpl-secret")
        secret = dict(job_spec(), image="registry.example/secret:1")
        r = self.a.post("/api/v1/jobs", {"name": "img-secret", "spec": secret})
        self.assertError(r, 403, "the image of a template that needs an access key")
        self.assertIn("spec.image", r.json["message"])
        self.assertError(self.a.post("/api/v1/jobs", {"name": "img-other", "spec": dict(
            job_spec(), image="registry.example/anything:1")}), 403, "an image of no template")
        self.assertError(self.a.post("/api/v1/jobs", {"name": "img-tpl", "spec": {
            "template": "tpl-secret", "command": ["x"]}}), 403, "the template itself")
        self.must(self.a.post("/api/v1/jobs", {"name": "img-open", "spec": job_spec()}), 201,
                  "the image of an open template")
        self.must(self.admin.post("/api/v1/jobs", {"name": "img-admin", "spec": secret}), 201,
                  "an admin runs any image")
        self.assertEqual({j["metadata"]["name"] for j in self.sim.kubectl_json(
            "get", "trainingjobs", "-A")["items"]} & {"img-secret", "img-other", "img-tpl"}, set())

    def test_only_admins_raise_a_jobs_priority(self):
        r = self.a.post("/api/v1/jobs", {"name": "prio-user", "spec": dict(job_spec(), priority=5)})
        self.assertError(r, 403, "a user above the default priority")
        self.assertIn("spec.priority", r.json["message"])
        self.must(self.a.post("/api/v1/jobs", {"name": "prio-low",
                                              "spec": dict(job_spec(), priority=-5)}), 201)
        self.must(self.admin.post("/api/v1/jobs", {"name": "prio-admin",
                                                  "spec": dict(job_spec(), priority=5)}), 201)
        for priority in (2 ** 63 - 1, 1001, -1001):
            r = self.admin.post("/api/v1/jobs", {"name": "prio-huge",
                                                 "spec": dict(job_spec(), priority=priority)})
            self.assertError(r, 400, "priority %d" % priority)
            self.assertIn("spec.priority", r.json["message"])

    # -- forward-auth ---------------------------------------------------------------------------

    def test_forward_auth_lets_only_the_owner_in_and_records_activity(self):
        url = "http://portal.example/w/rc-alice/fa-ws/x"
        self.assertIsNone(((self.kube("workspace", "rc-alice", "fa-ws")["metadata"]
                            .get("annotations")) or {}).get("remotecode.dev/last-activity"))

        def ask(client, original):
            return client.get("/auth/workspace", headers={"X-Original-URL": original}
                              if original is not None else None)
        r = ask(self.a, url)
        self.must(r, 200, "the owner")
        self.assertEqual(r.header("X-Remote-User"), "alice")
        self.must(ask(self.portal.client(), url), 401, "anonymous")
        self.must(ask(self.b, url), 403, "another user")
        self.must(ask(self.admin, url), 403, "an admin")
        self.must(ask(self.b, "http://portal.example/w/rc-bob/b-ws/"), 200, "bob's own")
        self.must(ask(self.a, "http://portal.example/w/rc-bob/b-ws/"), 403, "alice at bob's")
        self.must(ask(self.a, "http://portal.example/w/rc-alice/no-such-ws/"), 403,
                  "a workspace that does not exist")
        # nginx routes the normalized path, but the auth request carries the original URI:
        # dot segments must not let alice's workspace vouch for bob's.
        problems = []
        for sneaky in ("http://portal.example/w/rc-alice/fa-ws/../../rc-bob/b-ws/",
                       "http://portal.example/w/rc-alice/fa-ws/%2e%2e/%2e%2e/rc-bob/b-ws/",
                       "http://portal.example/w/rc-alice/fa-ws/..%2f..%2frc-bob/b-ws/",
                       "http://portal.example/x/rc-alice/fa-ws/",
                       "", None):
            r = ask(self.a, sneaky)
            if r.status not in (400, 403) or r.header("X-Remote-User"):
                problems.append("X-Original-URL %r as alice: expected 403, got %d (X-Remote-User"
                                " %r)" % (sneaky, r.status, r.header("X-Remote-User")))

        def activity():
            w = self.kube("workspace", "rc-alice", "fa-ws")
            return ((w["metadata"].get("annotations") or {})
                    .get("remotecode.dev/last-activity"))
        stamp = self.sim.wait_for(activity, timeout=15, what="remotecode.dev/last-activity")
        age = datetime.datetime.now(datetime.timezone.utc) - \
            datetime.datetime.fromisoformat(stamp)
        self.assertLess(abs(age.total_seconds()), 120, stamp)
        self.assertFalse(problems, "\n".join(problems))

    # -- errors ---------------------------------------------------------------------------------

    def test_error_shapes(self):
        a = self.a
        self.assertError(a.get("/api/v1/no-such-route"), 404)
        self.assertError(a.get("/api/v2/workspaces"), 404)
        self.assertError(a.get("/api/v1/workspaces/no-such-ws"), 404)
        self.assertError(a.get("/api/v1/jobs/no-such-job"), 404)
        self.assertError(a.get("/api/v1/templates/no-such-template"), 404)
        self.assertError(a.put("/api/v1/workspaces", {}), 405)
        self.assertError(a.delete("/api/v1/workspaces"), 405)
        self.assertError(a.post("/api/v1/workspaces", "{not json"), 400)
        self.assertError(a.post("/api/v1/workspaces", "[1, 2]"), 400)
        self.assertError(a.post("/api/v1/workspaces", ""), 400)
        # Each bad write: 400 naming the field (the controller would refuse it the same way).
        ws, jobs, tpls = "/api/v1/workspaces", "/api/v1/jobs", "/api/v1/templates"
        cases = (
            (a, ws, {"name": "bad-gpus", "spec": {"template": "tpl", "resources": {"gpus": -1}}},
             "gpus"),
            (a, ws, {"name": "too-many", "spec": {"template": "tpl", "resources": {"gpus": 3}}},
             "gpus"),
            (a, ws, {"name": "Not_A_Name", "spec": {"template": "tpl"}}, "name"),
            (a, ws, {"name": "no-spec"}, "spec"),
            (a, ws, {"name": "no-tpl", "spec": {}}, "template"),
            (a, ws, {"name": "bad-idle", "spec": {"template": "tpl", "idleTimeoutMinutes": -5}},
             "idleTimeoutMinutes"),
            (a, ws, {"name": "huge-idle", "spec": {"template": "tpl",
                                                   "idleTimeoutMinutes": 2 ** 63 - 1}},
             "idleTimeoutMinutes"),
            (a, ws, {"name": "bad-ret", "spec": {"template": "tpl", "homeRetention": "Forever"}},
             "homeRetention"),
            (a, jobs, {"name": "no-image", "spec": {"command": ["x"]}}, ("image", "template")),
            (a, jobs, {"name": "bad-gpus", "spec": dict(job_spec(), resources={"gpus": 99})},
             "gpus"),
            (a, jobs, {"name": "job-too-many", "spec": {"template": "tpl", "command": ["x"],
                                                        "resources": {"gpus": 3}}}, "gpus"),
            (self.admin, tpls, {"name": "bad-tpl", "spec": {"ide": "emacs", "image": "x:1"}},
             "ide"),
        )
        problems = []
        for client, path, body, fields in cases:
            fields = fields if isinstance(fields, tuple) else (fields,)
            r = client.post(path, body)
            message = (r.json or {}).get("message", "") if isinstance(r.json, dict) else ""
            if r.status != 400 or (r.json or {}).get("error") != "bad_request" or \
                    not any(f in message for f in fields):
                problems.append("POST %s %s: expected 400 naming %s, got %d %s" % (
                    path, json.dumps(body), " or ".join(fields), r.status, r.text[:200]))
        self.assertFalse(problems, "\n".join(problems))
        time.sleep(0.5)
        self.assertEqual([w["metadata"]["name"] for w in self.sim.kubectl_json(
            "get", "workspaces", "-n", "rc-alice")["items"]
            if w["metadata"]["name"] in ("bad-gpus", "too-many", "no-tpl", "bad-idle", "bad-ret")],
            [])

        self.must(a.post("/api/v1/workspaces", {"name": "dup", "spec": {"template": "tpl"}}), 201)
        self.assertError(a.post("/api/v1/workspaces", {"name": "dup",
                                                       "spec": {"template": "tpl"}}), 409)
        # bob's namespace is another: the same name is free there.
        self.must(self.b.post("/api/v1/workspaces", {"name": "dup", "spec": {"template": "tpl"}}),
                  201, "the same name in bob's namespace")
        self.must(a.post("/api/v1/jobs", {"name": "dup-job", "spec": job_spec()}), 201)
        self.assertError(a.post("/api/v1/jobs", {"name": "dup-job", "spec": job_spec()}), 409)
        self.assertError(self.admin.post("/api/v1/templates", {"name": "tpl", "spec": tpl_spec()}),
                         409)
        # Pages are not API routes: an unknown /api/ path never falls through to a page.
        r = self.portal.client().get("/login")
        self.must(r, 200, "the sign-in page")
        self.assertIn("text/html", r.headers.get("Content-Type", ""))

    def test_a_30000_character_field_is_refused_and_everything_stays_up(self):
        # Matching such a value with a backtracking regex overflowed the stack and took the
        # operator, the portal and the simulated API server down with it.
        long = "a" * 30000
        jobs = "/api/v1/jobs"
        cases = (
            ("env", dict(job_spec(), env=[{"name": long, "value": "1"}])),
            ("sweep", dict(job_spec(), sweep={"parameters": [{"name": long, "values": ["1"]}]})),
            ("ref", dict(job_spec(), source={"git": {"url": "https://git.example/r.git",
                                                       "ref": long}})),
            ("url", dict(job_spec(), source={"git": {"url": "https://git.example/" + long}})),
        )
        problems = []
        for field, spec in cases:
            r = self.a.post(jobs, {"name": "long-" + field, "spec": spec})
            message = (r.json or {}).get("message", "") if isinstance(r.json, dict) else ""
            if r.status != 400 or field not in message or len(message) > 2000:
                problems.append("%s: expected a short 400 naming it, got %d %s" % (
                    field, r.status, r.text[:300]))
        self.assertFalse(problems, "\n".join(problems))
        self.must(self.a.get("/api/v1/me"), 200, "the portal after the long fields")
        stored = self.sim.kubectl("get", "trainingjobs", "-n", "rc-alice", "-o", "name").stdout.split()
        self.assertEqual([n for n in stored if "/long-" in n], [])

    # -- tenancy --------------------------------------------------------------------------------

    def test_tenancy_namespaces_owner_and_quota(self):
        a = self.a
        body = self.must(a.post("/api/v1/workspaces", {"name": "tn-ws", "spec": {
            "template": "tpl", "owner": "bob"}}), (201, 400), "spec.owner of someone else")
        if body.get("name"):
            self.assertEqual(set(body), OBJECT_KEYS)
            self.assertEqual((body["name"], body["namespace"], body["spec"]["owner"]),
                             ("tn-ws", "rc-alice", "alice"))
        else:
            self.create_ws(a, "tn-ws")
        stored = self.kube("workspace", "rc-alice", "tn-ws")
        self.assertEqual(stored["spec"]["owner"], "alice")
        self.assertEqual(stored["spec"]["template"], "tpl")
        got = self.wait_ok(a, "/api/v1/workspaces/tn-ws")
        self.assertEqual(set(got), OBJECT_KEYS)
        self.assertEqual(got["createdAt"], stored["metadata"]["creationTimestamp"])

        for user in ("alice", "bob", ADMIN):
            quota = self.kube("resourcequota", "rc-" + user, "remote-code")
            self.assertIsNotNone(quota, "rc-%s has no ResourceQuota remote-code" % user)
            self.assertEqual(quota["spec"]["hard"].get("requests.nvidia.com/gpu"), "4")
            self.assertEqual(quota["spec"]["hard"].get("pods"), "50",
                             "CPU-only runs are bounded too")

        # alice cannot write into bob's namespace, whatever she names.
        self.assertError(a.post("/api/v1/workspaces?namespace=rc-bob",
                                {"name": "tn-into-bob", "spec": {"template": "tpl"}}), 404)
        a.post("/api/v1/workspaces", {"name": "tn-into-bob2", "namespace": "rc-bob",
                                      "spec": {"template": "tpl"}})
        self.assertError(a.post("/api/v1/jobs?namespace=rc-bob",
                                {"name": "tn-job", "spec": job_spec()}), 404)
        time.sleep(0.5)
        self.assertIsNone(self.kube("workspace", "rc-bob", "tn-into-bob"))
        self.assertIsNone(self.kube("workspace", "rc-bob", "tn-into-bob2"))
        self.assertIsNone(self.kube("trainingjob", "rc-bob", "tn-job"))

        # Lists: a user sees their own namespace only; an admin every one, or the one named.
        def namespaces(resp):
            return {i["namespace"] for i in self.must(resp, 200)["items"]}
        self.assertEqual(namespaces(a.get("/api/v1/workspaces")), {"rc-alice"})
        self.assertEqual(namespaces(self.b.get("/api/v1/workspaces")), {"rc-bob"})
        r = a.get("/api/v1/workspaces?namespace=rc-bob")
        self.assertIn(r.status, (200, 404), r)
        if r.status == 200:
            self.assertEqual(namespaces(r) - {"rc-alice"}, set(), "alice listed rc-bob")
        self.assertEqual(namespaces(a.get("/api/v1/jobs")), {"rc-alice"})
        every = namespaces(self.admin.get("/api/v1/workspaces"))
        self.assertTrue({"rc-alice", "rc-bob"} <= every, every)
        self.assertEqual(namespaces(self.admin.get("/api/v1/workspaces?namespace=rc-bob")),
                         {"rc-bob"})
        # The admin reaches alice's workspace by naming her namespace.
        self.assertEqual(self.must(self.admin.get("/api/v1/workspaces/tn-ws?namespace=rc-alice"),
                                   200)["namespace"], "rc-alice")

    # -- jobs -----------------------------------------------------------------------------------

    def test_jobs_submit_filter_logs_stop_metrics(self):
        a = self.a
        log = "epoch 1\nremotecode.metric loss=0.5 step=1\nremotecode.metric loss=0.25 step=2\ndone"
        self.scripts.set("rc-alice", "job-name=fit-0", run_seconds="1", log=log)
        self.scripts.set("rc-alice", "job-name=slow-0", run_seconds="600")
        before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
        body = self.must(a.post("/api/v1/jobs", {"name": "fit", "spec": job_spec()}), 201)
        self.assertEqual(set(body) - {"pods"}, OBJECT_KEYS)
        self.assertEqual((body["name"], body["namespace"]), ("fit", "rc-alice"))
        self.assertEqual(body["spec"]["image"], "registry.example/ide:1")
        self.must(a.post("/api/v1/jobs", {"name": "slow", "spec": job_spec()}), 201)

        fit = self.wait_ok(a, "/api/v1/jobs/fit", lambda j: j["status"].get("phase") == "Succeeded",
                           timeout=40, what="fit Succeeded")
        pods = fit["pods"]
        self.assertEqual(len(pods), 1, pods)
        self.assertTrue({"name", "run", "rank", "phase"} <= set(pods[0]), pods)
        self.assertEqual((pods[0]["rank"], pods[0]["phase"]), (0, "Succeeded"))
        self.wait_ok(a, "/api/v1/jobs/slow", lambda j: j["status"].get("phase") == "Running",
                     timeout=40, what="slow Running")

        def listed(query):
            return {j["name"] for j in self.must(a.get("/api/v1/jobs" + query), 200)["items"]
                    } & {"fit", "slow"}
        self.assertEqual(listed(""), {"fit", "slow"})
        self.assertEqual(listed("?status=Succeeded"), {"fit"})
        self.assertEqual(listed("?status=Running"), {"slow"})
        self.assertEqual(listed("?status=Failed"), set())
        self.assertEqual(listed("?name=fi"), {"fit"})
        self.assertEqual(listed("?name=lo"), {"slow"})
        self.assertEqual(listed("?name=zzz"), set())
        future = (datetime.datetime.now(datetime.timezone.utc)
                  + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(listed("?since=" + urllib.parse.quote(future)), set())
        self.assertEqual(listed("?since=" + urllib.parse.quote(before.strftime(
            "%Y-%m-%dT%H:%M:%SZ"))), {"fit", "slow"})
        self.assertEqual(listed("?status=Succeeded&name=sl"), set())
        self.assertError(a.get("/api/v1/jobs?since=yesterday"), 400)
        self.assertEqual({j["namespace"] for j in self.must(self.b.get("/api/v1/jobs"), 200)
                          ["items"]} - {"rc-bob"}, set(), "bob lists alice's jobs")

        r = a.get("/api/v1/jobs/fit/logs")
        self.must(r, 200, "logs")
        self.assertTrue(r.headers.get("Content-Type", "").startswith("text/plain"))
        self.assertEqual(r.text.strip().splitlines(), log.splitlines())
        r = a.get("/api/v1/jobs/fit/logs?tail=1")
        self.assertEqual(r.text.strip(), "done")
        r = a.get("/api/v1/jobs/fit/logs?pod=" + pods[0]["name"])
        self.must(r, 200, "logs of the job's own pod")
        self.assertIn("epoch 1", r.text)
        slow_pod = self.wait_ok(a, "/api/v1/jobs/slow", lambda j: j.get("pods"))["pods"][0]["name"]
        r = a.get("/api/v1/jobs/fit/logs?pod=" + slow_pod)
        self.assertIn(r.status, (400, 404), "a pod of another job: %r" % r)
        self.assertError(a.get("/api/v1/jobs/fit/logs?pod=no-such-pod"), r.status)
        self.assertIn(a.get("/api/v1/jobs/fit/logs?tail=-1").status, (200, 400))
        self.assertError(self.b.get("/api/v1/jobs/fit/logs"), 404)

        metrics = self.must(a.get("/api/v1/jobs/fit/metrics"), 200)
        runs = metrics["runs"]
        self.assertEqual(len(runs), 1, metrics)
        self.assertTrue({"name", "index", "parameters", "phase", "series"} <= set(runs[0]), runs)
        self.assertEqual((runs[0]["index"], runs[0]["phase"]), (0, "Succeeded"))
        self.assertEqual(runs[0]["series"], {"loss": [[1, 0.5], [2, 0.25]]})

        stopped = self.must(a.post("/api/v1/jobs/slow/stop"), 200, "stop")
        self.assertIs(stopped["spec"].get("suspend"), True)
        self.assertIs(self.kube("trainingjob", "rc-alice", "slow")["spec"].get("suspend"), True)
        self.wait_ok(a, "/api/v1/jobs/slow", lambda j: j["status"].get("phase") == "Stopped",
                     timeout=30, what="slow Stopped")
        resumed = self.must(a.post("/api/v1/jobs/slow/resume"), 200, "resume")
        self.assertIs(resumed["spec"].get("suspend"), False)
        self.wait_ok(a, "/api/v1/jobs/slow", lambda j: j["status"].get("phase") == "Running",
                     timeout=30, what="slow Running again")

        self.must(a.delete("/api/v1/jobs/fit"), 204)
        self.sim.wait_for(lambda: self.kube("trainingjob", "rc-alice", "fit") is None,
                          what="fit deleted")
        self.wait_ok(a, "/api/v1/jobs", lambda b: "fit" not in {j["name"] for j in b["items"]})

    # -- datasets -------------------------------------------------------------------------------

    def test_datasets_upload_list_delete(self):
        a = self.a
        data = b"x,y\n1,2\n"
        up = self.must(a.post("/api/v1/datasets/points.csv", data), 201)
        self.assertEqual((up["name"], up["size"], up["owner"]), ("points.csv", len(data), "alice"))
        self.assertTrue(up["modified"])
        with open(os.path.join(self.datasets, "points.csv"), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertError(a.post("/api/v1/datasets/points.csv", b"other"), 409)
        self.assertError(self.b.post("/api/v1/datasets/points.csv", b"other"), 409)
        with open(os.path.join(self.datasets, "points.csv"), "rb") as f:
            self.assertEqual(f.read(), data, "a refused upload replaced the file")
        listed = {d["name"]: d for d in self.must(self.b.get("/api/v1/datasets"), 200)["items"]}
        self.assertEqual(listed["points.csv"]["owner"], "alice")
        self.assertEqual(listed["points.csv"]["size"], len(data))

        for bad in (".hidden", "a%20b", "..", "x" * 201, "semi%3Bcolon"):
            self.assertError(a.post("/api/v1/datasets/" + bad, b"x"), 400, bad)
        big = self.unique("big") + ".bin"
        self.assertError(a.post("/api/v1/datasets/" + big, b"\0" * (65536 + 1)), 413)
        self.must(a.post("/api/v1/datasets/exact.bin", b"\0" * 65536), 201, "at the limit")
        names = set(os.listdir(self.datasets))
        self.assertNotIn(big, names)
        self.assertNotIn(big, {d["name"] for d in self.must(a.get("/api/v1/datasets"), 200)
                               ["items"]})

        self.assertError(self.b.delete("/api/v1/datasets/points.csv"), 403)
        self.assertTrue(os.path.exists(os.path.join(self.datasets, "points.csv")))
        self.must(a.delete("/api/v1/datasets/points.csv"), 204)
        self.assertFalse(os.path.exists(os.path.join(self.datasets, "points.csv")))
        self.assertError(a.delete("/api/v1/datasets/points.csv"), 404)
        self.must(self.admin.delete("/api/v1/datasets/exact.bin"), 204, "an admin deletes any")

    # -- live updates ---------------------------------------------------------------------------

    def test_hostile_bodies_get_clear_errors_and_the_portal_lives(self):
        deep = '{"name":"deep","spec":{"template":"tpl","x":' + "[" * 100000 + "]" * 100000 + "}}"
        r = self.a.request("POST", "/api/v1/workspaces", deep.encode(),
                           headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "a body nested 100000 deep")
        self.assertIn("nested too deeply", r.json["message"])
        # A cross-site form can only send text/plain: sign-in refuses it (no login CSRF).
        form = self.portal.client().request(
            "POST", "/api/v1/login", b'{"username":"alice","password":"%s","x":"="}' % PASSWORD.encode(),
            headers={"Content-Type": "text/plain"})
        self.assertError(form, 415, "a text/plain sign-in")
        self.assertIsNone(form.cookies().get("rc_session"), "a session from a text/plain body")
        self.assertError(self.a.get("/api/v1/jobs?since=yesterday"), 400, "a bad since")
        self.must(self.a.get("/api/v1/me"), 200, "the portal still answers")

    def test_head_has_no_body_on_a_kept_alive_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.portal.port, timeout=10)
        try:
            conn.request("HEAD", "/jobs")
            head = conn.getresponse()
            head.read()
            self.assertEqual(head.status, 200)
            self.assertGreater(int(head.getheader("Content-Length")), 0)
            conn.request("GET", "/api/v1/me")
            after = conn.getresponse()
            body = after.read()
            self.assertEqual(after.status, 401, "the GET after a HEAD read the HEAD's body")
            self.assertEqual(json.loads(body)["error"], "unauthorized")
        finally:
            conn.close()

    def test_a_key_protected_template_is_only_reached_through_its_link(self):
        self.assertError(self.a.post("/api/v1/workspaces", {"name": "sneak",
                                                            "spec": {"template": "tpl-key"}}),
                         403, "a workspace from a key-protected template without the key")
        self.assertError(self.a.post("/api/v1/jobs", {"name": "sneak-job",
                                                      "spec": dict({k: v for k, v in job_spec().items() if k != "image"},
                                                                  template="tpl-key")}),
                         403, "a job from a key-protected template without the key")

    def test_event_streams_end_with_the_session_and_are_capped(self):
        self.create_user(self.admin, "streamer")
        s = self.portal.login("streamer", PASSWORD)
        streams = [EventStream(s) for _ in range(8)]
        try:
            self.assertEqual([x.status for x in streams], [200] * 8)
            extra = EventStream(s)
            extra.close()
            self.assertEqual(extra.status, 429, "a ninth stream of one user")
            self.must(s.post("/api/v1/logout"), 204)
            deadline = time.time() + 15
            while time.time() < deadline and not all(x.ended for x in streams):
                time.sleep(0.2)
            self.assertTrue(all(x.ended for x in streams), "streams outlived the sign-out")
        finally:
            for x in streams:
                x.close()

    def test_events_stream_only_what_the_caller_may_see(self):
        streams = {"alice": EventStream(self.a), "bob": EventStream(self.b)}
        try:
            for s in streams.values():
                self.assertEqual(s.status, 200)
            time.sleep(0.5)  # subscribed before the changes
            self.must(self.b.post("/api/v1/workspaces", {"name": "sse-b",
                                                         "spec": {"template": "tpl"}}), 201)
            self.must(self.a.post("/api/v1/workspaces", {"name": "sse-a",
                                                         "spec": {"template": "tpl"}}), 201)

            def about(name):
                return lambda e: e[0] == "workspace" and isinstance(e[1], dict) \
                    and e[1].get("name") == name
            ev = streams["alice"].wait_for(about("sse-a"), 20)
            self.assertIsNotNone(ev, "no event for sse-a on alice's stream: %r"
                                 % streams["alice"].events)
            self.assertEqual((ev[1]["type"], ev[1]["namespace"]), ("ADDED", "rc-alice"))
            self.assertIsNotNone(streams["bob"].wait_for(about("sse-b"), 20),
                                 "no event for sse-b on bob's stream: %r" % streams["bob"].events)
            time.sleep(1.5)
            for user, other in (("alice", "rc-bob"), ("bob", "rc-alice")):
                leaked = [e for e in streams[user].events
                          if isinstance(e[1], dict) and e[1].get("namespace") == other]
                self.assertEqual(leaked, [], "%s saw %s's changes" % (user, other))
            for e in streams["alice"].events:
                self.assertIn(e[0], ("workspace", "job", "template"), e)
                self.assertIn(e[1].get("type"), ("ADDED", "MODIFIED", "DELETED"), e)
        finally:
            for s in streams.values():
                s.close()
        anon = EventStream(self.portal.client())
        anon.close()
        self.assertEqual(anon.status, 401)

    # -- usage ----------------------------------------------------------------------------------

    def test_usage_for_a_user_and_for_an_admin(self):
        self.create_ws(self.a, "gpu-ws", {"template": "tpl", "resources": {"gpus": 1}})
        self.wait_ok(self.a, "/api/v1/workspaces/gpu-ws",
                     lambda w: w["status"].get("phase") == "Running", timeout=40,
                     what="gpu-ws Running")

        def mine(client, user):
            return [u for u in self.must(client.get("/api/v1/usage"), 200)["users"]
                    if u["user"] == user]
        self.sim.wait_for(lambda: mine(self.a, "alice")[0]["gpusInUse"] == 1, timeout=20,
                          what="alice's gpusInUse 1")
        users = self.must(self.a.get("/api/v1/usage"), 200)["users"]
        self.assertEqual([u["user"] for u in users], ["alice"], "a user sees only themselves")
        u = users[0]
        self.assertEqual(set(u), {"user", "namespace", "gpusInUse", "gpuQuota", "gpuHours"})
        self.assertEqual(u["namespace"], "rc-alice")
        self.assertEqual(float(u["gpuQuota"]), 4)
        self.assertEqual(set(u["gpuHours"]), {"day", "week", "month"})
        for k, v in u["gpuHours"].items():
            self.assertIsInstance(v, (int, float), k)
            self.assertGreaterEqual(v, 0, k)
        self.assertLessEqual(u["gpuHours"]["day"], u["gpuHours"]["week"])
        self.assertLessEqual(u["gpuHours"]["week"], u["gpuHours"]["month"])

        bobs = self.must(self.b.get("/api/v1/usage"), 200)["users"]
        self.assertEqual([(x["user"], x["gpusInUse"]) for x in bobs], [("bob", 0)])
        every = {x["user"]: x for x in self.must(self.admin.get("/api/v1/usage"), 200)["users"]}
        self.assertTrue({"alice", "bob", ADMIN} <= set(every), every)
        self.assertEqual(every["alice"]["gpusInUse"], 1)
        self.assertEqual(every["bob"]["namespace"], "rc-bob")


class SessionExpiry(PortalCase):
    @classmethod
    def portal_flags(cls):
        return ("--session-ttl-seconds", "2")

    def test_a_session_ends_after_its_ttl(self):
        c = self.admin_client()
        self.must(c.get("/api/v1/me"), 200, "a fresh session")
        time.sleep(3)
        self.assertError(c.get("/api/v1/me"), 401, "after the TTL")
        self.assertError(c.get("/api/v1/templates"), 401, "after the TTL")
        self.assertError(c.post("/api/v1/workspaces", {"name": "late", "spec": {"template": "x"}}),
                         401, "a write after the TTL")
        self.must(self.admin_client().get("/api/v1/me"), 200, "signing in again")

    def test_datasets_without_a_directory_are_unavailable(self):
        c = self.admin_client()
        self.assertError(c.get("/api/v1/datasets"), 503)
        self.assertError(c.post("/api/v1/datasets/x.txt", b"x"), 503)


class ConnectionLimits(PortalCase):
    """What one client without an account can do to the portal's connections: hold many, send a
    header slowly, send a huge header. None of it may shut the portal for anyone else."""

    @classmethod
    def portal_flags(cls):
        return ("--max-connections-per-client", "8", "--request-header-timeout-seconds", "2")

    def connect(self, source):
        return socket.create_connection(("127.0.0.1", self.portal.port), timeout=10,
                                        source_address=(source, 0))

    @staticmethod
    def closed_by_server(sock, within):
        sock.settimeout(within)
        try:
            return sock.recv(65536) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def test_one_address_cannot_take_every_connection(self):
        held = [self.connect("127.0.0.20") for _ in range(8)]
        try:
            extra = self.connect("127.0.0.20")
            self.assertTrue(self.closed_by_server(extra, 5), "a ninth idle connection was kept")
            extra.close()
            # Everyone else is still served, forward-auth included.
            self.must(self.portal.client("127.0.0.21").get("/api/v1/me"), 401)
            r = self.portal.client("127.0.0.21").get(
                "/auth/workspace", headers={"X-Original-URL": "http://gpu.example/w/rc-a/w/"})
            self.assertIn(r.status, (401, 302, 403), r)
        finally:
            for s in held:
                s.close()
        # Once they are gone the address is served again.
        self.assertTrue(self.wait_for_me("127.0.0.20"))

    def wait_for_me(self, source):
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.portal.client(source).get("/api/v1/me").status == 401:
                return True
            time.sleep(0.2)
        return False

    def test_a_header_sent_a_line_at_a_time_is_cut_off(self):
        sock = self.connect("127.0.0.22")
        sock.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: portal\r\n")
        cut = False
        for i in range(10):  # a line every half second: each recv alone would be in time
            try:
                sock.sendall(b"X-Slow-%d: 1\r\n" % i)
            except (ConnectionResetError, BrokenPipeError):
                cut = True
                break
            if self.closed_by_server(sock, 0.5):
                cut = True
                break
        sock.close()
        self.assertTrue(cut, "a header trickling in for 5 s was not cut off after 2 s")

    def test_an_idle_connection_without_a_request_is_closed(self):
        sock = self.connect("127.0.0.23")
        self.assertTrue(self.closed_by_server(sock, 6), "a silent connection was kept")
        sock.close()

    def test_an_over_long_header_is_431(self):
        r = self.portal.client("127.0.0.24").get("/api/v1/me", headers={"X-Big": "a" * 70000})
        self.assertEqual(r.status, 431, r)


class RateLimit(PortalCase):
    """The default: 5 failed sign-ins in 5 minutes per user and per address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            admin = cls.admin_client()
            for name in ("victim", "bystander", "bystander2", "keyuser"):
                cls.create_user(admin, name)
            cls.must(admin.post("/api/v1/templates", {"name": "locked", "spec": tpl_spec(
                {"enabled": True, "requireAccessKey": True})}), 201)
            cls.share = cls.wait_share(admin, "locked", with_key=True)
        except Exception:
            cls.tearDownClass()
            raise

    def limited(self, r, what):
        self.assertError(r, 429, what)
        retry = r.header("Retry-After")
        self.assertIsNotNone(retry, what + ": no Retry-After")
        self.assertTrue(retry.isdigit() and 1 <= int(retry) <= 300, "%s: Retry-After %r" % (
            what, retry))
        self.assertNotIn("rc_session", {k for k, (v, _) in r.cookies().items() if v})

    def test_failures_for_a_user_slow_that_user_down_but_never_lock_them_out(self):
        # Strangers guessing from five addresses (and more, repeated forever, in the attack this
        # replaces) must not keep the owner out: the right password still signs in, later.
        for i in range(5):
            r = self.portal.client("127.0.0.%d" % (2 + i)).login("victim", "wrong-password")
            self.assertError(r, 401, "failure %d" % (i + 1))
        started = time.monotonic()
        r = self.portal.client("127.0.0.8").login("victim", "wrong-password")
        self.assertError(r, 401, "a sixth wrong password is answered, not refused")
        self.assertGreaterEqual(time.monotonic() - started, 0.9, "the sixth guess was not slowed")
        started = time.monotonic()
        self.must(self.portal.client("127.0.0.7").login("victim", PASSWORD), 200,
                  "the right password from another address after 6 failures")
        self.assertGreaterEqual(time.monotonic() - started, 1.9, "the delay grows")
        # Those addresses each failed once only: other users sign in from them.
        self.must(self.portal.client("127.0.0.2").login("bystander", PASSWORD), 200)

    def test_five_failures_from_an_address_limit_every_user_there(self):
        for i in range(5):
            r = self.portal.client("127.0.0.10").login("ghost-%d" % i, "wrong-password")
            self.assertError(r, 401, "failure %d" % (i + 1))
        self.limited(self.portal.client("127.0.0.10").login("bystander2", PASSWORD),
                     "another user from the same address")
        self.must(self.portal.client("127.0.0.11").login("bystander2", PASSWORD), 200,
                  "the same user from another address")

    def test_wrong_access_keys_count_as_failed_sign_ins(self):
        k = self.portal.login("keyuser", PASSWORD, source="127.0.0.20")
        path = "/api/v1/shared/%s/workspaces" % self.share["token"]
        for i in range(5):
            self.assertError(k.post(path, {"accessKey": "guess-%d" % i}), 403, "guess %d" % i)
        self.limited(k.post(path, {"accessKey": self.share["accessKey"]}),
                     "the right key after 5 wrong ones")
        # From elsewhere the user still signs in, after a delay (failures slow a user down,
        # only an address is refused).
        started = time.monotonic()
        self.must(self.portal.client("127.0.0.21").login("keyuser", PASSWORD), 200,
                  "signing in after 5 wrong keys")
        self.assertGreaterEqual(time.monotonic() - started, 0.9, "the sign-in was not slowed")


class TrustedHeader(PortalCase):
    """--auth-header X-Forwarded-User: an authenticating proxy names the user."""

    @classmethod
    def portal_flags(cls):
        # Only 127.0.0.1 is the proxy: the tests connect from 127.0.0.2 to be anyone else.
        return ("--auth-header", "X-Forwarded-User", "--trusted-proxies", "127.0.0.1/32")

    @classmethod
    def portal_options(cls):
        return {"admin_password": False}

    @classmethod
    def admin_client(cls):
        return _HeaderClient(cls.portal.client(), ADMIN)

    def test_the_header_names_the_user(self):
        c = self.portal.client()
        self.assertError(c.get("/api/v1/me"), 401, "without the header")
        me = self.must(c.get("/api/v1/me", headers={"X-Forwarded-User": "carol"}), 200)
        self.assertEqual(me["user"], {"username": "carol", "role": "user",
                                      "namespace": "rc-carol"})
        carol = {"X-Forwarded-User": "carol"}
        admin = {"X-Forwarded-User": ADMIN}
        admin_token = self.must(c.get("/api/v1/me", headers=admin), 200)["csrfToken"]
        self.must(c.post("/api/v1/templates", {"name": "tpl", "spec": tpl_spec()},
                         headers=dict(admin, **{"X-CSRF-Token": admin_token})), 201)
        self.must(c.get("/api/v1/users", headers=admin), 200, "the initial admin")
        self.assertError(c.get("/api/v1/users", headers=carol), 403)
        ws = {"name": "hd-ws", "spec": {"template": "tpl"}}
        self.assertError(c.post("/api/v1/workspaces", ws, headers=carol), 403, "without CSRF")
        self.assertError(c.post("/api/v1/workspaces", ws,
                                headers=dict(carol, **{"X-CSRF-Token": admin_token})), 403,
                         "with the admin's token")
        body = self.must(c.post("/api/v1/workspaces", ws,
                                headers=dict(carol, **{"X-CSRF-Token": me["csrfToken"]})), 201)
        self.assertEqual((body["namespace"], body["spec"]["owner"]), ("rc-carol", "carol"))
        quota = json.loads(self.sim.kubectl("get", "resourcequota", "remote-code", "-n",
                                            "rc-carol", "-o", "json").stdout)
        self.assertEqual(quota["spec"]["hard"].get("requests.nvidia.com/gpu"), "4")


    def test_the_header_counts_only_from_the_proxy_and_never_for_forward_auth(self):
        dave = {"X-Forwarded-User": "dave"}
        c = self.portal.client()
        me = c.get("/api/v1/me", headers=dave)
        self.must(me, 200)
        session = me.cookies().get("rc_session")
        self.assertTrue(session and session[0], "header users get a session cookie for forward-auth")
        self.must(self.admin_client().post("/api/v1/templates", {"name": "fa-tpl", "spec": tpl_spec()}), 201)
        self.must(c.post("/api/v1/workspaces", {"name": "fa", "spec": {"template": "fa-tpl"}},
                         headers=dict(dave, **{"X-CSRF-Token": me.json["csrfToken"]})), 201)
        # Not from the proxy: the header is just a header.
        stranger = self.portal.client(source="127.0.0.2")
        self.assertError(stranger.get("/api/v1/me", headers=dave), 401, "header from a non-proxy")
        # Forward-auth: the ingress copies the browser's headers, so the header never counts;
        # the cookie the page got does.
        url = {"X-Original-URL": "http://h/w/rc-dave/fa/"}
        self.assertError(self.portal.client().get("/auth/workspace", headers=dict(dave, **url)),
                         401, "the header on /auth/workspace")
        fa = self.portal.client(source="127.0.0.2")
        fa.cookie = session[0]
        deadline = time.time() + 20
        r = fa.get("/auth/workspace", headers=url)
        while r.status != 200 and time.time() < deadline:  # the workspace reaches the cache
            time.sleep(0.2)
            r = fa.get("/auth/workspace", headers=url)
        self.assertEqual((r.status, r.header("X-Remote-User")), (200, "dave"), r)

    def test_an_account_with_a_password_is_not_the_proxys(self):
        self.must(self.admin_client().post("/api/v1/users", {"username": "local", "password": PASSWORD,
                                                    "role": "admin"}), 201)
        self.assertError(self.portal.client().get("/api/v1/me",
                                                  headers={"X-Forwarded-User": "local"}), 403)


class _HeaderClient:
    """Sends X-Forwarded-User (and the user's CSRF token) with every request."""

    def __init__(self, client, user):
        self.client, self.user, self.csrf = client, user, None

    def request(self, method, path, body=None, headers=None, **kw):
        h = {"X-Forwarded-User": self.user}
        if method not in ("GET", "HEAD"):
            if self.csrf is None:
                self.csrf = self.client.get("/api/v1/me", headers=h).json["csrfToken"]
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        return self.client.request(method, path, body, headers=h, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)


if __name__ == "__main__":
    unittest.main()
