"""Time WeasyPrint on the demo report: the report as shipped against the template before issue 12, same job data.

    python scripts/bench_report.py [--runs 5] [--json]

The job is the golden end-to-end run (the example brief with the recorded provider answers, in-process on
SQLite). Its `ReportInput` is rendered by the shipped renderer and by the renderer and templates as they were
before issue 12 (read from git at `f869e02`: automatic table layout, every claim printed three times). Reported:
the best and median seconds of `render_pdf` for each (one warm-up render first), pages, and the speed-up.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import actors.report.agent as report_agent
from actors.report.render import render_html, render_pdf
from schemas.pipeline import ReportInput
from tests.golden.test_e2e_golden import run_recorded_job

OLD_REVISION = "f869e02"  # the last commit before issue 12 touched the report


def _git_show(path: str) -> str:
    return subprocess.run(["git", "show", f"{OLD_REVISION}:{path}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def _old_renderer(folder: Path) -> types.ModuleType:
    """The report renderer of `OLD_REVISION`, with its own templates, loaded as a module."""
    templates = folder / "templates"
    templates.mkdir()
    for name in ("report.html.j2", "report.css"):
        (templates / name).write_text(_git_show(f"actors/report/templates/{name}"))
    module = types.ModuleType("old_report_render")
    module.__file__ = str(folder / "render.py")
    sys.modules[module.__name__] = module  # dataclasses look their module up while the source runs
    exec(compile(_git_show("actors/report/render.py"), module.__file__, "exec"), module.__dict__)  # noqa: S102
    module.TEMPLATES_DIR = templates
    return module


def _report_input(folder: Path) -> ReportInput:
    """Run the golden job and keep the `ReportInput` the report agent was given."""
    seen: list[ReportInput] = []
    original = report_agent.render_report

    def capture(report: ReportInput) -> Any:
        seen.append(report)
        return original(report)

    report_agent.render_report = capture  # type: ignore[assignment]
    try:
        run_recorded_job(folder)
    finally:
        report_agent.render_report = original  # type: ignore[assignment]
    return seen[-1]


def _time(render: Callable[[str], bytes], html: str, runs: int) -> dict[str, Any]:
    from pypdf import PdfReader

    pdf = render(html)  # warm-up: fonts and the user-agent stylesheet load once per process
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render(html)
        times.append(time.perf_counter() - started)
    return {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
            "pages": len(PdfReader(io.BytesIO(pdf)).pages), "html_bytes": len(html.encode())}


def main(argv: list[str] | None = None) -> int:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        report = _report_input(Path(tmp) / "job")
        old = _old_renderer(Path(tmp))
        result = {
            "before": _time(old.render_pdf, old.render_html(report), args.runs),
            "now": _time(render_pdf, render_html(report), args.runs),
        }
    result["speedup"] = round(result["before"]["median_s"] / result["now"]["median_s"], 2)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key in ("before", "now"):
            r = result[key]
            print(f"{key:7} WeasyPrint median {r['median_s']:.3f} s (best {r['best_s']:.3f} s), {r['pages']} pages, "
                  f"{r['html_bytes']:,} bytes of HTML")
        print(f"speed-up: {result['speedup']}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
