"""Triage (issue 4 item 6): decide who answers a call, store the decision, the console.

``POST /api/triage`` takes the canonical call JSON of
:class:`~smart_policing.triage.engine.CallFacts` plus three optional fields:

* ``pack`` — a shipped policy pack by name (default: the ``SMART_TRIAGE_PACK``
  setting); pack files by path are a command-line feature only;
* ``address`` — where the call is; when the false-alarm registry knows the site,
  its standing at the call's time fills the call's ``alarm.status`` (an alarm call
  type without ``alarm`` facts gets an unverified alarm of the type's kind);
* ``availability`` — responder id -> free capacity now (busy responders are
  skipped down the fallback chain).

It returns the :class:`~smart_policing.triage.engine.Decision` (rule, reason,
responder, fallback chain, pack version) with the stored decision's id and the
alarm site matched, and stores the decision (``store.decisions``). Packs are files
shipped with the package and never change at run time: each is loaded and validated
once per app and kept (:class:`TriagePacks`).

The dispatcher console (``/triage/console``) is a form posting through htmx to
``/triage/console/decide``, which renders the decision partial.
"""

from __future__ import annotations

import difflib
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from smart_policing.api.audit import note_records
from smart_policing.api.deps import EngineDep, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow, signed_in
from smart_policing.security.roles import Role
from smart_policing.store.alarms import SiteStanding, site_status
from smart_policing.store.decisions import StoredDecision, list_decisions, store_decision
from smart_policing.triage.engine import AlarmFacts, CallFacts, Decision, decide
from smart_policing.triage.pack import Pack, builtin_pack, builtin_packs, call_type_catalogue
from smart_policing.triage.types import AlarmKind, AlarmStatus, CallFlag
from smart_policing.triage.vocabulary import load_vocabulary

__all__ = [
    "DECIDERS",
    "DECISION_READERS",
    "TriagePacks",
    "TriageRequest",
    "TriageResult",
    "router",
    "triage_call",
]

router = APIRouter()

#: who may ask for a decision (the console and the API)
DECIDERS = (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
#: who may read stored decisions: supervisors (review their dispatchers), analysts
#: (diversion evaluation, R24), auditors (decisions against pack versions), admins
DECISION_READERS = (Role.SUPERVISOR, Role.ANALYST, Role.AUDITOR, Role.ADMIN)

FIRST_YEAR, LAST_YEAR = 1900, 2199


class TriagePacks:
    """The shipped packs, each loaded and validated once (packs are immutable files)."""

    def __init__(self, default: str) -> None:
        self.default = default
        self.names = builtin_packs()
        self._packs: dict[str, Pack] = {}
        self._lock = threading.Lock()

    def get(self, name: str | None) -> Pack:
        """The pack ``name`` (default pack for None); KeyError naming the shipped ones."""
        key = name or self.default
        pack = self._packs.get(key)
        if pack is None:
            with self._lock:
                pack = self._packs.get(key) or builtin_pack(key)
                self._packs[key] = pack
        return pack


def get_packs(request: Request, settings: SettingsDep) -> TriagePacks:
    """The app's pack cache (made on first use)."""
    packs = getattr(request.app.state, "triage_packs", None)
    if not isinstance(packs, TriagePacks):
        packs = TriagePacks(settings.triage_pack)
        request.app.state.triage_packs = packs
    return packs


PacksDep = Annotated[TriagePacks, Depends(get_packs)]


def _no_control_chars(value: str | None) -> str | None:
    if value is not None and any(ord(ch) < 32 for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _schema_values(schema: dict[str, Any]) -> None:
    """List the known call types and packs in the OpenAPI schema (read when it is built)."""
    props = schema.get("properties", {})
    if "call_type" in props:
        props["call_type"]["enum"] = sorted(call_type_catalogue().categories_by_id)
    if "pack" in props:
        props["pack"]["anyOf"] = [
            {"type": "string", "enum": list(builtin_packs())},
            {"type": "null"},
        ]


class TriageRequest(CallFacts):
    """A call to decide: the canonical call JSON plus ``pack``, ``address``, ``availability``."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_schema_values)

    agency_code: str | None = Field(default=None, max_length=128)
    call_id: str | None = Field(default=None, max_length=64)
    answers: dict[str, bool] = Field(default_factory=dict, max_length=32)
    pack: str | None = Field(
        default=None, max_length=64, description="shipped pack name; default SMART_TRIAGE_PACK"
    )
    address: str | None = Field(
        default=None,
        max_length=200,
        description="where the call is; a registered alarm site fills alarm.status",
    )
    availability: dict[str, int] | None = Field(
        default=None,
        max_length=64,
        description="responder id -> free capacity now (<= 0: busy)",
    )

    @field_validator("call_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        vocabulary = load_vocabulary()
        if v not in vocabulary or v not in call_type_catalogue().categories_by_id:
            raise ValueError(vocabulary.unknown_message(v))
        return v

    @field_validator("received_at")
    @classmethod
    def _plausible_time(cls, v: datetime) -> datetime:
        if not FIRST_YEAR < v.year < LAST_YEAR:
            raise ValueError(f"received_at must be between {FIRST_YEAR} and {LAST_YEAR}")
        return v

    @field_validator("call_id", "agency_code", "address")
    @classmethod
    def _printable(cls, v: str | None) -> str | None:
        return _no_control_chars(v)

    @field_validator("pack")
    @classmethod
    def _shipped_pack(cls, v: str | None) -> str | None:
        if v is not None and v not in builtin_packs():
            close = difflib.get_close_matches(v, builtin_packs(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown pack {v!r}{hint}; shipped: {', '.join(builtin_packs())}")
        return v

    def call(self) -> CallFacts:
        """The call facts alone (without pack, address, availability)."""
        return CallFacts.model_validate(
            self.model_dump(exclude={"pack", "address", "availability"})
        )


class AlarmSiteMatch(BaseModel):
    """The registered alarm site an address matched, and its standing at the call's time."""

    id: int
    address: str
    status: AlarmStatus
    false_count: int
    threshold: int
    year: int
    permit_valid: bool


class TriageResult(Decision):
    """The decision, the stored decision's id, and the alarm site matched (if any)."""

    decision_id: int
    alarm_site: AlarmSiteMatch | None = None
    call: dict[str, Any]


class PackInfo(BaseModel):
    """A shipped policy pack."""

    name: str
    version: str
    description: str
    effective_from: str
    effective_to: str | None
    timezone: str
    responders: list[dict[str, str]]
    rules: int
    default: bool


class StoredDecisionOut(BaseModel):
    """A stored decision."""

    id: int
    decided_at: datetime
    call_id: str | None
    pack: str
    pack_version: str
    rule: str
    responder: str
    responder_kind: str
    co_respond: bool
    officer_sent: bool
    queued: bool
    alarm_site_id: int | None
    call: dict[str, Any]
    decision: dict[str, Any]
    actor: str


class DecisionList(BaseModel):
    """Decisions newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[StoredDecisionOut]
    next_cursor: str | None


def _alarm_kind(call_type: str) -> AlarmKind:
    """The alarm kind a canonical alarm call type implies (``alarm-panic`` -> panic)."""
    suffix = call_type.removeprefix("alarm-")
    return AlarmKind(suffix) if suffix in set(AlarmKind) else AlarmKind.OTHER


def _with_alarm(call: CallFacts, standing: SiteStanding) -> CallFacts:
    status = standing.standing.status
    if call.alarm is not None:
        alarm = call.alarm.model_copy(update={"status": status})
    elif call_type_catalogue().categories_by_id[call.call_type] == "alarm":
        alarm = AlarmFacts(kind=_alarm_kind(call.call_type), status=status)
    else:
        return call
    return call.model_copy(update={"alarm": alarm})


def _field_error(field: str, message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", field), "msg": message, "type": "value_error", "input": None}]
    )


def triage_call(
    engine: EngineDep, packs: TriagePacks, body: TriageRequest, *, actor: str
) -> tuple[TriageResult, SiteStanding | None]:
    """Decide ``body``, store the decision; raises 422 naming the field for bad input."""
    pack = packs.get(body.pack)
    call = body.call()
    standing = None
    if body.address:
        standing = site_status(engine, body.address, policy=pack.alarms, at=call.received_at)
        if standing is not None:
            call = _with_alarm(call, standing)
    try:
        decision = decide(pack, call, body.availability)
    except KeyError as exc:
        known = ", ".join(r.id for r in pack.responders)
        raise _field_error(
            "availability", f"{exc.args[0]} (responders of pack {pack.name}: {known})"
        ) from None
    except ValueError as exc:
        raise _field_error("answers", str(exc)) from None
    site_id = standing.site.id if standing is not None else None
    decision_id = store_decision(engine, call, decision, actor=actor, alarm_site_id=site_id)
    match = None
    if standing is not None:
        match = AlarmSiteMatch(
            id=standing.site.id,
            address=standing.site.display_address,
            status=standing.standing.status,
            false_count=standing.standing.false_count,
            threshold=standing.standing.threshold,
            year=standing.standing.year,
            permit_valid=standing.permit_valid,
        )
    result = TriageResult(
        **decision.model_dump(),
        decision_id=decision_id,
        alarm_site=match,
        call=call.model_dump(mode="json"),
    )
    return result, standing


def _note(request: Request, result: TriageResult) -> None:
    note_records(
        request,
        "triage_decision",
        ids=[result.decision_id],
        pack=result.pack,
        pack_version=result.pack_version,
        alarm_site=result.alarm_site.id if result.alarm_site else None,
    )


@router.post("/api/triage", tags=["triage"])
def api_triage(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    who: Annotated[Principal, Depends(allow(*DECIDERS))],
    body: TriageRequest,
) -> TriageResult:
    """Decide who answers a call (primary, fallback chain, co-response, rule, reason,
    pack version) and store the decision. 422 names the field of any bad input."""
    result, _ = triage_call(engine, packs, body, actor=who.name)
    _note(request, result)
    return result


def _pack_info(pack: Pack, default: str) -> PackInfo:
    return PackInfo(
        name=pack.name,
        version=pack.version,
        description=pack.description,
        effective_from=pack.effective_from.isoformat(),
        effective_to=pack.effective_to.isoformat() if pack.effective_to else None,
        timezone=pack.timezone,
        responders=[{"id": r.id, "kind": r.kind.value, "label": r.label} for r in pack.responders],
        rules=len(pack.rules),
        default=pack.name == default,
    )


@router.get("/api/triage/packs", tags=["triage"])
def api_triage_packs(
    request: Request,
    packs: PacksDep,
    _who: Annotated[Principal, Depends(signed_in())],
) -> list[PackInfo]:
    """The shipped policy packs (name, version, dates, responders; the default marked)."""
    note_records(request, "triage_pack", ids=packs.names)
    return [_pack_info(packs.get(n), packs.default) for n in packs.names]


Cursor = Annotated[str | None, Query(max_length=20, pattern=r"^[0-9]{1,18}$")]
Name64 = Annotated[str | None, Query(max_length=64)]


def _out(d: StoredDecision) -> StoredDecisionOut:
    return StoredDecisionOut(**{k: getattr(d, k) for k in StoredDecisionOut.model_fields})


@router.get("/api/triage/decisions", tags=["triage"])
def api_triage_decisions(
    request: Request,
    engine: EngineDep,
    _who: Annotated[Principal, Depends(allow(*DECISION_READERS))],
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    pack: Name64 = None,
    call_id: Name64 = None,
    responder: Name64 = None,
) -> DecisionList:
    """Stored decisions, newest first (keyset pages), by pack, call id or responder."""
    page = list_decisions(
        engine,
        cursor=int(cursor) if cursor else None,
        limit=limit,
        pack=pack,
        call_id=call_id,
        responder=responder,
    )
    note_records(
        request,
        "triage_decision",
        ids=[d.id for d in page.items],
        pack=pack,
        call_id=call_id,
        responder=responder,
    )
    return DecisionList(
        items=[_out(d) for d in page.items],
        next_cursor=str(page.next_cursor) if page.next_cursor is not None else None,
    )


# ---------------------------------------------------------------- the console


def _call_type_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    vocabulary = load_vocabulary()
    groups: dict[str, list[tuple[str, str]]] = {}
    for ct in vocabulary.call_types:
        groups.setdefault(ct.category.value, []).append((ct.id, ct.label))
    return [(cat, sorted(items, key=lambda x: x[1])) for cat, items in groups.items()]


def _console_context(packs: TriagePacks) -> dict[str, Any]:
    now = datetime.now(UTC).astimezone(packs.get(None).zone)
    return {
        "groups": _call_type_groups(),
        "flags": [f.value for f in CallFlag],
        "packs": [(n, packs.get(n).version, n == packs.default) for n in packs.names],
        "now": now.strftime("%Y-%m-%dT%H:%M"),
        "timezone": packs.get(None).timezone,
    }


@router.get("/triage/console", response_class=HTMLResponse, include_in_schema=False)
def console_page(
    request: Request,
    packs: PacksDep,
    _who: Annotated[Principal, Depends(allow(*DECIDERS))],
) -> HTMLResponse:
    """The dispatcher console: enter a call, see the decision and why."""
    note_records(request, "triage_console")
    return render(request, "triage_console.html", _console_context(packs))


def _form_errors(exc: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or 'call'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    ]


@router.post("/triage/console/decide", response_class=HTMLResponse, include_in_schema=False)
def console_decide(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    who: Annotated[Principal, Depends(allow(*DECIDERS))],
    call_type: Annotated[str, Form(max_length=64)] = "",
    priority: Annotated[str, Form(max_length=8)] = "",
    received_at: Annotated[str, Form(max_length=40)] = "",
    flags: Annotated[list[str] | None, Form()] = None,
    address: Annotated[str, Form(max_length=200)] = "",
    pack: Annotated[str, Form(max_length=64)] = "",
    call_id: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    """The decision partial for the console's form (errors listed by field)."""
    chosen = pack.strip() or packs.default
    when = received_at.strip()
    if when and len(when) <= 16:  # a datetime-local field: local wall time of the pack
        try:
            naive = datetime.fromisoformat(when)
        except ValueError:
            pass
        else:
            zone = packs.get(chosen if chosen in packs.names else None).zone
            when = naive.replace(tzinfo=zone).isoformat()
    data: dict[str, Any] = {
        "call_type": call_type.strip(),
        "received_at": when or datetime.now(UTC).isoformat(),
        "flags": flags or [],
        "pack": chosen,
    }
    if priority.strip():
        data["priority"] = priority.strip()
    if address.strip():
        data["address"] = address.strip()
    if call_id.strip():
        data["call_id"] = call_id.strip()
    try:
        body = TriageRequest.model_validate(data)
        result, standing = triage_call(engine, packs, body, actor=who.name)
    except ValidationError as exc:
        note_records(request, "triage_decision")
        return render(request, "_decision.html", {"errors": _form_errors(exc)})
    except RequestValidationError as exc:
        note_records(request, "triage_decision")
        errors = [f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors()]
        return render(request, "_decision.html", {"errors": errors})
    except HTTPException as exc:  # pragma: no cover - triage_call raises validation errors
        return render(request, "_decision.html", {"errors": [str(exc.detail)]})
    _note(request, result)
    pack_obj = packs.get(result.pack)
    labels = {r.id: r.label for r in pack_obj.responders}
    return render(
        request,
        "_decision.html",
        {"result": result, "labels": labels, "standing": standing, "errors": []},
    )
