"""Data: importers for real formats (Open Baltimore, CAD exports, any CSV through a
mapping file, GeoJSON boundaries) and the synthetic demo city (``data.synth``)."""

from smart_policing.data.boundaries import BoundaryImportSummary, import_boundaries
from smart_policing.data.importer import ImportSummary, import_file
from smart_policing.data.mapping import BUILTIN_FORMATS, MappingSpec, builtin_mapping, load_mapping
from smart_policing.data.reader import UnusableFileError

__all__ = [
    "BUILTIN_FORMATS",
    "BoundaryImportSummary",
    "ImportSummary",
    "MappingSpec",
    "UnusableFileError",
    "builtin_mapping",
    "import_boundaries",
    "import_file",
    "load_mapping",
]
