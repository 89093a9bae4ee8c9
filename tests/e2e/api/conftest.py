"""`orgquota api` as a real process against the session's apiserver (through a relay that tests can
cut), with the operator running and tokens from a local issuer's JWKS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from localcluster.kubectl import Cluster
from tests.support.billing_api import BillingApi, start_billing_api
from tests.support.files import CATALOG_FILE, EXAMPLES
from tests.support.oidc import Issuer
from tests.support.operator_process import OperatorProcess, start_quota_operator
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(scope="module")
def apiserver_relay(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TcpProxy, Path]]:
    """A relay to the apiserver and a kubeconfig that goes through it."""
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    if not server.startswith("https://127.0.0.1:"):
        pytest.skip("the relay needs the local control plane (KUBECONFIG names another cluster)")
    proxy = TcpProxy(int(server.rsplit(":", 1)[1]))
    proxy.start()
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    path = tmp_path_factory.mktemp("relay") / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    yield proxy, path
    proxy.stop()


@pytest.fixture(scope="module")
def api_operator(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorProcess]:
    """The operator for this module only: the quota suite's session operator must not run beside it
    (two operators would both act), and this directory's tests run before that suite's."""
    cluster.kubectl("apply", "-f", str(EXAMPLES / "00-namespaces.yaml"))
    cluster.kubectl("apply", "-f", str(CATALOG_FILE))
    process = start_quota_operator(cluster, tmp_path_factory.mktemp("api-operator"))
    yield process
    if process.webhooks:
        process.webhooks.remove()
    process.stop()


@pytest.fixture(scope="module")
def billing_api(
    cluster: Cluster,
    api_operator: OperatorProcess,
    apiserver_relay: tuple[TcpProxy, Path],
    issuer: Issuer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BillingApi]:
    api = start_billing_api(cluster, apiserver_relay[1], issuer, tmp_path_factory.mktemp("api"))
    yield api
    api.stop()
    print(f"billing API log: {api.log_path}")
