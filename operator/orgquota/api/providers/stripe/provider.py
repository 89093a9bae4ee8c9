"""What the Stripe routes share: settings, the Stripe client, the cluster, and the checks of what is for sale."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final

import stripe
from stripe import RequestOptions

from orgquota.api.envelope import ApiError
from orgquota.api.organization import OrgFacts, catalog_in_force, fit_answer, simulate
from orgquota.api.providers.apply import KubernetesUnavailable, OrganizationNotFound
from orgquota.api.providers.interface import BillingProvider, Features, ProviderContext
from orgquota.api.providers.stripe.config import StripeApi, StripeSettings
from orgquota.api.providers.stripe.prices import Kind, PriceBook, Priced, setting_name
from orgquota.core import annotations as ann
from orgquota.core.annotations import AddonRequest
from orgquota.core.catalog import Catalog
from orgquota.kube.client import Kube

logger = logging.getLogger(__name__)

ENDED_STATES = frozenset({ann.Subscription.SUSPENDED.value, ann.Subscription.CANCELED.value})
_NAMED: Final = {Kind.PLAN: ("plan", "planId", "availablePlans"), Kind.ADDON: ("add-on", "addonId", "availableAddons")}
"""how a refusal names an item of each kind: in words, and its fields in the details"""


class StripeProvider(BillingProvider[StripeSettings]):
    """Stripe sells the plans and add-ons: Checkout, changes, the customer portal, and the webhook
    (`orgquota.api.providers.stripe.Stripe` mounts them)."""

    Settings = StripeSettings

    def __init__(self, settings: StripeSettings, context: ProviderContext) -> None:
        super().__init__(settings, context)
        self.api = StripeApi(settings)
        self.cluster = context.cluster
        self.quota = context.settings.quota
        self.console_url = str(context.settings.console_url).rstrip("/")

    @property
    def kube(self) -> Kube:
        return self.context.kube

    def features(self) -> Features:
        return Features(checkout=True, portal=True, webhooks=True, addons=True)

    @property
    def client(self) -> stripe.StripeClient:
        return self.api.client

    def catalog(self) -> Catalog:
        return catalog_in_force(self.cluster)

    def org_facts(self, organization: str) -> OrgFacts:
        return OrgFacts(self.cluster, organization, self.quota)

    def prices(self, catalog: Catalog) -> PriceBook:
        book = PriceBook(self.settings.prices, catalog)
        for problem in book.problems:
            logger.error("Stripe prices: %s", problem)
        return book

    def require_fit(
        self,
        facts: OrgFacts,
        plan_id: str,
        addons: Sequence[AddonRequest] | None,
        refusal: str,
        details: dict[str, Any],
    ) -> None:
        """409 naming the violations when current usage would not fit `plan_id` with `addons` (None: the
        organization's own): nothing is sold that the operator would then have to squeeze."""
        result = simulate(facts, plan_id, addons, self.quota)
        if not result.fits:
            raise ApiError(409, refusal, {**details, "violations": fit_answer(result)["violations"]})

    def plan_price(self, catalog: Catalog, plan_id: str, currency: str | None = None) -> str:
        """The price to sell `plan_id` at (in `currency`, else its default): 400 if it is not a self-service
        plan, 409 if it has no price."""
        offered = sorted(i for i, p in catalog.plans.items() if p.selfService)
        default = catalog.plans[plan_id].currency if plan_id in offered else ""
        return self._price(catalog, Priced(Kind.PLAN, plan_id, _other(currency, default)), offered)

    def addon_price(self, catalog: Catalog, addon_id: str, currency: str | None = None) -> str:
        """The price to sell `addon_id` at (in `currency`, else its default): 400 if it is not an enabled
        self-service add-on, 409 if unpriced."""
        offered = sorted(i for i, a in catalog.addons.items() if a.selfService and not a.disabled)
        default = catalog.addons[addon_id].currency if addon_id in offered else ""
        return self._price(catalog, Priced(Kind.ADDON, addon_id, _other(currency, default)), offered)

    def _price(self, catalog: Catalog, item: Priced, offered: list[str]) -> str:
        word, field, listed = _NAMED[item.kind]
        if item.id not in offered:
            raise ApiError(400, f"unknown {word} {item.id!r}", {field: item.id, listed: offered})
        price = self.prices(catalog).price(item)
        if price is None:
            setting = setting_name(item.id, item.currency)
            raise ApiError(
                409,
                f"{word} {item.id!r} cannot be bought: it has no Stripe price ({setting} is not set)",
                {field: item.id, "setting": setting},
            )
        return price


def _other(currency: str | None, default: str) -> str | None:
    """`currency` when it is not the item's default one (whose price is the unsuffixed setting)."""
    return currency if currency and currency != default else None


def idempotency_key(action: str, organization: str) -> RequestOptions:
    """A key per request: Stripe's client sends it again on its own retries, so a retried creating
    request is done once."""
    return {"idempotency_key": f"orgquota-{action}-{organization}-{uuid.uuid4().hex}"}


def live_subscription(annotations: Mapping[str, str]) -> str | None:
    """The organization's Stripe subscription while it is live (not suspended or canceled)."""
    subscription = annotations.get(ann.PROVIDER_SUBSCRIPTION_ID)
    if not subscription or annotations.get(ann.SUBSCRIPTION) in ENDED_STATES:
        return None
    return subscription


def require_live(annotations: Mapping[str, str], organization: str) -> str:
    subscription = live_subscription(annotations)
    if subscription is None:
        raise ApiError(
            409,
            f"organization {organization!r} has no live Stripe subscription: subscribe first",
            {"organization": organization, "status": annotations.get(ann.SUBSCRIPTION)},
        )
    return subscription


@contextlib.asynccontextmanager
async def stripe_errors(action: str) -> AsyncIterator[None]:
    """Stripe's failures as API errors: 503 when it cannot be reached, 502 when it refuses; and the
    apiserver's failures as 503 (nothing was written)."""
    try:
        yield
    except stripe.APIConnectionError as exc:
        logger.warning("Stripe unreachable while %s: %s", action, exc.user_message or exc)
        raise ApiError(503, f"Stripe could not be reached while {action}; try again", {"action": action}) from exc
    except stripe.StripeError as exc:
        details: dict[str, Any] = {"action": action, "stripeStatus": exc.http_status, "stripeCode": exc.code}
        logger.warning("Stripe refused %s: %s (%s)", action, exc.user_message or exc, exc.code)
        raise ApiError(502, f"Stripe refused {action}: {exc.user_message or exc}", details) from exc
    except OrganizationNotFound as exc:
        raise ApiError(404, f"organization {exc.args[0]!r} not found", {"organization": exc.args[0]}) from exc
    except KubernetesUnavailable as exc:
        logger.error("Kubernetes failed while %s: %s", action, exc)
        raise ApiError(
            503, f"the Kubernetes API failed while {action}; nothing was written", {"action": action}
        ) from exc
