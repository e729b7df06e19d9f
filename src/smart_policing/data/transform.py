"""Turn one chunk of raw CSV records into canonical rows, or reasons to reject them.

Everything here is columnar (Polars expressions over the chunk), so a million-row
file is parsed at C speed; only rejected rows are touched one by one, to format
their message. A row is rejected when any mapped value cannot be read (a date that
matches none of the formats, latitude 999, text that is not valid in the file's
encoding, an unknown code where the mapping says ``reject``) or a required value is
empty. The message names the line, the field and the column, and shows the value.

Rows that load but carry a doubt are *flagged* in ``quality_flags`` (comma
separated), never changed silently: ``negative_<interval>`` and
``extreme_<interval>`` for call intervals (see
:data:`smart_policing.model.calls.INTERVALS`), ``missing_call_id``,
``no_location``, ``zero_coordinates``, ``dst_gap_shifted`` and ``midnight_24h``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from pyproj import CRS, Transformer

from smart_policing.data.mapping import FieldKind, FieldSpec, MappingSpec
from smart_policing.data.reader import CsvChunk, UnusableFileError
from smart_policing.data.rejects import Reject
from smart_policing.model.calls import INTERVALS, SourceChannel
from smart_policing.model.places import normalise_addresses

__all__ = ["ColumnResolver", "TransformResult", "record_columns", "transform_chunk"]

_DTYPES: dict[FieldKind, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "datetime": pl.Datetime("us", "UTC"),
    "channel": pl.String(),
    "inside_outside": pl.String(),
}
_ENUM_VALUES: dict[str, list[str]] = {
    "channel": [c.value for c in SourceChannel],
    "inside_outside": ["inside", "outside"],
}
_TRUE = ["1", "true", "t", "yes", "y"]
_FALSE = ["0", "false", "f", "no", "n"]
_MIDNIGHT_24 = r"(^|[ T])24:00(:00)?(\.0*)?$"


@dataclass
class TransformResult:
    """Canonical rows of one chunk (``frame``) and everything set aside or noticed."""

    frame: pl.DataFrame
    rejects: list[Reject] = field(default_factory=list)
    unmapped: dict[str, Counter[str]] = field(default_factory=dict)


def record_columns(spec: MappingSpec) -> dict[str, pl.DataType]:
    """Canonical output columns (and dtypes) of a mapping's record type."""
    cols: dict[str, pl.DataType] = {k: _DTYPES[v] for k, v in spec.field_kinds().items()}
    cols["place_key"] = pl.String()
    cols["latitude"] = pl.Float64()
    cols["longitude"] = pl.Float64()
    if spec.record == "call":
        cols["source_channel"] = pl.String()
        for iv in INTERVALS:
            cols[iv.name] = pl.Float64()
    cols["quality_flags"] = pl.String()
    return cols


class ColumnResolver:
    """Finds a mapping's source columns in a file header (ignoring case and spaces)."""

    def __init__(self, header: list[str], spec: MappingSpec, file_name: str) -> None:
        index = {h.strip().lower(): i for i, h in enumerate(header)}
        needed: dict[str, bool] = {}  # column -> optional?
        for f in spec.fields.values():
            for c in f.source_columns():
                needed[c] = needed.get(c, True) and f.optional_column
        for c in spec.key.columns if spec.key else ():
            needed[c] = False
        if spec.coordinates:
            for c in (spec.coordinates.x, spec.coordinates.y):
                needed[c] = spec.coordinates.optional_columns
        missing = [c for c, optional in needed.items() if not optional and c.lower() not in index]
        if missing:
            raise UnusableFileError(
                f"{file_name}: not a '{spec.name}' file: missing column(s) "
                f"{', '.join(repr(m) for m in missing)}; the header has {', '.join(header[:60])}"
            )
        self.positions = {c: index[c.lower()] for c in needed if c.lower() in index}

    def present(self, column: str | None) -> bool:
        return column is not None and column in self.positions


def _strip(col: str) -> pl.Expr:
    """Surrounding spaces removed, empty -> null (done once per chunk; later steps
    read the stripped column)."""
    raw = pl.col(col).str.strip_chars()
    return pl.when(raw == "").then(None).otherwise(raw)


def _label(name: str, spec: FieldSpec) -> str:
    cols = " + ".join(repr(c) for c in spec.source_columns())
    return f"field '{name}' (column {cols})"


@dataclass(frozen=True)
class _Check:
    """A row fails when ``cond`` is true; ``message`` is built only for failing rows."""

    cond: pl.Expr
    message: pl.Expr


def _err(cond: pl.Expr, template: str, *values: pl.Expr) -> _Check:
    msg = pl.format(template, *values) if values else pl.lit(template)
    return _Check(cond.fill_null(False), msg)


def _convert(text: pl.Expr, kind: FieldKind, label: str) -> tuple[pl.Expr, _Check | None]:
    """Parse cleaned text into ``kind``; returns (value, error-or-null)."""
    if kind == "int":
        num = text.cast(pl.Float64, strict=False)
        ok = num.is_finite() & (num == num.round(0)) & (num.abs() < 2**53)
        value = pl.when(ok).then(num).otherwise(None).cast(pl.Int64)
        return value, _err(
            text.is_not_null() & ~ok.fill_null(False),
            f"{label}: '{{}}' is not a whole number",
            text,
        )
    if kind == "float":
        num = text.cast(pl.Float64, strict=False)
        return num, _err(
            text.is_not_null() & num.is_null(), f"{label}: '{{}}' is not a number", text
        )
    if kind == "bool":
        low = text.str.to_lowercase()
        value = (
            pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)
        )
        return value, _err(
            text.is_not_null() & value.is_null(),
            f"{label}: '{{}}' is not yes/no (1/0, true/false)",
            text,
        )
    if kind in _ENUM_VALUES:
        allowed = _ENUM_VALUES[kind]
        low = text.str.to_lowercase()
        return low, _err(
            low.is_not_null() & ~low.is_in(allowed),
            f"{label}: '{{}}' is not one of {allowed}",
            text,
        )
    return text, None


class _Builder:
    """Accumulates value, error and flag expressions for one chunk."""

    def __init__(
        self,
        df: pl.DataFrame,
        spec: MappingSpec,
        resolver: ColumnResolver,
        timezone: str,
        encoding: str,
    ) -> None:
        self.df = df
        self.spec = spec
        self.resolver = resolver
        self.tz = spec.timezone or timezone
        self.encoding = encoding
        self.values: dict[str, pl.Expr] = {}
        self.errors: list[tuple[str, _Check]] = []  # (column names, check)
        self.flags: dict[str, pl.Expr] = {}  # flag -> condition
        self.unmapped: dict[str, pl.Expr] = {}
        self.pending_datetimes: list[tuple[str, FieldSpec, str, str, pl.Expr]] = []

    def flag(self, name: str, cond: pl.Expr) -> None:
        old = self.flags.get(name)
        self.flags[name] = cond.fill_null(False) if old is None else old | cond.fill_null(False)

    def add_error(self, columns: str, expr: _Check | None) -> None:
        if expr is not None:
            self.errors.append((columns, expr))

    def field(self, name: str, spec: FieldSpec, kind: FieldKind) -> None:
        dtype = _DTYPES[kind]
        if spec.value is not None:
            value, err = _convert(pl.lit(str(spec.value)), kind, f"field '{name}'")
            self.values[name] = value.cast(dtype)
            return
        if not self.resolver.present(spec.column):
            self.values[name] = pl.lit(None, dtype=dtype)
            return
        assert spec.column is not None
        cols = ",".join(spec.source_columns())
        label = _label(name, spec)
        if kind == "datetime":
            self._datetime(name, spec, label, cols)
            return
        text = pl.col(spec.column)
        if spec.regex is not None:
            extracted = text.str.extract(spec.regex, 1)
            self.add_error(
                cols,
                _err(
                    text.is_not_null() & extracted.is_null(),
                    f"{label}: '{{}}' does not match {spec.regex}",
                    text,
                ),
            )
            text = extracted
        if spec.case == "upper":
            text = text.str.to_uppercase()
        elif spec.case == "lower":
            text = text.str.to_lowercase()
        elif spec.case == "title":
            text = text.str.to_titlecase()
        if spec.codes is not None:
            keys = list(spec.codes)
            mapped_text = text.replace_strict(
                keys, [str(v) for v in spec.codes.values()], default=None, return_dtype=pl.String
            )
            unmapped = text.is_not_null() & ~text.is_in(keys)
            self.unmapped[name] = pl.when(unmapped).then(text).otherwise(None)
            if spec.on_unmapped == "reject":
                self.add_error(
                    cols, _err(unmapped, f"{label}: '{{}}' is not in the mapping's codes", text)
                )
            elif spec.on_unmapped == "keep":
                mapped_text = pl.when(unmapped).then(text).otherwise(mapped_text)
            elif spec.on_unmapped == "default":
                mapped_text = (
                    pl.when(unmapped).then(pl.lit(str(spec.default))).otherwise(mapped_text)
                )
            text = mapped_text
        value, err = _convert(text, kind, label)
        self.add_error(cols, err)
        self.values[name] = value.cast(dtype)
        if spec.required:
            self.add_error(cols, _err(value.is_null(), f"{label} is required but empty"))

    def _datetime(self, name: str, spec: FieldSpec, label: str, cols: str) -> None:
        """Queue a date-time field; :meth:`parse_datetimes` parses them all together."""
        assert spec.column is not None
        text = pl.col(spec.column)
        if spec.time_column is not None:
            time = pl.col(spec.time_column)
            self.add_error(
                cols,
                _err(
                    text.is_not_null() & time.is_null(),
                    f"{label}: the time column '{spec.time_column}' is empty",
                ),
            )
            text = pl.concat_str([text, time], separator=" ")
        self.pending_datetimes.append((name, spec, label, cols, text))

    def parse_datetimes(self) -> None:
        """Parse every queued date-time in stages, each stage one pass over all fields.

        Each intermediate is materialised once (text, parsed naive value, local time,
        DST gap) instead of being re-derived inside later expressions.
        """
        todo = self.pending_datetimes
        if not todo:
            return

        def cols(stage: str) -> list[str]:
            return [f"_{stage}:{name}" for name, *_ in todo]

        t, is24, parsed, local, gap = (cols(x) for x in ("t", "24", "p", "l", "g"))
        self.df = self.df.with_columns(text.alias(c) for c, (*_, text) in zip(t, todo, strict=True))
        self.df = self.df.with_columns(
            pl.col(c).str.contains(_MIDNIGHT_24).fill_null(False).alias(d)
            for c, d in zip(t, is24, strict=True)
        )
        fixed = [
            pl.when(pl.col(d))
            .then(pl.col(c).str.replace(r"24:00((:00)?(\.0*)?)$", "00:00$1"))
            .otherwise(pl.col(c))
            if self.df[d].any()
            else pl.col(c)
            for c, d in zip(t, is24, strict=True)
        ]

        def read(text: pl.Expr, formats: Sequence[str]) -> pl.Expr:  # the first format that reads
            return pl.coalesce(
                text.str.to_datetime(f, time_unit="us", strict=False, cache=False) for f in formats
            )

        self.df = self.df.with_columns(
            read(fx, spec.formats[:1]).alias(p)
            for fx, p, (_, spec, *_) in zip(fixed, parsed, todo, strict=True)
        )
        for fx, c, d, p, (_, spec, *_) in zip(fixed, t, is24, parsed, todo, strict=True):
            # later formats only for the rows the first one could not read
            unread = self.df.select(pl.col(p).is_null() & pl.col(c).is_not_null()).to_series()
            if len(spec.formats) > 1 and unread.any():
                rows = unread.arg_true()
                more = self.df.select(c, d)[rows].select(read(fx, spec.formats[1:])).to_series()
                self.df = self.df.with_columns(self.df[p].clone().scatter(rows, more).alias(p))
        stage = []
        for d, p in zip(is24, parsed, strict=True):
            v = pl.when(pl.col(d)).then(pl.col(p) + pl.duration(days=1)).otherwise(pl.col(p))
            stage.append(pl.when(v.dt.year().is_between(1900, 2100)).then(v).alias(p))
        self.df = self.df.with_columns(stage)
        self.df = self.df.with_columns(
            pl.col(p)
            .dt.replace_time_zone(self.tz, ambiguous="earliest", non_existent="null")
            .alias(lc)
            for p, lc in zip(parsed, local, strict=True)
        )
        self.df = self.df.with_columns(
            (pl.col(p).is_not_null() & pl.col(lc).is_null()).alias(g)
            for p, lc, g in zip(parsed, local, gap, strict=True)
        )
        shift = [
            pl.coalesce(
                [
                    pl.col(lc),
                    (pl.col(p) + pl.duration(hours=1)).dt.replace_time_zone(
                        self.tz, ambiguous="earliest", non_existent="null"
                    ),
                ]
            ).alias(lc)
            for p, lc, g in zip(parsed, local, gap, strict=True)
            if self.df[g].any()
        ]
        if shift:
            self.df = self.df.with_columns(shift)
        self.df = self.df.with_columns(pl.col(lc).dt.convert_time_zone("UTC") for lc in local)
        for (name, spec, label, cols_, _), c, d, p, lc, g in zip(
            todo, t, is24, parsed, local, gap, strict=True
        ):
            fmts = ", ".join(spec.formats)
            self.add_error(
                cols_,
                _err(
                    pl.col(c).is_not_null() & pl.col(p).is_null(),
                    f"{label}: '{{}}' is not a date-time in {fmts} (years 1900-2100)",
                    pl.col(c),
                ),
            )
            if spec.required:
                self.add_error(cols_, _err(pl.col(c).is_null(), f"{label} is required but empty"))
            self.values[name] = pl.col(lc)
            self.flag("dst_gap_shifted", pl.col(g))
            self.flag("midnight_24h", pl.col(d) & pl.col(p).is_not_null())

    def encoding_checks(self, chunk: CsvChunk) -> None:
        """Reject rows with undecodable bytes (U+FFFD), naming the column.

        The per-column scan runs only when the chunk's text contains one at all.
        """
        if not chunk.has_replacement_characters():
            return
        for col in self.resolver.positions:
            self.add_error(
                col,
                _err(
                    pl.col(col).str.contains("\ufffd", literal=True),
                    f"column '{col}' has bytes that are not valid {self.encoding} text "
                    "(try --encoding)",
                ),
            )


def _coordinates(
    df: pl.DataFrame, spec: MappingSpec, resolver: ColumnResolver
) -> tuple[pl.DataFrame, list[tuple[str, _Check]]]:
    """Add ``latitude``/``longitude`` (EPSG:4326) and ``_zero``; return coordinate errors."""
    coords = spec.coordinates
    if coords is None or not (resolver.present(coords.x) and resolver.present(coords.y)):
        return df.with_columns(
            latitude=pl.lit(None, dtype=pl.Float64),
            longitude=pl.lit(None, dtype=pl.Float64),
            _zero=pl.lit(False),
        ), []
    tx, ty = pl.col(coords.x), pl.col(coords.y)
    df = df.with_columns(
        _tx=tx, _ty=ty, _x=tx.cast(pl.Float64, strict=False), _y=ty.cast(pl.Float64, strict=False)
    )
    zero = (pl.col("_x") == 0) & (pl.col("_y") == 0)
    df = df.with_columns(_zero=zero.fill_null(False) & pl.lit(coords.zero_is_missing))
    crs = CRS.from_user_input(coords.crs)
    geographic = crs.to_epsg() == 4326 or crs.name.endswith("CRS84")
    if geographic:
        df = df.with_columns(longitude=pl.col("_x"), latitude=pl.col("_y"))
    else:
        xs = df["_x"].to_numpy().astype(float)
        ys = df["_y"].to_numpy().astype(float)
        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xs, ys)
        df = df.with_columns(
            longitude=pl.Series(np.asarray(lon, dtype=float)).fill_nan(None),
            latitude=pl.Series(np.asarray(lat, dtype=float)).fill_nan(None),
        )
    x, y, lat, lon = pl.col("_x"), pl.col("_y"), pl.col("latitude"), pl.col("longitude")
    cx, cy = f"'{coords.x}'", f"'{coords.y}'"
    both = f"{coords.x},{coords.y}"
    errors: list[tuple[str, _Check]] = [
        (
            coords.x,
            _err(
                pl.col("_tx").is_not_null() & x.is_null(),
                f"column {cx}: '{{}}' is not a number",
                pl.col("_tx"),
            ),
        ),
        (
            coords.y,
            _err(
                pl.col("_ty").is_not_null() & y.is_null(),
                f"column {cy}: '{{}}' is not a number",
                pl.col("_ty"),
            ),
        ),
        (
            both,
            _err(
                pl.col("_tx").is_null() ^ pl.col("_ty").is_null(),
                f"only one of columns {cx} and {cy} is given",
            ),
        ),
    ]
    if geographic:
        errors.append(
            (
                coords.y,
                _err(
                    ~y.is_between(-90, 90),
                    f"column {cy}: {{}} is outside the latitude range -90..90",
                    pl.col("_ty"),
                ),
            )
        )
        errors.append(
            (
                coords.x,
                _err(
                    ~x.is_between(-180, 180),
                    f"column {cx}: {{}} is outside the longitude range -180..180",
                    pl.col("_tx"),
                ),
            )
        )
    else:
        bad = (
            x.is_not_null()
            & y.is_not_null()
            & ~pl.col("_zero")
            & (lat.is_null() | ~lat.is_between(-90, 90))
        )
        errors.append(
            (
                both,
                _err(
                    bad,
                    f"coordinates ({{}}, {{}}) are not valid in {coords.crs}",
                    pl.col("_tx"),
                    pl.col("_ty"),
                ),
            )
        )
    df = df.with_columns(
        latitude=pl.when(pl.col("_zero")).then(None).otherwise(lat),
        longitude=pl.when(pl.col("_zero")).then(None).otherwise(lon),
    )
    return df, errors


def transform_chunk(
    chunk: CsvChunk,
    spec: MappingSpec,
    resolver: ColumnResolver,
    *,
    timezone: str,
    encoding: str = "utf-8",
) -> TransformResult:
    """Parse, validate and flag one chunk (see the module docstring).

    The returned frame has the canonical columns of :func:`record_columns` plus
    ``_line`` (file line), ``_idx`` (position in the chunk), ``_key`` (the mapping's
    key columns joined by ``|``, null when absent or empty) and ``_content`` (a hash
    of the canonical values, used for keys of records without an id and to group
    victim rows).
    """
    rejects = [Reject(b.line, "", b.reason, b.raw) for b in chunk.bad]
    df = chunk.frame(resolver.positions).with_columns(
        _line=pl.Series("_line", chunk.lines, dtype=pl.Int64),
        _idx=pl.int_range(pl.len(), dtype=pl.Int64),
    )
    columns = list(resolver.positions)  # only columns with something to strip or empty values
    untidy = df.select(pl.col(c).str.contains(r"^\s|\s$|^$").any() for c in columns).row(0)
    df = df.with_columns(_strip(c).alias(c) for c, u in zip(columns, untidy, strict=True) if u)
    b = _Builder(df, spec, resolver, timezone, encoding)
    kinds = spec.field_kinds()
    for name, kind in kinds.items():
        if name in spec.fields:
            b.field(name, spec.fields[name], kind)
        else:
            b.values[name] = pl.lit(None, dtype=_DTYPES[kind])
    b.parse_datetimes()
    b.encoding_checks(chunk)
    df, coord_errors = _coordinates(b.df, spec, resolver)

    checks = b.errors + coord_errors
    bad_mask = df.select(
        pl.any_horizontal([c.cond for _, c in checks]) if checks else pl.lit(False)
    ).to_series()
    if bad_mask.any():
        rejects.extend(_reject_messages(df.filter(bad_mask), checks, chunk))
    good = df.filter(~bad_mask)
    unmapped: dict[str, Counter[str]] = {}
    for name, expr in b.unmapped.items():
        vals = df.select(expr.alias("v")).to_series().drop_nulls()
        if vals.len():
            unmapped[name] = Counter(dict(vals.value_counts().iter_rows()))
    if spec.key is not None:
        key_expr = pl.concat_str([pl.col(c) for c in spec.key.columns], separator="|")
    else:
        key_expr = pl.lit(None, dtype=pl.String)
    out = good.select(
        *(expr.alias(name) for name, expr in b.values.items()),
        key_expr.alias("_key"),
        "latitude",
        "longitude",
        "_line",
        "_idx",
        "_zero",
        *(cond.alias(f"_f:{flag}") for flag, cond in b.flags.items()),
    )
    out = _finish(out, spec, list(b.flags))
    return TransformResult(frame=out, rejects=rejects, unmapped=unmapped)


def _reject_messages(
    bad: pl.DataFrame, checks: list[tuple[str, _Check]], chunk: CsvChunk
) -> list[Reject]:
    """Messages for the failing rows only (building them for every row would be wasted work)."""
    msgs = bad.select(
        pl.col("_line"),
        pl.col("_idx"),
        *(pl.when(c.cond).then(c.message).alias(f"_m{i}") for i, (_, c) in enumerate(checks)),
    )
    out = []
    for row in msgs.iter_rows():
        line, idx, texts = row[0], row[1], row[2:]
        cols = sorted({checks[i][0] for i, m in enumerate(texts) if m is not None})
        reasons = [m for m in texts if m is not None]
        out.append(Reject(line, ",".join(cols), "; ".join(reasons), chunk.raw(idx)))
    return out


def _finish(out: pl.DataFrame, spec: MappingSpec, flag_names: list[str]) -> pl.DataFrame:
    """Derived columns: place key, channel defaults, intervals, quality flags, content hash."""
    flags: list[tuple[str, pl.Expr]] = [(f, pl.col(f"_f:{f}")) for f in flag_names]
    flags.append(("zero_coordinates", pl.col("_zero")))
    if spec.record == "call":
        out = out.with_columns(
            source_channel=pl.col("source_channel").fill_null(SourceChannel.UNKNOWN.value),
        )
        intervals = [
            ((pl.col(iv.end) - pl.col(iv.start)).dt.total_microseconds() / 1e6).alias(iv.name)
            for iv in INTERVALS
        ]
        out = out.with_columns(
            *intervals,
            self_initiated=pl.col("self_initiated").fill_null(
                pl.col("source_channel") == SourceChannel.OFFICER_INITIATED.value
            ),
            reopened=pl.col("reopened").fill_null(False),
        )
        for iv in INTERVALS:
            flags.append((f"negative_{iv.name}", pl.col(iv.name) < 0))
            flags.append((f"extreme_{iv.name}", pl.col(iv.name) > iv.max_seconds))
    else:
        out = out.with_columns(victim_count=pl.col("victim_count").fill_null(1))
        flags.append(("no_location", pl.col("latitude").is_null()))
    joined = pl.concat_str(
        [pl.when(cond.fill_null(False)).then(pl.lit(name + ",")) for name, cond in flags],
        ignore_nulls=True,
    ).str.strip_chars_end(",")
    out = out.with_columns(
        place_key=normalise_addresses(out["block_address"]),
        quality_flags=pl.when(joined == "").then(None).otherwise(joined),
    )
    public = [
        c for c in out.columns if not c.startswith("_") and c not in ("quality_flags", "place_key")
    ]
    needs_hash = spec.victim_based or spec.key is None
    todo = out if needs_hash else out.filter(pl.col("_key").is_null())
    hashes: list[str | None] = []
    if todo.height:
        data = (  # UTF-8 bytes straight from Polars
            todo.select(
                pl.concat_str(
                    [pl.col(c).cast(pl.String).fill_null("") for c in public], separator="\x1f"
                ).cast(pl.Binary)
            )
            .to_series()
            .to_list()
        )
        blake = hashlib.blake2b
        hashes = [blake(b, digest_size=12).hexdigest() for b in data]
    content = pl.Series("_content", hashes, dtype=pl.String)
    if not needs_hash:  # only rows without a key got a hash: put them in place
        content = (
            pl.Series("_content", dtype=pl.String)
            .extend_constant(None, out.height)
            .scatter(out["_key"].is_null().arg_true(), content)
        )
    out = out.with_columns(content)
    return out.drop("_zero", *(f"_f:{f}" for f in flag_names))
