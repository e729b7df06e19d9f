"""``smart-policing simulate --scenario FILE.yaml``: run one dispatch-simulation scenario.

Being written; the root command line adds :data:`simulate_app` as ``simulate``.
"""

from __future__ import annotations

import typer

__all__ = ["simulate_app"]

simulate_app = typer.Typer(help="Run a dispatch-simulation scenario (docs/response.md).")
