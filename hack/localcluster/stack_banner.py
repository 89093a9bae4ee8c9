"""What `localcluster run` prints once everything is ready: where each part is, who can sign in, and how
to get a token without a browser. Tests find the addresses by the `billing page` and `Keycloak` lines."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import Any

from .keycloak import CLIENT_ID, REALM_FILE
from .oidc import token_endpoint

TOKEN_USER = "acme-admin"


def demo_user_lines(realm_file: Path = REALM_FILE) -> list[str]:
    """One line per demo user of the realm: organization, groups and namespaces as its token carries them."""
    realm: dict[str, Any] = json.loads(realm_file.read_text())
    lines = []
    for user in realm["users"]:
        attributes = user.get("attributes", {})
        said = [
            f"org {', '.join(attributes['org'])}" if attributes.get("org") else "no organization",
            *([f"groups {', '.join(user['groups'])}"] if user.get("groups") else []),
            *([f"namespaces {', '.join(attributes['namespaces'])}"] if attributes.get("namespaces") else []),
        ]
        lines.append(f"  {user['username']:<12} {'; '.join(said)}")
    return lines


def banner(
    api_port: int,
    issuer: str,
    kubeconfig: Path,
    metrics_port: int,
    places: dict[str, str | None],
    workdir: Path,
    began: float,
) -> str:
    """`places`: the addresses of Prometheus and Alertmanager (None: not installed) and the mail's Maildir."""
    origin = f"http://127.0.0.1:{api_port}"
    grant = " ".join(
        f"-d {shlex.quote(f'{key}={value}')}"
        for key, value in (
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("username", TOKEN_USER),
            ("password", TOKEN_USER),
        )
    )
    extract = shlex.quote('import json,sys; print(json.load(sys.stdin)["access_token"])')
    return "\n".join(
        [
            "",
            f"orgquota is running (ready in {time.monotonic() - began:.0f} s); Ctrl-C stops everything.",
            f"  billing page   {origin}/",
            f"  billing API    {origin}/api/billing/  (health /api/billing/health, docs /api/billing/docs)",
            f"  Keycloak       {issuer}",
            f"  kubeconfig     {kubeconfig}",
            f"  operator       metrics http://127.0.0.1:{metrics_port}/metrics",
            f"  Prometheus     {places.get('Prometheus') or 'not installed (`make prometheus`): no usage history'}",
            f"  Alertmanager   {places.get('Alertmanager') or 'not installed (`make prometheus`): no alert e-mails'}",
            f"  alert mail     {places.get('mail')}  (a Maildir: one file per message in new/, or `mutt -f` it)",
            f"  logs           {workdir}",
            "Demo users (password = user name):",
            *demo_user_lines(),
            "A token by the password grant, and a call with it:",
            f"  TOKEN=$(curl -s {grant} {token_endpoint(issuer)} | python3 -c {extract})",
            f'  curl -s -H "Authorization: Bearer $TOKEN" {origin}/api/billing/quota-usage',
            "",
        ]
    )
