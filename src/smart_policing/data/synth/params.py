"""Parameters of the synthetic city, each with its unit.

`CityParams` is a frozen pydantic model with ``extra="forbid"``: a misspelt parameter
is an error, not a silent default. Every number below is documented with its unit in
the class docstring and in ``docs/synthetic-city.md``; the defaults give a city of
about 210 km² and 9 districts with Baltimore-like volumes (600 CAD calls and 120
Part 1 victim rows per day).
"""

from __future__ import annotations

import zoneinfo
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["CityParams"]


class CityParams(BaseModel):
    """Everything that shapes a synthetic city. Same parameters, same files, byte for byte.

    Attributes
    ----------
    seed : int
        Seed of the single ``numpy.random.Generator`` tree all randomness comes from.
    years : int
        Whole calendar years of history (1-30), ending on ``end_year``-12-31.
    end_year : int
        Last calendar year of history.
    timezone : str
        IANA time zone of the local wall-clock times written to the files. Start times
        never fall into a spring-forward gap of this zone.
    calls_per_day : float
        Mean CAD calls per day, police + fire + EMS, including calls raised by Part 1
        incidents (calls/day, at most 2,000 so incident numbers keep 6 digits).
    incidents_per_day : float
        Mean Part 1 *victim rows* per day (rows/day); incidents are fewer because an
        incident with k victims is k rows.
    city_name : str
        Name written to the manifest (fictional).
    center_lat, center_lon : float
        Centre of the city, WGS84 degrees. The default (37.62 N, 78.30 W) is open
        country in central Virginia: plausible, but no real city.
    city_area_km2 : float
        Area of the city polygon (km²).
    street_spacing_m : float
        Mean distance between parallel streets of the grid (m); each block between two
        cross streets is one 100-number block of addresses.
    beats_per_district : int
        Patrol beats (posts) per district (1-27; post = district, sector, post digits).
    n_neighborhoods : int
        Number of named neighbourhoods (a second, independent partition of the city).
    downtown_scale_km : float
        e-folding distance (km) of the background density away from the centre.
    background_floor : float
        Share (0-1) of the background density that is uniform over the city.
    n_hotspots : int
        Number of Gaussian hot spots shared by crime, gun violence and calls.
    hotspot_sigma_m : float
        Median standard deviation (m) of a hot spot's Gaussian.
    hotspot_share_gun : float
        Share (0-1) of gun-violence background events drawn from the hot spots.
    hotspot_share_crime : float
        Share (0-1) of other Part 1 incidents drawn from the hot spots.
    hotspot_share_calls : float
        Share (0-1) of CAD call sites drawn from the hot spots.
    hawkes_branching : float
        Mean number of offspring per gun-violence event (0 <= b < 1); 0 turns the
        self-excitation off (a Poisson process).
    hawkes_decay_days : float
        Mean delay (days) of an offspring after its parent (exponential kernel).
    hawkes_sigma_m : float
        Standard deviation (m) of the Gaussian offset of an offspring from its parent.
    seasonal_amplitude : float
        Relative amplitude (0-1) of the yearly cycle of calls and property crime
        (peak mid-July): intensity x (1 + a cos(2 pi (doy - 196) / 365.25)).
    seasonal_amplitude_violent : float
        The same for violent crime and gun violence.
    missing_location_rate : float
        Share (0-1) of Part 1 incidents written without a location.
    anomaly_rate : float
        Share (0-1) of CAD calls given one of the real export's data problems (arrival
        before dispatch, a 30-hour call, a blank Master_Incident_Number), in equal parts.
    n_call_sites : int
        Addresses CAD calls are drawn from (repeat-call locations).
    n_alarm_sites : int
        Premises with a burglar alarm; alarm calls come only from these, with a skewed
        per-site rate so some sites pass 5 false alarms a year.
    n_gun_sites : int
        Addresses of shots-fired and shooting calls not tied to a Part 1 incident.
    n_staff : int
        Size of the 911 centre staff roster (call takers and dispatchers).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(0, ge=0)
    years: int = Field(1, ge=1, le=30)
    end_year: int = Field(2025, ge=1972, le=2098)
    timezone: str = "America/New_York"
    calls_per_day: float = Field(600.0, gt=0.0, le=2000.0)
    incidents_per_day: float = Field(120.0, gt=0.0, le=2000.0)
    city_name: str = Field("Ashgrove", min_length=1, max_length=80)
    center_lat: float = Field(37.62, ge=-75.0, le=75.0)
    center_lon: float = Field(-78.30, ge=-180.0, le=180.0)
    city_area_km2: float = Field(210.0, ge=20.0, le=2000.0)
    street_spacing_m: float = Field(130.0, ge=60.0, le=400.0)
    beats_per_district: int = Field(9, ge=1, le=27)
    n_neighborhoods: int = Field(120, ge=9, le=1000)
    downtown_scale_km: float = Field(3.5, gt=0.0, le=50.0)
    background_floor: float = Field(0.35, ge=0.0, le=1.0)
    n_hotspots: int = Field(40, ge=1, le=1000)
    hotspot_sigma_m: float = Field(110.0, ge=10.0, le=2000.0)
    hotspot_share_gun: float = Field(0.4, ge=0.0, le=1.0)
    hotspot_share_crime: float = Field(0.2, ge=0.0, le=1.0)
    hotspot_share_calls: float = Field(0.15, ge=0.0, le=1.0)
    hawkes_branching: float = Field(0.3, ge=0.0, lt=0.95)
    hawkes_decay_days: float = Field(5.0, gt=0.0, le=365.0)
    hawkes_sigma_m: float = Field(150.0, gt=0.0, le=5000.0)
    seasonal_amplitude: float = Field(0.12, ge=0.0, lt=1.0)
    seasonal_amplitude_violent: float = Field(0.25, ge=0.0, lt=1.0)
    missing_location_rate: float = Field(0.01, ge=0.0, le=0.5)
    anomaly_rate: float = Field(0.003, ge=0.0, le=0.5)
    n_call_sites: int = Field(50_000, ge=100, le=2_000_000)
    n_alarm_sites: int = Field(2_500, ge=10, le=200_000)
    n_gun_sites: int = Field(3_000, ge=10, le=200_000)
    n_staff: int = Field(120, ge=8, le=10_000)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CityParams:
        if self.end_year - self.years + 1 < 1971:
            raise ValueError("history must start in 1971 or later (years, end_year)")
        return self

    @property
    def start_date(self) -> date:
        """First day of history (January 1st of the first year)."""
        return date(self.end_year - self.years + 1, 1, 1)

    @property
    def end_date(self) -> date:
        """Last day of history (December 31st of ``end_year``)."""
        return date(self.end_year, 12, 31)

    @property
    def n_days(self) -> int:
        """Number of days of history."""
        return (self.end_date - self.start_date).days + 1
