"""The decision engine: worked examples, properties, and decide_many == decide."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smart_policing.triage.engine import (
    AlarmFacts,
    CallFacts,
    calls_frame,
    decide,
    decide_many,
    effective_flags,
)
from smart_policing.triage.pack import Pack, builtin_pack, call_type_catalogue
from smart_policing.triage.types import AlarmKind, AlarmStatus, CallFlag, ResponderKind

BALTIMORE = builtin_pack("baltimore-smart-2022")
MINNEAPOLIS = builtin_pack("minneapolis-2020-pilots")
PACKS = {"baltimore": BALTIMORE, "minneapolis": MINNEAPOLIS}
CALL_TYPES = sorted(call_type_catalogue().categories_by_id)


def call(**kw: Any) -> CallFacts:
    kw.setdefault("received_at", "2022-07-13T14:00:00-04:00")
    return CallFacts.model_validate(kw)


# ---------------------------------------------------------------- examples


def test_decision_explains_itself() -> None:
    d = decide(BALTIMORE, call(call_type="lost-property", received_at="2022-07-17T23:30:00-04:00"))
    assert (d.rule, d.planned, d.responder, d.responder_kind) == (
        "report-to-tru",
        "tru",
        "online",
        ResponderKind.ONLINE_REPORT,
    )
    assert [(s.responder, s.why) for s in d.skipped] == [("tru", "off-shift")]
    assert (d.pack, d.pack_version, d.pack_in_effect) == ("baltimore-smart-2022", "1.0.0", True)
    assert d.inputs["local_time"] == "sun 2022-07-17 23:30"
    assert d.inputs["call_type"] == "lost-property"
    assert d.inputs["unavailable"] == {"tru": "off-shift"}
    assert not d.officer_sent
    assert not d.queued


def test_local_time_is_the_packs_time_zone() -> None:
    # 03:30 UTC on Thursday is 23:30 Wednesday in Baltimore: TRU closed
    d = decide(BALTIMORE, call(call_type="larceny", received_at="2022-07-14T03:30:00+00:00"))
    assert d.responder == "online"
    # 14:30 UTC on Wednesday is 10:30 in Baltimore: TRU open
    d = decide(BALTIMORE, call(call_type="larceny", received_at="2022-07-13T14:30:00Z"))
    assert d.responder == "tru"


def test_holiday_closes_tru() -> None:
    d = decide(BALTIMORE, call(call_type="larceny", received_at="2022-07-04T10:00:00-04:00"))
    assert d.responder == "online"
    assert d.skipped[0].why == "holiday"
    assert d.inputs["holiday"] is True


def test_busy_primary_uses_fallback_and_everyone_busy_queues() -> None:
    c = call(call_type="mental-health", flags=["behavioural-health"])
    assert decide(BALTIMORE, c).responder == "crisis-team"
    d = decide(BALTIMORE, c, {"crisis-team": 0})
    assert (d.responder, d.skipped[0].why, d.queued, d.officer_sent) == (
        "patrol",
        "busy",
        False,
        True,
    )
    d = decide(BALTIMORE, c, {"crisis-team": 0, "patrol": 0})
    assert (d.responder, d.queued) == ("patrol", True)
    assert decide(BALTIMORE, c, {"crisis-team": 2}).responder == "crisis-team"


def test_mental_health_with_weapon_gets_patrol_and_a_clinician() -> None:
    d = decide(BALTIMORE, call(call_type="mental-health", flags=["weapon"]))
    assert (d.responder, d.co_responders, d.rule) == (
        "patrol",
        ("clinician",),
        "mental-health-weapon",
    )


def test_alarm_rules_follow_the_alarm_policy() -> None:
    suspended = AlarmFacts(kind=AlarmKind.BURGLAR, status=AlarmStatus.SUSPENDED)
    d = decide(BALTIMORE, call(call_type="alarm-burglar", alarm=suspended))
    assert (d.responder_kind, d.officer_sent) == (ResponderKind.NO_RESPONSE, False)
    assert d.inputs["alarm"] == {"kind": "burglar", "status": "suspended", "verified": False}
    verified = suspended.model_copy(update={"verified": True})
    assert decide(BALTIMORE, call(call_type="alarm-burglar", alarm=verified)).officer_sent
    panic = AlarmFacts(kind=AlarmKind.PANIC, status=AlarmStatus.SUSPENDED)
    assert decide(BALTIMORE, call(call_type="alarm-panic", alarm=panic)).officer_sent


def test_screening_answers_set_flags() -> None:
    c = call(call_type="disorderly", answers={"mh-crisis": True, "self-harm": False})
    assert effective_flags(MINNEAPOLIS, c) == {"behavioural-health"}
    assert decide(MINNEAPOLIS, c).rule == "screened-mental-health"
    with pytest.raises(ValueError, match="'favourite-colour' is not a screening question"):
        decide(MINNEAPOLIS, call(call_type="larceny", answers={"favourite-colour": True}))


def test_unknown_availability_id_and_call_type_are_refused() -> None:
    with pytest.raises(KeyError, match="unknown responder 'ghost'"):
        decide(BALTIMORE, call(call_type="larceny"), {"ghost": 1})
    with pytest.raises(ValueError, match="not a canonical call type"):
        call(call_type="lost-propety")
    with pytest.raises(ValueError, match="timezone"):
        call(call_type="larceny", received_at="2022-07-13T14:00:00")


def test_pack_in_effect_is_reported_not_enforced() -> None:
    d = decide(BALTIMORE, call(call_type="larceny", received_at="2015-03-04T10:00:00-05:00"))
    assert d.pack_in_effect is False
    assert d.responder == "tru"


def test_decide_many_refuses_bad_frames() -> None:
    frame = calls_frame([call(call_type="larceny")])
    with pytest.raises(ValueError, match="lacks column"):
        decide_many(BALTIMORE, frame.drop("received_at"))
    with pytest.raises(ValueError, match="time-zone-aware"):
        decide_many(BALTIMORE, frame.with_columns(pl.col("received_at").dt.replace_time_zone(None)))
    with pytest.raises(ValueError, match="'burglery'"):
        decide_many(BALTIMORE, frame.with_columns(call_type=pl.lit("burglery")))
    bad = frame.with_columns(answers=pl.struct(nope=pl.lit(True)))
    with pytest.raises(ValueError, match="nope"):
        decide_many(BALTIMORE, bad)


# ---------------------------------------------------------------- properties


def calls_for(pack: Pack) -> st.SearchStrategy[CallFacts]:
    questions = [q.id for q in pack.screening]
    alarms = st.one_of(
        st.none(),
        st.builds(
            AlarmFacts,
            kind=st.sampled_from(list(AlarmKind)),
            status=st.sampled_from(list(AlarmStatus)),
            verified=st.booleans(),
        ),
    )
    return st.builds(
        CallFacts,
        call_type=st.sampled_from(CALL_TYPES),
        priority=st.one_of(st.none(), st.integers(0, 9)),
        received_at=st.datetimes(
            min_value=datetime(2019, 1, 1), max_value=datetime(2024, 12, 31), timezones=st.just(UTC)
        ),
        flags=st.lists(st.sampled_from(list(CallFlag)), max_size=4).map(tuple),
        alarm=alarms,
        answers=st.dictionaries(st.sampled_from(questions), st.booleans(), max_size=3)
        if questions
        else st.just({}),
    )


def availabilities(pack: Pack) -> st.SearchStrategy[dict[str, int]]:
    return st.dictionaries(st.sampled_from([r.id for r in pack.responders]), st.integers(0, 3))


@pytest.mark.parametrize("name", sorted(PACKS))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_call_gets_exactly_one_primary_and_decisions_are_deterministic(
    name: str, data: st.DataObject
) -> None:
    pack = PACKS[name]
    c = data.draw(calls_for(pack))
    free = data.draw(availabilities(pack))
    d = decide(pack, c, free)
    assert isinstance(d.responder, str)
    assert d.responder in {r.id for r in pack.responders}
    chain = pack.rule(d.rule).then.chain
    assert d.responder in chain
    # the first available responder of the chain, or the last when none is
    assert [s.responder for s in d.skipped] == list(chain[: len(d.skipped)])
    assert d.queued == (len(d.skipped) == len(chain))
    # deterministic: the same inputs (and a copy of them) give the same decision
    assert decide(pack, c, free) == d
    assert decide(pack, CallFacts.model_validate(c.model_dump()), dict(free)) == d
    # the rule that fired is the first in precedence order that matches
    assert pack.ordered_rules.index(pack.rule(d.rule)) >= 0


# ---------------------------------------------------------------- decide_many == decide


def random_calls(pack: Pack, n: int, seed: int) -> list[CallFacts]:
    rng = random.Random(seed)
    questions = [q.id for q in pack.screening]
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out = []
    for _ in range(n):
        alarm = None
        if rng.random() < 0.3:
            alarm = AlarmFacts(
                kind=rng.choice(list(AlarmKind)),
                status=rng.choice(list(AlarmStatus)),
                verified=rng.random() < 0.3,
            )
        out.append(
            CallFacts(
                call_type=rng.choice(CALL_TYPES),
                priority=rng.choice([None, 1, 2, 3, 4, 5]),
                received_at=start + timedelta(minutes=rng.randrange(3 * 366 * 1440)),
                flags=tuple(rng.sample(list(CallFlag), rng.choice([0, 0, 1, 1, 2, 3]))),
                alarm=alarm,
                answers={q: rng.random() < 0.5 for q in rng.sample(questions, rng.randint(0, 2))},
            )
        )
    return out


@pytest.mark.parametrize("name", sorted(PACKS))
@pytest.mark.parametrize(
    "availability",
    [None, {}, "all-busy", "half-busy"],
    ids=["none", "empty", "all-busy", "half-busy"],
)
def test_decide_many_agrees_with_decide(name: str, availability: Any) -> None:
    pack = PACKS[name]
    ids = [r.id for r in pack.responders]
    free: dict[str, int] | None
    if availability == "all-busy":
        free = dict.fromkeys(ids, 0)
    elif availability == "half-busy":
        free = {rid: i % 2 for i, rid in enumerate(ids)}
    else:
        free = availability
    calls = random_calls(pack, 3000, seed=len(name))
    got = decide_many(pack, calls_frame(calls), free)
    assert got.height == len(calls)
    expected = [decide(pack, c, free) for c in calls]
    want = pl.DataFrame(
        {
            "rule": [d.rule for d in expected],
            "responder": [d.responder for d in expected],
            "queued": [d.queued for d in expected],
            "co_respond": [d.co_respond for d in expected],
            "responder_kind": [d.responder_kind.value for d in expected],
            "officer_sent": [d.officer_sent for d in expected],
        }
    )
    both = pl.concat(
        [got.select(want.columns), want.rename(lambda c: f"want_{c}")], how="horizontal"
    )
    differs = pl.any_horizontal(pl.col(c) != pl.col(f"want_{c}") for c in want.columns)
    mismatch = both.with_row_index().filter(differs)
    assert mismatch.height == 0, mismatch.head()
    assert got.select(want.columns).equals(want)


def test_decide_many_without_optional_columns() -> None:
    frame = pl.DataFrame(
        {
            "call_type": ["larceny", "parking"],
            "received_at": [datetime(2021, 6, 16, 15, tzinfo=UTC)] * 2,
        }
    )
    got = decide_many(MINNEAPOLIS, frame)
    assert got["responder"].to_list() == ["city-311", "traffic-control"]
