"""From a scenario to the engine's inputs: district geometry, calls and unit tours.

Everything here turns a validated :class:`~.scenario.Scenario` (plus, for replay, a
frame of calls already read) into plain numpy arrays; the only file this module reads
is a GeoJSON district layer (:func:`build_district_map`).

Clock
    Simulation minute 0 is local midnight of the scenario's ``start_date`` in its time
    zone. Local clock times (shift starts, the hourly call profile) are converted with
    the zone's rules, so on the day daylight saving time starts a 23:00 tour starts 60
    minutes "earlier" in simulation minutes than it would by counting wall-clock hours.

Districts (:class:`DistrictMap`)
    Every district is cut into triangles (a square's two, or the constrained Delaunay
    triangulation of a polygon with shapely); a uniform point in a district is a
    triangle drawn by area, then a uniform point in it (the reflection method of
    Osada et al., "Shape distributions", 2002, section 4.2). Each district has 64 fixed
    **beat points**, well spread by a greedy farthest-point order of 512 uniform points
    (:func:`beat_points`, starting nearest the centre: a square's centre, a polygon's
    representative point); unit ``j`` of a shift starts its tour at beat point ``j``, so
    adding a unit adds a post and moves no other (staffing levels stay comparable).

Generated calls (:class:`CallGenerator`)
    A non-homogeneous Poisson process, piecewise constant over local clock hours:
    the expected count of the absolute hour starting at minute ``60 h`` is
    ``per_day x hourly[local hour] / sum(hourly) x weekday[local weekday] /
    mean(weekday)``. Counts are Poisson, times uniform within the hour. Each call
    gets a type (by share), a priority and units needed (the type's mix), an on-scene
    time per unit sent (the type's distribution, else the calibration's table for the
    type, its priority or all calls), a call-taking time and a dispatcher delay, a
    district (by weight) and a uniform position in it.

Replayed calls (:class:`CallReplay`)
    Historical calls keep their received time, type and priority; a recorded
    call-taking or on-scene time is used when usable (present, not negative, below its
    plausibility limit), else drawn like a generated call's. Positions: projected
    coordinates when the layer is a GeoJSON one and the call has them, else uniform in
    the call's district, else (no district, or one the scenario does not know) in a
    district drawn by call volume. Every fallback is counted (:class:`ReplayCounts`).

Tours (:func:`build_fleet`)
    ``staffing[d, s]`` units of district ``d`` work shift ``s`` every day, one tour row
    each, from the day before the start (night tours still on duty at minute 0,
    clipped to start at 0) to the day after the horizon (a cool-down that lets the
    last calls be answered; it is not measured).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import polars as pl
import shapely
from pydantic import BaseModel, ConfigDict
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from smart_policing.data.boundaries import read_crs
from smart_policing.model.calls import INTERVALS
from smart_policing.response.sim.engine import CallStream, Fleet
from smart_policing.response.sim.scenario import (
    Calibration,
    CallTypeSpec,
    Distribution,
    Empirical,
    GenerateCalls,
    Geography,
    GeoJsonLayout,
    ReplayCalls,
    Scenario,
    Shift,
    SyntheticLayout,
)

__all__ = [
    "BEATS_PER_DISTRICT",
    "CALIBRATION_INTERVALS",
    "OTHER_TYPE",
    "CallGenerator",
    "CallReplay",
    "CallTable",
    "DistrictMap",
    "ReplayCounts",
    "beat_points",
    "build_district_map",
    "build_fleet",
    "call_generator",
    "call_replay",
    "horizon_minutes",
    "hour_rates",
    "interval_minutes",
    "replay_window",
    "run_origin",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

BEATS_PER_DISTRICT = 64
"""Beat points per district (tour start positions; unit ``j`` starts at ``j mod 64``)."""

OTHER_TYPE = "(other)"
"""The call type that gathers a calibration's less frequent types when generating."""

_INTERVAL = {iv.name: (iv.start, iv.end, iv.max_seconds) for iv in INTERVALS}
CALIBRATION_INTERVALS: dict[str, tuple[str, str, float]] = {
    "call_to_queue_s": _INTERVAL["call_to_queue_s"],
    "queue_to_dispatch_s": ("queued_at", "dispatched_at", 24 * 3600.0),
    "call_to_dispatch_s": _INTERVAL["call_to_dispatch_s"],
    "dispatch_to_en_route_s": _INTERVAL["dispatch_to_en_route_s"],
    "travel_s": _INTERVAL["travel_s"],
    "dispatch_to_arrival_s": _INTERVAL["dispatch_to_arrival_s"],
    "call_to_arrival_s": _INTERVAL["call_to_arrival_s"],
    "on_scene_s": _INTERVAL["on_scene_s"],
}
"""Recorded intervals replay and calibration read: name -> (start column, end column,
plausibility limit in seconds). ``model.calls.INTERVALS`` plus queued -> dispatched."""


def interval_minutes(frame: pl.DataFrame, name: str) -> tuple[F64, int, int]:
    """One recorded interval of every row in minutes, NaN where unusable; and the counts
    of missing and impossible (negative, or above the limit) values.

    Computed from the two timestamps when the frame has them, else read from the
    derived ``name`` column (seconds).
    """
    start, end, limit = CALIBRATION_INTERVALS[name]
    if start in frame.columns and end in frame.columns:
        expr = (pl.col(end) - pl.col(start)).dt.total_microseconds() / 1e6
        s = frame.select(expr.alias("v"))["v"]
    elif name in frame.columns:
        s = frame[name]
    else:
        return np.full(frame.height, np.nan), frame.height, 0
    v = s.cast(pl.Float64).to_numpy().astype(np.float64)
    missing = np.isnan(v)
    bad = ~missing & ((v < 0) | (v > limit))
    out = v / 60.0
    out[bad] = np.nan
    return out, int(missing.sum()), int(bad.sum())


# ---------------------------------------------------------------- clock


def run_origin(start: date, timezone: str) -> datetime:
    """Simulation minute 0: local midnight of ``start`` (timezone-aware)."""
    return datetime.combine(start, time(0), tzinfo=ZoneInfo(timezone))


def horizon_minutes(scenario: Scenario) -> float:
    """The measured run length in minutes (``horizon_days`` x 1440)."""
    if scenario.horizon_days is None:
        raise ValueError("the scenario has no horizon_days")
    return scenario.horizon_days * 1440.0


def _local_hours(origin: datetime, n_hours: int) -> tuple[I64, I64]:
    """Local hour (0-23) and weekday (0 = Monday) of each absolute hour from ``origin``."""
    tz = origin.tzinfo
    t0 = origin.astimezone(UTC)
    hours = np.empty(n_hours, dtype=np.int64)
    days = np.empty(n_hours, dtype=np.int64)
    for h in range(n_hours):
        local = (t0 + timedelta(hours=h)).astimezone(tz)
        hours[h] = local.hour
        days[h] = local.weekday()
    return hours, days


def hour_rates(
    per_day: float,
    hourly: Sequence[float],
    weekday: Sequence[float],
    origin: datetime,
    n_hours: int,
) -> F64:
    """Expected calls in each absolute hour ``[60 h, 60 h + 60)`` from ``origin``."""
    hw = np.asarray(hourly, dtype=np.float64)
    dw = np.asarray(weekday, dtype=np.float64)
    hw = hw / hw.sum()
    dw = dw / dw.mean()
    local_h, local_d = _local_hours(origin, n_hours)
    return np.asarray(per_day * hw[local_h] * dw[local_d], dtype=np.float64)


# ---------------------------------------------------------------- districts


@dataclass(frozen=True)
class DistrictMap:
    """District geometry in projected metres, ready for sampling and point location.

    ``triangles`` is (n, 3, 2): vertices (x, y) of the triangles that tile the
    districts; ``tri_district`` the district of each. ``polygons`` (GeoJSON layers
    only) locate projected points; ``transformer`` projects WGS84 longitude/latitude
    to the map's metres (None for a synthetic layout, whose coordinates are abstract).
    """

    names: tuple[str, ...]
    centre_x_m: F64
    centre_y_m: F64
    area_km2: F64
    triangles: F64
    tri_district: I64
    polygons: tuple[BaseGeometry, ...] | None = None
    projected_crs: str | None = None
    beat_x_m: F64 = field(default_factory=lambda: np.zeros((0, 0)))
    beat_y_m: F64 = field(default_factory=lambda: np.zeros((0, 0)))

    def with_beats(self, n_beats: int = BEATS_PER_DISTRICT, candidates: int = 512) -> DistrictMap:
        """This map with ``n_beats`` beat points per district (see :func:`beat_points`)."""
        bx = np.empty((len(self.names), n_beats))
        by = np.empty((len(self.names), n_beats))
        rng = np.random.default_rng(0)
        for d in range(len(self.names)):
            px, py = self.sample_points(np.full(candidates, d, dtype=np.int64), rng)
            order = beat_points(px, py, self.centre_x_m[d], self.centre_y_m[d], n_beats)
            bx[d], by[d] = px[order], py[order]
        return replace(self, beat_x_m=bx, beat_y_m=by)

    def sample_points(self, district: I64, rng: np.random.Generator) -> tuple[F64, F64]:
        """Uniform points (metres) in the given districts, one per entry."""
        n = len(district)
        x = np.empty(n, dtype=np.float64)
        y = np.empty(n, dtype=np.float64)
        tri = self.triangles
        v0, v1, v2 = tri[:, 0, :], tri[:, 1, :], tri[:, 2, :]
        areas = 0.5 * np.abs(
            (v1[:, 0] - v0[:, 0]) * (v2[:, 1] - v0[:, 1])
            - (v2[:, 0] - v0[:, 0]) * (v1[:, 1] - v0[:, 1])
        )
        for d in np.unique(district):
            idx = np.flatnonzero(district == d)
            tris = np.flatnonzero(self.tri_district == d)
            w = areas[tris] / areas[tris].sum()
            pick = tris[rng.choice(len(tris), size=len(idx), p=w)]
            r1 = rng.random(len(idx))
            r2 = rng.random(len(idx))
            flip = r1 + r2 > 1.0
            r1[flip] = 1.0 - r1[flip]
            r2[flip] = 1.0 - r2[flip]
            a, b, c = v0[pick], v1[pick], v2[pick]
            x[idx] = a[:, 0] + r1 * (b[:, 0] - a[:, 0]) + r2 * (c[:, 0] - a[:, 0])
            y[idx] = a[:, 1] + r1 * (b[:, 1] - a[:, 1]) + r2 * (c[:, 1] - a[:, 1])
        return x, y

    def locate(self, x: F64, y: F64) -> I64:
        """District index of each projected point (-1 outside every district)."""
        out = np.full(len(x), -1, dtype=np.int64)
        if self.polygons is None:
            raise ValueError("a synthetic layout has no real coordinates to locate")
        for d, poly in enumerate(self.polygons):
            inside = shapely.contains_xy(poly, x, y) & (out < 0)
            out[inside] = d
        return out

    def project_lonlat(self, lon: F64, lat: F64) -> tuple[F64, F64]:
        """WGS84 degrees to the map's metres (GeoJSON layers only)."""
        if self.projected_crs is None:
            raise ValueError("a synthetic layout has no projection")
        t = Transformer.from_crs("EPSG:4326", self.projected_crs, always_xy=True)
        xx, yy = t.transform(lon, lat)
        return np.asarray(xx, dtype=np.float64), np.asarray(yy, dtype=np.float64)


def beat_points(x: F64, y: F64, cx: float, cy: float, k: int) -> npt.NDArray[np.intp]:
    """Indexes of ``k`` well-spread points among candidates ``(x, y)``, in order.

    Greedy farthest-point (maximin) order: first the candidate nearest the centre
    ``(cx, cy)``, then each time the candidate farthest from those already chosen. Any
    prefix of the order is spread over the district, so unit ``j`` of a shift can
    always start at point ``j``: adding a unit adds a post and moves no other.
    """
    n = len(x)
    chosen = [int(np.argmin((x - cx) ** 2 + (y - cy) ** 2))]
    dist = (x - x[chosen[0]]) ** 2 + (y - y[chosen[0]]) ** 2
    while len(chosen) < min(k, n):
        j = int(np.argmax(dist))
        chosen.append(j)
        dist = np.minimum(dist, (x - x[j]) ** 2 + (y - y[j]) ** 2)
    while len(chosen) < k:  # fewer candidates than beats: wrap around
        chosen.append(chosen[len(chosen) % n])
    return np.asarray(chosen, dtype=np.intp)


def _square_map(layout: SyntheticLayout) -> DistrictMap:
    n = len(layout.districts)
    cols = layout.columns or math.ceil(math.sqrt(n))
    sides = np.sqrt(np.asarray([d.area_km2 for d in layout.districts]) * 1e6)
    cell = float(sides.max())
    tris = np.empty((2 * n, 3, 2), dtype=np.float64)
    cx = np.empty(n)
    cy = np.empty(n)
    for i, s in enumerate(sides):
        row, col = divmod(i, cols)
        cx[i] = (col + 0.5) * cell
        cy[i] = -(row + 0.5) * cell  # rows run north to south
        h = s / 2.0
        a = (cx[i] - h, cy[i] - h)
        b = (cx[i] + h, cy[i] - h)
        c = (cx[i] + h, cy[i] + h)
        d = (cx[i] - h, cy[i] + h)
        tris[2 * i] = (a, b, c)
        tris[2 * i + 1] = (a, c, d)
    return DistrictMap(
        names=layout.names,
        centre_x_m=cx,
        centre_y_m=cy,
        area_km2=sides**2 / 1e6,
        triangles=tris,
        tri_district=np.repeat(np.arange(n, dtype=np.int64), 2),
    )


def _geojson_map(layout: GeoJsonLayout) -> DistrictMap:
    path = layout.file
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the district layer: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: not a GeoJSON FeatureCollection")
    target = CRS.from_user_input(layout.projected_crs)
    if not target.is_projected or target.axis_info[0].unit_name not in ("metre", "meter"):
        raise ValueError(f"{layout.projected_crs} is not a projected CRS in metres")
    source = read_crs(doc, layout.crs)
    to_m = Transformer.from_crs(source, target, always_xy=True)
    found: dict[str, list[BaseGeometry]] = {}
    for feature in doc.get("features") or []:
        props = feature.get("properties") or {}
        name = props.get(layout.name_field)
        if name is None or feature.get("geometry") is None:
            continue
        geom = shapely.transform(
            shape(feature["geometry"]),
            lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])),
        )
        found.setdefault(str(name), []).append(shapely.make_valid(geom))
    missing = [d for d in layout.districts if d not in found]
    if missing:
        raise ValueError(
            f"{path}: no feature with {layout.name_field} = {', '.join(map(repr, missing))} "
            f"(found: {', '.join(sorted(found))})"
        )
    polys = tuple(shapely.union_all(found[d]) for d in layout.districts)
    tri_list: list[F64] = []
    tri_d: list[int] = []
    for d, poly in enumerate(polys):
        parts = shapely.get_parts(shapely.constrained_delaunay_triangles(poly))
        for t in parts:
            coords = np.asarray(t.exterior.coords, dtype=np.float64)[:3]
            tri_list.append(coords)
            tri_d.append(d)
    centres = [p.representative_point() for p in polys]
    return DistrictMap(
        names=layout.districts,
        centre_x_m=np.asarray([c.x for c in centres]),
        centre_y_m=np.asarray([c.y for c in centres]),
        area_km2=np.asarray([p.area / 1e6 for p in polys]),
        triangles=np.asarray(tri_list, dtype=np.float64),
        tri_district=np.asarray(tri_d, dtype=np.int64),
        polygons=polys,
        projected_crs=layout.projected_crs,
    )


def build_district_map(geography: Geography) -> DistrictMap:
    """The districts of a scenario in metres (reads the GeoJSON file of a ``geojson`` layer),
    with their beat points.

    Raises ``ValueError`` naming the file for an unreadable layer, a CRS that is not
    projected in metres, or a district missing from the file.
    """
    if isinstance(geography, SyntheticLayout):
        return _square_map(geography).with_beats()
    return _geojson_map(geography).with_beats()


# ---------------------------------------------------------------- calls


@dataclass(frozen=True)
class CallTable:
    """Calls of one replication, richer than the engine's :class:`CallStream`.

    Times in minutes from the run origin: ``received_min`` is when the call was
    received; it enters the dispatch queue ``call_taking_min + dispatch_delay_min``
    later (``queue_min``). Rows are sorted by ``queue_min`` (stream order), so the
    engine's per-call results line up with these rows.
    """

    received_min: F64
    call_taking_min: F64
    dispatch_delay_min: F64
    x_m: F64
    y_m: F64
    district: I64
    priority: I64
    units_needed: I64
    on_scene_min: F64
    call_type: I64
    type_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.received_min)

    @property
    def queue_min(self) -> F64:
        """When each call enters the dispatch queue (minutes)."""
        return self.received_min + self.call_taking_min + self.dispatch_delay_min

    def take(self, index: npt.NDArray[np.intp] | B) -> CallTable:
        """The rows selected by an index array or a boolean mask (in that order)."""
        return CallTable(
            received_min=self.received_min[index],
            call_taking_min=self.call_taking_min[index],
            dispatch_delay_min=self.dispatch_delay_min[index],
            x_m=self.x_m[index],
            y_m=self.y_m[index],
            district=self.district[index],
            priority=self.priority[index],
            units_needed=self.units_needed[index],
            on_scene_min=self.on_scene_min[index],
            call_type=self.call_type[index],
            type_names=self.type_names,
        )

    def subset(self, keep: B) -> CallTable:
        """The calls where ``keep`` is true (order kept): a diversion, a filter."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (len(self),):
            raise ValueError(f"keep must have {len(self)} entries, not {keep.shape}")
        return self.take(keep)

    def sorted(self) -> CallTable:
        """The same calls in stream order (by ``queue_min``, stable)."""
        return self.take(np.argsort(self.queue_min, kind="stable"))

    def to_stream(self) -> CallStream:
        """The engine's input (requires stream order, see :meth:`sorted`)."""
        arrival = self.queue_min
        if len(arrival) > 1 and bool((np.diff(arrival) < 0).any()):
            raise ValueError("calls are not in stream order; call .sorted() first")
        return CallStream(
            arrival_min=arrival,
            x_m=self.x_m,
            y_m=self.y_m,
            district=self.district,
            priority=self.priority,
            units_needed=self.units_needed,
            on_scene_min=self.on_scene_min,
            call_type=self.call_type,
        )


def _mix(v: int | Mapping[int, float]) -> tuple[I64, F64]:
    if isinstance(v, int):
        return np.asarray([v], dtype=np.int64), np.ones(1)
    keys = np.asarray(sorted(v), dtype=np.int64)
    w = np.asarray([v[int(k)] for k in keys], dtype=np.float64)
    return keys, w / w.sum()


def _draw_mix(rng: np.random.Generator, values: I64, probs: F64, size: int) -> I64:
    if len(values) == 1:
        return np.full(size, values[0], dtype=np.int64)
    return values[rng.choice(len(values), size=size, p=probs)]


def _draw_by_type(rng: np.random.Generator, call_type: I64, dists: Sequence[Distribution]) -> F64:
    out = np.empty(len(call_type), dtype=np.float64)
    for t, dist in enumerate(dists):
        idx = np.flatnonzero(call_type == t)
        if len(idx):
            out[idx] = dist.sample(rng, len(idx))
    return out


@dataclass(frozen=True)
class CallGenerator:
    """Generated calls: a Poisson process by local hour, types, districts (picklable).

    ``rates`` holds the expected calls of each absolute hour of the run (see
    :func:`hour_rates`); the per-type arrays are indexed like ``type_names``.
    """

    rates: F64
    type_names: tuple[str, ...]
    type_probs: F64
    priority_values: tuple[I64, ...]
    priority_probs: tuple[F64, ...]
    units_values: tuple[I64, ...]
    units_probs: tuple[F64, ...]
    on_scene: tuple[Distribution, ...]
    call_taking: Distribution
    dispatch_delay: Distribution
    district_probs: F64
    districts: DistrictMap

    def draw(self, rng: np.random.Generator) -> CallTable:
        """One replication's calls, in stream order."""
        counts = rng.poisson(self.rates)
        n = int(counts.sum())
        hour = np.repeat(np.arange(len(self.rates), dtype=np.float64), counts)
        received = np.sort(60.0 * (hour + rng.random(n)))
        call_type = rng.choice(len(self.type_names), size=n, p=self.type_probs).astype(np.int64)
        priority = np.empty(n, dtype=np.int64)
        units = np.empty(n, dtype=np.int64)
        for t in range(len(self.type_names)):
            idx = np.flatnonzero(call_type == t)
            priority[idx] = _draw_mix(
                rng, self.priority_values[t], self.priority_probs[t], len(idx)
            )
            units[idx] = _draw_mix(rng, self.units_values[t], self.units_probs[t], len(idx))
        on_scene = _draw_by_type(rng, call_type, self.on_scene)
        district = rng.choice(len(self.district_probs), size=n, p=self.district_probs).astype(
            np.int64
        )
        x, y = self.districts.sample_points(district, rng)
        return CallTable(
            received_min=received,
            call_taking_min=self.call_taking.sample(rng, n),
            dispatch_delay_min=self.dispatch_delay.sample(rng, n),
            x_m=x,
            y_m=y,
            district=district,
            priority=priority,
            units_needed=units,
            on_scene_min=on_scene,
            call_type=call_type,
            type_names=self.type_names,
        ).sorted()


def _on_scene_for(
    name: str, priority: int, own: Distribution | None, calibration: Calibration | None
) -> Distribution:
    if own is not None:
        return own
    found = calibration.on_scene.lookup(name, priority) if calibration is not None else None
    if found is None:
        raise ValueError(
            f"no on-scene time for call type {name!r} (priority {priority}): give the type "
            "an on_scene distribution or a calibration file with data for it"
        )
    return found


def _types_from_calibration(cal: Calibration, max_types: int) -> tuple[CallTypeSpec, ...]:
    kept = [t for t in cal.types if t.n > 0][:max_types]
    rest = [t for t in cal.types if t.n > 0][max_types:]
    specs = [CallTypeSpec(name=t.code, share=t.share, priority=t.priority_mix) for t in kept]
    if rest:
        mix: dict[int, float] = {}
        for t in rest:
            for p, w in t.priority_mix.items():
                mix[p] = mix.get(p, 0.0) + w * t.n
        specs.append(CallTypeSpec(name=OTHER_TYPE, share=sum(t.share for t in rest), priority=mix))
    return tuple(specs)


def _modal(v: int | Mapping[int, float]) -> int:
    return v if isinstance(v, int) else max(v, key=lambda k: (v[k], -k))


def call_generator(
    scenario: Scenario,
    districts: DistrictMap,
    calibration: Calibration | None = None,
) -> CallGenerator:
    """The generator of a ``generate`` scenario (profiles and types filled from the
    calibration where the scenario leaves them out)."""
    spec = scenario.calls
    if not isinstance(spec, GenerateCalls):
        raise TypeError("call_generator needs a scenario with calls.mode: generate")
    per_day = spec.per_day
    hourly = spec.hourly_profile
    weekday = spec.weekday_profile
    types = spec.types
    if calibration is not None:
        per_day = per_day if per_day is not None else calibration.calls_per_day
        hourly = hourly or calibration.hourly_profile
        weekday = weekday or calibration.weekday_profile
        types = types or _types_from_calibration(calibration, spec.max_types)
    if per_day is None or hourly is None or weekday is None or types is None:
        raise ValueError("the scenario leaves call fields to a calibration file it does not name")
    assert scenario.start_date is not None
    origin = run_origin(scenario.start_date, scenario.timezone)
    n_hours = math.ceil(horizon_minutes(scenario) / 60.0)
    rates = hour_rates(per_day, hourly, weekday, origin, n_hours)
    rates[-1] *= (horizon_minutes(scenario) / 60.0 - (n_hours - 1)) or 1.0
    shares = np.asarray([t.share for t in types], dtype=np.float64)
    pv, pp, uv, up = [], [], [], []
    for t in types:
        a, b = _mix(t.priority)
        pv.append(a)
        pp.append(b)
        a, b = _mix(t.units_needed)
        uv.append(a)
        up.append(b)
    on_scene = tuple(
        _on_scene_for(t.name, _modal(t.priority), t.on_scene, calibration) for t in types
    )
    if spec.district_weights is not None:
        w = np.asarray([spec.district_weights.get(d, 0.0) for d in districts.names])
        if w.sum() <= 0:
            raise ValueError("district_weights must give some district a positive weight")
    else:
        w = districts.area_km2.copy()
    return CallGenerator(
        rates=rates,
        type_names=tuple(t.name for t in types),
        type_probs=shares / shares.sum(),
        priority_values=tuple(pv),
        priority_probs=tuple(pp),
        units_values=tuple(uv),
        units_probs=tuple(up),
        on_scene=on_scene,
        call_taking=scenario.call_taking,
        dispatch_delay=scenario.dispatch_delay,
        district_probs=w / w.sum(),
        districts=districts,
    )


# ---------------------------------------------------------------- replay


class ReplayCounts(BaseModel):
    """What a replay did with the rows it was given (counts of calls)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: int = 0
    other_agency: int = 0
    officer_initiated: int = 0
    outside_window: int = 0
    replayed: int = 0
    filtered_out: int = 0
    priority_defaulted: int = 0
    position_from_coordinates: int = 0
    coordinates_outside_districts: int = 0
    coordinates_ignored: int = 0
    position_drawn_in_district: int = 0
    district_missing_drawn: int = 0
    district_unknown_drawn: int = 0
    district_from_coordinates: int = 0
    call_taking_recorded: int = 0
    call_taking_drawn: int = 0
    on_scene_recorded: int = 0
    on_scene_drawn: int = 0


@dataclass(frozen=True)
class CallReplay:
    """Historical calls ready to replay (picklable); :meth:`draw` fills the gaps.

    NaN in ``call_taking_min`` / ``on_scene_min`` / ``x_m`` means "draw it"; -1 in
    ``district`` means "draw a district by ``district_probs``".
    """

    received_min: F64
    call_taking_min: F64
    on_scene_min: F64
    x_m: F64
    y_m: F64
    district: I64
    priority: I64
    units_needed: I64
    call_type: I64
    type_names: tuple[str, ...]
    on_scene_fallback: tuple[Distribution, ...]
    call_taking: Distribution
    dispatch_delay: Distribution
    district_probs: F64
    districts: DistrictMap
    counts: ReplayCounts = field(default_factory=ReplayCounts)

    def draw(self, rng: np.random.Generator) -> CallTable:
        """One replication's calls: recorded values kept, the gaps drawn from ``rng``."""
        n = len(self.received_min)
        district = self.district.copy()
        missing = district < 0
        if missing.any():
            district[missing] = rng.choice(
                len(self.district_probs), size=int(missing.sum()), p=self.district_probs
            )
        x, y = self.x_m.copy(), self.y_m.copy()
        nopos = np.isnan(x)
        if nopos.any():
            x[nopos], y[nopos] = self.districts.sample_points(district[nopos], rng)
        ct = self.call_taking_min.copy()
        gap = np.isnan(ct)
        ct[gap] = self.call_taking.sample(rng, int(gap.sum()))
        os_ = self.on_scene_min.copy()
        gap = np.isnan(os_)
        if gap.any():
            os_[gap] = _draw_by_type(rng, self.call_type[gap], self.on_scene_fallback)
        return CallTable(
            received_min=self.received_min,
            call_taking_min=ct,
            dispatch_delay_min=self.dispatch_delay.sample(rng, n),
            x_m=x,
            y_m=y,
            district=district,
            priority=self.priority,
            units_needed=self.units_needed,
            on_scene_min=os_,
            call_type=self.call_type,
            type_names=self.type_names,
        ).sorted()

    def with_calls(self, keep: B) -> CallReplay:
        """Only the calls where ``keep`` is true (e.g. those a triage pack keeps on patrol)."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != self.received_min.shape:
            raise ValueError(f"keep must have {len(self.received_min)} entries")
        return replace(
            self,
            received_min=self.received_min[keep],
            call_taking_min=self.call_taking_min[keep],
            on_scene_min=self.on_scene_min[keep],
            x_m=self.x_m[keep],
            y_m=self.y_m[keep],
            district=self.district[keep],
            priority=self.priority[keep],
            units_needed=self.units_needed[keep],
            call_type=self.call_type[keep],
            counts=self.counts.model_copy(
                update={
                    "replayed": int(keep.sum()),
                    "filtered_out": self.counts.filtered_out + int((~keep).sum()),
                }
            ),
        )


def replay_window(frame: pl.DataFrame, scenario: Scenario) -> tuple[date, float]:
    """The replay's start date and horizon (days): the scenario's, else the calls' span."""
    if scenario.start_date is not None and scenario.horizon_days is not None:
        return scenario.start_date, scenario.horizon_days
    if frame.height == 0:
        raise ValueError("no calls to replay")
    tz = ZoneInfo(scenario.timezone)
    received = frame["received_at"]
    first = received.min()
    last = received.max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    start = scenario.start_date or first.astimezone(tz).date()
    if scenario.horizon_days is not None:
        return start, scenario.horizon_days
    end_day = last.astimezone(tz).date() + timedelta(days=1)
    origin = run_origin(start, scenario.timezone)
    days = (run_origin(end_day, scenario.timezone) - origin).total_seconds() / 86400.0
    return start, days


def call_replay(
    frame: pl.DataFrame,
    scenario: Scenario,
    districts: DistrictMap,
    calibration: Calibration | None = None,
) -> CallReplay:
    """Historical calls (canonical call columns, as ``read_calls_file`` or ``load_calls``
    return them) prepared for replay in ``scenario``'s window.

    The window is ``start_date`` + ``horizon_days`` when the scenario gives them, else
    the local days the calls span. Raises ``ValueError`` when no on-scene fallback can
    be found for a call type that needs one.
    """
    spec = scenario.calls
    if not isinstance(spec, ReplayCalls):
        raise TypeError("call_replay needs a scenario with calls.mode: replay")
    rows = frame.height
    f = frame
    other_agency = 0
    if spec.agency is not None and "agency" in f.columns:
        keep = f["agency"].fill_null("") == spec.agency
        other_agency = int((~keep).sum())
        f = f.filter(keep)
    oi = 0
    if not spec.include_officer_initiated:
        is_oi = pl.lit(False)
        if "source_channel" in f.columns:
            is_oi = is_oi | (pl.col("source_channel").fill_null("") == "officer_initiated")
        if "self_initiated" in f.columns:
            is_oi = is_oi | pl.col("self_initiated").fill_null(False)
        mask = f.select(is_oi.alias("m"))["m"]
        oi = int(mask.sum())
        f = f.filter(~mask)
    start, days = replay_window(f, scenario)
    origin = run_origin(start, scenario.timezone)
    received = (
        f["received_at"].dt.epoch("us").cast(pl.Float64) / 6e7
    ).to_numpy() - origin.timestamp() / 60.0
    inside = (received >= 0) & (received < days * 1440.0)
    outside = int((~inside).sum())
    f = f.filter(pl.Series(inside))
    received = received[inside]
    order = np.argsort(received, kind="stable")
    f = f[order]
    received = received[order]
    n = f.height

    codes = f["call_type_code"].fill_null("(missing)").cast(pl.String)
    type_names = tuple(sorted(set(codes.to_list())))
    type_index = {t: i for i, t in enumerate(type_names)}
    call_type = np.asarray([type_index[c] for c in codes.to_list()], dtype=np.int64)
    prio_raw = f["priority"].cast(pl.Int64) if "priority" in f.columns else pl.Series([None] * n)
    priority = prio_raw.fill_null(spec.default_priority).to_numpy().astype(np.int64)
    priority_defaulted = int(prio_raw.is_null().sum())
    priority[priority < 1] = spec.default_priority

    units = np.asarray(
        [spec.units_needed_by_type.get(c, spec.units_needed) for c in codes.to_list()],
        dtype=np.int64,
    )

    # districts
    name_index = {d: i for i, d in enumerate(districts.names)}
    upper_index = {d.upper(): i for i, d in enumerate(districts.names)}
    raw_d = f["district"].to_list() if "district" in f.columns else [None] * n
    district = np.full(n, -1, dtype=np.int64)
    unknown = np.zeros(n, dtype=bool)
    for i, d in enumerate(raw_d):
        if d is None or d == "":
            continue
        j = name_index.get(d, upper_index.get(str(d).upper()))
        if j is None:
            unknown[i] = True
        else:
            district[i] = j

    # positions
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    has_ll = np.zeros(n, dtype=bool)
    if "latitude" in f.columns and "longitude" in f.columns:
        lat = f["latitude"].cast(pl.Float64).to_numpy().astype(np.float64)
        lon = f["longitude"].cast(pl.Float64).to_numpy().astype(np.float64)
        has_ll = ~np.isnan(lat) & ~np.isnan(lon)
    from_coords = located = outside_d = ignored = 0
    if has_ll.any():
        if districts.polygons is None:
            ignored = int(has_ll.sum())
        else:
            px, py = districts.project_lonlat(lon[has_ll], lat[has_ll])
            where = districts.locate(px, py)
            idx = np.flatnonzero(has_ll)
            ok = where >= 0
            outside_d = int((~ok).sum())
            x[idx[ok]] = px[ok]
            y[idx[ok]] = py[ok]
            fill = idx[ok & (district[idx] < 0)]
            located = len(fill)
            district[fill] = where[ok & (district[idx] < 0)]
            from_coords = int(ok.sum())
    no_district = district < 0
    missing_drawn = int((no_district & ~unknown).sum())
    unknown_drawn = int((no_district & unknown).sum())
    drawn_in_district = int((np.isnan(x) & ~no_district).sum())
    if (~no_district).any():
        vol = np.bincount(district[~no_district], minlength=len(districts.names)).astype(float)
    else:
        vol = districts.area_km2.copy()

    ct, _, _ = interval_minutes(f, "call_to_queue_s")
    if not spec.use_recorded_call_taking:
        ct[:] = np.nan
    os_, _, _ = interval_minutes(f, "on_scene_s")
    if not spec.use_recorded_on_scene:
        os_[:] = np.nan
    # the fallback on-scene distribution of each type: its modal priority decides
    fallback: list[Distribution] = []
    for t, name in enumerate(type_names):
        mask = call_type == t
        needs = bool(np.isnan(os_[mask]).any())
        prios = priority[mask]
        modal = int(np.bincount(prios).argmax()) if len(prios) else spec.default_priority
        if needs:
            fallback.append(_on_scene_for(name, modal, None, calibration))
        else:
            fallback.append(Empirical(quantiles=(0.0, 0.0)))  # never drawn
    counts = ReplayCounts(
        rows=rows,
        other_agency=other_agency,
        officer_initiated=oi,
        outside_window=outside,
        replayed=n,
        priority_defaulted=priority_defaulted,
        position_from_coordinates=from_coords,
        coordinates_outside_districts=outside_d,
        coordinates_ignored=ignored,
        position_drawn_in_district=drawn_in_district,
        district_missing_drawn=missing_drawn,
        district_unknown_drawn=unknown_drawn,
        district_from_coordinates=located,
        call_taking_recorded=int((~np.isnan(ct)).sum()),
        call_taking_drawn=int(np.isnan(ct).sum()),
        on_scene_recorded=int((~np.isnan(os_)).sum()),
        on_scene_drawn=int(np.isnan(os_).sum()),
    )
    return CallReplay(
        received_min=received,
        call_taking_min=ct,
        on_scene_min=os_,
        x_m=x,
        y_m=y,
        district=district,
        priority=priority,
        units_needed=units,
        call_type=call_type,
        type_names=type_names,
        on_scene_fallback=tuple(fallback),
        call_taking=scenario.call_taking,
        dispatch_delay=scenario.dispatch_delay,
        district_probs=vol / vol.sum(),
        districts=districts,
        counts=counts,
    )


# ---------------------------------------------------------------- tours


def build_fleet(
    staffing: I64,
    shifts: Sequence[Shift],
    districts: DistrictMap,
    *,
    start: date,
    timezone: str,
    horizon_days: float,
    cooldown_days: float = 1.0,
) -> Fleet:
    """Unit tours: ``staffing[d, s]`` rows per day for district ``d`` and shift ``s``.

    Tours run from the day before ``start`` (clipped to start at minute 0) until
    ``cooldown_days`` after the horizon. Tour rows are ordered by start time, then
    district, then shift. Unit ``j`` of a district and shift starts at the district's
    beat point ``j`` (metres; the centre when the map has no beat points).
    """
    staffing = np.asarray(staffing, dtype=np.int64)
    n_d, n_s = staffing.shape
    if n_d != len(districts.names) or n_s != len(shifts):
        raise ValueError(f"staffing is {staffing.shape}, expected ({len(districts.names)}, {n_s})")
    tz = ZoneInfo(timezone)
    origin = run_origin(start, timezone).timestamp()
    end_min = (horizon_days + cooldown_days) * 1440.0
    starts: list[float] = []
    ends: list[float] = []
    shift_of: list[int] = []
    for day in range(-1, math.ceil(horizon_days + cooldown_days) + 1):
        d = start + timedelta(days=day)
        for s, sh in enumerate(shifts):
            local = datetime.combine(d, time(sh.start_minute // 60, sh.start_minute % 60), tz)
            t0 = (local.timestamp() - origin) / 60.0
            t1 = t0 + sh.hours * 60.0
            if t1 <= 0 or t0 >= end_min:
                continue
            starts.append(max(t0, 0.0))
            ends.append(t1)
            shift_of.append(s)
    st = np.asarray(starts)
    en = np.asarray(ends)
    sh_ = np.asarray(shift_of, dtype=np.int64)
    # rows: every (tour slot, district) repeated by the units on duty
    slot = np.repeat(np.arange(len(st)), n_d)
    dist = np.tile(np.arange(n_d, dtype=np.int64), len(st))
    reps = staffing[dist, sh_[slot]]
    slot = np.repeat(slot, reps)
    dist = np.repeat(dist, reps)
    # unit j of a (tour slot, district) group starts at the district's beat point j
    group = slot * n_d + dist
    first = np.searchsorted(group, group, side="left")
    j = np.arange(len(group)) - first
    order = np.lexsort((sh_[slot], dist, st[slot]))
    slot, dist, j = slot[order], dist[order], j[order]
    if districts.beat_x_m.shape[1:] == (0,) or districts.beat_x_m.size == 0:
        hx, hy = districts.centre_x_m[dist], districts.centre_y_m[dist]
    else:
        k = j % districts.beat_x_m.shape[1]
        hx, hy = districts.beat_x_m[dist, k], districts.beat_y_m[dist, k]
    return Fleet(
        district=dist,
        shift=sh_[slot],
        start_min=st[slot],
        end_min=en[slot],
        home_x_m=np.asarray(hx, dtype=np.float64),
        home_y_m=np.asarray(hy, dtype=np.float64),
    )
