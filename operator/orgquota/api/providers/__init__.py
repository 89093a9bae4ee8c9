"""Payment providers, selected by `BILLING_PROVIDER`: each is a package of this one.

The package `orgquota.api.providers.<name>` is the provider `<name>`: its `PROVIDER` is its
subclass of `interface.BillingProvider` (settings, features, routes, webhook). The names
`BILLING_PROVIDER` accepts are the packages found here, so a provider is added by adding its
package and nothing else; only the selected one is imported. `none` is the provider without a
payment system: quotas and plans only, and the provider routes answer 404 like any unknown route.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orgquota.api.providers.interface import BillingProvider


def names() -> list[str]:
    """The providers this version has (its sub-packages), sorted."""
    return sorted(module.name for module in pkgutil.iter_modules(__path__) if module.ispkg)


def load(name: str) -> type[BillingProvider[Any]]:
    """The provider `name` (one of `names()`); SystemExit when its package cannot be imported."""
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        raise SystemExit(f"orgquota api: BILLING_PROVIDER={name}: the provider cannot be loaded ({exc})") from exc
    provider: type[BillingProvider[Any]] = module.PROVIDER
    return provider
