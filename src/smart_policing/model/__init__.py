"""Canonical records: calls for service, incidents, places and boundaries.

Every importer produces these shapes, whatever the source format; field names are
the vocabulary of mapping files (docs/importing.md).
"""

from smart_policing.model.boundaries import Boundary, BoundaryKind
from smart_policing.model.calls import (
    CALL_TIME_FIELDS,
    INTERVALS,
    CallForService,
    Interval,
    SourceChannel,
)
from smart_policing.model.incidents import Incident, InsideOutside
from smart_policing.model.places import Place, block_of, normalise_address, normalise_addresses

__all__ = [
    "CALL_TIME_FIELDS",
    "INTERVALS",
    "Boundary",
    "BoundaryKind",
    "CallForService",
    "Incident",
    "InsideOutside",
    "Interval",
    "Place",
    "SourceChannel",
    "block_of",
    "normalise_address",
    "normalise_addresses",
]
