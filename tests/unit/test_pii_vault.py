"""The PII vault: stable placeholders, JSON round trip, Fernet encryption, the key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from actors.pii import Vault, VaultError, load_vault_key
from cluster.settings import Settings

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


def test_encryption_round_trip_and_wrong_key() -> None:
    vault, key = filled_vault(), Fernet.generate_key()
    token = vault.encrypt(key)
    assert b"Maria" not in token
    assert Vault.decrypt(token, key).values() == vault.values()
    with pytest.raises(VaultError):
        Vault.decrypt(token, Fernet.generate_key())
    with pytest.raises(VaultError):
        Vault.decrypt(token[:-4] + b"AAAA", key)


def test_key_comes_from_settings_when_set(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    settings = Settings(home=tmp_path, vault_key=SecretStr(key.decode()))
    assert load_vault_key(settings) == key
    assert not (tmp_path / "vault.key").exists()
    with pytest.raises(VaultError):
        load_vault_key(Settings(home=tmp_path, vault_key=SecretStr("not-a-key")))


def test_key_is_generated_once_with_owner_only_mode(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = load_vault_key(settings)
    path = tmp_path / "home" / "vault.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_vault_key(settings) == first
    Fernet(first)  # a valid key
    assert [p.name for p in path.parent.iterdir()] == ["vault.key"]  # no temp file left


def test_names_match_across_separators_numbers_across_formatting() -> None:
    vault = filled_vault()
    assert vault.placeholder_for("MARIA-KELLER", "PERSON") == "<PERSON_1>"
    assert vault.lookup("maria.keller") == "<PERSON_1>"
    assert vault.placeholder_for("0049-170-1234567", "PHONE_NUMBER") != "<PHONE_NUMBER_1>"  # another number
    assert vault.placeholder_for("+49 (170) 123-4567", "PHONE_NUMBER") == "<PHONE_NUMBER_1>"
    assert ("MARIA-KELLER", "PERSON") in vault.entries()
