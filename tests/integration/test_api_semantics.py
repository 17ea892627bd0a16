"""API semantics of `remote-code sim` seen through raw HTTP: status subresource, generation,
no-op writes, paging, selectors, watch framing, bookmarks, 410, and fault injection."""
import http.client
import json
import os
import ssl
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from target import REAL, api_server, simulator_only  # noqa: E402

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "gadgets.example.dev"},
    "spec": {"group": "example.dev", "scope": "Namespaced",
             "names": {"plural": "gadgets", "kind": "Gadget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {
                                   "n": {"type": "integer"},
                                   "label": {"type": "string", "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$"}}},
                               "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}}


def watch_events(sim, path, max_events, timeout=10):
    """Reads a watch stream until max_events lines or the server ends it."""
    u = urllib.parse.urlparse(sim.url)
    ctx = ssl.create_default_context(cafile=os.path.join(sim.pki, "ca.crt"))
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=timeout)
    conn.request("GET", path, headers={"Authorization": "Bearer " + sim.token})
    resp = conn.getresponse()
    events = []
    buf = b""
    while len(events) < max_events:
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(1)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf and len(events) < max_events:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                events.append(json.loads(line))
    conn.close()
    return resp.status, events


class ApiSemanticsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = api_server("--history", "100", "--bookmark-interval-seconds", "1")
        status, _, body = cls.sim.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", CRD)
        assert status == 201, body
        cls.sim.wait_for(lambda: cls.sim.request("GET", "/apis/example.dev/v1")[0] == 200, what="CRD served")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def req(self, *a, **kw):
        return self.sim.request(*a, **kw)

    def test_status_subresource_and_generation(self):
        base = "/apis/example.dev/v1/namespaces/default/gadgets"
        status, _, g = self.req("POST", base, {"apiVersion": "example.dev/v1", "kind": "Gadget",
                                               "metadata": {"name": "g1"}, "spec": {"n": 1}, "status": {"phase": "Made"}})
        self.assertEqual(status, 201)
        self.assertNotIn("status", g, "status is dropped on create when a status subresource exists")
        self.assertEqual(g["metadata"]["generation"], 1)
        # The main endpoint ignores status.
        g["status"] = {"phase": "Ignored"}
        g["spec"]["n"] = 2
        status, _, g2 = self.req("PUT", base + "/g1", g)
        self.assertEqual(status, 200)
        self.assertEqual((g2["spec"]["n"], g2["metadata"]["generation"]), (2, 2))
        self.assertNotIn("status", g2)
        # /status ignores everything but status, and does not bump generation.
        g2["status"] = {"phase": "Ready"}
        g2["spec"]["n"] = 99
        status, _, g3 = self.req("PUT", base + "/g1/status", g2)
        self.assertEqual(status, 200)
        self.assertEqual((g3["status"]["phase"], g3["spec"]["n"], g3["metadata"]["generation"]), ("Ready", 2, 2))
        # A no-op update stores nothing: same resourceVersion.
        status, _, g4 = self.req("PUT", base + "/g1", g3)
        self.assertEqual(status, 200)
        self.assertEqual(g4["metadata"]["resourceVersion"], g3["metadata"]["resourceVersion"])
        # Custom resources need a resourceVersion to update.
        del g4["metadata"]["resourceVersion"]
        status, _, err = self.req("PUT", base + "/g1", g4)
        self.assertEqual(status, 422)
        self.assertIn("metadata.resourceVersion: Invalid value: 0: must be specified for an update", err["message"])
        # Strategic merge patch is not for custom resources.
        status, _, err = self.req("PATCH", base + "/g1", {"spec": {"n": 3}},
                                  content_type="application/strategic-merge-patch+json")
        self.assertEqual((status, err["reason"]), (415, "UnsupportedMediaType"))

    def test_an_event_of_a_cluster_scoped_object_lives_in_default(self):
        self.req("POST", "/api/v1/namespaces", {"metadata": {"name": "elsewhere"}})
        event = {"metadata": {"name": "node-event"}, "reason": "Checked", "message": "ok",
                 "type": "Normal", "involvedObject": {"kind": "Node", "name": "gpu-node-0",
                                                      "apiVersion": "v1"}}
        status, _, err = self.req("POST", "/api/v1/namespaces/elsewhere/events", event)
        self.assertEqual((status, err["reason"]), (422, "Invalid"))
        self.assertIn('involvedObject.namespace: Invalid value: "": does not match '
                      'event.namespace', err["message"])
        status, _, body = self.req("POST", "/api/v1/namespaces/default/events", event)
        self.assertEqual(status, 201, body)

    def test_quantities_are_stored_canonically(self):
        pod = {"metadata": {"name": "sized"}, "spec": {"containers": [{
            "name": "main", "image": "busybox:1.36",
            "resources": {"requests": {"cpu": "1000m", "memory": "1024Mi",
                                       "ephemeral-storage": "2000"},
                          "limits": {"cpu": "1.5", "memory": 1073741824,
                                     "ephemeral-storage": "3e3"}}}],
            "volumes": [{"name": "scratch", "emptyDir": {"sizeLimit": "0.5Gi"}}]}}
        status, _, body = self.req("POST", "/api/v1/namespaces/default/pods", pod)
        self.assertEqual(status, 201, body)
        res = body["spec"]["containers"][0]["resources"]
        self.assertEqual(res, {"requests": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "2k"},
                               "limits": {"cpu": "1500m", "memory": "1073741824",
                                          "ephemeral-storage": "3e3"}})
        self.assertEqual(body["spec"]["volumes"][0]["emptyDir"]["sizeLimit"], "512Mi")
        status, _, quota = self.req("POST", "/api/v1/namespaces/default/resourcequotas", {
            "metadata": {"name": "canonical"},
            "spec": {"hard": {"requests.nvidia.com/gpu": "4000m", "limits.memory": "0.5Gi",
                              "requests.cpu": "10u"}}})
        self.assertEqual(status, 201, quota)
        # ResourceLists are rounded up to milli.
        self.assertEqual(quota["spec"]["hard"], {"requests.nvidia.com/gpu": "4",
                                                 "limits.memory": "512Mi", "requests.cpu": "1m"})

    def test_a_negative_replica_count_is_invalid(self):
        status, _, err = self.req("POST", "/apis/apps/v1/namespaces/default/deployments", {
            "metadata": {"name": "negative"},
            "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "n"}},
                     "template": {"metadata": {"labels": {"app": "n"}},
                                  "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})
        self.assertEqual((status, err["reason"]), (422, "Invalid"))
        self.assertIn("spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                      err["message"])

    def test_a_30000_character_value_is_invalid_and_the_server_stays_up(self):
        # Each of these once took the simulator down (a regular expression that recursed per
        # character); the real apiserver matches in linear time and answers 422.
        long = "a" * 30000
        status, _, err = self.req("POST", "/api/v1/namespaces/default/configmaps", {
            "metadata": {"name": "long-key"}, "data": {long: "v"}})
        self.assertEqual((status, err.get("reason")), (422, "Invalid"), str(err)[:300])
        self.assertIn("must be no more than 253 characters", err["message"])
        status, _, err = self.req("POST", "/api/v1/namespaces/default/configmaps", {
            "metadata": {"name": "long-label", "labels": {"app": long}}})
        self.assertEqual((status, err.get("reason")), (422, "Invalid"), str(err)[:300])
        status, _, err = self.req("POST", "/apis/example.dev/v1/namespaces/default/gadgets", {
            "apiVersion": "example.dev/v1", "kind": "Gadget", "metadata": {"name": "long"},
            "spec": {"label": long + "-"}})
        self.assertEqual((status, err.get("reason")), (422, "Invalid"), str(err)[:300])
        self.assertIn("spec.label", err["message"])
        self.assertIn("should match '^[a-z]([-a-z0-9]*[a-z0-9])?$'", err["message"])
        status, _, body = self.req("POST", "/apis/example.dev/v1/namespaces/default/gadgets", {
            "apiVersion": "example.dev/v1", "kind": "Gadget", "metadata": {"name": "long-ok"},
            "spec": {"label": long}})
        self.assertEqual(status, 201, str(body)[:300])
        self.assertEqual(self.req("GET", "/api/v1/namespaces/default/configmaps")[0], 200)

    def test_a_log_asked_for_as_text_plain_alone_is_406(self):
        pods = "/api/v1/namespaces/default/pods"
        status, _, body = self.req("POST", pods, {"metadata": {"name": "talker"}, "spec": {
            "containers": [{"name": "main", "image": "busybox:1.36"}]}})
        self.assertEqual(status, 201, body)
        status, _, err = self.req("GET", pods + "/talker/log", headers={"Accept": "text/plain"})
        self.assertEqual((status, err["reason"]), (406, "NotAcceptable"))
        self.assertEqual(err["message"], "only the following media types are accepted: "
                                         "application/json, application/yaml, "
                                         "application/vnd.kubernetes.protobuf")

    def test_paging_with_limit_and_continue(self):
        for i in range(5):
            self.req("POST", "/api/v1/namespaces/default/configmaps",
                     {"metadata": {"name": "page-%d" % i, "labels": {"paging": "yes"}}})
        seen, token, pages = [], None, 0
        while True:
            q = "?labelSelector=paging%3Dyes&limit=2" + ("&continue=" + token if token else "")
            status, _, lst = self.req("GET", "/api/v1/namespaces/default/configmaps" + q)
            self.assertEqual(status, 200)
            seen += [i["metadata"]["name"] for i in lst["items"]]
            pages += 1
            token = lst["metadata"].get("continue")
            if not token:
                break
        self.assertEqual(seen, ["page-%d" % i for i in range(5)])
        self.assertEqual(pages, 3)
        status, _, lst = self.req("GET", "/api/v1/namespaces/default/configmaps?limit=1")
        self.assertGreaterEqual(lst["metadata"]["remainingItemCount"], 4)

    def test_field_selectors(self):
        status, _, lst = self.req("GET", "/api/v1/nodes?fieldSelector=metadata.name%3Dgpu-node-1")
        self.assertEqual([n["metadata"]["name"] for n in lst["items"]], ["gpu-node-1"])
        status, _, err = self.req("GET", "/api/v1/namespaces/default/configmaps?fieldSelector=data.x%3Dy")
        self.assertEqual((status, err["reason"]), (400, "BadRequest"))
        self.assertEqual(err["message"], '"data.x" is not a known field selector: '
                                         'only "metadata.name", "metadata.namespace"')

    def test_stale_update_and_precondition_delete(self):
        status, _, cm = self.req("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "cas"}, "data": {"v": "1"}})
        stale = dict(cm)
        cm["data"] = {"v": "2"}
        self.assertEqual(self.req("PUT", "/api/v1/namespaces/default/configmaps/cas", cm)[0], 200)
        status, _, err = self.req("PUT", "/api/v1/namespaces/default/configmaps/cas", stale)
        self.assertEqual(status, 409)
        self.assertEqual(err["message"], 'Operation cannot be fulfilled on configmaps "cas": the object has been '
                                         'modified; please apply your changes to the latest version and try again')
        status, _, err = self.req("DELETE", "/api/v1/namespaces/default/configmaps/cas",
                                  {"preconditions": {"uid": "not-the-uid"}})
        self.assertEqual(status, 409)
        self.assertEqual(err["message"], 'Operation cannot be fulfilled on ConfigMap "cas": the UID in '
                         'the precondition (not-the-uid) does not match the UID in record (%s). '
                         'The object might have been deleted and then recreated' % cm["metadata"]["uid"])
        status, _, err = self.req("GET", "/api/v1/namespaces/default/configmaps/nope")
        self.assertEqual((status, err["reason"], err["message"]), (404, "NotFound", 'configmaps "nope" not found'))

    def test_watch_framing_selectors_and_bookmarks(self):
        ns = "/api/v1/namespaces/default/configmaps"
        status, _, lst = self.req("GET", ns)
        rv = lst["metadata"]["resourceVersion"]
        self.req("POST", ns, {"metadata": {"name": "sel", "labels": {"team": "a"}}})
        self.req("PATCH", ns + "/sel", {"metadata": {"labels": {"team": "b"}}}, content_type="application/merge-patch+json")
        self.req("PATCH", ns + "/sel", {"metadata": {"labels": {"team": "a"}}}, content_type="application/merge-patch+json")
        status, events = watch_events(self.sim, ns + "?watch=1&labelSelector=team%3Da&allowWatchBookmarks=true"
                                      "&timeoutSeconds=3&resourceVersion=" + rv, 4)
        self.assertEqual(status, 200)
        types = [e["type"] for e in events]
        # Entering the selector is ADDED, leaving it DELETED, as a real apiserver reports.
        self.assertEqual(types[:3], ["ADDED", "DELETED", "ADDED"])
        # The simulator bookmarks every --bookmark-interval-seconds (1 here); a real apiserver's
        # bookmarks are best effort (about a minute apart, or 2 s before the watch times out), so
        # on a real one a bookmark is checked only when it came.
        if REAL and len(types) < 4:
            return
        self.assertEqual(types[3], "BOOKMARK")
        bm = events[3]["object"]
        self.assertEqual((bm["kind"], bm["apiVersion"]), ("ConfigMap", "v1"))
        self.assertTrue(int(bm["metadata"]["resourceVersion"]) >= int(events[2]["object"]["metadata"]["resourceVersion"]))

    @simulator_only("it keeps 100 changes (--history 100); a real apiserver's watch cache and "
                    "etcd compaction (every 5 minutes) keep far more")
    def test_watch_from_compacted_version_is_410_expired(self):
        ns = "/api/v1/namespaces/default/configmaps"
        _, _, lst = self.req("GET", ns)
        old = lst["metadata"]["resourceVersion"]
        for i in range(120):  # history is 100
            self.req("POST", ns, {"metadata": {"generateName": "churn-"}})
        status, events = watch_events(self.sim, ns + "?watch=1&resourceVersion=" + old, 1)
        self.assertEqual(status, 200)
        self.assertEqual(events[0]["type"], "ERROR")
        st = events[0]["object"]
        self.assertEqual((st["kind"], st["code"], st["reason"]), ("Status", 410, "Expired"))
        self.assertRegex(st["message"], r"^too old resource version: %s \(\d+\)$" % old)

    @simulator_only("fault injection (/sim/faults)")
    def test_fault_injection(self):
        try:
            self.sim.set_faults(error500={"list": 1.0})
            status, _, err = self.req("GET", "/api/v1/namespaces/default/secrets")
            self.assertEqual((status, err["reason"]), (500, "InternalError"))
            self.assertEqual(self.req("GET", "/api/v1/namespaces/default")[0], 200, "get is not affected")
            self.sim.set_faults(error429=1.0, retryAfterSeconds=3)
            status, headers, err = self.req("GET", "/api/v1/namespaces/default")
            self.assertEqual((status, err["reason"], headers.get("Retry-After")), (429, "TooManyRequests", "3"))
            self.sim.set_faults(latencyMs=300)
            t = time.time()
            self.req("GET", "/api/v1/namespaces/default")
            self.assertGreaterEqual(time.time() - t, 0.3)
            self.sim.set_faults(force410=True)
            status, events = watch_events(self.sim, "/api/v1/namespaces/default/configmaps?watch=1", 1)
            self.assertEqual(events[0]["object"]["code"], 410)
            self.sim.set_faults(closeWatchSeconds=1)
            t = time.time()
            status, events = watch_events(self.sim, "/api/v1/namespaces/default/pods?watch=1&resourceVersion=1", 10 ** 6)
            self.assertLess(time.time() - t, 5, "the watch was closed by the server")
            status, _, err = self.req("PUT", "/sim/faults", {"error500": 2})
            self.assertEqual(status, 400)
            self.assertIn("between 0 and 1", err["message"])
        finally:
            self.sim.set_faults()

    def test_unauthenticated_requests_are_refused(self):
        import urllib.request
        ctx = ssl.create_default_context(cafile=os.path.join(self.sim.pki, "ca.crt"))
        try:
            urllib.request.urlopen(self.sim.url + "/api/v1/namespaces", context=ctx)
            self.fail("expected a refusal")
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            if REAL:  # anonymous requests are system:anonymous, whom RBAC grants nothing
                self.assertEqual((e.code, body["reason"]), (403, "Forbidden"))
                self.assertIn('User "system:anonymous" cannot list resource "namespaces"',
                              body["message"])
            else:  # no anonymous user in the simulator (docs/simulator.md)
                self.assertEqual((e.code, body["reason"]), (401, "Unauthorized"))


if __name__ == "__main__":
    unittest.main()
