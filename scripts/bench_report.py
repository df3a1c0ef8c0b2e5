"""Time WeasyPrint on the demo report: fixed table layout (as shipped) against automatic layout, same job data.

    python scripts/bench_report.py [--runs 3] [--json]

The job is the golden end-to-end run (the example brief with the recorded provider answers, in-process on
SQLite). Its report HTML is rendered to PDF as stored, and again with the stylesheet as it was before issue 12:
automatic table layout and `overflow-wrap: anywhere`, derived from the shipped one. Reported: the best and
median seconds of `render_pdf` for each (one warm-up render first), and the speed-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.report.render import render_pdf  # noqa: E402
from tests.golden.test_e2e_golden import run_recorded_job  # noqa: E402


def _time(html: str, runs: int) -> dict[str, float]:
    render_pdf(html)  # warm-up: fonts and the user-agent stylesheet load once per process
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render_pdf(html)
        times.append(time.perf_counter() - started)
    return {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3)}


def main(argv: list[str] | None = None) -> int:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        _, html = run_recorded_job(Path(tmp))
    before_html = html.replace("table-layout: fixed", "table-layout: auto").replace(
        "overflow-wrap: break-word", "overflow-wrap: anywhere")
    assert before_html != html, "the report stylesheet no longer sets a fixed table layout"
    report = {"html_bytes": len(html.encode()), "before": _time(before_html, args.runs), "now": _time(html, args.runs)}
    report["speedup"] = round(report["before"]["median_s"] / report["now"]["median_s"], 2)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"report HTML: {report['html_bytes']:,} bytes")
        for key in ("before", "now"):
            print(f"{key:7} WeasyPrint median {report[key]['median_s']:.3f} s (best {report[key]['best_s']:.3f} s)")
        print(f"speed-up: {report['speedup']}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
