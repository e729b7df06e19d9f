"""The Compstat query layer: store in, :class:`~smart_policing.compstat.core.CompstatReport`
out. The web page, ``GET /api/compstat`` and ``smart-policing compstat`` all call
:func:`compstat_report`, so they print the same numbers.

Per request: one look at the imports ledger and the summary state (rebuilding the
summary first when an import finished since, see :mod:`smart_policing.compstat.summary`),
the city's population rows, then either a cached report or a few ``GROUP BY`` queries
over the summary tables. :class:`ReportCache` keys reports by (data version, time zone,
query, group file, population figures), so a new import or a population edit is never
served stale.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select

from smart_policing.compstat.core import (
    CompstatError,
    CompstatQuery,
    CompstatReport,
    DataCoverage,
    build_report,
    effective_period,
)
from smart_policing.compstat.groups import GroupSet, builtin_groups
from smart_policing.compstat.population import (
    PopulationFigure,
    builtin_population,
    merge_population,
)
from smart_policing.compstat.summary import (
    SummaryCounts,
    SummaryState,
    data_version,
    ensure_summary,
    summary_counts,
    summary_state,
)
from smart_policing.settings import Settings
from smart_policing.store import tables as t

_Population = dict[int, PopulationFigure]

__all__ = [
    "ReportCache",
    "add_population",
    "city_population",
    "compstat_report",
    "refresh_summary",
    "stored_population",
]


class ReportCache:
    """A small thread-safe LRU of reports for one process (e.g. the web app's).

    Create one per application (``create_app``) and pass it to
    :func:`compstat_report`; there is no module-level cache.
    """

    def __init__(self, maxsize: int = 256, *, recheck_s: float = 2.0) -> None:
        self.maxsize = maxsize
        #: how long the summary state and population read for a city are trusted
        #: before the database is asked again (seconds); 0 asks on every request
        self.recheck_s = recheck_s
        self._items: OrderedDict[tuple[object, ...], CompstatReport] = OrderedDict()
        self._contexts: dict[tuple[str, str], tuple[float, SummaryState, _Population]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def context(self, city: str, timezone: str) -> tuple[SummaryState, _Population] | None:
        """The summary state and population last read for ``city``, if recent enough."""
        with self._lock:
            found = self._contexts.get((city, timezone))
        if found is None or time.monotonic() - found[0] > self.recheck_s:
            return None
        return found[1], found[2]

    def remember(
        self, city: str, timezone: str, state: SummaryState, population: _Population
    ) -> None:
        """Keep what was just read from the database for ``recheck_s`` seconds."""
        with self._lock:
            self._contexts[(city, timezone)] = (time.monotonic(), state, population)

    def get(self, key: tuple[object, ...]) -> CompstatReport | None:
        """The cached report for ``key`` (marking it recently used), or None."""
        with self._lock:
            report = self._items.get(key)
            if report is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return report

    def put(self, key: tuple[object, ...], report: CompstatReport) -> None:
        """Store ``report``, dropping the least recently used beyond ``maxsize``."""
        with self._lock:
            self._items[key] = report
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every report."""
        with self._lock:
            self._items.clear()
            self._contexts.clear()


def _groups_for(city: str, groups: GroupSet | None) -> GroupSet:
    if groups is not None:
        if groups.city != city:
            raise CompstatError(f"group file is for {groups.city!r}, the query for {city!r}")
        return groups
    try:
        return builtin_groups(city)
    except KeyError as exc:
        raise CompstatError(str(exc.args[0])) from exc


def stored_population(conn: Connection, city: str) -> list[PopulationFigure]:
    """Population figures users stored for ``city`` (origin ``database``), by year."""
    p = t.population
    rows = conn.execute(
        select(p.c.year, p.c.population, p.c.source).where(p.c.city == city).order_by(p.c.year)
    ).all()
    return [PopulationFigure(year=y, population=n, source=s, origin="database") for y, n, s in rows]


def city_population(conn: Connection, city: str) -> dict[int, PopulationFigure]:
    """Population per year for ``city``: the shipped file overridden by stored rows."""
    file = builtin_population(city)
    shipped = file.figures if file is not None else ()
    return merge_population(shipped, stored_population(conn, city))


def add_population(
    engine: Engine, city: str, figures: Sequence[tuple[int, int, str]]
) -> list[PopulationFigure]:
    """Store ``(year, population, source)`` figures for ``city`` (replacing stored ones
    for the same years); return them as validated."""
    checked = [
        PopulationFigure(year=y, population=n, source=s, origin="database") for y, n, s in figures
    ]
    now = datetime.now(UTC)
    p = t.population
    with engine.begin() as conn:
        for f in checked:
            conn.execute(delete(p).where(p.c.city == city, p.c.year == f.year))
            conn.execute(
                insert(p).values(
                    city=city, year=f.year, population=f.population, source=f.source, updated_at=now
                )
            )
    return checked


def refresh_summary(engine: Engine, settings: Settings) -> SummaryState:
    """Rebuild the summary tables if an import finished since they were built (call it
    at start-up so the first page view does not pay for the rebuild)."""
    return ensure_summary(engine, settings.timezone)


def compstat_report(
    conn_or_engine: Connection | Engine,
    query: CompstatQuery,
    settings: Settings,
    *,
    cache: ReportCache | None = None,
    groups: GroupSet | None = None,
) -> CompstatReport:
    """The Compstat report for ``query`` (see :mod:`smart_policing.compstat.core`).

    ``groups`` replaces the city's shipped group file (it must name the same city).
    Raises :class:`~smart_policing.compstat.core.CompstatError` for an unknown city or
    group.
    """
    group_set = _groups_for(query.city, groups)
    unknown = [g for g in query.groups or () if g not in {x.id for x in group_set.groups}]
    if unknown:
        raise CompstatError(
            f"unknown group(s) {', '.join(map(repr, unknown))} for {query.city} "
            f"(known: {', '.join(x.id for x in group_set.groups)})"
        )
    tz = settings.timezone
    if isinstance(conn_or_engine, Engine):
        known = cache.context(query.city, tz) if cache is not None else None
        if known is not None and cache is not None:
            # a busy page: trust the state read a moment ago, skip three queries
            hit = cache.get(_cache_key(known[0], settings, query, group_set, known[1]))
            if hit is not None:
                return hit
        with conn_or_engine.connect() as conn:
            state = summary_state(conn)
            if state is None or not state.matches(data_version(conn), tz):
                conn.rollback()
                state = ensure_summary(conn_or_engine, tz)
            return _report(conn, query, settings, state, group_set, cache)
    state = ensure_summary(conn_or_engine, tz)
    return _report(conn_or_engine, query, settings, state, group_set, cache)


def _cache_key(
    state: SummaryState,
    settings: Settings,
    query: CompstatQuery,
    groups: GroupSet,
    population: _Population,
) -> tuple[object, ...]:
    return (
        state.version,
        state.built_at,
        settings.timezone,
        query,
        groups,
        tuple(population.values()),
    )


def _report(
    conn: Connection,
    query: CompstatQuery,
    settings: Settings,
    state: SummaryState,
    groups: GroupSet,
    cache: ReportCache | None,
) -> CompstatReport:
    population = city_population(conn, query.city)
    key = _cache_key(state, settings, query, groups, population)
    if cache is not None:
        cache.remember(query.city, settings.timezone, state, population)
        hit = cache.get(key)
        if hit is not None:
            return hit
    period = effective_period(query.start, query.end, state.first_day, state.last_day)
    counts = SummaryCounts()
    if period is not None:
        selected = query.groups or tuple(g.id for g in groups.groups)
        codes, prefixes = groups.codes_for(c for c in groups.chart if c in selected)
        counts = summary_counts(
            conn,
            start=period[0],
            end=period[1],
            districts=query.district,
            chart_codes=codes,
            chart_prefixes=prefixes,
        )
    report = build_report(
        query=query,
        groups=groups,
        by_year=counts.by_year,
        by_month=counts.by_month,
        by_district=counts.by_district,
        population=population,
        data=DataCoverage(
            version=state.version,
            first_day=state.first_day,
            last_day=state.last_day,
            incidents=state.incidents,
            victims=state.victims,
            built_at=state.built_at,
        ),
        timezone=settings.timezone,
        available_districts=state.districts,
    )
    if cache is not None:
        cache.put(key, report)
    return report
