"""Policy packs: shipped packs load, errors name file/line/field, packs round-trip."""

from __future__ import annotations

import copy
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_policing.datafiles import DataFileError
from smart_policing.triage.pack import (
    WEEKDAYS,
    AlarmPolicy,
    Pack,
    builtin_pack,
    builtin_packs,
    call_type_catalogue,
    dump_pack,
    holiday_dates,
    load_pack,
    resolve_pack,
)
from smart_policing.triage.types import AlarmKind, AlarmStatus, CallFlag, ResponderKind

PACKS = ("baltimore-smart-2022", "minneapolis-2020-pilots")


def minimal() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": "test-pack",
        "version": "1",
        "effective_from": "2022-01-01",
        "timezone": "America/New_York",
        "responders": [
            {"id": "patrol", "kind": "patrol", "label": "Patrol"},
            {
                "id": "tru",
                "kind": "telephone-report",
                "label": "TRU",
                "hours": [{"days": ["mon", "fri"], "start": "07:00", "end": "23:00"}],
            },
            {"id": "online", "kind": "online-report", "label": "Online"},
            {"id": "nobody", "kind": "no-response", "label": "Nobody"},
        ],
        "rules": [
            {
                "id": "lost",
                "precedence": 10,
                "description": "lost property",
                "when": {"call_types": ["lost-property"]},
                "then": {"primary": "tru", "fallback": ["online"], "reason": "report"},
            },
            {
                "id": "default",
                "precedence": 100,
                "description": "catch-all",
                "then": {"primary": "patrol", "reason": "default"},
            },
        ],
    }


def write(tmp_path: Path, data: dict[str, Any], text: str | None = None) -> Path:
    p = tmp_path / "pack.yaml"
    p.write_text(text if text is not None else yaml.safe_dump(data, sort_keys=False))
    return p


def load_error(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(DataFileError) as info:
        load_pack(write(tmp_path, data))
    return str(info.value)


# ---------------------------------------------------------------- shipped packs


def test_shipped_packs_are_listed_and_load() -> None:
    assert builtin_packs() == PACKS
    for name in PACKS:
        pack = builtin_pack(name)
        assert pack.name == name
        assert pack.ordered_rules[-1].when.is_catch_all
        assert resolve_pack(name) is pack


@pytest.mark.parametrize("name", PACKS)
def test_every_rule_cites_its_seed(name: str) -> None:
    for rule in builtin_pack(name).rules:
        assert re.search(r"\b(seed 00[0-4]|00[0-4]\b|R[1-5]\b)", rule.description, re.I), rule.id


def test_baltimore_numbers_from_the_seed() -> None:
    pack = builtin_pack("baltimore-smart-2022")
    tru = pack.responder("tru")
    assert tru.kind is ResponderKind.TELEPHONE_REPORT
    assert tru.closed_on_holidays
    assert [(w.days, w.start, w.end) for w in tru.hours or ()] == [
        (("mon", "tue", "wed", "thu", "fri"), "07:00", "23:00")
    ]
    assert pack.alarms.threshold == 5
    assert pack.alarms.timezone == pack.timezone
    assert (pack.alarms.reset_month, pack.alarms.reset_day) == (1, 1)
    assert pack.timezone == "America/New_York"


def test_shipped_packs_use_only_canonical_call_types() -> None:
    known = set(call_type_catalogue().categories_by_id)
    for name in PACKS:
        for rule in builtin_pack(name).rules:
            assert set(rule.when.call_types or ()) <= known


@pytest.mark.parametrize("name", PACKS)
def test_shipped_pack_round_trips(name: str, tmp_path: Path) -> None:
    pack = builtin_pack(name)
    again = load_pack(write(tmp_path, {}, dump_pack(pack)))
    assert again == pack
    assert again.ordered_rules == pack.ordered_rules


def test_resolve_pack_by_path_and_unknown(tmp_path: Path) -> None:
    assert resolve_pack(write(tmp_path, minimal())).name == "test-pack"
    with pytest.raises(KeyError, match="baltimore-smart-2022"):
        resolve_pack("springfield")


# ---------------------------------------------------------------- holidays and alarms


def test_holidays_fixed_observed_and_nth_weekday() -> None:
    pack = builtin_pack("baltimore-smart-2022")
    days = holiday_dates(pack, [2022])
    assert date(2022, 7, 4) in days  # Monday
    assert date(2022, 12, 25) in days
    assert date(2022, 12, 26) in days
    assert date(2022, 11, 24) in days  # 4th Thursday of November
    assert date(2022, 5, 30) in days  # last Monday of May
    assert date(2022, 1, 17) in days  # MLK: 3rd Monday of January
    # 1 January 2022 is a Saturday: observed on Friday 31 December 2021
    assert date(2021, 12, 31) in holiday_dates(pack, [2021])
    assert date(2022, 7, 5) not in days


def test_alarm_policy_status_and_exemptions() -> None:
    policy = AlarmPolicy()
    assert [policy.status_for(n) for n in range(7)] == [
        AlarmStatus.ACTIVE,
        AlarmStatus.ACTIVE,
        AlarmStatus.ACTIVE,
        AlarmStatus.WARNED,
        AlarmStatus.WARNED,
        AlarmStatus.SUSPENDED,
        AlarmStatus.SUSPENDED,
    ]
    assert policy.officer_still_sent(AlarmKind.PANIC, verified=False)
    assert policy.officer_still_sent(AlarmKind.BURGLAR, verified=True)
    assert not policy.officer_still_sent(AlarmKind.BURGLAR, verified=False)
    strict = AlarmPolicy(verified_gets_officer=False, panic_gets_officer=False)
    assert not strict.officer_still_sent(AlarmKind.PANIC, verified=True)


# ---------------------------------------------------------------- errors


def test_unknown_responder_names_file_line_field(tmp_path: Path) -> None:
    data = minimal()
    data["rules"][0]["then"]["fallback"] = ["online", "webform"]
    msg = load_error(tmp_path, data)
    assert "pack.yaml" in msg
    assert "field 'rules.0.then.fallback.1'" in msg
    assert "'webform' is not a responder" in msg
    line = int(re.search(r"line (\d+)", msg).group(1))  # type: ignore[union-attr]
    text = (tmp_path / "pack.yaml").read_text().splitlines()
    assert "webform" in text[line - 1]


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda d: d.update(schema_version=2), "schema_version", "reads schema_version 1"),
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone", "IANA"),
        (lambda d: d.update(effective_to="2021-01-01"), "effective_to", "before"),
        (
            lambda d: d["rules"][0]["when"].update(call_types=["lost-propety"]),
            "rules.0.when.call_types.0",
            "did you mean lost-property",
        ),
        (
            lambda d: d["rules"][0]["when"].update(categories=["crime"]),
            "rules.0.when.categories.0",
            "not a category",
        ),
        (
            lambda d: d["rules"][0]["when"].update(flags_any=["drunk"]),
            "rules.0.when.flags_any.0",
            "Input",
        ),
        (lambda d: d["rules"][0].update(colour="red"), "rules.0.colour", "Extra inputs"),
        (
            lambda d: d["responders"][1]["hours"][0].update(end="06:00"),
            "responders.1.hours.0.end",
            "not after start",
        ),
        (
            lambda d: d["responders"][1]["hours"][0].update(start="7am"),
            "responders.1.hours.0.start",
            "HH:MM",
        ),
        (
            lambda d: d["responders"][1]["hours"][0].update(days=["monday"]),
            "responders.1.hours.0.days.0",
            "Input should be",
        ),
        (lambda d: d["responders"].append(d["responders"][0]), "responders.4.id", "duplicate"),
        (lambda d: d["rules"][1].update(when={"priority_min": 3}), "rules.1.when", "catch-all"),
        (
            lambda d: d["rules"][0]["then"].update(primary="patrol", co_respond=True),
            "rules.0.then.co_respond",
            "already patrol",
        ),
        (
            lambda d: d["rules"][0]["when"].update(priority_min=4, priority_max=2),
            "rules.0.when.priority_max",
            "below",
        ),
        (
            lambda d: (
                d["rules"][0]["when"].update(flags_all=[])
                or d["rules"][0]["when"].update(call_types=[])
            ),
            "rules.0.when.call_types",
            "matches nothing",
        ),
        (
            lambda d: d.update(alarms={"threshold": 5, "warning_at": [6]}),
            "alarms",
            "between 1 and threshold - 1",
        ),
        (
            lambda d: d["rules"].insert(
                0,
                {
                    "id": "alarm",
                    "precedence": 1,
                    "description": "d",
                    "when": {"alarm_status": ["suspended"]},
                    "then": {"primary": "nobody", "reason": "r"},
                },
            ),
            "rules.0.when.alarm_verified",
            "verified alarm",
        ),
        (
            lambda d: d["rules"].insert(
                0,
                {
                    "id": "alarm",
                    "precedence": 1,
                    "description": "d",
                    "when": {"alarm_kinds": ["panic"], "alarm_verified": False},
                    "then": {"primary": "nobody", "reason": "r"},
                },
            ),
            "rules.0.when.alarm_kinds",
            "panic",
        ),
    ],
)
def test_errors_name_field_and_reason(tmp_path: Path, mutate: Any, field: str, reason: str) -> None:
    data = minimal()
    mutate(data)
    msg = load_error(tmp_path, data)
    assert f"field '{field}" in msg, msg
    assert reason in msg, msg
    assert re.search(r"line \d+", msg), msg


def test_unquoted_time_is_refused_with_advice(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal(), sort_keys=False).replace("'23:00'", "23:00")
    assert "end: 23:00" in text
    with pytest.raises(DataFileError, match=r"quoted .HH:MM. strings .*1380"):
        load_pack(write(tmp_path, {}, text))


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(minimal(), sort_keys=False) + "name: again\n"
    with pytest.raises(DataFileError, match="duplicate key 'name'"):
        load_pack(write(tmp_path, {}, text))


def test_precedence_ties_keep_file_order(tmp_path: Path) -> None:
    data = minimal()
    extra = copy.deepcopy(data["rules"][0])
    extra["id"] = "lost-again"
    data["rules"].insert(0, {**extra, "precedence": 10})
    data["rules"].insert(0, {**extra, "id": "early", "precedence": 5})
    pack = load_pack(write(tmp_path, data))
    assert [r.id for r in pack.ordered_rules] == ["early", "lost-again", "lost", "default"]


# ---------------------------------------------------------------- generated packs

CALL_TYPES = sorted(call_type_catalogue().categories_by_id)
CATEGORIES = sorted(call_type_catalogue().categories)
FLAGS = [f.value for f in CallFlag]


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(start + 1, 1440))
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
    return {
        "days": days,
        "start": f"{start // 60:02}:{start % 60:02}",
        "end": f"{end // 60:02}:{end % 60:02}",
    }


@st.composite
def pack_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid pack as plain data (random responders, hours, rules)."""
    n = draw(st.integers(2, 5))
    kinds = [k.value for k in ResponderKind if k is not ResponderKind.NO_RESPONSE]
    responders = [
        {
            "id": f"r{i}",
            "kind": "patrol" if i == 0 else draw(st.sampled_from(kinds)),
            "label": f"Responder {i}",
            **(
                {"hours": draw(st.lists(windows(), min_size=1, max_size=2))}
                if i and draw(st.booleans())
                else {}
            ),
            **({"closed_on_holidays": True} if i and draw(st.booleans()) else {}),
            **({"capacity": draw(st.integers(0, 5))} if draw(st.booleans()) else {}),
        }
        for i in range(n)
    ]
    ids = [r["id"] for r in responders]
    rules = []
    for j in range(draw(st.integers(0, 6))):
        when: dict[str, Any] = {}
        if draw(st.booleans()):
            when["call_types"] = draw(
                st.lists(st.sampled_from(CALL_TYPES), min_size=1, max_size=4, unique=True)
            )
        if draw(st.booleans()):
            when["categories"] = draw(
                st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True)
            )
        if draw(st.booleans()):
            when["priority_min"] = draw(st.integers(1, 5))
        for key in ("flags_all", "flags_any", "flags_none"):
            if draw(st.booleans()):
                when[key] = draw(
                    st.lists(st.sampled_from(FLAGS), min_size=1, max_size=3, unique=True)
                )
        if draw(st.booleans()):
            when["time"] = draw(st.lists(windows(), min_size=1, max_size=2))
        if draw(st.booleans()):
            when["holiday"] = draw(st.booleans())
        if draw(st.booleans()):
            when["alarm_status"] = draw(
                st.lists(st.sampled_from([s.value for s in AlarmStatus]), min_size=1, unique=True)
            )
        if draw(st.booleans()):
            when["alarm_verified"] = draw(st.booleans())
        if not when:
            when["priority_max"] = 3
        chain = draw(st.permutations(ids))[: draw(st.integers(1, len(ids)))]
        then: dict[str, Any] = {"primary": chain[0], "fallback": list(chain[1:]), "reason": "r"}
        primary_kind = next(r["kind"] for r in responders if r["id"] == chain[0])
        if primary_kind != "patrol" and draw(st.booleans()):
            then["co_respond"] = True
        rules.append(
            {
                "id": f"rule-{j}",
                "precedence": draw(st.integers(0, 50)),
                "description": f"rule {j}",
                "when": when,
                "then": then,
            }
        )
    rules.append(
        {
            "id": "default",
            "precedence": 1000,
            "description": "catch-all",
            "then": {"primary": "r0", "reason": "default"},
        }
    )
    return {
        "schema_version": 1,
        "name": "generated",
        "version": draw(st.sampled_from(["1", "1.0", "2022.1"])),
        "effective_from": "2020-01-01",
        "timezone": draw(
            st.sampled_from(["America/New_York", "America/Chicago", "UTC", "Europe/London"])
        ),
        "holidays": draw(
            st.lists(
                st.one_of(
                    st.dates(date(2019, 1, 1), date(2025, 12, 31)).map(str),
                    st.builds(
                        lambda m, d: {"name": "h", "month": m, "day": d},
                        st.integers(1, 12),
                        st.integers(1, 28),
                    ),
                    st.builds(
                        lambda m, w, n: {"name": "h", "month": m, "weekday": w, "nth": n},
                        st.integers(1, 12),
                        st.sampled_from(WEEKDAYS),
                        st.sampled_from([1, 2, 3, 4, -1]),
                    ),
                ),
                max_size=4,
            )
        ),
        "responders": responders,
        "screening": [{"id": "q1", "question": "Weapon?", "sets_if_yes": ["weapon"]}],
        "rules": rules,
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=pack_dicts())
def test_generated_packs_round_trip(data: dict[str, Any], tmp_path: Path) -> None:
    pack = Pack.model_validate(data)
    again = load_pack(write(tmp_path, {}, dump_pack(pack)))
    assert again == pack
    assert dump_pack(again) == dump_pack(pack)


BREAKERS: list[tuple[str, Any]] = [
    ("rules.0.then.primary", lambda d: d["rules"][0]["then"].update(primary="ghost")),
    (
        "rules.0.when.call_types.0",
        lambda d: d["rules"][0].setdefault("when", {}).update(call_types=["no-such-type"]),
    ),
    ("responders.0.kind", lambda d: d["responders"][0].update(kind="wizard")),
    ("responders.1.capacity", lambda d: d["responders"][1].update(capacity=-1)),
    (
        "rules.0.when.flags_all.0",
        lambda d: d["rules"][0].setdefault("when", {}).update(flags_all=["sleepy"]),
    ),
    ("rules.0.unknown_field", lambda d: d["rules"][0].update(unknown_field=1)),
    ("screening.0.sets_if_yes.0", lambda d: d["screening"][0].update(sets_if_yes=["armed"])),
    ("rules.0.id", lambda d: d["rules"][0].update(id="Bad Id")),
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=pack_dicts(), breaker=st.sampled_from(BREAKERS))
def test_generated_packs_with_errors_are_rejected_naming_the_field(
    data: dict[str, Any], breaker: tuple[str, Any], tmp_path: Path
) -> None:
    field, mutate = breaker
    mutate(data)
    msg = load_error(tmp_path, data)
    assert f"field '{field}'" in msg, msg
    assert re.search(r"pack\.yaml, line \d+, field", msg), msg
