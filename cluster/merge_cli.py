"""`mka merge ANSWERS.json EVIDENCE.json [--json]`: the merge agent on its own, on files.

ANSWERS.json is a JSON list of model answers (or `{"answers": [...]}`), EVIDENCE.json a list of evidence
(or `{"evidence": [...]}`), both in the DESIGN.md shapes. The quorum is derived from the answers: a
majority of the answers given must be ok; providers whose status is not ok are missing. Exit 0 on a merge
(degraded or not), 2 on unreadable or invalid input, 1 if the merge itself fails (a message, never a traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from actors.merge import merge_answers, quorum_of
from schemas import Evidence, InvalidInput, MergeResult, ModelAnswer, problems_from

__all__ = ["BadInput", "load_inputs", "merge_command", "render_merge"]

_AGREEMENT_STYLE = {"unanimous": "green", "majority": "cyan", "single": "dim"}
_GROUNDING_STYLE = {"supported": "green", "contradicted": "bold red", "unverifiable": "yellow"}


class BadInput(InvalidInput):
    """An input file is missing, not JSON, or not in the expected shape."""


def _read_list(path: Path, key: str) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return list(data[key])
    if isinstance(data, list):
        return data
    raise BadInput(f"{path} must hold a JSON list of {key} or an object {{\"{key}\": [...]}}")


def _validate(items: list[Any], model: type[ModelAnswer] | type[Evidence], path: Path, what: str) -> list[Any]:
    out = []
    for n, item in enumerate(items):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(f"{p['field']}: {p['message']}" for p in problems_from(exc, whole=what))
            raise BadInput(f"{path}: {what} #{n + 1} is invalid: {problems}") from None
    return out


def load_inputs(answers_path: Path, evidence_path: Path) -> tuple[list[ModelAnswer], list[Evidence]]:
    """Read and validate both files; raise `BadInput` with a readable message."""
    answers = _validate(_read_list(answers_path, "answers"), ModelAnswer, answers_path, "answer")
    evidence = _validate(_read_list(evidence_path, "evidence"), Evidence, evidence_path, "evidence item")
    if not answers:
        raise BadInput(f"{answers_path} holds no answers")
    return answers, evidence


def render_merge(result: MergeResult, console: Console) -> None:
    """Print a merge result for people: quorum and degraded status first, then claims, disagreements, flags."""
    q = result.quorum
    missing = ", ".join(q.missing) or "none"
    if result.degraded:
        met = "quorum met" if q.received >= q.required else "QUORUM NOT MET"
        console.print(f"[bold white on red] DEGRADED [/] {q.received} answer(s) received, {q.required} required "
                      f"({met}); missing: {escape(missing)}")
    else:
        console.print(f"[bold green]Complete[/]: {q.received} answer(s) received, {q.required} required; "
                      "no provider missing")
    claims = Table("#", "claim", "agreement", "grounding", "providers", "evidence", title="Merged claims",
                   title_justify="left")
    for n, c in enumerate(result.claims, start=1):
        flag = " [bold red]⚑[/]" if c.hallucination else ""
        claims.add_row(str(n), escape(c.text) + flag, f"[{_AGREEMENT_STYLE[c.agreement]}]{c.agreement}[/]",
                       f"[{_GROUNDING_STYLE[c.grounding]}]{c.grounding}[/]", escape(", ".join(c.providers)),
                       escape(", ".join(c.evidence_ids)) or "—")
    console.print(claims)
    if result.disagreements:
        table = Table("topic", "positions", "claims", title="Disagreements", title_justify="left")
        for d in result.disagreements:
            positions = "\n".join(f"[bold]{escape(p)}[/]: {escape(t)}" for p, t in d.positions.items())
            table.add_row(escape(d.topic), positions, escape(", ".join(d.claim_ids)))
        console.print(table)
    else:
        console.print("Disagreements: none")
    flagged = [c for c in result.claims if c.hallucination]
    if flagged:
        table = Table("claim", "members", "reasons", title="Flagged claims (possible hallucinations)",
                      title_justify="left")
        for c in flagged:
            table.add_row(escape(c.text), escape(", ".join(c.member_claim_ids)),
                          escape("\n".join(f"- {r}" for r in c.reasons)))
        console.print(table)
    else:
        console.print("Flagged claims: none")


def merge_command(answers_path: Path, evidence_path: Path, as_json: bool) -> int:
    """Run `mka merge`; return the exit code (0 merged, 2 bad input, 1 merge failure)."""
    try:
        answers, evidence = load_inputs(answers_path, evidence_path)
    except BadInput as exc:
        if as_json:
            sys.stdout.write(json.dumps({"error": {"code": "bad_input", "message": str(exc)}}, indent=2) + "\n")
        else:
            Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 2
    try:
        result = merge_answers(answers, evidence, quorum_of(answers))
    except Exception as exc:  # a bug in the merge must still not show users a traceback
        message = f"merge failed: {type(exc).__name__}: {exc}"
        if as_json:
            sys.stdout.write(json.dumps({"error": {"code": "merge_failed", "message": message}}, indent=2) + "\n")
        else:
            Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {escape(message)}", highlight=False)
        return 1
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        render_merge(result, Console())
    return 0
