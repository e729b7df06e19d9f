"""Response-time metrics on the real CAD export, checked against an independent pandas
computation on the raw CSV columns (issue 5 item 1).

The export (``cad/cad_2025_weeks35-48.csv.gz``): 22,147 calls from 2025-08-24 to
2025-11-29, 14,589 police, of which 2,499 officer-initiated (``Call_Reception`` =
``OFFICER``); 12,090 police calls measured. ``smart-policing response report
../shared/data/cad/cad_2025_weeks35-48.csv.gz`` prints (minutes; percentiles with
linear interpolation)::

    priority  calls  to dispatch       dispatch-to-arrival  to arrival        P1 <= 10 min
                     median    p90     median    p90        median    p90
    1           557     1.6    3.9        2.9    6.1           4.8    9.1     493/533 92.5%
    2         6,745     4.5   26.7        5.3   14.9          11.3   38.8
    3         1,323    12.4   75.7        6.4   20.8          21.9   90.9
    4         3,373    19.3  162.0        6.6   27.6          30.6  175.4
    5             4    59.6  107.2        1.8    3.3          61.4   72.6
    6            13     0.7    9.5        0.0   12.2           0.6   38.2
    8            75     0.7    1.2        0.0    0.1           0.7    1.5
    all      12,090     6.2   65.4        5.3   17.8          13.6   74.6

Priority 1 within 10 minutes: 493 of the 533 calls reached (92.5%); 24 priority-1
calls were never reached (dispatched, no arrival) and are not in the share.

Data quality of the 12,090 measured calls (left out of the distributions, counted):

===================  ======  =======  ========  ===========
interval             usable  missing  negative  above limit
===================  ======  =======  ========  ===========
call-to-dispatch     12,063        0         1           26
dispatch-to-arrival  10,454    1,621         0           15
call-to-arrival      10,443    1,621         1           25
===================  ======  =======  ========  ===========
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from smart_policing.response.metrics import ResponseOptions, response_report
from smart_policing.response.timebudget import TimeBudgetOptions, time_budget
from smart_policing.triage.replay_cli import read_calls_file

pytestmark = pytest.mark.realdata

TZ = "America/New_York"
CAD = "cad/cad_2025_weeks35-48.csv.gz"
LIMITS = {"ctd": 24 * 3600, "dta": 12 * 3600, "cta": 24 * 3600}


def _pandas_reference(path: Path) -> pd.DataFrame:
    """Police, not officer-initiated calls with their three intervals in seconds (NaN
    when a stage is missing), straight from the raw columns with pandas."""
    cols = [
        "Master_Incident_Number",
        "Incident_Start_Time",
        "Incident_Dispatch_Time",
        "Incident_Arrival_Time",
        "Priority_Number",
        "Agency",
        "Call_Reception",
    ]
    raw = pd.read_csv(path, usecols=cols, dtype=str, keep_default_na=False)
    assert len(raw) == 22147
    ids = raw["Master_Incident_Number"]
    assert not ids[ids != ""].duplicated().any()  # no repeated call: nothing to drop
    police = raw[
        (raw["Agency"].str.upper() == "POLICE") & (raw["Call_Reception"].str.upper() != "OFFICER")
    ].copy()

    def local(col: str) -> pd.Series:
        t = pd.to_datetime(police[col].replace("", None), format="%Y-%m-%d %H:%M:%S.%f")
        # the repeated hour of 2 November is read as daylight time (the earlier instant)
        return t.dt.tz_localize(TZ, ambiguous=np.ones(len(t), dtype=bool), nonexistent="raise")

    start, dispatch, arrival = (
        local(c) for c in ("Incident_Start_Time", "Incident_Dispatch_Time", "Incident_Arrival_Time")
    )
    return pd.DataFrame(
        {
            "priority": police["Priority_Number"].astype(int),
            "ctd": (dispatch - start).dt.total_seconds(),
            "dta": (arrival - dispatch).dt.total_seconds(),
            "cta": (arrival - start).dt.total_seconds(),
        }
    )


@pytest.fixture
def cad_path(real_file: Callable[[str], Path]) -> Path:
    """The export under ``../shared/data`` (the ``shared_data`` fixture: skips when
    absent, fails under CI)."""
    return real_file(CAD)


def test_per_priority_medians_and_p1_share_match_pandas(cad_path: Path) -> None:
    ref = _pandas_reference(cad_path)
    calls, rejected = read_calls_file(cad_path, timezone=TZ)
    assert (calls.height, rejected) == (22147, 0)
    report = response_report(calls, ResponseOptions(timezone=TZ))
    assert report.inputs.measured == len(ref) == 12090
    assert report.inputs.officer_initiated == 2499

    usable = {k: ref[k].where((ref[k] >= 0) & (ref[k] <= lim)) for k, lim in LIMITS.items()}
    rows = {r.key: r for r in report.breakdown("priority")}
    assert set(rows) == {str(p) for p in ref["priority"].unique()}
    names = {"ctd": "call_to_dispatch", "dta": "dispatch_to_arrival", "cta": "call_to_arrival"}
    for prio, group in ref.groupby("priority"):
        row = rows[str(prio)]
        assert row.calls == len(group)
        for k, name in names.items():
            values = usable[k][group.index].dropna() / 60
            dist = getattr(row, name)
            assert dist.n == len(values), (prio, k)
            assert dist.median_min == pytest.approx(values.median(), abs=1e-9), (prio, k)
            assert dist.p90_min == pytest.approx(values.quantile(0.9), abs=1e-9), (prio, k)

    p1 = ref[ref["priority"] == 1]
    reached = usable["cta"][p1.index].dropna()
    c = report.overall.highest_priority
    assert (c.calls, c.reached, c.within_target) == (len(p1), len(reached), (reached <= 600).sum())
    assert (c.calls, c.reached, c.within_target) == (557, 533, 493)
    assert c.share_within_target == pytest.approx(493 / 533)
    assert c.never_reached == p1["cta"].isna().sum() == 24
    assert (c.never_dispatched, c.unusable) == (0, 0)
    medians = {k: round(getattr(rows["1"], n).median_min, 1) for k, n in names.items()}
    assert medians == {"ctd": 1.6, "dta": 2.9, "cta": 4.8}

    quality = {q.interval: (q.usable, q.missing, q.negative, q.above_limit) for q in report.quality}
    assert quality == {
        "call_to_dispatch_s": (12063, 0, 1, 26),
        "dispatch_to_arrival_s": (10454, 1621, 0, 15),
        "call_to_arrival_s": (10443, 1621, 1, 25),
    }
    for k, name in names.items():  # the same counts from the raw columns
        v = ref[k]
        assert quality[f"{name}_s"] == (
            usable[k].notna().sum(),
            v.isna().sum(),
            (v < 0).sum(),
            (v > LIMITS[k]).sum(),
        )


def test_time_budget_estimate_on_the_real_export(cad_path: Path) -> None:
    """No unit ids in the export: the estimate method. 11,762 police calls for service
    committed 14,569.8 unit-hours (one unit per call, a lower bound) over 297 shift-days
    (2025-08-23 night to 2025-11-29 night); 2,499 officer-initiated calls 3,587.1 hours;
    328 dispatched calls closed without a unit (animal control, mostly); 205 calls took
    the call-type median."""
    calls, _ = read_calls_file(cad_path, timezone=TZ)
    b = time_budget(calls, TimeBudgetOptions(timezone=TZ))
    assert (b.method, b.on_duty_source) == ("estimate", None)
    k = b.inputs
    assert (k.committed_calls, k.proactive_calls, k.without_unit, k.fallback_calls) == (
        11762,
        2499,
        328,
        205,
    )
    assert round(b.overall.committed_hours, 1) == 14569.8
    assert round(b.overall.proactive_hours, 1) == 3587.1
    assert b.overall.shift_days == 297
    staffed = time_budget(calls, TimeBudgetOptions(timezone=TZ, units_per_shift=10))
    # 10 units per shift: 297 x 8 + 1 = 2,377 hours each (the night of 1 November lasts 9)
    assert staffed.overall.on_duty_hours == 23770.0
    assert staffed.overall.proactive_share == pytest.approx(1 - 14569.802125 / (23770 * 0.9))
    day = staffed.shifts[0]
    # day shifts: 6,233.5 committed of 7,128 available hours: share 12.5%, target missed
    assert (day.shift, round(day.committed_hours, 1), day.available_hours) == (
        "day",
        6233.5,
        pytest.approx(7128.0),
    )
    assert (round(day.proactive_share or 0, 3), day.meets_target) == (0.125, False)
