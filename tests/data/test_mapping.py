"""Mapping files: validated on load, errors name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from smart_policing.data.mapping import BUILTIN_FORMATS, builtin_mapping, load_mapping
from smart_policing.datafiles import DataFileError

GOOD = """\
schema_version: 1
name: springfield-calls
record: call
key: {columns: [CallNo]}
fields:
  received_at: {column: Received, formats: ["%m/%d/%Y %H:%M"]}
  call_type_code: {column: Type, required: true}
  priority: {column: Pri, codes: {E: 1, U: 2}}
"""


def test_builtin_formats_load() -> None:
    for name in BUILTIN_FORMATS:
        spec = builtin_mapping(name)
        assert spec.name == name
    assert builtin_mapping("baltimore-part1").victim_based
    assert builtin_mapping("cad").key is not None


def test_good_mapping(tmp_path: Path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(GOOD)
    spec = load_mapping(p)
    assert spec.fields["priority"].codes == {"E": 1, "U": 2}


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (
            ("  priority: {column: Pri, codes: {E: 1, U: 2}}", "  priorty: {column: Pri}"),
            8,
            "'priorty' is not a call field",
        ),
        (('["%m/%d/%Y %H:%M"]', "[]"), 6, "needs 'formats'"),
        (("record: call", "record: calls"), 3, "record"),
        (
            (
                "  call_type_code: {column: Type, required: true}",
                "  call_type_code: {column: Type, colour: red}",
            ),
            7,
            "colour",
        ),
        (
            (
                "  priority: {column: Pri, codes: {E: 1, U: 2}}",
                "  source_channel: {column: Src, codes: {A: carrier-pigeon}}",
            ),
            8,
            "carrier-pigeon",
        ),
        (("name: springfield-calls", "name: Springfield Calls!"), 2, "name"),
    ],
)
def test_errors_name_line_and_field(
    tmp_path: Path, edit: tuple[str, str], line: int, message: str
) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(GOOD.replace(*edit))
    with pytest.raises(DataFileError) as exc:
        load_mapping(p)
    text = str(exc.value)
    assert str(p) in text
    assert message in text
    assert f"line {line}" in text


def test_duplicate_keys_and_broken_yaml(tmp_path: Path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(GOOD + "record: incident\n")
    with pytest.raises(DataFileError, match="line 9: duplicate key 'record'"):
        load_mapping(p)
    p.write_text("fields: [unclosed\n")
    with pytest.raises(DataFileError, match="not valid YAML"):
        load_mapping(p)


def test_unknown_crs_and_timezone(tmp_path: Path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(GOOD + "coordinates: {x: X, y: Y, crs: 'EPSG:999999'}\ntimezone: Mars/Olympus\n")
    with pytest.raises(DataFileError) as exc:
        load_mapping(p)
    assert "unknown coordinate reference system" in str(exc.value)
    assert "unknown IANA time zone" in str(exc.value)
