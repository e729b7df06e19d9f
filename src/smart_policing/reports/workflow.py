"""The review workflow: which moves a report may make, and who may make them.

::

    submitted --review--> reviewed --approve--> approved   (a record: one incident)
                                   --return---> returned --resubmit--> submitted

The table :data:`MOVES` is the whole policy (one row per allowed move); anything
not in it is refused with the reason. Reviewers are records staff and supervisors.
A returned report goes back to whoever filed it: the officer for a field report, the
call-taker for a telephone report, and records staff for an online report (the
resident has no account; staff take the corrections by phone). Separation of duties:
nobody reviews or approves a report they filed themselves. Returning needs a note
saying what to correct.
"""

from __future__ import annotations

from dataclasses import dataclass

from smart_policing.reports.model import ReportAction, ReportStatus
from smart_policing.security.roles import Role
from smart_policing.triage.types import ReportChannel

__all__ = [
    "MOVES",
    "REVIEWER_ROLES",
    "Actor",
    "Move",
    "ReportRef",
    "TransitionError",
    "allowed_actions",
    "check_move",
    "may_read",
]

#: Who reviews reports (the review queue and approve/return).
REVIEWER_ROLES = frozenset({Role.RECORDS, Role.SUPERVISOR})
_ALL_CHANNELS = frozenset(ReportChannel)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user name and their roles."""

    name: str
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class ReportRef:
    """What the workflow needs to know about a report."""

    status: ReportStatus
    channel: ReportChannel
    submitted_by: str | None  # None for an anonymous online report


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed move: from ``source`` by ``action`` to ``target``.

    Allowed to holders of ``roles``, or (``by_submitter``) to whoever filed the
    report; ``channels`` limits the move to reports of those channels.
    """

    action: ReportAction
    source: ReportStatus
    target: ReportStatus
    roles: frozenset[Role] = frozenset()
    by_submitter: bool = False
    channels: frozenset[ReportChannel] = _ALL_CHANNELS
    note_required: bool = False
    not_own: bool = False  # the actor may not have filed the report

    def permits(self, report: ReportRef, actor: Actor) -> bool:
        """True if ``actor`` may make this move on ``report``."""
        if report.status is not self.source or report.channel not in self.channels:
            return False
        own = report.submitted_by is not None and report.submitted_by == actor.name
        if self.not_own and own:
            return False
        return bool(actor.roles & self.roles) or (self.by_submitter and own)


S, A = ReportStatus, ReportAction

MOVES: tuple[Move, ...] = (
    Move(A.REVIEW, S.SUBMITTED, S.REVIEWED, roles=REVIEWER_ROLES, not_own=True),
    Move(A.APPROVE, S.REVIEWED, S.APPROVED, roles=REVIEWER_ROLES, not_own=True),
    Move(A.RETURN, S.REVIEWED, S.RETURNED, roles=REVIEWER_ROLES, not_own=True, note_required=True),
    Move(
        A.RESUBMIT,
        S.RETURNED,
        S.SUBMITTED,
        by_submitter=True,
        channels=frozenset({ReportChannel.FIELD, ReportChannel.TELEPHONE}),
    ),
    Move(
        A.RESUBMIT,
        S.RETURNED,
        S.SUBMITTED,
        roles=REVIEWER_ROLES,
        channels=frozenset({ReportChannel.ONLINE}),
    ),
)


class TransitionError(ValueError):
    """A move that is not allowed (``status`` 409 for the state, 403 for the actor)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


def allowed_actions(report: ReportRef, actor: Actor) -> tuple[ReportAction, ...]:
    """The actions ``actor`` may take on ``report`` now (for the buttons of a page)."""
    seen: list[ReportAction] = []
    for move in MOVES:
        if move.permits(report, actor) and move.action not in seen:
            seen.append(move.action)
    return tuple(seen)


def check_move(
    report: ReportRef, action: ReportAction, actor: Actor, note: str | None = None
) -> Move:
    """The move ``actor`` makes by ``action``; raises :class:`TransitionError` saying why not."""
    candidates = [m for m in MOVES if m.action is action]
    from_here = [m for m in candidates if m.source is report.status]
    if not from_here:
        possible = sorted({m.source.value for m in candidates})
        raise TransitionError(
            f"cannot {action.value} a {report.status.value} report "
            f"(only a {' or '.join(possible)} one)",
            status=409,
        )
    for move in from_here:
        if move.permits(report, actor):
            if move.note_required and not (note and note.strip()):
                raise TransitionError(
                    f"{action.value} needs a note saying what to correct", status=422
                )
            return move
    own = report.submitted_by is not None and report.submitted_by == actor.name
    if own and any(m.not_own for m in from_here):
        raise TransitionError(
            f"you filed this report; someone else must {action.value} it", status=403
        )
    raise TransitionError(f"{actor.name} may not {action.value} this report", status=403)


def may_read(report: ReportRef, actor: Actor) -> bool:
    """Reviewers read every report; anyone else only the reports they filed."""
    if actor.roles & REVIEWER_ROLES:
        return True
    return report.submitted_by is not None and report.submitted_by == actor.name
