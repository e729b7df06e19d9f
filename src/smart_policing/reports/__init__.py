"""Report intake (R3, R5, R12): online, telephone (TRU) and field reports.

Pure core, no I/O: the submission model (:mod:`.model`), emergency screening
(:mod:`.screening`), validation against the channel, the policy pack and the clock
(:mod:`.validate`), case numbers (:mod:`.casenumbers`) and the review workflow
(:mod:`.workflow`). The store (:mod:`smart_policing.store.reports`) assigns case
numbers and turns an approved report into an incident; the API and pages are in
:mod:`smart_policing.api.routers.reports`. See ``docs/reports.md``.
"""

from smart_policing.reports.casenumbers import (
    CASE_NUMBER_PATTERN,
    CaseNumberError,
    format_case_number,
    normalise_case_number,
    parse_case_number,
)
from smart_policing.reports.model import (
    PropertyItem,
    ReportAction,
    ReporterContact,
    ReportStatus,
    ReportSubmission,
    ScreenedReportSubmission,
    ScreeningAnswers,
)
from smart_policing.reports.screening import EMERGENCY_MESSAGE, EmergencySign, emergency_signs
from smart_policing.reports.validate import (
    Accepted,
    Emergency,
    FieldError,
    IntakeRules,
    Invalid,
    assess,
    intake_rules,
)
from smart_policing.reports.workflow import (
    MOVES,
    REVIEWER_ROLES,
    Actor,
    ReportRef,
    TransitionError,
    allowed_actions,
    check_move,
    may_read,
)

__all__ = [
    "CASE_NUMBER_PATTERN",
    "EMERGENCY_MESSAGE",
    "MOVES",
    "REVIEWER_ROLES",
    "Accepted",
    "Actor",
    "CaseNumberError",
    "Emergency",
    "EmergencySign",
    "FieldError",
    "IntakeRules",
    "Invalid",
    "PropertyItem",
    "ReportAction",
    "ReportRef",
    "ReportStatus",
    "ReportSubmission",
    "ReporterContact",
    "ScreenedReportSubmission",
    "ScreeningAnswers",
    "TransitionError",
    "allowed_actions",
    "assess",
    "check_move",
    "emergency_signs",
    "format_case_number",
    "intake_rules",
    "may_read",
    "normalise_case_number",
    "parse_case_number",
]
