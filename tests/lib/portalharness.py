"""The portal of `remote-code operator` against a simulator, and a client that talks to it the
way a browser page does: the rc_session cookie, X-CSRF-Token on every state-changing request.

Portal(sim, *flags) starts the operator (tests/lib/operatorharness.py) with the portal on a free
port of 127.0.0.1, the initial admin `admin` and its password from a file, and waits until the
portal answers. Client(port) keeps one session; Client(port, source="127.0.0.7") connects from
another loopback address, which the portal sees as another client address (rate limiting).
"""
import http.client
import json
import os
import socket
import time

from operatorharness import Operator

ADMIN = "admin"
ADMIN_PASSWORD = "admin-password-0"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.text = raw.decode("utf-8", "replace")
        try:
            self.json = json.loads(self.text)
        except ValueError:
            self.json = None

    def header(self, name):
        return self.headers.get(name)

    def cookies(self):
        """Set-Cookie headers as {name: (value, {attribute lower-cased: value})}."""
        out = {}
        for line in self.headers.get_all("Set-Cookie") or []:
            parts = [p.strip() for p in line.split(";")]
            name, _, value = parts[0].partition("=")
            attrs = {}
            for p in parts[1:]:
                k, _, v = p.partition("=")
                attrs[k.strip().lower()] = v.strip()
            out[name] = (value, attrs)
        return out

    def __repr__(self):
        where = "%s %s -> " % (self.method, self.path) if getattr(self, "method", None) else ""
        return "%sHTTP %d %s" % (where, self.status, self.text[:600])


class Client:
    def __init__(self, port, cookie=None, csrf=None, source=None, user=None):
        self.port = port
        self.cookie = cookie
        self.csrf = csrf
        self.source = source
        self.user = user

    def copy(self):
        return Client(self.port, self.cookie, self.csrf, self.source, self.user)

    def _connect(self, timeout):
        src = (self.source, 0) if self.source else None
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=src)

    def _headers(self, method, body, headers, csrf):
        hdrs = {}
        if self.cookie:
            hdrs["Cookie"] = "rc_session=" + self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            hdrs["X-CSRF-Token"] = self.csrf
        data = None
        if body is not None:
            if isinstance(body, bytes):
                data = body
                hdrs["Content-Type"] = "application/octet-stream"
            else:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        return data, hdrs

    def request(self, method, path, body=None, headers=None, csrf=True, timeout=30):
        """One request on a fresh connection. A Set-Cookie for rc_session replaces this client's
        cookie (an empty value or Max-Age=0 clears it), as a browser would."""
        data, hdrs = self._headers(method, body, headers, csrf)
        conn = self._connect(timeout)
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            resp = Response(r.status, r.headers, r.read())
        finally:
            conn.close()
        resp.method, resp.path = method, path
        sc = resp.cookies().get("rc_session")
        if sc is not None:
            value, attrs = sc
            self.cookie = None if (not value or attrs.get("max-age") == "0") else value
            # A new session comes with its own CSRF token, as the page reads it.
            token = resp.json.get("csrfToken") if isinstance(resp.json, dict) else None
            if token:
                self.csrf = token
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username, password, headers=None):
        r = self.request("POST", "/api/v1/login", {"username": username, "password": password},
                         headers=headers, csrf=False)
        if r.status == 200 and r.json:
            self.csrf = r.json.get("csrfToken")
            self.user = username
        return r

    def stream(self, path, headers=None, timeout=30):
        """Opens a long response (server-sent events): returns (connection, socket, response)
        once the headers are in; the caller reads the body, then shuts the socket down and
        closes the connection."""
        _, hdrs = self._headers("GET", None, headers, False)
        hdrs.setdefault("Accept", "text/event-stream")
        conn = self._connect(timeout)
        conn.request("GET", path, headers=hdrs)
        sock = conn.sock
        return conn, sock, conn.getresponse()


class Portal:
    """An operator with the portal against `sim`; stop() ends it (and fails on a crash)."""

    def __init__(self, sim, *flags, admin_password=True, apply=True):
        """admin_password=False makes the initial admin an account the trusted proxy names."""
        self.sim = sim
        self.port = free_port()
        admin = ["--initial-admins", ADMIN]
        if admin_password:
            pw = os.path.join(sim.dir, "admin-password")
            with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(ADMIN_PASSWORD + "\n")
            admin += ["--initial-admin-password-file", pw]
        self.op = Operator(sim, "--portal-bind-address", "127.0.0.1:%d" % self.port,
                           *admin, *flags, apply=apply)
        deadline = time.time() + 60
        last = None
        while time.time() < deadline:
            try:
                last = self.client().get("/api/v1/me", timeout=5)
                if last.status == 401:
                    return
            except OSError as e:
                last = e
            if self.op.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.op.stop()
        raise RuntimeError("the portal never answered GET /api/v1/me with 401 (last: %r)\n%s" % (
            last, open(self.op.log_path).read()[-4000:]))

    def client(self, source=None):
        return Client(self.port, source=source)

    def login(self, username, password, source=None):
        c = self.client(source)
        r = c.login(username, password)
        if r.status != 200:
            raise AssertionError("login of %s failed: %r" % (username, r))
        return c

    def wait_synced(self, admin=None, timeout=60):
        """Until the caches have synced (reads answer 200 instead of 503). `admin` makes a
        signed-in client (default: signs in as the initial admin)."""
        admin = admin or (lambda: self.login(ADMIN, ADMIN_PASSWORD))
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = admin().get("/api/v1/templates")
            if last.status == 200:
                return
            time.sleep(0.3)
        raise AssertionError("GET /api/v1/templates never answered 200: %r\n%s" % (
            last, self.op.logs()[-4000:]))

    def logs(self):
        return self.op.logs()

    def stop(self):
        self.op.stop()
