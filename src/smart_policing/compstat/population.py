"""Resident population per city and year: the denominator of rates per 100,000.

Two layers, the second overriding the first year by year:

1. a **population file** shipped per city (``packs/population/<city>.yaml``); Baltimore's
   carries the 2017-2022 figures of seed 002, Table 1 (source: Baltimore Police
   Department, 2023);
2. the ``population`` table of the store, where users add or correct years
   (``smart-policing compstat population add`` / ``import-ucr``).

A year with neither has no population, and its rates are missing (None): a rate is
never computed from a guessed, interpolated or neighbouring year's population.

File shape::

    schema_version: 1
    city: baltimore
    name: Baltimore City
    figures:
      - {year: 2017, population: 610226, source: "BPD 2023, ... Table 1"}

:func:`read_ucr_population` reads the Maryland UCR yearly CSV (columns
``JURISDICTION``, ``YEAR``, ``POPULATION``; one row per jurisdiction and year, e.g.
``Baltimore City,2015,621252,...``) so those years can be added in one go.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smart_policing.datafiles import LocatedErrors, load_model

__all__ = [
    "PopulationFigure",
    "PopulationFile",
    "PopulationOrigin",
    "UcrPopulationError",
    "builtin_population",
    "load_population_file",
    "merge_population",
    "read_ucr_population",
]

PopulationOrigin = Literal["file", "database"]


class PopulationFigure(BaseModel):
    """One city-year's resident population (persons) and where the figure comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=1800, le=2200)
    population: int = Field(gt=0)
    source: str = Field(min_length=1)
    origin: PopulationOrigin = "file"


class PopulationFile(BaseModel):
    """A city's shipped population figures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    city: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    name: str = Field(min_length=1)
    figures: tuple[PopulationFigure, ...] = ()

    @model_validator(mode="after")
    def _one_per_year(self) -> PopulationFile:
        seen: set[int] = set()
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for i, f in enumerate(self.figures):
            if f.year in seen:
                problems.append((("figures", i, "year"), f"year {f.year} is listed twice"))
            if f.origin != "file":
                problems.append((("figures", i, "origin"), "figures in a file have origin 'file'"))
            seen.add(f.year)
        if problems:
            raise LocatedErrors(problems)
        return self


def load_population_file(path: str | Path) -> PopulationFile:
    """Load and validate a population file (errors name file, line and field)."""
    return load_model(path, PopulationFile)


@cache
def builtin_population(city: str) -> PopulationFile | None:
    """The population file shipped for ``city``, or None when there is none."""
    if not re.match(r"^[a-z][a-z0-9_]*$", city):
        return None
    ref = resources.files("smart_policing.compstat") / "packs" / "population" / f"{city}.yaml"
    if not ref.is_file():
        return None
    with resources.as_file(ref) as path:
        return load_population_file(path)


def merge_population(
    shipped: Iterable[PopulationFigure], stored: Iterable[PopulationFigure]
) -> dict[int, PopulationFigure]:
    """Population per year: the shipped figures, each overridden by a stored one."""
    out = {f.year: f for f in shipped}
    out.update({f.year: f for f in stored})
    return dict(sorted(out.items()))


class UcrPopulationError(ValueError):
    """A UCR file that cannot be read; the message names the file and line."""


def read_ucr_population(
    text: str, *, jurisdiction: str, file_name: str = "<ucr>"
) -> list[tuple[int, int]]:
    """``(year, population)`` rows of ``jurisdiction`` from a Maryland UCR CSV.

    The jurisdiction is matched ignoring case and surrounding spaces. Raises
    :class:`UcrPopulationError` for missing columns, a year listed twice, or a value
    that is not a whole positive number (naming the line; the header is line 1), and
    when the jurisdiction has no rows (naming the ones the file has).
    """
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().upper(): h for h in reader.fieldnames or []}
    missing = [c for c in ("JURISDICTION", "YEAR", "POPULATION") if c not in header]
    if missing:
        raise UcrPopulationError(f"{file_name}: missing column(s) {', '.join(missing)}")
    want = jurisdiction.strip().casefold()
    seen: set[str] = set()
    out: dict[int, int] = {}
    for row in reader:
        line = reader.line_num
        name = (row[header["JURISDICTION"]] or "").strip()
        seen.add(name)
        if name.casefold() != want:
            continue
        values: list[int] = []
        for col in ("YEAR", "POPULATION"):
            raw = (row[header[col]] or "").strip().replace(",", "")
            if not raw.isdigit() or int(raw) <= 0:
                raise UcrPopulationError(
                    f"{file_name}, line {line}, column {col}: "
                    f"{raw!r} is not a positive whole number"
                )
            values.append(int(raw))
        year, population = values
        if year in out:
            raise UcrPopulationError(f"{file_name}, line {line}: year {year} is listed twice")
        out[year] = population
    if not out:
        known = ", ".join(sorted(seen)[:30])
        raise UcrPopulationError(
            f"{file_name}: no rows for jurisdiction {jurisdiction!r} (the file has: {known})"
        )
    return sorted(out.items())
