"""schemathesis against the OpenAPI schema: generated requests never get a 5xx.

The schema is fuzzed as a signed-in user holding every staff role (so every route
is reachable) over a store with real rows in it: a synthetic city's incidents,
calls and district polygons, and an audit log that grows as the test runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine

from smart_policing.data import builtin_mapping, import_file
from smart_policing.data.boundaries import import_boundaries
from smart_policing.data.synth import CityParams, generate_city
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.security.roles import STAFF_ROLES
from smart_policing.store import make_engine, upgrade
from smart_policing.store.alarms import record_event
from smart_policing.store.users import add_user, create_api_token
from smart_policing.store.zones import ZoneSetKind, import_zone_set, list_zones, record_activity
from smart_policing.triage.pack import builtin_pack
from smart_policing.triage.types import AlarmKind, AlarmOutcome
from smart_policing.zones.activity import ActivityKind
from webhelpers import POLICY, make_app, seed_report

TOKEN: dict[str, str] = {}

#: operations that simulate a city answer in seconds, not milliseconds: fewer examples
EXAMPLES = {"POST /api/response/staffing": 3, "POST /api/response/simulate": 8}


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("fuzz")
    generate_city(
        CityParams(seed=3, years=2, end_year=2015, calls_per_day=15.0, incidents_per_day=15.0),
        root / "city",
    )
    engine: Engine = make_engine(f"sqlite:///{root / 'fuzz.db'}")
    upgrade(engine)
    tz = "America/New_York"
    import_boundaries(
        engine, root / "city" / "districts.geojson", kind=BoundaryKind("district"), layer="d"
    )
    # neighbourhoods, so the zone set's neighbourhood breakdown computes real shares
    import_boundaries(
        engine,
        root / "city" / "neighborhoods.geojson",
        kind=BoundaryKind("neighbourhood"),
        layer="n",
    )
    import_file(
        engine, root / "city" / "part1_crime.csv", builtin_mapping("baltimore-part1"), timezone=tz
    )
    import_file(engine, root / "city" / "cad_calls.csv", builtin_mapping("cad"), timezone=tz)
    # a suspended alarm site (id 1) and a warned one, so the alarm routes have records
    policy = builtin_pack("baltimore-smart-2022").alarms
    for n, address in enumerate(["1 Fuzz Street"] * 5 + ["2 Fuzz Street"] * 3):
        record_event(
            engine,
            address,
            occurred_at=datetime.now(UTC) - timedelta(minutes=30 - n),
            kind=AlarmKind.BURGLAR,
            outcome=AlarmOutcome.FALSE,
            policy=policy,
            actor="fuzz-setup",
        )
    # report R25-000001 (the report routes' example case number), reviewed by the fuzzer
    # itself, so approve, return and a retried review all answer from there
    seed_report(engine, reviewed_by="fuzzer")
    # zone set "fpa-2019" (the zone routes' example name; zone 1) with one logged activity
    set_id = import_zone_set(
        engine,
        json.loads((root / "city" / "districts.geojson").read_text()),
        name="fpa-2019",
        kind=ZoneSetKind.FOCUSED_PATROL,
        file_name="districts.geojson",
        actor="fuzz-setup",
    ).zone_set.id
    record_activity(
        engine,
        zone_id=list_zones(engine, set_id)[0].id,
        kind=ActivityKind.FOOT_PATROL,
        started_at=datetime.now(UTC) - timedelta(hours=2),
        ended_at=datetime.now(UTC) - timedelta(hours=1),
        officer="fuzz-setup",
    )
    add_user(engine, "fuzzer", "a long enough passphrase", STAFF_ROLES, policy=POLICY)
    TOKEN["value"], _ = create_api_token(engine, "fuzzer", "fuzz", policy=POLICY)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_engine: Engine) -> Any:
    # generous limits: the fuzzer hits the login endpoints far more than a person could
    app = make_app(fuzz_engine, login_rate="100000/minute", anonymous_rate="100000/minute")
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app
    return schema


def test_no_request_gets_a_server_error(api_schema: Any) -> None:
    headers = {"Authorization": f"Bearer {TOKEN['value']}"}
    operations = [op.ok() for op in api_schema.get_all_operations()]
    labels = sorted(op.label for op in operations)
    # every API route is in the schema (pages are not part of the API)
    assert "GET /api/compstat" in labels
    assert "GET /api/incidents" in labels
    assert "POST /api/auth/token" in labels
    assert {
        "POST /api/triage",
        "GET /api/triage/packs",
        "GET /api/triage/decisions",
        "GET /api/alarms/sites",
        "GET /api/alarms/sites/{site_id}/history",
        "POST /api/alarms/events",
        "POST /api/alarms/sites/{site_id}/reinstate",
        "GET /api/response/report",
        "GET /api/response/erlang-c",
        "POST /api/response/simulate",
        "POST /api/response/staffing",
    } <= set(labels)
    statuses: dict[str, set[int]] = {}

    def fuzz_operation(operation: Any) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES.get(operation.label, 40),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case: Any) -> None:
            response = case.call(headers=headers)
            statuses.setdefault(operation.label, set()).add(response.status_code)
            assert response.status_code < 500, (
                operation.label,
                case.query,
                case.body,
                response.text[:500],
            )

        fuzz()

    for operation in operations:
        fuzz_operation(operation)
    # the fuzzer reached real answers, not only refusals
    assert all(
        any(s < 300 for s in codes) for label, codes in statuses.items() if "token" not in label
    )
