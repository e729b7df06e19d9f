"""The transform's output contract: the canonical columns, typed, whatever the source."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from smart_policing.data.mapping import BUILTIN_FORMATS, builtin_mapping
from smart_policing.data.reader import CsvSource
from smart_policing.data.synth import CityParams, generate_city
from smart_policing.data.transform import ColumnResolver, record_columns, transform_chunk
from smart_policing.store import tables


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate_city(CityParams(seed=5, years=1, calls_per_day=40, incidents_per_day=20), out)
    return out


@pytest.mark.parametrize("fmt", BUILTIN_FORMATS)
def test_output_schema_is_the_canonical_record(fmt: str, city: Path) -> None:
    spec = builtin_mapping(fmt)
    path = city / ("part1_crime.csv" if fmt == "baltimore-part1" else "cad_calls.csv")
    with CsvSource(path, chunk_rows=2_000) as src:
        chunk = next(src.chunks())
        res = transform_chunk(
            chunk, spec, ColumnResolver(src.header, spec, path.name), timezone="America/New_York"
        )
    public = {c: t for c, t in res.frame.schema.items() if not c.startswith("_")}
    assert public == record_columns(spec)
    assert res.frame.height == len(chunk.texts) - len(res.rejects)
    table = tables.calls if spec.record == "call" else tables.incidents
    assert set(public) <= set(table.c.keys()), "every canonical column has a home in the store"
    assert res.frame["quality_flags"].dtype == pl.String
