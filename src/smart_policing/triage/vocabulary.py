"""The canonical call-type vocabulary and the maps from agency codes onto it.

Every CAD system names its call types its own way (``ASSAULT MINOR INJ IN PROG``,
``MVC PROPERTY DAMAGE``, ``ALARM HOLDUP``). Policy packs speak one language: the
canonical call types of ``triage/data/call_types.yaml`` (70+ ids, each with the
closest APCO/NENA common incident type) and the :class:`~smart_policing.triage.types.CallFlag`
facts. An **agency map** (``triage/data/maps/<name>.yaml``) translates one export's
codes, one entry per code::

    schema_version: 1
    name: cad-2025
    description: Problem codes of the 2025 CAD export (police, fire, EMS)
    agencies: [POLICE, EMS, FIRE]        # optional: the agencies this map covers
    entries:
      - {agency: POLICE, code: ASSAULT MINOR INJ IN PROG, call_type: assault,
         flags: [injury, in-progress]}
      - {agency: POLICE, code: LARCENY RESIDENTIAL TRU, call_type: larceny,
         report_only_hint: true}
      - {code: 911 HANG UP, call_type: hang-up}   # no agency: any agency's code

Matching (:func:`normalise_code`): codes and agencies are compared after trimming,
collapsing inner runs of white space to one space and upper-casing, as the CAD
importer stores them. An entry with an ``agency`` matches only that agency's calls;
an entry without one matches any agency, and a call whose agency is unknown only
such entries. A call from an agency outside ``agencies`` is not mapped.

Nothing is guessed: a code without an entry is *unmapped*, and
:meth:`AgencyMap.unmapped` / :func:`stored_call_type_counts` list those codes with
their call counts so a supervisor can add them. A map naming an unknown call type
or flag, or mapping the same code twice, is refused at load with file, line, field
and the known values (:class:`~smart_policing.datafiles.DataFileError`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import Engine, func, select

from smart_policing.datafiles import (
    DataFileError,
    LocatedErrors,
    format_validation_error,
    load_model,
    load_yaml_with_lines,
)
from smart_policing.store import tables as t
from smart_policing.triage.types import CallFlag

__all__ = [
    "CALL_TYPE_ID_PATTERN",
    "DEFAULT_MAP",
    "AgencyMap",
    "CallType",
    "CallTypeCategory",
    "CallTypeVocabulary",
    "MapCheck",
    "MapEntry",
    "MappedCallType",
    "UnmappedCode",
    "best_builtin_map",
    "builtin_map",
    "builtin_map_names",
    "load_map",
    "load_vocabulary",
    "normalise_code",
    "stored_call_type_counts",
]

#: Canonical call-type ids: lower-case words of letters and digits joined by hyphens.
CALL_TYPE_ID_PATTERN = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"

#: The map the import summary and ``triage map-check`` use when none is named.
DEFAULT_MAP = "cad-2025"

_MAP_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


def normalise_code(text: str) -> str:
    """An agency code or agency name as maps compare it.

    Trimmed, inner white space collapsed to one space, upper-cased:
    ``"  mvc   property damage "`` -> ``"MVC PROPERTY DAMAGE"``. Idempotent.
    """
    return " ".join(text.upper().split())


# ---------------------------------------------------------------- the canonical list


class CallTypeCategory(StrEnum):
    """Groups of canonical call types (pages and reports group by these)."""

    PERSON = "person"
    PROPERTY = "property"
    ALARM = "alarm"
    TRAFFIC = "traffic"
    BEHAVIOURAL_HEALTH = "behavioural-health"
    DISORDER = "disorder"
    SERVICE = "service"
    MEDICAL = "medical"
    FIRE = "fire"


class CallType(BaseModel):
    """One canonical call type.

    ``id`` is stable (packs name it: add types, never rename one); ``nena`` is the
    closest APCO/NENA common incident type, for matching exports across centres.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=CALL_TYPE_ID_PATTERN, max_length=64)
    label: str = Field(min_length=1)
    category: CallTypeCategory
    nena: str = Field(min_length=1)


class CallTypeVocabulary(BaseModel):
    """The canonical call types (``triage/data/call_types.yaml``); ids are unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    call_types: tuple[CallType, ...]
    _by_id: dict[str, CallType] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_ids(self) -> CallTypeVocabulary:
        seen: dict[str, int] = {}
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if not self.call_types:
            problems.append((("call_types",), "list at least one call type"))
        for i, ct in enumerate(self.call_types):
            if ct.id in seen:
                problems.append(
                    (
                        ("call_types", i, "id"),
                        f"duplicate call type id {ct.id!r} (first at call_types.{seen[ct.id]})",
                    )
                )
            else:
                seen[ct.id] = i
        if problems:
            raise LocatedErrors(problems)
        self._by_id = {ct.id: ct for ct in self.call_types}
        return self

    @property
    def ids(self) -> frozenset[str]:
        """Every canonical id."""
        return frozenset(self._by_id)

    def get(self, call_type_id: str) -> CallType | None:
        """The call type with this id, or None."""
        return self._by_id.get(call_type_id)

    def __getitem__(self, call_type_id: str) -> CallType:
        try:
            return self._by_id[call_type_id]
        except KeyError:
            raise KeyError(self.unknown_message(call_type_id)) from None

    def __contains__(self, call_type_id: object) -> bool:
        return call_type_id in self._by_id

    def unknown_message(self, call_type_id: str) -> str:
        """Why ``call_type_id`` is refused: a near spelling if any, and the known ids."""
        close = difflib.get_close_matches(call_type_id, sorted(self._by_id), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown call type {call_type_id!r}{hint}; known: {', '.join(sorted(self._by_id))}"


def load_vocabulary(path: str | Path | None = None) -> CallTypeVocabulary:
    """The canonical call types: the built-in list, or the YAML file at ``path``.

    Raises :class:`~smart_policing.datafiles.DataFileError` naming file, line and field.
    """
    if path is None:
        return _builtin_vocabulary()
    return load_model(path, CallTypeVocabulary)


@cache
def _builtin_vocabulary() -> CallTypeVocabulary:
    ref = resources.files("smart_policing.triage") / "data" / "call_types.yaml"
    with resources.as_file(ref) as p:
        return load_model(p, CallTypeVocabulary)


# ---------------------------------------------------------------- agency maps


class MapEntry(BaseModel):
    """One agency code and the canonical call type and flags it implies.

    ``code`` is the text as exported (compared normalised, see :func:`normalise_code`);
    ``agency`` limits the entry to one agency's calls (the same text can mean
    different things to police and fire). ``report_only_hint`` marks codes whose
    own name says the call is taken as a report with nobody sent (e.g. ``... TRU``);
    packs decide what to do with it. Say why in a YAML comment above the entry.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=128)
    agency: str | None = Field(default=None, min_length=1, max_length=32)
    call_type: str
    flags: tuple[CallFlag, ...] = ()
    report_only_hint: bool = False

    @field_validator("code", "agency")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be blank")
        return v

    @field_validator("flags")
    @classmethod
    def _no_repeats(cls, v: tuple[CallFlag, ...]) -> tuple[CallFlag, ...]:
        repeated = sorted({f.value for f in v if v.count(f) > 1})
        if repeated:
            raise ValueError(f"flag listed twice: {', '.join(repeated)}")
        return v

    @property
    def key(self) -> tuple[str | None, str]:
        """``(agency, code)`` normalised: unique within a map."""
        agency = normalise_code(self.agency) if self.agency is not None else None
        return agency, normalise_code(self.code)


@dataclass(frozen=True, slots=True)
class MappedCallType:
    """What an agency code means: the canonical type, its label and category, and
    the flags the code implies (``code``/``agency`` are the entry's, normalised)."""

    call_type: str
    label: str
    category: CallTypeCategory
    flags: frozenset[CallFlag]
    report_only_hint: bool
    code: str
    agency: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; flags sorted."""
        return {
            "call_type": self.call_type,
            "label": self.label,
            "category": self.category.value,
            "flags": sorted(f.value for f in self.flags),
            "report_only_hint": self.report_only_hint,
            "code": self.code,
            "agency": self.agency,
        }


@dataclass(frozen=True, slots=True)
class UnmappedCode:
    """A code (normalised) with no entry in a map, and how many calls carry it."""

    agency: str | None
    code: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"agency": self.agency, "code": self.code, "count": self.count}


@dataclass(frozen=True, slots=True)
class MapCheck:
    """How well a map covers a set of calls (counts are calls; codes are distinct
    ``(agency, code)`` pairs after normalisation)."""

    map_name: str
    mapped_codes: int
    mapped_calls: int
    unmapped: tuple[UnmappedCode, ...]

    @property
    def unmapped_codes(self) -> int:
        """Distinct unmapped ``(agency, code)`` pairs."""
        return len(self.unmapped)

    @property
    def unmapped_calls(self) -> int:
        """Calls whose code is unmapped."""
        return sum(u.count for u in self.unmapped)

    @property
    def ok(self) -> bool:
        """True when every code is mapped."""
        return not self.unmapped

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with each unmapped code."""
        return {
            "map": self.map_name,
            "mapped_codes": self.mapped_codes,
            "mapped_calls": self.mapped_calls,
            "unmapped_codes": self.unmapped_codes,
            "unmapped_calls": self.unmapped_calls,
            "unmapped": [u.to_dict() for u in self.unmapped],
        }


_Index = dict[tuple[str | None, str], MappedCallType]
"""Normalised ``(agency or None, code)`` -> what the entry maps it to."""


class AgencyMap(BaseModel):
    """One export's codes mapped onto the canonical call types (see the module docstring).

    Build it with :func:`load_map` or :func:`builtin_map`; validating it directly
    checks call types against the built-in vocabulary unless a ``vocabulary`` is
    given in the validation context.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    name: str = Field(pattern=_MAP_NAME_PATTERN)
    description: str = ""
    agencies: tuple[str, ...] | None = None
    entries: tuple[MapEntry, ...]
    _index: _Index = PrivateAttr(default_factory=dict)
    _agencies: frozenset[str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> AgencyMap:
        context = info.context if isinstance(info.context, dict) else {}
        vocabulary = context.get("vocabulary")
        if not isinstance(vocabulary, CallTypeVocabulary):
            vocabulary = load_vocabulary()
        problems: list[tuple[tuple[str | int, ...], str]] = []
        agencies = None
        if self.agencies is not None:
            agencies = frozenset(normalise_code(a) for a in self.agencies)
            if not agencies or "" in agencies:
                problems.append((("agencies",), "list at least one non-blank agency"))
        if not self.entries:
            problems.append((("entries",), "list at least one entry"))
        index: _Index = {}
        first: dict[tuple[str | None, str], int] = {}
        for i, entry in enumerate(self.entries):
            where: tuple[str | int, ...] = ("entries", i)
            ct = vocabulary.get(entry.call_type)
            if ct is None:
                problems.append(
                    ((*where, "call_type"), vocabulary.unknown_message(entry.call_type))
                )
            key = entry.key
            if agencies is not None and key[0] is not None and key[0] not in agencies:
                problems.append(
                    (
                        (*where, "agency"),
                        f"agency {entry.agency!r} is not one of this map's agencies "
                        f"({', '.join(sorted(agencies))})",
                    )
                )
            if key in first:
                who = f" for agency {key[0]}" if key[0] is not None else ""
                problems.append(
                    (
                        (*where, "code"),
                        f"code {key[1]!r}{who} is already mapped by entries.{first[key]}",
                    )
                )
                continue
            first[key] = i
            if ct is not None:
                index[key] = MappedCallType(
                    call_type=ct.id,
                    label=ct.label,
                    category=ct.category,
                    flags=frozenset(entry.flags),
                    report_only_hint=entry.report_only_hint,
                    code=key[1],
                    agency=key[0],
                )
        if problems:
            raise LocatedErrors(problems)
        self._index = index
        self._agencies = agencies
        return self

    def lookup(self, code: str, agency: str | None = None) -> MappedCallType | None:
        """What ``code`` of ``agency`` means, or None when this map has no entry.

        The agency's own entry wins over an entry for any agency. Never raises for
        any string; compare with :func:`normalise_code`.
        """
        # read the private dict directly: pydantic's private-attribute lookup costs
        # ~1.5 us, thirty times this whole fast path
        private = self.__pydantic_private__ or {}
        index: _Index = private["_index"]
        # fast path: codes as the importer stores them are already normalised
        if agency is None:
            hit = index.get((None, code))
            if hit is not None:
                return hit
            return index.get((None, normalise_code(code)))
        hit = index.get((agency, code))
        if hit is not None:
            return hit
        a, c = normalise_code(agency) or None, normalise_code(code)
        if a is None:
            return index.get((None, c))
        agencies = self._agencies
        if agencies is not None and a not in agencies:
            return None
        return index.get((a, c)) or index.get((None, c))

    def check(self, codes: Iterable[tuple[str | None, str, int]]) -> MapCheck:
        """Coverage of ``(agency, code, calls)`` rows (repeated pairs are summed after
        normalisation); unmapped codes most calls first."""
        totals: dict[tuple[str | None, str], int] = {}
        for agency, code, count in codes:
            key = (
                normalise_code(agency) or None if agency is not None else None,
                normalise_code(code),
            )
            totals[key] = totals.get(key, 0) + count
        mapped_codes = mapped_calls = 0
        unmapped: list[UnmappedCode] = []
        for (agency, code), count in totals.items():
            if self.lookup(code, agency) is None:
                unmapped.append(UnmappedCode(agency, code, count))
            else:
                mapped_codes += 1
                mapped_calls += count
        unmapped.sort(key=lambda u: (-u.count, u.agency or "", u.code))
        return MapCheck(self.name, mapped_codes, mapped_calls, tuple(unmapped))

    def unmapped(self, codes: Iterable[tuple[str | None, str, int]]) -> list[UnmappedCode]:
        """The ``(agency, code, calls)`` rows this map has no entry for, summed per
        normalised pair, most calls first."""
        return list(self.check(codes).unmapped)


def load_map(path: str | Path, vocabulary: CallTypeVocabulary | None = None) -> AgencyMap:
    """Load and validate an agency map file against ``vocabulary`` (default: built-in).

    Raises :class:`~smart_policing.datafiles.DataFileError` naming file, line and
    field, with the known call types or flags for an unknown one.
    """
    data, lines = load_yaml_with_lines(path)
    vocab = vocabulary if vocabulary is not None else load_vocabulary()
    try:
        return AgencyMap.model_validate(data, context={"vocabulary": vocab})
    except ValidationError as exc:
        raise format_validation_error(path, exc, lines) from exc


def _maps_dir() -> Traversable:
    return resources.files("smart_policing.triage") / "data" / "maps"


def builtin_map_names() -> tuple[str, ...]:
    """Names of the maps shipped in ``triage/data/maps`` (file names without ``.yaml``)."""
    return tuple(
        sorted(
            p.name.removesuffix(".yaml") for p in _maps_dir().iterdir() if p.name.endswith(".yaml")
        )
    )


def best_builtin_map(codes: Mapping[tuple[str | None, str], int]) -> AgencyMap:
    """The shipped map that knows the most calls of ``codes`` ((agency, code) -> calls);
    ties, and no calls at all, go to the default map (``cad-2025``).

    For data whose export is not named: the demo city's stored calls pick the
    ``synthetic-city`` map, a real CAD export of the 2025 centre picks ``cad-2025``.
    """
    maps = [builtin_map(DEFAULT_MAP)] + [
        builtin_map(n) for n in builtin_map_names() if n != DEFAULT_MAP
    ]

    def known(m: AgencyMap) -> int:
        return sum(n for (agency, code), n in codes.items() if m.lookup(code, agency) is not None)

    return max(maps, key=known)  # max keeps the first of equals: the default


def builtin_map(name: str = DEFAULT_MAP) -> AgencyMap:
    """A shipped map by name (e.g. ``cad-2025``), loaded once; KeyError names the known ones."""
    return _builtin_map(name)


@cache
def _builtin_map(name: str) -> AgencyMap:
    names = builtin_map_names()
    if name not in names:
        raise KeyError(f"unknown call-type map {name!r}; known: {', '.join(names)}")
    with resources.as_file(_maps_dir() / f"{name}.yaml") as path:
        agency_map = load_map(path)
    if agency_map.name != name:
        raise DataFileError(path, [f"line ?, field 'name': {agency_map.name!r} != file {name!r}"])
    return agency_map


# ---------------------------------------------------------------- the store


def stored_call_type_counts(
    engine: Engine, *, import_id: int | None = None, source: str | None = None
) -> list[tuple[str | None, str, int]]:
    """``(agency, call_type_code, calls)`` of the stored calls, optionally of one
    import or source; feed it to :meth:`AgencyMap.check` or :meth:`AgencyMap.unmapped`."""
    c = t.calls
    where = []
    if import_id is not None:
        where.append(c.c.import_id == import_id)
    if source is not None:
        where.append(c.c.source == source)
    query = (
        select(c.c.agency, c.c.call_type_code, func.count())
        .where(*where)
        .group_by(c.c.agency, c.c.call_type_code)
    )
    with engine.connect() as conn:
        return [(a, code, int(n)) for a, code, n in conn.execute(query)]
