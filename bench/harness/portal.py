"""Phase 4: the portal under 64 connections of wrk, for a user's workspace list (50 workspaces)
and for forward-auth, against nginx serving the same response bytes as static files in the
same run (its floor: what answering those bytes over HTTP costs on this machine)."""
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

from procs import Operator, Sim, free_port, stop_process

ADMIN, ADMIN_PASSWORD = "admin", "bench-admin-password"
USER, USER_PASSWORD = "bench", "bench-user-password"


def call(port, method, path, body=None, cookie=None, csrf=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    hdrs = dict(headers or {})
    if cookie:
        hdrs["Cookie"] = "rc_session=" + cookie
    if csrf:
        hdrs["X-CSRF-Token"] = csrf
    data = None
    if body is not None:
        data = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def login(port, user, password):
    status, headers, body = call(port, "POST", "/api/v1/login",
                                 {"username": user, "password": password})
    if status != 200:
        raise RuntimeError("login of %s: HTTP %d %s" % (user, status, body[:300]))
    cookie = re.search(r"rc_session=([^;]*)", headers.get("Set-Cookie", "")).group(1)
    return cookie, json.loads(body)["csrfToken"]


def wait_portal(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if call(port, "GET", "/api/v1/me")[0] == 401:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the portal never answered")


def prepare_user(port, workspaces, log):
    """A user with `workspaces` Running workspaces; returns (cookie, csrf, list body)."""
    admin = login(port, ADMIN, ADMIN_PASSWORD)
    deadline = time.time() + 60
    while True:  # 503 until the caches have synced
        user = {"username": USER, "password": USER_PASSWORD, "role": "user"}
        status, _, body = call(port, "POST", "/api/v1/users", user, *admin)
        if status == 201 or time.time() > deadline:
            break
        time.sleep(0.3)
    if status != 201:
        raise RuntimeError("creating the user: HTTP %d %s" % (status, body[:300]))
    cookie, csrf = login(port, USER, USER_PASSWORD)
    for i in range(workspaces):
        status, _, body = call(port, "POST", "/api/v1/workspaces",
                               {"name": "ws-%d" % i, "spec": {"template": "bench"}}, cookie, csrf)
        if status != 201:
            raise RuntimeError("creating a workspace: HTTP %d %s" % (status, body[:300]))
    deadline = time.time() + 120
    previous = None
    while time.time() < deadline:  # every one Running, and the answer no longer changing
        status, _, body = call(port, "GET", "/api/v1/workspaces", cookie=cookie)
        items = json.loads(body).get("items", []) if status == 200 else []
        running = sum(1 for w in items if (w.get("status") or {}).get("phase") == "Running")
        if running == workspaces and body == previous:
            log("portal: %d workspaces Running, list answer %d bytes" % (running, len(body)))
            return cookie, csrf, body
        previous = body
        time.sleep(1)
    raise RuntimeError("the workspaces did not all become Running")


NGINX_CONF = """daemon off;
user nobody nogroup;
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/tmp;
  proxy_temp_path {dir}/tmp;
  fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp;
  scgi_temp_path {dir}/tmp;
  server {{
    listen 127.0.0.1:{port};
    location = /api/v1/workspaces {{ default_type application/json; alias {dir}/workspaces.json; }}
    location = /auth/workspace {{
      default_type text/plain;
      add_header X-Remote-User {user};
      alias {dir}/auth.body;
    }}
  }}
}}
"""


class Nginx:
    def __init__(self, workdir, list_body, auth_body):
        self.dir = tempfile.mkdtemp(prefix="nginx-", dir=workdir)
        os.chmod(self.dir, 0o755)  # the workers run as nobody
        os.makedirs(os.path.join(self.dir, "tmp"))
        for name, data in (("workspaces.json", list_body), ("auth.body", auth_body)):
            with open(os.path.join(self.dir, name), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(self.dir, name), 0o644)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=self.port, user=USER))
        self.log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf,
                                      "-p", self.dir], stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if call(self.port, "GET", "/api/v1/workspaces")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start; see %s" % self.dir)

    def stop(self):
        stop_process(self.proc)
        self.log.close()


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(cfg, url, headers):
    args = ["wrk", "-t", "2", "-c", "64", "-d", "%ds" % cfg.wrk_seconds, "--latency"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=cfg.wrk_seconds + 60)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
    p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)\b", text)
    p50 = re.search(r"50%\s+([0-9.]+)(us|ms|s)\b", text)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    return {"rps": rps,
            "p50ms": float(p50.group(1)) * UNITS[p50.group(2)],
            "p99ms": float(p99.group(1)) * UNITS[p99.group(2)],
            "non2xx": int(bad.group(1)) if bad else 0,
            "socketErrors": errors.group(0) if errors else "",
            "output": text}


def run(cfg, log):
    if not shutil.which("wrk") or not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        log("portal: wrk or nginx missing (scripts/install-deps.sh installs them); skipped")
        return None
    sim = Sim(cfg.bin_dir, cfg.workdir, cpu_nodes=2)
    port = free_port()
    pw = os.path.join(sim.dir, "admin-password")
    with open(pw, "w") as f:
        f.write(ADMIN_PASSWORD + "\n")
    op = nginx = None
    try:
        op = Operator(cfg.bin_dir, sim, portal_port=port,
                      flags=list(cfg.operator_flags) + ["--initial-admins", ADMIN,
                                                        "--initial-admin-password-file", pw])
        wait_portal(port)
        cookie, csrf, list_body = prepare_user(port, cfg.portal_workspaces, log)
        ns = "rc-" + USER
        auth_headers = {"X-Original-URL": "/w/%s/ws-0/" % ns}
        status, _, auth_body = call(port, "GET", "/auth/workspace", cookie=cookie,
                                    headers=auth_headers)
        if status != 200:
            raise RuntimeError("forward-auth answered %d" % status)
        nginx = Nginx(cfg.workdir, list_body, auth_body)
        same = call(nginx.port, "GET", "/api/v1/workspaces")[2] == list_body
        portal_url = "http://127.0.0.1:%d" % port
        nginx_url = "http://127.0.0.1:%d" % nginx.port
        session = ["Cookie: rc_session=" + cookie, "X-CSRF-Token: " + csrf]
        targets = [
            ("list", "portal", portal_url + "/api/v1/workspaces", session),
            ("list", "nginx", nginx_url + "/api/v1/workspaces", session),
            ("auth", "portal", portal_url + "/auth/workspace",
             session + ["X-Original-URL: " + auth_headers["X-Original-URL"]]),
            ("auth", "nginx", nginx_url + "/auth/workspace",
             session + ["X-Original-URL: " + auth_headers["X-Original-URL"]]),
        ]
        samples = {}
        for i in range(cfg.wrk_repeats):
            for route, server, url, headers in targets:
                r = wrk(cfg, url, headers)
                samples.setdefault((route, server), []).append(r)
                log("wrk %s %s run %d: %.0f req/s, p99 %.2f ms, non-2xx %d" % (
                    server, route, i + 1, r["rps"], r["p99ms"], r["non2xx"]))
    finally:
        if nginx:
            nginx.stop()
        if op:
            op.stop()
        sim.stop()
    result = {"workspaces": cfg.portal_workspaces, "listBytes": len(list_body),
              "authBytes": len(auth_body), "nginxSameBytes": same, "routes": {}}
    for (route, server), runs in samples.items():
        result["routes"].setdefault(route, {})[server] = {
            "rps": statistics.median(r["rps"] for r in runs),
            "p50ms": statistics.median(r["p50ms"] for r in runs),
            "p99ms": statistics.median(r["p99ms"] for r in runs),
            "non2xx": sum(r["non2xx"] for r in runs),
            "runs": [{k: v for k, v in r.items() if k != "output"} for r in runs]}
    with open(os.path.join(cfg.out, "portal.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(cfg.out, "portal-wrk.txt"), "w") as f:
        for (route, server), runs in samples.items():
            for r in runs:
                f.write("== %s %s\n%s\n" % (server, route, r["output"]))
    return result
