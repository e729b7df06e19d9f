"""Generate a whole synthetic city (`generate_city`) or just CAD calls (`generate_cad_calls`).

All randomness comes from one ``numpy.random.SeedSequence(params.seed)`` whose
spawned children feed, in this fixed order: geography, hot spots, incidents, calls
raised by incidents, call sites and staff, and one child per 91-day chunk of calls.
Same parameters, same bytes; `generate_cad_calls` with seed ``s`` uses the same city
(geography, hot spots, call sites, staff) as ``generate_city(CityParams(seed=s))``.

Calls are simulated and written in chunks of 91 days, so memory stays flat however
long the history (or however many calls `generate_cad_calls` is asked for).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from shapely.geometry import mapping

from smart_policing.data.synth.cad_export import Numbering, call_frame
from smart_policing.data.synth.calls import (
    ANOMALY_KINDS,
    CallContext,
    background_rates,
    build_call_context,
    simulate_calls,
)
from smart_policing.data.synth.geography import DISTRICT_NAMES, Area, Geography, build_geography
from smart_policing.data.synth.incidents import generate_incidents, linked_calls, part1_frame
from smart_policing.data.synth.params import CityParams
from smart_policing.data.synth.spatial import SpatialModel, build_spatial_model
from smart_policing.data.synth.tables import AGENCIES, load_call_types, load_crime_types
from smart_policing.data.synth.temporal import DAY_MS, DstGaps, day_number

__all__ = ["CityManifest", "generate_cad_calls", "generate_city"]

Progress = Callable[[str, float], None]
I64 = npt.NDArray[np.int64]

PART1_FILE = "part1_crime.csv"
CAD_FILE = "cad_calls.csv"
DISTRICTS_FILE = "districts.geojson"
BEATS_FILE = "beats.geojson"
NEIGHBORHOODS_FILE = "neighborhoods.geojson"
MANIFEST_FILE = "manifest.json"
MANIFEST_SCHEMA = 1
_CHUNK_DAYS = 91
_CRS84 = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}


@dataclass(frozen=True)
class CityManifest:
    """What `generate_city` wrote: paths, row counts, parameters and date range.

    ``anomaly_rows`` maps each injected CAD data problem (``arrival_before_dispatch``,
    ``extreme_duration``, ``blank_incident_number``) to the 1-based data-row numbers
    (header not counted) of ``cad_csv`` that carry it.
    """

    out_dir: Path
    part1_csv: Path
    cad_csv: Path
    districts_geojson: Path
    beats_geojson: Path
    neighborhoods_geojson: Path
    manifest_json: Path
    part1_rows: int
    part1_incidents: int
    cad_rows: int
    cad_calls_from_incidents: int
    districts: int
    beats: int
    neighborhoods: int
    start_date: date
    end_date: date
    params: CityParams
    anomaly_rows: Mapping[str, tuple[int, ...]] = field(hash=False)

    def to_json(self) -> dict[str, Any]:
        """The manifest.json document (file names relative to ``out_dir``)."""
        return {
            "schema_version": MANIFEST_SCHEMA,
            "generator": "smart_policing.data.synth",
            "city_name": self.params.city_name,
            "timezone": self.params.timezone,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat(),
            "files": {
                "part1_csv": self.part1_csv.name,
                "cad_csv": self.cad_csv.name,
                "districts_geojson": self.districts_geojson.name,
                "beats_geojson": self.beats_geojson.name,
                "neighborhoods_geojson": self.neighborhoods_geojson.name,
            },
            "counts": {
                "part1_rows": self.part1_rows,
                "part1_incidents": self.part1_incidents,
                "cad_rows": self.cad_rows,
                "cad_calls_from_incidents": self.cad_calls_from_incidents,
                "districts": self.districts,
                "beats": self.beats,
                "neighborhoods": self.neighborhoods,
            },
            "anomaly_rows": {k: list(v) for k, v in self.anomaly_rows.items()},
            "params": self.params.model_dump(mode="json"),
        }

    @classmethod
    def read(cls, path: Path) -> CityManifest:
        """Read a manifest.json written by `generate_city`."""
        path = Path(path)
        doc = json.loads(path.read_text("utf-8"))
        if doc.get("schema_version") != MANIFEST_SCHEMA:
            raise ValueError(f"{path}: unsupported manifest schema_version")
        out = path.parent
        files = doc["files"]
        counts = doc["counts"]
        return cls(
            out_dir=out,
            part1_csv=out / files["part1_csv"],
            cad_csv=out / files["cad_csv"],
            districts_geojson=out / files["districts_geojson"],
            beats_geojson=out / files["beats_geojson"],
            neighborhoods_geojson=out / files["neighborhoods_geojson"],
            manifest_json=path,
            part1_rows=int(counts["part1_rows"]),
            part1_incidents=int(counts["part1_incidents"]),
            cad_rows=int(counts["cad_rows"]),
            cad_calls_from_incidents=int(counts["cad_calls_from_incidents"]),
            districts=int(counts["districts"]),
            beats=int(counts["beats"]),
            neighborhoods=int(counts["neighborhoods"]),
            start_date=date.fromisoformat(doc["start_date"]),
            end_date=date.fromisoformat(doc["end_date"]),
            params=CityParams.model_validate(doc["params"]),
            anomaly_rows={k: tuple(int(r) for r in v) for k, v in doc["anomaly_rows"].items()},
        )


@dataclass(frozen=True)
class _City:
    geography: Geography
    spatial: SpatialModel
    calls: CallContext
    incident_seed: np.random.SeedSequence
    linked_seed: np.random.SeedSequence
    chunk_seed: np.random.SeedSequence


def _build(params: CityParams) -> _City:
    geo_s, spot_s, inc_s, link_s, ctx_s, chunk_s = np.random.SeedSequence(params.seed).spawn(6)
    geography = build_geography(params, np.random.default_rng(geo_s))
    spatial = build_spatial_model(params, geography, np.random.default_rng(spot_s))
    ctx = build_call_context(params, spatial, load_call_types(), np.random.default_rng(ctx_s))
    return _City(geography, spatial, ctx, inc_s, link_s, chunk_s)


def _feature_collection(features: list[dict[str, Any]]) -> str:
    doc = {"type": "FeatureCollection", "crs": _CRS84, "features": features}
    return json.dumps(doc, separators=(",", ":")) + "\n"


def _feature(properties: dict[str, Any], geometry: Area) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": mapping(geometry)}


def _write_boundaries(geo: Geography, out: Path) -> None:
    districts = [
        _feature({"number": i + 1, "name": DISTRICT_NAMES[i]}, g)
        for i, g in enumerate(geo.districts_ll)
    ]
    beats = [
        _feature(
            {"post": str(int(geo.beat_posts[i])), "district": DISTRICT_NAMES[geo.beat_district[i]]},
            g,
        )
        for i, g in enumerate(geo.beats_ll)
    ]
    nbhds = [
        _feature({"name": geo.neighborhood_names[i]}, g) for i, g in enumerate(geo.neighborhoods_ll)
    ]
    (out / DISTRICTS_FILE).write_text(_feature_collection(districts), "utf-8")
    (out / BEATS_FILE).write_text(_feature_collection(beats), "utf-8")
    (out / NEIGHBORHOODS_FILE).write_text(_feature_collection(nbhds), "utf-8")


def _chunks(first_day: int, n_days: int) -> list[I64]:
    return [
        np.arange(d, min(d + _CHUNK_DAYS, first_day + n_days), dtype=np.int64)
        for d in range(first_day, first_day + n_days, _CHUNK_DAYS)
    ]


def _write_chunk(fh: IO[bytes], frame_rows: Any, first: bool) -> None:
    frame_rows.write_csv(fh, include_header=first)


def generate_city(
    params: CityParams, out_dir: Path, progress: Progress | None = None
) -> CityManifest:
    """Write a synthetic city to ``out_dir`` (created if needed) and return its manifest.

    Files: ``part1_crime.csv`` (Open Baltimore Part 1 format), ``cad_calls.csv`` (the
    real CAD export's 50 columns + Primary_Unit, Address, Latitude, Longitude,
    District, Beat), ``districts.geojson``, ``beats.geojson``,
    ``neighborhoods.geojson`` and ``manifest.json``. ``progress(stage, fraction)``
    is called as work advances (fraction from 0 to 1).
    """

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report("geography", 0.0)
    city = _build(params)
    geo = city.geography
    first_day = day_number(params.start_date)
    gaps = DstGaps(params.timezone, first_day, params.n_days)
    t_end = (first_day + params.n_days) * DAY_MS

    report("incidents", 0.1)
    crimes = load_crime_types()
    inc = generate_incidents(
        params, crimes, city.spatial, gaps, np.random.default_rng(city.incident_seed)
    )
    part1 = part1_frame(inc, crimes, geo.beat_posts, geo.neighborhood_names)
    part1.write_csv(out / PART1_FILE)
    linked = linked_calls(
        inc, crimes, city.calls.table, gaps, np.random.default_rng(city.linked_seed), t_end
    )

    report("calls", 0.25)
    linked_agency = city.calls.agency[linked.call_type]
    rates = background_rates(
        city.calls.table,
        params.calls_per_day,
        {a: float(np.sum(linked_agency == i)) / params.n_days for i, a in enumerate(AGENCIES)},
    )
    linked_day = np.floor_divide(linked.start, DAY_MS)
    numbering = Numbering()
    chunks = _chunks(first_day, params.n_days)
    seeds = city.chunk_seed.spawn(len(chunks))
    with (out / CAD_FILE).open("wb") as fh:
        for k, (days, seed) in enumerate(zip(chunks, seeds, strict=True)):
            sel = np.flatnonzero((linked_day >= days[0]) & (linked_day <= days[-1]))
            batch = simulate_calls(
                city.calls,
                np.random.default_rng(seed),
                days,
                rates,
                gaps,
                linked.start[sel],
                linked.call_type[sel],
                linked.places.take(sel),
            )
            _write_chunk(fh, call_frame(city.calls, batch, numbering), k == 0)
            report("calls", 0.25 + 0.7 * (k + 1) / len(chunks))

    report("boundaries", 0.95)
    _write_boundaries(geo, out)
    manifest = CityManifest(
        out_dir=out,
        part1_csv=out / PART1_FILE,
        cad_csv=out / CAD_FILE,
        districts_geojson=out / DISTRICTS_FILE,
        beats_geojson=out / BEATS_FILE,
        neighborhoods_geojson=out / NEIGHBORHOODS_FILE,
        manifest_json=out / MANIFEST_FILE,
        part1_rows=part1.height,
        part1_incidents=len(inc),
        cad_rows=numbering.rows,
        cad_calls_from_incidents=int(linked.start.size),
        districts=len(geo.districts_ll),
        beats=len(geo.beats_ll),
        neighborhoods=len(geo.neighborhoods_ll),
        start_date=params.start_date,
        end_date=params.end_date,
        params=params,
        anomaly_rows={k: tuple(numbering.anomalies[k]) for k in ANOMALY_KINDS},
    )
    manifest.manifest_json.write_text(
        json.dumps(manifest.to_json(), indent=2, sort_keys=True) + "\n", "utf-8"
    )
    report("done", 1.0)
    return manifest


def generate_cad_calls(
    n_calls: int, seed: int = 0, start: date = date(2024, 1, 1), path: Path | None = None
) -> Path:
    """Write exactly ``n_calls`` CAD rows from ``start`` on and return the file's path.

    The fast path for benchmarks: the city of ``CityParams(seed=seed)``, background
    calls only (no Part 1 incidents), ``calls_per_day`` = 600, simulated and written
    91 days at a time. Without ``path`` the file goes to the system temporary
    directory as ``synthetic_cad_<n_calls>_seed<seed>.csv``.
    """
    if n_calls < 0:
        raise ValueError("n_calls must be >= 0")
    params = CityParams(seed=seed, end_year=max(start.year, 1972))
    if path is None:
        path = Path(tempfile.gettempdir()) / f"synthetic_cad_{n_calls}_seed{seed}.csv"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    city = _build(params)
    rates = background_rates(city.calls.table, params.calls_per_day)
    numbering = Numbering()
    day = day_number(start)
    k = 0
    with path.open("wb") as fh:
        while True:
            days = np.arange(day, day + _CHUNK_DAYS, dtype=np.int64)
            gaps = DstGaps(params.timezone, day, _CHUNK_DAYS)
            rng = np.random.default_rng(city.chunk_seed.spawn(1)[0])
            batch = simulate_calls(city.calls, rng, days, rates, gaps)
            remaining = n_calls - numbering.rows
            if len(batch) >= remaining:
                batch = batch.head(remaining)
            _write_chunk(fh, call_frame(city.calls, batch, numbering), k == 0)
            if numbering.rows >= n_calls:
                break
            day += _CHUNK_DAYS
            k += 1
    return path
