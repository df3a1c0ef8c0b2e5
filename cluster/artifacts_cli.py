"""The `mka artifacts` commands: list and show catalog rows, sweep them (gc), hold and release, verify stored bytes."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any

import typer
from rich.console import Console
from rich.table import Column, Table

from cluster.secrets import mask_secrets
from cluster.settings import load_settings
from schemas import ArtifactKind, MkaError

__all__ = ["artifacts_app"]

artifacts_app = typer.Typer(
    help="The catalog of every stored object: list, show, gc (the cleanup rules), hold/release, verify.",
    no_args_is_help=True,
)

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)
_JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _fail(exc: MkaError, as_json: bool, code: int = 2) -> typer.Exit:
    if as_json:  # an error may quote a URL with credentials: masked
        _print_json({"error": mask_secrets(exc.to_dict())})
    else:
        _err.print(f"[red]error:[/red] {mask_secrets(exc.message)}", highlight=False)
    return typer.Exit(code)


def _ports() -> tuple[Any, Any]:
    from cluster.bootstrap import build_objects, build_store

    settings = load_settings()
    return build_store(settings), build_objects(settings)


def _resolve(store: Any, artifact_id: str) -> str:
    """The full id of `artifact_id`, which may be a unique prefix of 6 or more characters (as `list` shows them)."""
    from schemas import ArtifactNotFound, InvalidInput

    try:
        return str(store.get_artifact(artifact_id).id)
    except ArtifactNotFound:
        if len(artifact_id) < 6:
            raise
    found = [a.id for a in store.catalog(include_deleted=True) if a.id.startswith(artifact_id)]
    if len(found) > 1:
        raise InvalidInput(f"{artifact_id!r} is the start of {len(found)} artifact ids: give more of it")
    if not found:
        raise ArtifactNotFound(f"no artifact {artifact_id}")
    return found[0]


def _row(artifact: Any) -> dict[str, Any]:
    return artifact.model_dump(mode="json")


def _parse_now(now: str | None, as_json: bool) -> datetime:
    from schemas import InvalidInput

    if not now:
        return datetime.now(timezone.utc)
    try:
        at = datetime.fromisoformat(now)
    except ValueError:
        raise _fail(InvalidInput(f"--now {now!r} is not an ISO 8601 time"), as_json) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)  # a time without zone is UTC


@artifacts_app.command("list")
def artifacts_list(
    job: str = typer.Option(None, "--job", help="Only this job's objects."),
    project: str = typer.Option(None, "--project", help="Only this project's objects."),
    kind: list[ArtifactKind] = typer.Option(None, "--kind", help="Only these kinds (repeatable)."),
    limit: int = typer.Option(None, "--limit", min=1, help="At most this many rows (default: every matching row)."),
    include_deleted: bool = typer.Option(False, "--deleted", help="Include deleted rows (kept for the audit trail)."),
    as_json: bool = _JSON,
) -> None:
    """List catalog rows, oldest first: every object the system stored, with its retention and hold."""
    store, _ = _ports()
    rows = store.catalog(job_id=job, project=project, kinds=kind or None, include_deleted=include_deleted, limit=limit)
    if as_json:
        _print_json([_row(a) for a in rows])
        return
    fixed = {"no_wrap": True}
    table = Table(Column("id", **fixed), Column("kind", **fixed), Column("job", **fixed),
                  Column("object", overflow="fold"), Column("size", justify="right"), Column("until", **fixed),
                  Column("status", overflow="fold"),
                  title=f"{len(rows)} artifact(s); ids and jobs shortened (show, hold and release take the short id)")
    for a in rows:
        status = a.status.value + (" held" if a.legal_hold else "")
        until = a.retention_until.date().isoformat() if a.retention_until else "-"
        name = a.key.split("/", 4)[-1] if a.key.startswith("projects/") else a.key.split("/", 2)[-1]
        table.add_row(a.id[:8], a.kind.value, (a.job_id or "-")[:8], name, str(a.size), until, status)
    _out.print(table)


@artifacts_app.command("show")
def artifacts_show(artifact_id: str, as_json: bool = _JSON) -> None:
    """Show one catalog row in full (deleted rows too, with the deletion reason); the id or a unique prefix of it
    (6+ characters); exit 2 when there is none."""
    store, _ = _ports()
    try:
        artifact = store.get_artifact(_resolve(store, artifact_id))
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    data = _row(artifact)
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        _out.print(f"{key:>16}: {value}", highlight=False)


@artifacts_app.command("gc")
def artifacts_gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Delete nothing; list what the rules would delete."),
    now: str = typer.Option(None, "--now", help="Apply the rules as of this time (ISO 8601); default now."),
    as_json: bool = _JSON,
) -> None:
    """Apply the cleanup rules once (what the sweeper runs every MKA_SWEEP_INTERVAL_S); held rows are kept.

    Prints {"dry_run", "deleted": [{id, kind, key, reason}], "held", "orphans": {"objects", "rows"}, ...};
    exit 2 on a bad --now or a bad rules file, 1 when storage or the database fails (rerun it).
    """
    print_sweep(run_sweep(_parse_now(now, as_json), dry_run=dry_run, as_json=as_json), dry_run=dry_run, as_json=as_json)


def print_sweep(result: dict[str, Any], *, dry_run: bool, as_json: bool) -> None:
    """A sweep's report: the JSON itself, or a line per class and one per object deleted or held."""
    if as_json:
        _print_json(result)
        return
    verb = "would delete" if dry_run else "deleted"
    orphans = result["orphans"]
    _out.print(f"{verb} {len(result['deleted'])} object(s); {len(result['held'])} held; "
               f"{len(orphans['objects'])} orphan object(s); {len(orphans['rows'])} lost row(s)", highlight=False)
    for entry in result["deleted"]:
        _out.print(f"  {entry['kind']:<16} {entry['key']}  ({entry['reason']})", highlight=False)
    for entry in result["held"]:
        _out.print(f"  held {entry['kind']:<11} {entry['key']}  ({entry['hold_reason']})", highlight=False)
    events = sum(e["deleted"] for e in result["events"])
    _out.print(f"{verb} {events} event(s); {len(result['jobs'])} job row(s) made tombstones; "
               f"{result['spans']['deleted']} span(s)", highlight=False)
    for entry in result["jobs"]:
        _out.print(f"  job {entry['id']} ({entry['state']}, {entry['reason']})", highlight=False)
    if result["more"]:
        _out.print("more are due than one run deletes (batch_size): run again", highlight=False)


def run_sweep(at: datetime, *, dry_run: bool, as_json: bool) -> dict[str, Any]:
    """One sweep as of `at` over every class (objects, events, jobs, spans): the sweeper's own; its report as JSON.

    Exit 2 on a bad rules file, 1 when storage or the database fails (nothing half-done stays).
    """
    from actors.lifecycle.sweep import sweep
    from cluster.bootstrap import build_rules, span_purge

    settings = load_settings()
    try:
        rules = build_rules(settings)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    try:
        store, objects = _ports()
        return sweep(store, objects, at, rules, dry_run=dry_run, relayed=bool(settings.nats_url),
                     spans=span_purge(settings)).to_dict()
    except MkaError as exc:  # storage or database down: nothing half-done stays (the next sweep finishes it)
        raise _fail(exc, as_json, code=1) from None


@artifacts_app.command("hold")
def artifacts_hold(
    artifact_id: str,
    reason: str = typer.Option(..., "--reason", help="Why it must be kept (recorded with the hold)."),
    as_json: bool = _JSON,
) -> None:
    """Put a legal hold on an artifact: no rule deletes it until it is released."""
    _set_hold(artifact_id, reason, as_json)


@artifacts_app.command("release")
def artifacts_release(artifact_id: str, as_json: bool = _JSON) -> None:
    """Lift an artifact's legal hold: the cleanup rules apply to it again."""
    _set_hold(artifact_id, None, as_json)


def _set_hold(artifact_id: str, reason: str | None, as_json: bool) -> None:
    """Hold (with a reason) or release (None) one artifact, and say what was done."""
    from actors.lifecycle.catalog import hold, release
    from schemas import InvalidInput

    store, objects = _ports()
    try:
        full_id = _resolve(store, artifact_id)
        if reason is None:
            artifact = release(store, objects, full_id)
        elif not reason.strip() or len(reason) > 500:
            raise InvalidInput("--reason must be 1 to 500 characters")
        else:
            artifact = hold(store, objects, full_id, reason.strip())
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    if as_json:
        _print_json(_row(artifact))
    else:
        _out.print(f"{'released' if reason is None else 'held'} {artifact.id} ({artifact.key})", highlight=False)


@artifacts_app.command("verify")
def artifacts_verify(
    job: str = typer.Option(None, "--job", help="Only this job's objects."),
    as_json: bool = _JSON,
) -> None:
    """Recheck every stored object's sha256 against its catalog row; exit 1 listing the missing or changed ones."""
    from actors.lifecycle.catalog import verify

    store, objects = _ports()
    try:
        if job is not None:
            store.get(job)  # an unknown job is an error, not a clean bill
        rows = store.catalog(job_id=job)
        problems = verify(store, objects, rows)
    except MkaError as exc:
        raise _fail(exc, as_json, code=2 if exc.code == "job_not_found" else 1) from None
    checked = sum(1 for a in rows if a.status.value == "stored")
    if as_json:
        _print_json({"checked": checked, "ok": checked - len(problems), "failed": problems})
    else:
        _out.print(f"checked {checked} object(s): {checked - len(problems)} ok, {len(problems)} failed", highlight=False)
        for p in problems:
            _out.print(f"  {p['id']} {p['key']}: {p['problem']}", highlight=False)
    raise typer.Exit(1 if problems else 0)
