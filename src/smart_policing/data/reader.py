"""Chunked CSV reading that loses nothing and says where each record came from.

Files may be plain or gzip-compressed (detected from the magic bytes, not the name).
Each record keeps the file line it starts on (the header is line 1), so rejects
can point a user at the exact line. Records with the wrong number of fields
(a truncated last line, a stray delimiter) are set aside with a reason instead of
being padded or cut. Bytes that are not valid in the declared encoding become
U+FFFD, and the row is rejected by the transform naming the column.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import polars as pl

__all__ = [
    "BadRecord",
    "CsvChunk",
    "CsvSource",
    "UnusableFileError",
    "file_sha256",
]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


_Record = tuple[int, str, int, list[str] | None, str | None]
"""(first line, raw text, field count, fields if parsed, CSV error) of one record."""


def _whole_records(lines: list[str], width: int) -> list[bool]:
    """For each line: is it a whole record of ``width`` fields by itself?

    The same test as :meth:`CsvSource._record` makes line by line (the quotes pair
    up, commas outside quotes + 1 == width, not blank), done by Polars for a whole
    block: a field is any run of characters other than quotes and commas, and of
    quoted spans (which may hold commas). A False only sends the line through that
    exact, slower path.
    """
    if not lines:
        return []
    field = '(?:[^",]|"[^"]*")*'
    try:
        text = pl.Series("l", lines, dtype=pl.String)
        whole = text.str.contains(f"^{field}(?:,{field}){{{width - 1}}}$")
    except (UnicodeEncodeError, pl.exceptions.PolarsError):  # not representable: go slowly
        return [False] * len(lines)
    flags: list[bool] = whole.to_list()
    if width == 1:  # a blank line is no record (Python's notion of whitespace)
        flags = [ok and bool(t.strip()) for ok, t in zip(flags, lines, strict=True)]
    return flags


class UnusableFileError(Exception):
    """The file cannot be imported at all (unreadable, not CSV, wrong columns)."""


@dataclass(frozen=True)
class BadRecord:
    """A record set aside before any field is parsed (its raw text, line ending cut)."""

    line: int
    raw: str
    reason: str


@dataclass
class CsvChunk:
    """Up to ``chunk_rows`` records: the well-formed ones as raw text, plus the bad ones.

    ``texts[i]`` is the raw text of the i-th good record (its line(s), newline
    included) and ``lines[i]`` the file line it starts on.
    """

    width: int
    lines: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)

    @property
    def records(self) -> int:
        return len(self.texts) + len(self.bad)

    def has_replacement_characters(self) -> bool:
        """Whether any good record holds U+FFFD (bytes invalid in the file's encoding)."""
        return any("\ufffd" in text for text in self.texts)

    def raw(self, index: int) -> str:
        """The raw text of good record ``index`` without its line ending."""
        return self.texts[index].rstrip("\r\n")

    def frame(self, columns: dict[str, int]) -> pl.DataFrame:
        """The good records' ``columns`` (name -> header position) as String columns.

        Parsed by Polars' CSV reader from the raw text. Its record count is checked
        against the Python ``csv`` pass that found the records; should they ever
        disagree (an exotic quoting case), the records are parsed with ``csv`` instead.
        """
        names = list(columns)
        if not self.texts:
            return pl.DataFrame({n: pl.Series(n, [], dtype=pl.String) for n in names})
        data = "".join(self.texts).encode("utf-8", errors="surrogatepass")
        try:
            df = pl.read_csv(
                io.BytesIO(data),
                has_header=False,
                new_columns=[f"c{i}" for i in range(self.width)],
                infer_schema=False,
                quote_char='"',
                raise_if_empty=False,
            ).select(pl.col(f"c{i}").alias(n) for n, i in columns.items())
        except pl.exceptions.PolarsError:
            df = None
        if df is not None and df.height == len(self.texts) and df.columns == names:
            return df
        rows = list(csv.reader(self.texts))
        return pl.DataFrame(
            {
                n: pl.Series(n, list(map(itemgetter(i), rows)), dtype=pl.String)
                for n, i in columns.items()
            }
        )


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (as stored, i.e. of the .gz for gzip files)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class _CountingReader(io.RawIOBase):
    """Passes bytes through, counting how many were read (for progress bars)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n


class CsvSource:
    """A CSV file opened for chunked reading.

    Parameters
    ----------
    path:
        the file; gzip is detected from its first two bytes.
    encoding:
        text encoding (default UTF-8, a BOM is ignored).
    chunk_rows:
        records per chunk; bounds memory (about 1 KiB per record in flight).
    first_chunk_rows:
        records in the first chunk: small, so the database writer starts early.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        encoding: str = "utf-8",
        chunk_rows: int = 50_000,
        first_chunk_rows: int = 10_000,
    ) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.chunk_rows = chunk_rows
        self.first_chunk_rows = first_chunk_rows
        try:
            self.total_bytes = self.path.stat().st_size
            self._file: IO[bytes] = self.path.open("rb")
        except OSError as exc:
            raise UnusableFileError(f"{self.path}: cannot open: {exc.strerror or exc}") from exc
        magic = self._file.read(2)
        self._file.seek(0)
        self._hasher = _CountingReader(self._file)
        buffered = io.BufferedReader(self._hasher, buffer_size=1 << 20)
        stream: IO[bytes] = buffered
        if magic == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=buffered)  # type: ignore[assignment]
        try:
            self._text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        except LookupError as exc:
            self._file.close()
            raise UnusableFileError(f"{self.path}: unknown encoding {encoding!r}") from exc
        self._lines: Iterator[str] = iter(self._text)
        self._line_no = 0  # lines consumed so far
        try:
            self.header = self._read_header()
        except UnusableFileError:
            self._file.close()
            raise

    def _record(self, line: str, lines: Iterator[str]) -> _Record:
        """The record starting with ``line`` (the next line of the file).

        A line whose quotes pair up is a whole record, and its fields are counted
        (commas outside quotes), not split: most exports have no quotes or only
        short quoted fields. A line with an odd number of quotes opens a field that
        continues on the next line: ``csv`` parses it, pulling more from ``lines``
        until it closes.
        """
        start = self._line_no + 1
        quotes = line.count('"')
        if quotes == 0:
            self._line_no = start
            return start, line, line.count(",") + 1, None, None
        if quotes % 2 == 0:
            # every quoted field closes on this line: commas outside quotes are the
            # separators (an escaped "" inside a field flips the parity twice)
            self._line_no = start
            outside = "".join(line.split('"')[::2])
            return start, line, outside.count(",") + 1, None, None
        taken = [line]

        def more() -> Iterator[str]:
            for extra in lines:
                taken.append(extra)
                yield extra

        try:
            row, error = next(csv.reader(itertools.chain((line,), more()))), None
        except csv.Error as exc:
            row, error = [], str(exc)
        self._line_no = start + len(taken) - 1
        return start, "".join(taken), len(row), row, error

    def _records(self) -> Iterator[_Record]:
        """(first line, raw text, field count, fields if parsed, CSV error) per record."""
        for line in self._lines:
            yield self._record(line, self._lines)

    def _read_header(self) -> list[str]:
        try:
            _, text, _, fields, error = next(self._records())
        except StopIteration:
            raise UnusableFileError(f"{self.path}: the file is empty (no header line)") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise UnusableFileError(f"{self.path}: cannot read the header: {exc}") from exc
        if error is not None:
            raise UnusableFileError(f"{self.path}: cannot read the header: {error}")
        header = fields if fields is not None else text.rstrip("\r\n").split(",")
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        header = [h.strip() for h in header]
        if any("\ufffd" in h or "\x00" in h for h in header):
            raise UnusableFileError(
                f"{self.path}: the header is not {self.encoding} text; is this a CSV file? "
                "(pass --encoding if it is another encoding)"
            )
        return header

    @property
    def bytes_read(self) -> int:
        """Bytes of the file (compressed, if gzip) consumed so far."""
        return self._hasher.bytes_read

    def chunks(self) -> Iterator[CsvChunk]:
        """Yield chunks until the end of the file.

        Raises :class:`UnusableFileError` if the file stops being readable part-way
        (a corrupt gzip stream, an I/O error); chunks already yielded stay valid.

        Lines are taken a chunk's worth at a time and sorted out together:
        :func:`_whole_records` finds the lines that are complete, well-formed records
        (nearly all of them); the others go through :meth:`_record` one by one, which
        reads on into the next lines for a quoted field spanning lines.
        """
        width = len(self.header)
        chunk = CsvChunk(width)
        limit = min(self.chunk_rows, self.first_chunk_rows)
        taken = 0  # records in the current chunk
        while True:
            block, failure = self._take(limit - taken)
            try:
                taken += self._add_block(chunk, block)
            except (OSError, EOFError, zlib.error) as exc:  # reading on for a spanning field
                failure = exc
            if failure is not None:
                if chunk.records:
                    yield chunk
                raise UnusableFileError(
                    f"{self.path}: the file stops being readable after line {self._line_no}: "
                    f"{failure}"
                ) from failure
            if taken >= limit:
                yield chunk
                chunk, taken, limit = CsvChunk(width), 0, self.chunk_rows
            elif not block:
                break
        if chunk.records:
            yield chunk

    def _take(self, n: int) -> tuple[list[str], BaseException | None]:
        """Up to ``n`` lines, and the error that stopped the reading early, if any."""
        block: list[str] = []
        if n <= 0:
            return block, None
        append = block.append
        try:
            for line in self._lines:
                append(line)
                if len(block) >= n:
                    break
        except (OSError, EOFError, zlib.error) as exc:
            return block, exc
        return block, None

    def _add_block(self, chunk: CsvChunk, block: list[str]) -> int:
        """Add the records starting in ``block`` (the next lines) to ``chunk``; count them."""
        first = self._line_no + 1  # file line of block[0]
        whole = _whole_records(block, chunk.width)
        others = [i for i, ok in enumerate(whole) if not ok] if not all(whole) else []
        added = 0
        i = 0
        for j in others:
            if j < i:
                continue  # a line of a record that spans lines, read with it
            if j > i:
                chunk.texts.extend(block[i:j])
                chunk.lines.extend(range(first + i, first + j))
                added += j - i
                self._line_no = first + j - 1
            rest = (block[k] for k in range(j + 1, len(block)))  # then the file's next lines
            start, text, n, _, error = self._record(block[j], itertools.chain(rest, self._lines))
            added += self._add_record(chunk, start, text, n, error)
            i = self._line_no - first + 1
        if i < len(block):
            chunk.texts.extend(block[i:])
            chunk.lines.extend(range(first + i, first + len(block)))
            added += len(block) - i
            self._line_no = first + len(block) - 1
        return added

    def _add_record(self, chunk: CsvChunk, start: int, text: str, n: int, error: str | None) -> int:
        """Add one record read by :meth:`_record`; 0 for a blank line (not a record)."""
        width = chunk.width
        if n == width and error is None and (width > 1 or text.strip()):
            chunk.texts.append(text)
            chunk.lines.append(start)
            return 1
        raw = text.rstrip("\r\n")
        if not raw.strip():
            return 0  # blank line: not a record
        if error is not None:
            chunk.bad.append(BadRecord(start, raw, f"unreadable CSV: {error}"))
        else:
            what = "truncated?" if n < width else "stray delimiter or unquoted comma?"
            reason = f"has {n} fields, expected {width} ({what})"
            chunk.bad.append(BadRecord(start, raw, reason))
        return 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
