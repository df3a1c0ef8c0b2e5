"""The `mka figma` commands: add and list templates, print a finished job's fill plan, write its preview."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cluster.artifacts_cli import _fail, _print_json
from cluster.settings import load_settings
from schemas import InvalidInput, MkaError

__all__ = ["figma_app"]

figma_app = typer.Typer(help="The Figma export: templates, fill plans for the plugin, previews.", no_args_is_help=True)
templates_app = typer.Typer(help="Templates: Figma files whose layers are named as fields (#title …).",
                            no_args_is_help=True)
figma_app.add_typer(templates_app, name="templates")

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)
_JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")
_PROJECT = typer.Option("default", "--project", help="The project the templates belong to.")


def _ports() -> tuple[Any, Any, Any]:
    from cluster.bootstrap import build_objects, build_store

    settings = load_settings()
    return settings, build_store(settings), build_objects(settings)


def _read_file(path: Path) -> Any:
    from actors.figma.store import MAX_TEMPLATE_BYTES

    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise InvalidInput(f"{path.name} is over {MAX_TEMPLATE_BYTES} bytes: export a page or frame of the file")
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path.name} is not JSON: {exc}") from None


@templates_app.command("add")
def templates_add(
    file: Path = typer.Argument(None, help="A Figma file as JSON (the body of GET /v1/files/:key or /nodes)."),
    file_key: str = typer.Option(None, "--file-key", help="Fetch the file from Figma (a key or a figma.com URL; "
                                 "?node-id= picks a frame); needs MKA_FIGMA_TOKEN."),
    name: str = typer.Option(None, "--name", help="The template's name; its id is made from it (default: the "
                             "file's name). The same name again adds a version."),
    project: str = _PROJECT,
    as_json: bool = _JSON,
) -> None:
    """Store a template (a new version when its name exists); print its id, version, fields and warnings."""
    from actors.figma.store import add_template

    try:
        if (file is None) == (file_key is None):
            raise InvalidInput("give either a FILE.json or --file-key KEY")
        settings, store, objects = _ports()
        if file_key is not None:
            from actors.figma.rest import FigmaClient, parse_file_ref

            key, ids = parse_file_ref(file_key)
            token = settings.figma_token.get_secret_value() if settings.figma_token else ""
            client = FigmaClient(token, base_url=settings.figma_api_url)
            try:
                doc, source = client.file(key, ids=ids), f"figma:{key}"
            finally:
                client.close()
        else:
            doc, source = _read_file(file), "upload"
        info = add_template(store, objects, project=project, doc=doc, name=name, source=source,
                            now=datetime.now(timezone.utc))
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    if as_json:
        _print_json({"template_id": info.template_id, "version": info.version, "fields": info.fields,
                     "warnings": info.warnings})
        return
    _out.print(f"template [bold]{info.template_id}[/bold] version {info.version}: {len(info.fields)} field(s)")
    _out.print("  " + " ".join(info.fields), markup=False, highlight=False)
    for warning in info.warnings:
        _err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


@templates_app.command("list")
def templates_list(project: str = _PROJECT, as_json: bool = _JSON) -> None:
    """The project's templates, every version."""
    from actors.figma.store import list_templates

    try:
        _settings, store, objects = _ports()
        infos = list_templates(store, objects, project=project)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    if as_json:
        _print_json([info.model_dump(mode="json") for info in infos])
        return
    table = Table("template", "version", "name", "fields", "warnings", "source", "added")
    for info in infos:
        table.add_row(info.template_id, str(info.version), info.name, str(len(info.fields)), str(len(info.warnings)),
                      info.source, info.created_at.isoformat(timespec="seconds") if info.created_at else "")
    _out.print(table)


def _export(job_id: str, template: str, locale: str | None) -> Any:
    from actors.figma.jobs import job_export
    from cluster.bootstrap import build_guards

    settings, store, objects = _ports()
    return job_export(store, objects, build_guards(settings), job_id, template=template, locale=locale)


@figma_app.command("fill")
def fill(
    job_id: str,
    template: str = typer.Option(..., "--template", help="A template id (or id@version) of the job's project."),
    locale: str = typer.Option(None, "--locale", help="A localized report of the job (default: the base report)."),
    out_file: Path = typer.Option(None, "--out", help="Also write the plan to this file (for the plugin)."),
    as_json: bool = _JSON,
) -> None:
    """The fill plan of a completed job for a template: what the Figma plugin applies."""
    try:
        done = _export(job_id, template, locale)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    plan = done.plan.model_dump(mode="json")
    if out_file is not None:
        out_file.write_text(json.dumps(plan, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if as_json:
        _print_json(plan)
        return
    _out.print(f"job [bold]{job_id}[/bold] · template {done.plan.template_id} v{done.plan.version} · "
               f"{done.plan.locale}: {len(done.plan.replacements)} replacement(s)")
    for rep in done.plan.replacements:
        value = {"image": "PNG", "fill": "colour"}.get(rep.kind, rep.value)
        if rep.kind == "clone":
            value = f"{rep.value['count']} item(s)"
        _out.print(f"  {rep.node_name} ({rep.kind}): {str(value)[:90]}", markup=False, highlight=False)
    for label, items in (("missing", done.plan.missing_fields), ("unknown", done.plan.unknown_fields)):
        if items:
            _err.print(f"[yellow]{label} fields:[/yellow] {' '.join(items)}", highlight=False)
    for over in done.plan.overflow:
        _err.print(f"[yellow]overflow:[/yellow] {over.field}: {over.chars} characters, the box holds about "
                   f"{over.limit}", highlight=False)
    if out_file is not None:
        _out.print(f"  plan written to {out_file}", markup=False)


@figma_app.command("preview")
def preview(
    job_id: str,
    template: str = typer.Option(..., "--template", help="A template id (or id@version) of the job's project."),
    out_file: Path = typer.Option(..., "--out", help="FILE.svg (or FILE.png when cairosvg is installed)."),
    locale: str = typer.Option(None, "--locale", help="A localized report of the job (default: the base report)."),
) -> None:
    """Draw a completed job's filled template without Figma: SVG (or PNG)."""
    from actors.figma.preview import svg_to_png

    try:
        done = _export(job_id, template, locale)
        if out_file.suffix.lower() == ".png":
            png = svg_to_png(done.preview)
            if png is None:
                raise InvalidInput("PNG previews need cairosvg (pip install cairosvg); write FILE.svg instead")
            out_file.write_bytes(png)
        else:
            out_file.write_text(done.preview, encoding="utf-8")
    except MkaError as exc:
        raise _fail(exc, False) from None
    except OSError as exc:
        raise _fail(InvalidInput(f"cannot write {out_file}: {exc.strerror}"), False) from None
    _out.print(f"{out_file} ({done.plan.locale}, {len(done.plan.missing_fields)} missing field(s))", markup=False)
