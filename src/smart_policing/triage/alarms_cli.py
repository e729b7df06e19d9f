"""``smart-policing alarms ...``: the false-alarm registry from the command line.

::

    smart-policing alarms site add ADDRESS [--permit N] [--holder NAME] [--expires DATE]
                                           [--company NAME]
    smart-policing alarms event ADDRESS --kind burglar --outcome false
                                        [--at "2025-03-01 02:10"] [--verified-by video]
                                        [--call-id ID] [--note TEXT]
    smart-policing alarms status ADDRESS [--year Y]
    smart-policing alarms reinstate ADDRESS --reason appeal|repaired [--note TEXT]
    smart-policing alarms list [--status suspended] [--year Y]
    smart-policing alarms history ADDRESS

Times typed without an offset (``--at``) are local times in the city's time zone
(global ``--timezone``, env ``SMART_TIMEZONE``). Every change is audited under
``--actor`` (default: the operating-system user name). The rules come from
``--policy FILE`` (YAML with :class:`~smart_policing.triage.alarms.AlarmPolicy`
fields) or the defaults: 5 false alarms a calendar year, warnings at 3 and 4, in the
city's time zone. Every command takes ``--json``. Exit status 2: unusable input or a
request the registry refuses (e.g. reinstating a site that is not suspended).
"""

from __future__ import annotations

import getpass
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from smart_policing.cli_support import JsonOpt
from smart_policing.cli_support import RootContext as _RootContext
from smart_policing.cli_support import emit as _emit
from smart_policing.cli_support import fail as _fail
from smart_policing.cli_support import root_context as _root
from smart_policing.datafiles import DataFileError, load_model
from smart_policing.store.alarms import (
    AlarmRegistryError,
    AlarmSite,
    SiteStanding,
    StatusChange,
    StoredAlarmEvent,
    list_sites,
    record_event,
    register_site,
    reinstate,
    site_history,
    site_status,
)
from smart_policing.triage.alarms import (
    AlarmPolicy,
    ReinstatementReason,
    Standing,
    Verification,
    local_year,
    officer_response,
    site_standing,
    year_start,
)
from smart_policing.triage.cli import alarms_app
from smart_policing.triage.pack import builtin_pack, builtin_packs, load_pack
from smart_policing.triage.types import AlarmKind, AlarmOutcome, AlarmStatus

__all__ = ["site_app"]

site_app = typer.Typer(help="Alarm sites and their permits.", no_args_is_help=True)
alarms_app.add_typer(site_app, name="site")


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or password file
        return "unknown"


def _policy(c: _RootContext, path: Path | None) -> AlarmPolicy:
    """The alarm settings: a policy pack's (name or file), an AlarmPolicy file, or defaults."""
    if path is None:
        return AlarmPolicy(timezone=c.settings.timezone)
    if str(path) in builtin_packs():
        return builtin_pack(str(path)).alarms
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _fail(f"{path}: {exc.strerror or exc}") from exc
    try:
        if "rules:" in text and "responders:" in text:  # a whole policy pack
            return load_pack(path).alarms
        return load_model(path, AlarmPolicy)
    except DataFileError as exc:
        raise _fail(f"invalid alarm policy:\n{exc}") from exc


def _local_time(text: str | None, zone: str) -> datetime:
    """``YYYY-MM-DD HH:MM[:SS]`` in ``zone`` (or with an explicit offset); None: now."""
    if text is None:
        return datetime.now(ZoneInfo(zone))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise _fail(f"--at {text!r}: expected a local time like '2025-03-01 02:10'") from exc
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=ZoneInfo(zone))


ActorOpt = Annotated[
    str | None,
    typer.Option(
        "--actor", help="Who makes the change, for the audit log (default: OS user name)."
    ),
]
PolicyOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help=(
            "A policy pack (shipped name, e.g. baltimore-smart-2022, or file) whose alarm "
            "settings apply, or a YAML of AlarmPolicy fields; default 5 a year, warnings at 3, 4."
        ),
    ),
]
AddressArg = Annotated[
    str, typer.Argument(metavar="ADDRESS", help="Street address, written any way.")
]
_ROUTE = "cli alarms"
_ROLES = "cli"


# ---------------------------------------------------------------- JSON and tables


def _site_json(site: AlarmSite) -> dict[str, Any]:
    return asdict(site)


def _standing_json(standing: Standing) -> dict[str, Any]:
    def event_json(e: Any) -> dict[str, Any] | None:
        return None if e is None else asdict(e)

    return {
        "year": standing.year,
        "status": standing.status.value,
        "false_count": standing.false_count,
        "threshold": standing.threshold,
        "remaining": standing.remaining,
        "suspended_by": event_json(standing.suspended_by),
        "suspended_until": standing.suspended_until,
        "reinstated_at": standing.reinstated_at,
        "notices": [
            {
                "kind": n.kind.value,
                "at": n.at,
                "false_count": n.false_count,
                "event_id": n.event.event_id if n.event else None,
                "reason": n.reason,
            }
            for n in standing.notices
        ],
    }


def _status_json(s: SiteStanding) -> dict[str, Any]:
    return {
        "site": _site_json(s.site),
        "standing": _standing_json(s.standing),
        "permit_valid": s.permit_valid,
        "unverified_burglar_alarm_now": {
            "officer": s.burglar_response.officer,
            "reason": s.burglar_response.reason.value,
        },
    }


def _change_json(c: StatusChange) -> dict[str, Any]:
    return asdict(c)


def _event_json(e: StoredAlarmEvent) -> dict[str, Any]:
    return asdict(e)


def _status_text(s: SiteStanding, zone: str) -> str:
    st = s.standing
    lines = [
        f"{s.site.display_address} [{s.site.address_key}] (site #{s.site.id})",
        f"{st.year}: {st.status.value}, {st.false_count} false alarm(s) of {st.threshold}",
    ]
    if st.suspended_by is not None and st.suspended_until is not None:
        when = st.suspended_by.occurred_at.astimezone(ZoneInfo(zone))
        lines.append(
            f"suspended by the false alarm of {when:%Y-%m-%d %H:%M} until "
            f"{st.suspended_until:%Y-%m-%d %H:%M %Z}"
        )
    if st.reinstated_at is not None:
        lines.append(f"reinstated {st.reinstated_at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}")
    response = s.burglar_response
    lines.append(
        f"unverified burglar alarm now: {'officer' if response.officer else 'NO officer'} "
        f"({response.reason.value})"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- commands


@site_app.command("add")
def site_add(
    ctx: typer.Context,
    address: AddressArg,
    permit: Annotated[str | None, typer.Option("--permit", help="Alarm permit number.")] = None,
    holder: Annotated[str | None, typer.Option("--holder", help="Permit holder.")] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Permit's last valid day (YYYY-MM-DD).")
    ] = None,
    company: Annotated[str | None, typer.Option("--company", help="Alarm company.")] = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register an alarm site (again: updates the permit details given)."""
    c = _root(ctx, as_json)
    try:
        expires_on = date.fromisoformat(expires) if expires else None
        site, created = register_site(
            c.engine(),
            address,
            actor=actor or _default_actor(),
            roles=_ROLES,
            route=f"{_ROUTE} site add",
            permit_number=permit,
            permit_holder=holder,
            permit_expires=expires_on,
            alarm_company=company,
        )
    except (AlarmRegistryError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    word = "registered" if created else "already registered"
    _emit(
        c,
        {"created": created, "site": _site_json(site)},
        f"{word}: {site.display_address} [{site.address_key}] (site #{site.id})",
    )


@alarms_app.command("event")
def event_cmd(
    ctx: typer.Context,
    address: AddressArg,
    kind: Annotated[AlarmKind, typer.Option("--kind", help="What the alarm signals.")],
    outcome: Annotated[AlarmOutcome, typer.Option("--outcome", help="What was found.")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Local time, e.g. '2025-03-01 02:10' (default: now)."),
    ] = None,
    verified_by: Annotated[
        Verification, typer.Option("--verified-by", help="How it was verified.")
    ] = Verification.NONE,
    call_id: Annotated[
        str | None, typer.Option("--call-id", help="CAD call id (recorded once).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
    actor: ActorOpt = None,
    policy_file: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record an alarm event; warns or suspends the site when a count is reached."""
    c = _root(ctx, as_json)
    policy = _policy(c, policy_file)
    try:
        result = record_event(
            c.engine(),
            address,
            occurred_at=_local_time(at, policy.timezone),
            kind=kind,
            outcome=outcome,
            policy=policy,
            actor=actor or _default_actor(),
            roles=_ROLES,
            route=f"{_ROUTE} event",
            verified_by=verified_by,
            source_call_id=call_id,
            note=note,
        )
    except AlarmRegistryError as exc:
        raise _fail(str(exc)) from exc
    data = {
        "site": _site_json(result.site),
        "event": _event_json(result.event),
        "standing": _standing_json(result.standing),
        "new_changes": [_change_json(ch) for ch in result.new_changes],
        "site_created": result.site_created,
        "duplicate": result.duplicate,
    }
    st = result.standing
    lines = [
        ("already recorded" if result.duplicate else "recorded")
        + f" event #{result.event.id} at {result.site.display_address}"
        + (" (new site)" if result.site_created else ""),
        f"{st.year}: {st.status.value}, {st.false_count} false alarm(s) of {st.threshold}",
        *(f"{ch.kind.value}: {ch.reason}" for ch in result.new_changes),
    ]
    _emit(c, data, "\n".join(lines))


@alarms_app.command("status")
def status_cmd(
    ctx: typer.Context,
    address: AddressArg,
    year: Annotated[
        int | None, typer.Option("--year", help="Calendar year (default: this year).")
    ] = None,
    policy_file: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A site's standing, and whether an unverified burglar alarm there gets an officer now."""
    c = _root(ctx, as_json)
    policy = _policy(c, policy_file)
    at = None if year is None else year_start(year, policy)
    try:
        status = site_status(c.engine(), address, policy=policy, at=at)
    except AlarmRegistryError as exc:
        raise _fail(str(exc)) from exc
    if status is None:
        this_year = local_year(datetime.now(policy.zone), policy)
        standing = site_standing([], year if year is not None else this_year, policy)
        response = officer_response(standing, AlarmKind.BURGLAR, False, policy, permit_valid=False)
        _emit(
            c,
            {
                "site": None,
                "status": AlarmStatus.NONE.value,
                "unverified_burglar_alarm_now": {
                    "officer": response.officer,
                    "reason": response.reason.value,
                },
            },
            f"no alarm site registered at {address!r}; unverified burglar alarm now: "
            f"{'officer' if response.officer else 'NO officer'} ({response.reason.value})",
        )
        return
    _emit(c, _status_json(status), _status_text(status, policy.timezone))


@alarms_app.command("reinstate")
def reinstate_cmd(
    ctx: typer.Context,
    address: AddressArg,
    reason: Annotated[
        ReinstatementReason, typer.Option("--reason", help="Appeal granted, or system repaired.")
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="Decision reference, proof of repair.")
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When it took effect, local time (default: now)."),
    ] = None,
    actor: ActorOpt = None,
    policy_file: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lift a suspension for the rest of the year (the next false alarm suspends again)."""
    c = _root(ctx, as_json)
    policy = _policy(c, policy_file)
    try:
        status, change = reinstate(
            c.engine(),
            address,
            reason=reason,
            policy=policy,
            actor=actor or _default_actor(),
            roles=_ROLES,
            route=f"{_ROUTE} reinstate",
            note=note,
            at=None if at is None else _local_time(at, policy.timezone),
        )
    except AlarmRegistryError as exc:
        raise _fail(str(exc)) from exc
    data = _status_json(status) | {"change": _change_json(change)}
    _emit(c, data, _status_text(status, policy.timezone))


@alarms_app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: Annotated[
        AlarmStatus | None, typer.Option("--status", help="Only sites in this status.")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="Calendar year (default: this year).")
    ] = None,
    policy_file: PolicyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Alarm sites with their standing, by address."""
    c = _root(ctx, as_json)
    policy = _policy(c, policy_file)
    rows = list_sites(c.engine(), policy=policy, status=status, year=year)
    table = Table("site", "address", "status", "false", "permit", "suspended until")
    for r in rows:
        until = r.standing.suspended_until
        table.add_row(
            str(r.site.id),
            r.site.display_address,
            r.standing.status.value,
            str(r.standing.false_count),
            r.site.permit_number or "",
            f"{until:%Y-%m-%d}" if until else "",
        )
    _emit(c, [_status_json(r) for r in rows], table)


@alarms_app.command("history")
def history_cmd(ctx: typer.Context, address: AddressArg, as_json: JsonOpt = False) -> None:
    """Every alarm event and status change recorded at a site."""
    c = _root(ctx, as_json)
    history = site_history(c.engine(), address)
    if history is None:
        raise _fail(f"no alarm site registered at {address!r}")
    zone = ZoneInfo(c.settings.timezone)
    table = Table("local time", "what", "detail", title=history.site.display_address)
    items: list[tuple[datetime, str, str]] = [
        (e.occurred_at, f"{e.kind.value} alarm", f"{e.outcome.value}, verified {e.verified_by}")
        for e in history.events
    ]
    items += [(ch.at, ch.kind.value, f"{ch.reason} ({ch.actor})") for ch in history.changes]
    for at, what, detail in sorted(items, key=lambda i: i[0]):
        table.add_row(f"{at.astimezone(zone):%Y-%m-%d %H:%M}", what, detail)
    _emit(
        c,
        {
            "site": _site_json(history.site),
            "events": [_event_json(e) for e in history.events],
            "changes": [_change_json(ch) for ch in history.changes],
        },
        table,
    )
