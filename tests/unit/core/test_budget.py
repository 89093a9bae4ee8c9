"""The budget annotation: exact amounts in, exact amounts out, anything unreadable is no budget."""

from __future__ import annotations

from decimal import Decimal

import pytest

from orgquota.core.budget import Budget, BudgetError, monthly_amount, parse_budget


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(300, "300"), ("249.50", "249.50"), (Decimal("0.01"), "0.01"), (Decimal("1E+2"), "100"), ("12.3", "12.3")],
)
def test_a_budget_is_a_positive_decimal_kept_exactly(raw: object, expected: str) -> None:
    assert str(monthly_amount(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (0, "positive"),
        (-5, "positive"),
        ("abc", "positive"),
        ("NaN", "positive"),
        ("Infinity", "positive"),
        (True, "positive"),
        (1.5, "positive"),  # a float never carries money here
        (None, "positive"),
        ("10.001", "two decimal places"),
        (Decimal(10) ** 12, "below"),
    ],
)
def test_anything_else_is_refused_with_a_reason(raw: object, problem: str) -> None:
    with pytest.raises(BudgetError, match=problem):
        monthly_amount(raw)


def test_the_annotation_round_trips_and_an_unreadable_one_is_no_budget() -> None:
    budget = Budget(Decimal("249.50"), "USD")
    assert budget.annotation() == '{"monthly":"249.50","currency":"USD"}'
    assert parse_budget(budget.annotation()) == budget
    assert parse_budget('{"monthly": 250.10, "currency": "EUR"}') == Budget(Decimal("250.10"), "EUR")
    for bad in (None, "", "250", "[1]", '{"monthly": "250"}', '{"monthly": "-1", "currency": "USD"}', "[" * 100000):
        assert parse_budget(bad) is None
    assert budget.exceeded_by(Decimal("249.51"))
    assert not budget.exceeded_by(Decimal("249.50"))
