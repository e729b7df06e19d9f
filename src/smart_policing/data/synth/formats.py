"""Column layouts of the files the generator writes, and vectorised text formatting.

``PART1_COLUMNS`` is the header of Open Baltimore's "BPD Part 1 Victim Based Crime
Data" CSV; ``CAD_COLUMNS`` is the header of the real CAD export (50 columns) and
``CAD_EXTRA_COLUMNS`` the six location/unit columns the synthetic export appends.
Timestamps are written ``YYYY-MM-DD HH:MM:SS.fff`` (CAD) from local milliseconds;
blanks are nulls (written as empty fields, never as ``""``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "CAD_COLUMNS",
    "CAD_EXTRA_COLUMNS",
    "NULL_MS",
    "PART1_COLUMNS",
    "fixed_decimals",
    "format_ms",
]

PART1_COLUMNS = (
    "CrimeDate",
    "CrimeTime",
    "CrimeCode",
    "Location",
    "Description",
    "Inside/Outside",
    "Weapon",
    "Post",
    "District",
    "Neighborhood",
    "Longitude",
    "Latitude",
    "Location 1",
    "Premise",
    "Total Incidents",
)

CAD_COLUMNS = (
    "Master_Incident_Number",
    "Response_Date",
    "WeekNo",
    "DOW",
    "Day",
    "Hour",
    "Shift",
    "Day_Night",
    "ShiftPart",
    "Agency",
    "Problem",
    "Priority_Number",
    "Call_Reception",
    "Call_Taker",
    "Dispatcher",
    "Incident_Start_Time",
    "TimeCallViewed",
    "Incident_Queue_Time",
    "Time_To_Queue",
    "Elapsed_PS_Queue",
    "Time_To_Queue_Diff",
    "Incident_Dispatch_Time",
    "Time_To_Dispatch",
    "Elapsed_Queue_Disp",
    "Time_To_Disp_Diff",
    "Incident_Phone_Stop",
    "Phone_Time",
    "Elapsed_PS_CTD",
    "Phone_Time_Diff",
    "TimeFirstUnitDispatchAcknowledged",
    "Processing_Time",
    "Elapsed_Processing",
    "Diff_Proc_Time",
    "Incident_Enroute_Time",
    "Rollout_Time",
    "Elapsed_Rollout",
    "Diff_Rollout_Time",
    "Incident_Arrival_Time",
    "Transit_Time",
    "Elapsed_Transit",
    "Diff_Transit_Time",
    "TimeFirstCallCleared",
    "Incident_First_Close_Time",
    "Call_Reopened",
    "First_Reopen_Time",
    "Final_Closed_Time",
    "Total_Call_Time",
    "Elapsed_Call_Time",
    "Diff_Total_Call_Time",
    "Disposition",
)

CAD_EXTRA_COLUMNS = ("Primary_Unit", "Address", "Latitude", "Longitude", "District", "Beat")

# Sentinel for a missing timestamp in the int64 local-millisecond arrays.
NULL_MS = np.iinfo(np.int64).min


def format_ms(ms: npt.NDArray[np.int64], fmt: str = "%Y-%m-%d %H:%M:%S%.3f") -> pl.Series:
    """Local milliseconds as text (``NULL_MS`` -> null)."""
    s = pl.Series(np.where(ms == NULL_MS, 0, ms)).cast(pl.Datetime("ms")).dt.strftime(fmt)
    missing = ms == NULL_MS
    if missing.any():
        s = s.set(pl.Series(missing), None)
    return s


def fixed_decimals(values: npt.NDArray[np.float64], decimals: int) -> pl.Series:
    """Numbers as text with exactly ``decimals`` decimals ("37.600120")."""
    unit = 10**decimals
    scaled = np.round(values * unit).astype(np.int64)
    frame = pl.DataFrame(
        {"neg": scaled < 0, "int": np.abs(scaled) // unit, "frac": np.abs(scaled) % unit}
    )
    return frame.select(
        pl.concat_str(
            [
                pl.when(pl.col("neg")).then(pl.lit("-")).otherwise(pl.lit("")),
                pl.col("int").cast(pl.String),
                pl.lit("."),
                pl.col("frac").cast(pl.String).str.zfill(decimals),
            ]
        )
    ).to_series()
