"""Benchmark the Figma export: python scripts/bench_figma.py [--runs N] [--json].

Runs the bundled Figma brief in-process once (stub LLMs, bundled market data), then times filling
the bundled template from the job's checkpoints: the report's content (view, formats, the charts
drawn as PNG), the plan, and the SVG preview, for the base report and de_DE. Prints medians and the
sizes of what is stored.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.figma.content import report_content  # noqa: E402
from actors.figma.plan import fill_plan  # noqa: E402
from actors.figma.preview import render_svg  # noqa: E402
from actors.figma.template import scan_template, template_roots  # noqa: E402
from actors.object_store import CHECKPOINT_NAME, read_job_object  # noqa: E402
from actors.orchestrator.steps import stored_report_input  # noqa: E402
from schemas.localization import LocalizeOutput  # noqa: E402
from tests.inprocess import run_in_process  # noqa: E402

TEMPLATE = ROOT / "examples" / "figma" / "report-template.json"


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    brief = yaml.safe_load((ROOT / "examples" / "brief-figma.yaml").read_text(encoding="utf-8"))
    brief["outputs"] = ["html", "figma"]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        done = run_in_process(Path(tmp), brief, templates=[TEMPLATE])
        job_s = time.monotonic() - started
        job, objects = done.job, done.objects

        def load(step: str, model: type) -> object:
            return model.model_validate_json(read_job_object(objects, job, CHECKPOINT_NAME.format(step=step)))  # type: ignore[attr-defined]

        report = stored_report_input(job, load, generated_at=datetime.now(timezone.utc))
        german = next(r for r in load("localize", LocalizeOutput).reports if r.locale == "de_DE")  # type: ignore[attr-defined]
        stored = {a.kind + (f"@{a.locale}" if a.locale else ""): a.size for a in done.artifacts
                  if a.kind.startswith("figma")}
    doc = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    out: dict[str, object] = {"job_s": round(job_s, 2), "stored_bytes": stored}
    for label, localized in (("base", None), ("de_DE", german)):
        item = report.model_copy(update={"localization": localized})
        times: dict[str, list[float]] = {"scan_ms": [], "content_ms": [], "plan_ms": [], "preview_ms": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            roots = template_roots(doc)
            scan = scan_template(roots)
            t1 = time.perf_counter()
            content = report_content(item)
            t2 = time.perf_counter()
            plan = fill_plan(scan, content, template_id="report-template", version=1, job_id=job.id)
            t3 = time.perf_counter()
            render_svg(roots, plan)
            t4 = time.perf_counter()
            for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                times[key].append(value * 1000)
        out[label] = {k: round(statistics.median(v), 1) for k, v in times.items()}
    out["runs"] = args.runs
    if args.json:
        print(json.dumps(out, indent=1))
        return
    for key, value in out.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
