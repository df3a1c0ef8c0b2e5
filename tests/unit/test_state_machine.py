"""The job state machine: every legal and every illegal transition of the table."""

from __future__ import annotations

import itertools

import pytest

from actors.state_machine import PIPELINE, TRANSITIONS, decide, is_legal, next_pipeline_state
from schemas import TERMINAL_STATES, EventType, IllegalTransition, JobState

pytestmark = pytest.mark.unit

ALL_PAIRS = list(itertools.product(JobState, JobState))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]

EXPECTED_LEGAL = {
    *zip(PIPELINE, PIPELINE[1:]),
    *((s, JobState.FAILED) for s in PIPELINE[:-1]),
    *((s, JobState.CANCELLED) for s in PIPELINE[:-1]),
    *((JobState.FAILED, s) for s in PIPELINE[1:-1]),  # resume at the failed step
}


def test_table_is_exactly_the_intended_graph() -> None:
    assert set(LEGAL) == EXPECTED_LEGAL
    assert set(TRANSITIONS) == set(JobState)


@pytest.mark.parametrize(("src", "dst"), LEGAL, ids=[f"{a.value}->{b.value}" for a, b in LEGAL])
def test_legal_transition_decides_event(src: JobState, dst: JobState) -> None:
    decision = decide(src, dst, reason="why")
    assert (decision.from_state, decision.to_state) == (src, dst)
    assert decision.event_type == EventType.JOB_STATE_CHANGED
    assert decision.payload == {"from_state": src.value, "to_state": dst.value, "reason": "why"}


@pytest.mark.parametrize(("src", "dst"), ILLEGAL, ids=[f"{a.value}->{b.value}" for a, b in ILLEGAL])
def test_illegal_transition_raises(src: JobState, dst: JobState) -> None:
    assert not is_legal(src, dst)
    with pytest.raises(IllegalTransition) as err:
        decide(src, dst)
    assert src.value in str(err.value) and dst.value in str(err.value)
    assert err.value.retryable is False


def test_nothing_moves_backwards_or_stays() -> None:
    order = {s: i for i, s in enumerate(PIPELINE)}
    for src, dst in LEGAL:
        assert src != dst
        if dst in order and src in order:
            assert order[dst] > order[src]


def test_completed_and_cancelled_have_no_exit_failed_only_resumes() -> None:
    assert TRANSITIONS[JobState.COMPLETED] == TRANSITIONS[JobState.CANCELLED] == frozenset()
    assert TRANSITIONS[JobState.FAILED] == frozenset(PIPELINE[1:-1])
    for state in TERMINAL_STATES:
        assert next_pipeline_state(state) is None
    with pytest.raises(IllegalTransition, match="terminal"):
        decide(JobState.COMPLETED, JobState.RENDERING)
    for dst in (JobState.SUBMITTED, JobState.COMPLETED, JobState.CANCELLED, JobState.FAILED):
        assert not is_legal(JobState.FAILED, dst)


def test_next_pipeline_state_walks_the_pipeline() -> None:
    state = JobState.SUBMITTED
    seen = [state]
    while (state := next_pipeline_state(state)) is not None:
        seen.append(state)
    assert tuple(seen) == PIPELINE


def test_failure_payload_carries_error_code_and_degraded() -> None:
    decision = decide(JobState.ANALYZING, JobState.FAILED, error_code="below_quorum", degraded=True)
    assert decision.payload["error_code"] == "below_quorum"
    assert decision.payload["degraded"] is True
