"""A deterministic synthetic city, written in the real file formats our importers read.

`generate_city` writes, for `CityParams` (seed, years of history, volumes, hot spots,
self-exciting gun violence, ...):

* ``part1_crime.csv``: Open Baltimore "BPD Part 1 Victim Based Crime Data" rows
  (victim-based: an incident with k victims is k identical rows);
* ``cad_calls.csv``: the real CAD export's 50 columns with a consistent timestamp
  chain, plus Primary_Unit, Address, Latitude, Longitude, District and Beat;
* ``districts.geojson``, ``beats.geojson``, ``neighborhoods.geojson``: partitions of
  a fictional ~210 km² city (CRS84);
* ``manifest.json``: parameters, counts, date range and injected data problems.

`generate_cad_calls` is the fast path for benchmarks: exactly ``n`` CAD rows,
generated and written in chunks. The method and every parameter are described in
``docs/synthetic-city.md`` and in the module docstrings: `params`, `geography`,
`streets`, `spatial`, `temporal`, `hawkes`, `incidents`, `calls`, `tables`, `city`.
"""

from smart_policing.data.synth.city import CityManifest, generate_cad_calls, generate_city
from smart_policing.data.synth.params import CityParams

__all__ = ["CityManifest", "CityParams", "generate_cad_calls", "generate_city"]
