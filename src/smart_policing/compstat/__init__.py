"""Compstat (R17): the violent-crime table by year, with rates per 100,000 residents,
year-over-year change, a monthly shootings/homicides series and counts per district.

Pure core (:mod:`.core`: counts in, report out), offence groups and population as
validated data files (:mod:`.groups`, :mod:`.population`, shipped in ``packs/``), a
summary of the incidents kept fresh against the imports ledger (:mod:`.summary`), and
the query layer the web app, API and CLI call (:mod:`.service`). See docs/compstat.md.
"""

from smart_policing.compstat.core import (
    CodeCount,
    CompstatError,
    CompstatQuery,
    CompstatReport,
    build_report,
    report_to_csv,
)
from smart_policing.compstat.groups import GroupSet, OffenceGroup, builtin_groups, load_groups
from smart_policing.compstat.population import (
    PopulationFigure,
    PopulationFile,
    builtin_population,
    load_population_file,
    read_ucr_population,
)
from smart_policing.compstat.service import (
    ReportCache,
    add_population,
    city_population,
    compstat_report,
    refresh_summary,
)

__all__ = [
    "CodeCount",
    "CompstatError",
    "CompstatQuery",
    "CompstatReport",
    "GroupSet",
    "OffenceGroup",
    "PopulationFigure",
    "PopulationFile",
    "ReportCache",
    "add_population",
    "build_report",
    "builtin_groups",
    "builtin_population",
    "city_population",
    "compstat_report",
    "load_groups",
    "load_population_file",
    "read_ucr_population",
    "refresh_summary",
    "report_to_csv",
]
