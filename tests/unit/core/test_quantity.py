from decimal import Decimal
from fractions import Fraction

import pytest

from orgquota.core.quantity import MI, MILLI, Quantity, QuantityError
from tests.support.catalog import WORKED_EXAMPLE


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("500m", Fraction(1, 2)),
        ("1.5Gi", Fraction(3 * 2**29)),
        ("24Gi", Fraction(24 * 2**30)),
        ("8", Fraction(8)),
        (8, Fraction(8)),
        (Decimal("0.25"), Fraction(1, 4)),
        ("1e3", Fraction(1000)),
        ("1E-3", Fraction(1, 1000)),
        ("2k", Fraction(2000)),
        ("3M", Fraction(3_000_000)),
        ("100u", Fraction(1, 10_000)),
        (".5", Fraction(1, 2)),
        ("0", Fraction(0)),
    ],
)
def test_parse_is_exact(raw: str | int | Decimal, value: Fraction) -> None:
    assert Quantity.parse(raw).value == value


@pytest.mark.parametrize("raw", ["abc", "", "1.2.3", "5Gb", "1 Gi", "Gi", True, 1.5, None, "--1"])
def test_parse_rejects_non_quantities(raw: object) -> None:
    with pytest.raises(QuantityError):
        Quantity.parse(raw)  # type: ignore[arg-type]


def test_worked_example_of_the_spec() -> None:
    """24Gi + 4Gi + 3 x 128Mi is 29056Mi; 8 + 2 + 3 x 100m is 10300m."""
    memory = Quantity.parse("24Gi") + Quantity.parse("4Gi") + Quantity(3 * 128 * MI, binary=True)
    cpu = Quantity.parse("8") + Quantity.parse("2") + Quantity(3 * 100 * MILLI)
    assert (str(memory), str(cpu)) == (WORKED_EXAMPLE["requests.memory"], WORKED_EXAMPLE["requests.cpu"])


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("1024Mi", "1Gi"),
        ("1536Mi", "1536Mi"),
        ("0.5Gi", "512Mi"),
        ("1000m", "1"),
        ("1500m", "1500m"),
        ("1000", "1k"),
        ("1Ki", "1Ki"),
        ("512Ki", "512Ki"),
        ("100Gi", "100Gi"),
        ("4Ti", "4Ti"),
        ("0.5", "500m"),
        ("1e3", "1k"),
    ],
)
def test_canonical_form_matches_kubernetes(raw: str, canonical: str) -> None:
    assert str(Quantity.parse(raw)) == canonical


def test_binary_below_1024_is_written_plain() -> None:
    assert str(Quantity(512, binary=True)) == "512"


def test_fractional_bytes_fall_back_to_decimal() -> None:
    assert str(Quantity(Fraction(3, 2), binary=True)) == "1500m"


def test_sum_keeps_the_left_operands_format() -> None:
    assert str(Quantity.parse("1Gi") + Quantity.parse("1G")) == "2073741824"
    assert str(Quantity.parse("1G") + Quantity.parse("1Gi")) == "2073741824"
    assert str(Quantity.parse("2Gi") * 3) == "6Gi"


def test_equality_is_by_value() -> None:
    assert Quantity.parse("1Gi") == Quantity.parse("1024Mi") == Quantity.parse("1073741824")
    assert Quantity.parse("1") != Quantity.parse("1001m")
    assert Quantity.parse("1") < Quantity.parse("1001m")


def test_ceil_rounds_up_to_the_unit() -> None:
    assert str((Quantity.parse("10300m") * Fraction(3, 2)).ceil(MILLI)) == "15450m"
    assert str((Quantity.parse("1") * Fraction(1, 3)).ceil(MILLI)) == "334m"
    assert (Quantity(Fraction(7, 2), binary=True).ceil(Fraction(1))).value == 4


def test_finer_than_nano_rounds_up() -> None:
    assert str(Quantity(Fraction(1, 3) * Fraction(1, 10**9))) == "1n"


def test_counts_are_written_as_digits() -> None:
    assert str(Quantity.count(1000)) == "1000"
    assert str(Quantity.count(1000) + Quantity.count(24)) == "1024"
    assert Quantity.count(1000) == Quantity.parse("1k")


@pytest.mark.parametrize("raw", [" 8", "8 ", "8\n", "\t24Gi", " 500m "])
def test_surrounding_spaces_are_no_quantity_as_in_kubernetes(raw: str) -> None:
    with pytest.raises(QuantityError, match="is not a quantity"):
        Quantity.parse(raw)


def test_a_catalog_quantity_with_spaces_is_refused_naming_the_field() -> None:
    from orgquota.core.catalog import CatalogError, parse_catalog
    from tests.support.api_cluster import CATALOG_TEXT

    with pytest.raises(CatalogError, match="dev-pool"):
        parse_catalog(CATALOG_TEXT.replace('cpu: "4"', 'cpu: " 4"', 1))
