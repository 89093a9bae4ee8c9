"""The one writer of billing annotations writes only them, as a merge patch (null removes)."""

from __future__ import annotations

import pytest

from orgquota.kube.billing_annotations import NotBillingAnnotation, billing_patch


def test_patch_of_billing_annotations() -> None:
    patch = billing_patch({"billing.kube-dc.com/subscription": "active", "billing.kube-dc.com/suspended-at": None})
    assert patch == {
        "metadata": {
            "annotations": {"billing.kube-dc.com/subscription": "active", "billing.kube-dc.com/suspended-at": None}
        }
    }


@pytest.mark.parametrize("key", ["kubectl.kubernetes.io/last-applied-configuration", "billing.kube-dc.com/", "plan-id"])
def test_anything_else_is_refused(key: str) -> None:
    with pytest.raises(NotBillingAnnotation, match="not billing annotations"):
        billing_patch({"billing.kube-dc.com/plan-id": "pro-pool", key: "x"})
