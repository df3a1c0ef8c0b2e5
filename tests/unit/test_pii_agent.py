"""The PII agent on briefs and evidence: free text pseudonymized, brands and markets kept."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from actors.pii import PiiAgent, Vault, brief_allow_list, get_analyzer
from schemas import Brief, Evidence

pytestmark = pytest.mark.unit

NOTES = (
    "Contact Maria Keller at maria.keller@example.com or +49 170 1234567, card 4111 1111 1111 1111, "
    "IBAN DE89 3704 0044 0532 0130 00, from 192.168.10.20. MARIA KELLER signs off."
)
SECRETS = [
    "Maria Keller",
    "MARIA KELLER",
    "maria.keller@example.com",
    "+49 170 1234567",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "192.168.10.20",
]


@pytest.fixture(scope="module")
def agent() -> PiiAgent:
    """An agent on the process-wide offline engine."""
    return PiiAgent(analyzer=get_analyzer())


@pytest.fixture
def brief(make_brief: Callable[..., Brief]) -> Brief:
    return make_brief(
        title="Launch plan for Maria Keller",
        product={"name": "Oatly Barista", "description": "Oat drink for coffee, made by Hans Müller", "price": 2.49},
        questions=["How do Alpro and Oatly Barista compare in Germany?", "Which cafés does Maria Keller supply?"],
        notes=NOTES,
    )


def test_free_text_fields_are_pseudonymized(agent: PiiAgent, brief: Brief) -> None:
    vault = Vault()
    out = agent.redact_brief(brief, vault)
    dumped = out.model_dump_json()
    assert not any(secret in dumped for secret in SECRETS)
    assert out.title == "Launch plan for <PERSON_1>"
    assert out.product.description == "Oat drink for coffee, made by <PERSON_2>"
    assert out.questions[1] == "Which cafés does <PERSON_1> supply?"
    assert out.notes == (
        "Contact <PERSON_1> at <EMAIL_ADDRESS_1> or <PHONE_NUMBER_1>, card <CREDIT_CARD_1>, "
        "IBAN <IBAN_CODE_1>, from <IP_ADDRESS_1>. <PERSON_1> signs off."
    )
    assert set(SECRETS) <= vault.values()


def test_brands_markets_and_other_fields_are_kept(agent: PiiAgent, brief: Brief) -> None:
    out = agent.redact_brief(brief, Vault())
    assert out.questions[0] == "How do Alpro and Oatly Barista compare in Germany?"
    assert out.model_dump(exclude={"title", "product", "questions", "notes"}) == brief.model_dump(
        exclude={"title", "product", "questions", "notes"}
    )
    assert (out.product.name, out.product.price) == ("Oatly Barista", 2.49)
    assert brief.notes == NOTES  # the input is not mutated


def test_brief_allow_list_names_markets_in_their_languages(brief: Brief) -> None:
    allow = brief_allow_list(brief)
    for place in ("Germany", "Deutschland", "France", "Frankreich", "Jordan"):
        assert allow.permits("LOCATION", place)
    assert allow.permits("PERSON", "Alpro") and allow.permits("PERSON", "Oatly Barista")
    assert not allow.permits("PERSON", "Maria Keller")


def test_evidence_shares_the_job_vault(agent: PiiAgent, brief: Brief) -> None:
    vault = Vault()
    agent.redact_brief(brief, vault)
    items = [
        Evidence(
            id="e1",
            source="mcp://market-data/de",
            text="Alpro leads in Germany; Maria Keller disagrees.",
            data={"share": 0.4},
        ),
        Evidence(id="e2", source="https://example.com/r", text="Interview with Giulia Rossi (giulia@example.it)."),
    ]
    out = agent.redact_evidence(items, vault, allow=brief_allow_list(brief))
    assert out[0].text == "Alpro leads in Germany; <PERSON_1> disagrees."  # the brief's Maria Keller, same placeholder
    assert re.fullmatch(r"Interview with <PERSON_\d+> \(<EMAIL_ADDRESS_2>\)\.", out[1].text)
    assert [(e.id, e.source, e.data) for e in out] == [(e.id, e.source, e.data) for e in items]


def test_scan_reports_without_changing(agent: PiiAgent) -> None:
    entities = agent.scan("Mail ann@example.com")
    assert [(e.type, e.start, e.end) for e in entities] == [("EMAIL_ADDRESS", 5, 20)]


def test_names_in_a_users_table_are_not_taken_for_dataset_labels(agent: PiiAgent) -> None:
    """A spreadsheet's `name` column puts people where a dataset puts brands; they are redacted, not allow-listed."""
    from datetime import datetime, timezone

    from actors.documents.convert import Limits, convert_document
    from actors.documents.evidence import document_evidence

    csv = b"name,deal_value_eur,notes\nDr. Anna Schmidt,8000,churn risk\nJonas Becker,5000,renewal\n"
    notes = b"# Account notes\n\nJonas Becker wants a discount. Dr. Anna Schmidt called on Monday.\n"
    items = []
    for name, data, doc_id in (("accounts.csv", csv, "doc-0000000000000001"), ("notes.md", notes, "doc-0000000000000002")):
        converted = convert_document(name, data, Limits())
        got, _ = document_evidence(converted, base_id=doc_id, source=f"doc://{doc_id}", source_type="document",
                                   retrieved_at=datetime.now(timezone.utc))
        items += got
    out = agent.redact_evidence(items, Vault())
    text = " ".join(e.text for e in out) + " ".join(k for e in out for k in e.data or {})
    assert "Anna Schmidt" not in text and "Jonas Becker" not in text
    assert any(k.endswith("deal_value_eur") and "<PERSON_" in k for e in out for k in e.data or {})
    # The same keys from a curated dataset are labels (brands), as before.
    dataset = [Evidence(id="ev-x", source="mcp://market-data/x", text="Leaders: Nutty Grove 11% share.",
                        data={"Nutty Grove share_pct": 11.0}, source_type="dataset")]
    assert agent.redact_evidence(dataset, Vault())[0].text == "Leaders: Nutty Grove 11% share."
