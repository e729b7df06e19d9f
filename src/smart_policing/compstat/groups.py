"""Offence groups of the violent-crime table: which agency codes count, and how.

A group file (YAML, ``schema_version: 1``) maps an agency's offence codes
(``incidents.offence_code``; for Baltimore the Part 1 ``CrimeCode``) to the groups of
the Compstat table (seed 002, Table 1: homicide, rape, robbery, aggravated assault,
plus non-fatal shootings for the chart). Shape::

    schema_version: 1
    city: baltimore                  # the key a query names
    name: Baltimore City             # shown in reports
    chart: [shootings, homicide]     # groups of the monthly chart
    groups:
      - {id: homicide, label: Homicide, counts: victims, codes: [1F, 1K, 1O]}
      - {id: robbery, label: Robbery, counts: incidents, prefixes: ["3"]}
      - {id: violent_crime, label: Violent crime, of: [homicide, robbery]}

A **base** group lists ``codes`` (exact, matched case-insensitively) and/or
``prefixes`` (a code starting with one), and says what it ``counts``:

``victims``
    the sum of ``victim_count`` (victim-based sources such as Open Baltimore store
    one incident per set of identical victim rows). The FBI UCR Summary rules count
    murder, rape and aggravated assault once per victim.
``incidents``
    one per incident, however many victims. UCR counts robbery once per incident.

A **composite** group (``of``) is the sum of its base groups, each counted in its own
unit: UCR's "violent crime" is murder victims + rape victims + robbery incidents +
aggravated-assault victims. A code belongs to at most one base group (checked at load);
codes in no group are outside the table and only counted as such.

Errors name the file, line and field (:func:`smart_policing.datafiles.load_model`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smart_policing.datafiles import DataFileError, LocatedErrors, load_model

__all__ = [
    "CountUnit",
    "GroupSet",
    "OffenceGroup",
    "builtin_cities",
    "builtin_groups",
    "load_groups",
]

CountUnit = Literal["victims", "incidents"]


_ID = r"^[a-z][a-z0-9_]*$"


class OffenceGroup(BaseModel):
    """One row group of the violent-crime table (base or composite)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID, max_length=64)
    label: str = Field(min_length=1)
    counts: CountUnit | None = None
    codes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    of: tuple[str, ...] = ()

    @property
    def composite(self) -> bool:
        """True for a sum of other groups (``of``)."""
        return bool(self.of)

    @model_validator(mode="after")
    def _shape(self) -> OffenceGroup:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.of:
            for name in ("codes", "prefixes", "counts"):
                if getattr(self, name):
                    problems.append(((name,), f"a composite group (of) takes no {name}"))
        else:
            if not self.codes and not self.prefixes:
                problems.append(((), "a group needs codes, prefixes or of"))
            if self.counts is None:
                problems.append(
                    (("counts",), "a base group says what it counts: victims or incidents")
                )
        for name in ("codes", "prefixes"):
            for i, code in enumerate(getattr(self, name)):
                if not code.strip() or code != code.strip():
                    problems.append(((name, i), f"{code!r} is empty or has surrounding spaces"))
        if problems:
            raise LocatedErrors(problems)
        return self


class GroupSet(BaseModel):
    """A city's offence groups (one group file), in display order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    city: str = Field(pattern=_ID, max_length=64)
    name: str = Field(min_length=1)
    chart: tuple[str, ...] = ()
    groups: tuple[OffenceGroup, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> GroupSet:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        seen: dict[str, int] = {}
        for i, g in enumerate(self.groups):
            if g.id in seen:
                problems.append((("groups", i, "id"), f"duplicate group id {g.id!r}"))
            seen[g.id] = i
        base = {g.id for g in self.groups if not g.composite}
        for i, g in enumerate(self.groups):
            for j, member in enumerate(g.of):
                if member not in base:
                    problems.append(
                        (
                            ("groups", i, "of", j),
                            f"{member!r} is not a base group (known: {', '.join(sorted(base))})",
                        )
                    )
        for j, name in enumerate(self.chart):
            if name not in seen:
                problems.append((("chart", j), f"{name!r} is not a group"))
        # a code may be claimed by one base group only (exact code or prefix)
        owner: dict[str, tuple[int, str]] = {}
        for i, g in enumerate(self.groups):
            for j, code in enumerate(g.codes):
                key = code.upper()
                if key in owner and owner[key][1] != g.id:
                    problems.append(
                        (("groups", i, "codes", j), f"{code!r} is already in {owner[key][1]!r}")
                    )
                owner.setdefault(key, (i, g.id))
        for i, g in enumerate(self.groups):
            for j, prefix in enumerate(g.prefixes):
                p = prefix.upper()
                for other in self.groups:
                    if other.id == g.id:
                        continue
                    clash = [c for c in other.codes if c.upper().startswith(p)] + [
                        q
                        for q in other.prefixes
                        if q.upper().startswith(p) or p.startswith(q.upper())
                    ]
                    if clash:
                        problems.append(
                            (
                                ("groups", i, "prefixes", j),
                                f"prefix {prefix!r} overlaps {other.id!r} ({', '.join(clash)})",
                            )
                        )
        if problems:
            raise LocatedErrors(problems)
        return self

    def get(self, group_id: str) -> OffenceGroup:
        """The group ``group_id``; KeyError naming the known ids otherwise."""
        for g in self.groups:
            if g.id == group_id:
                return g
        raise KeyError(
            f"unknown group {group_id!r} (known: {', '.join(g.id for g in self.groups)})"
        )

    @property
    def base_groups(self) -> tuple[OffenceGroup, ...]:
        """Groups that map codes directly (not composites)."""
        return tuple(g for g in self.groups if not g.composite)

    def group_of(self, offence_code: str) -> OffenceGroup | None:
        """The base group ``offence_code`` belongs to, or None (outside the table)."""
        code = offence_code.upper()
        for g in self.base_groups:
            if code in (c.upper() for c in g.codes):
                return g
        for g in self.base_groups:
            if any(code.startswith(p.upper()) for p in g.prefixes):
                return g
        return None

    def codes_for(self, group_ids: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Upper-case exact codes and prefixes of ``group_ids`` (composites expanded)."""
        codes: dict[str, None] = {}
        prefixes: dict[str, None] = {}
        for gid in group_ids:
            g = self.get(gid)
            for member in [self.get(m) for m in g.of] if g.composite else [g]:
                codes.update(dict.fromkeys(c.upper() for c in member.codes))
                prefixes.update(dict.fromkeys(p.upper() for p in member.prefixes))
        return tuple(codes), tuple(prefixes)

    def classify(self, codes: Iterable[str]) -> dict[str, str | None]:
        """Base group id per code (None for codes outside every group)."""
        exact = {c.upper(): g.id for g in self.base_groups for c in g.codes}
        prefixes = [(p.upper(), g.id) for g in self.base_groups for p in g.prefixes]
        out: dict[str, str | None] = {}
        for code in codes:
            key = code.upper()
            out[code] = exact.get(key) or next(
                (gid for p, gid in prefixes if key.startswith(p)), None
            )
        return out


def load_groups(path: str | Path) -> GroupSet:
    """Load and validate a group file; :class:`~smart_policing.datafiles.DataFileError`
    names the file, line and field of every problem."""
    return load_model(path, GroupSet)


def _pack(kind: str, city: str) -> Traversable:
    return resources.files("smart_policing.compstat") / "packs" / kind / f"{city}.yaml"


@cache
def builtin_cities() -> tuple[str, ...]:
    """Cities with a group file shipped in ``packs/groups`` (e.g. ``baltimore``)."""
    folder = resources.files("smart_policing.compstat") / "packs" / "groups"
    return tuple(
        sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))
    )


@cache
def builtin_groups(city: str) -> GroupSet:
    """The group file shipped for ``city`` (:func:`builtin_cities`)."""
    if not re.match(_ID, city) or city not in builtin_cities():
        raise KeyError(f"unknown city {city!r} (known: {', '.join(builtin_cities())})")
    with resources.as_file(_pack("groups", city)) as path:
        groups = load_groups(path)
    if groups.city != city:
        raise DataFileError(
            path, [f"line 2, field 'city': {groups.city!r} in the file for {city!r}"]
        )
    return groups
