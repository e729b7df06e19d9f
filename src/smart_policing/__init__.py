"""SMART Policing platform (Strategic Management & Alternative Response Tactics).

Sub-packages are named for capabilities: ``model`` (canonical records), ``data``
(importers and the synthetic city), ``store`` (database), ``api`` and ``web``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
