"""False-alarm rules (R4): counting per local calendar year, warnings, suspension,
reinstatement, who still gets an officer, and a brute-force recount property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from smart_policing.triage.alarms import (
    AlarmEvent,
    AlarmPolicy,
    NoticeKind,
    Reinstatement,
    ReinstatementReason,
    ResponseReason,
    Standing,
    Verification,
    local_year,
    officer_response,
    site_standing,
)
from smart_policing.triage.types import AlarmKind, AlarmOutcome, AlarmStatus

NY = ZoneInfo("America/New_York")
POLICY = AlarmPolicy()
K, OC = AlarmKind, AlarmOutcome


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def false_alarm(
    at: datetime, kind: AlarmKind = K.BURGLAR, event_id: int | None = None
) -> AlarmEvent:
    return AlarmEvent(at, kind, OC.FALSE, event_id=event_id)


def monthly_false(n: int, year: int = 2025) -> list[AlarmEvent]:
    return [false_alarm(local(year, m, 10, 2, 10), event_id=m) for m in range(1, n + 1)]


def test_the_fifth_false_alarm_suspends_until_1_january() -> None:
    events = monthly_false(5)
    standing = site_standing(events, 2025, POLICY)
    assert standing.status is AlarmStatus.SUSPENDED
    assert standing.false_count == 5
    assert standing.suspended_by == events[4]
    assert standing.suspended_until == datetime(2026, 1, 1, tzinfo=NY)
    assert standing.suspended_until.astimezone(UTC) == datetime(2026, 1, 1, 5, tzinfo=UTC)
    assert [(n.kind, n.false_count) for n in standing.notices] == [
        (NoticeKind.WARNING, 3),
        (NoticeKind.WARNING, 4),
        (NoticeKind.SUSPENSION, 5),
    ]
    assert standing.notices[-1].event == events[4]
    assert standing.notices[-1].reason == "5th false alarm in 2025"
    # and the next year starts clean
    assert site_standing(events, 2026, POLICY).status is AlarmStatus.ACTIVE


def test_four_false_alarms_and_one_verified_do_not_suspend() -> None:
    events = [*monthly_false(4), AlarmEvent(local(2025, 6, 1), K.BURGLAR, OC.VERIFIED)]
    standing = site_standing(events, 2025, POLICY)
    assert (standing.status, standing.false_count, standing.remaining) == (AlarmStatus.WARNED, 4, 1)
    assert standing.suspended_by is None
    assert standing.suspended_until is None


def test_four_false_alarms_leave_the_site_warned_not_suspended() -> None:
    assert site_standing(monthly_false(2), 2025, POLICY).status is AlarmStatus.ACTIVE
    assert site_standing(monthly_false(3), 2025, POLICY).status is AlarmStatus.WARNED


def test_december_and_january_do_not_add_up() -> None:
    december = [false_alarm(local(2024, 12, d, 12)) for d in (1, 2, 3, 4)]
    january = [false_alarm(local(2025, 1, d, 12)) for d in (1, 2, 3, 4)]
    events = december + january
    assert site_standing(events, 2024, POLICY).false_count == 4
    assert site_standing(events, 2025, POLICY).false_count == 4
    assert site_standing(events, 2025, POLICY).status is AlarmStatus.WARNED


def test_the_year_is_the_local_year_not_utc() -> None:
    # 23:30 on 31 December in Baltimore is 04:30 on 1 January UTC
    late = false_alarm(local(2024, 12, 31, 23, 30))
    assert late.occurred_at.astimezone(UTC).year == 2025
    assert local_year(late.occurred_at, POLICY) == 2024
    events = [false_alarm(local(2024, m, 1, 12)) for m in (3, 5, 7, 9)] + [late]
    assert site_standing(events, 2024, POLICY).status is AlarmStatus.SUSPENDED
    assert site_standing(events, 2025, POLICY).false_count == 0
    # and 00:30 local on 1 January counts for the new year although UTC says 05:30
    early = false_alarm(local(2025, 1, 1, 0, 30))
    assert site_standing([early], 2025, POLICY).false_count == 1
    # another city's clock moves the boundary
    la = AlarmPolicy(timezone="America/Los_Angeles")
    assert site_standing([late], 2024, la).false_count == 1  # 20:30 on 31 Dec in LA
    utc_ok = false_alarm(datetime(2025, 1, 1, 7, 30, tzinfo=UTC))  # 23:30 31 Dec in LA
    assert site_standing([utc_ok], 2024, la).false_count == 1


def test_a_city_may_move_the_reset_date() -> None:
    fiscal = AlarmPolicy(reset_month=7, reset_day=1)
    events = [false_alarm(local(2025, m, 1, 12)) for m in (3, 4, 5, 6)]
    events.append(false_alarm(local(2025, 6, 30, 23, 30)))  # 03:30 UTC on 1 July
    standing = site_standing(events, 2024, fiscal)  # the year that began on 1 July 2024
    assert standing.status is AlarmStatus.SUSPENDED
    assert standing.suspended_until == local(2025, 7, 1)
    assert site_standing(events, 2025, fiscal).false_count == 0
    assert local_year(local(2025, 7, 1), fiscal) == 2025
    assert local_year(local(2025, 6, 30, 23, 59), fiscal) == 2024


@pytest.mark.parametrize(
    ("threshold", "warning_at", "expected"),
    [
        (5, (3, 4), [3, 4]),
        (5, (), []),
        (3, (1, 2), [1, 2]),
        (10, (5, 8), [5, 8]),
    ],
)
def test_warnings_at_the_configured_counts(
    threshold: int, warning_at: tuple[int, ...], expected: list[int]
) -> None:
    policy = AlarmPolicy(threshold=threshold, warning_at=warning_at)
    events = [false_alarm(local(2025, 1, 1) + timedelta(days=i)) for i in range(threshold)]
    standing = site_standing(events, 2025, policy)
    warnings = [n.false_count for n in standing.notices if n.kind is NoticeKind.WARNING]
    assert warnings == expected
    assert standing.status is AlarmStatus.SUSPENDED
    assert standing.suspended_by == events[-1]
    before = site_standing(events[:-1], 2025, policy)
    assert before.status is (AlarmStatus.WARNED if warning_at else AlarmStatus.ACTIVE)


def test_which_outcomes_and_kinds_count() -> None:
    at = local(2025, 3, 1)
    events = [
        AlarmEvent(at, K.BURGLAR, OC.CANCELLED),
        AlarmEvent(at, K.BURGLAR, OC.UNDETERMINED),
        AlarmEvent(at, K.BURGLAR, OC.VERIFIED),
        AlarmEvent(at, K.FIRE, OC.FALSE),  # the fire department's program
        AlarmEvent(at, K.PANIC, OC.FALSE),
        AlarmEvent(at, K.ROBBERY, OC.FALSE),
        AlarmEvent(at, K.OTHER, OC.FALSE),
    ]
    assert site_standing(events, 2025, POLICY).false_count == 3
    counting_cancelled = AlarmPolicy(false_outcomes=frozenset({OC.FALSE, OC.CANCELLED}))
    assert site_standing(events, 2025, counting_cancelled).false_count == 4
    counting_fire = AlarmPolicy(exempt_kinds=frozenset())
    assert site_standing(events, 2025, counting_fire).false_count == 4


def suspended() -> Standing:
    standing = site_standing(monthly_false(5), 2025, POLICY)
    assert standing.status is AlarmStatus.SUSPENDED
    return standing


@pytest.mark.parametrize(
    ("kind", "verified", "officer", "reason"),
    [
        (K.BURGLAR, False, False, ResponseReason.SUSPENDED),
        (K.OTHER, False, False, ResponseReason.SUSPENDED),
        (K.BURGLAR, True, True, ResponseReason.VERIFIED),
        (K.BURGLAR, Verification.VIDEO, True, ResponseReason.VERIFIED),
        (K.BURGLAR, Verification.AUDIO, True, ResponseReason.VERIFIED),
        (K.BURGLAR, Verification.EYEWITNESS, True, ResponseReason.VERIFIED),
        (K.BURGLAR, Verification.NONE, False, ResponseReason.SUSPENDED),
        (K.PANIC, False, True, ResponseReason.PANIC),
        (K.ROBBERY, False, True, ResponseReason.PANIC),
        (K.FIRE, False, True, ResponseReason.EXEMPT_KIND),
    ],
)
def test_who_still_gets_an_officer_at_a_suspended_site(
    kind: AlarmKind, verified: bool | Verification, officer: bool, reason: ResponseReason
) -> None:
    decision = officer_response(suspended(), kind, verified, POLICY)
    assert decision == (officer, reason)
    assert (decision.officer, decision.reason) == (officer, reason)


def test_the_policy_can_withdraw_the_exceptions() -> None:
    strict = AlarmPolicy(verified_gets_officer=False, panic_gets_officer=False)
    assert officer_response(suspended(), K.BURGLAR, True, strict) == (
        False,
        ResponseReason.SUSPENDED,
    )
    assert officer_response(suspended(), K.PANIC, False, strict) == (
        False,
        ResponseReason.SUSPENDED,
    )
    # a verified panic alarm: still no officer when both exceptions are withdrawn
    assert officer_response(suspended(), K.ROBBERY, True, strict).officer is False
    # only one withdrawn: the other still applies
    no_verified = AlarmPolicy(verified_gets_officer=False)
    assert officer_response(suspended(), K.PANIC, True, no_verified) == (True, ResponseReason.PANIC)


def test_an_active_site_always_gets_an_officer() -> None:
    for n in range(5):
        standing = site_standing(monthly_false(n), 2025, POLICY)
        for kind in AlarmKind:
            expected = (
                ResponseReason.EXEMPT_KIND if kind is K.FIRE else ResponseReason.NOT_RESTRICTED
            )
            assert officer_response(standing, kind, False, POLICY) == (True, expected)


def test_permits_restrict_only_when_the_policy_requires_them() -> None:
    active = site_standing([], 2025, POLICY)
    assert officer_response(active, K.BURGLAR, False, POLICY, permit_valid=False).officer
    required = AlarmPolicy(permit_required=True)
    assert officer_response(active, K.BURGLAR, False, required, permit_valid=False) == (
        False,
        ResponseReason.NO_PERMIT,
    )
    assert officer_response(active, K.BURGLAR, False, required, permit_valid=True).officer
    assert officer_response(active, K.BURGLAR, False, required).officer  # not known
    assert officer_response(active, K.BURGLAR, True, required, permit_valid=False) == (
        True,
        ResponseReason.VERIFIED,
    )


def test_reinstatement_lifts_the_suspension_and_the_next_false_alarm_suspends_again() -> None:
    events = monthly_false(5)
    appeal = Reinstatement(local(2025, 6, 1), ReinstatementReason.APPEAL, "granted")
    standing = site_standing(events, 2025, POLICY, [appeal])
    assert standing.status is AlarmStatus.WARNED  # past the allowance: one more suspends
    assert standing.false_count == 5  # the count continues
    assert standing.reinstated_at == appeal.at
    assert standing.suspended_by is None
    assert standing.suspended_until is None
    assert officer_response(standing, K.BURGLAR, False, POLICY).officer
    assert standing.notices[-1].kind is NoticeKind.REINSTATEMENT
    assert standing.notices[-1].reason == "appeal"

    sixth = false_alarm(local(2025, 7, 1), event_id=6)
    again = site_standing([*events, sixth], 2025, POLICY, [appeal])
    assert again.status is AlarmStatus.SUSPENDED
    assert (again.false_count, again.suspended_by) == (6, sixth)
    assert again.notices[-1].kind is NoticeKind.SUSPENSION
    assert again.notices[-1].false_count == 6
    assert again.notices[-1].reason == "6th false alarm in 2025, after reinstatement"

    # a second reinstatement lifts the second suspension
    repaired = Reinstatement(local(2025, 8, 1), ReinstatementReason.REPAIRED)
    third = site_standing([*events, sixth], 2025, POLICY, [appeal, repaired])
    assert third.status is AlarmStatus.WARNED
    assert third.reinstated_at == repaired.at


def test_reinstatements_that_lift_nothing_change_nothing() -> None:
    events = monthly_false(5)
    early = Reinstatement(local(2025, 1, 1, 1), ReinstatementReason.APPEAL)  # before any
    last_year = Reinstatement(local(2024, 12, 31, 23), ReinstatementReason.REPAIRED)
    standing = site_standing(events, 2025, POLICY, [early, last_year])
    assert standing.status is AlarmStatus.SUSPENDED
    assert standing == site_standing(events, 2025, POLICY)


def test_an_event_at_the_instant_of_a_reinstatement_comes_first() -> None:
    events = monthly_false(5)
    same = Reinstatement(events[-1].occurred_at, ReinstatementReason.APPEAL)
    assert site_standing(events, 2025, POLICY, [same]).status is AlarmStatus.WARNED


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        site_standing([false_alarm(datetime(2025, 1, 1))], 2025, POLICY)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_year(datetime(2025, 1, 1), POLICY)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"threshold": 0}, "greater than or equal to 1"),
        ({"warning_at": (4, 3)}, "strictly increasing"),
        ({"warning_at": (3, 3)}, "strictly increasing"),
        ({"warning_at": (5,)}, "threshold - 1"),
        ({"warning_at": (0, 2)}, "between 1"),
        ({"timezone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"false_outcomes": ["cancelled"]}, "must include 'false'"),
        ({"false_outcomes": ["false", "verified"]}, "cannot count as false"),
        ({"false_outcomes": ["bogus"]}, "Input should be"),
        ({"thresold": 4}, "Extra inputs are not permitted"),
        ({"reset_month": 2, "reset_day": 29}, "has no day 29"),
        ({"reset_month": 13}, "less than or equal to 12"),
    ],
)
def test_policy_validation(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AlarmPolicy.model_validate(fields)


def test_policy_is_frozen_and_round_trips() -> None:
    policy = AlarmPolicy(
        threshold=4, warning_at=(2,), false_outcomes=frozenset({OC.FALSE, OC.CANCELLED})
    )
    with pytest.raises(ValidationError):
        policy.threshold = 6  # type: ignore[misc]
    assert AlarmPolicy.model_validate_json(policy.model_dump_json()) == policy
    assert AlarmPolicy.model_validate(policy.model_dump(mode="json")) == policy
    defaults = AlarmPolicy()
    assert (defaults.threshold, defaults.warning_at) == (5, (3, 4))
    assert defaults.verified_gets_officer
    assert defaults.panic_gets_officer
    assert not defaults.permit_required


# ---------------------------------------------------------------- property: brute-force recount

BASE = datetime(2024, 12, 31, 20, tzinfo=UTC)  # hours either side of both New Years
moments = st.integers(min_value=-60 * 24 * 400, max_value=60 * 24 * 400).map(
    lambda m: BASE + timedelta(minutes=m)
)
# half the time, crowd the events around the local year boundary
near_new_year = st.integers(min_value=-600, max_value=600).map(
    lambda m: BASE + timedelta(minutes=m)
)
event_st = st.builds(
    AlarmEvent,
    st.one_of(moments, near_new_year),
    st.sampled_from(AlarmKind),
    st.sampled_from(AlarmOutcome),
    st.sampled_from(Verification),
)
reinstatement_st = st.builds(
    Reinstatement, st.one_of(moments, near_new_year), st.sampled_from(ReinstatementReason)
)


@st.composite
def policies(draw: st.DrawFn) -> AlarmPolicy:
    threshold = draw(st.integers(1, 7))
    warnings = sorted(draw(st.sets(st.integers(1, threshold - 1))) if threshold > 1 else set())
    outcomes = {OC.FALSE} | draw(st.sets(st.sampled_from([OC.CANCELLED, OC.UNDETERMINED])))
    reset = draw(st.sampled_from([(1, 1), (1, 1), (7, 1), (12, 31)]))
    return AlarmPolicy(
        reset_month=reset[0],
        reset_day=reset[1],
        threshold=threshold,
        warning_at=tuple(warnings),
        timezone=draw(st.sampled_from(["America/New_York", "America/Chicago", "UTC"])),
        false_outcomes=frozenset(outcomes),
        exempt_kinds=draw(st.sampled_from([frozenset({K.FIRE}), frozenset()])),
    )


def program_year(at: datetime, policy: AlarmPolicy) -> int:
    """The counting year from its definition: the latest reset date not after ``at``."""
    local_at = at.astimezone(ZoneInfo(policy.timezone))
    for year in (local_at.year, local_at.year - 1):
        start = datetime(year, policy.reset_month, policy.reset_day, tzinfo=local_at.tzinfo)
        if local_at.replace(tzinfo=None) >= start.replace(tzinfo=None):
            return year
    raise AssertionError(at)


def brute_force(
    events: list[AlarmEvent], year: int, policy: AlarmPolicy, reinstatements: list[Reinstatement]
) -> tuple[AlarmStatus, int, AlarmEvent | None, list[int]]:
    """Recount from the definitions, without the timeline walk."""
    counted = [
        e
        for e in events
        if e.outcome in policy.false_outcomes
        and e.kind not in policy.exempt_kinds
        and program_year(e.occurred_at, policy) == year
    ]
    ordered = sorted(counted, key=lambda e: e.occurred_at)  # stable: ties keep their order
    mine = [r.at for r in reinstatements if program_year(r.at, policy) == year]
    count = len(ordered)
    # suspended iff past the threshold and no reinstatement at or after the last false alarm
    is_suspended = count >= policy.threshold and not any(r >= ordered[-1].occurred_at for r in mine)
    trigger = None
    if is_suspended:
        last_r = max((r for r in mine), default=None)
        trigger = next(
            e
            for i, e in enumerate(ordered)
            if i + 1 >= policy.threshold and (last_r is None or e.occurred_at > last_r)
        )
    if is_suspended:
        status = AlarmStatus.SUSPENDED
    elif policy.warning_at and count >= policy.warning_at[0]:
        status = AlarmStatus.WARNED
    else:
        status = AlarmStatus.ACTIVE
    return status, count, trigger, [w for w in policy.warning_at if w <= count]


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(event_st, max_size=25),
    reinstatements=st.lists(reinstatement_st, max_size=4),
    policy=policies(),
    year=st.sampled_from([2024, 2025]),
)
def test_standing_equals_a_brute_force_recount(
    events: list[AlarmEvent],
    reinstatements: list[Reinstatement],
    policy: AlarmPolicy,
    year: int,
) -> None:
    standing = site_standing(events, year, policy, reinstatements)
    status, count, trigger, warnings = brute_force(events, year, policy, reinstatements)
    assert standing.status is status
    assert standing.false_count == count
    assert standing.suspended_by is trigger
    assert [n.false_count for n in standing.notices if n.kind is NoticeKind.WARNING] == warnings
    assert (standing.suspended_until is None) == (trigger is None)
    # notices come in time order, and the order of the inputs does not matter
    assert [n.at for n in standing.notices] == sorted(n.at for n in standing.notices)
    shuffled = site_standing(list(reversed(events)), year, policy, list(reversed(reinstatements)))
    assert (shuffled.status, shuffled.false_count) == (standing.status, standing.false_count)
    # whatever the standing, a verified or panic alarm gets an officer under the defaults
    assert officer_response(standing, K.BURGLAR, True, policy).officer
    assert officer_response(standing, K.ROBBERY, False, policy).officer
    assert officer_response(standing, K.BURGLAR, False, policy).officer is (
        status is not AlarmStatus.SUSPENDED
    )
