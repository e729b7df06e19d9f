"""Read and transform chunks ahead of the database writer.

An import has two halves that each keep a core busy: parsing and validating the
file (Python's ``csv`` module and Polars) and writing to the database (the driver,
and for PostgreSQL the server). A background thread reads and transforms, one or
two chunks ahead of the writer; Polars, the SQLite engine and PostgreSQL release
the interpreter lock for most of their work, so the halves overlap. (A worker
process was tried: its start-up and the pickling of every chunk cost more than the
overlap it adds, on this data and two cores.)

Chunks come back in file order. An error in the reader (a file that stops being
readable part-way) is raised in the caller after the chunks read before it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smart_policing.data.mapping import MappingSpec
from smart_policing.data.reader import CsvSource
from smart_policing.data.transform import ColumnResolver, TransformResult, transform_chunk

__all__ = ["ParsedChunk", "parsed_chunks"]


@dataclass(frozen=True)
class ParsedChunk:
    """One transformed chunk: how many records it held, how far the file was read."""

    records: int
    bytes_read: int
    result: TransformResult
    plan: Any = None  # what the ``plan`` hook made of the result


_DONE = object()


def _produce(
    path: Path,
    spec: MappingSpec,
    timezone: str,
    encoding: str,
    chunk_rows: int,
    *,
    put: Callable[[object], None],
    stopped: Callable[[], bool],
    plan: Callable[[TransformResult], Any] | None,
) -> None:
    try:
        with CsvSource(path, encoding=encoding, chunk_rows=chunk_rows) as source:
            resolver = ColumnResolver(source.header, spec, path.name)
            for chunk in source.chunks():
                if stopped():
                    return
                res = transform_chunk(chunk, spec, resolver, timezone=timezone, encoding=encoding)
                made = plan(res) if plan is not None else None
                put(ParsedChunk(chunk.records, source.bytes_read, res, made))
    except BaseException as exc:  # handed to the consumer, which re-raises it
        put(exc)
    finally:
        put(_DONE)


def parsed_chunks(
    path: Path,
    spec: MappingSpec,
    *,
    timezone: str,
    encoding: str = "utf-8",
    chunk_rows: int = 50_000,
    plan: Callable[[TransformResult], Any] | None = None,
) -> Iterator[ParsedChunk]:
    """Transformed chunks of ``path`` in file order (see the module docstring).

    ``plan``, if given, runs on each result in the reader thread too (the importer
    prepares its database rows there); its return value is ``ParsedChunk.plan``.
    """
    q: queue.Queue[object] = queue.Queue(maxsize=2)
    stop = threading.Event()
    worker = threading.Thread(
        target=_produce,
        args=(path, spec, timezone, encoding, chunk_rows),
        kwargs={"put": q.put, "stopped": stop.is_set, "plan": plan},
        name="import-reader",
        daemon=True,
    )
    worker.start()
    try:
        while (item := q.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, ParsedChunk)
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                q.get(timeout=0.1)
        worker.join()
