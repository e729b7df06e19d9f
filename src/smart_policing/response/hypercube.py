"""Larson's hypercube queueing model: workloads, dispatch fractions and travel times.

The model
---------
A city is cut into ``J`` *atoms* (reporting areas), each an independent Poisson source
of calls at ``lambda_j`` calls per minute. ``N`` response units (patrol cars) each
serve one call at a time; a call keeps its unit busy for an exponential time of mean
``1 / mu`` minutes, the same for every unit (travel plus on scene). Each atom has an
ordered **preference list** of units; the dispatcher sends the first *available* unit
on the atom's list (fixed-preference dispatch). When every unit is busy, the
**line capacity** decides: ``"zero"`` (the call is lost to a backup system, e.g. a
neighbouring district or mutual aid) or ``"infinite"`` (it waits, first come first
served, for whichever unit frees first).

R. C. Larson, "A hypercube queuing model for facility location and redistricting in
urban emergency services", *Computers & Operations Research* 1(1), 1974; Larson &
Odoni, *Urban Operations Research* (Prentice-Hall 1981), chapter 5, sections 5.4-5.7.

Exact solution (:func:`hypercube_exact`)
    The state is the set of busy units: a vertex of the binary ``N``-cube (``2^N``
    states, bit ``n`` set when unit ``n`` is busy). From a state, an arrival from atom
    ``j`` sets the bit of the first free unit on ``j``'s list (upward transitions),
    and each busy unit frees at rate ``mu`` (downward). With the infinite line, the
    all-busy state continues into an M/M/N tail (``k`` calls waiting, probability
    ``P_full rho^k``, ``rho = lambda / (N mu)``); the queue's arrivals and departures
    cancel in the all-busy state's balance, so the ``2^N`` chain is solved once
    for both line capacities and the infinite line rescales its all-busy state by
    ``1 / (1 - rho)``. The balance equations ``P G = 0`` are solved by the power
    method on the uniformized chain ``P <- P + P G / Lambda``, started from the exact
    Erlang-loss distribution of the number busy (only the split within each level is
    unknown); this is robust and converges in a few hundred sparse products (well
    under a second at ``N = 15``). More units are refused: ``2^N`` grows too fast;
    use the approximation.

Approximation (:func:`hypercube_approx`; Larson 1975, "Approximating the performance
of urban emergency service systems", *Operations Research* 23(5); Larson & Odoni 5.5)
    Treat units as independently busy with their own workloads ``rho_n``, corrected
    for the dependence between them by Larson's factor ``Q(N, rho, j)``: the
    probability that a given ordered set of ``j`` units is busy and a given other one
    free is ``Q(N, rho, j) rho_1 ... rho_j (1 - rho_{j+1})``, with ``Q`` chosen to
    make this exact when all units are alike (:func:`correction_factors`; computed
    here from the M/M/N state probabilities as
    ``sum_k P_k C(N-j-1, k-j) / C(N, k) / (rho^j (1 - rho))``). The workloads solve
    ``rho_n = (1 - rho_n) V_n + D``, with ``V_n`` the rate (per mean service time) of
    calls for which ``n`` is the ``k``-th choice times ``Q(N, rho, k-1)`` and the
    product of the workloads of the ``k-1`` units ahead of it, and ``D`` the share of
    queued calls each unit takes (``lambda P_N / (N mu)``, infinite line only). The
    fixed point is iterated (Jacobi), renormalising the sum of workloads to the exact
    M/M/N total each time, until no workload moves by more than ``tol``. Overall
    figures (loss, queueing) come from Erlang B / Erlang C (:mod:`.erlang`). The cost
    per iteration is ``O(J N)``, so hundreds of units are routine. Larson reports
    errors of about 1-2 %. On random cities of 4 to 8 units (nearest-unit dispatch,
    20-85 % utilisation) the tests hold it to 0.035 in workload (0.009 on average),
    0.006 in dispatch fraction and 4.5 % in region-wide mean travel time (0.9 % on
    average); the largest errors are on lightly loaded back-up units.

Performance measures (both methods; Larson & Odoni 5.4.4, 5.6, problem 5.7)
    ``f_nj``, the share of all dispatches that send unit ``n`` to atom ``j``:
    ``(lambda_j / lambda) P(n is the first free unit on j's list)``; with the infinite
    line, a queued call (probability ``P_N``) is taken by whichever unit frees first,
    any of the ``N`` alike, so ``(lambda_j / lambda) P_N / N`` is added to every unit.
    With the zero line the shares are taken over dispatched calls (divided by
    ``1 - P_N``), so they sum to 1 in both cases. Mean travel time per atom, per unit
    and region-wide are ``f``-weighted means of ``t[n][j]`` (minutes). A queued
    call's unit is taken to travel from its own position ``t[n][j]`` (the book
    instead uses atom-to-atom times from the previous call's scene, which needs an
    atom-to-atom matrix we do not ask for). The *first-preference share* of an atom
    is the share of its calls answered by the first unit on its list; one minus it is
    the share of interdistrict (inter-response-area) dispatches.

Units: rates per minute (the YAML file takes calls per hour and a mean service time
in minutes), travel times in minutes. Unit and atom indices in the core are 0-based.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Literal, Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import gammaln, logsumexp

from smart_policing.datafiles import LocatedErrors
from smart_policing.response.erlang import FloatOrInf, erlang_b, erlang_c_probability

__all__ = [
    "AUTO_EXACT_UNITS",
    "MAX_EXACT_UNITS",
    "HypercubeAtom",
    "HypercubeAtomSpec",
    "HypercubeFile",
    "HypercubeResult",
    "HypercubeSystem",
    "HypercubeUnit",
    "Line",
    "complete_preferences",
    "correction_factors",
    "hypercube",
    "hypercube_approx",
    "hypercube_exact",
]

Line = Literal["zero", "infinite"]
Method = Literal["exact", "approx", "auto"]

#: Largest fleet the exact model accepts (2^15 = 32,768 states).
MAX_EXACT_UNITS = 15
#: ``method="auto"`` solves exactly up to this many units, approximately above.
AUTO_EXACT_UNITS = 15

_FloatArray = NDArray[np.float64]
_IntArray = NDArray[np.int64]


# ---------------------------------------------------------------- input


class HypercubeSystem(BaseModel):
    """A validated hypercube system (rates per minute, travel minutes, 0-based indices).

    ``preferences[j]`` must list every unit once (a permutation of ``range(N)``); use
    :func:`complete_preferences` to fill in partial lists from travel times.
    ``travel_min[n][j]`` is unit ``n``'s travel time to atom ``j`` (optional).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    units: tuple[str, ...] = Field(min_length=1)
    atoms: tuple[str, ...] = Field(min_length=1)
    arrival_rates_per_min: tuple[Annotated[float, Field(ge=0, allow_inf_nan=False)], ...]
    service_rate_per_min: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    preferences: tuple[tuple[int, ...], ...]
    travel_min: (
        tuple[tuple[Annotated[float, Field(ge=0, allow_inf_nan=False)], ...], ...] | None
    ) = None
    line: Line = "zero"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n, j = len(self.units), len(self.atoms)
        if len(set(self.units)) != n:
            raise ValueError("units: names must be unique")
        if len(set(self.atoms)) != j:
            raise ValueError("atoms: names must be unique")
        if len(self.arrival_rates_per_min) != j:
            raise ValueError(
                f"arrival_rates_per_min: {len(self.arrival_rates_per_min)} rates for {j} atoms"
            )
        if sum(self.arrival_rates_per_min) <= 0:
            raise ValueError("arrival_rates_per_min: at least one atom needs calls")
        if len(self.preferences) != j:
            raise ValueError(f"preferences: {len(self.preferences)} lists for {j} atoms")
        for a, pref in enumerate(self.preferences):
            if sorted(pref) != list(range(n)):
                raise ValueError(
                    f"preferences[{a}] ({self.atoms[a]}) must list every unit index 0..{n - 1} "
                    f"exactly once, got {list(pref)}"
                )
        if self.travel_min is not None and (
            len(self.travel_min) != n or any(len(row) != j for row in self.travel_min)
        ):
            raise ValueError(f"travel_min must be {n} rows (units) of {j} times (atoms)")
        return self

    @property
    def total_rate(self) -> float:
        """Total arrival rate ``lambda`` (calls per minute)."""
        return float(sum(self.arrival_rates_per_min))

    @property
    def offered_load(self) -> float:
        """``lambda / mu`` in erlangs."""
        return self.total_rate / self.service_rate_per_min


def complete_preferences(
    preferences: Sequence[Sequence[int]],
    n_units: int,
    travel_min: Sequence[Sequence[float]] | None = None,
) -> tuple[tuple[int, ...], ...]:
    """Complete partial preference lists: units not listed follow, nearest first.

    Parameters
    ----------
    preferences : sequence of sequences of int
        Per atom, the first choices in order (0-based unit indices; may be empty).
    n_units : int
        Number of units ``N``.
    travel_min : N x J travel times in minutes, optional
        Used to order the units not listed (ties: lower index first). Without it a
        list must already name every unit.

    Returns
    -------
    tuple of tuple of int
        One permutation of ``range(n_units)`` per atom.
    """
    out = []
    for j, pref in enumerate(preferences):
        listed = [int(u) for u in pref]
        if len(set(listed)) != len(listed) or any(not 0 <= u < n_units for u in listed):
            raise ValueError(
                f"preferences[{j}]: unit indices must be distinct and in 0..{n_units - 1}"
            )
        rest = [u for u in range(n_units) if u not in set(listed)]
        if rest and travel_min is None:
            raise ValueError(
                f"preferences[{j}] leaves out units {rest} and no travel times order them"
            )
        if travel_min is not None:
            rest.sort(key=lambda u: (float(travel_min[u][j]), u))
        out.append(tuple(listed + rest))
    return tuple(out)


# ---------------------------------------------------------------- output


class HypercubeUnit(BaseModel):
    """Figures for one unit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    workload: float
    """Share of time busy, ``rho_n``."""
    dispatch_share: float
    """Share of all dispatches that go to this unit (``sum_j f_nj``)."""
    outside_area_share: float | None
    """Share of its dispatches to atoms where it is not first choice (``None``: never sent)."""
    mean_travel_min: float | None
    """Mean travel time of its dispatches (``None`` without travel times or dispatches)."""


class HypercubeAtom(BaseModel):
    """Figures for one atom."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    arrival_rate_per_min: float
    first_unit: str
    """The first unit on its preference list (its "district car")."""
    first_preference_share: float
    """Share of its dispatched calls answered by ``first_unit``."""
    mean_travel_min: float | None


class HypercubeResult(BaseModel):
    """Solution of a hypercube model (exact or approximate)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["exact", "approx"]
    line: Line
    stable: bool
    """False only for an infinite line with ``lambda >= N mu`` (every unit always busy)."""
    converged: bool
    iterations: int
    offered_load_erlangs: float
    carried_load_erlangs: float
    """Sum of workloads: ``lambda (1 - P_loss) / mu`` (zero line) or ``lambda / mu``."""
    p_all_busy: float
    """Probability that every unit is busy (saturation)."""
    p_loss: float
    """Share of calls lost (zero line; 0 with the infinite line)."""
    p_queue: float
    """Share of calls that wait for a unit (infinite line; 0 with the zero line)."""
    mean_queue_wait_min: FloatOrInf
    """Mean wait of all calls for a unit to free (infinite line, Erlang C), minutes."""
    mean_travel_min: float | None
    """Region-wide mean travel time over dispatches, minutes."""
    interdistrict_share: float
    """Share of dispatches not answered by the atom's first-choice unit."""
    units: tuple[HypercubeUnit, ...]
    atoms: tuple[HypercubeAtom, ...]
    dispatch_fractions: tuple[tuple[float, ...], ...]
    """``f[n][j]``: share of all dispatches sending unit ``n`` to atom ``j`` (sums to 1)."""

    def workloads(self) -> list[float]:
        """The unit workloads ``rho_n`` in unit order."""
        return [u.workload for u in self.units]


# ---------------------------------------------------------------- shared pieces


def _unique_preferences(system: HypercubeSystem) -> tuple[_IntArray, _FloatArray, _IntArray]:
    """Distinct preference lists (rows), their total rate, and each atom's row."""
    prefs = np.asarray(system.preferences, dtype=np.int64).reshape(len(system.atoms), -1)
    rows, inverse = np.unique(prefs, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    rates = np.bincount(
        inverse, weights=np.asarray(system.arrival_rates_per_min), minlength=len(rows)
    )
    return rows.astype(np.int64), rates.astype(np.float64), inverse.astype(np.int64)


def _mmn_levels(n: int, load: float, line: Line) -> tuple[_FloatArray, float]:
    """M/M/N probabilities of k = 0..N-1 busy, and of all N busy (with the queue tail)."""
    k = np.arange(n + 1, dtype=np.float64)
    logp = k * math.log(load) - gammaln(k + 1)
    if line == "infinite":
        logp[n] -= math.log1p(-load / n)
    p = np.exp(logp - logsumexp(logp))
    return p[:n], float(p[n])


def correction_factors(
    n_units: int, offered_load_erlangs: float, line: Line = "infinite"
) -> tuple[float, ...]:
    """Larson's correction factors ``Q(N, rho, j)`` for ``j = 0 .. N-1``.

    ``Q(N, rho, j) rho^j (1 - rho)`` is the probability, in an M/M/N system of
    identical units chosen at random, that a given ordered set of ``j`` units is busy
    and a given other unit is free:
    ``sum_{k=j}^{N-1} P_k C(N-j-1, k-j) / C(N, k)``, with ``P_k`` the M/M/N (infinite
    line) or M/M/N/N (zero line) probability of ``k`` busy units and ``rho`` the
    per-unit utilisation (``A / N``, or ``A (1 - B) / N`` with the zero line).
    Computed in logarithms, so it holds for hundreds of units.

    Parameters
    ----------
    n_units : int
        ``N`` (>= 1).
    offered_load_erlangs : float
        ``A = lambda / mu`` (> 0; below ``N`` for the infinite line).
    line : {"infinite", "zero"}
        Line capacity.

    Returns
    -------
    tuple of float
        ``Q(N, rho, 0), ..., Q(N, rho, N-1)``; ``Q(N, rho, 0) = 1`` for the infinite line.

    Examples
    --------
    >>> [round(q, 5) for q in correction_factors(3, 1.5)]
    [1.0, 0.73684, 0.63158]
    """
    if isinstance(n_units, bool) or not isinstance(n_units, int) or n_units < 1:
        raise ValueError(f"n_units must be a whole number >= 1, got {n_units!r}")
    load = float(offered_load_erlangs)
    if not math.isfinite(load) or load <= 0:
        raise ValueError(f"offered_load_erlangs must be > 0, got {offered_load_erlangs!r}")
    if line == "infinite" and load >= n_units:
        raise ValueError(f"offered_load_erlangs {load} >= {n_units} units: no steady state")
    return tuple(float(q) for q in _log_q(n_units, load, line)[1])


def _log_q(n: int, load: float, line: Line) -> tuple[float, _FloatArray]:
    """(per-unit utilisation rho, Q(N, rho, j) for j = 0..N-1)."""
    levels, p_full = _mmn_levels(n, load, line)
    rho = load / n if line == "infinite" else load * (1.0 - p_full) / n
    j = np.arange(n, dtype=np.float64)[:, None]
    k = np.arange(n, dtype=np.float64)[None, :]
    valid = k >= j
    with np.errstate(divide="ignore", invalid="ignore"):
        log_comb_num = (
            gammaln(n - j)
            - gammaln(np.where(valid, k - j + 1, 1))
            - gammaln(np.where(valid, n - k, 1))
        )
        log_comb_den = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
        terms = np.where(valid, np.log(levels)[None, :] + log_comb_num - log_comb_den, -np.inf)
    log_s = logsumexp(terms, axis=1)
    log_q = log_s - j[:, 0] * math.log(rho) - math.log1p(-rho)
    return rho, np.exp(log_q)


def _measures(
    system: HypercubeSystem,
    method: Literal["exact", "approx"],
    workloads: _FloatArray,
    first_free: _FloatArray,
    p_full: float,
    *,
    stable: bool = True,
    converged: bool = True,
    iterations: int = 0,
) -> HypercubeResult:
    """Assemble the result from workloads, ``P(n first free for j)`` (N x J) and ``P_N``."""
    n_units, n_atoms = len(system.units), len(system.atoms)
    lam = np.asarray(system.arrival_rates_per_min, dtype=np.float64)
    total = float(lam.sum())
    share = lam / total
    infinite = system.line == "infinite"
    if infinite:
        f = share[None, :] * (first_free + p_full / n_units)
    else:
        f = share[None, :] * first_free / (1.0 - p_full)
    first = np.asarray([p[0] for p in system.preferences], dtype=np.int64)
    per_atom = f.sum(axis=0)
    f_first = f[first, np.arange(n_atoms)]
    first_share = np.divide(f_first, per_atom, out=np.ones(n_atoms), where=per_atom > 0)
    per_unit = f.sum(axis=1)
    in_area = np.zeros(n_units)
    np.add.at(in_area, first, f_first)

    travel = None if system.travel_min is None else np.asarray(system.travel_min, dtype=np.float64)
    atom_travel: list[float | None] = [None] * n_atoms
    unit_travel: list[float | None] = [None] * n_units
    region_travel = None
    if travel is not None:
        ft = f * travel
        region_travel = float(ft.sum())
        atom_travel = [
            float(ft[:, a].sum() / per_atom[a]) if per_atom[a] > 0 else None for a in range(n_atoms)
        ]
        unit_travel = [
            float(ft[u].sum() / per_unit[u]) if per_unit[u] > 0 else None for u in range(n_units)
        ]

    load = system.offered_load
    if not infinite:
        queue_wait = 0.0
    elif not stable:
        queue_wait = math.inf
    else:
        c = erlang_c_probability(n_units, load)
        queue_wait = c / (n_units * system.service_rate_per_min - total)
    return HypercubeResult(
        method=method,
        line=system.line,
        stable=stable,
        converged=converged,
        iterations=iterations,
        offered_load_erlangs=load,
        carried_load_erlangs=float(workloads.sum()),
        p_all_busy=p_full,
        p_loss=0.0 if infinite else p_full,
        p_queue=p_full if infinite else 0.0,
        mean_queue_wait_min=queue_wait,
        mean_travel_min=region_travel,
        interdistrict_share=float(1.0 - f_first.sum()),
        units=tuple(
            HypercubeUnit(
                name=system.units[u],
                workload=float(workloads[u]),
                dispatch_share=float(per_unit[u]),
                outside_area_share=float(1.0 - in_area[u] / per_unit[u])
                if per_unit[u] > 0
                else None,
                mean_travel_min=unit_travel[u],
            )
            for u in range(n_units)
        ),
        atoms=tuple(
            HypercubeAtom(
                name=system.atoms[a],
                arrival_rate_per_min=float(lam[a]),
                first_unit=system.units[int(first[a])],
                first_preference_share=float(first_share[a]),
                mean_travel_min=atom_travel[a],
            )
            for a in range(n_atoms)
        ),
        dispatch_fractions=tuple(tuple(float(x) for x in row) for row in f),
    )


def _saturated(system: HypercubeSystem, method: Literal["exact", "approx"]) -> HypercubeResult:
    """Infinite line with ``lambda >= N mu``: all units always busy, every call queues."""
    n_units, n_atoms = len(system.units), len(system.atoms)
    return _measures(
        system,
        method,
        np.ones(n_units),
        np.zeros((n_units, n_atoms)),
        1.0,
        stable=False,
    )


# ---------------------------------------------------------------- exact


def _first_free(states: _IntArray, pref: _IntArray) -> _IntArray:
    """For each state, the first free unit on ``pref`` (-1 when all are busy)."""
    out = np.full(states.shape, -1, dtype=np.int64)
    for u in pref:
        hit = (out < 0) & (((states >> int(u)) & 1) == 0)
        out[hit] = int(u)
    return out


def hypercube_exact(
    system: HypercubeSystem, *, tol: float = 1e-13, max_iter: int = 200_000
) -> HypercubeResult:
    """Solve the hypercube model exactly (``2^N`` states; at most :data:`MAX_EXACT_UNITS` units).

    Parameters
    ----------
    system : HypercubeSystem
        Units, atoms, rates (per minute), complete preference lists, travel times, line.
    tol : float
        Stop when one power step moves the state probabilities by less than this (L1).
    max_iter : int
        Safety bound on power steps (``converged`` is false if it is reached).

    Returns
    -------
    HypercubeResult
        Workloads, dispatch fractions, loss / queueing probability, travel times.

    Raises
    ------
    ValueError
        More than :data:`MAX_EXACT_UNITS` units.
    """
    n = len(system.units)
    if n > MAX_EXACT_UNITS:
        raise ValueError(
            f"the exact hypercube model has 2^N states and is limited to {MAX_EXACT_UNITS} units; "
            f"this system has {n}: use the approximation (method 'approx')"
        )
    lam = system.total_rate
    mu = system.service_rate_per_min
    if system.line == "infinite" and lam >= n * mu:
        return _saturated(system, "exact")
    size = 1 << n
    states = np.arange(size, dtype=np.int64)
    rows, row_rates, atom_row = _unique_preferences(system)

    # upward rates up[s, u]: arrivals in state s that take unit u
    up = np.zeros((size, n))
    for pref, rate in zip(rows, row_rates, strict=True):
        unit = _first_free(states, pref)
        ok = unit >= 0
        np.add.at(up, (states[ok], unit[ok]), rate)
    src, dst, val = [], [], []
    for u in range(n):
        bit = 1 << u
        free = (states & bit) == 0
        src += [states[free], states[~free]]
        dst += [states[free] | bit, states[~free] & ~bit]
        val += [up[free, u], np.full(int((~free).sum()), mu)]
    s_all, d_all, v_all = np.concatenate(src), np.concatenate(dst), np.concatenate(val)
    keep = v_all > 0
    # transposed rate matrix: (R^T p)[d] = sum_s p[s] rate(s -> d)
    rt = sp.csr_matrix((v_all[keep], (d_all[keep], s_all[keep])), shape=(size, size))
    out_rate = np.bincount(s_all[keep], weights=v_all[keep], minlength=size)
    uniform = lam + n * mu

    # start: the exact (Erlang loss) distribution of the number busy, uniform within a level
    busy = np.array([bin(s).count("1") for s in range(size)], dtype=np.int64)
    levels, p_top = _mmn_levels(n, lam / mu, "zero")
    level_p = np.append(levels, p_top)
    counts = np.bincount(busy, minlength=n + 1)
    p = level_p[busy] / counts[busy]
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        step = (rt @ p - out_rate * p) / uniform
        p = p + step
        if np.abs(step).sum() < tol:
            converged = True
            break
    p = np.clip(p, 0.0, None)
    p /= p.sum()
    if system.line == "infinite":
        p[size - 1] /= 1.0 - lam / (n * mu)
        p /= p.sum()
    p_full = float(p[size - 1])  # with the infinite line: the whole queue tail
    workloads = np.array([p[(states >> u) & 1 == 1].sum() for u in range(n)])
    first_rows = np.zeros((len(rows), n))
    for r, pref in enumerate(rows):
        unit = _first_free(states, pref)
        ok = unit >= 0
        first_rows[r] = np.bincount(unit[ok], weights=p[ok], minlength=n)
    first_free = first_rows[atom_row].T
    return _measures(
        system, "exact", workloads, first_free, p_full, converged=converged, iterations=it
    )


# ---------------------------------------------------------------- approximation


def hypercube_approx(
    system: HypercubeSystem, *, tol: float = 1e-10, max_iter: int = 1000
) -> HypercubeResult:
    """Larson's (1975) approximate hypercube: workloads by fixed-point iteration.

    Parameters
    ----------
    system : HypercubeSystem
        Units, atoms, rates (per minute), complete preference lists, travel times, line.
    tol : float
        Stop when no workload changes by more than this between iterations.
    max_iter : int
        Safety bound on iterations (``converged`` is false if it is reached).

    Returns
    -------
    HypercubeResult
        As :func:`hypercube_exact`, with approximate workloads and dispatch fractions and
        exact M/M/N overall figures (Erlang B loss, Erlang C queueing).
    """
    n = len(system.units)
    lam = system.total_rate
    mu = system.service_rate_per_min
    load = lam / mu
    if system.line == "infinite" and load >= n:
        return _saturated(system, "approx")
    rows, row_rates, atom_row = _unique_preferences(system)
    rho, q = _log_q(n, load, system.line)
    if system.line == "infinite":
        p_full = erlang_c_probability(n, load)
        queued_share = lam * p_full / (n * mu)
        target = load
    else:
        p_full = erlang_b(n, load)
        queued_share = 0.0
        target = load * (1.0 - p_full)
    weight = (row_rates / mu)[:, None] * q[None, :]  # (rows, position)
    flat_units = rows.ravel()

    def ahead_busy(w: _FloatArray) -> _FloatArray:
        """Per row and position, the product of the workloads of the units ahead."""
        busy = w[rows]
        ahead = np.ones_like(busy)
        ahead[:, 1:] = np.cumprod(busy[:, :-1], axis=1)
        return ahead

    w = np.full(n, rho)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        v = np.bincount(flat_units, weights=(weight * ahead_busy(w)).ravel(), minlength=n)
        new = (v + queued_share) / (1.0 + v)
        new *= target / new.sum()
        moved = float(np.abs(new - w).max())
        w = new
        if moved < tol:
            converged = True
            break
    # P(unit at position k is the first free) = Q(k) * product ahead * (1 - rho_unit)
    prob = q[None, :] * ahead_busy(w) * (1.0 - w[rows])
    prob *= (1.0 - p_full) / prob.sum(axis=1, keepdims=True)
    first_rows = np.zeros((len(rows), n))
    np.put_along_axis(first_rows, rows, prob, axis=1)
    first_free = first_rows[atom_row].T
    return _measures(system, "approx", w, first_free, p_full, converged=converged, iterations=it)


def hypercube(system: HypercubeSystem, method: Method = "auto") -> HypercubeResult:
    """Solve ``system`` exactly or approximately.

    Parameters
    ----------
    system : HypercubeSystem
        The system.
    method : {"auto", "exact", "approx"}
        ``"auto"``: exact up to :data:`AUTO_EXACT_UNITS` units, the approximation above.

    Returns
    -------
    HypercubeResult
        The solution; ``method`` says which was used.
    """
    if method == "exact" or (method == "auto" and len(system.units) <= AUTO_EXACT_UNITS):
        return hypercube_exact(system)
    if method in ("approx", "auto"):
        return hypercube_approx(system)
    raise ValueError(f"method must be 'auto', 'exact' or 'approx', got {method!r}")


# ---------------------------------------------------------------- data file


class HypercubeAtomSpec(BaseModel):
    """One atom in a hypercube file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    calls_per_hour: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    preferences: list[str] = Field(default_factory=list)
    """Units in dispatch order; units left out follow by travel time (nearest first)."""
    travel_min: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None
    """Travel time in minutes from each unit (every unit) to this atom."""


class HypercubeFile(BaseModel):
    """A hypercube model as a YAML file (``schema_version: 1``)::

    schema_version: 1
    line: infinite            # or zero (calls lost when every unit is busy)
    service_min: 60           # mean busy time per dispatch, minutes
    units: [u1, u2, u3]
    atoms:
      - id: a1
        calls_per_hour: 0.5
        preferences: [u1, u2, u3]
        travel_min: {u1: 2.0, u2: 6.5, u3: 9.0}   # optional
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    line: Line
    service_min: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    units: list[str] = Field(min_length=1)
    atoms: list[HypercubeAtomSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Self:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: set[str] = set()
        for i, u in enumerate(self.units):
            if u in seen:
                problems.append((("units", i), f"unit {u!r} is listed twice"))
            seen.add(u)
        atom_ids: set[str] = set()
        known = set(self.units)
        has_travel = [a.travel_min is not None for a in self.atoms]
        if any(has_travel) and not all(has_travel):
            first = has_travel.index(False)
            problems.append(
                (("atoms", first, "travel_min"), "give travel times for every atom or none")
            )
        for i, atom in enumerate(self.atoms):
            if atom.id in atom_ids:
                problems.append((("atoms", i, "id"), f"atom {atom.id!r} is listed twice"))
            atom_ids.add(atom.id)
            for k, u in enumerate(atom.preferences):
                if u not in known:
                    problems.append((("atoms", i, "preferences", k), f"unknown unit {u!r}"))
            if len(set(atom.preferences)) != len(atom.preferences):
                problems.append((("atoms", i, "preferences"), "a unit is listed twice"))
            if atom.travel_min is None:
                if set(atom.preferences) != known:
                    problems.append(
                        (
                            ("atoms", i, "preferences"),
                            "without travel_min the list must name every unit",
                        )
                    )
            elif set(atom.travel_min) != known:
                missing = sorted(known - set(atom.travel_min))
                extra = sorted(set(atom.travel_min) - known)
                what = f"missing units {missing}" if missing else f"unknown units {extra}"
                problems.append(
                    (("atoms", i, "travel_min"), f"needs a time for every unit: {what}")
                )
        if sum(a.calls_per_hour for a in self.atoms) <= 0:
            problems.append((("atoms",), "at least one atom needs calls_per_hour > 0"))
        if problems:
            raise LocatedErrors(problems)
        return self

    def to_system(self) -> HypercubeSystem:
        """The core model: rates per minute, 0-based indices, completed preference lists."""
        index = {u: n for n, u in enumerate(self.units)}
        travel = None
        if all(a.travel_min is not None for a in self.atoms):
            travel = tuple(
                tuple(float((a.travel_min or {})[u]) for a in self.atoms) for u in self.units
            )
        prefs = complete_preferences(
            [[index[u] for u in a.preferences] for a in self.atoms], len(self.units), travel
        )
        return HypercubeSystem(
            units=tuple(self.units),
            atoms=tuple(a.id for a in self.atoms),
            arrival_rates_per_min=tuple(a.calls_per_hour / 60.0 for a in self.atoms),
            service_rate_per_min=1.0 / self.service_min,
            preferences=prefs,
            travel_min=travel,
            line=self.line,
        )
