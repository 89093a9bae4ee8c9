"""The API's OpenAPI document on stdout, for the page's generated types (`make api-types`).

Built with the Stripe provider, so every payment route the page may call is in it; the settings are
placeholders (nothing is contacted: the document is the routes' and models', not the cluster's).
"""

from __future__ import annotations

import json
import sys
from typing import Final

from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings

PLACEHOLDERS: Final = {
    "OIDC_ISSUER_URL": "https://issuer.invalid/realms/kube-dc",
    "BILLING_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_test_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
}


def document() -> dict[str, object]:
    settings = ApiSettings.from_env(PLACEHOLDERS)
    return create_app(settings, Cluster(settings)).openapi()


def main() -> None:
    json.dump(document(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
