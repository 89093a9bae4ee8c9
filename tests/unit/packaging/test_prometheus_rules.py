"""deploy/prometheus/rules/ holds plain Prometheus rule files that promtool accepts, and its recorded
series say what they are named for (promtool's own rule unit tests, tests/unit/packaging/prometheus/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcluster.versions import PROMETHEUS_RULES
from tests.support.promtool import promtool

RULE_FILES = sorted(PROMETHEUS_RULES.glob("*.yml"))
RULE_TESTS = sorted((Path(__file__).parent / "prometheus").glob("*.test.yml"))


def test_there_are_rule_files_and_rule_tests() -> None:
    assert RULE_FILES, f"no rule file in {PROMETHEUS_RULES}"
    assert RULE_TESTS


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda path: path.name)
def test_promtool_accepts_the_rule_file(path: Path) -> None:
    assert "SUCCESS" in promtool("check", "rules", path)


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda path: path.name)
def test_recorded_series_hold_what_they_are_named_for(path: Path) -> None:
    assert "SUCCESS" in promtool("test", "rules", path.name, cwd=path.parent)
