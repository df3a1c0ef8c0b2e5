"""The `mka pii` commands: PII data at rest (vault master keys and their rotation, retention purge).

`mka pii rotate-key` puts a new master key first in `MKA_HOME/vault.key` and re-seals every job's
sealed blobs (its vault, its raw brief) under it; `--reseal-only` re-seals under the newest key
already configured (after a key was prepended to `MKA_VAULT_KEY`). Exit 0 when every blob is under
the newest key, 1 when some did not open (listed), 2 when the keys cannot be loaded or changed.

`mka pii purge` deletes the vaults and sealed raw briefs of finished jobs past their retention
(the sweeper's PII rule alone: it applies every cleanup rule every `MKA_SWEEP_INTERVAL_S`).
"""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console

from cluster.settings import load_settings
from schemas import MkaError

__all__ = ["pii_app"]

pii_app = typer.Typer(help="PII data at rest: vault keys, retention.", no_args_is_help=True)

_out = Console()
_err = Console(stderr=True)


@pii_app.command("rotate-key")
def rotate_key_command(
    reseal_only: bool = typer.Option(
        False, "--reseal-only", help="Add no key: re-seal under the newest configured key (after prepending one to MKA_VAULT_KEY)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Add a vault master key and re-seal every job's vault and raw brief under it.

    Run it with the cluster stopped: running processes keep sealing with the key they loaded.
    Older keys stay in the key file; once this succeeded they may be removed.
    """
    from actors.pii import rotate_key
    from cluster.bootstrap import build_objects, build_store

    settings = load_settings()
    try:
        result = rotate_key(settings, build_store(settings), build_objects(settings), new_key=not reseal_only)
    except MkaError as exc:
        if as_json:
            sys.stdout.write(json.dumps({"error": exc.to_dict()}) + "\n")
        else:
            _err.print(f"[red]error:[/red] {exc.message}", highlight=False)
        raise typer.Exit(2) from None
    data: dict[str, object] = {"rotated": result.rotated, "unchanged": result.unchanged, "key_id": result.key_id}
    if result.failed:
        data["failed"] = list(result.failed)
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        _out.print(f"re-sealed {result.rotated} blob(s) under key {result.key_id}; {result.unchanged} already were")
        for key in result.failed:
            _err.print(f"[red]did not open[/red] {key}: the older keys are still needed", highlight=False)
    raise typer.Exit(1 if result.failed else 0)


@pii_app.command("purge")
def purge_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Delete nothing; list what would be deleted."),
    now: str = typer.Option(None, "--now", help="Purge as of this time (ISO 8601, e.g. 2027-01-31T00:00:00+00:00); default now."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Delete the vaults and sealed raw briefs of finished jobs whose retention has passed.

    The PII rule of the cleanup rules, which the sweeper applies every MKA_SWEEP_INTERVAL_S (`actors.pii.purge_expired`).
    Prints {"dry_run", "purged": [job ids], "raw_briefs": n}; exit 2 on a bad --now.
    """
    from datetime import datetime, timezone

    from actors.pii import purge_expired
    from cluster.bootstrap import build_objects, build_rules, build_store

    settings = load_settings()
    try:
        at = datetime.fromisoformat(now) if now else datetime.now(timezone.utc)
    except ValueError:
        _err.print(f"[red]error:[/red] --now {now!r} is not an ISO 8601 time", highlight=False)
        raise typer.Exit(2) from None
    at = at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)  # a time without zone is UTC
    result = purge_expired(build_store(settings), build_objects(settings), at, rules=build_rules(settings), dry_run=dry_run)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    verb = "would purge" if dry_run else "purged"
    _out.print(f"{verb} the PII of {len(result.purged)} job(s) ({result.raw_briefs} raw brief(s))", highlight=False)
    for job_id in result.purged:
        _out.print(f"  {job_id}", highlight=False)
