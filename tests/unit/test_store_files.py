"""What the embedded default writes under MKA_HOME only its user may read; database errors never show bound values."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from cluster.db import make_engine
from cluster.objects import FsObjectStore
from cluster.private_files import private_file
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from cluster.tracing._export import JsonlSpanExporter
from schemas import Brief
from tests.conftest import TEST_KEYRING, brief_data

pytestmark = pytest.mark.unit

EMAIL = "sabine.fischer@example.org"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _open_umask():  # type: ignore[no-untyped-def]
    """A umask that would leave files world-readable: the modes must not depend on it."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_sqlite_database_and_its_wal_are_0600_in_a_0700_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    engine = make_engine(f"sqlite:///{home / 'mka.db'}")
    SqlJobStore(engine, keyring=TEST_KEYRING).submit(Brief.model_validate(brief_data()))
    files = sorted(home.glob("mka.db*"))
    assert {p.name for p in files} >= {"mka.db", "mka.db-wal", "mka.db-shm"}
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert mode(home) == 0o700
    engine.dispose()


def test_a_database_file_made_before_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "mka.db"
    db.touch(mode=0o644)
    (tmp_path / "mka.db-wal").touch(mode=0o644)
    os.chmod(db, 0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert mode(db) == 0o600 and mode(tmp_path / "mka.db-wal") == 0o600


def test_span_file_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "home" / "spans.jsonl"
    JsonlSpanExporter(path).export([])
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_object_store_tree_is_0700_with_0600_files(tmp_path: Path) -> None:
    root = tmp_path / "home" / "artifacts"
    FsObjectStore(root).put("jobs/j1/steps/redact.json", b"{}", content_type="application/json", metadata={"a": "b"})
    paths = [root, *root.rglob("*")]
    dirs = {str(p.relative_to(tmp_path)): mode(p) for p in paths if p.is_dir()}
    files = {str(p.relative_to(tmp_path)): mode(p) for p in paths if p.is_file()}
    assert len(files) == 2 and "home/artifacts/.mka-meta/jobs/j1/steps/redact.json.json" in files  # the object and its sidecar
    assert dirs == dict.fromkeys(dirs, 0o700) and files == dict.fromkeys(files, 0o600)


def test_vault_key_file_is_0600(tmp_path: Path) -> None:
    from actors.pii.vault import KEY_FILE, load_keyring

    load_keyring(Settings(home=tmp_path / "home", vault_key=None))
    assert mode(tmp_path / "home" / KEY_FILE) == 0o600


def test_private_file_keeps_an_existing_file_and_its_content(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("kept")
    os.chmod(path, 0o664)
    private_file(path)
    assert path.read_text() == "kept" and mode(path) == 0o600


# --- hide_parameters ------------------------------------------------------------------------------


def test_database_errors_do_not_show_bound_values(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'mka.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE people (email TEXT PRIMARY KEY)"))
        conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": EMAIL})
    with pytest.raises(IntegrityError) as integrity, engine.begin() as conn:
        conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": EMAIL})
    with pytest.raises(OperationalError) as operational, engine.begin() as conn:
        conn.execute(text("SELECT * FROM nobody WHERE email = :email"), {"email": EMAIL})
    for exc in (integrity.value, operational.value):
        assert EMAIL not in str(exc) and "hide_parameters" in str(exc)
    engine.dispose()
