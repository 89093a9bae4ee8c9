from datetime import UTC, datetime

from orgquota.core.status import Findings, Verdict, over_quota, quota_status, quota_usage, without_usage

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
APPLIED = Verdict(True, "plan", "pro-pool", "Applied", "plan pro-pool is enforced")
HRQ = {
    "spec": {"hard": {"requests.cpu": "8", "requests.memory": "24Gi", "pods": "200"}},
    "status": {"hard": {"requests.cpu": "8", "requests.memory": "24Gi", "pods": "200"}, "used": {"requests.cpu": "9"}},
}


def test_usage_mirrors_the_hrq_status() -> None:
    usage = quota_usage(HRQ, public_ips=2, public_ip_limit=1)
    assert usage == {
        "hard": {"cpu": "8", "memory": "24Gi", "pods": "200", "publicIPv4": "1"},
        "used": {"cpu": "9", "memory": "0", "pods": "0", "publicIPv4": "2"},
    }
    assert over_quota(usage) == ["cpu used 9 > hard 8", "publicIPv4 used 2 > hard 1"]


def test_usage_before_hnc_wrote_a_status_uses_the_spec() -> None:
    usage = quota_usage({"spec": HRQ["spec"]}, public_ips=0, public_ip_limit=None)
    assert usage is not None
    assert usage["hard"]["cpu"] == "8"
    assert "publicIPv4" not in usage["hard"]  # a plan without an eipQuota is not limited
    assert quota_usage(None, 0, None) is None


def test_transition_time_and_last_updated_move_only_on_change() -> None:
    usage = quota_usage(HRQ, 0, None)
    first = quota_status({}, APPLIED, Findings(usage), NOW)
    again = quota_status(first, APPLIED, Findings(usage), LATER)
    assert again == first
    assert first["quotaUsage"]["lastUpdated"] == "2026-11-24T12:00:00Z"
    over = next(c for c in first["conditions"] if c["type"] == "OverQuota")
    assert (over["status"], over["message"]) == ("True", "cpu used 9 > hard 8")
    changed = quota_status(first, APPLIED, Findings(quota_usage({"spec": HRQ["spec"]}, 0, None)), LATER)
    assert changed["quotaUsage"]["lastUpdated"] == "2026-11-24T13:00:00Z"
    ready = next(c for c in changed["conditions"] if c["type"] == "QuotaReady")
    assert ready["lastTransitionTime"] == "2026-11-24T12:00:00Z"  # QuotaReady did not flip
    assert without_usage(changed) == without_usage(first)  # a usage-only change: throttled


def test_other_conditions_are_kept_and_usage_removed_without_an_hrq() -> None:
    previous = {"conditions": [{"type": "Synced", "status": "True"}], "quotaUsage": {"hard": {}, "used": {}}}
    status = quota_status(previous, APPLIED, Findings(None), NOW)
    assert [c["type"] for c in status["conditions"]] == ["QuotaReady", "QuotaPressure", "Synced"]
    assert "quotaUsage" not in status
