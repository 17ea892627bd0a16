"""Which API server a conformance suite runs against: `remote-code sim` (the default) or, with
RC_TARGET=cluster, a fresh real control plane (tests/lib/clusterharness.py). tests/run-all.sh
runs the kubectl, Python-client, API-semantics and recorded-fixture suites both ways, so the
simulator is trusted only as far as the real apiserver agrees on the same tests.
"""
import os
import unittest

from simharness import Sim

REAL = os.environ.get("RC_TARGET") == "cluster"


def api_server(*sim_args):
    """A started target; sim_args are the simulator's flags (the real server has its own)."""
    if REAL:
        from clusterharness import ClusterTarget
        return ClusterTarget()
    return Sim(*sim_args)


def simulator_only(reason):
    """For a test of something only the simulator has (fault injection, its admin routes)."""
    return unittest.skipIf(REAL, "simulator only: " + reason)
