"""``smart-policing triage ...`` and ``smart-policing alarms ...`` (Typer sub-apps).

Commands live in modules named for what they do (``vocabulary_cli``,
``engine_cli``, ``alarms_cli``), each registering itself on these apps; the
imports at the end of this module load them. The root command line
(``smart_policing.cli``) adds both apps.
"""

from __future__ import annotations

import typer

__all__ = ["alarms_app", "triage_app"]

triage_app = typer.Typer(
    help="Alternative-response triage: call types, policy packs, decisions, replay.",
    no_args_is_help=True,
)
alarms_app = typer.Typer(
    help="False-alarm registry: sites, permits, alarm events, suspensions.",
    no_args_is_help=True,
)

# command modules register themselves on the apps above (one import line each, below)
from smart_policing.triage import (  # noqa: E402
    alarms_cli,  # noqa: F401
    engine_cli,  # noqa: F401
    replay_cli,  # noqa: F401
    vocabulary_cli,  # noqa: F401
)
