"""The `mka` command line: run jobs, inspect jobs, events and traces, export schemas, relay events."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from cluster.artifacts_cli import artifacts_app
from cluster.auth_cli import keys_app, members_app, projects_app
from cluster.figma_cli import figma_app
from cluster.events_cli import events_app
from cluster.pii_cli import pii_app
from cluster.retention_cli import retention_app
from cluster.profiles_cli import profiles_app
from cluster.secrets import mask_secrets
from cluster.settings import Settings, load_settings
from schemas import InvalidBrief, InvalidInput, MkaError, parse_brief, problems_from

# No local variables in crash tracebacks, whatever typer's default: they hold connection strings and keys.
app = typer.Typer(help="Marketing Assistant: brief in, researched multi-model PII-safe report out.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
schemas_app = typer.Typer(help="JSON Schema export of the contracts.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
jobs_app = typer.Typer(help="List and inspect jobs.", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
documents_app = typer.Typer(help="Upload documents for briefs to read as evidence.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")
app.add_typer(pii_app, name="pii")
app.add_typer(profiles_app, name="profiles")
app.add_typer(artifacts_app, name="artifacts")
app.add_typer(figma_app, name="figma")
app.add_typer(projects_app, name="projects")
app.add_typer(keys_app, name="keys")
app.add_typer(members_app, name="members")
app.add_typer(events_app, name="events")
app.add_typer(retention_app, name="retention")

# Soft wrap: ids and paths are never wrapped or cut at the terminal's width, so they can be copied.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JSON_OPT = typer.Option(False, "--json", help="Print machine-readable JSON.")
EXAMPLE_BRIEF = Path(__file__).with_name("examples") / "brief.yaml"
MAX_INPUT_BYTES = 1024 * 1024  # briefs and provider scripts are small; refuse anything larger early
SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas" / "json"


def _show(table: Table) -> None:
    """Print a table at its natural width (wider than the terminal if need be), so no cell is cut."""
    from rich.measure import Measurement

    width = Measurement.get(out, out.options.update(width=10_000), table).maximum
    if width <= out.width:
        out.print(table)
        return
    wide = Console(file=out.file, width=width, soft_wrap=True, force_terminal=out.is_terminal, color_system=out.color_system)
    wide.print(table)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _fail(exc: MkaError, as_json: bool, code: int = 2) -> typer.Exit:
    # An error may quote a setting (a database URL with its password, an endpoint with `?key=`): masked.
    if as_json:
        _print_json({"error": mask_secrets(exc.to_dict())})
    else:
        err.print(f"[red]error:[/red] {mask_secrets(exc.message)}")
        for problem in getattr(exc, "problems", []):
            err.print(f"  - [bold]{problem['field']}[/bold]: {mask_secrets(problem['message'])}")
    return typer.Exit(code)


def load_brief_file(path: Path) -> Any:
    """Read a brief from a JSON or YAML file (raises InvalidBrief on unreadable content)."""
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise InvalidBrief([{"field": "brief", "message": f"{path.name} is over {MAX_INPUT_BYTES} bytes"}])
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidBrief([{"field": "brief", "message": f"cannot read {path}: {exc.strerror}"}]) from None
    except UnicodeDecodeError:
        raise InvalidBrief([{"field": "brief", "message": f"{path.name} is not UTF-8 text"}]) from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidBrief([{"field": "brief", "message": f"{path.name} is not valid {path.suffix[1:]}: {exc}"}]) from None


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    from cluster.bootstrap import build_store

    return build_store(settings)


@app.command()
def config(as_json: bool = JSON_OPT) -> None:
    """Print the effective configuration, secrets masked."""
    data = load_settings().masked()
    if as_json:
        _print_json(data)
        return
    table = Table("setting", "value", title="effective configuration")
    for key, value in data.items():
        table.add_row(key, "" if value is None else str(value))
    _show(table)


def _schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


@schemas_app.command("export")
def schemas_export(
    check: bool = typer.Option(False, "--check", help="Fail if the committed files differ instead of writing."),
    out_dir: Path = typer.Option(None, "--out", help="Directory (default: the package's schemas/json/latest)."),
) -> None:
    """Write the JSON Schemas of every contract as the code defines them now (schemas/json/latest/)."""
    from schemas.export import LIVE_DIR, json_schemas

    target = out_dir or SCHEMAS_DIR / LIVE_DIR
    stale = []
    for name, schema in json_schemas().items():
        path = target / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != _schema_text(schema):
                stale.append(name)
            continue
        target.mkdir(parents=True, exist_ok=True)
        path.write_text(_schema_text(schema), encoding="utf-8")
    if check and stale:
        err.print(f"[red]out of date:[/red] {', '.join(stale)} — run `mka schemas export`")
        raise typer.Exit(1)
    out.print(f"schemas {'up to date' if check else 'written'} in {target}")


@schemas_app.command("freeze")
def schemas_freeze(version: str = typer.Argument(..., help="e.g. v2; an existing version is never overwritten.")) -> None:
    """Freeze the current contracts as a new version (schemas/json/<version>/)."""
    from schemas.export import json_schemas

    target = SCHEMAS_DIR / version
    if target.exists():
        err.print(f"[red]{version} is frozen already[/red]: frozen versions never change")
        raise typer.Exit(1)
    target.mkdir(parents=True)
    for name, schema in json_schemas().items():
        frozen = {**schema, "$id": schema["$id"].replace("/latest/", f"/{version}/")}
        (target / name).write_text(_schema_text(frozen), encoding="utf-8")
    out.print(f"frozen {version} in {target}")


@schemas_app.command("check")
def schemas_check(
    against: str = typer.Option(None, "--against", help="Frozen version to compare with (default: the current freeze)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Fail on breaking changes (removed/renamed fields, narrowed types, new required fields) against a frozen version."""
    from schemas.compat import breaking_changes
    from schemas.export import FROZEN_VERSION, json_schemas

    version = against or FROZEN_VERSION
    frozen_dir = SCHEMAS_DIR / version
    if not frozen_dir.is_dir():
        raise _fail(MkaError(f"no frozen schemas {version} in {SCHEMAS_DIR}"), as_json)
    live = json_schemas()
    findings: dict[str, list[str]] = {}
    for path in sorted(frozen_dir.glob("*.json")):
        old = json.loads(path.read_text(encoding="utf-8"))
        found = ["contract removed"] if path.name not in live else breaking_changes(old, live[path.name])
        if found:
            findings[path.name] = found
    if as_json:
        _print_json({"against": version, "breaking": findings})
    else:
        for name, found in findings.items():
            for finding in found:
                err.print(f"[red]breaking[/red] {name}: {finding}")
        out.print(f"{'BREAKING changes' if findings else 'compatible'} against {version}")
    raise typer.Exit(1 if findings else 0)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the configured database to the newest schema."""
    settings = load_settings()
    _store(settings)
    out.print(f"database at head: {settings.masked()['database_url'] or settings.resolved_database_url()}")


@app.command()
def submit(brief_file: Path, idempotency_key: str = typer.Option(None, "--idempotency-key"), as_json: bool = JSON_OPT) -> None:
    """Validate a brief and queue it as a job; a running orchestrator (`mka serve`, `connect()`) picks it up."""
    settings = load_settings()
    try:
        brief = parse_brief(load_brief_file(brief_file))
    except InvalidBrief as exc:
        raise _fail(exc, as_json) from None
    store = _store(settings)
    _check_template(settings, brief, as_json, store=store)
    job = store.submit(brief, idempotency_key=idempotency_key)
    if as_json:
        _print_json(job.model_dump(mode="json", exclude={"brief"}))
    else:
        out.print(f"job {job.id} {job.state.value}")


def _check_template(settings: Settings, brief: Any, as_json: bool, *, store: Any = None) -> None:
    """A brief that wants a Figma export names a template its project has; exit 2 otherwise."""
    if "figma" not in brief.outputs:
        return
    from actors.figma.store import check_brief_template
    from cluster.bootstrap import build_objects

    try:
        check_brief_template(store or _store(settings), build_objects(settings), brief)
    except MkaError as exc:
        raise _fail(exc, as_json) from None


def _attach(client: Any, brief: Any, files: list[Path], as_json: bool) -> tuple[Any, list[dict[str, str]]]:
    """Upload each file as a document of the brief's project; the brief then lists the ones stored. Every file is
    checked first: a bad one is reported, and stops the run, before anything is stored, when the brief says
    `on_source_error: fail`."""
    from actors.documents.convert import Limits, check_document
    from schemas.brief import DocumentRef

    limits = Limits(max_bytes=int(client.settings.max_document_mb * 1024 * 1024))
    good: list[tuple[Path, bytes]] = []
    problems: list[dict[str, str]] = []
    for path in files:
        try:
            data = _read_document(path, client.settings)
            check_document(path.name, data, limits)
        except MkaError as exc:
            problems.append({"file": str(path), "reason": getattr(exc, "reason", exc.code), "message": exc.message})
            continue
        except OSError as exc:
            problems.append({"file": str(path), "reason": "unreadable", "message": f"{path}: {exc.strerror or exc}"})
            continue
        good.append((path, data))
    for problem in problems:
        err.print(f"[yellow]attach[/yellow] {problem['message']}", highlight=False)
    if problems and brief.on_source_error == "fail":
        raise _fail(InvalidInput(f"{len(problems)} attached file(s) cannot be read (the brief says "
                                 "on_source_error: fail): " + "; ".join(p["message"] for p in problems)), as_json)
    refs = list(brief.documents)
    for path, data in good:
        refs.append(DocumentRef(id=client.upload_document(path.name, data, project=brief.project).document_id))
    return brief.model_copy(update={"documents": refs}), problems


def _read_document(path: Path, settings: Any) -> bytes:
    """A document's bytes; one over the size limit is refused by its size, unread."""
    from actors.documents.convert import DocumentError, human_size

    limit = int(settings.max_document_mb * 1024 * 1024)
    size = path.stat().st_size
    if size > limit:
        raise DocumentError(f"{path.name}: {human_size(size)} is over the {human_size(limit)} document limit "
                            "(MKA_MAX_DOCUMENT_MB)", reason="too_large")
    return path.read_bytes()


def _run_job(brief_path: Path, script_path: Path | None, out_dir: Path | None, as_json: bool, *,
             attach: list[Path] | None = None) -> None:
    """Run one brief to a terminal state with a progress display; exit 0 only when it completed."""
    from cluster.client import connect
    from schemas.pipeline import ProvidersScript

    try:
        brief = parse_brief(load_brief_file(brief_path))
        script = None
        if script_path is not None:
            try:
                script = ProvidersScript.model_validate(load_brief_file(script_path))
            except ValidationError as exc:
                raise InvalidBrief(problems_from(exc, prefix="providers_script")) from None
    except InvalidBrief as exc:
        raise _fail(exc, as_json) from None
    settings = load_settings()
    _check_template(settings, brief, as_json)  # before a cluster starts: a brief naming no stored template fails now
    started = time.monotonic()
    client = connect(settings)
    problems: list[dict[str, str]] = []
    if attach:
        brief, problems = _attach(client, brief, attach, as_json)
    try:
        job_id = client.submit(brief, script=script)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    job = _wait_with_progress(client, job_id, quiet=as_json)
    summary = client.summary(job_id)
    summary.wall_s = round(time.monotonic() - started, 3)
    if out_dir is not None:
        summary.artifacts = _copy_artifacts(client, job_id, out_dir)
    if as_json:
        _print_json({**summary.model_dump(mode="json"), **({"attach_errors": problems} if problems else {})})
    else:
        _print_summary(summary)
    raise typer.Exit(0 if job.state.value == "completed" else 1)


def _wait_with_progress(client: Any, job_id: str, *, quiet: bool) -> Any:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from actors.orchestrator.steps import default_pipeline

    if quiet:
        return client.wait(job_id)
    names = default_pipeline().names()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        task = progress.add_task(f"job {job_id[:8]} submitted", total=len(names))

        def update(job: Any, steps: list[Any]) -> None:
            done = {s.step for s in steps if s.outcome.value == "succeeded"}
            progress.update(task, completed=len(done), description=f"job {job_id[:8]} {job.state.value}")

        return client.wait(job_id, on_change=update)


def _copy_artifacts(client: Any, job_id: str, out_dir: Path) -> list[Any]:
    from schemas.summary import ArtifactLink

    out_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for art in client.artifacts(job_id):
        prefix = f"{job_id}-{art.locale}-" if art.locale else f"{job_id}-"  # each locale's report.pdf stays apart
        path = out_dir / f"{prefix}{Path(art.key).name}"
        body = client.objects.get(art.key)
        if art.kind == "markdown":  # its charts are copied with the same prefix: keep the links working
            body = body.replace(b"](chart-", f"]({prefix}chart-".encode())
        path.write_bytes(body)
        copied.append(ArtifactLink.of(art, path=str(path.resolve())))
    return copied


def _print_summary(summary: Any) -> None:
    colour = "green" if summary.state == "completed" else "red"
    out.print(f"job [bold]{summary.job_id}[/bold]: [{colour}]{summary.state}[/{colour}]"
              + ("  [yellow]DEGRADED[/yellow]" if summary.degraded else "") + f"  ({summary.wall_s or 0.0:.1f}s)")
    if summary.error:
        out.print(f"  reason: {summary.error.get('message')}")
    if summary.providers:
        table = Table("provider", "status", "latency", "claims", "reason")
        for name, p in summary.providers.items():
            latency = f"{p.latency_s:.2f}s" if p.latency_s is not None else ""
            table.add_row(name, p.status, latency, str(p.claims), p.reason or "")
        _show(table)
    for source in summary.sources:
        if source.status != "ok":
            detail = source.error or "; ".join(source.warnings[:2])
            out.print(f"  source {source.label} ({source.source_type}): {source.status}"
                      + (" [required]" if source.required else "") + f": {detail}", markup=False, highlight=False)
    for warning in summary.warnings:
        out.print(f"  warning: {warning}", markup=False, highlight=False)
    for art in summary.artifacts:
        out.print(f"  {art.kind}: {art.path or art.uri}", markup=False)
    out.print(f"  trace: {summary.trace_id}  (mka trace {summary.job_id})", markup=False)


@app.command()
def run(
    brief_file: Path,
    providers_script: Path = typer.Option(None, "--providers-script", help="Stub LLM script (JSON/YAML)."),
    out_dir: Path = typer.Option(None, "--out", help="Copy the artifacts into this directory."),
    attach: list[Path] = typer.Option(
        None, "--attach", help="A document to read as evidence (PDF, DOCX, PPTX, XLSX, CSV, HTML, Markdown, text); "
        "repeat for several."),
    as_json: bool = JSON_OPT,
) -> None:
    """Run one brief end to end and print the job summary; exit 0 only when the job completed."""
    _run_job(brief_file, providers_script, out_dir, as_json, attach=attach or [])


@app.command()
def demo(
    out_dir: Path = typer.Option(None, "--out", help="Copy the artifacts into this directory."),
    as_json: bool = JSON_OPT,
) -> None:
    """Run the bundled example brief (examples/brief.yaml) end to end on the embedded default."""
    _run_job(EXAMPLE_BRIEF, None, out_dir, as_json)


@app.command()
def localize(
    job_id: str,
    locale: str = typer.Option(..., "--locale", help="The locale of the new report, e.g. de_DE or ja_JP."),
    as_json: bool = JSON_OPT,
) -> None:
    """Add a localized report to a completed job from its stored merge result, without running the job again."""
    from actors.orchestrator.steps import localize_later
    from cluster.bootstrap import (
        build_guards,
        build_local_agents,
        build_objects,
        build_runner,
        build_store,
    )
    from schemas.summary import ArtifactLink

    settings = load_settings()
    objects = build_objects(settings)
    guards = build_guards(settings)
    agents = build_local_agents(settings, objects, pii=False)
    try:
        runner = build_runner(settings, agents, store=build_store(settings, guards=guards), objects=objects,
                              guards=guards)
        localized, artifacts = localize_later(runner, job_id, locale)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    finally:
        agents.close()
    links = [ArtifactLink.of(a, path=a.local_path) for a in artifacts]
    data = {"job_id": job_id, "locale": localized.locale, "translation": localized.status,
            "translated_by": localized.translated_by, "artifacts": [link.model_dump(mode="json") for link in links]}
    if as_json:
        _print_json(data)
        return
    out.print(f"job [bold]{job_id}[/bold]: {data['locale']} report ({data['translation']})")
    for link in links:
        out.print(f"  {link.kind}: {link.path or link.uri}", markup=False)


@app.command()
def redact(as_json: bool = JSON_OPT) -> None:
    """Pseudonymize PII in text read from stdin (offline Presidio); --json adds the entities found."""
    from actors.pii import redact_text

    result = redact_text(sys.stdin.read())
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result["redacted"])


@app.command()
def merge(answers: Path, evidence: Path, as_json: bool = JSON_OPT) -> None:
    """Merge model answers against the evidence (the merge agent on its own): ANSWERS.json EVIDENCE.json."""
    from cluster.merge_cli import merge_command

    raise typer.Exit(merge_command(answers, evidence, as_json))


@app.command()
def doctor(as_json: bool = JSON_OPT) -> None:
    """Check the LLM providers: keys (masked), endpoints reachable, models offered, advice."""
    from cluster.doctor import doctor_command

    raise typer.Exit(doctor_command(as_json))


@app.command()
def pipeline(as_json: bool = JSON_OPT) -> None:
    """The step registry: each step's state, actor role, input and output models, idempotence and retries."""
    from actors.orchestrator.steps import default_pipeline

    rows = default_pipeline().describe(load_settings().step_max_attempts)
    if as_json:
        _print_json(rows)
        return
    table = Table("step", "state", "actor", "input", "output", "idempotent", "retries")
    for row in rows:
        table.add_row(row["step"], row["state"], row["actor"], row["input"], row["output"],
                      "yes" if row["idempotent"] else "no", str(row["retries"]))
    _show(table)


@jobs_app.command("list")
def jobs_list(project: str = typer.Option(None), limit: int = typer.Option(20), as_json: bool = JSON_OPT) -> None:
    """List the newest jobs."""
    jobs = _store(load_settings()).list_jobs(project=project, limit=limit)
    if as_json:
        _print_json([j.model_dump(mode="json", exclude={"brief"}) for j in jobs])
        return
    table = Table("job", "project", "state", "degraded", "updated")
    for job in jobs:
        table.add_row(job.id, job.project, job.state.value, "yes" if job.degraded else "", job.updated_at.isoformat())
    _show(table)


@jobs_app.command("show")
def jobs_show(job_id: str, as_json: bool = JSON_OPT) -> None:
    """Show one job with its steps and artifacts."""
    store = _store(load_settings())
    try:
        job = store.get(job_id)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    data = {
        "job": job.model_dump(mode="json"),  # the brief is masked until the redact step, pseudonymized after
        "steps": [s.model_dump(mode="json") for s in store.steps(job_id)],
        "artifacts": [a.model_dump(mode="json") for a in store.artifacts(job_id)],
    }
    if as_json:
        _print_json(data)
        return
    out.print(f"job {job.id}  state={job.state.value}  version={job.version}  degraded={job.degraded}")
    out.print(f"  brief: {job.brief.title or job.brief.product.name}; audience: {job.brief.audience}", markup=False, highlight=False)
    for step in data["steps"]:
        out.print(f"  step {step['step']} #{step['attempt']}: {step['outcome']}")
    for art in data["artifacts"]:
        out.print(f"  artifact {art['kind']}: {art['uri']}")


@jobs_app.command("merge")
def jobs_merge(
    job_id: str,
    reveal_pii: bool = typer.Option(False, "--reveal-pii", help="Re-identify placeholders (needs MKA_ALLOW_PII=true)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Print a job's merge result; placeholders stay unless this reader may see PII and asks for it."""
    from actors.object_store import CHECKPOINT_NAME, find_job_object
    from actors.pii import load_job_vault, load_keyring, reveal_model
    from cluster.bootstrap import build_objects
    from schemas import MergeResult

    settings = load_settings()
    store, objects = _store(settings), build_objects(settings)
    try:
        job = store.get(job_id)
        key = find_job_object(objects, job.project, job.id, CHECKPOINT_NAME.format(step="merge"))
        if key is None:
            raise MkaError(f"job {job_id} has no merge result yet")
        if reveal_pii and not settings.allow_pii:
            raise MkaError("re-identification needs a reader allowed to see PII (MKA_ALLOW_PII=true)")
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    result = MergeResult.model_validate_json(objects.get(key))
    if reveal_pii:  # printed to this reader only; nothing re-identified is stored or sent anywhere
        try:
            vault = load_job_vault(job, objects=objects, keyring=load_keyring(settings))
        except MkaError as exc:  # a missing or wrong vault key, a vault that does not open
            raise _fail(exc, as_json) from None
        result = reveal_model(result, vault, allow_pii=True)
    if as_json:
        _print_json(result.model_dump(mode="json"))
        return
    status = "DEGRADED" if result.degraded else "complete"
    out.print(f"{status}: {result.quorum.received} of {result.quorum.required} required answers; missing {result.quorum.missing or 'none'}")
    for claim in result.claims:
        flag = " [red]FLAGGED[/red]" if claim.hallucination else ""
        out.print(f"- [{claim.agreement}/{claim.grounding}] {claim.text}{flag}", highlight=False)
    for d in result.disagreements:
        out.print(f"disagreement: {d.topic}: " + "; ".join(f"{p}: {t}" for p, t in d.positions.items()), highlight=False)


@jobs_app.command("evidence")
def jobs_evidence(job_id: str, as_json: bool = JSON_OPT) -> None:
    """The job's evidence (pseudonymized): id, source, source type, text, figures and when it was retrieved."""
    from actors.object_store import CHECKPOINT_NAME, find_job_object
    from actors.orchestrator.ports import CollectOutput
    from cluster.bootstrap import build_objects

    settings = load_settings()
    store, objects = _store(settings), build_objects(settings)
    try:
        job = store.get(job_id)
        key = find_job_object(objects, job.project, job.id, CHECKPOINT_NAME.format(step="collect"))
        if key is None:
            raise MkaError(f"job {job_id} has no evidence yet (its collect step has not run)")
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    collected = CollectOutput.model_validate_json(objects.get(key))
    rows = [{"id": e.id, "source": e.source, "source_type": e.source_type, "text": e.text, "data": e.data,
             "retrieved_at": e.retrieved_at.isoformat() if e.retrieved_at else None} for e in collected.evidence]
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "type", "source", "text", "figures")
    for row in rows:
        text = str(row["text"])
        table.add_row(str(row["id"]), str(row["source_type"] or ""), str(row["source"]),
                      text[:80] + ("…" if len(text) > 80 else ""), str(len(row["data"] or {})))
    _show(table)
    for source in collected.sources:
        out.print(f"source {source.label} ({source.source_type}): {source.status}, {source.items} item(s), "
                  f"{source.elapsed_s:.2f}s" + (f": {source.error}" if source.error else ""), markup=False,
                  highlight=False)


@documents_app.command("add")
def documents_add(
    files: list[Path],
    project: str = typer.Option("default", "--project", help="The project whose briefs may use the documents."),
    as_json: bool = JSON_OPT,
) -> None:
    """Upload documents (checked, encrypted, cataloged); list the printed ids in a brief's `documents`."""
    from cluster.bootstrap import build_objects
    from cluster.client import upload_document

    settings = load_settings()
    store, objects = _store(settings), build_objects(settings)
    rows: list[dict[str, Any]] = []
    failed = False
    for path in files:
        try:
            info = upload_document(settings, store, objects, name=path.name, data=_read_document(path, settings),
                                   project=project)
            rows.append({"file": str(path), **info.model_dump(mode="json")})
        except (MkaError, OSError) as exc:
            failed = True
            message = exc.message if isinstance(exc, MkaError) else f"{path}: {exc}"
            rows.append({"file": str(path), "error": {"reason": getattr(exc, "reason", "unreadable"),
                                                      "message": message}})
    if as_json:
        _print_json(rows)
    else:
        for row in rows:
            if "error" in row:
                err.print(f"[red]{row['file']}[/red]: {row['error']['message']}", highlight=False)
            else:
                out.print(f"{row['document_id']}  {row['type']}  {row['size']} bytes  {row['file']}", markup=False)
    raise typer.Exit(1 if failed else 0)


@jobs_app.command("resume")
def jobs_resume(job_id: str, as_json: bool = JSON_OPT) -> None:
    """Resume a job that failed on infrastructure (storage, database) and wait for it."""
    from cluster.client import connect

    client = connect(load_settings())
    try:
        client.resume(job_id)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    job = _wait_with_progress(client, job_id, quiet=as_json)
    summary = client.summary(job_id)
    if as_json:
        _print_json(summary.model_dump(mode="json"))
    else:
        _print_summary(summary)
    raise typer.Exit(0 if job.state.value == "completed" else 1)


@app.command()
def trace(job_id: str, as_json: bool = JSON_OPT) -> None:
    """Print a job's span tree with durations (from the local span file)."""
    from cluster.tracing import read_spans, render_span_tree, span_tree

    settings = load_settings()
    try:
        job = _store(settings).get(job_id)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    if not job.trace_id:
        raise _fail(MkaError(f"job {job_id} has no trace id"), as_json)
    spans = read_spans(settings.spans_file, job.trace_id)
    if as_json:
        _print_json({"trace_id": job.trace_id, "spans": span_tree(spans)})
        return
    if not spans:
        where = f"the OTLP endpoint {mask_secrets(settings.otlp_endpoint)}" if settings.otlp_endpoint else str(settings.spans_file)
        out.print(f"no spans for trace {job.trace_id} in {settings.spans_file} (spans go to {where})")
        return
    out.print(f"trace {job.trace_id}")
    out.print(render_span_tree(spans), highlight=False)


@app.command()
def serve(
    host: str = typer.Option(None, help="Bind address (default MKA_SERVE_HOST)."),
    port: int = typer.Option(None, help="Port (default MKA_SERVE_PORT)."),
) -> None:
    """Start the portal API on Ray Serve (and the actors); runs until interrupted."""
    from ray import serve as ray_serve

    from cluster.client import connect
    from cluster.ray_runtime import write_address
    from serve_app.deployment import portal_app

    settings = load_settings()
    settings = settings.model_copy(update={"serve_host": host or settings.serve_host, "serve_port": port or settings.serve_port})
    _auth_banner(settings)
    client = connect(settings)
    ray_serve.start(http_options={"host": settings.serve_host, "port": settings.serve_port})
    ray_serve.run(portal_app(client.settings), name="mka-portal", route_prefix="/")
    recorded = write_address(client.settings)  # `connect()` in notebooks and other commands joins this cluster
    out.print(f"portal on http://{settings.serve_host}:{settings.serve_port}/v1 (Ctrl-C to stop)")
    out.print(f"Ray cluster address in {recorded}", markup=False)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ray_serve.shutdown()
    finally:
        recorded.unlink(missing_ok=True)


def _auth_banner(settings: Settings) -> None:
    """Say loudly when the portal runs open, and how to make the first admin key when there is none."""
    from cluster.identity_store import SqlIdentityStore

    if settings.auth == "off":
        from cluster.bootstrap import _loopback

        if not _loopback(settings.serve_host):
            err.print(f"[red]error:[/red] MKA_AUTH=off is for local development only: refusing to serve "
                      f"{settings.serve_host} with no authentication (bind 127.0.0.1, or turn auth on).")
            raise typer.Exit(2)
        err.print("[bold red]WARNING: MKA_AUTH=off: the portal accepts every request as an admin of every project. "
                  "For local development only; never expose it.[/bold red]")
        return
    identity = SqlIdentityStore(_store(settings).engine)
    if not any(k.revoked_at is None for k in identity.keys()):
        err.print("No API key exists yet: every request but /v1/health/* answers 401. Create the first admin key:\n"
                  f"  mka keys create --project {settings.default_project} --role admin --deployment-admin\n"
                  "and send it as `Authorization: Bearer <key>`.", markup=False)


@app.command()
def relay(once: bool = typer.Option(False, "--once", help="Publish what is pending, then exit.")) -> None:
    """Relay outbox events to NATS JetStream (needs MKA_NATS_URL)."""
    from cluster.relay import run_relay

    settings = load_settings()
    if not settings.nats_url:
        err.print("MKA_NATS_URL is not set: events stay in the outbox (read them with `mka events JOB`).")
        raise typer.Exit(2)
    count = run_relay(settings, _store(settings), once=once)
    out.print(f"published {count} event(s)")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
