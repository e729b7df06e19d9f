"""Non-preemptive priority M/M/c: mean wait per priority class (Cobham's formula).

The model
---------
``K`` classes of calls arrive as independent Poisson streams at ``lambda_k`` calls
per minute (class 1 is the highest priority). Every call, whatever its class, takes
an exponential service time of the same mean ``h = 1 / mu`` minutes on one of ``c``
identical servers. A freed server takes the waiting call of the highest class (first
come, first served within a class); a call in service is never interrupted
(non-preemptive). This is how a dispatcher works a pending-call queue by priority.

With ``sigma_k = sum_{i <= k} lambda_i / (c mu)`` (the load of classes 1..k per
server, ``sigma_0 = 0``) the mean wait in queue of class ``k`` is Cobham's formula
(Cobham 1954, "Priority assignment in waiting line problems", *Operations Research*
2(1); Kleinrock, *Queueing Systems* vol. 2, section 3.6; Gross & Harris, section 3.4)::

    W_k = C(c, A) / (c mu) / ((1 - sigma_{k-1}) (1 - sigma_k))

where ``C(c, A)`` is Erlang's C formula at the total load ``A = sum lambda_k / mu``
(from :mod:`.erlang`). Every class sees the same probability of waiting, ``C``
(Poisson arrivals see time averages, and whether all servers are busy does not
depend on the order the queue is worked). The arrival-weighted mean of the ``W_k``
equals the first-come-first-served Erlang C mean wait: priorities move waiting time
between classes, they do not create or remove it (Kleinrock's conservation law).

Overload
--------
When ``sigma_K >= 1`` the queue of the lowest classes grows without bound, so the
servers are busy all the time (``P(wait) = 1``), but the top classes can still be
served in finite time: class ``k`` is stable while ``sigma_k < 1``, and its mean wait
is Cobham's formula with ``C = 1``. Each class reports its own ``stable`` flag and an
infinite mean wait when it is not.

What is (and is not) available
-------------------------------
* Means, for every class: exact (above).
* The whole wait distribution of **class 1**: exact. Whenever a class-1 call waits,
  every server is busy, so completions come at rate ``c mu``; cutting the number of
  waiting class-1 calls between ``n`` and ``n + 1`` gives
  ``P(all busy, n class-1 waiting) = C (1 - sigma_1) sigma_1^n``. A waiting class-1
  call needs a geometric number of exponential completions, hence
  ``P(W_1 > t) = C exp(-c mu (1 - sigma_1) t)`` (the tests check the geometric law
  against the solved Markov chain).
* The wait *distribution* of lower classes (a share within ``t``) has no closed form
  in general (it involves the busy periods started by higher classes; Kleinrock vol. 2
  gives Laplace transforms only). It is **not** reported here: use the dispatch
  simulator for it.

Units: rates per minute, times in minutes unless the name ends in ``_s`` (seconds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from smart_policing.response.erlang import (
    FloatOrInf,
    _check_positive,
    _check_rate,
    _check_servers,
    erlang_c_probability,
)

__all__ = ["PriorityClassResult", "PriorityResult", "priority_waits"]


class PriorityClassResult(BaseModel):
    """Waits of one priority class (times in minutes; ``_s`` in seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    priority: int
    """1 = highest."""
    label: str
    arrival_rate_per_min: float
    cumulative_load: float
    """``sigma_k``: load of classes 1..k per server."""
    stable: bool
    """``sigma_k < 1``: this class's wait is finite."""
    p_wait: float
    """Probability a call of this class waits at all (the same ``C`` for every class)."""
    mean_wait_min: FloatOrInf
    mean_wait_s: FloatOrInf
    service_level: float | None = None
    """``P(wait <= target_s)``: exact for class 1 only, ``None`` for the others (no closed form)."""


class PriorityResult(BaseModel):
    """Non-preemptive priority M/M/c: per-class waits and the overall figures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    servers: int
    handle_min: float
    arrival_rate_per_min: float
    """Total over the classes."""
    offered_load_erlangs: float
    occupancy: float
    """``A / c``."""
    stable: bool
    """Every class stable (``sigma_K < 1``, i.e. ``A < c``)."""
    p_wait: float
    """Erlang C at the total load (1 when overloaded)."""
    mean_wait_min: FloatOrInf
    """Arrival-weighted mean over the classes (= the FCFS Erlang C mean wait)."""
    mean_wait_s: FloatOrInf
    target_s: float | None = None
    classes: tuple[PriorityClassResult, ...]


def priority_waits(
    arrival_rates_per_min: Sequence[float],
    handle_min: float,
    servers: int,
    *,
    labels: Sequence[str] | None = None,
    target_s: float | None = None,
) -> PriorityResult:
    """Mean wait of each class in a non-preemptive priority M/M/c queue.

    Parameters
    ----------
    arrival_rates_per_min : sequence of float
        ``lambda_k`` in calls per minute, highest priority first (class 1, 2, ...).
        Each >= 0; at least one class.
    handle_min : float
        Mean service time ``1 / mu`` in minutes, common to all classes (> 0).
    servers : int
        Number of servers ``c`` (>= 1).
    labels : sequence of str, optional
        Names of the classes (default ``"1"``, ``"2"``, ...).
    target_s : float, optional
        Answer-time target in seconds: class 1 gets its exact ``service_level``
        ``1 - C exp(-c mu (1 - sigma_1) t)``; the other classes get ``None``.

    Returns
    -------
    PriorityResult
        Per class: cumulative load, stability, P(wait), mean wait (Cobham); overall:
        offered load, occupancy, P(wait) and the weighted mean wait.

    Raises
    ------
    ValueError
        No class, a negative rate, a non-positive handle time, fewer than one server, or
        labels of the wrong length; the message names the parameter.
    """
    rates = [
        _check_rate(f"arrival_rates_per_min[{i}]", r) for i, r in enumerate(arrival_rates_per_min)
    ]
    if not rates:
        raise ValueError("arrival_rates_per_min needs at least one class")
    handle = _check_positive("handle_min", handle_min)
    c = _check_servers("servers", servers)
    names = [str(i + 1) for i in range(len(rates))] if labels is None else [str(x) for x in labels]
    if len(names) != len(rates):
        raise ValueError(f"labels has {len(names)} names for {len(rates)} classes")
    target = None if target_s is None else _check_rate("target_s", target_s)

    total = sum(rates)
    load = total * handle
    p_wait = erlang_c_probability(c, load)
    unit = handle / c  # 1 / (c mu), minutes
    classes = []
    before = 0.0
    for k, (rate, name) in enumerate(zip(rates, names, strict=True), start=1):
        sigma = before + rate * handle / c
        stable = sigma < 1.0
        wait = p_wait * unit / ((1.0 - before) * (1.0 - sigma)) if stable else math.inf
        level = None
        if k == 1 and target is not None:
            level = (
                1.0 - p_wait * math.exp(-(1.0 - sigma) * (target / 60.0) / unit) if stable else 0.0
            )
        classes.append(
            PriorityClassResult(
                priority=k,
                label=name,
                arrival_rate_per_min=rate,
                cumulative_load=sigma,
                stable=stable,
                p_wait=p_wait,
                mean_wait_min=wait,
                mean_wait_s=wait * 60.0,
                service_level=level,
            )
        )
        before = sigma
    all_stable = all(x.stable for x in classes)
    if not all_stable:
        overall = math.inf
    elif total == 0:
        overall = 0.0
    else:
        overall = sum(x.arrival_rate_per_min * x.mean_wait_min for x in classes) / total
    return PriorityResult(
        servers=c,
        handle_min=handle,
        arrival_rate_per_min=total,
        offered_load_erlangs=load,
        occupancy=load / c,
        stable=all_stable,
        p_wait=p_wait,
        mean_wait_min=overall,
        mean_wait_s=overall * 60.0,
        target_s=target,
        classes=tuple(classes),
    )
