"""Event signing: keys, the canonical form, the consumer's checks, signed outbox rows and `mka events verify`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cluster.events import EventVerifier, check_stored, verify
from cluster.settings import Settings
from cluster.signing import (
    PUBLIC_FILE,
    SIGNING_FILE,
    KeySet,
    SigningKey,
    SigningKeyError,
    canonical,
    load_keyset,
    load_signing_key,
    pin_signing_key,
    rotate_signing_key,
)
from cluster.sql_store import SqlJobStore
from schemas import Brief, JobState
from tests.conftest import TEST_KEYRING, brief_data, unique_project

pytestmark = pytest.mark.unit


def _envelope(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "e-1", "type": "job.state_changed", "job_id": "j-1", "project": "acme",
        "occurred_at": "2026-12-01T10:00:00Z", "schema_version": "1.1", "sequence": 7,
        "payload": {"to_state": "validating", "version": 2},
    }
    return {**base, **changes}


def _headers(event: dict[str, object]) -> dict[str, str]:
    return {"Nats-Msg-Id": str(event["id"]), "Mka-Event-Type": str(event["type"]),
            "Mka-Correlation-Id": str(event["job_id"]), "Mka-Key-Id": str(event["key_id"]),
            "Mka-Signature": str(event["signature"]), "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}


def test_the_canonical_form_ignores_key_order_and_the_signature() -> None:
    a = _envelope()
    b = dict(reversed(list(a.items())))
    assert canonical(a) == canonical(b) == canonical({**a, "signature": "x"})
    assert canonical(a) != canonical(_envelope(sequence=8))


def test_a_signed_event_verifies_and_any_change_to_a_covered_field_breaks_it() -> None:
    key = SigningKey.generate()
    keys = KeySet([key.public])
    signed = key.sign(_envelope())
    assert verify(signed, keys).ok
    assert verify(json.dumps(signed).encode(), keys).ok  # as bytes off the wire
    for field, value in (("id", "e-2"), ("type", "job.submitted"), ("job_id", "j-2"), ("project", "other"),
                         ("sequence", 8), ("occurred_at", "2026-12-01T10:00:01Z"),
                         ("payload", {"to_state": "failed", "version": 2}), ("key_id", "ed25519-0000000000000000")):
        reason = verify({**signed, field: value}, keys).reason
        assert reason in {"bad signature", "unknown key"}, field
    # what a view adds around an event (the portal's seq and verification) is not signed; a dropped field is
    assert verify({**signed, "seq": 3, "verification": "verified", "subject": "x"}, keys).ok
    assert verify({k: v for k, v in signed.items() if k != "payload"}, keys).reason == "bad signature"


def test_the_signature_covers_every_field_of_the_envelope() -> None:
    from cluster.signing import SIGNED_FIELDS
    from schemas import Event

    assert set(SIGNED_FIELDS) == set(Event.model_fields) - {"signature"}


def test_unsigned_unknown_key_and_garbage_are_refused_with_their_reason() -> None:
    key, other = SigningKey.generate(), SigningKey.generate()
    keys = KeySet([key.public])
    assert verify(_envelope(), keys).reason == "unsigned"
    assert verify(other.sign(_envelope()), keys).reason == "unknown key"  # a foreign publisher's own key
    assert verify({**key.sign(_envelope()), "signature": "!!"}, keys).reason == "bad signature"
    assert verify(b"not json", keys).reason == "malformed"
    assert verify(b"[1, 2]", keys).reason == "malformed"
    assert verify(key.sign(_envelope(schema_version="9.0")), keys).reason == "malformed"


def test_headers_and_subject_must_match_the_signed_envelope() -> None:
    key = SigningKey.generate()
    keys = KeySet([key.public])
    signed = key.sign(_envelope())
    headers = _headers(signed)
    subject = "mka.events.acme.j-1.job_state_changed"
    assert verify(signed, keys, headers=headers, subject=subject).ok
    for name, value in (("Mka-Event-Type", "job.submitted"), ("Nats-Msg-Id", "e-9"), ("Mka-Correlation-Id", "j-9"),
                        ("Mka-Signature", key.sign(_envelope(id="e-9"))["signature"]),
                        ("Mka-Key-Id", "ed25519-0000000000000000")):
        reason = verify(signed, keys, headers={**headers, name: str(value)}, subject=subject).reason
        assert reason is not None and name in reason, name
    stripped = {k: v for k, v in headers.items() if k != "Mka-Signature"}
    assert "Mka-Signature" in (verify(signed, keys, headers=stripped).reason or "")
    assert verify(signed, keys, subject="mka.events.other.j-1.job_state_changed").reason == \
        "subject does not match the signed event"
    # traceparent is not covered: changing it changes nothing the consumer acts on
    assert verify(signed, keys, headers={**headers, "traceparent": "x"}, subject=subject).ok


def test_the_verifier_refuses_replays_by_id_and_by_a_sequence_older_than_its_window() -> None:
    key = SigningKey.generate()
    verifier = EventVerifier(KeySet([key.public]), window=3)
    events = [key.sign(_envelope(id=f"e-{n}", sequence=n)) for n in range(1, 9)]
    assert [verifier.verify(e).ok for e in events[:5]] == [True] * 5
    assert verifier.verify(events[4]).reason == "replayed"  # the same message again
    assert verifier.verify(events[0]).reason == "replayed (older than the replay window)"  # forgotten id, old sequence
    assert verifier.verify(events[6]).ok and verifier.verify(events[5]).ok  # a little out of order is fine
    bad = verifier.verify({**events[7], "payload": {}})
    assert bad.reason == "bad signature" and verifier.verify(events[7]).ok  # a refused event is not remembered
    assert verifier.verify(key.sign(_envelope(id="e-x", sequence=None))).reason == "no sequence"
    verifier.forget(events[7]["id"])  # processing failed and the message was nak'ed: its redelivery is checked afresh
    assert verifier.verify(events[7]).ok and verifier.verify(events[7]).reason == "replayed"
    assert verifier.verify(b"[" * 100_000 + b"]" * 100_000).reason == "malformed"
    with pytest.raises(ValueError):
        EventVerifier(KeySet([key.public]), window=0)


def test_the_key_is_generated_once_under_home_as_a_private_file(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = load_signing_key(settings)
    path = settings.home / SIGNING_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_signing_key(settings).key_id == first.key_id
    assert first.key_id.startswith("ed25519-") and len(first.key_id) == 24
    assert load_keyset(settings).ids == [first.key_id]
    bare = Settings(home=tmp_path / "verifier-only")
    with pytest.raises(SigningKeyError, match="no signing key here"):
        load_keyset(bare)  # a process that only verifies never makes up a key
    assert not (bare.home / SIGNING_FILE).exists()


def test_a_bad_key_in_the_environment_is_never_quoted(tmp_path: Path) -> None:
    import traceback

    secret = "MC4CAQAwBQYDK2VwBCIEIAulWsY0y7D3JT2yC4EPLYORy4L+kub9zATFnb1/9oas"  # a DER key, not PEM
    broken = "MC4CAQAwBQYDK2VwBCIEIAulWsY0y7D3JT2yC4EPLYORy4L"  # a PEM body cut short
    for value, quoted in ((secret, secret), ("-----BEGIN PRIVATE KEY-----\n" + broken + "\n-----END PRIVATE KEY-----\n",
                                             broken)):
        with pytest.raises(SigningKeyError) as caught:
            load_signing_key(Settings(home=tmp_path, signing_key=value))
        shown = "".join(traceback.format_exception(caught.value))
        assert quoted not in shown and "MKA_SIGNING_KEY" in shown


def test_the_key_may_come_from_the_environment_as_pem_or_as_a_path(tmp_path: Path) -> None:
    key = SigningKey.generate()
    assert load_signing_key(Settings(home=tmp_path, signing_key=key.pem().decode())).key_id == key.key_id
    path = tmp_path / "k.pem"
    path.write_bytes(key.pem())
    assert load_signing_key(Settings(home=tmp_path, signing_key=str(path))).key_id == key.key_id
    assert not (tmp_path / SIGNING_FILE).exists()  # nothing generated when the key is given
    with pytest.raises(SigningKeyError, match="neither a PEM key nor a readable file"):
        load_signing_key(Settings(home=tmp_path, signing_key=str(tmp_path / "missing.pem")))
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        load_signing_key(Settings(home=tmp_path, signing_key=str(path)))


def test_rotation_signs_with_a_new_key_and_old_events_still_verify(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    old = load_signing_key(settings)
    before = old.sign(_envelope())
    new, keys = rotate_signing_key(settings)
    assert new.key_id != old.key_id and keys.ids == [new.key_id, old.key_id]
    assert load_signing_key(settings).key_id == new.key_id
    after = load_keyset(settings)
    assert verify(before, after).ok and verify(new.sign(_envelope(id="e-2")), after).ok
    assert stat.S_IMODE((tmp_path / PUBLIC_FILE).stat().st_mode) == 0o600
    assert b"PRIVATE" not in (tmp_path / PUBLIC_FILE).read_bytes()
    third, keys = rotate_signing_key(settings)
    assert keys.ids == [third.key_id, new.key_id, old.key_id]
    jwks = keys.jwks(active=third.key_id)
    assert [k["status"] for k in jwks["keys"]] == ["active", "retired", "retired"]
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and "d" not in k for k in jwks["keys"])
    with pytest.raises(SigningKeyError, match="MKA_SIGNING_KEY"):
        rotate_signing_key(Settings(home=tmp_path, signing_key=third.pem().decode()))


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", vault_key=TEST_KEYRING.keys[0].decode())


def _job(store: SqlJobStore) -> str:
    job = store.submit(Brief.model_validate(brief_data(project=unique_project())))
    job = store.transition(job.id, JobState.VALIDATING, expected_version=job.version)
    store.transition(job.id, JobState.FAILED, expected_version=job.version,
                     error={"code": "agent_error", "message": "stopped"})
    return job.id


def test_every_stored_event_is_signed_at_its_sequence_and_an_edited_row_is_found(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = SqlJobStore.from_settings(settings)
    job_id = _job(store)
    keys = load_keyset(settings)
    messages = store.events(job_id)
    assert len(messages) == 3
    assert all(m.event.sequence == m.seq and m.headers["Mka-Signature"] == m.event.signature for m in messages)
    assert [check_stored(m, keys).status for m in messages] == ["verified"] * 3
    with store.engine.begin() as db:  # an operator with database access edits one row
        row = json.loads(db.execute(text("SELECT event FROM outbox WHERE seq = :s"), {"s": messages[1].seq}).scalar_one())
        row["payload"]["to_state"] = "completed"
        db.execute(text("UPDATE outbox SET event = :e WHERE seq = :s"), {"e": json.dumps(row), "s": messages[1].seq})
        # and moves a genuine signed event into another row's place
        event, headers, subject = db.execute(text("SELECT event, headers, subject FROM outbox WHERE seq = :s"),
                                             {"s": messages[0].seq}).one()
        db.execute(text("UPDATE outbox SET event = :e, headers = :h, subject = :j WHERE seq = :s"),
                   {"e": event, "h": headers, "j": subject, "s": messages[2].seq})
    statuses = [check_stored(m, keys).status for m in store.events(job_id)]
    assert statuses == ["verified", "bad signature", "sequence mismatch (moved or copied row)"]


def test_mka_events_verify_exits_0_then_1_naming_the_edited_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    from cluster.cli import app

    settings = _settings(tmp_path)
    monkeypatch.setenv("MKA_HOME", str(settings.home))
    monkeypatch.setenv("MKA_VAULT_KEY", TEST_KEYRING.keys[0].decode())
    store = SqlJobStore.from_settings(settings)
    job_id = _job(store)
    runner = CliRunner()
    ok = runner.invoke(app, ["events", "verify", job_id, "--json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.output)
    assert report["ok"] and report["events"] == report["verified"] == 3 and report["failed"] == []
    listing = runner.invoke(app, ["events", job_id, "--json"])  # the old form still lists the events
    assert listing.exit_code == 0 and [e["verification"] for e in json.loads(listing.output)] == ["verified"] * 3
    target = store.events(job_id)[2]
    with store.engine.begin() as db:
        row = json.loads(db.execute(text("SELECT event FROM outbox WHERE seq = :s"), {"s": target.seq}).scalar_one())
        row["occurred_at"] = "2020-01-01T00:00:00Z"
        db.execute(text("UPDATE outbox SET event = :e WHERE seq = :s"), {"e": json.dumps(row), "s": target.seq})
    bad = runner.invoke(app, ["events", "verify", job_id, "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert not report["ok"] and report["verified"] == 2
    assert report["failed"] == [{"id": target.event.id, "type": "job.state_changed", "sequence": target.seq,
                                 "status": "bad signature"}]
    human = runner.invoke(app, ["events", "verify", job_id])
    assert human.exit_code == 1 and target.event.id in human.output
    missing = runner.invoke(app, ["events", "verify", "no-such-job"])
    assert missing.exit_code == 2
    assert runner.invoke(app, ["events", "verify", job_id, "--source", "kafka"]).exit_code == 2
    assert runner.invoke(app, ["events", "verify", job_id, "--source", "nats"]).exit_code == 2  # no MKA_NATS_URL


def test_a_rotated_key_still_verifies_the_events_signed_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    from cluster.cli import app

    settings = _settings(tmp_path)
    monkeypatch.setenv("MKA_HOME", str(settings.home))
    monkeypatch.setenv("MKA_VAULT_KEY", TEST_KEYRING.keys[0].decode())
    before = _job(SqlJobStore.from_settings(settings))
    runner = CliRunner()
    rotated = runner.invoke(app, ["keys", "rotate-signing", "--json"])
    assert rotated.exit_code == 0, rotated.output
    new_key = json.loads(rotated.output)["key_id"]
    after = _job(SqlJobStore.from_settings(settings))
    store = SqlJobStore.from_settings(settings)
    assert {m.event.key_id for m in store.events(after)} == {new_key}
    assert new_key not in {m.event.key_id for m in store.events(before)}
    for job_id in (before, after):
        assert runner.invoke(app, ["events", "verify", job_id]).exit_code == 0
    exported = runner.invoke(app, ["keys", "export-public", "--json"])
    assert [k["kid"] for k in json.loads(exported.output)["keys"]][0] == new_key
    pem = runner.invoke(app, ["keys", "export-public"]).output
    assert pem.count("BEGIN PUBLIC KEY") == 2 and "PRIVATE" not in pem
    assert os.stat(settings.home / SIGNING_FILE).st_mode & 0o077 == 0


def test_actors_started_from_pinned_settings_sign_with_this_processs_key(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "driver")
    pinned = pin_signing_key(settings)
    assert pinned.signing_key is not None
    elsewhere = pinned.model_copy(update={"home": tmp_path / "other-node"})  # an actor on another machine
    assert load_signing_key(elsewhere).key_id == load_signing_key(settings).key_id
    assert not (tmp_path / "other-node" / SIGNING_FILE).exists()
    assert pin_signing_key(pinned) is pinned
