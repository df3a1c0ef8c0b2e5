"""Pattern recognizers and name heuristics on their own: what counts, what does not."""

from __future__ import annotations

import pytest

from actors.pii import PiiConfig
from actors.pii.addresses import AddressRecognizer
from actors.pii.chunking import chunk_text
from actors.pii.names import PersonCueRecognizer, RecordNameRecognizer, is_name_like, ner_view
from actors.pii.recognizers import (
    CustomerIdRecognizer,
    EuVatRecognizer,
    IbanChecksumRecognizer,
    PaymentCardRecognizer,
    PhoneFormatRecognizer,
    SocialHandleRecognizer,
)

pytestmark = pytest.mark.unit


def values(recognizer: object, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.find(text)]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00", "de89370400440532013000", "GB29 NWBK 6016 1331 9268 19", "NO93 8601 1117 947",
        "MT84 MALT 0110 0001 2345 MTLC AST0 01S", "BR97 0036 0305 0000 1000 9795 493P 1", "SA03 8000 0000 6080 1016 7519",
        "FR14 2004 1010 0505 0001 3M02 606", "DE89 3704 0044\n0532 0130 00",
    ],
)  # fmt: skip
def test_ibans_of_any_country_case_and_layout(iban: str) -> None:
    assert values(IbanChecksumRecognizer(), f"Pay to {iban}, thanks") == [iban]


def test_iban_needs_a_valid_checksum_and_neighbours_stay_apart() -> None:
    assert values(IbanChecksumRecognizer(), "DE89 3704 0044 0532 0130 01") == []
    text = "gb29nwbk60161331926819 or NL91ABNA0417164300"
    assert values(IbanChecksumRecognizer(), text) == ["gb29nwbk60161331926819", "NL91ABNA0417164300"]


@pytest.mark.parametrize(
    "number",
    [
        "+49 170 1234567", "0049 (0)30 1234567", "+33 6 12 34 56 78", "01 42 68 53 00", "0170/1234567",
        "030-1234567", "(0161) 496 0399", "+44(0)306 9990657", "710.244.8245x53459", "+1-780-563-6083x7783",
        "(591)341-7776", "+34 912 345 678", "+48 12 345 67 89", "+49 151\n23456789",
    ],
)  # fmt: skip
def test_phone_formats(number: str) -> None:
    assert values(PhoneFormatRecognizer(), f"Call {number} today") == [number]


@pytest.mark.parametrize(
    "text",
    [
        "on 2024-05-12 and 12.05.2024", "grew in 2019-2023", "1,234,567 impressions", "EUR 1.299.000",
        "invoice 2023-0042", "order no. 4711-0815", "GTIN 4006040012345", "from 192.168.10.20",
        "Hauptstraße 3/5\n42773 Berlin", "12 500 000 units", "version 10.4.2", "at 14:30:15",
    ],
)
def test_numbers_that_are_not_phones(text: str) -> None:
    assert values(PhoneFormatRecognizer(), text) == []


def test_cards_by_luhn_and_issuer() -> None:
    text = "Visa 4111 1111 1111 1111, Amex 3782 822463 10005, MC 2223-0031-2200-3222, bad 4111 1111 1111 1112"
    assert values(PaymentCardRecognizer(), text) == ["4111 1111 1111 1111", "3782 822463 10005", "2223-0031-2200-3222"]
    assert values(PaymentCardRecognizer(), "GTIN 4006040012345 and EAN 5901234123457") == []


def test_vat_ids_and_their_context_score() -> None:
    text = "ids DE123456789, ATU12345678, NL123456789B01, FR40 303265045 and ESB12345678"
    assert values(EuVatRecognizer(), text) == ["DE123456789", "ATU12345678", "NL123456789B01", "FR40 303265045", "ESB12345678"]
    [with_context] = EuVatRecognizer().find("USt-IdNr. DE123456789")
    [without] = EuVatRecognizer().find("ref DE123456789")
    assert with_context.score > without.score


def test_handles_but_not_email_domains_or_css() -> None:
    text = "@lena_loves_latte tagged @oatly; write to mgmt@lenamedia.com; @media print; @marco.rossi88."
    assert values(SocialHandleRecognizer(), text) == ["@lena_loves_latte", "@oatly", "@marco.rossi88"]


def test_customer_ids_default_and_configured() -> None:
    text = "Merged CUST-0045121 and LEAD-778812; customer no. A-99812; Kundennummer 448812; ticket 5531"
    assert values(CustomerIdRecognizer(), text) == ["CUST-0045121", "LEAD-778812", "A-99812", "448812"]
    own = CustomerIdRecognizer(patterns=[r"\bACME-\d{6}\b"])
    assert values(own, "ACME-123456 and CUST-0045121") == ["ACME-123456"]
    with pytest.raises(ValueError):
        PiiConfig(id_patterns=["(unclosed"])


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Ship samples to Katrin Busch, Hauptstraße 12, 10115 Berlin.", "Hauptstraße 12, 10115 Berlin"),
        ("Adresse : 54, rue de la République, 69002 Lyon", "54, rue de la République, 69002 Lyon"),
        ("Enviar a Calle de Alcalá 45, 28014 Madrid antes del viernes.", "Calle de Alcalá 45, 28014 Madrid"),
        ("Mail to:\n1600 Amphitheatre Parkway\nMountain View, CA 94043", "1600 Amphitheatre Parkway\nMountain View, CA 94043"),
        ("Return address: 221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
        ("Flat 89U\nJacqueline Tunnel\nNew Chelsea\nS07 9XH", "Flat 89U\nJacqueline Tunnel\nNew Chelsea\nS07 9XH"),
    ],
)
def test_postal_addresses(text: str, address: str) -> None:
    assert values(AddressRecognizer(), text) == [address]


def test_amounts_are_not_addresses() -> None:
    assert values(AddressRecognizer(), "the budget was 12500 Euro in 2024, 10000 Units sold") == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Ansprechpartner: Herr Dr. Jürgen Weiß", "Jürgen Weiß"),
        ("BEST REGARDS,\nMARIA KELLER\nHead of Purchasing", "MARIA KELLER"),
        ("Hi Giulia, thanks!", "Giulia"),
        ("my name is Darrell Jones and I buy oat milk", "Darrell Jones"),
        ("Reviewed by Ramazan Neureuther on Monday", "Ramazan Neureuther"),
        ("Paulette Fernandes says the box was damaged", "Paulette Fernandes"),
        ("Emily Clarke <emily.clarke@outlook.com> unsubscribed", "Emily Clarke"),
        ("Lead owner:\nSabine\nFischer", "Sabine\nFischer"),
        ("Quotes by Jan van der Berg were used", "Jan van der Berg"),
        ("Thanks to Sarah O'Connor and James McDonald", "Sarah O'Connor"),
    ],
)
def test_names_by_cue_words(text: str, name: str) -> None:
    assert name in values(PersonCueRecognizer(), text)


def test_cue_words_do_not_make_companies_or_labels_names() -> None:
    assert values(PersonCueRecognizer(), "Company: Dubois Blanchard S.A.S.\nDear Team, hi all") == []
    assert not is_name_like("Müller Kaffee GmbH") and not is_name_like("Sales Team") and is_name_like("Anne-Sophie Müller")


def test_name_field_next_to_an_email_in_a_record() -> None:
    text = "CID-2328150;Terence Clark;georgina32@yahoo.com;028 9018 0986;Hamilton-Ball;North Maria"
    assert values(RecordNameRecognizer(), text) == ["Terence Clark"]
    assert values(RecordNameRecognizer(), '{"name": "Luca Bianchi", "segment": "B2C"}') == ["Luca Bianchi"]


def test_ner_view_title_cases_caps_runs_in_place() -> None:
    text = "SIGNED: MARIA KELLER, IBAN DE89"
    view = ner_view(text)
    assert len(view) == len(text) and view == "SIGNED: Maria Keller, IBAN DE89"  # single caps words stay


def test_chunks_cut_at_sentences_and_keep_offsets() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    chunks = chunk_text(text, 500)
    assert all(len(piece) <= 500 for _, piece in chunks)
    assert "".join(piece for _, piece in chunks) == text
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in chunks)
    assert all(piece.rstrip().endswith(".") for _, piece in chunks)
    assert chunk_text("x" * 1200, 500)[1] == (500, "x" * 500)  # no boundary at all: hard cuts


def test_config_from_settings() -> None:
    from cluster.settings import Settings

    assert PiiConfig.from_settings(Settings()) == PiiConfig()
    config = PiiConfig.from_settings(
        Settings(pii_min_scores={"PERSON": 0.7}, pii_id_patterns=[r"\bACME-\d+\b"], pii_allow_terms=["Oatly"])
    )
    assert config.min_score("PERSON") == 0.7 and config.min_score("PHONE_NUMBER") == 0.45
    assert config.id_patterns == (r"\bACME-\d+\b",) and config.allow_terms == ("Oatly",)


def test_our_recognizer_class_names_do_not_shadow_presidios() -> None:
    """Presidio's default registry picks recognizer classes by name among all subclasses: names must be unique."""
    from collections import Counter

    from presidio_analyzer import EntityRecognizer
    from presidio_analyzer.recognizer_registry.recognizers_loader_utils import RecognizerListLoader

    import actors.pii.analyzer  # noqa: F401 - defines ours

    names = Counter(c.__name__ for c in RecognizerListLoader.get_all_existing_recognizers(EntityRecognizer))
    assert [n for n, count in names.items() if count > 1] == []
