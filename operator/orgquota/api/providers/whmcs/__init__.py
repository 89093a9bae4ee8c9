"""The WHMCS provider (`BILLING_PROVIDER=whmcs`): the module's signed calls at `POST /webhook`.

WHMCS is the billing system; the page only links to its client area. The module calls this API on
each service event; the call is verified (`signature`), read (`calls`) and applied to the
Organization through the one state machine and the one annotation writer.
"""

from __future__ import annotations

from orgquota.api.providers.whmcs.webhook import router

__all__ = ["router"]
