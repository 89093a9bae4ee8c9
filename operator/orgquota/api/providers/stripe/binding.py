"""Which organization a Stripe subscription may change: the binding of a subscription to one organization.

An event names its organization in data anyone with a Payment Link or the Stripe dashboard can set
(`metadata.organization`, `client_reference_id`), so the name alone proves nothing. A subscription
is applied to an organization only when its customer is the one recorded there
(`provider-customer-id`), or the organization has no customer yet and the subscription comes from the
Checkout Session this API created for it (recorded in `checkout-session` when it was created). A
subscription recorded on one organization is never applied to another, and an organization holding
a live subscription is not given a second one. Anything else is refused without a write: logged and
counted by the caller, and answered 200 to Stripe (a retry would not change it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import aiohttp
import stripe

from orgquota.api.envelope import ApiError
from orgquota.api.providers.apply import KubernetesUnavailable
from orgquota.api.providers.stripe.provider import ENDED_STATES, stripe_errors
from orgquota.core import annotations as ann
from orgquota.core.annotations import billing_annotations
from orgquota.core.billing_facts import BillingFact, Subscribed
from orgquota.kube.billing_annotations import update_billing_annotations
from orgquota.kube.client import ORGANIZATION, Kube, KubeError


class _Taken(Exception):
    """Another checkout was recorded meanwhile (its session id in args)."""


@dataclass(frozen=True)
class Claim:
    """What a message claims about the subscription it carries."""

    subscription_id: str | None
    session_id: str | None = None
    """the Checkout Session the subscription came from, when the message is that session"""


def refusal(current: Mapping[str, str], facts: Sequence[BillingFact], claim: Claim) -> str | None:
    """Why facts that start or renew a subscription must not be applied to the organization whose
    billing annotations are `current`; None when they may (facts that start nothing are judged by
    whether the subscription is the organization's own, elsewhere)."""
    sold = next((fact for fact in facts if isinstance(fact, Subscribed)), None)
    if sold is None:
        return None
    customer = current.get(ann.PROVIDER_CUSTOMER_ID)
    if customer:
        if sold.customer_id != customer:
            return f"its customer {sold.customer_id or '<none>'} is not the organization's ({customer})"
    elif claim.session_id is None or claim.session_id != current.get(ann.CHECKOUT_SESSION):
        return (
            "the organization has no Stripe customer yet, and the subscription does not come from the "
            "Checkout Session this API created for it"
        )
    held = current.get(ann.PROVIDER_SUBSCRIPTION_ID)
    if held and held != sold.subscription_id and current.get(ann.SUBSCRIPTION) not in ENDED_STATES:
        return f"the organization holds another live subscription ({held})"
    return None


def held_elsewhere(
    subscription_id: str | None, organization: str, holders: Iterable[tuple[str, str | None]]
) -> str | None:
    """The other organization that records `subscription_id`, if any (`holders`: name, recorded id)."""
    if not subscription_id:
        return None
    return next((name for name, held in holders if held == subscription_id and name != organization), None)


async def recorded_session(kube: Kube, organization: str) -> str | None:
    """The organization's checkout as the apiserver has it now (the watch cache may be a write behind)."""
    async with stripe_errors("reading the organization's checkout"):
        try:
            body = await kube.get(ORGANIZATION.path(organization, organization))
        except (KubeError, aiohttp.ClientError, TimeoutError) as exc:
            raise KubernetesUnavailable(organization, exc) from exc
    if body is None:
        raise ApiError(404, f"organization {organization!r} not found", {"organization": organization})
    return billing_annotations(body["metadata"]).get(ann.CHECKOUT_SESSION)


async def record_session(kube: Kube, organization: str, seen: str | None, session_id: str) -> None:
    """Record `session_id` as the organization's checkout, unless another checkout was recorded since
    `seen` was read (two checkouts at once): then 409, and the caller expires its session."""

    def change(current: Mapping[str, str]) -> dict[str, str | None]:
        if current.get(ann.CHECKOUT_SESSION) != seen:
            raise _Taken(current.get(ann.CHECKOUT_SESSION))
        return {ann.CHECKOUT_SESSION: session_id}

    async with stripe_errors("recording the Checkout Session"):
        try:
            written = await update_billing_annotations(kube, organization, organization, change)
        except (KubeError, aiohttp.ClientError, TimeoutError) as exc:
            raise KubernetesUnavailable(organization, exc) from exc
        except _Taken as exc:
            raise ApiError(
                409,
                f"another checkout of organization {organization!r} started meanwhile; finish or abandon it first",
                {"organization": organization, "sessionId": exc.args[0]},
            ) from None
    if written is None:
        raise ApiError(404, f"organization {organization!r} not found", {"organization": organization})


async def expire_earlier(client: stripe.StripeClient, organization: str, session_id: str) -> None:
    """Expire the organization's earlier Checkout Session, so that it can no longer complete beside a
    new one; 409 when it already has (its subscription is on its way)."""
    async with stripe_errors("expiring the earlier Checkout Session"):
        try:
            await client.v1.checkout.sessions.expire_async(session_id)
            return
        except stripe.InvalidRequestError:
            pass  # not open any more: expired already, or completed
        earlier = await client.v1.checkout.sessions.retrieve_async(session_id)
    if earlier.status == "complete":
        raise ApiError(
            409,
            f"organization {organization!r} completed a checkout ({session_id}); its subscription is being applied",
            {"organization": organization, "sessionId": session_id},
        )
