"""The development server's routes of the Alerts & Budget tab (SPEC §10): `/quota-status` with the
alerts the fixture's usage gives (80 % warning, 100 % critical), `/notification-settings` and
`/budget` kept in memory, with the API's refusals in the API's words. Never a production server."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

RESOURCES = {
    "cpu": "cpu",
    "memory": "memory",
    "storage": "storage",
    "pods": "pods",
    "publicIPv4": "public_ipv4",
}
ADDRESS = re.compile(r"^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$")
SINCE = "2026-11-29T08:30:00Z"

Answer = tuple[int, dict[str, Any]]


def alerts_of(usage: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    found = []
    for key, resource in RESOURCES.items():
        item = usage.get(key) or {}
        if not item.get("limit"):
            continue
        percent = int(item["used"] / item["limit"] * 1000) / 10
        if percent >= 80:
            level = "critical" if percent >= 100 else "warning"
            found.append({"resource": resource, "level": level, "percent": percent, "since": SINCE})
    return found


class AlertSettings:
    """The organization's notification addresses and budget, as the annotations would keep them."""

    def __init__(self) -> None:
        self.emails: list[str] = []
        self.budget: Decimal | None = None

    def budget_answer(self, sub: dict[str, Any]) -> dict[str, Any]:
        cost = sub.get("monthlyCost") or {}
        current = cost.get("total")
        percent = None if self.budget is None or current is None else round(float(current / self.budget * 100), 1)
        monthly = None if self.budget is None else float(self.budget)
        return {"monthly": monthly, "currency": cost.get("currency", "EUR"), "current": current, "percent": percent}

    def answer(self, sub: dict[str, Any], method: str, path: str, body: dict[str, Any]) -> Answer | None:
        """The answer to an alerts route, or None for any other route."""
        if (method, path) == ("GET", "/quota-status"):
            usage = sub.get("usage") or {}
            over = [name for name, u in usage.items() if u.get("limit") is not None and u["used"] > u["limit"]]
            return 200, {
                "quotaEnforced": bool(usage),
                "planId": sub.get("planId"),
                "mode": sub.get("mode", "plan"),
                "hrqExists": bool(usage),
                "limitRangeExists": bool(usage),
                "ready": sub.get("ready", True),
                "reason": "Applied" if usage else "NoPlan",
                "message": f"plan {sub.get('planId')} is enforced" if usage else "no plan is assigned",
                "overQuota": over,
                "alerts": alerts_of(usage),
            }
        if (method, path) == ("GET", "/notification-settings"):
            return 200, {"emails": self.emails}
        if (method, path) == ("PUT", "/notification-settings"):
            emails = body.get("emails")
            if not isinstance(emails, list) or len(emails) > 10:
                return 400, {"error": "emails: at most 10 addresses", "details": {"field": "emails"}}
            bad = next((e for e in emails if not isinstance(e, str) or not ADDRESS.match(e)), None)
            if bad is not None:
                error = f"emails: {str(bad)[:64]!r} is not an e-mail address (name@example.com)"
                return 400, {"error": error, "details": {"field": "emails"}}
            self.emails = list(emails)
            return 200, {"emails": self.emails}
        if (method, path) == ("GET", "/budget"):
            return 200, self.budget_answer(sub)
        if (method, path) == ("PUT", "/budget"):
            try:
                amount = Decimal(str(body.get("monthly")))
            except InvalidOperation:
                amount = Decimal(0)
            if not amount.is_finite() or amount <= 0:
                error = "monthly: monthly must be a positive decimal number, e.g. 300 or 249.50"
                return 400, {"error": error, "details": {"field": "monthly"}}
            self.budget = amount
            return 200, self.budget_answer(sub)
        if (method, path) == ("DELETE", "/budget"):
            self.budget = None
            return 200, self.budget_answer(sub)
        return None
