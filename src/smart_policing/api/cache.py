"""Per-process caches of reports computed from the stored calls.

A page reload or a second API client asking for the same report should not read
and recompute a million calls. Reports are keyed by :func:`calls_version` (how many
calls are stored and the newest id: any import changes it) plus the query, and
kept in a small thread-safe LRU that lives on ``app.state`` (no module-level state).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import Engine, func, select

from smart_policing.store import tables as t

__all__ = ["LruCache", "calls_version"]

T = TypeVar("T")


class LruCache(Generic[T]):
    """The ``maxsize`` most recently used values, made on a miss by the caller's function.

    Two requests missing the same key at once both compute it (the work is pure);
    the lock only guards the dictionary.
    """

    def __init__(self, maxsize: int = 16) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value for ``key``, computing and remembering it on a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value


def calls_version(engine: Engine) -> tuple[int, int | None]:
    """(number of stored calls, newest call id): changes whenever calls are imported."""
    with engine.connect() as conn:
        n, last = conn.execute(select(func.count(), func.max(t.calls.c.id))).one()
    return int(n), None if last is None else int(last)
