"""The public report form (an HTML route, outside the OpenAPI schema) under random input.

schemathesis fuzzes every JSON operation; this does the same for the anonymous form:
whatever a visitor (or a bot) posts, the answer is the form with messages, the 911
notice or a case number, never a server error.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from smart_policing.store import make_engine, upgrade
from webhelpers import make_app

FIELDS = [
    "call_type",
    "occurred_from",
    "occurred_to",
    "address",
    "description",
    "contact_name",
    "contact_phone",
    "contact_email",
    "item_description_0",
    "item_value_0",
    "item_serial_number_0",
    "screening_suspect_present",
    "screening_injury",
    "screening_weapon",
    "screening_in_progress",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "yes",
            "no",
            "lost-property",
            "larceny",
            "assault",
            "2025-03-01T14:05",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
            "-1",
            "1e309",
            "NaN",
            "123 N. Main Street",
        ]
    ),
)
FORMS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=len(FIELDS))


def _client(tmp_path_factory_dir: str) -> tuple[TestClient, Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory_dir}/fuzz-form.db")
    upgrade(engine)
    return TestClient(make_app(engine, anonymous_rate="100000/minute")), engine


def test_random_form_posts_never_get_a_server_error(tmp_path: object) -> None:
    client, engine = _client(str(tmp_path))

    @given(form=FORMS)
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def post(form: dict[str, str]) -> None:
        # a fresh form each time: a filed report ends its form's token
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/report").text)
        assert token
        reply = client.post("/report", data={**form, "csrf_token": token.group(1)})
        assert reply.status_code in (200, 201, 422), (form, reply.status_code, reply.text[:300])

    try:
        post()
    finally:
        engine.dispose()
