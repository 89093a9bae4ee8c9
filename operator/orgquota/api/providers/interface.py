"""What a payment provider is to the API: its settings, what the page may offer, its routes, its webhook.

Nothing outside a provider's package names a provider: the API reads the selected provider's
settings with its own (`ApiSettings.from_env`), mounts its routers and answers `/config` from its
`features()`. A provider's webhook is its half of the one pipeline (`providers.webhook`): it
verifies and reads messages, and the pipeline writes them through the one annotation writer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from fastapi import APIRouter

from orgquota.api.providers import load
from orgquota.api.providers.webhook import Webhook, webhook_router
from orgquota.settings import EnvironmentSettings

if TYPE_CHECKING:
    from orgquota.api.cluster import Cluster
    from orgquota.api.settings import ApiSettings
    from orgquota.kube.client import Kube


class ProviderSettings(EnvironmentSettings):
    """A provider's own settings: its variables, read by the API's rules (a bad value stops
    `orgquota api` at start naming the variable; a secret may come from `<NAME>_FILE`)."""

    PROGRAM: ClassVar[str] = "orgquota api"


@dataclass(frozen=True)
class Features:
    """What the page may offer with this provider (`/config`); quotas and plans are always offered."""

    checkout: bool = False
    portal: bool = False
    webhooks: bool = False
    addons: bool = False
    external_billing_url: str | None = None
    """where people manage their billing when it is not on this page"""


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may use: the API's settings, and the informers with their apiserver client."""

    settings: ApiSettings
    cluster: Cluster

    @property
    def kube(self) -> Kube:
        """The client billing annotations are written with (the one annotation writer's)."""
        if self.cluster.kube is None:
            raise RuntimeError("the informers were built without an apiserver client: nothing can be written")
        return self.cluster.kube


S = TypeVar("S", bound=ProviderSettings)


class BillingProvider(ABC, Generic[S]):
    """A payment provider; its package's `PROVIDER` is its subclass (see `orgquota.api.providers`)."""

    Settings: ClassVar[type[ProviderSettings]] = ProviderSettings
    """the provider's settings model (none by default)"""

    def __init__(self, settings: S, context: ProviderContext) -> None:
        self.settings = settings
        self.context = context
        self.name = context.settings.provider

    @abstractmethod
    def features(self) -> Features: ...

    def router(self) -> APIRouter | None:
        """The provider's own routes under /api/billing (besides its webhook), if any."""
        return None

    def webhook(self) -> Webhook[Any, Any] | None:
        """The provider's half of the webhook pipeline (`POST /api/billing/webhook`), if it has one."""
        return None

    def routers(self) -> Iterator[APIRouter]:
        """Every router to mount: the provider's own routes and its webhook."""
        own = self.router()
        if own is not None:
            yield own
        hook = self.webhook()
        if hook is not None:
            yield webhook_router(hook, self.context)

    def config(self) -> dict[str, Any]:
        """`/config`'s answer."""
        features = self.features()
        return {
            "provider": self.name,
            "features": {
                "quotas": True,
                "plans": True,
                "checkout": features.checkout,
                "portal": features.portal,
                "webhooks": features.webhooks,
                "addons": features.addons,
            },
            "externalBillingUrl": features.external_billing_url,
        }


def create_provider(context: ProviderContext) -> BillingProvider[Any]:
    """The selected provider, over the settings `ApiSettings.from_env` read for it."""
    name, settings = context.settings.provider, context.settings.provider_settings
    provider = load(name)
    if not isinstance(settings, provider.Settings):
        raise TypeError(f"provider {name}: its settings are a {provider.Settings}, not a {type(settings)}")
    return provider(settings, context)
