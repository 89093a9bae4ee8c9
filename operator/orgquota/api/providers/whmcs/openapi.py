"""The webhook's request as `/api/billing/openapi.json` documents it (the body is read raw, so
FastAPI cannot derive it)."""

from __future__ import annotations

from typing import Any, Final

from orgquota.api.providers.whmcs.calls import REQUIRED, Action
from orgquota.api.providers.whmcs.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

_ID: Final = {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^[0-9]+$"}]}

WEBHOOK_OPENAPI: Final[dict[str, Any]] = {
    "parameters": [
        {
            "name": TIMESTAMP_HEADER,
            "in": "header",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
            "description": "Unix seconds when the call was signed; at most 300 s old, at most 30 s ahead",
        },
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "schema": {"type": "string", "pattern": "^sha256=[0-9a-fA-F]{64}$"},
            "description": "sha256=<hex HMAC-SHA256 under WHMCS_WEBHOOK_SECRET of '<timestamp>.<raw body>'>",
        },
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": list(REQUIRED),
                    "properties": {
                        "action": {"type": "string", "enum": [action.value for action in Action]},
                        "organization": {"type": "string", "description": "the Organization (= its namespace)"},
                        "planId": {"type": "string", "description": "a plan of the catalog"},
                        "serviceId": _ID,
                        "clientId": _ID,
                        "configurableOptions": {
                            "type": "object",
                            "additionalProperties": {
                                "oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "boolean"}]
                            },
                            "description": "option name -> quantity; mapped to add-ons by the catalog's "
                            "whmcs.configurableOptions; absent: the organization's add-ons are kept",
                        },
                    },
                }
            }
        },
    },
}
