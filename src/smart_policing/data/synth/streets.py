"""The street grid and block addresses ("1200 N CALVERTON AVE").

Streets form a grid in the city's local metric frame (x east, y north, metres from
the centre). North-south streets sit at ``x = xs[i]``, east-west streets at ``y =
ys[j]``; spacing is ``street_spacing_m`` times a uniform factor in [0.75, 1.3]. The
north-south street through the centre is the *meridian* and the east-west one the
*baseline*: as in Baltimore, house numbers grow by 100 per block away from them and
the direction prefix (N/S on north-south streets, E/W on east-west ones) says which
side of the line a block is on. East-west streets north of the baseline are numbered
(``W 41ST ST``); the other streets carry names, and about a third of them carry no
direction prefix, like a short street that never crosses the dividing line.

A point is placed on the nearer of its two nearest streets, set back 4-12 m from the
centre line, and gets the address of its block: the number of cross streets between
the dividing line and the point, times 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["StreetGrid", "build_street_grid"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_SUFFIXES = ("AVE", "ST", "RD", "WAY", "PL", "BLVD", "TER", "DR", "LN")
_SUFFIX_P = (0.38, 0.34, 0.1, 0.04, 0.04, 0.03, 0.03, 0.02, 0.02)


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}TH"
    return f"{n}{({1: 'ST', 2: 'ND', 3: 'RD'}).get(n % 10, 'TH')}"


def _positions(rng: np.random.Generator, spacing: float, extent: float) -> F64:
    """Sorted street positions covering [-extent, extent], one of them at exactly 0."""
    n = int(extent / (spacing * 0.75)) + 2
    pos = np.cumsum(spacing * rng.uniform(0.75, 1.3, size=n))
    neg = -np.cumsum(spacing * rng.uniform(0.75, 1.3, size=n))
    out = np.concatenate([neg[::-1], [0.0], pos])
    return np.asarray(out[(out >= -extent - spacing) & (out <= extent + spacing)], dtype=np.float64)


@dataclass(frozen=True)
class StreetGrid:
    """Street positions (m), names and addressing rules."""

    xs: F64  # x of north-south streets, sorted; xs[i0] == 0 (the meridian)
    ys: F64  # y of east-west streets, sorted; ys[j0] == 0 (the baseline)
    ns_names: tuple[str, ...]  # "CALVERTON AVE"
    ew_names: tuple[str, ...]
    ns_prefixed: npt.NDArray[np.bool_]
    ew_prefixed: npt.NDArray[np.bool_]

    def snap(
        self, rng: np.random.Generator, x: F64, y: F64
    ) -> tuple[F64, F64, I64, I64, npt.NDArray[np.bool_]]:
        """Move points onto their nearest street.

        Returns the new ``x, y``; the street (``i`` into ``xs`` for a north-south
        street, ``-1 - j`` for the east-west street ``ys[j]``); the block (cross streets
        between the dividing line and the point, >= 0); and the side (True: north of
        the baseline on a north-south street, east of the meridian on an east-west one).
        """
        i = _nearest(self.xs, x)
        j = _nearest(self.ys, y)
        on_ns = np.abs(x - self.xs[i]) <= np.abs(y - self.ys[j])
        setback = rng.uniform(4.0, 12.0, size=x.size) * rng.choice((-1.0, 1.0), size=x.size)
        new_x = np.where(on_ns, self.xs[i] + setback, x)
        new_y = np.where(on_ns, y, self.ys[j] + setback)
        street = np.where(on_ns, i, -1 - j).astype(np.int64)
        along = np.where(on_ns, new_y, new_x)
        block = np.where(on_ns, _block(self.ys, new_y), _block(self.xs, new_x)).astype(np.int64)
        return new_x, new_y, street, block, np.asarray(along >= 0)

    def addresses(self, street: I64, block: I64, positive: npt.NDArray[np.bool_]) -> list[str]:
        """Block addresses ("1200 N CALVERTON AVE") for the output of `snap`."""
        out: list[str] = []
        for s, b, pos in zip(street.tolist(), block.tolist(), positive.tolist(), strict=True):
            if s >= 0:
                name = self.ns_names[s]
                prefix = ("N " if pos else "S ") if self.ns_prefixed[s] else ""
            else:
                name = self.ew_names[-1 - s]
                prefix = ("E " if pos else "W ") if self.ew_prefixed[-1 - s] else ""
            out.append(f"{b * 100} {prefix}{name}")
        return out


def _nearest(grid: F64, v: F64) -> I64:
    k = np.clip(np.searchsorted(grid, v), 1, grid.size - 1)
    left = grid[k - 1]
    right = grid[k]
    return np.asarray(np.where(np.abs(v - left) <= np.abs(right - v), k - 1, k), dtype=np.int64)


def _block(grid: F64, v: F64) -> I64:
    """Grid lines strictly between the dividing line (0) and v: in (0, v] or [v, 0)."""
    ahead = np.searchsorted(grid, v, side="right") - np.searchsorted(grid, 0.0, side="right")
    behind = np.searchsorted(grid, 0.0, side="left") - np.searchsorted(grid, v, side="left")
    return np.asarray(np.where(v >= 0, ahead, behind), dtype=np.int64)


def build_street_grid(
    rng: np.random.Generator, spacing: float, extent: float, street_words: Sequence[str]
) -> StreetGrid:
    """A grid covering the square [-extent, extent]² (m) with unique street names."""
    xs = _positions(rng, spacing, extent)
    ys = _positions(rng, spacing, extent)
    words = list(street_words)
    rng.shuffle(words)
    n_named = xs.size + int(np.sum(ys <= 0))
    names: list[str] = list(words)
    k = 0
    while len(names) < n_named:  # more streets than words: compose two-word names
        a, b = words[k % len(words)], words[(7 * k + 3) % len(words)]
        if a != b:
            names.append(f"{a} {b}")
        k += 1
    suffix = rng.choice(len(_SUFFIXES), size=n_named, p=np.asarray(_SUFFIX_P))
    full = [f"{names[n]} {_SUFFIXES[suffix[n]]}" for n in range(n_named)]
    ns_names = tuple(full[: xs.size])
    south = iter(full[xs.size :])
    ew: list[str] = []
    zero_y = int(np.searchsorted(ys, 0.0))
    for j in range(ys.size):
        if j > zero_y:
            ew.append(f"{_ordinal(j - zero_y)} ST")
        else:
            ew.append(next(south))
    ns_prefixed = rng.random(xs.size) < 0.65
    ew_prefixed = rng.random(ys.size) < 0.65
    ns_prefixed[int(np.searchsorted(xs, 0.0))] = True
    ew_prefixed[zero_y:] = True  # the baseline and the numbered streets
    return StreetGrid(
        xs=xs,
        ys=ys,
        ns_names=ns_names,
        ew_names=tuple(ew),
        ns_prefixed=ns_prefixed,
        ew_prefixed=ew_prefixed,
    )
