from orgquota.core import manifests
from orgquota.core.annotations import MANAGED_LABEL, PLAN_LABEL
from orgquota.core.catalog import Catalog
from orgquota.core.desired import QuotaSettings, desired_quota
from orgquota.core.quantity import Quantity

HARD = {"requests.cpu": Quantity.parse("10300m"), "pods": Quantity(200)}
LABELS = manifests.managed_labels("pro-pool")


def hrq(hard: dict[str, object], labels: dict[str, str] | None = None) -> dict[str, object]:
    return {"metadata": {"labels": LABELS if labels is None else labels}, "spec": {"hard": hard}}


def test_labels() -> None:
    assert manifests.managed_labels("pro-pool") == {MANAGED_LABEL: "true", PLAN_LABEL: "pro-pool"}
    assert manifests.managed_labels("not a label!")[PLAN_LABEL] == ""


def test_equal_values_in_other_spellings_need_no_write() -> None:
    assert manifests.hard_patch(hrq({"requests.cpu": "10.3", "pods": 200}), HARD, LABELS) == {}


def test_changed_value_is_patched() -> None:
    patch = manifests.hard_patch(hrq({"requests.cpu": "8", "pods": "200"}), HARD, LABELS)
    assert patch == {"spec": {"hard": {"requests.cpu": "10300m", "pods": "200"}}}


def test_keys_added_by_hand_are_removed() -> None:
    patch = manifests.hard_patch(hrq({"requests.cpu": "10300m", "pods": "200", "count/secrets": "5"}), HARD, LABELS)
    assert patch == {"spec": {"hard": {"requests.cpu": "10300m", "pods": "200", "count/secrets": None}}}


def test_garbage_value_is_replaced() -> None:
    assert manifests.hard_patch(hrq({"requests.cpu": "lots", "pods": "200"}), HARD, LABELS)["spec"]


def test_missing_labels_are_restored_without_touching_the_spec() -> None:
    patch = manifests.hard_patch(hrq({"requests.cpu": "10300m", "pods": "200"}, labels={}), HARD, LABELS)
    assert patch == {"metadata": {"labels": LABELS}}


def test_describe_change() -> None:
    text = manifests.describe_hard_change(hrq({"requests.cpu": "8", "extra": "1"}), HARD)
    assert text == "extra 1 removed, pods unset -> 200, requests.cpu 8 -> 10300m"


def test_limit_range_round_trip_needs_no_write(catalog: Catalog) -> None:
    items = desired_quota({"billing.kube-dc.com/plan-id": "pro-pool"}, catalog, QuotaSettings()).limit_range
    assert items is not None
    written = manifests.limit_range_manifest(items, LABELS, manifests.owner_reference("acme", "uid-1"))
    assert written["spec"]["limits"][0]["max"] == {"cpu": "4", "memory": "8Gi"}
    assert written["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    # The apiserver re-spells quantities ("1" cpu stays, 1024Mi would become 1Gi): still no write.
    stored = {**written, "spec": {"limits": [dict(i) for i in written["spec"]["limits"]]}}
    stored["spec"]["limits"][0] = {
        **stored["spec"]["limits"][0],
        "default": {"cpu": "1000m", "memory": "1024Mi"},
    }
    assert manifests.limit_range_patch(stored, items, LABELS) == {}


def test_limit_range_edit_is_patched_whole(catalog: Catalog) -> None:
    items = desired_quota({"billing.kube-dc.com/plan-id": "pro-pool"}, catalog, QuotaSettings()).limit_range
    assert items is not None
    written = manifests.limit_range_manifest(items, LABELS, manifests.owner_reference("acme", "uid-1"))
    edited = {**written, "spec": {"limits": written["spec"]["limits"][:2]}}
    assert manifests.limit_range_patch(edited, items, LABELS) == {"spec": written["spec"]}


def test_is_managed() -> None:
    assert manifests.is_managed(hrq({}))
    assert not manifests.is_managed(hrq({}, labels={}))
    assert not manifests.is_managed({})
