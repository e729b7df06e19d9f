"""Self-exciting gun violence: a space-time Hawkes process simulated by branching.

The conditional intensity of gun-violence incidents (shootings, firearm homicides,
firearm aggravated assaults) is

    lambda(t, s) = mu(t, s) + sum_{t_i < t} b * w exp(-w (t - t_i)) * N(s - s_i; 0, sigma^2 I)

with background ``mu`` (the violent temporal profile times the gun spatial mixture,
see `temporal` and `spatial`), branching ratio ``b = hawkes_branching`` (mean
offspring per event), mean delay ``1/w = hawkes_decay_days`` and spatial spread
``sigma = hawkes_sigma_m``. This is the model of Mohler et al. (2011), "Self-exciting
point process modeling of crime", JASA 106(493).

It is simulated by its cluster (branching) representation: background events are
immigrants; each event has Poisson(b) children, each placed ``Exp(mean 1/w)`` later
and ``N(0, sigma^2)`` away in each coordinate, generation after generation until no
child falls before the end of the history. With a stationary background rate ``m``
the total rate is ``m / (1 - b)``; the caller therefore sets ``m = (1 - b)`` times the
wanted rate. Children that land outside the city are dropped (an edge effect of a
few per cent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from smart_policing.data.synth.temporal import DAY_MS

__all__ = ["HawkesEvents", "simulate_offspring"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class HawkesEvents:
    """Offspring events: time (local ms), position (m), generation (1 = child)."""

    t: I64
    x: F64
    y: F64
    generation: I64
    parent: I64  # index into the concatenation (immigrants, then offspring)


def simulate_offspring(
    rng: np.random.Generator,
    t: I64,
    x: F64,
    y: F64,
    branching: float,
    decay_days: float,
    sigma_m: float,
    t_end: int,
    max_generations: int = 200,
) -> HawkesEvents:
    """All descendants of the immigrant events ``(t, x, y)`` that occur before ``t_end``."""
    out_t: list[I64] = []
    out_x: list[F64] = []
    out_y: list[F64] = []
    out_g: list[I64] = []
    out_p: list[I64] = []
    cur_t, cur_x, cur_y = t, x, y
    cur_index = np.arange(t.size, dtype=np.int64)
    next_index = t.size
    for gen in range(1, max_generations + 1):
        if branching <= 0 or cur_t.size == 0:
            break
        n_children = rng.poisson(branching, cur_t.size)
        parent = np.repeat(np.arange(cur_t.size), n_children)
        delay = rng.exponential(decay_days * DAY_MS, parent.size).astype(np.int64) + 1
        ct = cur_t[parent] + delay
        cx = cur_x[parent] + rng.normal(0.0, sigma_m, parent.size)
        cy = cur_y[parent] + rng.normal(0.0, sigma_m, parent.size)
        keep = ct < t_end
        ct, cx, cy, parent = ct[keep], cx[keep], cy[keep], parent[keep]
        out_t.append(ct)
        out_x.append(cx)
        out_y.append(cy)
        out_g.append(np.full(ct.size, gen, dtype=np.int64))
        out_p.append(cur_index[parent])
        cur_t, cur_x, cur_y = ct, cx, cy
        cur_index = np.arange(next_index, next_index + ct.size, dtype=np.int64)
        next_index += ct.size
    if not out_t:
        empty_i = np.zeros(0, dtype=np.int64)
        return HawkesEvents(empty_i, np.zeros(0), np.zeros(0), empty_i, empty_i)
    return HawkesEvents(
        t=np.concatenate(out_t),
        x=np.concatenate(out_x),
        y=np.concatenate(out_y),
        generation=np.concatenate(out_g),
        parent=np.concatenate(out_p),
    )
