"""The `mka` CLI contracts of DESIGN.md, run as a user would: subprocesses on the embedded default."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import brief_data

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(600)]


def mka(*args: str, cwd: Path, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `mka` with a clean embedded-default environment rooted in `cwd`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA_", "OTEL_"))}
    env["MKA_HOME"] = str(cwd / ".mka")
    return subprocess.run(
        [sys.executable, "-m", "cluster.cli", *args], cwd=cwd, env=env, input=stdin,
        capture_output=True, text=True, timeout=timeout,
    )


def test_redact_json_contract(tmp_path: Path) -> None:
    text = "Write to Maria Keller at maria.keller@example.com or call +49 170 1234567. Price 2.49 EUR."
    r = mka("redact", "--json", cwd=tmp_path, stdin=text)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"redacted", "entities"}
    types = {e["type"] for e in out["entities"]}
    assert {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"} <= types
    for e in out["entities"]:
        assert set(e) == {"type", "start", "end", "score"}
        assert 0 <= e["start"] < e["end"] <= len(text) and 0 <= e["score"] <= 1
    assert "maria.keller@example.com" not in out["redacted"] and "2.49 EUR" in out["redacted"]


def test_run_degraded_job_then_inspect_it(tmp_path: Path) -> None:
    (tmp_path / "brief.json").write_text(json.dumps(brief_data(outputs=["pdf", "markdown", "html"])))
    script = {"deadline_s": 10, "grace_s": 0.2, "providers": {"openai": {"latency_s": 0.1}, "gemini": {"latency_s": 0.2}, "xai": {"hang": True}}}
    (tmp_path / "script.yaml").write_text(json.dumps(script))
    r = mka("run", "brief.json", "--providers-script", "script.yaml", "--out", "out", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads(r.stdout)
    assert {"job_id", "state", "degraded", "providers", "artifacts", "trace_id"} <= set(summary)
    assert summary["state"] == "completed" and summary["degraded"] is True
    assert summary["providers"]["xai"]["status"] == "cancelled"
    [pdf] = [a for a in summary["artifacts"] if a["kind"] == "pdf"]
    assert Path(pdf["path"]).read_bytes().startswith(b"%PDF") and Path(pdf["path"]).parent == (tmp_path / "out").resolve()
    assert len(summary["trace_id"]) == 32
    kinds = sorted(a["kind"] for a in summary["artifacts"])
    assert kinds == ["chart", "chart", "html", "markdown", "pdf"] and all(a["sha256"] for a in summary["artifacts"])
    [markdown] = [Path(a["path"]) for a in summary["artifacts"] if a["kind"] == "markdown"]
    linked = re.findall(r"\]\(([^)]+\.svg)\)", markdown.read_text())
    assert len(linked) == 2 and all((markdown.parent / name).read_text().startswith("<svg") for name in linked)

    job_id = summary["job_id"]
    events = json.loads(mka("events", job_id, "--json", cwd=tmp_path).stdout)
    assert events[0]["type"] == "job.submitted" and events[-1]["payload"]["to_state"] == "completed"
    assert all(e["published"] is False for e in events)  # no NATS configured: the outbox keeps them
    trace = json.loads(mka("trace", job_id, "--json", cwd=tmp_path).stdout)
    assert trace["trace_id"] == summary["trace_id"]
    [root] = trace["spans"]
    assert root["name"] == "job"
    shown = mka("trace", job_id, cwd=tmp_path).stdout
    assert "step.analyze" in shown and "ms" in shown


def test_run_below_quorum_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "brief.yaml").write_text(json.dumps(brief_data()))
    (tmp_path / "s.json").write_text(json.dumps({"deadline_s": 1, "providers": {"gemini": {"error": "rate_limit"}, "xai": {"error": "server_error"}}}))
    r = mka("run", "brief.yaml", "--providers-script", "s.json", "--json", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    summary = json.loads(r.stdout)
    assert summary["state"] == "failed" and summary["error"]["code"] == "below_quorum"


def test_run_rejects_bad_input_clearly(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps(brief_data(markets=["ZZ"], locale="xx")))
    r = mka("run", "bad.json", "--json", cwd=tmp_path)
    assert r.returncode == 2
    problems = json.loads(r.stdout)["error"]["problems"]
    assert {p["field"] for p in problems} == {"markets", "locale"}
    (tmp_path / "broken.yaml").write_text("product: [unclosed")
    r = mka("run", "broken.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "not valid yaml" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "ok.json").write_text(json.dumps(brief_data()))
    (tmp_path / "script.json").write_text(json.dumps({"providers": {"openai": {"error": "explode"}}}))
    r = mka("run", "ok.json", "--providers-script", "script.json", cwd=tmp_path)
    assert r.returncode == 2 and "providers_script" in r.stderr


def test_schemas_are_fresh_and_config_masks_secrets(tmp_path: Path) -> None:
    assert mka("schemas", "export", "--check", cwd=tmp_path).returncode == 0
    env_secret = "s3cr3t-value"
    os.environ["MKA_S3_SECRET_KEY"] = env_secret
    try:
        r = subprocess.run([sys.executable, "-m", "cluster.cli", "config", "--json"], capture_output=True, text=True,
                           env={**os.environ, "MKA_DATABASE_URL": "postgresql+psycopg://u:pw123@h/db"})
    finally:
        del os.environ["MKA_S3_SECRET_KEY"]
    cfg = json.loads(r.stdout)
    assert cfg["s3_secret_key"] == "****" and env_secret not in r.stdout
    assert cfg["database_url"] == "postgresql+psycopg://****@h/db"  # user and password both


def test_oversized_and_binary_inputs_are_refused_early(tmp_path: Path) -> None:
    (tmp_path / "huge.json").write_text(json.dumps(brief_data(notes="x" * 2_000_000)))
    r = mka("run", "huge.json", "--json", cwd=tmp_path)
    assert r.returncode == 2 and "over 1048576 bytes" in r.stdout
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    r = mka("run", "bin.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.stderr


def test_reidentification_only_for_readers_allowed_to_see_pii(tmp_path: Path) -> None:
    (tmp_path / "brief.json").write_text(json.dumps(brief_data(audience="Fans of the influencer Maria Keller in Berlin")))
    claim = {"id": "c1", "text": "<PERSON_1> is followed by most of the audience.", "evidence_ids": []}
    script = {"providers": {p: {"claims": [claim]} for p in ("openai", "gemini", "xai")}}
    (tmp_path / "script.json").write_text(json.dumps(script))
    summary = json.loads(mka("run", "brief.json", "--providers-script", "script.json", "--json", cwd=tmp_path).stdout)
    job_id = summary["job_id"]
    plain = mka("jobs", "merge", job_id, "--json", cwd=tmp_path)
    assert plain.returncode == 0 and "<PERSON_1>" in plain.stdout and "Maria Keller" not in plain.stdout
    refused = mka("jobs", "merge", job_id, "--reveal-pii", "--json", cwd=tmp_path)
    assert refused.returncode == 2 and "MKA_ALLOW_PII" in refused.stdout and "Maria Keller" not in refused.stdout
    env_allowed = {**os.environ, "MKA_HOME": str(tmp_path / ".mka"), "MKA_ALLOW_PII": "true"}
    allowed = subprocess.run([sys.executable, "-m", "cluster.cli", "jobs", "merge", job_id, "--reveal-pii", "--json"],
                             cwd=tmp_path, env=env_allowed, capture_output=True, text=True, timeout=120)
    assert allowed.returncode == 0 and "Maria Keller is followed" in allowed.stdout
    # Nothing re-identified was written anywhere: the stored merge result still has the placeholder.
    assert "<PERSON_1>" in mka("jobs", "merge", job_id, "--json", cwd=tmp_path).stdout


PLANTED = ["Henrietta Vandersloot", "henrietta.vandersloot@example.org", "+49 151 23456789", "DE89 3704 0044 0532 0130 00",
           "14/03/1988", "Deepa Venkataraman"]


def _grep(root: Path, needles: list[str]) -> list[str]:
    """Files under `root` whose bytes hold a needle (as UTF-8, any case)."""
    hits: list[str] = []
    lowered = [n.lower().encode() for n in needles]
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes().lower()
            hits.extend(f"{path}: {n.decode()}" for n in lowered if n in data)
    return hits


def test_a_pii_laden_berlin_brief_completes_and_leaves_no_planted_value_at_rest(tmp_path: Path) -> None:
    """Done-when of the PII issue: planted values nowhere under MKA_HOME (database included) or in Ray's logs.

    The project, notes and audience mention Berlin and the competitor "Müller" shares a surname with a
    person in the notes: the job completes, places stay, the person stays pseudonymized.
    """
    import tempfile

    notes = (
        f"Launch contact {PLANTED[0]} ({PLANTED[1]}, {PLANTED[2]}), born {PLANTED[4]}, pays from IBAN {PLANTED[3]}. "
        f"Our Berlin buyer Hans Müller compares us with Müller yoghurt. Account holder: {PLANTED[5]}."
    )
    brief = brief_data(
        project="berlin-launch", audience="Baristas in Berlin and Hamburg", notes=notes, competitors=["Müller", "Alpro"],
        markets=["DE"],
    )
    (tmp_path / "brief.json").write_text(json.dumps(brief))
    ray_tmp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # short: Ray's socket paths have a length limit
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MKA_", "OTEL_"))}
    env.update({"MKA_HOME": str(tmp_path / ".mka"), "RAY_TMPDIR": str(ray_tmp)})
    r = subprocess.run([sys.executable, "-m", "cluster.cli", "run", "brief.json", "--out", "out", "--json"], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    summary = json.loads(r.stdout)
    assert summary["state"] == "completed"
    needles = [*PLANTED, "Hans Müller", "Vandersloot", "Venkataraman"]
    assert _grep(tmp_path / ".mka", needles) == []
    assert _grep(tmp_path / "out", needles) == []
    logs = list(ray_tmp.rglob("logs"))
    assert logs, "Ray wrote no session logs where expected"
    for folder in logs:
        assert _grep(folder, needles) == []
    page = next((tmp_path / ".mka" / "artifacts").rglob("report.html")).read_text()
    assert "Berlin" in page and "&lt;LOCATION_" not in page and "<LOCATION_" not in page
    assert "Müller" in page  # the competitor brand stays


def test_localized_run_then_another_locale_later_then_profiles(tmp_path: Path) -> None:
    """The done-when of localization: DE, FR, JP with `locales: auto` give four PDFs; `mka localize` adds a fifth."""
    import shutil

    shutil.copy(Path(__file__).resolve().parents[2] / "examples" / "brief-localized.yaml", tmp_path / "brief.yaml")
    r = mka("run", "brief.yaml", "--out", "out", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads(r.stdout)
    pdfs = {a["locale"]: Path(a["path"]) for a in summary["artifacts"] if a["kind"] == "pdf"}
    assert set(pdfs) == {None, "de_DE", "fr_FR", "ja_JP"}
    assert pdfs["ja_JP"].name == f"{summary['job_id']}-ja_JP-report.pdf" and pdfs["ja_JP"].read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(pdfs["de_DE"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Mrd. €" in text and "C-422/16" in text  # babel's figures, the EU dairy-terms note
    later = mka("localize", summary["job_id"], "--locale", "pl-PL", "--json", cwd=tmp_path)
    assert later.returncode == 0, later.stdout + later.stderr
    added = json.loads(later.stdout)
    assert added["locale"] == "pl_PL" and added["translation"] == "untranslated"  # stub providers do not translate
    assert {a["kind"] for a in added["artifacts"]} >= {"pdf", "html"} and all(a["locale"] == "pl_PL" for a in added["artifacts"])
    shown = json.loads(mka("jobs", "show", summary["job_id"], "--json", cwd=tmp_path).stdout)
    assert "pl_PL" in json.dumps(shown)
    bad = mka("localize", summary["job_id"], "--locale", "xx_QQ", "--json", cwd=tmp_path)
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"]["code"] == "invalid_input"
    listed = json.loads(mka("profiles", "list", "--json", cwd=tmp_path).stdout)
    assert len(listed) >= 30 and set(listed[0]) == {"country", "name", "default_locale", "languages", "currency"}
    de = json.loads(mka("profiles", "show", "de", "--json", cwd=tmp_path).stdout)
    assert de["languages"] == ["de"] and de["rtl"] is False and de["holidays"]
    assert all(set(n) >= {"topic", "text", "source"} for n in de["legal_notes"])
    assert mka("profiles", "show", "XX", cwd=tmp_path).returncode == 2


def test_artifacts_catalog_covers_the_store_then_gc_hold_verify(tmp_path: Path) -> None:
    """Done-when of the artifact-lifecycle issue, through the CLI after a real run (Ray actors, sweeper included)."""
    from datetime import datetime, timedelta, timezone

    (tmp_path / "brief.json").write_text(json.dumps(brief_data(outputs=["pdf", "markdown", "html"])))
    r = mka("run", "brief.json", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    job_id = json.loads(r.stdout)["job_id"]

    rows = json.loads(mka("artifacts", "list", "--json", cwd=tmp_path).stdout)
    design = {"id", "job_id", "project", "kind", "key", "size", "sha256", "content_type", "pii_class", "created_at",
              "retention_until", "legal_hold"}
    assert rows and all(design <= set(row) for row in rows)
    root = tmp_path / ".mka" / "artifacts"
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {
        p.relative_to(root).as_posix() for p in root.glob(".mka-*/**/*")}
    assert on_disk and on_disk == {row["key"] for row in rows if row["kind"] != "raw_brief"}  # no object without a row
    assert {row["kind"] for row in rows} >= {"pdf", "html", "markdown", "chart", "checkpoint", "vault", "raw_brief"}
    assert all(row["retention_until"] for row in rows)  # dated as the run ended
    assert len(json.loads(mka("artifacts", "list", "--limit", "2", "--json", cwd=tmp_path).stdout)) == 2
    [pdf] = [row for row in rows if row["kind"] == "pdf"]

    held = mka("artifacts", "hold", pdf["id"][:8], "--reason", "audit 2027-3", "--json", cwd=tmp_path)  # a short id
    assert held.returncode == 0 and json.loads(held.stdout)["legal_hold"] is True
    assert json.loads(held.stdout)["id"] == pdf["id"]
    listing = mka("artifacts", "list", "--job", job_id, cwd=tmp_path)
    assert listing.returncode == 0 and pdf["id"][:8] in listing.stdout and "held" in listing.stdout
    later = (datetime.now(timezone.utc) + timedelta(days=366)).isoformat()
    dry = json.loads(mka("artifacts", "gc", "--dry-run", "--now", later, "--json", cwd=tmp_path).stdout)
    assert dry["dry_run"] is True and set(dry) >= {"deleted", "held", "orphans"}
    assert {d["id"] for d in dry["deleted"]} == {row["id"] for row in rows} - {pdf["id"]}
    assert all(set(d) == {"id", "kind", "key", "reason"} for d in dry["deleted"])
    assert [h["id"] for h in dry["held"]] == [pdf["id"]] and dry["orphans"] == {"objects": [], "rows": []}
    assert all((root / row["key"]).exists() for row in rows if row["kind"] != "raw_brief")

    real = json.loads(mka("artifacts", "gc", "--now", later, "--json", cwd=tmp_path).stdout)
    assert sorted(d["id"] for d in real["deleted"]) == sorted(d["id"] for d in dry["deleted"])
    left = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".mka-" not in str(p)}
    assert left == {pdf["key"]}
    assert json.loads(mka("artifacts", "gc", "--now", later, "--json", cwd=tmp_path).stdout)["deleted"] == []
    gone = json.loads(mka("artifacts", "show", dry["deleted"][0]["id"], "--json", cwd=tmp_path).stdout)
    assert gone["status"] == "deleted" and gone["deletion_reason"] == dry["deleted"][0]["reason"]
    assert mka("artifacts", "show", "no-such-id", cwd=tmp_path).returncode == 2
    assert mka("artifacts", "gc", "--now", "next year", cwd=tmp_path).returncode == 2

    assert mka("artifacts", "verify", "--job", job_id, cwd=tmp_path).returncode == 0
    assert mka("artifacts", "verify", "--job", "no-such-job", cwd=tmp_path).returncode == 2
    (root / pdf["key"]).write_bytes(b"%PDF-tampered")
    bad = mka("artifacts", "verify", "--job", job_id, "--json", cwd=tmp_path)
    assert bad.returncode == 1 and [f["id"] for f in json.loads(bad.stdout)["failed"]] == [pdf["id"]]
    released = json.loads(mka("artifacts", "release", pdf["id"], "--json", cwd=tmp_path).stdout)
    assert released["legal_hold"] is False and released["hold_reason"] is None


DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "brief.yaml"


def test_run_with_attached_documents_grounds_claims_in_them(tmp_path: Path) -> None:
    r = mka("run", str(EXAMPLE), "--attach", str(DOCS / "market.xlsx"), "--attach", str(DOCS / "notes.pdf"),
            "--attach", str(DOCS / "encrypted.pdf"), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = json.loads(r.stdout)
    assert summary["state"] == "completed" and summary["degraded"] is False
    [refused] = summary["attach_errors"]  # one bad file: said, and the run goes on with the rest
    assert refused["reason"] == "encrypted" and "password" in r.stderr
    types = sorted(s["source_type"] for s in summary["sources"])
    assert types == ["dataset", "document", "document"] and all(s["status"] in ("ok", "warned") for s in summary["sources"])
    job_id = summary["job_id"]
    evidence = json.loads(mka("jobs", "evidence", job_id, "--json", cwd=tmp_path).stdout)
    assert all(set(e) == {"id", "source", "source_type", "text", "data", "retrieved_at"} for e in evidence)
    docs = [e for e in evidence if e["source_type"] == "document"]
    assert docs and all(re.fullmatch(r"doc://doc-[0-9a-f]{16}#(c\d+|t\d+r\d+)", e["source"]) for e in docs)
    assert not any("Jonas Becker" in e["text"] or "jonas.becker@" in e["text"] for e in evidence)  # redacted first
    merged = json.loads(mka("jobs", "merge", job_id, "--json", cwd=tmp_path).stdout)
    doc_ids = {e["id"] for e in docs}
    grounded = [c for c in merged["claims"] if set(c["evidence_ids"]) & doc_ids]
    assert grounded and all(c["grounding"] == "supported" for c in grounded)
    assert any("52" in c["text"] for c in grounded)  # the spreadsheet's oat share


def test_a_required_source_that_fails_degrades_and_fail_mode_fails(tmp_path: Path) -> None:
    brief = brief_data(sources=[{"url": "http://127.0.0.1:9/none.html", "required": True}])
    (tmp_path / "brief.json").write_text(json.dumps(brief))
    r = mka("run", "brief.json", "--json", cwd=tmp_path)
    summary = json.loads(r.stdout)
    assert r.returncode == 0 and summary["state"] == "completed" and summary["degraded"] is True, r.stderr
    [web] = [s for s in summary["sources"] if s["source_type"] == "web"]
    assert web["status"] == "failed" and web["required"] and "MKA_FETCH_ALLOW" in web["error"]
    (tmp_path / "strict.json").write_text(json.dumps({**brief, "on_source_error": "fail"}))
    r = mka("run", "strict.json", "--json", cwd=tmp_path)
    summary = json.loads(r.stdout)
    assert r.returncode == 1 and summary["state"] == "failed" and summary["error"]["code"] == "source_failed"
    (tmp_path / "unknown.json").write_text(json.dumps(brief_data(documents=["doc-0000000000000000"])))
    summary = json.loads(mka("run", "unknown.json", "--json", cwd=tmp_path).stdout)
    [doc] = [s for s in summary["sources"] if s["source_type"] == "document"]
    assert summary["state"] == "completed" and doc["status"] == "failed" and "no document" in doc["error"]


def test_figma_templates_run_fill_and_preview(tmp_path: Path) -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    template = root / "examples" / "figma" / "report-template.json"
    brief = yaml.safe_load((root / "examples" / "brief-figma.yaml").read_text(encoding="utf-8"))
    brief.update(outputs=["html", "figma"], locales=None)
    (tmp_path / "missing.json").write_text(json.dumps({**brief, "figma_template": "no-such-template"}))
    refused = mka("run", "missing.json", "--json", cwd=tmp_path)
    assert refused.returncode == 2
    error = json.loads(refused.stdout)["error"]
    assert error["problems"][0]["field"] == "figma_template" and "no-such-template" in error["problems"][0]["message"]

    queued = mka("submit", "missing.json", "--json", cwd=tmp_path)  # queueing checks it too
    assert queued.returncode == 2 and "figma_template" in queued.stdout

    added = mka("figma", "templates", "add", str(template), "--project", "demo", "--json", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["template_id"] == "report-template"
    (tmp_path / "brief.json").write_text(json.dumps(brief))
    run = mka("run", "brief.json", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["warnings"] == []
    kinds = {a["kind"]: a for a in summary["artifacts"]}
    assert {"figma_plan", "figma_preview"} <= set(kinds) and Path(kinds["figma_plan"]["path"]).exists()
    job_id = summary["job_id"]

    fill = mka("figma", "fill", job_id, "--template", "report-template", "--json", cwd=tmp_path)
    assert fill.returncode == 0, fill.stderr
    plan = json.loads(fill.stdout)
    assert set(plan) == {"template_id", "version", "job_id", "locale", "replacements", "missing_fields",
                         "unknown_fields", "overflow"}
    assert plan == json.loads(Path(kinds["figma_plan"]["path"]).read_text())  # the job's own plan
    assert all(set(r) == {"node_id", "node_name", "field", "kind", "value"} for r in plan["replacements"])
    out = tmp_path / "preview.svg"
    preview = mka("figma", "preview", job_id, "--template", "report-template", "--out", str(out), cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr
    assert out.read_text().startswith("<svg") and "data-name=\"#title\"" in out.read_text()
    wrong = mka("figma", "fill", job_id, "--template", "report-template", "--locale", "ja_JP", "--json", cwd=tmp_path)
    assert wrong.returncode == 2 and "no ja_JP report" in json.loads(wrong.stdout)["error"]["message"]
