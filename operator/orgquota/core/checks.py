"""Admission decisions, pure: what the webhooks reject, and what they warn about.

The operator already survives bad input (it keeps the last good catalog and fails closed on
bad annotations); rejecting at admission is what turns a silent fallback into a clear error
at `kubectl apply` time, where the person who made the mistake is still looking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from orgquota.core import annotations as ann
from orgquota.core.catalog import Catalog
from orgquota.core.desired import (
    DEFAULT_PROJECTS_LIMIT,
    DesiredQuota,
    Mode,
    QuotaSettings,
    addon_problem,
    desired_quota,
    plan_problem,
    public_ip_limit,
    subscription_problem,
)
from orgquota.core.organization import Organization
from orgquota.core.project_caps import PROJECT_CAPS, CapsError, parse_caps
from orgquota.core.quantity import Quantity, QuantityError
from orgquota.core.timestamps import parse_rfc3339

MAX_LISTED: Final = 10
"""Organizations named in one warning; the rest are counted."""


def check_annotations(
    new: Mapping[str, str],
    old: Mapping[str, str],
    catalog: Catalog | None,
    *,
    organization: str = "",
    projects_limit: int = DEFAULT_PROJECTS_LIMIT,
) -> list[str]:
    """Problems with the billing annotations that this request sets or changes.

    Values left as they were are not judged again, so an organization whose annotations
    predate a catalog change can still be edited, and the operator's own writes pass. The
    judgments and their words are the operator's own (`desired`): a value is taken exactly as
    written, so `' '` or `'pro-pool '` is an unknown plan here as there.
    """
    changed = {key: value for key, value in new.items() if key.startswith(ann.PREFIX) and old.get(key) != value}
    problems: list[str] = []
    if ann.PLAN_ID in changed and catalog is not None:
        problems.extend(filter(None, [plan_problem(changed[ann.PLAN_ID], catalog)]))
    if ann.SUBSCRIPTION in changed:
        problems.extend(filter(None, [subscription_problem(changed[ann.SUBSCRIPTION])]))
    if ann.ADDONS in changed:
        parsed = ann.parse_addons(changed[ann.ADDONS])
        problems.extend(
            problem.removesuffix("; ignored").removesuffix("; no add-on is granted") for problem in parsed.problems
        )
        if catalog is not None:
            problems.extend(filter(None, (addon_problem(request.addon_id, catalog) for request in parsed.requests)))
    if PROJECT_CAPS in changed:
        try:
            parse_caps(changed[PROJECT_CAPS], organization=organization, projects_limit=projects_limit)
        except CapsError as exc:
            problems.extend(exc.problems)
    if ann.SUSPENDED_AT in changed:
        try:
            parse_rfc3339(changed[ann.SUSPENDED_AT])
        except ValueError:
            problems.append(
                f"{ann.SUSPENDED_AT}: {changed[ann.SUSPENDED_AT]!r} is not an RFC 3339 time (e.g. 2026-11-24T10:00:00Z)"
            )
    return problems


def unknown_keys(new: Mapping[str, str], old: Mapping[str, str]) -> list[str]:
    """Warnings for billing annotations this request adds that nobody reads: `plan_id` for `plan-id`
    is a quota silently not applied. Warned, not refused: other tools may own keys under the prefix."""
    known = {
        ann.PLAN_ID,
        ann.SUBSCRIPTION,
        ann.ADDONS,
        ann.SUSPENDED_AT,
        ann.BUDGET,
        ann.TRIAL_ENDS_AT,
        PROJECT_CAPS,
    } | ann.READ_BY_BILLING
    added = sorted(key for key in new if key.startswith(ann.PREFIX) and key not in known and key not in old)
    names = ", ".join(sorted(key.removeprefix(ann.PREFIX) for key in known))
    return [f"{key} is not a billing annotation, nothing reads it (known: {names})" for key in added]


OrgUsage = tuple[Organization, Mapping[str, str]]
"""an organization and its HRQ's `status.used`, as the impact preview sees them"""


def catalog_impact(old: Catalog | None, new: Catalog, orgs: Iterable[OrgUsage], settings: QuotaSettings) -> list[str]:
    """Warnings for a catalog change: whose quota changes, and who would be over the new limits."""
    changed: list[str] = []
    over: list[str] = []
    total = 0
    for org, used in sorted(orgs, key=lambda pair: pair[0].name):
        total += 1
        after = desired_quota(org.annotations, new, settings)
        before = desired_quota(org.annotations, old, settings) if old is not None else None
        if before is None or before.mode != after.mode or dict(before.hard) != dict(after.hard):
            changed.append(org.name)
        if after.mode != Mode.NONE:
            excess = _over(used, after.hard)
            if excess:
                over.append(f"{org.name} ({excess})")
    warnings = []
    if old is not None:
        warnings.append(
            f"this catalog changes the quota of {len(changed)} of {total} organizations"
            + (f": {_listed(changed)}" if changed else "")
        )
    if over:
        warnings.append(f"{len(over)} organizations would be over their new quota: {_listed(over)}")
    return warnings


def _over(used: Mapping[str, str], hard: Mapping[str, Quantity]) -> str:
    parts = []
    for key, limit in hard.items():
        try:
            amount = Quantity.parse(used[key]) if key in used else None
        except QuantityError:
            continue
        if amount is not None and amount > limit:
            parts.append(f"{key} used {used[key]} > {limit}")
    return ", ".join(parts)


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def eip_denial(desired: DesiredQuota, catalog: Catalog, held: int) -> str | None:
    """Why one more public EIp is refused, or None if it is allowed."""
    limit = public_ip_limit(desired, catalog)
    if limit is None or held < limit:
        return None
    why = (
        "the organization is on the suspended floor"
        if desired.mode == Mode.FLOOR
        else f"plan {desired.plan_id} allows {limit}"
    )
    return f"public EIp quota reached: {why} and the organization holds {held}"
