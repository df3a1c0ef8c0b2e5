"""The `mka profiles` commands: list the markets with a country profile, show one profile in full."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from schemas import MkaError

__all__ = ["profiles_app"]

profiles_app = typer.Typer(help="Country profiles: languages, formats, holidays, legal notes.", no_args_is_help=True)

_out = Console(soft_wrap=True)
_err = Console(stderr=True, soft_wrap=True)
_JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


@profiles_app.command("list")
def profiles_list(as_json: bool = _JSON) -> None:
    """List every market with a profile: country, name, default locale, languages, currency."""
    from actors.localization.profiles import all_profiles

    rows = [p.summary().model_dump(mode="json") for p in all_profiles()]
    if as_json:
        _print_json(rows)
        return
    table = Table("country", "name", "default locale", "languages", "currency", title=f"{len(rows)} country profiles")
    for row in rows:
        table.add_row(row["country"], row["name"], row["default_locale"], ", ".join(row["languages"]), row["currency"])
    _out.print(table)


@profiles_app.command("show")
def profiles_show(country: str = typer.Argument(..., help="ISO 3166-1 alpha-2 code, e.g. DE."), as_json: bool = _JSON) -> None:
    """Show one market's full profile (exit 2 for a market without one)."""
    from actors.localization.profiles import country_profile

    try:
        profile = country_profile(country)
    except MkaError as exc:
        if as_json:
            _print_json({"error": exc.to_dict()})
        else:
            _err.print(f"[red]error:[/red] {exc.message}", markup=True)
        raise typer.Exit(2) from None
    if as_json:
        _print_json(profile.model_dump(mode="json"))
        return
    f = profile.formats
    _out.print(f"[bold]{profile.name} ({profile.country})[/bold]  data v{profile.data_version}, reviewed {profile.reviewed}")
    for label, value in (
        ("languages", ", ".join(profile.languages)),
        ("default locale", profile.default_locale),
        ("currency", f"{profile.currency}  e.g. {f.currency_example}"),
        ("numbers", f"{f.number_example}  (pattern {f.number_pattern})"),
        ("dates", f"{f.date_example}  (short {f.date_short})"),
        ("measurement", profile.measurement),
        ("direction", "right-to-left" if profile.rtl else "left-to-right"),
        ("formality", f"{profile.formality.level} ({profile.formality.address})"),
    ):
        _out.print(f"  {label:<15} {value}", markup=False, highlight=False)
    _out.print(f"  holidays (next 12 months): {len(profile.holidays)}", markup=False)
    for day in profile.holidays:
        _out.print(f"    {day.date}  {day.name}", markup=False, highlight=False)
    _out.print(f"  legal notes: {len(profile.legal_notes)}", markup=False)
    for note in profile.legal_notes:
        _out.print(f"    - {note.topic}: {note.text}\n      source: {note.source}", markup=False, highlight=False)
