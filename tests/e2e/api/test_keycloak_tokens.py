"""The billing API with Keycloak as the issuer: the demo users' real tokens (password grant) get each
role's answers, and Keycloak's key set is what the API verifies against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from localcluster.keycloak import CLIENT_ID, Keycloak, demo_users
from localcluster.kubectl import Cluster
from localcluster.oidc import password_token
from tests.support import tree
from tests.support.billing_api import BillingApi
from tests.support.files import EXAMPLES
from tests.support.oidc import Issuer, bearer
from tests.support.operator_process import PROJECTS_LIMIT, OperatorProcess

# Keycloak's first start on a busy 2-core machine: up to ~170 s measured.
pytestmark = pytest.mark.timeout(420)


@pytest.fixture(scope="module")
def acme(cluster: Cluster, api_operator: OperatorProcess) -> str:
    """The example organization acme (pro-pool + turbo-x1) and its project acme-dev (the demo users' claims)."""
    docs = [d for d in yaml.safe_load_all((EXAMPLES / "05-organizations.yaml").read_text()) if d]
    cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all([d for d in docs if d["metadata"]["name"] == "acme"]))
    tree.project(cluster, "acme", "dev")
    return "acme"


@pytest.fixture(scope="module")
def keycloak_api(
    cluster: Cluster, keycloak: Keycloak, acme: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BillingApi]:
    env = {**cluster.env, "OIDC_ISSUER_URL": keycloak.issuer, "ORGANIZATION_PROJECTS_LIMIT": str(PROJECTS_LIMIT)}
    # The API checks tokens against Keycloak only; this issuer object is never used for tokens here.
    unused = Issuer()
    api = BillingApi(env, tmp_path_factory.mktemp("keycloak-api") / "api.log", unused)
    api.wait_ready()
    yield api
    api.stop()
    unused.close()


def token_of(keycloak: Keycloak, user: str) -> dict[str, str]:
    return bearer(password_token(keycloak.issuer, CLIENT_ID, user, demo_users()[user]))


def test_org_admin(keycloak_api: BillingApi, keycloak: Keycloak) -> None:
    admin = token_of(keycloak, "acme-admin")
    sub = keycloak_api.data("/organization-subscription", admin)
    assert (sub["organization"], sub["planId"], sub["addons"]) == (
        "acme",
        "pro-pool",
        [{"addonId": "turbo-x1", "quantity": 1}],
    )
    assert sub["resources"] == {"cpu": 10, "memory": 28, "storage": 180}
    assert {p["namespace"] for p in keycloak_api.data("/projects", admin)} >= {"acme", "acme-dev"}


def test_project_user(keycloak_api: BillingApi, keycloak: Keycloak) -> None:
    user = token_of(keycloak, "acme-dev")
    denied = keycloak_api.get("/organization-subscription", user)
    assert denied.status_code == 403
    assert denied.json()["details"]["role"] == "project-user"
    assert [p["namespace"] for p in keycloak_api.data("/projects", user)] == ["acme-dev"]
    assert keycloak_api.data("/project/acme-dev/overview", user)["namespace"] == "acme-dev"
    outside = keycloak_api.get("/project/acme/overview", user)
    assert outside.status_code == 403
    assert outside.json()["details"] == {"namespace": "acme", "availableNamespaces": ["acme-dev"]}


def test_guest(keycloak_api: BillingApi, keycloak: Keycloak) -> None:
    guest = token_of(keycloak, "guest")
    assert keycloak_api.get("/config", guest).json()["config"]["provider"] == "none"
    assert [p["id"] for p in keycloak_api.data("/plans", guest)]
    assert keycloak_api.get("/projects", guest).status_code == 403
    assert keycloak_api.get("/quota-usage", guest).status_code == 403


def test_a_tampered_keycloak_token_is_refused(keycloak_api: BillingApi, keycloak: Keycloak) -> None:
    token = password_token(keycloak.issuer, CLIENT_ID, "acme-dev", demo_users()["acme-dev"])
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
    response = keycloak_api.get("/config", bearer(forged))
    assert response.status_code == 401
    assert response.json()["error"] == "the token's signature does not verify"
