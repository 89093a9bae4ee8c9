"""No payment provider (`BILLING_PROVIDER=none`, the default): quotas and plans only.

Nothing is mounted: checkout, portal, webhook and subscription changes answer 404 like any
unknown route, and plans are assigned by other means (an administrator's annotations).
"""

from __future__ import annotations

from typing import Final

from orgquota.api.providers.interface import BillingProvider, Features, ProviderSettings


class NoProvider(BillingProvider[ProviderSettings]):
    def features(self) -> Features:
        return Features()


PROVIDER: Final = NoProvider
