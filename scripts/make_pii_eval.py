"""Generate the Faker part of the PII evaluation set (tests/data/pii/generated.jsonl), reproducibly.

Run: python scripts/make_pii_eval.py [--count 220] [--seed 20260101] [--out tests/data/pii/generated.jsonl]

Marketing-style texts (CRM notes, lead lists, reviews, survey answers, payment notes, web logs,
social mentions, B2B records) filled with Faker values from the en_US, en_GB, de_DE, fr_FR and
es_ES locales; every planted value is labeled with its Presidio entity type and character span.
Non-PII distractors (prices, SKUs, order numbers, dates, percentages, brands) stay unlabeled.
The hand-written hard cases live beside it in hard_cases.yaml. Requires the `dev` extra (faker).
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from faker import Faker

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES")
OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii" / "generated.jsonl"
BRANDS = ("Oatly", "Alpro", "Califia Farms", "Minor Figures", "Rude Health", "Planet Oat", "Vly")
PRODUCTS = ("Oat Barista 1L", "Almond Original", "Soy Light", "Oat Chocolate", "Pea Protein Drink")
ALLOW = BRANDS + PRODUCTS  # what a brief names as product and competitors: never redacted
EVENTS = ("BIOFACH", "the Coffee Fest", "ISM Cologne", "SIAL Paris", "our webinar", "the Barista Expo")
ID_PREFIXES = ("CUST-", "LEAD-", "CRM-", "KD-", "CID-")
PHONE_LABELS = ("phone", "Tel.", "mobile", "call", "Téléphone", "Teléfono", "Handy", "cell")


class Text:
    """A text under construction that records the span of every labeled part."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.entities: list[dict[str, object]] = []

    def add(self, value: str, entity_type: str | None = None) -> Text:
        """Append a part; label it when an entity type is given."""
        if entity_type:
            self.entities.append({"type": entity_type, "start": self.size, "end": self.size + len(value)})
        self.parts.append(value)
        self.size += len(value)
        return self

    def __call__(self, *pieces: str | tuple[str, str]) -> Text:
        """Append plain strings and `(value, TYPE)` pairs."""
        for piece in pieces:
            self.add(*piece) if isinstance(piece, tuple) else self.add(piece)
        return self

    @property
    def text(self) -> str:
        """The text so far."""
        return "".join(self.parts)


class Values:
    """Faker values for one text, in one locale."""

    def __init__(self, fake: Faker, rng: random.Random, locale: str) -> None:
        self.fake, self.rng, self.locale = fake, rng, locale

    def person(self) -> tuple[str, str]:
        return f"{self.fake.first_name()} {self.fake.last_name()}", "PERSON"

    def email(self) -> tuple[str, str]:
        kind = self.rng.choice(("email", "free_email", "company_email"))
        return getattr(self.fake, kind)(), "EMAIL_ADDRESS"

    def phone(self) -> tuple[str, str]:
        return self.fake.phone_number(), "PHONE_NUMBER"

    def iban(self) -> tuple[str, str]:
        raw = self.fake.iban()
        if self.rng.random() < 0.5:  # printed form: groups of four
            raw = " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
        return raw, "IBAN_CODE"

    def card(self) -> tuple[str, str]:
        number = self.fake.credit_card_number()
        if len(number) == 16 and self.rng.random() < 0.5:
            number = self.rng.choice((" ", "-")).join(number[i : i + 4] for i in range(0, 16, 4))
        return number, "CREDIT_CARD"

    def ip(self) -> tuple[str, str]:
        return (self.fake.ipv4() if self.rng.random() < 0.8 else self.fake.ipv6()), "IP_ADDRESS"

    def address(self) -> tuple[str, str]:
        return self.fake.address().replace("\n", self.rng.choice((", ", "\n"))), "LOCATION"

    def city(self) -> tuple[str, str]:
        return self.fake.city(), "LOCATION"

    def handle(self) -> tuple[str, str]:
        return "@" + self.fake.user_name(), "SOCIAL_HANDLE"

    def customer_id(self) -> tuple[str, str]:
        return f"{self.rng.choice(ID_PREFIXES)}{self.rng.randint(10000, 9999999)}", "CUSTOMER_ID"

    def vat(self) -> tuple[str, str]:
        country = {"de_DE": "DE", "fr_FR": "FR", "es_ES": "ES"}.get(self.locale)
        if country == "DE":
            return f"DE{self.rng.randint(100000000, 999999999)}", "EU_VAT_ID"
        if country == "FR":
            return f"FR{self.rng.randint(10, 99)} {self.rng.randint(100000000, 999999999)}", "EU_VAT_ID"
        if country == "ES":
            return f"ES{self.rng.choice('ABCDEFGHJ')}{self.rng.randint(10000000, 99999999)}", "EU_VAT_ID"
        other = self.rng.choice(("ATU%08d", "NL%09dB01", "IT%011d", "BE0%09d", "PL%010d"))
        return other % self.rng.randint(10**7, 10**8 - 1), "EU_VAT_ID"

    def price(self) -> str:
        amount = self.rng.randint(1, 2000) + self.rng.choice((0, 0.49, 0.99, 0.5))
        return self.rng.choice((f"EUR {amount:.2f}", f"{amount:.2f} €", f"${amount:,.2f}", f"£{amount:.2f}"))

    def sku(self) -> str:
        return self.rng.choice((f"SKU {self.rng.randint(1000, 99999)}-{self.rng.choice('ABCDE')}",
                                f"Art.-Nr. {self.rng.randint(100000, 999999)}",
                                f"order #{self.rng.randint(100000, 9999999)}",
                                f"invoice {self.rng.randint(2019, 2025)}-{self.rng.randint(1, 9999):04d}"))

    def date(self) -> str:
        d = self.fake.date_between_dates(date(2023, 1, 1), date(2025, 12, 31))
        return self.rng.choice((d.isoformat(), d.strftime("%d.%m.%Y"), d.strftime("%B %d, %Y")))

    def brand(self) -> str:
        return self.rng.choice(BRANDS)

    def product(self) -> str:
        return self.rng.choice(PRODUCTS)


def crm_note(v: Values, t: Text) -> None:
    t("Met ", v.person(), " at ", v.rng.choice(EVENTS), " on ", v.date(), ". Follow up via ", v.email(),
      f" or {v.rng.choice(PHONE_LABELS)} ", v.phone(), f". Interested in {v.product()} ({v.sku()}), budget {v.price()}.")


def lead_row(v: Values, t: Text) -> None:
    t(v.customer_id(), ";", v.person(), ";", v.email(), ";", v.phone(), f";{v.fake.company()};", v.city(),
      f";{v.rng.randint(1, 100)}% score")


def review(v: Values, t: Text) -> None:
    t(f"{v.rng.randint(1, 5)}/5 stars: {v.brand()} {v.product()} was {v.rng.choice(('great', 'too sweet', 'ok'))} "
      f"for {v.price()}. Reviewed by ", v.person(), " from ", v.city(), f" on {v.date()}.")


def survey(v: Values, t: Text) -> None:
    t(f"Q3: Which oat drink do you buy? A: Mostly {v.brand()}, sometimes {v.brand()}. "
      "Happy to join the panel, my name is ", v.person(), " and you can write to ", v.email(), ".")


def payment(v: Values, t: Text) -> None:
    t("Refund for ", v.sku(), f" ({v.price()}) to ", v.person(), ", IBAN ", v.iban(), ", customer ", v.customer_id(), ".")


def card_note(v: Values, t: Text) -> None:
    t(f"Pre-order of {v.product()} paid by card ", v.card(), " by ", v.person(), f" on {v.date()}, total {v.price()}.")


def web_log(v: Values, t: Text) -> None:
    t(f"{v.date()} newsletter signup from ", v.ip(), " (", v.email(), f"), campaign spring-{v.rng.randint(20, 26)}, "
      f"conversion {v.rng.randint(1, 9)}.{v.rng.randint(0, 9)}%.")


def social(v: Values, t: Text) -> None:
    t(f"Top mention this week: ", v.handle(), f" loved {v.brand()} in a cappuccino "
      f"({v.rng.randint(100, 9000)} likes); reposted by ", v.handle(), ". Offline contact: ", v.person(), ".")


def b2b(v: Values, t: Text) -> None:
    t(f"Distributor {v.fake.company()}, VAT ", v.vat(), ", contact ", v.person(), f" ({v.fake.job()}), ",
      v.phone(), ". Address: ", v.address(), ".")


def form(v: Values, t: Text) -> None:
    t("Event registration\nName: ", v.person(), "\nEmail: ", v.email(), "\nPhone: ", v.phone(),
      f"\nCompany: {v.fake.company()}\nTicket: {v.sku()}\n")


def ticket(v: Values, t: Text) -> None:
    t(f"Support ticket {v.rng.randint(10000, 99999)}: ", v.person(), " says the ", v.product(),
      " arrived damaged. Ship a replacement to ", v.address(), ". Callback on ", v.phone(), ".")


def mixed(v: Values, t: Text) -> None:
    t("Hi team, ", v.person(), " (", v.handle(), ") wants samples. Lead ", v.customer_id(), ", paid with ",
      v.card(), ", last login from ", v.ip(), f". Sales grew {v.rng.randint(2, 40)}% in {v.date()}.")


TEMPLATES: tuple[Callable[[Values, Text], None], ...] = (
    crm_note, lead_row, review, survey, payment, card_note, web_log, social, b2b, form, ticket, mixed,
)


def generate(count: int, seed: int) -> list[dict[str, Any]]:
    """Return `count` labeled texts, the same for the same seed."""
    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for i, fake in enumerate(fakers.values()):
        fake.seed_instance(seed + i)
    out: list[dict[str, Any]] = []
    for i in range(count):
        locale = LOCALES[i % len(LOCALES)]  # 5 and 12 are coprime: every locale meets every template
        template = TEMPLATES[i % len(TEMPLATES)]
        text = Text()
        template(Values(fakers[locale], rng, locale), text)
        out.append({"id": f"gen-{i:04d}", "locale": locale, "kind": template.__name__, "text": text.text,
                    "entities": text.entities, "allow": list(ALLOW)})
    return out


def main() -> None:
    """Write the generated set as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=220)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = generate(args.count, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} texts, {sum(len(r['entities']) for r in rows)} entities to {args.out}")


if __name__ == "__main__":
    main()
