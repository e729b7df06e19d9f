"""Scenario sweeps on Dask distributed: many independent simulations, one result each.

A staffing search or a what-if table runs the same simulation for many inputs
(staffing levels, diversion packs, call volumes). Each run is independent and
CPU-bound Python, so they go to separate **processes**: a Dask distributed
``LocalCluster`` (one single-threaded worker per core) by default, an existing
cluster when given its scheduler address (``tcp://host:8786``), or ``"serial"`` to run
in this process (the baseline of the sweep benchmark, and the choice for tiny sweeps
where starting workers costs more than it saves).

Functions and items must be picklable (module-level functions, plain data): Dask
ships them to the workers. Results come back in the order of the items, whatever order
the runs finish in; ``on_done`` is called once per finished run (a progress bar).
A run that raises stops the sweep with :class:`SweepError` naming the item's
position, chained to the worker's exception.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

__all__ = ["SERIAL", "SweepError", "run_sweep"]

T = TypeVar("T")
R = TypeVar("R")

SERIAL = "serial"
"""The ``scheduler`` value that runs every item in this process, in order."""


class SweepError(RuntimeError):
    """One run of a sweep failed; ``index`` is its position in the items."""

    def __init__(self, index: int, cause: BaseException) -> None:
        self.index = index
        super().__init__(f"sweep item {index} failed: {type(cause).__name__}: {cause}")


def _client(scheduler: str | None, workers: int | None) -> AbstractContextManager[Any]:
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler)
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,  # logging.ERROR: worker start-up chatter stays off the terminal
    )
    client = Client(cluster)

    class _Both:
        def __enter__(self) -> Any:
            return client

        def __exit__(self, *exc: object) -> None:
            client.close()
            cluster.close()

    return _Both()


def run_sweep(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
    client: Any | None = None,
) -> list[R]:
    """``[fn(item) for item in items]``, run on Dask distributed.

    Parameters
    ----------
    fn, items
        A picklable function and its inputs.
    scheduler
        ``None``: a local cluster of ``workers`` processes (default: one per core),
        started for this sweep and closed after it. ``"serial"``: in this process.
        Otherwise the address of a running scheduler (``tcp://10.0.0.5:8786``).
    workers
        Worker processes of the local cluster.
    on_done
        Called with the item's index each time a run finishes (any order).
    client
        An open ``distributed.Client`` to reuse (several sweeps, one cluster);
        ``scheduler`` and ``workers`` are then ignored.
    """
    if scheduler == SERIAL:
        results: list[R] = []
        for i, item in enumerate(items):
            try:
                results.append(fn(item))
            except Exception as exc:
                raise SweepError(i, exc) from exc
            if on_done is not None:
                on_done(i)
        return results
    if not items:
        return []
    from distributed import as_completed

    context: AbstractContextManager[Any] = (
        nullcontext(client) if client is not None else _client(scheduler, workers)
    )
    with context as c:
        futures = c.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(futures)
        for future in as_completed(futures):
            i = index[future.key]
            try:
                out[i] = future.result()
            except Exception as exc:
                for f in futures:
                    f.cancel()
                raise SweepError(i, exc) from exc
            if on_done is not None:
                on_done(i)
        return out
