"""`mka doctor`: which LLM providers are configured, keys (masked), endpoints reachable, models offered, advice.

Each provider is checked the way the pipeline will use it: the same settings, the same SDK agent,
and a model listing call (`GET /v1/models`, Gemini `models.list`, xAI `ListLanguageModels`) as the
probe. Keys never leave this process unmasked, nor do credentials in endpoints or in the providers' error texts;
nothing is sent but the listing request.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from actors.llm import build_llm_agent, mask_key, provider_config
from actors.llm.config import KEY_ENV_VARS
from cluster.secrets import mask_secrets
from cluster.settings import Settings, load_settings

__all__ = ["check_providers", "doctor_command"]

_DEFAULT_ENDPOINTS = {"openai": "https://api.openai.com/v1", "gemini": "https://generativelanguage.googleapis.com",
                      "xai": "api.x.ai:443 (gRPC, TLS)"}


def _key_source(provider: str) -> str | None:
    """The environment variable the key came from (None when it came from elsewhere or is absent)."""
    names = (f"MKA_LLM__{provider.upper()}__API_KEY", f"MKA_{provider.upper()}_API_KEY", *KEY_ENV_VARS.get(provider, ()))
    return next((n for n in names if os.environ.get(n)), None)


def _advice(provider: str, kind: str, settings: Settings, models: list[str]) -> str:
    env = provider_config(settings, provider).key_env
    upper = provider.upper()
    model = settings.provider(provider).model
    if kind == "not_configured":
        extra = " or OPENAI_BASE_URL for an OpenAI-compatible server (Ollama, vLLM)" if provider == "openai" else ""
        return f"set {env}{extra}; until then the provider is reported as not configured in every job"
    if kind == "auth":
        return f"the provider rejected the key: check {env} (revoked, expired, another project's or another provider's key)"
    if kind in ("model_not_found", "model_not_listed"):
        offer = ", ".join(models[:8]) + (" …" if len(models) > 8 else "")
        return f"{model!r} is not offered here: set MKA_LLM__{upper}__MODEL to one the provider lists" + (f" ({offer})" if offer else "")
    if kind == "unreachable":
        return f"cannot reach the endpoint: check network, proxy and firewall, or MKA_LLM__{upper}__BASE_URL"
    if kind == "rate_limit":
        return "already rate limited: wait, lower concurrency, or raise the quota with the provider"
    if kind == "timeout":
        return f"the endpoint is slow to answer: check it, or raise MKA_LLM__{upper}__TIMEOUT_S"
    return "the provider failed: try again later; if it persists, check its status page"


async def _check(settings: Settings, provider: str, *, probe: bool, timeout_s: float) -> dict[str, Any]:
    config = provider_config(settings, provider)
    row: dict[str, Any] = {
        "provider": provider,
        "mode": "stub" if settings.use_stubs else "sdk" if config.configured else "not_configured",
        "model": config.model,
        "endpoint": config.base_url or _DEFAULT_ENDPOINTS.get(provider, ""),
        "key_present": bool(config.api_key),
        "key": mask_key(config.api_key),
        "key_source": _key_source(provider) if config.api_key else None,
        "reachable": None,
        "model_listed": None,
        "models": [],
        "problems": [],
    }
    if not config.configured:
        if not settings.use_stubs:
            row["problems"].append({"kind": "not_configured", "advice": _advice(provider, "not_configured", settings, [])})
        return row
    agent = build_llm_agent(settings.model_copy(update={"use_stubs": False}), provider)
    if not probe or agent is None or not hasattr(agent, "probe"):
        return row
    try:
        result = await agent.probe(timeout_s=timeout_s)
    finally:
        await agent.aclose()  # type: ignore[attr-defined]
    row["reachable"] = result.reachable
    row["models"] = result.models
    if result.error is not None:
        kind = result.error.kind if result.reachable else "unreachable"
        row["error"] = f"{result.error.kind}: {result.error.message}"
        row["problems"].append({"kind": kind, "advice": _advice(provider, kind, settings, [])})
    else:
        row["model_listed"] = config.model in result.models
        if not row["model_listed"]:
            advice = _advice(provider, "model_not_listed", settings, result.models)
            row["problems"].append({"kind": "model_not_listed", "advice": advice})
    return row


def check_providers(settings: Settings, *, probe: bool = True, timeout_s: float = 10.0) -> dict[str, Any]:
    """Check every configured provider (concurrently); `ok` is false when a provider the pipeline uses has a problem.

    Everything in the report is masked (`mask_secrets`): the endpoints, the errors, the keys (last four characters).
    """

    async def run() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(_check(settings, p, probe=probe, timeout_s=timeout_s) for p in settings.providers)))

    rows = asyncio.run(run())
    in_use = [r for r in rows if r["mode"] != "stub"]
    notes = []
    if settings.use_stubs:
        notes.append("MKA_USE_STUBS is on: jobs use the offline stub providers; set MKA_USE_STUBS=false to use the "
                     "providers below (each needs its key)")
    report = {"use_stubs": settings.use_stubs, "ok": not any(r["problems"] for r in in_use), "providers": rows,
              "notes": notes}
    return mask_secrets(report)  # endpoints and provider errors may quote a URL's credentials or `?key=`


def doctor_command(as_json: bool) -> int:
    """Print the provider check (table or JSON); return the exit code: 0 when every provider in use is healthy."""
    report = check_providers(load_settings())
    if as_json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return 0 if report["ok"] else 1
    from rich.console import Console
    from rich.table import Table

    out = Console()
    table = Table("provider", "mode", "model", "endpoint", "key", "reachable", "model listed", title="LLM providers")
    for r in report["providers"]:
        key = f"{r['key']} ({r['key_source']})" if r["key_source"] else r["key"] or "—"
        table.add_row(r["provider"], r["mode"], r["model"], r["endpoint"], key, _yes_no(r["reachable"]), _yes_no(r["model_listed"]))
    out.print(table)
    for note in report["notes"]:
        out.print(f"[yellow]note:[/yellow] {note}")
    for r in report["providers"]:
        for problem in r["problems"]:
            colour = "red" if r["mode"] != "stub" else "yellow"
            out.print(f"[{colour}]{r['provider']}: {problem['kind']}[/{colour}] — {problem['advice']}")
    out.print("[green]all providers in use are healthy[/green]" if report["ok"] else "[red]some providers need attention[/red]")
    return 0 if report["ok"] else 1


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else "yes" if value else "no"
