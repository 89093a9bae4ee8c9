import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orgquota.core.catalog import Catalog, parse_catalog
from tests.support.catalog import CATALOG
from tests.support.prom_history import HOUR, History, backfilled_prometheus, standard_history


@pytest.fixture
def catalog() -> Catalog:
    return parse_catalog(CATALOG)


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """A real Prometheus over 30 days of backfilled usage (`prom_history.standard_history`), ending at the
    last full hour: a Prometheus to query as the billing API does, with answers known in advance."""
    end = int(time.time()) // HOUR * HOUR
    series = standard_history(end)
    workdir: Path = tmp_path_factory.mktemp("history")
    with backfilled_prometheus(workdir, series) as prometheus:
        yield History(prometheus, end, series)
