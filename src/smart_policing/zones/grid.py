"""The prediction grid: square cells over a bounding box in projected metres, masked to a city.

A hot-spot forecast is a *risk surface*: one number per grid cell. The grid is a
bounding box in a projected CRS (for Baltimore, Maryland State Plane, EPSG:26985,
metres) cut into ``nx`` x ``ny`` square cells of side ``cell_m`` metres; the *mask*
marks the cells whose centre lies inside the city polygon. Cells outside the mask are
never ranked, selected or counted: surfaces hold ``NaN`` there.

Arrays over the grid have shape ``(ny, nx)``: row ``r`` is the ``r``-th band of cells
from the south (``y0 + r * cell_m`` to ``y0 + (r + 1) * cell_m``), column ``c`` the
``c``-th from the west. The flat (row-major) index ``r * nx + c`` is the tie-breaking
order used by the scoring functions in :mod:`smart_policing.zones.backtest`.

Every cell counts as ``cell_m**2`` square metres of city; a cell on the boundary whose
centre is inside counts whole (the area share of a set of cells is its cell count over
the mask's cell count). With 150 m cells this differs from the exact polygon area by
well under 1% for Baltimore.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

__all__ = ["Grid"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Grid:
    """Square cells over a bounding box (metres, projected CRS), masked to a city.

    Parameters
    ----------
    x0, y0 : float
        South-west corner of the box, metres.
    cell_m : float
        Side of a cell, metres (> 0).
    nx, ny : int
        Columns (west to east) and rows (south to north), each >= 1.
    mask : ndarray of bool, shape (ny, nx)
        True for cells inside the city.
    """

    x0: float
    y0: float
    cell_m: float
    nx: int
    ny: int
    mask: B

    def __post_init__(self) -> None:
        if not self.cell_m > 0:
            raise ValueError(f"cell_m must be > 0 metres, got {self.cell_m!r}")
        if self.nx < 1 or self.ny < 1:
            raise ValueError(f"nx and ny must be >= 1, got nx={self.nx}, ny={self.ny}")
        if self.mask.shape != (self.ny, self.nx) or self.mask.dtype != np.bool_:
            raise ValueError(
                f"mask must be a bool array of shape (ny, nx)=({self.ny}, {self.nx}), "
                f"got {self.mask.dtype} {self.mask.shape}"
            )

    @classmethod
    def from_bounds(cls, xmin: float, ymin: float, xmax: float, ymax: float, cell_m: float) -> Grid:
        """All cells of the box ``[xmin, xmax] x [ymin, ymax]`` (metres), none masked out.

        The box is widened east and north to a whole number of cells.
        """
        if not (xmax > xmin and ymax > ymin):
            raise ValueError("the box must have xmax > xmin and ymax > ymin")
        nx = max(1, int(np.ceil((xmax - xmin) / cell_m - 1e-9)))
        ny = max(1, int(np.ceil((ymax - ymin) / cell_m - 1e-9)))
        return cls(float(xmin), float(ymin), float(cell_m), nx, ny, np.ones((ny, nx), bool))

    @classmethod
    def from_polygon(cls, city: shapely.Geometry, cell_m: float) -> Grid:
        """Cells of ``city``'s bounding box, masked to those whose centre is inside it.

        ``city`` must be in a projected CRS in metres (e.g. EPSG:26985).
        """
        xmin, ymin, xmax, ymax = shapely.bounds(city)
        box = cls.from_bounds(xmin, ymin, xmax, ymax, cell_m)
        cx, cy = box.centres()
        inside = shapely.contains_xy(city, cx.ravel(), cy.ravel()).reshape(box.ny, box.nx)
        return cls(box.x0, box.y0, box.cell_m, box.nx, box.ny, np.asarray(inside, bool))

    @property
    def n_cells(self) -> int:
        """Cells inside the city (the mask's True count)."""
        return int(self.mask.sum())

    def centres(self) -> tuple[F64, F64]:
        """Cell-centre coordinates ``(x, y)`` in metres, each of shape ``(ny, nx)``."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell_m
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell_m
        gx, gy = np.meshgrid(xs, ys)
        return gx, gy

    def cell_index(self, x: F64, y: F64) -> I64:
        """Flat (row-major) cell index of each point; -1 for points outside the box."""
        col = np.floor((np.asarray(x, float) - self.x0) / self.cell_m)
        row = np.floor((np.asarray(y, float) - self.y0) / self.cell_m)
        ok = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        out = np.full(col.shape, -1, np.int64)
        out[ok] = row[ok].astype(np.int64) * self.nx + col[ok].astype(np.int64)
        return out

    def counts(self, x: F64, y: F64, weights: F64 | None = None) -> F64:
        """Points (or their weights) summed per cell, shape ``(ny, nx)``; outside the box dropped.

        Cells outside the mask keep their counts (the caller masks); use
        :meth:`masked` to set them to ``NaN``.
        """
        idx = self.cell_index(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, float)[ok]
        flat = np.bincount(idx[ok], weights=w, minlength=self.nx * self.ny)
        return flat.astype(float).reshape(self.ny, self.nx)

    def masked(self, values: F64) -> F64:
        """A copy of ``values`` (shape ``(ny, nx)``) with ``NaN`` outside the city."""
        out = np.array(values, dtype=float, copy=True)
        out[~self.mask] = np.nan
        return out
