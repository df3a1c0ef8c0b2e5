"""The `mka retention` commands: the retention period of every data class, and applying them (the sweeper's run)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cluster.artifacts_cli import _fail, _parse_now, _print_json, print_sweep, run_sweep
from cluster.settings import load_settings
from schemas import MkaError
from schemas.artifacts import ArtifactKind
from schemas.lifecycle import CleanupRules

__all__ = ["retention_app", "retention_classes"]

retention_app = typer.Typer(help="Retention: how long each class of data is kept, and applying it.",
                            no_args_is_help=True)
_out = Console(soft_wrap=True)
_JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")

_REPORTS = (ArtifactKind.PDF, ArtifactKind.HTML, ArtifactKind.MARKDOWN, ArtifactKind.CHART)
_EXPORTS = (ArtifactKind.EXPORT, ArtifactKind.FIGMA_PLAN, ArtifactKind.FIGMA_PREVIEW)


def retention_classes(rules: CleanupRules, project: str) -> list[dict[str, Any]]:
    """Each data class of `project`: what it holds, its period in days (None: kept) and from when it counts."""
    def entry(name: str, holds: str, days: float | None, since: str, rule: str) -> dict[str, Any]:
        return {"class": name, "holds": holds, "days": days, "since": since, "rule": rule}

    pdf = rules.ttl(ArtifactKind.PDF, project)
    out = [
        entry("raw_brief_and_vault", "the brief as submitted (sealed) and the PII vault", rules.pii_days(project),
              "job end", "pii_retention_days"),
        entry("pseudonymized_brief", "the job row: pseudonymized brief, error, steps, idempotency key "
              "(then a tombstone: id, state, times)", rules.job_days(project), "job end, once no object is left",
              "job_retention_days"),
        entry("checkpoints", "step checkpoints: evidence, analysis answers, localization", rules.checkpoint_grace_days,
              "job end", "checkpoint_grace_days"),
        entry("merge_results", "the merge checkpoint (claims, disagreements)", pdf, "job end", "ttl_days.pdf"),
    ]
    out += [entry(f"reports.{k.value}", f"{k.value} reports", rules.ttl(k, project), "creation", f"ttl_days.{k.value}")
            for k in _REPORTS]
    out += [entry(f"exports.{k.value}", f"{k.value.replace('_', ' ')} deliverables", rules.ttl(k, project), "creation",
                  f"ttl_days.{k.value}") for k in _EXPORTS]
    out += [entry(f"inputs.{k.value}", f"{k.value.replace('_', ' ')}s", rules.ttl(k, project), "creation",
                  f"ttl_days.{k.value}")
            for k in (ArtifactKind.DOCUMENT, ArtifactKind.PROVIDERS_SCRIPT, ArtifactKind.TEMPLATE)]
    out += [
        entry("events", "outbox rows (relayed ones; all of them without a relay) and the JetStream stream's max_age",
              rules.event_days(project), "event time", "event_retention_days"),
        entry("spans", "the local span file (not per project)", rules.span_retention_days, "span end",
              "span_retention_days"),
    ]
    return out


@retention_app.command("show")
def show(project: str = typer.Option(None, "--project", help="This project's periods (its overrides applied)."),
         as_json: bool = _JSON) -> None:
    """Print how long each class of data is kept (days), from when, and which rule says so; a legal hold wins."""
    from cluster.bootstrap import build_rules

    settings = load_settings()
    try:
        rules = build_rules(settings)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    name = project or settings.default_project
    import re

    from schemas import InvalidInput
    from schemas.brief import PROJECT_PATTERN

    if not re.fullmatch(PROJECT_PATTERN, name):
        raise _fail(InvalidInput(f"--project {name!r} is not a project name"), as_json)
    classes = retention_classes(rules, name)
    if as_json:
        _print_json({"project": name, "overrides": name in rules.projects, "classes": classes,
                     "legal_hold": "a held artifact is kept whatever its period (mka artifacts hold/release)"})
        return
    table = Table("class", "days", "counted from", "rule", "holds")
    for c in classes:
        table.add_row(c["class"], "kept" if c["days"] is None else f"{c['days']:g}", c["since"], c["rule"], c["holds"])
    _out.print(f"project {name}{' (with overrides)' if name in rules.projects else ''}; "
               "a legal hold keeps an artifact whatever its period", highlight=False)
    from cluster.cli import _show  # natural width: nothing cut

    _show(table)


@retention_app.command("apply")
def apply(
    dry_run: bool = typer.Option(False, "--dry-run", help="Delete nothing; list what would be deleted."),
    now: str = typer.Option(None, "--now", help="Apply the periods as of this time (ISO 8601); default now."),
    as_json: bool = _JSON,
) -> None:
    """Apply every retention period once (the sweeper's run, as `mka artifacts gc`): objects, events, job rows, spans."""
    print_sweep(run_sweep(_parse_now(now, as_json), dry_run=dry_run, as_json=as_json), dry_run=dry_run, as_json=as_json)
