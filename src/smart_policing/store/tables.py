"""The store's tables (SQLAlchemy Core). Alembic migrations create them.

Every imported record carries ``source`` (the format or mapping name, e.g.
``baltimore-part1``) and a key unique within that source, which is what makes
re-imports idempotent: the loader inserts with "ignore on conflict" and counts
what it skipped as duplicates.

The bulk-loaded record tables (``calls``, ``incidents``, ``places``) name their
import in ``import_id`` without a foreign-key constraint: the importer writes the
``imports`` row first, in its own transaction, and the per-row constraint check
cost a fifth of PostgreSQL's load time. Small tables keep their constraints.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from smart_policing.model.calls import INTERVALS
from smart_policing.store.types import UtcDateTime

__all__ = [
    "api_tokens",
    "audit_log",
    "boundaries",
    "calls",
    "imports",
    "incidents",
    "metadata",
    "places",
    "rejects",
    "sessions",
    "users",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("format", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64)),
    Column("file_bytes", Integer),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String(16), nullable=False),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_inserted", Integer, nullable=False, default=0),
    Column("rows_duplicate", Integer, nullable=False, default=0),
    Column("rows_rejected", Integer, nullable=False, default=0),
    Column("rows_flagged", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("details", JSON),
)

rejects = Table(
    "rejects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("line_number", Integer, nullable=False),
    Column("fields", Text),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    UniqueConstraint("file_sha256", "line_number"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("source_key", String(128), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("offence_code", String(32), nullable=False),
    Column("offence_description", Text),
    Column("weapon", String(64)),
    Column("premise", String(64)),
    Column("inside_outside", String(8)),
    Column("block_address", Text),
    Column("place_key", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("district", String(64)),
    Column("post", String(16)),
    Column("neighbourhood", Text),
    # victim-based sources: the number of identical victim rows grouped into this incident
    Column("victim_count", Integer, nullable=False, default=1),
    Column("quality_flags", Text),
    Column("import_id", Integer, nullable=False),
    UniqueConstraint("source", "source_key"),
    Index(None, "occurred_at"),
    # the records browser: newest first within a district or an offence code
    Index(None, "district", "occurred_at"),
    Index(None, "offence_code", "occurred_at"),
)

calls = Table(
    "calls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(64), nullable=False),
    Column("call_id", String(128), nullable=False),
    Column("agency", String(32)),
    Column("received_at", UtcDateTime, nullable=False),
    Column("queued_at", UtcDateTime),
    Column("dispatched_at", UtcDateTime),
    Column("acknowledged_at", UtcDateTime),
    Column("en_route_at", UtcDateTime),
    Column("on_scene_at", UtcDateTime),
    Column("cleared_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Column("call_type_code", String(128), nullable=False),
    Column("call_type_text", Text),
    Column("priority", Integer),
    Column("source_channel", String(32), nullable=False),
    Column("disposition_code", String(32)),
    Column("disposition_text", Text),
    Column("block_address", Text),
    Column("place_key", Text),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("district", String(64)),
    Column("beat", String(16)),
    Column("shift", String(8)),
    Column("unit_id", String(32)),
    Column("call_taker_id", String(64)),
    Column("dispatcher_id", String(64)),
    Column("self_initiated", Boolean, nullable=False, default=False),
    Column("reopened", Boolean, nullable=False, default=False),
    *(Column(iv.name, Float) for iv in INTERVALS),
    Column("quality_flags", Text),
    Column("import_id", Integer, nullable=False),
    UniqueConstraint("source", "call_id"),
    Index(None, "received_at"),
    # the records browser: newest first within a district, call type or priority
    Index(None, "district", "received_at"),
    Index(None, "call_type_code", "received_at"),
    Index(None, "priority", "received_at"),
)

places = Table(
    "places",
    metadata,
    Column("place_key", Text, primary_key=True),
    Column("block_address", Text, nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("district", String(64)),
    Column("import_id", Integer, nullable=False),
)

boundaries = Table(
    "boundaries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("layer", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("geometry", Text, nullable=False),
    Column("source_crs", String(64), nullable=False),
    Column("area_m2", Float, nullable=False),
    Column("min_lon", Float, nullable=False),
    Column("min_lat", Float, nullable=False),
    Column("max_lon", Float, nullable=False),
    Column("max_lat", Float, nullable=False),
    Column("properties", JSON),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
    UniqueConstraint("kind", "layer", "name"),
)

# --- security: users, sessions, API tokens, audit log (migration 0002) -------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", Text),
    # comma-separated role names (smart_policing.security.roles.Role), sorted
    Column("roles", Text, nullable=False),
    # argon2id PHC string; never the password
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime),
)

# Browser sessions. The cookie holds a random token; the table holds only its
# SHA-256 digest, so a copy of the database does not let anyone sign in.
sessions = Table(
    "sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

# Bearer tokens for API clients, also stored as digests.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_digest", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
)

# Append-only, hash-chained audit trail: ``seq`` counts from 1 without gaps and
# ``row_hash`` = SHA-256 over the row's fields and ``prev_hash`` (see
# smart_policing.security.audit_chain). Database triggers refuse UPDATE and DELETE.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("roles", Text, nullable=False),
    Column("action", String(16), nullable=False),
    Column("route", Text, nullable=False),
    Column("records", Text, nullable=False),
    Column("result", String(32), nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("row_hash", String(64), nullable=False),
)


# ---------------------------------------------------------------- compstat (R17)
# Owned by smart_policing.compstat; migration 0003.

__all__ += ["compstat_daily", "compstat_monthly", "compstat_state", "compstat_yearly", "population"]

#: Resident population per city and year added by users; overrides the shipped
#: population file of smart_policing.compstat (persons).
population = Table(
    "population",
    metadata,
    Column("city", String(64), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("population", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Incidents and victims per local day (city time zone), district ('' when unknown)
#: and offence code: a summary of ``incidents`` rebuilt when imports finish.
compstat_daily = Table(
    "compstat_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("district", String(64), primary_key=True),
    Column("offence_code", String(32), primary_key=True),
    Column("incidents", Integer, nullable=False),
    Column("victims", Integer, nullable=False),
)

#: The same per local calendar month (``month`` is its first day).
compstat_monthly = Table(
    "compstat_monthly",
    metadata,
    Column("month", Date, primary_key=True),
    Column("district", String(64), primary_key=True),
    Column("offence_code", String(32), primary_key=True),
    Column("incidents", Integer, nullable=False),
    Column("victims", Integer, nullable=False),
    Index(None, "offence_code", "month"),
)

#: The same per local calendar year.
compstat_yearly = Table(
    "compstat_yearly",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("district", String(64), primary_key=True),
    Column("offence_code", String(32), primary_key=True),
    Column("incidents", Integer, nullable=False),
    Column("victims", Integer, nullable=False),
)

#: What the summary tables were built from (one row, name 'summary').
compstat_state = Table(
    "compstat_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("imports_finished", Integer, nullable=False),
    Column("last_import_id", Integer),
    Column("timezone", String(64), nullable=False),
    Column("incidents", Integer, nullable=False),
    Column("victims", Integer, nullable=False),
    Column("first_day", Date),
    Column("last_day", Date),
    Column("districts", JSON, nullable=False),
    Column("built_at", UtcDateTime, nullable=False),
)

# ---------------------------------------------------------------------------
# False-alarm registry (R4; migration 0005). Rules: smart_policing.triage.alarms;
# repository: smart_policing.store.alarms.
# ---------------------------------------------------------------------------

__all__ += ["alarm_events", "alarm_sites", "alarm_status_changes"]

#: One alarm site per normalised address key (``model.places.normalise_address``).
alarm_sites = Table(
    "alarm_sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address_key", Text, nullable=False, unique=True),
    Column("display_address", Text, nullable=False),  # as first written
    Column("permit_number", String(64)),
    Column("permit_holder", Text),
    Column("permit_expires", Date),  # last valid day
    Column("alarm_company", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
)

#: Alarm activations: kind and outcome use triage.types.AlarmKind / AlarmOutcome,
#: verified_by triage.alarms.Verification. A CAD call id is recorded at most once.
alarm_events = Table(
    "alarm_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("alarm_sites.id"), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("verified_by", String(16), nullable=False),
    Column("source_call_id", String(64), unique=True),
    Column("note", Text),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Index(None, "site_id", "occurred_at"),
)

#: Warnings and suspensions (derived from the events when a count is reached),
#: reinstatements and appeals (entered by staff). ``year`` is the local calendar
#: year the change belongs to; ``at`` when it took effect.
alarm_status_changes = Table(
    "alarm_status_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("alarm_sites.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("year", Integer, nullable=False),
    Column("false_count", Integer, nullable=False),
    Column("event_id", Integer, ForeignKey("alarm_events.id")),
    Column("reason", Text, nullable=False),
    Column("note", Text),
    Column("actor", String(64), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index(None, "site_id", "year"),
)

# ---------------------------------------------------------------------------
# Triage decisions (issue 4 item 6; migration 0006): every decision the API makes,
# with the pack version it was made under. Repository: smart_policing.store.decisions.
# ---------------------------------------------------------------------------

__all__ += ["triage_decisions"]

#: One row per decision. ``call`` is the canonical call JSON as decided (alarm status
#: filled from the registry when an address matched), ``decision`` the full
#: ``triage.engine.Decision``; the scalar columns repeat what reports filter on.
triage_decisions = Table(
    "triage_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("call_id", String(64)),
    Column("pack", String(64), nullable=False),
    Column("pack_version", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("responder", String(64), nullable=False),
    Column("responder_kind", String(32), nullable=False),
    Column("co_respond", Boolean, nullable=False),
    Column("officer_sent", Boolean, nullable=False),
    Column("queued", Boolean, nullable=False),
    Column("alarm_site_id", Integer, ForeignKey("alarm_sites.id")),
    Column("call", JSON, nullable=False),
    Column("decision", JSON, nullable=False),
    Column("actor", String(64), nullable=False),
    Index(None, "call_id"),
    Index(None, "pack", "pack_version"),
)

# ---------------------------------------------------------------------------
# Report intake (issue 4 item 4; migration 0007). Rules: smart_policing.reports;
# repository: smart_policing.store.reports.
# ---------------------------------------------------------------------------

__all__ += [
    "report_idempotency",
    "report_items",
    "report_refusals",
    "report_sequences",
    "report_transitions",
    "reports",
]

#: One row per report. ``case_number`` = ``format_case_number(case_year, case_seq)``;
#: times in UTC (converted from the reporter's local time); ``address`` as written and
#: its normalised key for staff, ``block_address`` (block level) for anything public;
#: ``contact`` (name, phone, e-mail) is personal data: stored, never logged or published.
reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_number", String(16), nullable=False, unique=True),
    Column("case_year", Integer, nullable=False),
    Column("case_seq", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("call_type", String(32), nullable=False),
    Column("occurred_from", UtcDateTime, nullable=False),
    Column("occurred_to", UtcDateTime, nullable=False),
    Column("address", Text, nullable=False),
    Column("address_key", Text, nullable=False),
    Column("block_address", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("contact", JSON),
    Column("pack", String(64), nullable=False),
    Column("pack_version", String(32), nullable=False),
    Column("submitted_by", String(64)),  # user name; None for an anonymous online report
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("incident_id", Integer),  # the record an approval created
    UniqueConstraint("case_year", "case_seq"),
    # the review queue (by status, oldest first) and an officer's own reports
    Index(None, "status", "case_year", "case_seq"),
    Index(None, "submitted_by", "case_year", "case_seq"),
)

#: Property lost, stolen or damaged (value in cents).
report_items = Table(
    "report_items",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("value_cents", Integer, nullable=False),
    Column("serial_number", String(64)),
)

#: Every move of a report (``submit`` first), who made it and their note.
report_transitions = Table(
    "report_transitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text),
    Index(None, "report_id", "id"),
)

#: A field client's ``Idempotency-Key`` per user: a retry returns the first report.
report_idempotency = Table(
    "report_idempotency",
    metadata,
    Column("actor", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

#: The last case sequence number given out per calendar year.
report_sequences = Table(
    "report_sequences",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", Integer, nullable=False),
)

#: Screening refusals ("call 911 now"): counted by local day, channel and signs
#: (comma-separated ``EmergencySign`` values); nothing the reporter typed is kept.
report_refusals = Table(
    "report_refusals",
    metadata,
    Column("day", Date, primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("signs", String(128), primary_key=True),
    Column("count", Integer, nullable=False),
)

# --- zones: zone sets, zones, proactive activity (migration 0008) ------------------

#: A named set of patrol zones (BPD's 2019 Focused Patrol Areas, a built set, ...).
#: ``content_sha256`` hashes the zones' keys and geometries: a re-import of the same
#: content under the same name changes nothing; different content is refused.
zone_sets = Table(
    "zone_sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("source_crs", String(64), nullable=False),
    Column("projected_crs", String(64), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
)

#: One zone: geometry as GeoJSON text in WGS84 (x = longitude), area in square metres
#: in the set's projected CRS, bounding box in degrees.
zones = Table(
    "zones",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("set_id", Integer, ForeignKey("zone_sets.id"), nullable=False),
    Column("zone_key", String(128), nullable=False),
    Column("district", String(64)),
    Column("geometry", Text, nullable=False),
    Column("area_m2", Float, nullable=False),
    Column("min_lon", Float, nullable=False),
    Column("min_lat", Float, nullable=False),
    Column("max_lon", Float, nullable=False),
    Column("max_lat", Float, nullable=False),
    Column("properties", JSON),
    UniqueConstraint("set_id", "zone_key"),
)

#: A proactive activity logged by an officer (R9). ``notes`` may hold personal data:
#: it is never written to the audit log.
zone_activities = Table(
    "zone_activities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("zone_id", Integer, ForeignKey("zones.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("officer", String(64), nullable=False),
    Column("unit_id", String(32)),
    Column("notes", Text),
    Column("created_at", UtcDateTime, nullable=False),
    # dosage of a zone over a period; the newest-first listing
    Index(None, "zone_id", "started_at"),
    Index(None, "started_at", "id"),
)
