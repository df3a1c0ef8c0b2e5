"""Quorum rules with classified provider outcomes, the cost budget plan, and the doctor's offline checks."""

from __future__ import annotations

import pytest

from actors.quorum import decide_quorum, error_kind, outcome_summary, plan_budget
from cluster.doctor import check_providers
from cluster.settings import Settings
from schemas import Claim, ModelAnswer, ProviderError, Usage

pytestmark = pytest.mark.unit


def _ok(provider: str, cost: float = 0.01) -> ModelAnswer:
    return ModelAnswer(provider=provider, model=f"{provider}-m", status="ok", latency_s=0.5,
                       claims=[Claim(id=f"{provider}-c1", text="x", evidence_ids=["e"])], usage=Usage(tokens=100, cost=cost))


def _err(provider: str, error: str, status: str = "error") -> ModelAnswer:
    return ModelAnswer(provider=provider, model=f"{provider}-m", status=status, error=error, latency_s=0.1,  # type: ignore[arg-type]
                       usage=Usage(tokens=10, cost=0.001))


def test_error_kinds_from_answers_and_fan_out_reasons() -> None:
    assert error_kind(_ok("openai")) is None
    assert error_kind(_err("openai", "rate_limit: gave up")) == "rate_limit"
    assert error_kind(_err("openai", "not_configured: no API key")) == "not_configured"
    assert error_kind(_err("openai", "budget: over")) == "budget"
    assert error_kind(_err("openai", "weird failure")) == "error"
    assert error_kind(None, "not configured") == "not_configured"
    assert error_kind(None, "skipped: its estimated $1 would exceed") == "budget"
    assert error_kind(None, "cancelled: no answer within the 10s deadline plus 1s grace after quorum") == "cancelled"
    assert error_kind(None, "no answer by the 10s deadline") == "timeout"
    assert error_kind(None, "agent actor died during the call") == "actor_died"


def test_decision_carries_kind_model_tokens_and_cost_per_provider() -> None:
    decision = decide_quorum(
        providers=["openai", "gemini", "xai", "extra"],
        answers={"openai": _ok("openai"), "gemini": _err("gemini", "content_filter: blocked"),
                 "xai": _err("xai", "not_configured: no XAI_API_KEY")},
        missing_reasons={"extra": "skipped: its estimated $0.1 would exceed the $0.05 left"},
        required=3, deadline_s=10, grace_s=1, waited_s=0.5, cost_budget_usd=0.2,
    )
    rows = {p.provider: p for p in decision.providers}
    assert rows["openai"].status == "ok" and rows["openai"].cost == 0.01 and rows["openai"].model == "openai-m"
    assert rows["gemini"].status == "error" and rows["gemini"].error_kind == "content_filter" and rows["gemini"].tokens == 10
    assert rows["xai"].status == "not_configured" and rows["xai"].error_kind == "not_configured"
    assert rows["extra"].status == "skipped" and rows["extra"].error_kind == "budget"
    assert decision.cost_usd == pytest.approx(0.012) and decision.cost_budget_usd == 0.2
    assert not decision.met and decision.degraded
    assert outcome_summary(decision) == (
        "quorum not met (1 of 4 answered, 3 required): openai=ok gemini=content_filter xai=not_configured extra=budget"
    )


def test_budget_plan_asks_in_order_until_the_budget_would_be_exceeded() -> None:
    allowances, skipped = plan_budget(["openai", "gemini", "xai"], {"openai": 0.01, "gemini": 0.02, "xai": 0.01}, 0.065)
    assert allowances == {"openai": 0.02, "gemini": 0.04}
    assert list(skipped) == ["xai"] and "$0.0050 left" in skipped["xai"]
    free, none_skipped = plan_budget(["openai", "gemini"], {"openai": 0.0, "gemini": 0.0}, 0.0)
    assert free == {"openai": 0.0, "gemini": 0.0} and not none_skipped


def test_new_provider_error_kinds_are_final() -> None:
    assert ProviderError("model_not_found").retryable is False
    assert ProviderError("content_filter").retryable is False
    assert ProviderError("rate_limit", retry_after_s=2).to_dict()["retry_after_s"] == 2
    assert set(ProviderError.KINDS) >= {"auth", "model_not_found", "content_filter", "rate_limit", "timeout", "server_error", "bad_output"}


def test_doctor_in_stub_mode_is_healthy_without_keys() -> None:
    report = check_providers(Settings(use_stubs=True, openai_api_key=None, gemini_api_key=None, xai_api_key=None,
                                      openai_base_url=None), probe=False)
    assert report["ok"] and report["use_stubs"] and "MKA_USE_STUBS" in report["notes"][0]
    assert {r["mode"] for r in report["providers"]} == {"stub"}


def test_doctor_reports_missing_keys_with_advice_when_stubs_are_off() -> None:
    report = check_providers(Settings(use_stubs=False, openai_api_key="sk-live-key-0000001234", gemini_api_key=None,
                                      xai_api_key=None, openai_base_url=None), probe=False)
    assert not report["ok"]
    rows = {r["provider"]: r for r in report["providers"]}
    assert rows["openai"]["mode"] == "sdk" and rows["openai"]["key"] == "****1234" and not rows["openai"]["problems"]
    assert rows["gemini"]["problems"][0]["kind"] == "not_configured" and "GEMINI_API_KEY" in rows["gemini"]["problems"][0]["advice"]
    assert "sk-live-key" not in str(report)
