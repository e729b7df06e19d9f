"""Canonical records: calls for service, incidents, places and boundaries."""
