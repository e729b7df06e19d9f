"""Report intake core: validation naming fields, screening to 911, workflow, case numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smart_policing.reports import (
    Accepted,
    Actor,
    CaseNumberError,
    Emergency,
    EmergencySign,
    Invalid,
    ReportAction,
    ReportRef,
    ReportStatus,
    ScreenedReportSubmission,
    TransitionError,
    allowed_actions,
    assess,
    check_move,
    format_case_number,
    intake_rules,
    may_read,
    normalise_case_number,
    parse_case_number,
)
from smart_policing.security.roles import Role
from smart_policing.triage.pack import builtin_pack
from smart_policing.triage.types import ReportChannel

C, S, A = ReportChannel, ReportStatus, ReportAction
RULES = intake_rules(builtin_pack("baltimore-smart-2022"))
NOW = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)  # 12:00 in Baltimore
NO = {"suspect_present": False, "injury": False, "weapon": False, "in_progress": False}


def online(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "call_type": "larceny",
        "occurred_from": "2025-06-01T20:00",
        "occurred_to": "2025-06-02T07:30",
        "address": "123 n. Main Street",
        "description": "My bicycle was taken from the front porch overnight.",
        "property_items": [{"description": "red bicycle", "value": 249.99}],
        "contact": {"name": "Rita Resident", "email": "rita@example.org"},
        "screening": dict(NO),
    }
    data.update(changes)
    return data


def fields(result: object) -> list[str]:
    assert isinstance(result, Invalid), result
    return [e.field for e in result.errors]


def test_a_valid_online_report_is_accepted() -> None:
    result = assess(C.ONLINE, online(), RULES, NOW)
    assert isinstance(result, Accepted)
    assert str(result.submission.property_items[0].value) == "249.99"
    assert result.submission.occurred_to == datetime(2025, 6, 2, 7, 30)


def test_online_types_come_from_the_pack() -> None:
    assert set(RULES.types_for(C.ONLINE)) == {
        "lost-property",
        "larceny",
        "larceny-from-vehicle",
        "shoplifting",
        "property-damage",
    }
    assert "fraud" in RULES.types_for(C.TELEPHONE)
    assert "assault" in RULES.types_for(C.FIELD)  # by category
    result = assess(C.ONLINE, online(call_type="assault"), RULES, NOW)
    assert fields(result) == ["call_type"]
    assert isinstance(result, Invalid)
    assert "online reports take: " in result.errors[0].message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"occurred_to": "2025-06-01T19:00"}, ["occurred_to"]),
        ({"occurred_to": "2025-06-02T13:00"}, ["occurred_to"]),  # an hour in the future
        ({"occurred_from": "2025-06-01T20:00-04:00"}, ["occurred_from"]),  # offsets refused
        ({"description": "short"}, ["description"]),
        ({"description": "x" * 4001}, ["description"]),
        ({"address": " ,. "}, ["address"]),
        ({"property_items": [{"description": "tv", "value": -1}]}, ["property_items.0.value"]),
        ({"property_items": [{"description": "", "value": 1}]}, ["property_items.0.description"]),
        ({"property_items": [{"description": "tv", "value": 1.234}]}, ["property_items.0.value"]),
        ({"contact": None}, ["contact"]),
        ({"contact": {"name": "Rita"}}, ["contact"]),
        ({"contact": {"name": "Rita", "email": "not-an-address"}}, ["contact.email"]),
        ({"contact": {"name": "Rita", "phone": "call me"}}, ["contact.phone"]),
        ({"screening": None}, ["screening"]),
        (
            {"screening": {"injury": False}},
            ["screening.suspect_present", "screening.weapon", "screening.in_progress"],
        ),
        ({"colour": "blue"}, ["colour"]),
    ],
)
def test_errors_name_the_field(changes: dict[str, Any], expected: list[str]) -> None:
    assert fields(assess(C.ONLINE, online(**changes), RULES, NOW)) == expected


def test_field_reports_need_no_contact_and_no_screening() -> None:
    data = online(call_type="assault", contact=None, occurred_to=None)
    del data["screening"]
    result = assess(C.FIELD, data, RULES, NOW)
    assert isinstance(result, Accepted)
    assert result.submission.occurred_until == result.submission.occurred_from
    assert fields(assess(C.FIELD, online(call_type="assault"), RULES, NOW)) == ["screening"]


@pytest.mark.parametrize("sign", list(EmergencySign))
def test_any_yes_sends_the_reporter_to_911(sign: EmergencySign) -> None:
    answers = dict(NO, **{sign.value: True})
    # even with other fields wrong: the emergency comes first
    result = assess(C.ONLINE, online(screening=answers, description="x"), RULES, NOW)
    assert result == Emergency(C.ONLINE, (sign,))
    assert isinstance(assess(C.TELEPHONE, online(screening=answers), RULES, NOW), Emergency)


def test_form_words_answer_screening() -> None:
    answers = {"suspect_present": "no", "injury": "no", "weapon": "yes", "in_progress": "no"}
    result = assess(C.ONLINE, online(screening=answers), RULES, NOW)
    assert result == Emergency(C.ONLINE, (EmergencySign.WEAPON,))


FIELDS = set(ScreenedReportSubmission.model_fields)
value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
submission_dicts = (
    st.fixed_dictionaries(
        {},
        optional={
            "call_type": st.sampled_from(["larceny", "assault", "LARCENY", ""])
            | st.text(max_size=5),
            "occurred_from": st.datetimes().map(lambda d: d.isoformat()) | value,
            "occurred_to": st.datetimes().map(lambda d: d.isoformat()) | value,
            "address": st.sampled_from(["123 Main St", ""]) | st.text(max_size=40),
            "description": st.text(min_size=0, max_size=60),
            "property_items": st.lists(
                st.fixed_dictionaries({"description": st.text(max_size=5), "value": value}),
                max_size=2,
            )
            | value,
            "contact": st.fixed_dictionaries(
                {"name": st.text(max_size=5)}, optional={"phone": value, "email": value}
            )
            | value,
            "screening": st.fixed_dictionaries({k: st.booleans() | value for k in NO}) | value,
        },
    )
    | st.dictionaries(st.text(max_size=12), value, max_size=4)
    | value
)


@given(data=submission_dicts, channel=st.sampled_from(list(C)))
@settings(max_examples=300, deadline=None)
def test_any_input_validates_or_names_fields(data: object, channel: ReportChannel) -> None:
    result = assess(channel, data, RULES, NOW)
    if isinstance(result, Invalid):
        assert result.errors
        for error in result.errors:
            if not isinstance(data, dict):
                assert error.loc == ()
            elif error.kind not in ("extra_forbidden", "invalid_key"):
                assert error.loc[0] in FIELDS, error
            assert error.message
    else:
        assert isinstance(result, Accepted | Emergency)


# ---------------------------------------------------------------- case numbers


def test_case_numbers_round_trip_and_sort() -> None:
    assert format_case_number(2025, 123) == "R25-000123"
    assert parse_case_number(" r25-000123 ") == (25, 123)
    assert normalise_case_number("r25-000123") == "R25-000123"
    numbers = [format_case_number(2025, n) for n in (1, 9, 10, 999_999)]
    assert sorted(numbers) == numbers
    assert format_case_number(2025, 999_999) < format_case_number(2026, 1)
    for bad in ("R25-123", "X25-000123", "R25000123", ""):
        with pytest.raises(CaseNumberError):
            parse_case_number(bad)
    with pytest.raises(CaseNumberError):
        format_case_number(2025, 0)


# ---------------------------------------------------------------- workflow

CLERK = Actor("rita.records", frozenset({Role.RECORDS}))
SARGE = Actor("sgt.lee", frozenset({Role.SUPERVISOR, Role.OFFICER}))
OFFICER = Actor("pat.officer", frozenset({Role.OFFICER}))
DISPATCH = Actor("dee", frozenset({Role.DISPATCHER}))


def ref(
    status: ReportStatus, channel: ReportChannel = C.FIELD, by: str | None = "pat.officer"
) -> ReportRef:
    return ReportRef(status, channel, by)


def test_the_happy_path() -> None:
    assert check_move(ref(S.SUBMITTED), A.REVIEW, CLERK).target is S.REVIEWED
    assert check_move(ref(S.REVIEWED), A.APPROVE, CLERK).target is S.APPROVED
    assert check_move(ref(S.REVIEWED), A.RETURN, SARGE, "add the serial").target is S.RETURNED
    assert check_move(ref(S.RETURNED), A.RESUBMIT, OFFICER).target is S.SUBMITTED


@pytest.mark.parametrize(
    ("report", "action", "actor", "status"),
    [
        (ref(S.SUBMITTED), A.APPROVE, CLERK, 409),  # review first
        (ref(S.APPROVED), A.APPROVE, CLERK, 409),  # approved is final
        (ref(S.APPROVED), A.RETURN, CLERK, 409),
        (ref(S.SUBMITTED), A.REVIEW, OFFICER, 403),
        (ref(S.SUBMITTED), A.REVIEW, DISPATCH, 403),
        (ref(S.REVIEWED), A.RETURN, CLERK, 422),  # a return needs a note
        (ref(S.RETURNED), A.RESUBMIT, Actor("someone.else", frozenset({Role.OFFICER})), 403),
        (ref(S.RETURNED, C.ONLINE, None), A.RESUBMIT, OFFICER, 403),
        (ref(S.SUBMITTED, by="sgt.lee"), A.REVIEW, SARGE, 403),  # not your own
    ],
)
def test_refused_moves_say_why(
    report: ReportRef, action: ReportAction, actor: Actor, status: int
) -> None:
    with pytest.raises(TransitionError) as caught:
        check_move(report, action, actor)
    assert caught.value.status == status
    assert str(caught.value)


def test_actions_offered_and_who_reads() -> None:
    assert allowed_actions(ref(S.REVIEWED), CLERK) == (A.APPROVE, A.RETURN)
    assert allowed_actions(ref(S.RETURNED, C.ONLINE, None), CLERK) == (A.RESUBMIT,)
    assert allowed_actions(ref(S.APPROVED), CLERK) == ()
    assert may_read(ref(S.SUBMITTED), OFFICER)
    assert not may_read(ref(S.SUBMITTED, by="other"), OFFICER)
    assert may_read(ref(S.SUBMITTED, C.ONLINE, None), CLERK)
