"""Each sub-package declares its public surface, and every declared name exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import smart_policing

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(smart_policing.__path__, "smart_policing.")
    if ".migrations" not in m.name
)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_declared_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if name.endswith("__main__"):
        return
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing objects: {missing}"
    assert len(set(exported)) == len(exported)


def test_model_records_match_store_columns() -> None:
    """The stored columns hold every canonical field (none silently unstorable)."""
    from smart_policing.model import CallForService, Incident
    from smart_policing.store import tables

    assert set(CallForService.model_fields) <= set(tables.calls.c.keys()) | {"source", "call_id"}
    incident_fields = set(Incident.model_fields) - {"incident_key"}
    assert incident_fields <= set(tables.incidents.c.keys())
