"""The Compstat summary tables: incidents and victims per local day and per month.

Counting 1.2 million incidents per page view is too slow for a command meeting's
dashboard, so the store keeps two summaries of ``incidents``, keyed by district ('' when
unknown) and offence code in upper case (not by group: group files can change without
a rebuild):

``compstat_daily``
    per local day in the city time zone (``Settings.timezone``);
``compstat_monthly``
    per local calendar month (first day of the month);
``compstat_yearly``
    per local calendar year.

A request reads whole years from the yearly table, whole months of partial years from
the monthly one and only the days of partial months from the daily one
(:func:`split_period`, :func:`summary_counts`): on 1.2 million incidents a ten-year
report reads a few thousand summary rows.

**When the summary is rebuilt.** ``compstat_state`` records what it was built from:
the number of finished imports (``imports.finished_at`` set, completed or failed) and
the newest one's id, and the time zone. Every read compares those with the imports
ledger (one small query) and rebuilds everything when they differ, so an import or a
time-zone change shows on the next request. Counting finished imports (not only the
newest id) also catches an older, longer import finishing after a newer one. Rows
edited by hand outside an import need ``smart-policing compstat rebuild``.

Rebuilding is one ``INSERT ... SELECT ... GROUP BY`` per table inside one transaction,
serialised between processes (PostgreSQL: an advisory lock; SQLite: the write lock,
taken before the state is re-read), so concurrent requests rebuild once.

**Local days.** PostgreSQL converts with ``timezone(zone, occurred_at)``. SQLite has no
time zones: the UTC offsets in force between the first and last incident are taken from
the IANA database and applied with a ``CASE`` over the transition instants, which is
exact for every zone.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Engine,
    Integer,
    and_,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from smart_policing.compstat.core import CodeCount
from smart_policing.store import tables as t

__all__ = [
    "DataVersion",
    "Pieces",
    "SummaryCounts",
    "SummaryState",
    "data_version",
    "ensure_summary",
    "rebuild_summary",
    "split_period",
    "summary_counts",
    "summary_state",
]

_STATE = "summary"
_PG_LOCK = 0x53_50_43_53  # pg_advisory_xact_lock key of the rebuild ("SPCS")


@dataclass(frozen=True)
class DataVersion:
    """What the incident data is at, per the imports ledger."""

    imports_finished: int
    last_import_id: int | None


@dataclass(frozen=True)
class SummaryState:
    """What the summary tables hold: built from which imports, in which time zone."""

    imports_finished: int
    last_import_id: int | None
    timezone: str
    incidents: int
    victims: int
    first_day: date | None
    last_day: date | None
    districts: tuple[str, ...]
    built_at: datetime

    @property
    def version(self) -> str:
        """A short token that changes whenever the summarised data does."""
        return f"{self.imports_finished}.{self.last_import_id or 0}.{self.incidents}"

    def matches(self, version: DataVersion, timezone: str) -> bool:
        """True when built from ``version`` in ``timezone``."""
        return (
            self.imports_finished == version.imports_finished
            and self.last_import_id == version.last_import_id
            and self.timezone == timezone
        )


@dataclass
class SummaryCounts:
    """Summary rows for one query: per (year, code), (month, code) for the chart's codes,
    and (district, code)."""

    by_year: list[CodeCount] = field(default_factory=list)
    by_month: list[CodeCount] = field(default_factory=list)
    by_district: list[CodeCount] = field(default_factory=list)


# ---------------------------------------------------------------- version and state


def data_version(conn: Connection) -> DataVersion:
    """The imports ledger's finished imports that added rows: count and newest id.

    An import that inserted nothing (a re-import) leaves the version, and the
    summary, as they were.
    """
    i = t.imports
    n, last = conn.execute(
        select(func.count(), func.max(i.c.id)).where(
            i.c.finished_at.is_not(None), i.c.rows_inserted > 0
        )
    ).one()
    return DataVersion(int(n), None if last is None else int(last))


def summary_state(conn: Connection) -> SummaryState | None:
    """The stored summary's state, or None before the first build."""
    s = t.compstat_state
    row = conn.execute(select(s).where(s.c.name == _STATE)).mappings().first()
    if row is None:
        return None
    return SummaryState(
        imports_finished=int(row["imports_finished"]),
        last_import_id=row["last_import_id"],
        timezone=str(row["timezone"]),
        incidents=int(row["incidents"]),
        victims=int(row["victims"]),
        first_day=row["first_day"],
        last_day=row["last_day"],
        districts=tuple(row["districts"] or ()),
        built_at=row["built_at"],
    )


def ensure_summary(conn_or_engine: Connection | Engine, timezone: str) -> SummaryState:
    """The summary's state, rebuilt first if the incident data or time zone changed.

    With an :class:`~sqlalchemy.Engine` a rebuild commits in its own transaction. With
    a :class:`~sqlalchemy.Connection` it runs in the connection's transaction (begun
    and committed here when none is open; otherwise the caller commits).
    """
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            state = summary_state(conn)
            if state is not None and state.matches(data_version(conn), timezone):
                return state
        with conn_or_engine.begin() as conn:
            return _rebuild_if_stale(conn, timezone)
    conn = conn_or_engine
    was_open = conn.in_transaction()
    state = summary_state(conn)
    fresh = state is not None and state.matches(data_version(conn), timezone)
    if was_open:
        return state if fresh and state is not None else _rebuild_if_stale(conn, timezone)
    conn.rollback()  # end the read transaction begun above
    if fresh and state is not None:
        return state
    with conn.begin():
        return _rebuild_if_stale(conn, timezone)


def _rebuild_if_stale(conn: Connection, timezone: str) -> SummaryState:
    _lock(conn)
    state = summary_state(conn)  # another process may have rebuilt while we waited
    if state is not None and state.matches(data_version(conn), timezone):
        return state
    return rebuild_summary(conn, timezone)


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_PG_LOCK)))
    else:  # a write takes SQLite's database write lock until the transaction ends
        conn.execute(delete(t.compstat_state).where(t.compstat_state.c.name == "-"))


def rebuild_summary(conn: Connection, timezone: str) -> SummaryState:
    """Rebuild the summary tables and the state row in ``conn``'s transaction (which
    holds the rebuild lock until it ends)."""
    ZoneInfo(timezone)  # fail before deleting anything
    _lock(conn)
    version = data_version(conn)
    i, d, m, y = t.incidents, t.compstat_daily, t.compstat_monthly, t.compstat_yearly
    for table in (y, m, d):
        conn.execute(delete(table))
    day = _local_day(conn, timezone)
    ordinals = (text("1"), text("2"), text("3"))
    columns = ["district", "offence_code", "incidents", "victims"]
    conn.execute(
        insert(d).from_select(
            ["day", *columns],
            select(
                day,
                func.coalesce(i.c.district, ""),
                func.upper(i.c.offence_code),
                func.count(),
                func.sum(i.c.victim_count),
            ).group_by(*ordinals),
        )
    )
    for target, source, key in (
        (m, d, _month_of(conn, d.c.day)),
        (y, m, _year_of(conn, m.c.month)),
    ):
        conn.execute(
            insert(target).from_select(
                [target.c.keys()[0], *columns],
                select(
                    key,
                    source.c.district,
                    source.c.offence_code,
                    func.sum(source.c.incidents),
                    func.sum(source.c.victims),
                ).group_by(*ordinals),
            )
        )
    n, victims = conn.execute(
        select(func.coalesce(func.sum(y.c.incidents), 0), func.coalesce(func.sum(y.c.victims), 0))
    ).one()
    first, last = conn.execute(select(func.min(d.c.day), func.max(d.c.day))).one()
    districts = sorted(
        x for x in conn.execute(select(y.c.district).distinct()).scalars() if x != ""
    )
    state = SummaryState(
        imports_finished=version.imports_finished,
        last_import_id=version.last_import_id,
        timezone=timezone,
        incidents=int(n),
        victims=int(victims),
        first_day=first,
        last_day=last,
        districts=tuple(districts),
        built_at=datetime.now(UTC),
    )
    s = t.compstat_state
    conn.execute(delete(s).where(s.c.name == _STATE))
    conn.execute(
        insert(s).values(
            name=_STATE,
            imports_finished=state.imports_finished,
            last_import_id=state.last_import_id,
            timezone=timezone,
            incidents=state.incidents,
            victims=state.victims,
            first_day=first,
            last_day=last,
            districts=list(districts),
            built_at=state.built_at,
        )
    )
    return state


# ---------------------------------------------------------------- local days


def _local_day(conn: Connection, timezone: str) -> ColumnElement[Any]:
    occurred = t.incidents.c.occurred_at
    if conn.dialect.name == "postgresql":
        return cast(func.timezone(timezone, occurred), Date)
    lo, hi = conn.execute(select(func.min(occurred), func.max(occurred))).one()
    if lo is None:
        return literal_column("NULL")
    first, changes = _offsets(ZoneInfo(timezone), lo, hi)
    if not changes:
        return literal_column(f"date(occurred_at, '{_modifier(first)}')", Date)
    whens = []
    current = first
    for instant, offset in changes:
        stamp = instant.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        whens.append(f"WHEN occurred_at < '{stamp}' THEN '{_modifier(current)}'")
        current = offset
    sql = f"date(occurred_at, CASE {' '.join(whens)} ELSE '{_modifier(current)}' END)"
    assert re.fullmatch(r"[\w\s(),.:'<+\-]+", sql)  # built from numbers only
    return literal_column(sql, Date)


def _modifier(offset: timedelta) -> str:
    return f"{int(offset.total_seconds()):+d} seconds"


def _offsets(
    zone: ZoneInfo, start: datetime, end: datetime
) -> tuple[timedelta, list[tuple[datetime, timedelta]]]:
    """UTC offset at ``start`` and each (instant, new offset) change up to ``end``."""

    def off(x: datetime) -> timedelta:
        value = x.astimezone(zone).utcoffset()
        assert value is not None
        return value

    start = start.astimezone(UTC) - timedelta(days=1)
    end = end.astimezone(UTC) + timedelta(days=1)
    first = off(start)
    changes: list[tuple[datetime, timedelta]] = []
    prev, current = start, first
    step = timedelta(hours=6)
    while prev < end:
        nxt = prev + step
        if off(nxt) != current:
            lo, hi = (
                prev,
                nxt,
            )  # off(lo) == current != off(hi): find the first second of hi's offset
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid <= lo:
                    break
                if off(mid) == current:
                    lo = mid
                else:
                    hi = mid
            current = off(hi)
            changes.append((hi, current))
        prev = nxt
    return first, changes


def _month_of(conn: Connection, day: ColumnElement[Any]) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return cast(func.date_trunc("month", day), Date)
    return func.date(day, "start of month", type_=Date)


def _year_of(conn: Connection, day: ColumnElement[Any]) -> ColumnElement[Any]:
    if conn.dialect.name == "postgresql":
        return cast(func.extract("year", day), Integer)
    return cast(func.strftime("%Y", day), Integer)


# ---------------------------------------------------------------- reading


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


@dataclass(frozen=True)
class Pieces:
    """A period split into whole years, whole months and remaining days (inclusive
    ``(first, last)`` spans, in order), so each piece is read from the coarsest table."""

    years: tuple[tuple[int, int], ...]
    months: tuple[tuple[date, date], ...]
    days: tuple[tuple[date, date], ...]


def split_period(start: date, end: date) -> Pieces:
    """Split the local days ``start``..``end`` into whole years, then whole months of
    the partial years, then the days of the partial months."""
    years: list[tuple[int, int]] = []
    months: list[tuple[date, date]] = []
    days: list[tuple[date, date]] = []

    def add(spans: list[Any], lo: Any, hi: Any, adjacent: bool) -> None:
        if spans and adjacent:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))

    for year in range(start.year, end.year + 1):
        lo, hi = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
        if (lo, hi) == (date(year, 1, 1), date(year, 12, 31)):
            add(years, year, year, bool(years) and years[-1][1] == year - 1)
            continue
        m = _month_start(lo)
        while m <= hi:
            mlo, mhi = max(lo, m), min(hi, _month_end(m))
            if (mlo, mhi) == (m, _month_end(m)):
                add(months, m, m, bool(months) and _next_month(months[-1][1]) == m)
            else:
                add(days, mlo, mhi, bool(days) and days[-1][1] + timedelta(days=1) == mlo)
            m = _next_month(m)
    return Pieces(tuple(years), tuple(months), tuple(days))


def _code_filter(
    column: ColumnElement[Any], codes: tuple[str, ...], prefixes: tuple[str, ...]
) -> ColumnElement[bool]:
    terms: list[ColumnElement[bool]] = []
    if codes:
        terms.append(column.in_(codes))
    terms += [func.substr(column, 1, len(p)) == p for p in prefixes]
    return or_(*terms) if terms else literal_column("1 = 0", Boolean)


def summary_counts(
    conn: Connection,
    *,
    start: date,
    end: date,
    districts: Sequence[str] | None,
    chart_codes: tuple[str, ...] = (),
    chart_prefixes: tuple[str, ...] = (),
) -> SummaryCounts:
    """Incidents and victims per (year, code), (district, code) and, for the chart's
    codes only, per (month, code), over the local days ``start``..``end`` (inclusive)
    in ``districts`` (matched ignoring case; None = all). Codes are upper case.

    Whole years are read from the yearly table, whole months of partial years from the
    monthly one and the days of partial months from the daily one
    (:func:`split_period`); the chart reads whole months from the monthly table.
    """
    d, m, y = t.compstat_daily, t.compstat_monthly, t.compstat_yearly
    pieces = split_period(start, end)
    wanted = None if districts is None else [x.upper() for x in districts]

    def in_districts(table: Any) -> list[ColumnElement[bool]]:
        return [] if wanted is None else [func.upper(table.c.district).in_(wanted)]

    def spans(column: ColumnElement[Any], pairs: Sequence[tuple[Any, Any]]) -> ColumnElement[bool]:
        return or_(*(and_(column >= lo, column <= hi) for lo, hi in pairs))

    reads: list[tuple[Any, ColumnElement[Any], ColumnElement[bool]]] = []
    if pieces.years:
        reads.append((y, y.c.year, spans(y.c.year, pieces.years)))
    if pieces.months:
        reads.append((m, _year_of(conn, m.c.month), spans(m.c.month, pieces.months)))
    if pieces.days:
        reads.append((d, _year_of(conn, d.c.day), spans(d.c.day, pieces.days)))

    def fetch(
        table: Any, key: ColumnElement[Any], where: list[ColumnElement[bool]]
    ) -> list[CodeCount]:
        rows = conn.execute(
            select(
                key, table.c.offence_code, func.sum(table.c.incidents), func.sum(table.c.victims)
            )
            .where(*where)
            .group_by(text("1"), text("2"))
        ).all()
        return [CodeCount(k, str(c), int(n), int(v)) for k, c, n, v in rows]

    out = SummaryCounts()
    for table, year, where in reads:
        out.by_year += fetch(table, year, [where, *in_districts(table)])
        out.by_district += fetch(table, table.c.district, [where, *in_districts(table)])
    # the chart: whole months from the monthly table, partial months from the daily one
    first_full = start if start.day == 1 else _next_month(start)
    last_full = _month_start(end) if end == _month_end(end) else None
    if last_full is None:
        last_full = _month_start(_month_start(end) - timedelta(days=1))
    if chart_codes or chart_prefixes:
        if first_full <= last_full:
            out.by_month += fetch(
                m,
                m.c.month,
                [
                    m.c.month >= first_full,
                    m.c.month <= last_full,
                    _code_filter(m.c.offence_code, chart_codes, chart_prefixes),
                    *in_districts(m),
                ],
            )
        partial = [
            (lo, hi)
            for lo, hi in [
                (start, min(end, _month_end(start))),
                (max(start, _month_start(end)), end),
            ]
            if (lo, hi) != (_month_start(lo), _month_end(lo))
        ]
        for lo, hi in dict.fromkeys(partial):
            out.by_month += fetch(
                d,
                _month_of(conn, d.c.day),
                [
                    d.c.day >= lo,
                    d.c.day <= hi,
                    _code_filter(d.c.offence_code, chart_codes, chart_prefixes),
                    *in_districts(d),
                ],
            )
    return out
