"""Retention end to end: a real job on the embedded default, `mka retention apply --now` past each period, and
exactly what remains after each (objects, catalog rows, events, the job row, spans, the database file's bytes)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cluster.cli import app
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import JobNotFound, JobState
from tests.conftest import TEST_KEYRING, brief_data
from tests.inprocess import run_in_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PRODUCT = "Zyxoat Barista Retention"  # a word found nowhere else, to look for in the database file's bytes


def _live(store: SqlJobStore, job_id: str) -> set[str]:
    return {f"checkpoint:{a.step}" if a.kind == "checkpoint" else a.kind.value
            for a in store.catalog(job_id=job_id) if a.status == "stored"}


def _files(root: Path, job_id: str) -> set[str]:
    return {p.name for p in root.rglob("*") if p.is_file() and job_id in str(p)}


def test_apply_past_each_period_leaves_exactly_what_the_periods_say(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path
    done = run_in_process(home, brief_data(product={"name": PRODUCT}, outputs=["pdf", "html", "markdown"]), pdf=True, objects_dir=home / "artifacts")
    assert done.job.state == JobState.COMPLETED, done.job.error
    job = done.job
    monkeypatch.setenv("MKA_HOME", str(home))
    monkeypatch.setenv("MKA_VAULT_KEY", TEST_KEYRING.keys[0].decode())
    end = job.updated_at
    assert end is not None
    ns = int(end.timestamp() * 1e9)
    (home / "spans.jsonl").write_text(json.dumps({"trace_id": "0" * 32, "name": "job", "end_ns": ns}) + "\n")
    store = SqlJobStore.from_settings(Settings(home=home, vault_key=TEST_KEYRING.keys[0].decode()))
    everything = _live(store, job.id)
    steps = {k for k in everything if k.startswith("checkpoint:") and k != "checkpoint:merge"}
    reports = {"pdf", "html", "markdown"}
    assert reports <= everything and {"vault", "raw_brief", "checkpoint:merge"} <= everything and steps
    runner = CliRunner()

    def apply(days: float, *, dry: bool = False) -> dict:  # type: ignore[type-arg]
        at = (end + timedelta(days=days)).isoformat()
        result = runner.invoke(app, ["retention", "apply", "--now", at, "--json", *(["--dry-run"] if dry else [])])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)  # type: ignore[no-any-return]

    assert apply(1)["deleted"] == [] and _live(store, job.id) == everything
    preview = apply(8, dry=True)
    assert {d["kind"] for d in preview["deleted"]} == {"checkpoint"} and _live(store, job.id) == everything

    apply(8)  # the step checkpoints, not the merge result
    assert _live(store, job.id) == everything - steps
    apply(31)  # the vault and the raw brief; the spans
    remaining = everything - steps - {"vault", "raw_brief"}
    assert _live(store, job.id) == remaining
    assert store.sealed_brief(job.id) is None and "vault.bin" not in _files(home / "artifacts", job.id)
    assert (home / "spans.jsonl").read_text() == ""
    result = apply(91)  # events (no relay here: the outbox is the record, so every row goes) and exports
    remaining -= {"export", "providers_script"}
    assert _live(store, job.id) == remaining and result["events"][0]["deleted"] >= len(done.events)
    assert not {e.id for e in done.events} & {m.event.id for m in store.events(job.id)}
    apply(181)  # reports, charts, the merge result
    assert _live(store, job.id) == set() and _files(home / "artifacts", job.id) == set()
    assert store.get(job.id).state == JobState.COMPLETED  # the row waits for its own period
    result = apply(401)
    assert [j["id"] for j in result["jobs"]] == [job.id]
    with pytest.raises(JobNotFound):
        store.get(job.id)
    assert store.tombstone(job.id)["state"] == "completed"  # type: ignore[index]
    assert store.catalog(job_id=job.id, include_deleted=True) == [] and store.steps(job.id) == []
    purged = [m for m in store.pending_events(limit=100_000) if m.event.type == "job.purged"]
    assert [m.event.job_id for m in purged] == [job.id]  # the deletion is announced (until the events' period)
    assert isinstance(datetime.fromisoformat(purged[0].event.payload["ended_at"]), datetime)
    assert apply(402)["jobs"] == []
    # the brief's words are gone from the database file's bytes, not just from its rows (secure_delete, checkpoint)
    data = b"".join(p.read_bytes() for p in home.glob("mka.db*"))
    assert PRODUCT.encode() not in data
    assert runner.invoke(app, ["events", job.id, "--json"]).exit_code == 2  # no such job any more
