"""``smart-policing zones ...`` (a Typer sub-app).

Commands live in modules named for what they do, each registering itself on
:data:`zones_app`; the imports at the end of this module load them. The root command
line (``smart_policing.cli``) adds the app.
"""

from __future__ import annotations

import typer

__all__ = ["zones_app"]

zones_app = typer.Typer(
    help="Focused patrol micro-zones: build, score, forecast, activity log.",
    no_args_is_help=True,
)

# command modules register themselves on the app above (one import line each, below)
from smart_policing.zones import (  # noqa: E402
    activity_cli,  # noqa: F401
    build_cli,  # noqa: F401
    forecast_cli,  # noqa: F401
)
