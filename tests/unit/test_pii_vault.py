"""The PII vault: stable placeholders, JSON round trip, job-bound sealing, master keys, the key check, rotation."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from typer.testing import CliRunner

from actors.pii import (
    Keyring, RotationResult, SealError, Vault, VaultError, VaultKeyError, load_keyring, reseal_jobs, rotate_key,
)
from actors.pii.keys import MAGIC, key_id
from actors.pii.vault import add_key
from cluster.cli import app
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore

pytestmark = pytest.mark.unit


def filled_vault() -> Vault:
    vault = Vault()
    vault.placeholder_for("Maria Keller", "PERSON")
    vault.placeholder_for("ann@example.com", "EMAIL_ADDRESS")
    vault.placeholder_for("Hans Müller", "PERSON")
    vault.placeholder_for("+49 170 1234567", "PHONE_NUMBER")
    return vault


def test_placeholders_are_numbered_per_type_and_stable() -> None:
    vault = filled_vault()
    assert vault.placeholders() == {
        "<PERSON_1>": "PERSON",
        "<EMAIL_ADDRESS_1>": "EMAIL_ADDRESS",
        "<PERSON_2>": "PERSON",
        "<PHONE_NUMBER_1>": "PHONE_NUMBER",
    }
    assert vault.placeholder_for("  maria   KELLER ", "PERSON") == "<PERSON_1>"
    assert vault.placeholder_for("+491701234567", "PHONE_NUMBER") == "<PHONE_NUMBER_1>"
    assert vault.lookup("MARIA KELLER") == "<PERSON_1>"
    assert vault.lookup("Nobody") is None
    assert len(vault) == 4


def test_values_hold_every_surface_form() -> None:
    vault = filled_vault()
    vault.placeholder_for("MARIA KELLER", "PERSON")
    assert {"Maria Keller", "MARIA KELLER", "ann@example.com"} <= vault.values()


def test_reidentify_restores_first_seen_values() -> None:
    vault = filled_vault()
    text = "<PERSON_2> wrote to <PERSON_1> (<EMAIL_ADDRESS_1>); <PERSON_9> is unknown"
    assert vault.reidentify(text) == "Hans Müller wrote to Maria Keller (ann@example.com); <PERSON_9> is unknown"


def test_json_round_trip_keeps_mapping_and_counters() -> None:
    vault = filled_vault()
    again = Vault.from_json(vault.to_json())
    assert again.placeholders() == vault.placeholders()
    assert again.values() == vault.values()
    assert again.placeholder_for("maria keller", "PERSON") == "<PERSON_1>"
    assert again.placeholder_for("Giulia Rossi", "PERSON") == "<PERSON_3>"


@pytest.mark.parametrize("doc", ["not json", '{"format": 99, "entries": []}', '{"format": 1, "entries": [{"x": 1}]}'])
def test_foreign_documents_are_rejected(doc: str) -> None:
    with pytest.raises(VaultError):
        Vault.from_json(doc)


def test_sealing_round_trip_and_wrong_key() -> None:
    vault, ring = filled_vault(), Keyring([Keyring.generate()])
    token = vault.encrypt(ring, "job-a")
    assert b"Maria" not in token and token.startswith(MAGIC)
    assert Vault.decrypt(token, ring, "job-a").values() == vault.values()
    with pytest.raises(VaultError, match="does not hold"):
        Vault.decrypt(token, Keyring([Keyring.generate()]), "job-a")


def test_a_vault_is_bound_to_its_job() -> None:
    ring = Keyring([Keyring.generate()])
    token = filled_vault().encrypt(ring, "job-a")
    with pytest.raises(VaultError, match="another job's blob"):
        Vault.decrypt(token, ring, "job-b")
    assert ring.job_key("job-a") != ring.job_key("job-b")


@pytest.mark.parametrize("where", [-1, -20, len(MAGIC) + 3, len(MAGIC) + 10])  # tag, ciphertext, key id, nonce
def test_a_tampered_vault_does_not_open(where: int) -> None:
    ring = Keyring([Keyring.generate()])
    token = bytearray(filled_vault().encrypt(ring, "job-a"))
    token[where] ^= 0x01
    with pytest.raises(VaultError):
        Vault.decrypt(bytes(token), ring, "job-a")


def test_a_seal_is_bound_to_its_purpose() -> None:
    ring = Keyring([Keyring.generate()])
    sealed = ring.seal("job-a", b"raw brief", purpose="raw_brief")
    assert ring.open("job-a", sealed, purpose="raw_brief") == b"raw brief"
    with pytest.raises(SealError):
        ring.open("job-a", sealed, purpose="vault")
    with pytest.raises(VaultError):
        Vault.decrypt(sealed, ring, "job-a")  # a vault opens with purpose "vault" only
    with pytest.raises(SealError):  # a legacy Fernet token is accepted for the vault only
        ring.open("job-a", Fernet(ring.primary).encrypt(b"x"), purpose="raw_brief")


def test_a_legacy_fernet_vault_still_opens_and_rotates() -> None:
    old = Keyring.generate()
    legacy = Fernet(old).encrypt(filled_vault().to_json().encode())  # how vaults were stored before
    ring = Keyring([old])
    assert Vault.decrypt(legacy, ring, "any-job").values() == filled_vault().values()
    assert ring.needs_rotation(legacy)
    resealed = ring.rotate("job-a", legacy)
    assert not ring.needs_rotation(resealed)
    assert Vault.decrypt(resealed, ring, "job-a").values() == filled_vault().values()


def test_rotation_keeps_old_blobs_open_and_lets_the_old_key_go() -> None:
    old_key, new_key = Keyring.generate(), Keyring.generate()
    old_blob = filled_vault().encrypt(Keyring([old_key]), "job-a")
    ring = Keyring([new_key, old_key])
    assert Vault.decrypt(old_blob, ring, "job-a").values() == filled_vault().values()  # still opens
    assert ring.needs_rotation(old_blob)
    resealed = ring.rotate("job-a", old_blob)
    assert resealed[len(MAGIC) : len(MAGIC) + 8] == key_id(new_key) and not ring.needs_rotation(resealed)
    assert Vault.decrypt(resealed, Keyring([new_key]), "job-a").values() == filled_vault().values()
    with pytest.raises(VaultError):
        Vault.decrypt(old_blob, Keyring([new_key]), "job-a")


# --- master keys: MKA_VAULT_KEY, the key file, the key check -------------------------------------


def test_keys_come_from_settings_when_set(tmp_path: Path) -> None:
    new, old = Keyring.generate(), Keyring.generate()
    ring = load_keyring(Settings(home=tmp_path, vault_key=SecretStr(f"{new.decode()}, {old.decode()}")))
    assert ring.keys == (new, old)
    assert not (tmp_path / "vault.key").exists()
    with pytest.raises(VaultKeyError, match="MKA_VAULT_KEY"):
        load_keyring(Settings(home=tmp_path / "other", vault_key=SecretStr("not-a-key")))


def test_key_file_is_generated_once_with_owner_only_mode(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = load_keyring(settings)
    path = tmp_path / "home" / "vault.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(settings).keys == first.keys and len(first.keys) == 1
    Fernet(first.primary)  # a valid key
    assert sorted(p.name for p in path.parent.iterdir()) == ["vault.key", "vault.keycheck"]  # no temp file left


def test_key_file_holds_one_key_per_line_newest_first(tmp_path: Path) -> None:
    new, old = Keyring.generate(), Keyring.generate()
    (tmp_path / "vault.key").write_bytes(b"\n".join([new, old, b""]))
    assert load_keyring(Settings(home=tmp_path)).keys == (new, old)


def test_a_lost_key_file_with_a_key_check_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    load_keyring(settings)
    (tmp_path / "vault.key").unlink()
    with pytest.raises(VaultKeyError, match="no vault key.*Restore vault.key") as info:
        load_keyring(settings)
    assert info.value.retryable is False
    assert not (tmp_path / "vault.key").exists()  # never a silent new key


def test_a_lost_key_file_with_stored_vaults_is_a_clear_error(tmp_path: Path) -> None:
    """Vaults from before the key check existed count too (filesystem object store)."""
    settings = Settings(home=tmp_path)
    FsObjectStore(settings.artifacts_dir).put(
        "jobs/job-a/vault.bin", Fernet(Fernet.generate_key()).encrypt(b"{}"), content_type="application/octet-stream"
    )
    with pytest.raises(VaultKeyError, match="jobs/job-a/vault.bin"):
        load_keyring(settings)
    assert not (tmp_path / "vault.key").exists()


def test_a_wrong_key_does_not_open_the_key_check(tmp_path: Path) -> None:
    load_keyring(Settings(home=tmp_path))
    other = Settings(home=tmp_path, vault_key=SecretStr(Keyring.generate().decode()))
    with pytest.raises(VaultKeyError, match="do not open .*vault.keycheck"):
        load_keyring(other)


def test_first_key_check_opens_a_stored_vault_before_it_is_written(tmp_path: Path) -> None:
    key = Keyring.generate()
    settings = Settings(home=tmp_path, vault_key=SecretStr(key.decode()))
    objects = FsObjectStore(settings.artifacts_dir)
    objects.put("jobs/job-a/vault.bin", Fernet(key).encrypt(filled_vault().to_json().encode()),
                content_type="application/octet-stream")  # an upgrade: a legacy vault, no key check yet
    wrong = Settings(home=tmp_path, vault_key=SecretStr(Keyring.generate().decode()))
    with pytest.raises(VaultKeyError, match="stored vault"):
        load_keyring(wrong)
    assert not (tmp_path / "vault.keycheck").exists()
    assert load_keyring(settings).keys == (key,)
    assert (tmp_path / "vault.keycheck").exists()


# --- rotation --------------------------------------------------------------------------------------


def _job_with_vault(settings: Settings, make_brief, keyring: Keyring) -> tuple[SqlJobStore, FsObjectStore, str]:  # type: ignore[no-untyped-def]
    store, objects = SqlJobStore.from_settings(settings), FsObjectStore(settings.artifacts_dir)
    job_id = store.submit(make_brief()).id
    objects.put(f"jobs/{job_id}/vault.bin", filled_vault().encrypt(keyring, job_id),
                content_type="application/octet-stream", metadata={"retention-until": "2031-01-01T00:00:00+00:00"})
    return store, objects, job_id


def test_rotate_key_reseals_vaults_and_raw_briefs(tmp_path: Path, make_brief) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path)
    old = load_keyring(settings)
    store, objects, job_id = _job_with_vault(settings, make_brief, old)
    no_vault = store.submit(make_brief()).id  # a job with a sealed raw brief only
    store.purge_raw_brief(no_vault)  # ... and then none

    result = rotate_key(settings, store, objects)
    ring = load_keyring(settings)
    assert ring.keys[1:] == old.keys and result.key_id == ring.primary_id != old.primary_id
    assert (result.rotated, result.unchanged, result.failed) == (2, 0, ())  # the vault and the raw brief
    new_only = Keyring([ring.primary])
    assert Vault.decrypt(objects.get(f"jobs/{job_id}/vault.bin"), new_only, job_id).values() == filled_vault().values()
    assert new_only.open(job_id, store.sealed_brief(job_id) or b"", purpose="raw_brief")
    assert objects.stat(f"jobs/{job_id}/vault.bin").metadata == {"retention-until": "2031-01-01T00:00:00+00:00"}

    (tmp_path / "vault.key").write_bytes(ring.primary + b"\n")  # the old key can go now
    assert load_keyring(settings).keys == (ring.primary,)
    assert reseal_jobs(store, objects, load_keyring(settings)) == RotationResult(
        rotated=0, unchanged=2, key_id=ring.primary_id
    )


def test_the_key_check_keeps_the_old_key_required_until_every_blob_is_resealed(tmp_path: Path, make_brief) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path)
    old = load_keyring(settings)
    store, objects, job_id = _job_with_vault(settings, make_brief, old)
    other = store.submit(make_brief()).id
    objects.put(f"jobs/{other}/vault.bin", filled_vault().encrypt(Keyring([Keyring.generate()]), other),
                content_type="application/octet-stream")  # sealed under a key nobody holds

    result = rotate_key(settings, store, objects)
    assert result.rotated == 3 and result.failed == (f"jobs/{other}/vault.bin",)  # 1 vault, 2 raw briefs
    new = load_keyring(settings).primary
    (tmp_path / "vault.key").write_bytes(new + b"\n")  # dropping the old key too early
    with pytest.raises(VaultKeyError, match="do not open"):
        load_keyring(settings)


def test_rotate_key_refuses_keys_from_the_environment(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, vault_key=SecretStr(Keyring.generate().decode()))
    with pytest.raises(VaultKeyError, match="prepend a new key.*--reseal-only"):
        add_key(settings)


def test_reseal_only_after_prepending_a_key_to_the_environment(tmp_path: Path, make_brief) -> None:  # type: ignore[no-untyped-def]
    old, new = Keyring.generate(), Keyring.generate()
    before = Settings(home=tmp_path, vault_key=SecretStr(old.decode()))
    store, objects, job_id = _job_with_vault(before, make_brief, load_keyring(before))
    after = Settings(home=tmp_path, vault_key=SecretStr(f"{new.decode()},{old.decode()}"))
    result = rotate_key(after, store, objects, new_key=False)
    assert (result.rotated, result.key_id) == (2, key_id(new).hex())  # the vault and the raw brief
    only_new = Settings(home=tmp_path, vault_key=SecretStr(new.decode()))
    assert Vault.decrypt(objects.get(f"jobs/{job_id}/vault.bin"), load_keyring(only_new), job_id)


def test_mka_pii_rotate_key_json(tmp_path: Path, make_brief, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("MKA_VAULT_KEY", "MKA_DATABASE_URL", "MKA_S3_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKA_HOME", str(tmp_path))
    settings = Settings(home=tmp_path)
    old = load_keyring(settings)
    _, objects, job_id = _job_with_vault(settings, make_brief, old)

    result = CliRunner().invoke(app, ["pii", "rotate-key", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    ring = load_keyring(settings)
    assert data == {"rotated": 2, "unchanged": 0, "key_id": ring.primary_id}  # the vault and the raw brief
    assert ring.keys[1:] == old.keys
    assert not ring.needs_rotation(objects.get(f"jobs/{job_id}/vault.bin"))

    monkeypatch.setenv("MKA_VAULT_KEY", ",".join(k.decode() for k in ring.keys))
    refused = CliRunner().invoke(app, ["pii", "rotate-key", "--json"])
    assert refused.exit_code == 2 and json.loads(refused.stdout)["error"]["code"] == "vault_key_error"
    again = CliRunner().invoke(app, ["pii", "rotate-key", "--reseal-only", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["unchanged"] == 2


def test_names_match_across_separators_numbers_across_formatting() -> None:
    vault = filled_vault()
    assert vault.placeholder_for("MARIA-KELLER", "PERSON") == "<PERSON_1>"
    assert vault.lookup("maria.keller") == "<PERSON_1>"
    assert vault.placeholder_for("0049-170-1234567", "PHONE_NUMBER") != "<PHONE_NUMBER_1>"  # another number
    assert vault.placeholder_for("+49 (170) 123-4567", "PHONE_NUMBER") == "<PHONE_NUMBER_1>"
    assert ("MARIA-KELLER", "PERSON") in vault.entries()
