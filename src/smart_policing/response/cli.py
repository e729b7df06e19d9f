"""``smart-policing response ...`` (a Typer sub-app).

Commands live in modules named for what they do, each registering itself on
:data:`response_app`; the imports at the end of this module load them. The root
command line (``smart_policing.cli``) adds the app.
"""

from __future__ import annotations

import typer

__all__ = ["response_app"]

response_app = typer.Typer(
    help="Response times, officer time, queueing models, simulation and staffing.",
    no_args_is_help=True,
)

# command modules register themselves on the app above (one import line each, below)
from smart_policing.response import (  # noqa: E402
    calibrate_cli,  # noqa: F401
    erlang_cli,  # noqa: F401
    report_cli,  # noqa: F401
    staffing_cli,  # noqa: F401
)
