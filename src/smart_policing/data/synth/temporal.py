"""When things happen: daily, weekly and yearly cycles, local time and DST.

Times are integer **milliseconds of local wall-clock time since 1970-01-01 00:00**
("local ms"), the way a CAD system stores them: durations are differences of local
timestamps, exactly as the export computes them. Days are integers (days since
1970-01-01); 1970-01-01 was a Thursday.

Event times of a stream are drawn from an inhomogeneous Poisson process that is
constant within each local clock hour. The expected count in hour ``h`` of day ``d`` is

    rate_per_day * season(d) * w[dow(d), h] / mean_week(w)

where ``w[dow, h] = hour[h] * dow_factor[dow]`` (times ``weekend_night`` in the small
hours of Saturday and Sunday) comes from one of the `PROFILES` below, ``mean_week`` is
the mean daily total of ``w`` over a week, and ``season(d) = 1 + a cos(2 pi (doy -
196) / 365.25)`` peaks in mid-July. Counts are Poisson per hour, times uniform
within the hour. Hours that do not exist locally (the spring-forward gap) get no
events; continuous times that land in a gap are moved forward by the gap's length,
as a clock would, and so are the later timestamps of a call that began before a gap
(`DstGaps.shift_crossing`).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

__all__ = [
    "DAY_MS",
    "HOUR_MS",
    "PROFILES",
    "DstGaps",
    "Profile",
    "day_number",
    "day_of_week",
    "day_of_year",
    "hour_weights",
    "sample_times",
]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_EPOCH = date(1970, 1, 1)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Profile:
    """Relative intensity by local hour (0-23) and day of week (Monday first)."""

    hour: tuple[float, ...]
    dow: tuple[float, ...]
    weekend_night: float = 1.0  # extra factor for 00:00-04:59 on Saturday and Sunday
    violent: bool = False  # uses CityParams.seasonal_amplitude_violent

    def __post_init__(self) -> None:
        if len(self.hour) != 24 or len(self.dow) != 7:
            raise ValueError("a profile needs 24 hourly and 7 daily weights")
        if min(self.hour) <= 0 or min(self.dow) <= 0 or self.weekend_night <= 0:
            raise ValueError("profile weights must be positive")


# Shapes follow published CAD and Part 1 hour-of-day curves: a trough at 04:00-06:00,
# calls rising through the day to a late-afternoon/evening plateau, violence peaking
# around midnight and on weekend nights, property crime in working hours, EMS by day.
# fmt: off
PROFILES: dict[str, Profile] = {
    "general": Profile(
        hour=(0.75, 0.62, 0.52, 0.44, 0.36, 0.36, 0.45, 0.62, 0.82, 0.95, 1.0, 1.05,
              1.1, 1.1, 1.15, 1.22, 1.3, 1.36, 1.36, 1.3, 1.25, 1.15, 1.05, 0.9),
        dow=(1.02, 1.03, 1.03, 1.03, 1.06, 0.96, 0.87),
    ),
    "violent": Profile(
        hour=(1.55, 1.45, 1.25, 0.95, 0.62, 0.42, 0.32, 0.3, 0.38, 0.48, 0.58, 0.68,
              0.78, 0.84, 0.9, 1.0, 1.1, 1.2, 1.3, 1.45, 1.6, 1.72, 1.75, 1.65),
        dow=(0.88, 0.84, 0.86, 0.9, 1.06, 1.25, 1.21),
        weekend_night=1.35,
        violent=True,
    ),
    "property": Profile(
        hour=(0.72, 0.6, 0.52, 0.46, 0.42, 0.46, 0.6, 0.9, 1.18, 1.3, 1.3, 1.3,
              1.36, 1.3, 1.3, 1.3, 1.36, 1.4, 1.35, 1.2, 1.06, 0.95, 0.85, 0.76),
        dow=(1.05, 1.05, 1.05, 1.03, 1.02, 0.92, 0.88),
    ),
    "traffic": Profile(
        hour=(0.92, 0.82, 0.7, 0.5, 0.36, 0.4, 0.7, 1.12, 1.22, 1.0, 0.95, 1.0,
              1.05, 1.05, 1.15, 1.3, 1.42, 1.36, 1.2, 1.1, 1.1, 1.1, 1.05, 1.0),
        dow=(1.05, 1.05, 1.05, 1.05, 1.1, 0.88, 0.82),
    ),
    "ems": Profile(
        hour=(0.62, 0.56, 0.5, 0.46, 0.45, 0.5, 0.66, 0.86, 1.05, 1.2, 1.3, 1.3,
              1.3, 1.3, 1.3, 1.26, 1.25, 1.25, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7),
        dow=(1.02, 1.0, 1.0, 1.0, 1.02, 0.98, 0.98),
    ),
    "alarm": Profile(
        hour=(0.8, 0.72, 0.7, 0.7, 0.76, 0.92, 1.3, 1.62, 1.42, 1.1, 0.95, 0.9,
              0.9, 0.9, 0.9, 0.95, 1.05, 1.2, 1.3, 1.2, 1.0, 0.9, 0.85, 0.8),
        dow=(1.05, 1.05, 1.05, 1.05, 1.05, 0.88, 0.87),
    ),
    "proactive": Profile(
        hour=(0.7, 0.6, 0.5, 0.45, 0.4, 0.4, 0.6, 0.9, 1.1, 1.2, 1.25, 1.2,
              1.1, 1.15, 1.2, 1.2, 1.2, 1.25, 1.25, 1.25, 1.2, 1.1, 0.95, 0.85),
        dow=(1.0, 1.02, 1.02, 1.02, 1.04, 0.96, 0.94),
    ),
}
# fmt: on


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH).days


def day_of_week(days: I64) -> I64:
    """Monday = 0 ... Sunday = 6."""
    return np.asarray((days + 3) % 7, dtype=np.int64)


def day_of_year(days: I64) -> I64:
    """1-based day of the year."""
    d64 = days.astype("datetime64[D]")
    year_start = d64.astype("datetime64[Y]").astype("datetime64[D]")
    return np.asarray((d64 - year_start).astype(np.int64) + 1, dtype=np.int64)


def hour_weights(profile: Profile) -> F64:
    """The (7, 24) matrix ``w[dow, hour]`` of a profile, normalised to mean 1 per hour."""
    w = np.outer(np.asarray(profile.dow), np.asarray(profile.hour))
    w[5:, :5] *= profile.weekend_night
    return np.asarray(w / w.mean(), dtype=np.float64)


class DstGaps:
    """Local wall-clock intervals that do not exist in a time zone (spring forward)."""

    def __init__(self, tz_name: str, first_day: int, n_days: int) -> None:
        tz = zoneinfo.ZoneInfo(tz_name)
        starts: list[int] = []
        ends: list[int] = []
        for day in range(first_day - 1, first_day + n_days + 2):
            d = _EPOCH + timedelta(days=day)
            midnight = datetime(d.year, d.month, d.day, tzinfo=tz)
            next_midnight = midnight + timedelta(days=1)
            if midnight.utcoffset() == next_midnight.utcoffset():
                continue
            in_gap = False
            for half_hour in range(48):
                local = datetime(d.year, d.month, d.day, tzinfo=tz) + timedelta(
                    minutes=30 * half_hour
                )
                round_trip = local.astimezone(UTC).astimezone(tz)
                exists = round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)
                ms = day * DAY_MS + half_hour * 1_800_000
                if not exists and not in_gap:
                    starts.append(ms)
                    in_gap = True
                elif exists and in_gap:
                    ends.append(ms)
                    in_gap = False
            if in_gap:
                ends.append((day + 1) * DAY_MS)
        self.starts: I64 = np.asarray(starts, dtype=np.int64)
        self.ends: I64 = np.asarray(ends, dtype=np.int64)

    def hour_mask(self, days: I64) -> npt.NDArray[np.bool_]:
        """(n_days, 24) mask of local hours that start inside a gap."""
        cell_start = days[:, None] * DAY_MS + np.arange(24, dtype=np.int64)[None, :] * HOUR_MS
        mask = np.zeros(cell_start.shape, dtype=bool)
        for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True):
            mask |= (cell_start >= s) & (cell_start < e)
        return mask

    def shift_crossing(self, start: I64, ms: I64) -> I64:
        """Times of events begun before a gap and at or after its start, moved forward
        by the gap's length: the local clock jumped while the event went on."""
        out = ms.copy()
        for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True):
            crossing = (start < s) & (ms >= s)
            out[crossing] += e - s
        return out

    def shift_out(self, ms: I64) -> I64:
        """Move times inside a gap forward by the gap's length."""
        out = ms.copy()
        for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True):
            inside = (out >= s) & (out < e)
            out[inside] += e - s
        return out


def season_factor(days: I64, amplitude: float) -> F64:
    """1 + a cos(2 pi (doy - 196) / 365.25): peak in mid-July, trough in mid-January."""
    doy = day_of_year(days).astype(np.float64)
    return np.asarray(1.0 + amplitude * np.cos(2.0 * np.pi * (doy - 196.0) / 365.25))


def sample_times(
    rng: np.random.Generator,
    rate_per_day: float,
    days: I64,
    profile: Profile,
    amplitude: float,
    gaps: DstGaps,
) -> I64:
    """Event times (local ms, unsorted) of a stream with mean ``rate_per_day``."""
    if rate_per_day <= 0 or days.size == 0:
        return np.zeros(0, dtype=np.int64)
    w = hour_weights(profile)[day_of_week(days)]  # (n_days, 24), mean 1 per hour
    season = season_factor(days, amplitude)
    expected = rate_per_day / 24.0 * w * season[:, None]
    expected[gaps.hour_mask(days)] = 0.0
    counts = rng.poisson(expected).ravel()
    cell_start = (days[:, None] * DAY_MS + np.arange(24, dtype=np.int64)[None, :] * HOUR_MS).ravel()
    starts = np.repeat(cell_start, counts)
    return np.asarray(starts + rng.integers(0, HOUR_MS, size=starts.size), dtype=np.int64)
