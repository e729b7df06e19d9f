"""Report intake: the public online form, the JSON API per channel, the review queue.

Routes and roles (``docs/reports.md``):

* ``GET/POST /report``: the online form, anyone (rate-limited; the form carries a
  double-submit CSRF token of its own, as the sign-in form does). Screening first.
* ``POST /api/reports/online``: anyone (rate-limited); ``/telephone``: dispatcher,
  records; ``/field``: officer, with an optional ``Idempotency-Key`` header.
* ``GET /api/reports``, ``GET /api/reports/{case}``, ``POST .../transition`` and the
  pages ``/reports/queue`` (reviewers only) and ``/reports/{case}``: records and
  supervisors see every report; officers (and anyone else allowed in) only their own.

Handlers call :func:`smart_policing.reports.assess` and the repository; field errors
come back as FastAPI's 422 shape (``loc`` names the field). The audit log notes case
numbers only: never the reporter's contact or the description.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.datastructures import FormData

from smart_policing.api.audit import note_records
from smart_policing.api.deps import EngineDep, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import AuthError, Principal, allow, anonymous
from smart_policing.reports import (
    EMERGENCY_MESSAGE,
    REVIEWER_ROLES,
    Accepted,
    Actor,
    Emergency,
    FieldError,
    IntakeRules,
    Invalid,
    ReportAction,
    ReportStatus,
    ReportSubmission,
    ScreenedReportSubmission,
    TransitionError,
    allowed_actions,
    assess,
    intake_rules,
    may_read,
)
from smart_policing.reports.screening import SCREENING_QUESTIONS
from smart_policing.security.roles import Role
from smart_policing.security.tokens import constant_time_equal, new_secret
from smart_policing.settings import Settings
from smart_policing.store.reports import (
    IdempotencyConflict,
    ReportNotFound,
    StoredReport,
    get_report,
    list_reports,
    record_refusal,
    submit_report,
    transition_report,
)
from smart_policing.triage.pack import resolve_pack
from smart_policing.triage.types import ReportChannel

__all__ = ["router"]

router = APIRouter()

REVIEWERS = (Role.RECORDS, Role.SUPERVISOR)
READERS = (Role.RECORDS, Role.SUPERVISOR, Role.OFFICER)
TELEPHONE_TAKERS = (Role.DISPATCHER, Role.RECORDS)
DEFAULT_PACK = "baltimore-smart-2022"
REPORT_CSRF_COOKIE = "sp_report_csrf"
FORM_ITEMS = 3  # property rows on the online form
FORM_ACTIONS = {
    ReportChannel.ONLINE: "/report",
    ReportChannel.TELEPHONE: "/reports/new/telephone",
    ReportChannel.FIELD: "/reports/new/field",
}

CaseNumber = Annotated[
    str, Path(max_length=16, description="e.g. R25-000123", examples=["R25-000001"])
]


@cache
def _rules_for(pack_name: str) -> IntakeRules:
    return intake_rules(resolve_pack(pack_name))


def get_rules(settings: SettingsDep) -> IntakeRules:
    """The intake rules of the active policy pack (``SMART_TRIAGE_PACK``)."""
    return _rules_for(str(getattr(settings, "triage_pack", DEFAULT_PACK)))


RulesDep = Annotated[IntakeRules, Depends(get_rules)]


# ---------------------------------------------------------------- response models


class PropertyItemOut(BaseModel):
    description: str
    value: Decimal
    serial_number: str | None


class TransitionOut(BaseModel):
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    actor: str
    note: str | None


class ReportFiled(BaseModel):
    """A report was filed: quote the case number."""

    outcome: Literal["filed"] = "filed"
    case_number: str
    status: ReportStatus
    call_type: str
    block_address: str = Field(description="where, generalised to the block")


class ReportRefused(BaseModel):
    """Screening found an emergency: nothing was filed; call 911."""

    outcome: Literal["call-911"] = "call-911"
    message: str
    signs: list[str]


class ReportSummaryOut(BaseModel):
    case_number: str
    channel: ReportChannel
    status: ReportStatus
    call_type: str
    occurred_from: datetime
    block_address: str
    submitted_by: str | None
    submitted_at: datetime


class ReportPage(BaseModel):
    """Reports in filing order; pass ``next_after`` as ``after`` for more."""

    items: list[ReportSummaryOut]
    next_after: str | None


class ReportOut(BaseModel):
    """A report as staff see it (contact and exact address included)."""

    case_number: str
    channel: ReportChannel
    status: ReportStatus
    call_type: str
    call_type_label: str
    occurred_from: datetime
    occurred_to: datetime
    address: str
    block_address: str
    description: str
    contact: dict[str, Any] | None
    property_items: list[PropertyItemOut]
    pack: str
    pack_version: str
    submitted_by: str | None
    submitted_at: datetime
    incident_id: int | None
    transitions: list[TransitionOut]
    allowed_actions: list[ReportAction]


class TransitionRequest(BaseModel):
    """A move in the review workflow (a return needs a note)."""

    action: ReportAction = Field(examples=["approve"])
    note: str | None = Field(None, max_length=2000, examples=["checked with the reporter"])


# ---------------------------------------------------------------- helpers


def _actor(who: Principal) -> Actor:
    return Actor(who.name, who.roles)


def _report_out(report: StoredReport, rules: IntakeRules, who: Principal) -> ReportOut:
    return ReportOut(
        case_number=report.case_number,
        channel=report.channel,
        status=report.status,
        call_type=report.call_type,
        call_type_label=rules.label(report.call_type),
        occurred_from=report.occurred_from,
        occurred_to=report.occurred_to,
        address=report.address,
        block_address=report.block_address,
        description=report.description,
        contact=report.contact,
        property_items=[
            PropertyItemOut(description=i.description, value=i.value, serial_number=i.serial_number)
            for i in report.items
        ],
        pack=report.pack,
        pack_version=report.pack_version,
        submitted_by=report.submitted_by,
        submitted_at=report.submitted_at,
        incident_id=report.incident_id,
        transitions=[
            TransitionOut(
                at=m.at,
                action=m.action,
                from_status=None if m.from_status is None else m.from_status.value,
                to_status=m.to_status.value,
                actor=m.actor,
                note=m.note,
            )
            for m in report.transitions
        ],
        allowed_actions=list(allowed_actions(report.ref, _actor(who))),
    )


def _readable(engine: EngineDep, case: str, who: Principal) -> StoredReport:
    """The report, if ``who`` may read it (404 otherwise: existence is not disclosed)."""
    try:
        report = get_report(engine, case)
    except ReportNotFound:
        raise AuthError(404, f"no report {case}") from None
    if not may_read(report.ref, _actor(who)):
        raise AuthError(404, f"no report {case}")
    return report


def _invalid(errors: tuple[FieldError, ...] | list[FieldError], prefix: str = "body") -> None:
    raise RequestValidationError([e.to_dict((prefix,)) for e in errors])


def _file(
    request: Request,
    response: Response,
    engine: EngineDep,
    rules: IntakeRules,
    channel: ReportChannel,
    body: ReportSubmission,
    who: Principal,
    idempotency_key: str | None = None,
) -> ReportFiled | ReportRefused:
    now = datetime.now(UTC)
    result = assess(channel, body.model_dump(exclude_unset=True), rules, now)
    if isinstance(result, Invalid):
        note_records(request, "report", outcome="invalid", channel=channel.value)
        _invalid(result.errors)
    if isinstance(result, Emergency):
        record_refusal(engine, result, timezone=rules.timezone, now=now)
        note_records(request, "report", outcome="call-911", channel=channel.value)
        response.status_code = 200
        return ReportRefused(message=EMERGENCY_MESSAGE, signs=[s.value for s in result.signs])
    assert isinstance(result, Accepted)
    try:
        stored = submit_report(
            engine,
            result,
            rules=rules,
            actor=who.user.username if who.user else None,
            idempotency_key=idempotency_key,
            now=now,
        )
    except IdempotencyConflict as exc:
        note_records(request, "report", outcome="idempotency-conflict", channel=channel.value)
        raise RequestValidationError(
            [{"loc": ["header", "Idempotency-Key"], "msg": str(exc), "type": "idempotency"}]
        ) from None
    report = stored.report
    note_records(request, "report", ids=[report.case_number], channel=channel.value)
    response.status_code = 201 if stored.created else 200
    return ReportFiled(
        case_number=report.case_number,
        status=report.status,
        call_type=report.call_type,
        block_address=report.block_address,
    )


# ---------------------------------------------------------------- JSON API: filing

FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"description": "filed", "model": ReportFiled},
    200: {"description": "emergency: call 911 (nothing filed)", "model": ReportRefused},
}


@router.post("/api/reports/online", tags=["reports"], status_code=201, responses=FILE_RESPONSES)
def file_online(
    request: Request,
    response: Response,
    body: ScreenedReportSubmission,
    engine: EngineDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(anonymous())],
) -> ReportFiled | ReportRefused:
    """A resident's online report (anyone; rate-limited). Screening answers and
    contact are required; the call type must be one the pack takes online."""
    return _file(request, response, engine, rules, ReportChannel.ONLINE, body, who)


@router.post("/api/reports/telephone", tags=["reports"], status_code=201, responses=FILE_RESPONSES)
def file_telephone(
    request: Request,
    response: Response,
    body: ScreenedReportSubmission,
    engine: EngineDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(*TELEPHONE_TAKERS))],
) -> ReportFiled | ReportRefused:
    """A report taken by the Telephone Reporting Unit (screening and contact required)."""
    return _file(request, response, engine, rules, ReportChannel.TELEPHONE, body, who)


@router.post(
    "/api/reports/field",
    tags=["reports"],
    status_code=201,
    responses={201: {"description": "filed"}, 200: {"description": "an idempotent retry"}},
)
def file_field(
    request: Request,
    response: Response,
    body: ReportSubmission,
    engine: EngineDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(Role.OFFICER))],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=128,
            pattern=r"^[\x21-\x7e]+$",
            description="a retry with the same key returns the first report (200)",
        ),
    ] = None,
) -> ReportFiled:
    """An officer's report from the field (no screening); retry safely with
    ``Idempotency-Key``."""
    result = _file(
        request, response, engine, rules, ReportChannel.FIELD, body, who, idempotency_key
    )
    assert isinstance(result, ReportFiled)  # field reports are not screened
    return result


# ---------------------------------------------------------------- JSON API: review


@router.get("/api/reports", tags=["reports"])
def api_list_reports(
    request: Request,
    engine: EngineDep,
    who: Annotated[Principal, Depends(allow(*READERS))],
    status: ReportStatus | None = None,
    after: Annotated[str | None, Query(pattern=r"^[Rr][0-9]{2}-[0-9]{6,7}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReportPage:
    """Reports in filing order (reviewers: all; others: the ones they filed)."""
    mine = None if who.has_any(REVIEWER_ROLES) else who.name
    items = list_reports(engine, status=status, submitted_by=mine, after=after, limit=limit)
    note_records(request, "reports", ids=[r.case_number for r in items], status=status)
    return ReportPage(
        items=[ReportSummaryOut.model_validate(r, from_attributes=True) for r in items],
        next_after=items[-1].case_number if len(items) == limit else None,
    )


@router.get("/api/reports/{case}", tags=["reports"])
def api_get_report(
    request: Request,
    case: CaseNumber,
    engine: EngineDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(*READERS))],
) -> ReportOut:
    """One report with its items and history, and the actions the caller may take."""
    note_records(request, "reports", ids=[case])
    return _report_out(_readable(engine, case, who), rules, who)


def _move(
    engine: EngineDep, case: str, who: Principal, action: ReportAction, note: str | None
) -> StoredReport:
    report = _readable(engine, case, who)
    try:
        return transition_report(engine, report.case_number, action, _actor(who), note)
    except TransitionError as exc:
        if exc.status == 422:
            raise RequestValidationError(
                [{"loc": ["body", "note"], "msg": str(exc), "type": "missing"}]
            ) from None
        raise AuthError(exc.status, str(exc)) from None


@router.post("/api/reports/{case}/transition", tags=["reports"])
def api_transition(
    request: Request,
    case: CaseNumber,
    body: TransitionRequest,
    engine: EngineDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(*READERS))],
) -> ReportOut:
    """Review, approve, return (with a note) or resubmit a report. Approval makes the
    report a record (one incident) at once."""
    note_records(request, "reports", ids=[case], action=body.action.value)
    return _report_out(_move(engine, case, who, body.action, body.note), rules, who)


# ---------------------------------------------------------------- the public form


def _secure(request: Request, settings: Settings) -> bool:
    flag = settings.security.cookie_secure
    return request.url.scheme == "https" if flag is None else flag


def _form_page(
    request: Request,
    settings: Settings,
    rules: IntakeRules,
    who: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
    channel: ReportChannel = ReportChannel.ONLINE,
) -> HTMLResponse:
    token = who.csrf_token if who.via == "session" and who.csrf_token else new_secret()
    types = [(i, rules.label(i)) for i in rules.types_for(channel)]
    key = (values or {}).get("idempotency_key") or new_secret()
    page = render(
        request,
        "report_form.html",
        {
            "form_csrf": token,
            "types": types,
            "questions": SCREENING_QUESTIONS,
            "values": values or {},
            "errors": errors or {},
            "item_rows": range(FORM_ITEMS),
            "notice": notice,
            "channel": channel.value,
            "action": FORM_ACTIONS[channel],
            "screened": channel is not ReportChannel.FIELD,
            "idempotency_key": key if channel is ReportChannel.FIELD else None,
        },
        status_code=status,
    )
    if who.via != "session":
        page.set_cookie(
            REPORT_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=_secure(request, settings),
            path="/report",
        )
    return page


@router.get("/report", response_class=HTMLResponse, include_in_schema=False)
def report_form(
    request: Request,
    settings: SettingsDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(anonymous())],
) -> HTMLResponse:
    """The online report form: screening questions first."""
    return _form_page(request, settings, rules, who)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _form_data(form: FormData) -> tuple[dict[str, Any], list[int]]:
    """The submission dict of the form, and the form row of each property item."""
    data: dict[str, Any] = {
        name: _text(form, name)
        for name in ("call_type", "occurred_from", "occurred_to", "address", "description")
    }
    contact = {k: _text(form, f"contact_{k}") for k in ("name", "phone", "email")}
    data["contact"] = contact if any(contact.values()) else None
    data["screening"] = {
        sign.value: _text(form, f"screening_{sign.value}")
        for sign, _ in SCREENING_QUESTIONS
        if _text(form, f"screening_{sign.value}")
    }
    items, rows = [], []
    for n in range(FORM_ITEMS):
        row = {k: _text(form, f"item_{k}_{n}") for k in ("description", "value", "serial_number")}
        if any(row.values()):
            items.append({**row, "serial_number": row["serial_number"] or None})
            rows.append(n)
    data["property_items"] = items
    return data, rows


def _form_field(error: FieldError, rows: list[int]) -> str:
    loc = error.loc
    if not loc:
        return "form"
    head = str(loc[0])
    if head in ("contact", "screening"):
        return f"{head}_{loc[1]}" if len(loc) > 1 else head
    if head == "property_items":
        if len(loc) > 2 and isinstance(loc[1], int) and loc[1] < len(rows):
            return f"item_{loc[2]}_{rows[loc[1]]}"
        return "items"
    return head


async def _submit_form(
    request: Request,
    engine: EngineDep,
    settings: Settings,
    rules: IntakeRules,
    who: Principal,
    channel: ReportChannel,
) -> Response:
    """File a report form: the case number, the 911 message, or the form with errors."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    if who.via != "session":  # signed-in users' forms were checked against their session
        expected = request.cookies.get(REPORT_CSRF_COOKIE, "")
        sent = _text(form, "csrf_token")
        if not expected or not sent or not constant_time_equal(expected, sent):
            return _form_page(
                request,
                settings,
                rules,
                who,
                values=values,
                status=400,
                notice="The form expired; check your answers and submit again.",
                channel=channel,
            )
    data, rows = _form_data(form)
    if channel is ReportChannel.FIELD:
        data.pop("screening", None)  # the officer is the emergency response
    now = datetime.now(UTC)
    result = assess(channel, data, rules, now)
    if isinstance(result, Emergency):
        record_refusal(engine, result, timezone=rules.timezone, now=now)
        note_records(request, "report", outcome="call-911", channel=channel.value)
        return render(request, "report_done.html", {"emergency": EMERGENCY_MESSAGE})
    if isinstance(result, Invalid):
        note_records(request, "report", outcome="invalid", channel=channel.value)
        errors: dict[str, str] = {}
        for error in result.errors:
            errors.setdefault(_form_field(error, rows), error.message)
        return _form_page(
            request, settings, rules, who, values=values, errors=errors, status=422, channel=channel
        )
    assert isinstance(result, Accepted)
    key = _text(form, "idempotency_key") if channel is ReportChannel.FIELD else ""
    try:
        stored = submit_report(
            engine,
            result,
            rules=rules,
            actor=who.user.username if who.user else None,
            idempotency_key=key[:128] or None,
            now=now,
        )
    except IdempotencyConflict:
        return _form_page(
            request,
            settings,
            rules,
            who,
            values={k: v for k, v in values.items() if k != "idempotency_key"},
            status=409,
            notice="This form was already filed with other answers; start a new report.",
            channel=channel,
        )
    report = stored.report
    note_records(request, "report", ids=[report.case_number], channel=channel.value)
    page = render(
        request,
        "report_done.html",
        {
            "case_number": report.case_number,
            "block_address": report.block_address,
            "call_type_label": rules.label(report.call_type),
        },
        status_code=201 if stored.created else 200,
    )
    if channel is ReportChannel.ONLINE:
        page.delete_cookie(REPORT_CSRF_COOKIE, path="/report")
    return page


@router.post("/report", response_class=HTMLResponse, include_in_schema=False)
async def report_submit(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(anonymous())],
) -> Response:
    """File the online form: the case number, the 911 message, or the form with errors."""
    return await _submit_form(request, engine, settings, rules, who, ReportChannel.ONLINE)


@router.get("/reports/new/telephone", response_class=HTMLResponse, include_in_schema=False)
def telephone_form(
    request: Request,
    settings: SettingsDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(*TELEPHONE_TAKERS))],
) -> HTMLResponse:
    """The Telephone Reporting Unit's form (screening questions asked first)."""
    return _form_page(request, settings, rules, who, channel=ReportChannel.TELEPHONE)


@router.post("/reports/new/telephone", response_class=HTMLResponse, include_in_schema=False)
async def telephone_submit(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(*TELEPHONE_TAKERS))],
) -> Response:
    """File a telephone report."""
    return await _submit_form(request, engine, settings, rules, who, ReportChannel.TELEPHONE)


@router.get("/reports/new/field", response_class=HTMLResponse, include_in_schema=False)
def field_form(
    request: Request,
    settings: SettingsDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(Role.OFFICER))],
) -> HTMLResponse:
    """An officer's field report form (a retried submission never files twice)."""
    return _form_page(request, settings, rules, who, channel=ReportChannel.FIELD)


@router.post("/reports/new/field", response_class=HTMLResponse, include_in_schema=False)
async def field_submit(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(Role.OFFICER))],
) -> Response:
    """File a field report (the form's idempotency key makes a retry return the first)."""
    return await _submit_form(request, engine, settings, rules, who, ReportChannel.FIELD)


# ---------------------------------------------------------------- review pages


@router.get("/reports/queue", response_class=HTMLResponse, include_in_schema=False)
def queue_page(
    request: Request,
    engine: EngineDep,
    rules: RulesDep,
    _who: Annotated[Principal, Depends(allow(*REVIEWERS))],
    status: ReportStatus = ReportStatus.SUBMITTED,
    after: Annotated[str | None, Query(pattern=r"^[Rr][0-9]{2}-[0-9]{6,7}$")] = None,
) -> HTMLResponse:
    """The review queue: reports of one status, oldest first."""
    items = list_reports(engine, status=status, after=after, limit=100)
    note_records(request, "reports", ids=[r.case_number for r in items], status=status)
    return render(
        request,
        "reports_queue.html",
        {
            "items": items,
            "status": status,
            "statuses": list(ReportStatus),
            "labels": rules.labels,
            "next_after": items[-1].case_number if len(items) == 100 else None,
            "timezone": rules.timezone,
        },
    )


def _detail_page(
    request: Request,
    report: StoredReport,
    rules: IntakeRules,
    who: Principal,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "report_detail.html",
        {
            "report": report,
            "label": rules.label(report.call_type),
            "actions": allowed_actions(report.ref, _actor(who)),
            "error": error,
            "timezone": rules.timezone,
        },
        status_code=status,
    )


@router.get("/reports/{case}", response_class=HTMLResponse, include_in_schema=False)
def report_page(
    request: Request,
    case: CaseNumber,
    engine: EngineDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(*READERS))],
) -> HTMLResponse:
    """One report, with the approve / return buttons the caller may use."""
    note_records(request, "reports", ids=[case])
    return _detail_page(request, _readable(engine, case, who), rules, who)


@router.post("/reports/{case}", response_class=HTMLResponse, include_in_schema=False)
async def report_page_move(
    request: Request,
    case: CaseNumber,
    engine: EngineDep,
    rules: RulesDep,
    who: Annotated[Principal, Depends(allow(*READERS))],
) -> Response:
    """The detail page's buttons: review, approve, return (with a note), resubmit."""
    form = await request.form()
    note_records(request, "reports", ids=[case], action=_text(form, "action"))
    report = _readable(engine, case, who)
    try:
        action = ReportAction(_text(form, "action"))
    except ValueError:
        return _detail_page(request, report, rules, who, error="Choose an action.", status=422)
    try:
        moved = transition_report(
            engine, report.case_number, action, _actor(who), _text(form, "note") or None
        )
    except TransitionError as exc:
        return _detail_page(request, report, rules, who, error=str(exc), status=exc.status)
    return RedirectResponse(f"/reports/{moved.case_number}", status_code=303)
