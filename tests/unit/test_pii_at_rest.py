"""Nothing raw at rest: the job store keeps a masked brief, the raw one sealed per job, a keyed idempotency hash.

SQLite store, filesystem objects and the fake agents (an email-only redactor). Planted values are
looked for in the database file's bytes (and its WAL), in events, in the record and the summary.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from actors.orchestrator.runner import JobRunner, RunnerConfig
from actors.pii.briefs import WITHHELD, is_masked, mask_brief, open_brief, request_hashes
from actors.pii.keys import Keyring, SealError, VaultKeyError
from cluster.client import job_summary
from cluster.db import IdempotencyRow, JobRow
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import Brief, IdempotencyConflict, JobError, JobState, PiiClass, pii_fields
from tests.conftest import TEST_KEYRING, brief_data
from tests.fakes import FakeAgents

pytestmark = pytest.mark.unit

NAME = "Sabine Fischer"
EMAIL = "sabine.fischer@example.org"
PLANTED = (NAME, EMAIL)


def planted_brief(**overrides: object) -> Brief:
    """A brief with a name and an email in its notes and its audience."""
    return Brief.model_validate(
        brief_data(
            notes=f"Call {NAME} ({EMAIL}) before the launch.",
            audience=f"Readers of the newsletter {EMAIL} run by {NAME}",
            **overrides,
        )
    )


def db_bytes(tmp_path: Path) -> bytes:
    """The SQLite file and its side files (WAL, shared memory), as they are on disk now."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("mka.db*")))


def at(data: object, path: str) -> object:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None  # type: ignore[assignment]
    return data


# --- masking --------------------------------------------------------------------------------------


def test_masked_brief_withholds_every_free_text_field_and_still_validates() -> None:
    brief = planted_brief(title=f"Launch for {NAME}", questions=[f"Does {NAME} buy oat milk?", "Who else sells it?"])
    masked = mask_brief(brief)
    raw, out = brief.model_dump(mode="json"), masked.model_dump(mode="json")
    for path, cls in pii_fields(Brief).items():
        before, after = at(raw, path), at(out, path)
        if cls is not PiiClass.FREE_TEXT:
            if not isinstance(before, dict):
                assert after == before, path
        elif isinstance(before, str):
            assert after == (WITHHELD if before else ""), path
        elif isinstance(before, list):
            assert after == [f"{WITHHELD} #{i}" for i in range(1, len(before) + 1)], path
    assert Brief.model_validate(out) == masked
    assert not any(value in json.dumps(out) for value in PLANTED)
    assert is_masked(masked) and not is_masked(brief)


def test_masks_fit_every_field_limit_at_its_extremes() -> None:
    biggest = brief_data(
        title="t" * 200, audience="a" * 2000, notes="n" * 8000, questions=[f"q{i} " + "x" * 990 for i in range(20)],
        competitors=[f"c{i}" for i in range(20)], product={"name": "p" * 200, "description": "d" * 4000, "category": "c" * 200},
    )
    smallest = brief_data(title="", audience="abc", notes="", questions=["why"], competitors=[], product={"name": "p"})
    for data in (biggest, smallest):
        brief = Brief.model_validate(data)
        masked = mask_brief(brief)
        assert len(masked.questions) == len(brief.questions) and len(masked.competitors) == len(brief.competitors)
        assert masked.markets == brief.markets and masked.locale == brief.locale and masked.project == brief.project


# --- the store ------------------------------------------------------------------------------------


def test_raw_brief_is_not_in_the_database_file_after_submit(sqlite_store: SqlJobStore, tmp_path: Path) -> None:
    brief = planted_brief()
    job = sqlite_store.submit(brief, idempotency_key="req-1")
    on_disk = db_bytes(tmp_path)
    assert WITHHELD.encode() in on_disk  # the masked row is there to be found ...
    for value in PLANTED:
        assert value.encode() not in on_disk and value.lower().encode() not in on_disk.lower()  # ... the PII is not
    assert job.brief == mask_brief(brief)
    assert sqlite_store.get(job.id).brief.audience == WITHHELD
    assert sqlite_store.raw_brief(job.id) == brief


def test_sealed_raw_brief_opens_only_for_its_job(sqlite_store: SqlJobStore) -> None:
    brief = planted_brief()
    mine, other = sqlite_store.submit(brief), sqlite_store.submit(planted_brief())
    sealed = sqlite_store.sealed_brief(mine.id)
    assert sealed is not None and not any(v.encode() in sealed for v in PLANTED)
    assert open_brief(TEST_KEYRING, mine.id, sealed) == brief
    with pytest.raises(SealError):
        open_brief(TEST_KEYRING, other.id, sealed)  # another job
    with pytest.raises(SealError):
        TEST_KEYRING.open(mine.id, sealed, purpose="vault")  # another purpose
    with pytest.raises(SealError):
        open_brief(Keyring([Keyring.generate()]), mine.id, sealed)  # another key
    assert sqlite_store.reseal_brief(other.id, sealed)  # copied into another job's row ...
    with pytest.raises(SealError):
        sqlite_store.raw_brief(other.id)  # ... it does not open there


def test_a_store_without_keyring_refuses_to_submit(sqlite_store: SqlJobStore) -> None:
    bare = SqlJobStore(sqlite_store.engine, migrate=False)
    with pytest.raises(VaultKeyError, match="keyring"):
        bare.submit(planted_brief())


def test_idempotency_hash_is_keyed_and_survives_a_key_rotation(sqlite_store: SqlJobStore) -> None:
    brief = planted_brief()
    first = sqlite_store.submit(brief, idempotency_key="req-1")
    assert sqlite_store.submit(brief, idempotency_key="req-1").id == first.id
    with pytest.raises(IdempotencyConflict):
        sqlite_store.submit(brief.model_copy(update={"notes": "something else"}), idempotency_key="req-1")
    with sqlite_store.engine.connect() as conn:
        stored = conn.scalar(select(IdempotencyRow.request_hash).where(IdempotencyRow.job_id == first.id))
    plain = hashlib.sha256(json.dumps(brief.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    assert stored == request_hashes(TEST_KEYRING, brief)[0] and stored != plain
    assert request_hashes(Keyring([Keyring.generate()]), brief)[0] != stored  # meaningless without the key

    rotated = SqlJobStore(sqlite_store.engine, keyring=Keyring([Keyring.generate(), *TEST_KEYRING.keys]), migrate=False)
    assert rotated.submit(brief, idempotency_key="req-1").id == first.id  # a retry after a rotation still matches


def test_a_key_used_before_hashes_were_keyed_still_matches(sqlite_store: SqlJobStore) -> None:
    brief = planted_brief()
    job = sqlite_store.submit(brief, idempotency_key="req-old")
    legacy = hashlib.sha256(json.dumps(brief.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
    with sqlite_store.engine.begin() as conn:
        conn.execute(update(IdempotencyRow).where(IdempotencyRow.job_id == job.id).values(request_hash=legacy))
    assert sqlite_store.submit(brief, idempotency_key="req-old").id == job.id


def test_set_brief_accepts_only_a_redacted_copy(sqlite_store: SqlJobStore) -> None:
    brief = planted_brief()
    job = sqlite_store.submit(brief)
    with pytest.raises(JobError, match="redacted copy"):
        sqlite_store.set_brief(job.id, brief.model_copy(update={"markets": ["IT"]}))
    redacted = brief.model_copy(update={"notes": "Call <PERSON_1> (<EMAIL_ADDRESS_1>) before the launch."})
    sqlite_store.set_brief(job.id, redacted)
    again = sqlite_store.get(job.id)
    assert again.brief == redacted and again.version == job.version  # not a state change
    assert [m.event.type for m in sqlite_store.events(job.id)] == ["job.submitted"]


def test_purging_the_raw_brief_leaves_the_record(sqlite_store: SqlJobStore) -> None:
    job = sqlite_store.submit(planted_brief())
    assert sqlite_store.purge_raw_brief(job.id) and not sqlite_store.purge_raw_brief(job.id)
    assert sqlite_store.sealed_brief(job.id) is None and sqlite_store.raw_brief(job.id) is None
    assert sqlite_store.get(job.id).brief.audience == WITHHELD


# --- the pipeline ---------------------------------------------------------------------------------


@pytest.fixture
def runner(sqlite_store: SqlJobStore, tmp_path: Path) -> JobRunner:
    objects = FsObjectStore(tmp_path / "objects")
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    return JobRunner(store=sqlite_store, objects=objects, agents=FakeAgents(objects), config=config)


def test_redacted_brief_replaces_the_masked_one_after_the_redact_step(
    sqlite_store: SqlJobStore, runner: JobRunner, tmp_path: Path
) -> None:
    brief = planted_brief()
    job = sqlite_store.submit(brief)
    assert job_summary(job, [], None).brief["audience"] == WITHHELD
    final = runner.run(job.id)
    assert final.state == JobState.COMPLETED
    stored = sqlite_store.get(job.id).brief
    assert stored.audience == f"Readers of the newsletter <EMAIL_ADDRESS_1> run by {NAME}"  # the fake redacts emails only
    assert not is_masked(stored) and stored.markets == brief.markets
    assert job_summary(sqlite_store.get(job.id), [], None).brief["audience"] == stored.audience
    assert EMAIL.encode() not in db_bytes(tmp_path)
    events = json.dumps([m.event.model_dump(mode="json") | {"headers": m.headers} for m in sqlite_store.events(job.id)])
    assert not any(v in events for v in PLANTED) and WITHHELD not in events
    assert sqlite_store.raw_brief(job.id) == brief  # kept sealed until the retention purge


def test_redact_step_fails_clearly_once_the_raw_brief_was_purged(sqlite_store: SqlJobStore, runner: JobRunner) -> None:
    job = sqlite_store.submit(planted_brief())
    sqlite_store.purge_raw_brief(job.id)
    final = runner.run(job.id)
    assert final.state == JobState.FAILED and final.error is not None
    assert "purged" in str(final.error["message"]) and not final.error["resumable"]


def test_a_job_stored_before_sealing_is_redacted_from_its_record(sqlite_store: SqlJobStore, runner: JobRunner) -> None:
    brief = planted_brief()
    job = sqlite_store.submit(brief)
    with sqlite_store.engine.begin() as conn:  # what a row written before migration 0003 looks like
        conn.execute(update(JobRow).where(JobRow.id == job.id).values(brief=brief.model_dump(mode="json"), brief_sealed=None))
    assert runner.run(job.id).state == JobState.COMPLETED
    assert EMAIL not in sqlite_store.get(job.id).brief.model_dump_json()


def test_jobs_show_prints_the_masked_brief(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cluster.cli import app

    for name in ("MKA_DATABASE_URL", "MKA_VAULT_KEY", "MKA_S3_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKA_HOME", str(tmp_path))
    job = SqlJobStore.from_settings(Settings(home=tmp_path)).submit(planted_brief())
    shown = CliRunner().invoke(app, ["jobs", "show", job.id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["job"]["brief"]["audience"] == WITHHELD
    text = CliRunner().invoke(app, ["jobs", "show", job.id])
    assert WITHHELD in text.output and not any(v in text.output for v in PLANTED)
