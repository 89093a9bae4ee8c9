"""The events a caller may see, as the JSON their routes answer, built from the API's memory only.

org-admin: `subscription`, `usage`, `alerts` (what `/organization-subscription`, `/quota-usage` and
`/quota-status` answer), `catalog` and `projects`; a project user: `catalog` and `projects` (its own
namespaces); a guest: `catalog`. The organization's answers come from the routes' `AnswerCache`, so
a thousand streams of one organization build each answer once per change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from orgquota.api import offers, organization, routes
from orgquota.api.answers import AnswerCache
from orgquota.api.auth import Caller, Role
from orgquota.api.cluster import Cluster
from orgquota.api.currency import organization_currency
from orgquota.api.envelope import ApiError
from orgquota.api.exact_json import dumps
from orgquota.core.catalog import Catalog
from orgquota.core.desired import QuotaSettings

ORG_EVENTS: Final[dict[str, tuple[str, Callable[[organization.OrgFacts], Any]]]] = {
    "subscription": ("subscription", organization.subscription),
    "usage": ("usage", organization.usage),
    "alerts": ("status", organization.status),
}
"""event name: the AnswerCache's route name and the builder, as routes.py uses them"""
EVENTS: Final = {
    Role.ORG_ADMIN: ("catalog", *ORG_EVENTS, "projects"),
    Role.PROJECT_USER: ("catalog", "projects"),
    Role.GUEST: ("catalog",),
}
ENVELOPE_HEAD: Final = b'{"success":true,"data":'


class Snapshots:
    def __init__(self, cluster: Cluster, settings: QuotaSettings, answers: AnswerCache) -> None:
        self.cluster = cluster
        self.settings = settings
        self.answers = answers
        self._catalog: Catalog | None = None
        self._offers: dict[str | None, bytes] = {}
        """the catalog's `{plans, addons}` by currency"""

    def events(self, caller: Caller) -> dict[str, bytes]:
        """Each event the caller may see now, by name; one that cannot be answered now is left out
        (an organization not found, a memory not current: the route would answer an error)."""
        found: dict[str, bytes] = {}
        facts: organization.OrgFacts | None = None
        for name in EVENTS[caller.role]:
            try:
                if name == "catalog":
                    found[name] = self.catalog(organization_currency(self.cluster, caller.org))
                elif name == "projects":
                    found[name] = dumps(routes.project_list(caller, self.cluster))
                else:
                    facts = facts or organization.OrgFacts(self.cluster, caller.org, self.settings)
                    route, build = ORG_EVENTS[name]
                    body = bytes(self.answers.answer(route, facts, build).body)
                    found[name] = body[len(ENVELOPE_HEAD) : -1]  # the envelope's `data`, as the route answers it
            except ApiError:
                continue
        return found

    def catalog(self, currency: str | None) -> bytes:
        """`{plans, addons}` as /plans and /addons answer them (in the organization's currency), built
        once per catalog and currency."""
        catalog = organization.catalog_in_force(self.cluster)
        if self._catalog is not catalog:
            self._catalog, self._offers = catalog, {}
        if currency not in self._offers:
            self._offers[currency] = dumps(
                {"plans": offers.plans(catalog, currency), "addons": offers.addons(catalog, currency)}
            )
        return self._offers[currency]
