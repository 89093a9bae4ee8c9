import pytest

from orgquota.core.catalog import Catalog, parse_catalog
from tests.support.catalog import CATALOG


@pytest.fixture
def catalog() -> Catalog:
    return parse_catalog(CATALOG)
