"""Focused patrol micro-zones and hot-spot forecasting (R8, R9, R20).

Pure cores: the zone builder and zone-set scoring (area share, capture share, PAI),
hot-spot forecasters in the scikit-learn style with rolling-origin backtests, and the
proactive-activity log. Definitions and units: ``docs/zones.md``.
"""

__all__: list[str] = []
