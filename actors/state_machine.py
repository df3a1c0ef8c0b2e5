"""The job state machine: a transition table derived from the step registry, and a pure `decide` (no I/O, no clock)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from schemas import TERMINAL_STATES, EventType, IllegalTransition, JobState

__all__ = [
    "PIPELINE",
    "RESUMABLE_FROM",
    "TRANSITIONS",
    "Decision",
    "StateMachine",
    "decide",
    "default_machine",
    "is_legal",
    "machine_of",
    "next_pipeline_state",
]

S = JobState

RESUMABLE_FROM = frozenset({S.FAILED})


@dataclass(frozen=True)
class Decision:
    """The outcome of a legal transition: the new state and the event that announces it."""

    from_state: JobState
    to_state: JobState
    event_type: str
    payload: dict[str, object]


@dataclass(frozen=True)
class StateMachine:
    """The table of one pipeline: forward by one step, or out to failed/cancelled; nothing moves backwards.

    Completed and cancelled have no exits; failed only resumes, at any step's state (the runner
    checks that it is the step that failed). Every `JobState` has a row, even one no step uses.
    """

    step_states: tuple[JobState, ...]
    transitions: dict[JobState, frozenset[JobState]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(set(self.step_states)) != len(self.step_states) or {S.SUBMITTED, *TERMINAL_STATES} & set(self.step_states):
            raise ValueError("each step needs its own non-terminal state other than submitted")
        order = self.pipeline
        table: dict[JobState, frozenset[JobState]] = {s: frozenset() for s in JobState}
        for here, after in zip(order, order[1:], strict=False):
            table[here] = frozenset({after, S.FAILED, S.CANCELLED})
        table[S.FAILED] = frozenset(self.step_states)
        object.__setattr__(self, "transitions", table)

    @property
    def pipeline(self) -> tuple[JobState, ...]:
        """Every state a successful job passes through, in order."""
        return (S.SUBMITTED, *self.step_states, S.COMPLETED)

    def is_legal(self, from_state: JobState, to_state: JobState) -> bool:
        """True when the table allows `from_state` → `to_state`."""
        return to_state in self.transitions[from_state]

    def decide(
        self, from_state: JobState, to_state: JobState, *, reason: str = "", error_code: str | None = None,
        degraded: bool = False,
    ) -> Decision:
        """Return the decision for a requested move; raise `IllegalTransition` when the table forbids it."""
        if not self.is_legal(from_state, to_state):
            why = "it is terminal" if not self.transitions[from_state] else "the table has no such edge"
            raise IllegalTransition(f"cannot move a job from {from_state.value} to {to_state.value}: {why}")
        payload: dict[str, object] = {"from_state": from_state.value, "to_state": to_state.value}
        if reason:
            payload["reason"] = reason
        if error_code:
            payload["error_code"] = error_code
        if degraded:
            payload["degraded"] = True
        return Decision(from_state, to_state, EventType.JOB_STATE_CHANGED, payload)

    def next_state(self, state: JobState) -> JobState | None:
        """The pipeline state after `state`, or None when `state` is terminal."""
        if state in TERMINAL_STATES:
            return None
        order = self.pipeline
        return order[order.index(state) + 1]


def machine_of(states: Sequence[JobState]) -> StateMachine:
    """The state machine of a pipeline whose steps enter these states in order."""
    return StateMachine(tuple(states))


@cache
def default_machine() -> StateMachine:
    """The state machine of the default step registry."""
    from actors.orchestrator.steps import (
        default_pipeline,  # the registry is the one source of the order
    )

    return default_pipeline().machine


def is_legal(from_state: JobState, to_state: JobState) -> bool:
    """True when the default table allows `from_state` → `to_state`."""
    return default_machine().is_legal(from_state, to_state)


def decide(
    from_state: JobState, to_state: JobState, *, reason: str = "", error_code: str | None = None, degraded: bool = False
) -> Decision:
    """The default machine's decision for a requested move (see `StateMachine.decide`)."""
    return default_machine().decide(from_state, to_state, reason=reason, error_code=error_code, degraded=degraded)


def next_pipeline_state(state: JobState) -> JobState | None:
    """The default pipeline's state after `state`, or None when `state` is terminal."""
    return default_machine().next_state(state)


def __getattr__(name: str) -> Any:
    # PIPELINE and TRANSITIONS come from the registry, which is read on first use (it imports the agents' models).
    if name == "PIPELINE":
        return default_machine().pipeline
    if name == "TRANSITIONS":
        return default_machine().transitions
    raise AttributeError(name)
