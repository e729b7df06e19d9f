"""Normalised address keys for places: one string per place, however it was written.

Police records name places by street or block address, written inconsistently:
``123 N. Main Street``, ``123 NORTH MAIN ST`` and ``123 n main st.`` are one place.
:func:`normalise_address` turns each spelling into the same *key*, ``123 N MAIN ST``;
the false-alarm registry keys alarm sites on it, and imports join on it.

The method is a small rule-based parser, not a geocoder. It follows the
abbreviation tables of USPS Publication 28, *Postal Addressing Standards*:
Appendix C1 (street suffixes), Appendix C2 (secondary unit designators) and the
directional abbreviations of the delivery address line. The tables live in
``address_abbreviations.yaml`` beside this module; they are read once, on first use,
and validated (a spelling with two meanings is an error naming the file and line).

Rules, in order
---------------
1. **Characters.** Unicode NFKC, accents stripped (NFKD without combining marks),
   upper case. Apostrophes are deleted (``O'DONNELL`` -> ``ODONNELL``); Unicode
   dashes become ``-``; ``N.E.`` / ``S. W.`` become ``NE`` / ``SW``. Every other
   character that is not a letter or digit (``. , ; : ( )`` ...) separates words,
   except ``&``, ``/`` and ``@`` (intersections), ``#`` (unit) and the hyphen inside a
   word that starts with a digit (house numbers ``12-14``, unit ``4-B``). A fraction
   ``1/2`` is one word (``123 1/2 MAIN ST``). Whitespace collapses to one space.
2. **Intersections.** ``&``, ``/``, ``@`` and the word ``AND`` split the text into
   streets; each is normalised alone and the keys are sorted and joined with
   ``" & "``, so ``E 25TH ST AND N CHARLES ST`` -> ``E 25TH ST & N CHARLES ST``.
   Empty sides are dropped (a single remaining street is not an intersection).
3. **House number**: the first word when it is digits with an optional letter, hyphen
   range or ``X`` mask (``123``, ``123A``, ``12-14``, ``12XX``; not ordinals like
   ``41ST``), plus a following fraction. Written as given (``0123`` stays).
4. **Block addresses.** After a house number, ``BLOCK``, ``BLOCK OF``, ``BLK`` and
   ``BLK OF`` are dropped: ``200 BLOCK OF S BROADWAY`` -> ``200 S BROADWAY`` (the
   Open Baltimore form), unless nothing or only a suffix would remain
   (``100 BLOCK ST`` is kept).
5. **Units** are peeled from the end, repeatedly: a C2 designator (full word or
   abbreviation) followed by an identifier (a word with a digit, or one letter),
   optionally with ``#`` between (``APT #4`` -> ``APT 4``; a designator glued to its
   number, ``APT4B``, is split first); ``#`` and an identifier
   (kept as ``# 4``: Pub 28's designator when the kind is unknown); an ordinal and
   ``FLOOR`` (``2ND FLOOR`` -> ``FL 2``); a designator without a number (``REAR``,
   ``BSMT``, ``FRNT``, a bare ``APT``) right after a street suffix or post-directional.
   A designator is only a unit when a street name stands before it, so
   ``100 PIER 5`` and ``100 N FRONT`` keep their words. The designator is
   abbreviated to its USPS form and kept: ``APT 4``, ``UNIT 4`` and ``# 4`` are
   different keys, because a unit is a distinct alarm site and the kinds are not
   known to be interchangeable. A ``#`` that introduces nothing is dropped.
6. **Street.** In the words left, in this order:

   * *post-directional*: the last word is a direction and either follows a suffix
     with a name before it (``MAIN ST NW``) or follows some non-direction word
     (``BROADWAY N``, ``AVENUE N``);
   * *suffix*: the last remaining word, if it is a C1 suffix spelling and at least one
     word stays for the name. Only that last word is a suffix: ``100 AVENUE RD``
     has name ``AVENUE``; ``100 AVENUE OF THE AMERICAS`` has no suffix;
   * *pre-directional*: the first remaining word, if it is a direction and at least
     one word stays for the name. ``1500 E NORTH AVE`` keeps ``NORTH`` as the name,
     and so does ``100 NORTH AVE`` (the suffix is taken first, leaving ``NORTH``
     alone);
   * *name*: everything else, kept as written (``41ST`` stays ``41ST``, ``FIRST``
     stays ``FIRST``, ``SAINT`` is not turned into ``ST``, ``AVENUE`` in a name is
     not abbreviated).

   Directions become ``N S E W NE NW SE SW``; the suffix becomes its C1 standard
   abbreviation (``STREET``/``STR``/``ST.`` -> ``ST``, ``AVENUE``/``AV`` -> ``AVE``).
7. **Key** = number, pre-directional, name, suffix, post-directional, units, joined
   by single spaces. Blank text, or text with no letter or digit, gives ``None``.

Decisions worth knowing
-----------------------
* A leading ``THE`` is kept (``3400 THE ALAMEDA``). A key should never merge two
  places; a missed merge costs less than suspending response to the wrong site.
* Name words are never abbreviated or expanded, so ``ST PAUL ST`` and
  ``SAINT PAUL ST`` stay different, as do ``HWY 40`` and ``HIGHWAY 40`` (no suffix
  there: the last word is ``40``) and ``AVE N`` / ``AVENUE N``.
* A lone suffix-like word after a direction is the suffix: ``100 N GREEN`` ->
  ``100 N GRN`` (name ``N``), as ``100 NORTH AVE`` requires.
* ``AND`` always means an intersection (``LEWIS AND CLARK BLVD`` is split).
* The input is the street line only; a city, state or ZIP code is not recognised.
* The key is deterministic and idempotent:
  ``normalise_address(normalise_address(x)) == normalise_address(x)``.

:func:`block_of` generalises a key for public outputs: house number rounded down
to the hundred (``12XX`` counts as 1200), units dropped. :func:`normalise_addresses`
does a whole :class:`polars.Series`, each distinct value once.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Annotated, Literal, Self

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from smart_policing.datafiles import load_model

__all__ = [
    "Intersection",
    "ParsedAddress",
    "Place",
    "block_of",
    "normalise_address",
    "normalise_addresses",
    "parse_address",
]

_TABLE_PACKAGE = "smart_policing.model"
_TABLE_FILE = "address_abbreviations.yaml"

# ---------------------------------------------------------------------------
# The abbreviation tables (USPS Publication 28), validated on first use
# ---------------------------------------------------------------------------

_Word = Annotated[str, StringConstraints(pattern=r"^[A-Z]+$")]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: _Word
    abbreviation: _Word
    variants: tuple[_Word, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        return (self.name, self.abbreviation, *self.variants)


class _UnitRow(_Row):
    requires_range: bool


def _spelling_map(rows: Iterable[_Row]) -> dict[str, str]:
    """Every spelling -> its standard abbreviation; raise on a spelling with two."""
    out: dict[str, str] = {}
    for row in rows:
        for spelling in row.spellings():
            seen = out.setdefault(spelling, row.abbreviation)
            if seen != row.abbreviation:
                raise ValueError(f"{spelling!r} would mean both {seen!r} and {row.abbreviation!r}")
    return out  # each abbreviation is a spelling of its own row, so it maps to itself


class _AbbreviationFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1]
    street_suffixes: tuple[_Row, ...] = Field(min_length=1)
    directionals: tuple[_Row, ...] = Field(min_length=1)
    secondary_units: tuple[_UnitRow, ...] = Field(min_length=1)

    @field_validator("street_suffixes", "directionals", "secondary_units")
    @classmethod
    def _one_meaning_per_spelling(cls, rows: tuple[_Row, ...]) -> tuple[_Row, ...]:
        _spelling_map(rows)
        return rows

    @model_validator(mode="after")
    def _directions_are_only_directions(self) -> Self:
        directions = set(_spelling_map(self.directionals))
        others = set(_spelling_map(self.street_suffixes)) | set(_spelling_map(self.secondary_units))
        if clash := sorted(directions & others):
            raise ValueError(f"directional spellings also used as suffix or unit: {clash}")
        return self


@dataclass(frozen=True, slots=True)
class _Tables:
    suffixes: Mapping[str, str]
    directions: Mapping[str, str]
    units: Mapping[str, str]
    ranged_units: frozenset[str]


@functools.cache
def _tables() -> _Tables:
    resource = resources.files(_TABLE_PACKAGE).joinpath(_TABLE_FILE)
    with resources.as_file(resource) as path:
        data = load_model(path, _AbbreviationFile)
    return _Tables(
        suffixes=_spelling_map(data.street_suffixes),
        directions=_spelling_map(data.directionals),
        units=_spelling_map(data.secondary_units),
        ranged_units=frozenset(u.abbreviation for u in data.secondary_units if u.requires_range),
    )


# ---------------------------------------------------------------------------
# Parsed forms
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """One street address, split into its Pub 28 components (all normalised).

    ``unit`` holds every unit, designator and identifier, e.g. ``"BLDG 2 APT 4"``.
    """

    number: str | None = None
    predirectional: str | None = None
    name: str | None = None
    suffix: str | None = None
    postdirectional: str | None = None
    unit: str | None = None

    @property
    def key(self) -> str:
        """The canonical key: the non-empty components joined by single spaces."""
        parts = (
            self.number,
            self.predirectional,
            self.name,
            self.suffix,
            self.postdirectional,
            self.unit,
        )
        return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Intersection:
    """Two or more streets meeting; ``streets`` are sorted by their keys."""

    streets: tuple[ParsedAddress, ...]

    @property
    def key(self) -> str:
        """The streets' keys joined by ``" & "``."""
        return " & ".join(s.key for s in self.streets)


# ---------------------------------------------------------------------------
# Characters and words
# ---------------------------------------------------------------------------

_CHARACTERS = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-")
    | dict.fromkeys("'\u2018\u2019\u02bc\u0060\u00b4", None)
)
_DOTTED_DIRECTION = re.compile(r"(?<![^\W_])([NS])\.\s?([EW])(?![^\W_])")
_TOKEN = re.compile(r"(?<![^\W_])[0-9]+/[0-9]+(?![^\W_])|[^\W_]+(?:-[^\W_]+)*|[&/@#]")
_DIGIT = re.compile(r"[0-9]")
_FRACTION = re.compile(r"[0-9]+/[0-9]+")
_HOUSE_NUMBER = re.compile(r"[0-9]+(?:[A-Z]|X+)?(?:-[0-9A-Z]+)*")
_ORDINAL = re.compile(r"([0-9]+)(?:ST|ND|RD|TH)?")
_GLUED_UNIT = re.compile(r"([A-Z]+)([0-9][0-9A-Z-]*)")
_SEPARATORS = frozenset({"&", "/", "@", "AND"})
_BLOCK_WORDS = frozenset({"BLOCK", "BLK"})
_FLOOR = "FL"


def _fold_once(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", stripped.upper())


def _fold(text: str) -> str:
    """NFKC, accents stripped, upper case; repeated until stable (upper() can unfold)."""
    if text.isascii():
        return text.upper()
    for _ in range(4):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _words(text: str) -> list[str]:
    text = _fold(text).translate(_CHARACTERS)
    if "." in text:
        text = _DOTTED_DIRECTION.sub(r"\1\2", text)
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if "-" in token and not "0" <= token[0] <= "9":
            words.extend(token.split("-"))
        else:
            words.append(token)
    return words


def _is_unit_id(word: str) -> bool:
    return _DIGIT.search(word) is not None or (len(word) == 1 and word != "#")


def _has_name(words: list[str]) -> bool:
    return any(w != "#" for w in words)


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------


def _strip_block(words: list[str], tables: _Tables) -> list[str]:
    """``BLOCK [OF]`` / ``BLK [OF]`` after a house number, unless too little is left."""
    while len(words) >= 2 and words[0] in _BLOCK_WORDS:
        rest = words[2:] if words[1] == "OF" else words[1:]
        if not rest or (len(rest) == 1 and rest[0] in tables.suffixes):
            break
        words = rest
    return words


def _ends_street(words: list[str], tables: _Tables) -> bool:
    """Do ``words`` end with a suffix (or suffix + direction) that has a name before it?"""
    if words and words[-1] in tables.directions:
        words = words[:-1]
    return len(words) >= 2 and words[-1] in tables.suffixes and _has_name(words[:-1])


def _peel_unit(words: list[str], tables: _Tables) -> tuple[str, int] | None:
    """The last unit of ``words`` and where it starts, or None."""
    n = len(words)
    last = words[-1] if words else ""
    if n >= 2 and _is_unit_id(last):
        before = words[-2]
        designator = tables.units.get(before)
        if designator in tables.ranged_units:
            start = n - 2
            unit = f"{designator} {_unit_id(designator, last)}"
        elif (
            before == "#"
            and n >= 3
            and (designator := tables.units.get(words[-3])) in tables.ranged_units
        ):
            start = n - 3
            unit = f"{designator} {_unit_id(designator, last)}"
        elif before == "#":
            start = n - 2
            unit = f"# {last}"
        else:
            start = -1
            unit = ""
        if start >= 0 and _has_name(words[:start]):
            return unit, start
    if n >= 2 and tables.units.get(last) == _FLOOR:
        level = _ORDINAL.fullmatch(words[-2])
        if level and _ends_street(words[:-2], tables):
            return f"{_FLOOR} {level.group(1)}", n - 2
    if last in tables.units and _ends_street(words[:-1], tables):
        return tables.units[last], n - 1
    return None


def _unit_id(designator: str | None, word: str) -> str:
    if designator == _FLOOR and (level := _ORDINAL.fullmatch(word)):
        return level.group(1)
    return word


def _split_street(
    words: list[str], tables: _Tables
) -> tuple[str | None, str | None, str | None, str | None]:
    """(pre-directional, name, suffix, post-directional) of the words after the number."""
    directions, suffixes = tables.directions, tables.suffixes
    lo, hi = 0, len(words)
    pre = suffix = post = None
    if hi >= 2 and words[-1] in directions:
        after_suffix = hi >= 3 and words[-2] in suffixes
        if after_suffix or any(w not in directions for w in words[:-1]):
            post = directions[words[-1]]
            hi -= 1
    if hi - lo >= 2 and words[hi - 1] in suffixes:
        suffix = suffixes[words[hi - 1]]
        hi -= 1
    if hi - lo >= 2 and words[lo] in directions:
        pre = directions[words[lo]]
        lo += 1
    name = " ".join(words[lo:hi]) or None
    return pre, name, suffix, post


def _parse_street(words: list[str], tables: _Tables) -> ParsedAddress | None:
    number = None
    if words and _HOUSE_NUMBER.fullmatch(words[0]):
        number, words = words[0], words[1:]
        if words and _FRACTION.fullmatch(words[0]):
            number, words = f"{number} {words[0]}", words[1:]
    if "#" in words:  # a '#' that introduces no identifier is punctuation
        words = [w for i, w in enumerate(words) if w != "#" or _next_is_id(words, i)]
    if number is not None:
        words = _strip_block(words, tables)
    units: list[str] = []
    while (peeled := _peel_unit(words, tables)) is not None:
        unit, start = peeled
        units.insert(0, unit)
        words = words[:start]
    if "#" in words:
        words = [w for w in words if w != "#"]
    pre, name, suffix, post = _split_street(words, tables)
    unit_text = " ".join(units) or None
    if number is None and name is None and unit_text is None and pre is None and suffix is None:
        return None
    return ParsedAddress(number, pre, name, suffix, post, unit_text)


def _next_is_id(words: list[str], i: int) -> bool:
    return i + 1 < len(words) and _is_unit_id(words[i + 1])


def parse_address(text: str | None) -> ParsedAddress | Intersection | None:
    """Parse ``text`` into its normalised components (see the module docstring).

    Returns an :class:`Intersection` when the text names two or more streets, a
    :class:`ParsedAddress` otherwise, and None for blank text or None.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"an address must be str or None, not {type(text).__name__}")
    tables = _tables()
    sides: list[list[str]] = [[]]
    for word in _words(text):
        if word in _SEPARATORS:
            sides.append([])
        elif (
            not (word.isalpha() or word.isdigit())  # neither can be letters then digits
            and (glued := _GLUED_UNIT.fullmatch(word))
            and glued.group(1) in tables.units
        ):
            sides[-1] += glued.groups()
        else:
            sides[-1].append(word)
    streets = [s for side in sides if (s := _parse_street(side, tables)) is not None]
    if not streets:
        return None
    if len(streets) == 1:
        return streets[0]
    return Intersection(tuple(sorted(streets, key=lambda s: s.key)))


def normalise_address(text: str | None) -> str | None:
    """The canonical key of an address, or None for blank text or None.

    >>> normalise_address("123 n. Main Street")
    '123 N MAIN ST'
    >>> normalise_address("200 BLOCK OF S BROADWAY")
    '200 S BROADWAY'
    >>> normalise_address("E 25th St and N Charles St")
    'E 25TH ST & N CHARLES ST'
    """
    parsed = parse_address(text)
    return None if parsed is None else parsed.key


# ---------------------------------------------------------------------------
# Block-level generalisation
# ---------------------------------------------------------------------------

_MASKED = re.compile(r"([0-9]+)(X+)")
_LEADING_DIGITS = re.compile(r"[0-9]+")


def _block_number(number: str) -> str:
    masked = _MASKED.fullmatch(number)
    if masked:
        value = int(masked.group(1)) * 10 ** len(masked.group(2))
    else:
        digits = _LEADING_DIGITS.match(number)
        if digits is None:  # pragma: no cover - a house number starts with a digit
            return number
        value = int(digits.group())
    return str(value // 100 * 100)


def _block_street(street: ParsedAddress) -> ParsedAddress:
    number = None if street.number is None else _block_number(street.number)
    return replace(street, number=number, unit=None)


def block_of(key: str) -> str | None:
    """The block-level key for public outputs: ``123 N MAIN ST`` -> ``100 N MAIN ST``.

    The house number is rounded down to the hundred and any unit is dropped (a unit
    identifies a dwelling). Intersections and addresses without a number keep their
    streets. ``key`` is normalised first, so any spelling is accepted; None for blank.
    """
    parsed = parse_address(normalise_address(key))
    if parsed is None:
        return None
    if isinstance(parsed, Intersection):
        streets = sorted((_block_street(s) for s in parsed.streets), key=lambda s: s.key)
        return Intersection(tuple(streets)).key
    return _block_street(parsed).key


# ---------------------------------------------------------------------------
# Bulk
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 18)
def _normalise_cached(text: str) -> str | None:
    """Bulk imports see the same block addresses chunk after chunk: remember them."""
    return normalise_address(text)


def normalise_addresses(values: pl.Series) -> pl.Series:
    """:func:`normalise_address` over a Series, computing each distinct value once.

    Accepts String, Categorical, Enum or all-null Series; returns a String Series of
    the same name and length, with nulls (and blank values) null.
    """
    if values.dtype == pl.Null:
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
    if not (values.dtype == pl.String or isinstance(values.dtype, pl.Categorical | pl.Enum)):
        raise TypeError(f"addresses must be a String Series, not {values.dtype}")
    strings = values.cast(pl.String)
    distinct = strings.drop_nulls().unique()
    keys = pl.Series([_normalise_cached(v) for v in distinct.to_list()], dtype=pl.String)
    return strings.replace_strict(distinct, keys, default=None, return_dtype=pl.String).alias(
        values.name
    )


class Place(BaseModel):
    """A place as stored: its normalised address key, how it was first written,
    a representative WGS84 point (the first located record seen there) and district."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    place_key: str
    block_address: str
    latitude: float | None = None
    longitude: float | None = None
    district: str | None = None

    @classmethod
    def from_address(cls, text: str, **kwargs: float | str | None) -> Place:
        """A place for ``text``; raises ValueError when it holds no address."""
        key = normalise_address(text)
        if key is None:
            raise ValueError(f"{text!r} holds no address")
        return cls(place_key=key, block_address=text, **kwargs)
