"""CSV reading: line numbers, bad shapes, encodings, gzip, unusable files."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smart_policing.data.reader import BadRecord, CsvChunk, CsvSource, UnusableFileError


def write(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def read_all(path: Path, **kw: object) -> tuple[list[int], list[list[str]], list[tuple[int, str]]]:
    lines: list[int] = []
    rows: list[list[str]] = []
    bad: list[tuple[int, str]] = []
    with CsvSource(path, **kw) as src:  # type: ignore[arg-type]
        for chunk in src.chunks():
            lines += chunk.lines
            rows += list(csv.reader(chunk.texts))
            bad += [(b.line, b.reason) for b in chunk.bad]
    return lines, rows, bad


def test_line_numbers_count_the_header_and_multiline_fields(tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", 'a,b\n1,"two\nlines"\n3,4\n\n5,6\n')
    lines, rows, bad = read_all(f)
    assert lines == [2, 4, 6]  # the quoted newline moves row 3 to line 4; blank line 5 skipped
    assert rows == [["1", "two\nlines"], ["3", "4"], ["5", "6"]]
    assert bad == []


def test_truncated_and_overlong_records_are_set_aside_with_their_line(tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", "a,b,c\n1,2,3\n4,5,6,7\n8,9")
    lines, rows, bad = read_all(f)
    assert lines == [2]
    assert rows == [["1", "2", "3"]]
    assert bad == [
        (3, "has 4 fields, expected 3 (stray delimiter or unquoted comma?)"),
        (4, "has 2 fields, expected 3 (truncated?)"),
    ]


def test_gzip_is_detected_from_content_not_name(tmp_path: Path) -> None:
    f = tmp_path / "plain-name.csv"
    f.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    assert read_all(f)[1] == [["1", "2"]]


def test_bom_and_header_spaces_are_ignored(tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", "\ufeff a , b\n1,2\n")
    with CsvSource(f) as src:
        assert src.header == ["a", "b"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", "a,b\r\n1,2\r\n3,4\r\n")
    lines, rows, _ = read_all(f)
    assert rows == [["1", "2"], ["3", "4"]]
    assert lines == [2, 3]
    with CsvSource(f) as src:
        frame = next(src.chunks()).frame({"b": 1})
    assert frame["b"].to_list() == ["2", "4"]


def test_invalid_bytes_become_replacement_characters(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_bytes(b"a,b\n1,caf\xe9\n")
    assert read_all(f)[1] == [["1", "caf\ufffd"]]
    assert read_all(f, encoding="cp1252")[1] == [["1", "café"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "is this a CSV file"),
    ],
)
def test_unusable_files_fail_with_a_clear_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    f = tmp_path / "x.csv"
    f.write_bytes(content)
    with pytest.raises(UnusableFileError, match=message):
        CsvSource(f)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnusableFileError, match="cannot open"):
        CsvSource(tmp_path / "nope.csv")


def test_corrupt_gzip_stops_with_the_last_good_line(tmp_path: Path) -> None:
    body = "a,b\n" + "".join(f"{i},{i}\n" for i in range(20000))
    blob = gzip.compress(body.encode())
    f = tmp_path / "cut.csv.gz"
    f.write_bytes(blob[: len(blob) // 2])
    seen: list[int] = []

    def read() -> None:
        with CsvSource(f, chunk_rows=1000) as src:
            seen.extend(chunk.records for chunk in src.chunks())

    with pytest.raises(UnusableFileError, match="stops being readable"):
        read()
    assert 0 < sum(seen) < 20000


# Bare carriage returns inside quoted fields are not supported (Python's csv splits on them).
cell = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r"),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=30))
def test_records_round_trip_through_csv_writer(
    tmp_path_factory: pytest.TempPathFactory, records: list[list[str]]
) -> None:
    """Whatever csv.writer writes, the reader returns field for field, at the right lines."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["a", "b", "c"])
    expected_lines = []
    line = 2
    for r in records:
        start = buf.tell()
        w.writerow(r)
        expected_lines.append(line)
        line += buf.getvalue()[start:].count("\n")
    path = tmp_path_factory.mktemp("rt") / "r.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    lines, rows, bad = read_all(path)
    assert bad == []
    assert rows == records
    assert lines == expected_lines
    with CsvSource(path) as src:
        frame = next(src.chunks()).frame({"a": 0, "b": 1, "c": 2})
    assert [list(t) for t in frame.iter_rows()] == [[c or None for c in r] for r in records]


def test_frame_falls_back_to_csv_when_polars_disagrees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should Polars ever parse a chunk differently (here: it fails), the records
    are parsed with Python's csv module instead, with the same result."""
    f = write(tmp_path / "q.csv", 'a,b,c\n1,x"y"z,3\n4,"p""q",6\n7,"two\nlines",9\n')
    with CsvSource(f) as src:
        chunk = next(src.chunks())
    expected = chunk.frame({"a": 0, "c": 2, "b": 1})

    def broken(*args: object, **kwargs: object) -> None:
        raise pl.exceptions.ComputeError("simulated disagreement")

    monkeypatch.setattr(pl, "read_csv", broken)
    fallback = chunk.frame({"a": 0, "c": 2, "b": 1})
    assert (
        fallback.rows()
        == expected.rows()
        == [
            ("1", "3", 'x"y"z'),
            ("4", "6", 'p"q'),
            ("7", "9", "two\nlines"),
        ]
    )


def _line_by_line(src: CsvSource) -> list[tuple[list[int], list[str], list[BadRecord]]]:
    """The reference: every line through ``_record`` one at a time (no block test)."""
    out = []
    chunk = CsvChunk(len(src.header))
    limit, taken = min(src.chunk_rows, src.first_chunk_rows), 0
    for start, text, n, _, error in src._records():
        taken += src._add_record(chunk, start, text, n, error)
        if taken >= limit:
            out.append((chunk.lines, chunk.texts, chunk.bad))
            chunk, taken, limit = CsvChunk(len(src.header)), 0, src.chunk_rows
    if chunk.records:
        out.append((chunk.lines, chunk.texts, chunk.bad))
    return out


_LINES = [
    "1,2,3\n",
    '1,"x,y",3\n',
    '"a""b",c,d\r\n',
    'x"y"z,1,2\n',
    "1,2,3\r",
    '4,"opens\n',
    'closes",6\n',
    '",",",",","\n',
    '7,"two ""quoted""\n',
    "\n",
    "  \r\n",
    "1,2\n",
    "1,2,3,4\n",
    ",,\n",
    '"unclosed,1,2',
    "last,line,unterminated",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(_LINES) | st.text(alphabet='a,"\r\n ', max_size=9).map(lambda t: t + "\n"),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=7),
    st.integers(min_value=1, max_value=7),
    st.sampled_from(["a,b,c", "a"]),
)
def test_block_reading_matches_line_by_line(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    chunk_rows: int,
    first_rows: int,
    header: str,
) -> None:
    """Chunks read a block at a time hold exactly what reading line by line gives."""
    path = tmp_path_factory.mktemp("blocks") / "b.csv"
    path.write_bytes((header + "\n" + "".join(lines)).encode())
    opts = {"chunk_rows": chunk_rows, "first_chunk_rows": first_rows}
    with CsvSource(path, **opts) as src:  # type: ignore[arg-type]
        got = [(c.lines, c.texts, c.bad) for c in src.chunks()]
    with CsvSource(path, **opts) as src:  # type: ignore[arg-type]
        assert got == _line_by_line(src)
