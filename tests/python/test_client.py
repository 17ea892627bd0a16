"""Debian's python3-kubernetes client against `remote-code sim`: lists, watches from a
resourceVersion with bookmarks, optimistic concurrency and 410 Expired with a relist."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from target import api_server, simulator_only  # noqa: E402

from kubernetes import client, config, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = api_server("--history", "200", "--bookmark-interval-seconds", "1")
        cls.api_client = config.new_client_from_config(config_file=cls.sim.kubeconfig)
        cls.core = client.CoreV1Api(cls.api_client)

    @classmethod
    def tearDownClass(cls):
        cls.api_client.close()
        cls.sim.stop()

    def cm(self, name, data):
        return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)

    def test_list_then_watch_from_resource_version_with_bookmarks(self):
        ns = "watchers"
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        # The controller-manager publishes kube-root-ca.crt into a new namespace a moment later;
        # wait for it, so that it is in the list and not an event of the watch.
        self.sim.wait_for(lambda: any(c.metadata.name == "kube-root-ca.crt"
                                      for c in self.core.list_namespaced_config_map(ns).items),
                          timeout=30, what="kube-root-ca.crt in the new namespace")
        for i in range(3):
            self.core.create_namespaced_config_map(ns, self.cm("before-%d" % i, {"i": str(i)}))
        listed = self.core.list_namespaced_config_map(ns)
        # kube-root-ca.crt: every namespace gets the cluster's CA (the root CA publisher).
        self.assertEqual(sorted(c.metadata.name for c in listed.items),
                         ["before-0", "before-1", "before-2", "kube-root-ca.crt"])
        rv = listed.metadata.resource_version

        def writer():
            time.sleep(0.5)
            self.core.create_namespaced_config_map(ns, self.cm("after", {"x": "1"}))
            self.core.patch_namespaced_config_map("before-1", ns, {"data": {"i": "changed"}})
            self.core.delete_namespaced_config_map("before-2", ns)
        threading.Thread(target=writer).start()

        seen, bookmarks = [], 0
        w = watch.Watch()
        for ev in w.stream(self.core.list_namespaced_config_map, ns, resource_version=rv,
                           allow_watch_bookmarks=True, timeout_seconds=5):
            if ev["type"] == "BOOKMARK":
                bookmarks += 1
                if len(seen) >= 3:
                    break
                continue
            seen.append((ev["type"], ev["object"].metadata.name))
        w.stop()
        self.assertEqual(seen, [("ADDED", "after"), ("MODIFIED", "before-1"), ("DELETED", "before-2")])
        self.assertGreaterEqual(bookmarks, 1)

    def test_stale_update_is_a_409_conflict(self):
        created = self.core.create_namespaced_config_map("default", self.cm("cas", {"v": "1"}))
        fresh = self.core.read_namespaced_config_map("cas", "default")
        fresh.data = {"v": "2"}
        self.core.replace_namespaced_config_map("cas", "default", fresh)
        created.data = {"v": "stale"}
        with self.assertRaises(ApiException) as ctx:
            self.core.replace_namespaced_config_map("cas", "default", created)
        self.assertEqual(ctx.exception.status, 409)
        self.assertIn("the object has been modified", ctx.exception.body)
        self.assertEqual(self.core.read_namespaced_config_map("cas", "default").data, {"v": "2"})

    @simulator_only("it keeps 200 changes (--history 200); a real apiserver's watch cache and "
                    "etcd compaction (every 5 minutes) keep far more, so 250 writes expire nothing")
    def test_watch_from_expired_version_gets_410_and_relist_recovers(self):
        ns = "expiry"
        self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        old_rv = self.core.list_namespaced_config_map(ns).metadata.resource_version
        # More changes than the simulator keeps (--history 200).
        for i in range(250):
            self.core.create_namespaced_config_map(ns, self.cm("c%03d" % i, {"i": str(i)}))
        w = watch.Watch()
        with self.assertRaises(ApiException) as ctx:
            for ev in w.stream(self.core.list_namespaced_config_map, ns, resource_version=old_rv,
                               timeout_seconds=5):
                # Older clients hand the ERROR event through instead of raising.
                if ev["type"] == "ERROR":
                    raise ApiException(status=ev["raw_object"]["code"], reason=ev["raw_object"]["message"])
        self.assertEqual(ctx.exception.status, 410)
        # The informer's recovery: list again, then watch from the new version.
        relisted = self.core.list_namespaced_config_map(ns)
        self.assertEqual(len([c for c in relisted.items if c.metadata.name != "kube-root-ca.crt"]), 250)
        got = []
        def writer():
            time.sleep(0.3)
            self.core.create_namespaced_config_map(ns, self.cm("late", {}))
        threading.Thread(target=writer).start()
        for ev in w.stream(self.core.list_namespaced_config_map, ns,
                           resource_version=relisted.metadata.resource_version, timeout_seconds=5):
            got.append((ev["type"], ev["object"].metadata.name))
            break
        self.assertEqual(got, [("ADDED", "late")])


if __name__ == "__main__":
    unittest.main()
