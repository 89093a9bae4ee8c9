"""Fixtures of the quota tests: the example catalog applied, the operator running as a separate
process (helpers in tests/support/operator_process.py), its webhooks, and organizations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcluster.kubectl import Cluster
from tests.support.files import CATALOG_FILE, EXAMPLES
from tests.support.operator_process import OperatorProcess, Webhooks, start_quota_operator
from tests.support.orgs import Orgs


@pytest.fixture(scope="session")
def catalog_applied(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLES / "00-namespaces.yaml"))
    cluster.kubectl("apply", "-f", str(CATALOG_FILE))


@pytest.fixture(scope="session")
def operator(
    cluster: Cluster, catalog_applied: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    process = start_quota_operator(cluster, tmp_path_factory.mktemp("operator"))
    yield process
    if process.webhooks:
        process.webhooks.remove()
    process.stop()
    print(f"operator log: {process.log_path}")


@pytest.fixture
def webhooks(operator: OperatorProcess) -> Webhooks:
    if operator.webhooks is None:
        pytest.skip("webhook tests need the local control plane (the apiserver calls 127.0.0.1)")
    return operator.webhooks


@pytest.fixture
def orgs(cluster: Cluster, operator: OperatorProcess) -> Orgs:
    return Orgs(cluster, operator)
