"""MKA_HOME is found like git finds `.git`, else the per-user data directory; `mka config` prints it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cluster.cli import app
from cluster.settings import Settings, default_home

pytestmark = pytest.mark.unit


def test_the_nearest_mka_directory_above_wins(tmp_path: Path) -> None:
    (tmp_path / ".mka").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert default_home(deep, {}) == tmp_path / ".mka"
    (tmp_path / "a" / ".mka").mkdir()
    assert default_home(deep, {}) == tmp_path / "a" / ".mka"


def test_without_a_marker_the_per_user_directory(tmp_path: Path) -> None:
    assert default_home(tmp_path, {"XDG_DATA_HOME": str(tmp_path / "data")}) == tmp_path / "data" / "mka"
    assert default_home(tmp_path, {}) == Path.home() / ".local" / "share" / "mka"


def test_mka_home_wins_and_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MKA_HOME", "rel-home")
    assert Settings().home == tmp_path / "rel-home"


def test_mka_config_prints_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MKA_HOME", raising=False)
    (tmp_path / ".mka").mkdir()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    result = CliRunner().invoke(app, ["config", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["home"] == str(tmp_path / ".mka")
