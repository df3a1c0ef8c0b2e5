"""MKA_HOME is found like git finds `.git`, else the per-user data directory; `mka config` prints it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cluster.cli import app
from cluster.settings import PROVIDER_DEFAULTS, Settings, default_home

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


def test_provider_settings_nest_and_keep_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MKA_LLM__OPENAI__MODEL", "gpt-nested")
    monkeypatch.setenv("MKA_LLM__GEMINI__API_KEY", "gm-nested-key")
    settings = Settings()
    assert settings.provider("openai").model == "gpt-nested"
    assert settings.provider("openai").price_input_per_1k == PROVIDER_DEFAULTS["openai"].price_input_per_1k
    gemini = settings.provider("gemini")
    assert gemini.api_key is not None and gemini.api_key.get_secret_value() == "gm-nested-key"
    assert gemini.model == PROVIDER_DEFAULTS["gemini"].model and settings.provider("xai") == PROVIDER_DEFAULTS["xai"]
    assert settings.masked()["llm"]["gemini"]["api_key"] == "****"


def test_old_flat_variables_still_work_with_a_deprecation_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MKA_XAI_MODEL", "grok-old")
    monkeypatch.setenv("XAI_API_KEY", "xai-vendor-key")  # the vendor's own variable is not deprecated
    with pytest.warns(DeprecationWarning, match=r"MKA_XAI_MODEL: deprecated, use MKA_LLM__<PROVIDER>__<FIELD>") as seen:
        settings = Settings()
    assert "XAI_API_KEY" not in str(seen[0].message)
    assert settings.provider("xai").model == "grok-old"
    assert settings.provider("xai").api_key.get_secret_value() == "xai-vendor-key"  # type: ignore[union-attr]
    monkeypatch.setenv("MKA_LLM__XAI__API_KEY", "xai-nested-key")  # another nested field keeps the flat model
    with pytest.warns(DeprecationWarning):
        both = Settings().provider("xai")
    assert both.model == "grok-old" and both.api_key.get_secret_value() == "xai-nested-key"  # type: ignore[union-attr]
    monkeypatch.setenv("MKA_LLM__XAI__MODEL", "grok-new")  # the nested variable wins
    with pytest.warns(DeprecationWarning):
        assert Settings().provider("xai").model == "grok-new"
