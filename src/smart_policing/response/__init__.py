"""Response times, officer time and staffing (R6, R7).

Pure cores: response-time metrics and the officer time budget from imported calls
(:mod:`.metrics`, :mod:`.timebudget`), analytic queueing models (:mod:`.erlang`,
:mod:`.priority`, :mod:`.hypercube`), the dispatch simulator (:mod:`.sim`) and the
staffing search (:mod:`.staffing`). Definitions and units: ``docs/response.md``.
"""

__all__: list[str] = []
