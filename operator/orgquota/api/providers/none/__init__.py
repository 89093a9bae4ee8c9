"""No payment provider (`BILLING_PROVIDER=none`, the default): quotas and plans only.

Checkout, portal, webhook and subscription changes are not mounted (404 like any unknown route), and
plans are assigned by other means (an administrator's annotations); an org-admin may start the
organization's one trial (`POST /trial`, `api/trial.py`).
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter

from orgquota.api import trial
from orgquota.api.providers.interface import BillingProvider, Features, ProviderSettings


class NoProvider(BillingProvider[ProviderSettings]):
    def features(self) -> Features:
        return Features()

    def router(self) -> APIRouter:
        return trial.router


PROVIDER: Final = NoProvider
