"""Erlang C (M/M/c): waiting probability, service level, mean wait, staffing.

The model
---------
Calls arrive as a Poisson stream at ``lambda`` calls per minute; each takes an
exponentially distributed handle (service) time of mean ``h`` minutes; ``c``
identical servers (call-takers, or units) take them first come, first served,
and a call that finds every server busy waits in an unlimited queue (nobody
hangs up). This is Erlang's delay system, M/M/c (Erlang 1917; Gross & Harris,
*Fundamentals of Queueing Theory*, section 2.3; Kleinrock, *Queueing Systems*
vol. 1, section 3.5).

* offered load ``A = lambda * h`` (erlangs: the mean number of busy servers);
* occupancy ``A / c`` (the share of server time spent on calls);
* ``P(wait) = C(c, A)``, Erlang's C formula. It is computed from the Erlang B
  (loss) recursion ``B(0) = 1``, ``B(k) = A B(k-1) / (k + A B(k-1))`` and
  ``C = c B / (c - A (1 - B))``: every step is a ratio of numbers near 1, so
  it stays exact to rounding for thousands of servers, where the textbook sum of
  ``A^k / k!`` overflows;
* the wait of a call is 0 with probability ``1 - C`` and otherwise exponential
  with rate ``(c - A) / h``, so the **service level** (share answered within
  ``t``) is ``P(W <= t) = 1 - C exp(-(c - A) t / h)``;
* mean wait (ASA, average speed of answer) ``W_q = C h / (c - A)``; mean wait of
  the calls that do wait ``h / (c - A)``; mean queue length ``L_q = lambda W_q``
  (Little's law).

The system is stable only when ``A < c``. Otherwise the queue grows without
bound: the result says so (``stable`` false, ``P(wait) = 1``, infinite waits,
service level 0) rather than raising, because "not enough servers" is an answer a
staffing page must show. Invalid inputs (negative rates, no servers) raise
:class:`ValueError` naming the parameter.

Published check (reproduced by the tests): 100 calls per 30 minutes, 3-minute
handle time, 14 servers: occupancy 0.7142857, P(wait) 0.1741319, service level
at 20 s 0.88835, mean wait 7.836 s.

Staffing helpers: :func:`min_servers` finds the fewest servers meeting a
service-level target, a maximum mean wait and/or a maximum P(wait) (each of
them improves monotonically with ``c``); :func:`staffing_table` lists the
figures over a range of ``c``.

Units: rates per minute, times in minutes unless the name ends in ``_s``
(seconds); see ``docs/response.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

__all__ = [
    "ErlangCResult",
    "ErlangStaffing",
    "FloatOrInf",
    "StaffingTargets",
    "erlang_b",
    "erlang_c",
    "erlang_c_probability",
    "erlang_staffing",
    "min_servers",
    "staffing_table",
]


def _json_float(value: float) -> float | str:
    """JSON has no infinity: an unbounded wait is written as the string "Infinity"."""
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


FloatOrInf = Annotated[float, PlainSerializer(_json_float, when_used="json")]
"""A float that may be ``inf`` (an unstable queue); JSON writes it as ``"Infinity"``."""

#: Safety bound for :func:`min_servers` (a target that needs more is a data error).
_MAX_SERVERS = 1_000_000


def _check_rate(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _check_servers(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number of servers, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return value


def _b_sequence(offered_load: float) -> Iterator[tuple[int, float]]:
    """Yield ``(k, B(k, A))`` for k = 0, 1, 2, ... by the Erlang B recursion."""
    b = 1.0
    k = 0
    yield k, b
    while True:
        k += 1
        b = offered_load * b / (k + offered_load * b)
        yield k, b


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B: probability that a call finds all ``servers`` busy and is lost (M/M/c/c).

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (>= 0 here: ``B(0, A) = 1``).
    offered_load : float
        Offered load ``A`` in erlangs (arrival rate times mean service time).

    Returns
    -------
    float
        ``B(c, A)``, computed by the stable recursion ``B(k) = A B(k-1) / (k + A B(k-1))``.
    """
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise ValueError(f"servers must be a whole number >= 0, got {servers!r}")
    a = _check_rate("offered_load", offered_load)
    for k, b in _b_sequence(a):
        if k == servers:
            return b
    raise AssertionError("unreachable")  # pragma: no cover


def _c_from_b(servers: int, offered_load: float, b: float) -> float:
    if offered_load >= servers:
        return 1.0
    return servers * b / (servers - offered_load * (1.0 - b))


def erlang_c_probability(servers: int, offered_load: float) -> float:
    """Erlang C: probability that a call has to wait (M/M/c), 1 when ``A >= c``.

    Parameters
    ----------
    servers : int
        Number of servers ``c`` (>= 1).
    offered_load : float
        Offered load ``A`` in erlangs.

    Returns
    -------
    float
        ``C(c, A) = c B / (c - A (1 - B))`` with ``B = B(c, A)`` (Erlang B), or 1.0 for an
        unstable system (``A >= c``).
    """
    c = _check_servers("servers", servers)
    a = _check_rate("offered_load", offered_load)
    return _c_from_b(c, a, erlang_b(c, a))


class ErlangCResult(BaseModel):
    """The M/M/c figures for one number of servers (JSON-ready; times in minutes / ``_s``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    arrival_rate_per_min: float
    handle_min: float
    servers: int
    offered_load_erlangs: float
    """``A = lambda h``: mean number of busy servers when stable."""
    occupancy: float
    """``A / c`` (above 1: more work offered than the servers can do)."""
    stable: bool
    """``A < c``; otherwise the queue grows without bound."""
    p_wait: float
    """Erlang C: probability that a call waits at all (1 when unstable)."""
    p_all_busy_lost: float
    """Erlang B for the same load: the loss probability if calls could not wait."""
    mean_wait_min: FloatOrInf
    """Mean wait in queue over all calls (ASA), minutes."""
    mean_wait_s: FloatOrInf
    """The same in seconds."""
    mean_wait_of_waiting_min: FloatOrInf
    """Mean wait of the calls that wait, ``h / (c - A)``, minutes."""
    mean_queue_length: FloatOrInf
    """Mean number of calls waiting, ``L_q = lambda W_q``."""
    target_s: float | None = None
    """Answer-time target in seconds, when one was given."""
    service_level: float | None = None
    """``P(wait <= target_s)``, when a target was given (0 when unstable)."""

    def service_level_at(self, t_s: float) -> float:
        """Share of calls answered within ``t_s`` seconds: ``1 - C exp(-(c - A) t / h)``."""
        t = _check_rate("t_s", t_s)
        return _service_level(
            self.servers, self.offered_load_erlangs, self.handle_min, self.p_wait, t
        )


def _service_level(
    servers: int, load: float, handle_min: float, p_wait: float, t_s: float
) -> float:
    if load >= servers:
        return 0.0
    return 1.0 - p_wait * math.exp(-(servers - load) * (t_s / 60.0) / handle_min)


def _result(
    rate: float, handle: float, servers: int, b: float, target_s: float | None
) -> ErlangCResult:
    load = rate * handle
    stable = load < servers
    p_wait = _c_from_b(servers, load, b)
    if stable:
        wait_min = p_wait * handle / (servers - load)
        of_waiting = handle / (servers - load)
        queue = rate * wait_min
    else:
        wait_min = of_waiting = queue = math.inf
    return ErlangCResult(
        arrival_rate_per_min=rate,
        handle_min=handle,
        servers=servers,
        offered_load_erlangs=load,
        occupancy=load / servers,
        stable=stable,
        p_wait=p_wait,
        p_all_busy_lost=b,
        mean_wait_min=wait_min,
        mean_wait_s=wait_min * 60.0,
        mean_wait_of_waiting_min=of_waiting,
        mean_queue_length=queue,
        target_s=target_s,
        service_level=(
            None if target_s is None else _service_level(servers, load, handle, p_wait, target_s)
        ),
    )


def erlang_c(
    arrival_rate_per_min: float,
    handle_min: float,
    servers: int,
    *,
    target_s: float | None = None,
) -> ErlangCResult:
    """M/M/c figures for one number of servers.

    Parameters
    ----------
    arrival_rate_per_min : float
        Poisson arrival rate ``lambda``, calls per minute (e.g. 100 calls per 30 minutes
        is ``100 / 30``). Must be >= 0.
    handle_min : float
        Mean handle (service) time ``h`` in minutes, exponentially distributed. Must be > 0.
    servers : int
        Number of servers ``c`` (>= 1).
    target_s : float, optional
        Answer-time target in seconds; when given, ``service_level`` is ``P(wait <= target_s)``.

    Returns
    -------
    ErlangCResult
        Offered load, occupancy, P(wait), mean waits (minutes and seconds), mean queue length,
        and the service level; ``stable`` false (with infinite waits) when ``A >= c``.

    Raises
    ------
    ValueError
        A negative or non-finite rate or time, or fewer than one server; the message names
        the parameter.

    Examples
    --------
    >>> r = erlang_c(100 / 30, 3.0, 14, target_s=20)
    >>> round(r.p_wait, 7), round(r.service_level or 0, 5), round(r.mean_wait_s, 3)
    (0.1741319, 0.88835, 7.836)
    """
    rate = _check_rate("arrival_rate_per_min", arrival_rate_per_min)
    handle = _check_positive("handle_min", handle_min)
    c = _check_servers("servers", servers)
    target = None if target_s is None else _check_rate("target_s", target_s)
    return _result(rate, handle, c, erlang_b(c, rate * handle), target)


def min_servers(
    arrival_rate_per_min: float,
    handle_min: float,
    *,
    target_sl: float | None = None,
    target_s: float | None = None,
    max_mean_wait_s: float | None = None,
    max_p_wait: float | None = None,
) -> int:
    """The fewest servers that meet every target given (M/M/c, stable).

    Each figure improves monotonically as servers are added (P(wait) falls, so the mean
    wait falls and the service level rises), so the answer is found by counting up from
    the smallest stable number ``floor(A) + 1``, carrying the Erlang B recursion along.

    Parameters
    ----------
    arrival_rate_per_min : float
        Calls per minute (>= 0).
    handle_min : float
        Mean handle time in minutes (> 0).
    target_sl : float, optional
        Required share of calls answered within ``target_s`` seconds, in (0, 1);
        needs ``target_s``.
    target_s : float, optional
        Answer-time target in seconds for ``target_sl``.
    max_mean_wait_s : float, optional
        Largest acceptable mean wait (ASA) in seconds (> 0).
    max_p_wait : float, optional
        Largest acceptable probability of waiting, in (0, 1].

    Returns
    -------
    int
        The minimum number of servers (at least 1, and always more than the offered load).

    Raises
    ------
    ValueError
        No target given, a target out of range, or ``target_sl`` without ``target_s``.
    """
    rate = _check_rate("arrival_rate_per_min", arrival_rate_per_min)
    handle = _check_positive("handle_min", handle_min)
    if target_sl is None and max_mean_wait_s is None and max_p_wait is None:
        raise ValueError("give at least one of target_sl, max_mean_wait_s, max_p_wait")
    if target_sl is not None:
        if not 0.0 < float(target_sl) < 1.0:
            raise ValueError(f"target_sl must be between 0 and 1 (exclusive), got {target_sl!r}")
        if target_s is None:
            raise ValueError("target_sl needs target_s (the answer-time target in seconds)")
    t_s = None if target_s is None else _check_rate("target_s", target_s)
    max_wait = (
        None if max_mean_wait_s is None else _check_positive("max_mean_wait_s", max_mean_wait_s)
    )
    if max_p_wait is not None and not 0.0 < float(max_p_wait) <= 1.0:
        raise ValueError(f"max_p_wait must be in (0, 1], got {max_p_wait!r}")
    load = rate * handle
    start = max(1, math.floor(load) + 1)
    if start > _MAX_SERVERS:
        raise ValueError(
            f"offered load {load:.6g} erlangs needs more than {_MAX_SERVERS:,} servers"
        )
    for c, b in _b_sequence(load):
        if c < start:
            continue
        if c > _MAX_SERVERS:
            raise ValueError(f"no staffing up to {_MAX_SERVERS} servers meets the targets")
        p_wait = _c_from_b(c, load, b)
        ok = True
        if target_sl is not None and t_s is not None:
            ok &= _service_level(c, load, handle, p_wait, t_s) >= target_sl
        if max_wait is not None:
            ok &= p_wait * handle / (c - load) * 60.0 <= max_wait
        if max_p_wait is not None:
            ok &= p_wait <= max_p_wait
        if ok:
            return c
    raise AssertionError("unreachable")  # pragma: no cover


def staffing_table(
    arrival_rate_per_min: float,
    handle_min: float,
    servers: Iterable[int],
    *,
    target_s: float | None = None,
) -> list[ErlangCResult]:
    """:func:`erlang_c` for each number of servers in ``servers`` (e.g. ``range(12, 18)``).

    Parameters
    ----------
    arrival_rate_per_min : float
        Calls per minute.
    handle_min : float
        Mean handle time in minutes.
    servers : iterable of int
        The server counts to tabulate, in the order wanted.
    target_s : float, optional
        Answer-time target in seconds for the ``service_level`` column.

    Returns
    -------
    list of ErlangCResult
        One result per server count.
    """
    return [erlang_c(arrival_rate_per_min, handle_min, c, target_s=target_s) for c in servers]


class StaffingTargets(BaseModel):
    """The targets a staffing answer meets (any of them; ``None`` = not asked)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target_s: float | None = None
    target_sl: float | None = None
    max_wait_s: float | None = None
    max_p_wait: float | None = None


class ErlangStaffing(BaseModel):
    """Servers needed for the targets, and the staffing curve around a server count."""

    model_config = ConfigDict(frozen=True)

    servers_needed: int | None
    """Fewest servers meeting every target (``None`` when no target is given)."""
    targets: StaffingTargets
    result: ErlangCResult
    """The figures at the servers asked for, else at ``servers_needed``."""
    table: list[ErlangCResult]
    """From two below to three above ``result.servers`` (at least 1)."""


def erlang_staffing(
    arrival_rate_per_min: float,
    handle_min: float,
    targets: StaffingTargets,
    *,
    servers: int | None = None,
    below: int = 2,
    above: int = 3,
) -> ErlangStaffing:
    """The staffing a target needs (:func:`min_servers`), the figures at ``servers`` (or at
    that minimum) and the :func:`staffing_table` around them.

    Raises ``ValueError`` as :func:`min_servers` and :func:`erlang_c` do (neither
    ``servers`` nor a target, a target out of range, fewer than one server).
    """
    asked = any(v is not None for v in (targets.target_sl, targets.max_wait_s, targets.max_p_wait))
    if servers is None and not asked:
        raise ValueError(
            "give servers, or a target: target_sl (with target_s), max_wait_s, max_p_wait"
        )
    needed = (
        min_servers(
            arrival_rate_per_min,
            handle_min,
            target_sl=targets.target_sl,
            target_s=targets.target_s,
            max_mean_wait_s=targets.max_wait_s,
            max_p_wait=targets.max_p_wait,
        )
        if asked
        else None
    )
    centre = servers if servers is not None else needed
    assert centre is not None
    _check_servers("servers", centre)
    table = staffing_table(
        arrival_rate_per_min,
        handle_min,
        range(max(1, centre - below), centre + above + 1),
        target_s=targets.target_s,
    )
    return ErlangStaffing(
        servers_needed=needed,
        targets=targets,
        result=next(r for r in table if r.servers == centre),
        table=table,
    )
