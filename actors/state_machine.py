"""The job state machine: an explicit transition table and a pure `decide` function (no I/O, no clock)."""

from __future__ import annotations

from dataclasses import dataclass

from schemas import TERMINAL_STATES, EventType, IllegalTransition, JobState

__all__ = ["PIPELINE", "RESUMABLE_FROM", "TRANSITIONS", "Decision", "decide", "is_legal", "next_pipeline_state"]

S = JobState

# The pipeline in order; each step's state is entered when that step starts.
PIPELINE: tuple[JobState, ...] = (
    S.SUBMITTED,
    S.VALIDATING,
    S.REDACTING,
    S.COLLECTING,
    S.ANALYZING,
    S.MERGING,
    S.LOCALIZING,
    S.RENDERING,
    S.COMPLETED,
)

# Forward by one step, or out to failed/cancelled; localizing may be skipped (single-locale
# briefs); nothing moves backwards; completed and cancelled have no exits, failed only resumes.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    S.SUBMITTED: frozenset({S.VALIDATING, S.FAILED, S.CANCELLED}),
    S.VALIDATING: frozenset({S.REDACTING, S.FAILED, S.CANCELLED}),
    S.REDACTING: frozenset({S.COLLECTING, S.FAILED, S.CANCELLED}),
    S.COLLECTING: frozenset({S.ANALYZING, S.FAILED, S.CANCELLED}),
    S.ANALYZING: frozenset({S.MERGING, S.FAILED, S.CANCELLED}),
    S.MERGING: frozenset({S.LOCALIZING, S.RENDERING, S.FAILED, S.CANCELLED}),
    S.LOCALIZING: frozenset({S.RENDERING, S.FAILED, S.CANCELLED}),
    S.RENDERING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    # A failure caused by infrastructure (storage down, database gone) can be resumed at the
    # step that failed, once the infrastructure is back; the runner checks which step that was.
    S.FAILED: frozenset(PIPELINE[1:-1]),
    S.CANCELLED: frozenset(),
}

RESUMABLE_FROM = frozenset({S.FAILED})


@dataclass(frozen=True)
class Decision:
    """The outcome of a legal transition: the new state and the event that announces it."""

    from_state: JobState
    to_state: JobState
    event_type: str
    payload: dict[str, object]


def is_legal(from_state: JobState, to_state: JobState) -> bool:
    """True when the table allows `from_state` → `to_state`."""
    return to_state in TRANSITIONS[from_state]


def decide(
    from_state: JobState,
    to_state: JobState,
    *,
    reason: str = "",
    error_code: str | None = None,
    degraded: bool = False,
) -> Decision:
    """Return the decision for a requested move; raise `IllegalTransition` when the table forbids it."""
    if not is_legal(from_state, to_state):
        why = "it is terminal" if not TRANSITIONS[from_state] else "the table has no such edge"
        raise IllegalTransition(f"cannot move a job from {from_state.value} to {to_state.value}: {why}")
    payload: dict[str, object] = {"from_state": from_state.value, "to_state": to_state.value}
    if reason:
        payload["reason"] = reason
    if error_code:
        payload["error_code"] = error_code
    if degraded:
        payload["degraded"] = True
    return Decision(from_state, to_state, EventType.JOB_STATE_CHANGED, payload)


def next_pipeline_state(state: JobState) -> JobState | None:
    """Return the pipeline state after `state`, or None when `state` is terminal."""
    if state in TERMINAL_STATES:
        return None
    return PIPELINE[PIPELINE.index(state) + 1]
