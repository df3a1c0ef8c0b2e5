"""The `mka events` commands: list a job's events with their verification status, and verify them all."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from cluster.artifacts_cli import _fail, _print_json
from cluster.settings import Settings, load_settings
from schemas import MkaError

__all__ = ["events_app"]


class _EventsGroup(TyperGroup):
    """`mka events JOB_ID` stays the listing: a first argument that is no subcommand is a job id for `show`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Put `show` in front of a job id."""
        first = next((a for a in args if not a.startswith("-")), None)
        if first is not None and first not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


events_app = typer.Typer(cls=_EventsGroup, no_args_is_help=True,
                         help="A job's events: `mka events JOB_ID` lists them, `mka events verify JOB_ID` checks "
                              "their signatures.")
_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)
_JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _stored(settings: Settings, job_id: str, as_json: bool) -> list[Any]:
    from cluster.bootstrap import build_store

    store = build_store(settings)
    try:
        store.get(job_id)
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    return store.events(job_id)  # type: ignore[no-any-return]


def _keys(settings: Settings, as_json: bool) -> Any:
    from cluster.signing import load_keyset

    try:
        return load_keyset(settings)
    except MkaError as exc:
        raise _fail(exc, as_json) from None


@events_app.command("show")
def show(job_id: str, as_json: bool = _JSON) -> None:
    """Print a job's events from the outbox (published to NATS or not), each with its verification status."""
    from cluster.events import check_stored

    settings = load_settings()
    messages = _stored(settings, job_id, as_json)
    keys = _keys(settings, as_json)
    statuses = [check_stored(m, keys).status for m in messages]
    if as_json:
        _print_json([{**m.event.model_dump(mode="json"), "subject": m.subject, "published": m.published_at is not None,
                      "verification": status} for m, status in zip(messages, statuses, strict=True)])
        return
    table = Table("time", "type", "payload", "published", "signature")
    for m, status in zip(messages, statuses, strict=True):
        table.add_row(m.event.occurred_at.isoformat(timespec="milliseconds"), m.event.type, json.dumps(m.event.payload),
                      "yes" if m.published_at else "no", status)
    from cluster.cli import _show  # the natural width: ids and statuses are never cut

    _show(table)


@events_app.command("verify")
def verify_cmd(
    job_id: str,
    source: str = typer.Option("outbox", "--source", help="Where to read the events: `outbox` (the job store) or "
                                                          "`nats` (the JetStream stream, as a consumer sees them)."),
    as_json: bool = _JSON,
) -> None:
    """Verify every event of a job (signature, key, headers, replay); exit 0 when all verify, 1 listing those that don't."""
    from cluster.events import check_stored

    settings = load_settings()
    keys = _keys(settings, as_json)
    if source == "outbox":
        verdicts = [check_stored(m, keys) for m in _stored(settings, job_id, as_json)]
    elif source == "nats":
        verdicts = _from_nats(settings, job_id, keys, as_json)
    else:
        raise _fail(MkaError("--source is `outbox` or `nats`"), as_json)
    failed = [v for v in verdicts if not v.ok]
    if as_json:
        _print_json({"job_id": job_id, "source": source, "events": len(verdicts),
                     "verified": len(verdicts) - len(failed), "ok": not failed and bool(verdicts),
                     "failed": [v.to_dict() for v in failed]})
    elif not verdicts:
        _err.print(f"no events of job {job_id} in the {source}", highlight=False)
    elif failed:
        _err.print(f"{len(failed)} of {len(verdicts)} events of job {job_id} do not verify:", highlight=False)
        for v in failed:
            _out.print(f"{v.event_id or '(no id)'}\t{v.type or '?'}\t{v.status}", highlight=False)
    else:
        _out.print(f"all {len(verdicts)} events of job {job_id} verify (keys: {', '.join(keys.ids)})", highlight=False)
    if failed or not verdicts:
        raise typer.Exit(1)


def _from_nats(settings: Settings, job_id: str, keys: Any, as_json: bool) -> list[Any]:
    from cluster.events import EventVerifier
    from cluster.relay import read_messages

    if not settings.nats_url:
        raise _fail(MkaError("MKA_NATS_URL is not set: there is no stream to read (use --source outbox)"), as_json)
    if "." in job_id or "*" in job_id or ">" in job_id or not job_id.strip():
        raise _fail(MkaError(f"{job_id!r} is not a job id"), as_json)
    try:
        messages = asyncio.run(read_messages(settings.nats_url, stream=settings.nats_stream,
                                             subject=f"mka.events.*.{job_id}.>"))
    except MkaError as exc:
        raise _fail(exc, as_json) from None
    verifier = EventVerifier(keys)  # a stream can hold a replayed copy; the outbox's ids are unique by construction
    return [verifier.verify(data, headers=headers, subject=subject) for subject, headers, data in messages]
