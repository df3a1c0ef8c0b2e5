"""The `mka projects`, `mka keys` and `mka members` commands: tenants, API keys (shown once) and JWT memberships."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cluster.artifacts_cli import _fail, _print_json
from cluster.settings import load_settings
from schemas import MkaError

__all__ = ["keys_app", "members_app", "projects_app"]

projects_app = typer.Typer(help="Projects (tenants): every job, artifact, key and member belongs to one.",
                           no_args_is_help=True)
keys_app = typer.Typer(help="API keys for the portal: one project and one role each, shown once.", no_args_is_help=True)
members_app = typer.Typer(help="Memberships: a JWT subject's role in a project.", no_args_is_help=True)

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)
_JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")
_ACTOR = "cli:local"  # who the audit events name for commands run on the deployment's own machine


def _run(as_json: bool, action: Any) -> Any:
    """Do `action()`; an `MkaError` is printed (as JSON with --json) and exits 2."""
    try:
        return action()
    except MkaError as exc:
        raise _fail(exc, as_json) from None


def _role(role: str) -> str:
    from schemas import InvalidInput
    from serve_app.auth import Role

    if role not in {r.value for r in Role}:
        raise InvalidInput(f"--role is one of {', '.join(r.value for r in Role)}")
    return role


def _identity() -> Any:
    from cluster.bootstrap import build_store
    from cluster.identity_store import SqlIdentityStore

    store = build_store(load_settings())
    return SqlIdentityStore(store.engine, signer=store.signer)


@projects_app.command("create")
def projects_create(name: str, as_json: bool = _JSON) -> None:
    """Create a project."""
    from serve_app.auth import create_project

    record = _run(as_json, lambda: create_project(_identity(), name, actor=_ACTOR))
    if as_json:
        _print_json(record.model_dump(mode="json"))
    else:
        _out.print(f"created project {record.name}", highlight=False)


@projects_app.command("list")
def projects_list(as_json: bool = _JSON) -> None:
    """List the projects."""
    rows = [p.model_dump(mode="json") for p in _identity().projects()]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        _out.print(f"{row['name']}  (created {row['created_at']})", highlight=False)


@keys_app.command("create")
def keys_create(
    project: str = typer.Option(..., "--project", help="The project the key belongs to."),
    role: str = typer.Option(..., "--role", help="viewer, analyst or admin."),
    pii_reader: bool = typer.Option(False, "--pii-reader", help="Allow re-identification (reveal_pii=true)."),
    deployment_admin: bool = typer.Option(False, "--deployment-admin",
                                          help="Also allow creating projects (the first admin key)."),
    expires: str = typer.Option(None, "--expires", help="Lifetime: 12h, 30d, 4w or 1y (default: no expiry)."),
    name: str = typer.Option("", "--name", help="A label to recognize the key by."),
    as_json: bool = _JSON,
) -> None:
    """Create an API key; it is printed once and only its argon2 hash is stored."""
    from serve_app.auth import create_key, parse_expiry

    record, api_key = _run(as_json, lambda: create_key(
        _identity(), project=project, role=_role(role), pii_reader=pii_reader, deployment_admin=deployment_admin,
        name=name, actor=_ACTOR, expires_in=parse_expiry(expires) if expires else None))
    if as_json:
        _print_json({"key_id": record.key_id, "api_key": api_key})
        return
    _out.print(f"key {record.key_id} ({record.role} in {record.project}"
               f"{', pii_reader' if pii_reader else ''}{', deployment admin' if deployment_admin else ''}"
               f"{', expires ' + record.expires_at.isoformat() if record.expires_at else ''})", highlight=False)
    _out.print(api_key, highlight=False)
    _err.print("This is the only time the key is shown: store it now (send it as Authorization: Bearer <key>).")


@keys_app.command("list")
def keys_list(project: str = typer.Option(None, "--project", help="Only this project's keys."),
              as_json: bool = _JSON) -> None:
    """List API keys (ids, roles, expiry, last use, revocation; never a secret)."""
    rows = [k.model_dump(mode="json") for k in _identity().keys(project)]
    if as_json:
        _print_json(rows)
        return
    table = Table("key id", "project", "role", "grants", "expires", "last used", "status")
    for k in rows:
        grants = ", ".join(g for g, on in (("pii_reader", k["pii_reader"]), ("deployment admin", k["deployment_admin"]))
                           if on)
        table.add_row(k["key_id"], k["project"], k["role"], grants, k["expires_at"] or "never",
                      k["last_used_at"] or "never", "revoked" if k["revoked_at"] else "active")
    _out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, as_json: bool = _JSON) -> None:
    """Revoke an API key: it stops working at once."""
    from serve_app.auth import revoke_key

    record = _run(as_json, lambda: revoke_key(_identity(), key_id, actor=_ACTOR))
    if as_json:
        _print_json(record.model_dump(mode="json"))
    else:
        _out.print(f"revoked {record.key_id}", highlight=False)


_MEMBER_PROJECT = typer.Option(..., "--project", help="The project.")


@members_app.command("add")
def members_add(
    project: str = _MEMBER_PROJECT,
    subject: str = typer.Option(..., "--subject", help="The token's subject (the `sub` claim, or the configured one)."),
    role: str = typer.Option(..., "--role", help="viewer, analyst or admin."),
    pii_reader: bool = typer.Option(False, "--pii-reader", help="Allow re-identification in this project."),
    as_json: bool = _JSON,
) -> None:
    """Give a subject a role in a project (replacing its earlier one)."""
    from serve_app.auth import add_member

    member = _run(as_json, lambda: add_member(_identity(), project=project, subject=subject, role=_role(role),
                                              pii_reader=pii_reader, actor=_ACTOR))
    if as_json:
        _print_json(member.model_dump(mode="json"))
    else:
        _out.print(f"{member.subject} is {member.role} in {member.project}", highlight=False)


@members_app.command("remove")
def members_remove(project: str = _MEMBER_PROJECT, subject: str = typer.Option(..., "--subject"),
                   as_json: bool = _JSON) -> None:
    """Remove a subject's membership."""
    from serve_app.auth import remove_member

    _run(as_json, lambda: remove_member(_identity(), project=project, subject=subject, actor=_ACTOR))
    if as_json:
        _print_json({"project": project, "subject": subject, "removed": True})
    else:
        _out.print(f"removed {subject} from {project}", highlight=False)


@members_app.command("list")
def members_list(project: str = _MEMBER_PROJECT, as_json: bool = _JSON) -> None:
    """List a project's memberships."""
    rows = [m.model_dump(mode="json") for m in _identity().members(project)]
    if as_json:
        _print_json(rows)
        return
    for m in rows:
        _out.print(f"{m['subject']}  {m['role']}{'  pii_reader' if m['pii_reader'] else ''}", highlight=False)


@keys_app.command("rotate-signing")
def keys_rotate_signing(as_json: bool = _JSON) -> None:
    """Make a new event-signing key; old public keys stay so earlier events still verify. Restart every process."""
    from cluster.signing import rotate_signing_key

    key, keys = _run(as_json, lambda: rotate_signing_key(load_settings()))
    if as_json:
        _print_json({"key_id": key.key_id, "keys": keys.ids})
        return
    _out.print(f"signing with {key.key_id} from now on; verifying with {', '.join(keys.ids)}", highlight=False)
    _err.print("Restart the relay, the portal and the actors (`mka serve`) so they sign with the new key.")


@keys_app.command("export-public")
def keys_export_public(as_json: bool = typer.Option(False, "--json", help="Print the keys as a JWK set instead of PEM.")
                       ) -> None:
    """Print the public keys events are verified with (the active one first), as PEM or as a JWK set."""
    from cluster.signing import load_keyset

    keys = _run(as_json, lambda: load_keyset(load_settings()))
    if as_json:
        _print_json(keys.jwks(active=keys.ids[0]))
        return
    for key_id in keys.ids:
        key = keys.get(key_id)
        assert key is not None
        typer.echo(f"# {key_id}\n{key.pem().decode()}", nl=False)
