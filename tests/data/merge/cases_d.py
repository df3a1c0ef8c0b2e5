"""Labeled merge cases, part D: held out — written after the rules were tuned on parts A-C, to check they generalize."""

from __future__ import annotations

from tests.data.merge.casekit import C

CASES = [
    C("holdout-cagr-and-euro-words", "de_dairy", ["holdout", "paraphrase"], {
        "openai": [("o1", "Dairy alternatives in Germany show a CAGR of 6.4%.", ["ev-de-market"])],
        "gemini": [("g1", "The German dairy-free segment is a 1.48 billion euro business.", ["ev-de-market"])],
        "xai": [("x1", "Germany: dairy alternatives worth €1,480m, +6.4% p.a.", ["ev-de-market"])],
    }),
    C("holdout-two-figures-one-wrong", "fr_coffee", ["holdout", "wrong-number"], {
        "openai": [("o1", "French coffee is worth EUR 3.25bn and grows 1.8% a year.", ["ev-fr-market"])],
        "gemini": [("g1", "French coffee is worth EUR 3.25bn and grows 4.8% a year.", ["ev-fr-market"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("holdout-city-not-in-evidence", "de_dairy", ["holdout", "invented-competitor"], {
        "openai": [("o1", "Oatfield is headquartered in Munich.", ["ev-de-competitors"])],
        "gemini": [("g1", "Berlin is the capital of Germany.", ["ev-de-facts"])],
    }, hallucinated=["o1"]),
    C("holdout-wrong-country-figure", "fr_coffee", ["holdout", "wrong-number"], {
        "openai": [("o1", "The German coffee market is worth EUR 3.25 billion.", ["ev-fr-market"])],
        "gemini": [("g1", "The German coffee market is worth EUR 5.12 billion.", ["ev-de-market"])],
    }, hallucinated=["o1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("holdout-share-fell", "de_dairy", ["holdout", "wrong-number"], {
        "openai": [("o1", "Soyana's share is 19.5%.", ["ev-de-competitors"])],
        "gemini": [("g1", "Soyana's share fell to 12%.", ["ev-de-competitors"])],
        "xai": [("x1", "Soyana accounts for nearly a fifth of the market (19.5%).", ["ev-de-competitors"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "x1"]]),
    C("holdout-invented-source-url", "us_snacks", ["holdout", "invented-source"], {
        "openai": [("o1", "Crunchwell has a 31% value share in the US.", ["ev-us-brands"])],
        "gemini": [("g1", "Crunchwell has a 31% value share in the US.", ["https://www.example.net/crunchwell-2024"])],
    }, hallucinated=["g1"]),
    C("holdout-pseudonymized-quote-agreement", "at_interviews", ["holdout", "pseudonymized"], {
        "openai": [("o1", "<PERSON_2>'s panel: a third of Austrian households (33%) bought plant-based drinks.",
                    ["ev-at-survey"])],
        "gemini": [("g1", "33 percent of households in Austria bought a plant-based drink last month, per <PERSON_2>.",
                    ["ev-at-survey"])],
    }, groups=[["o1", "g1"]]),
    C("holdout-magnitude-k", "at_interviews", ["holdout", "magnitude"], {
        "openai": [("o1", "Austria's dairy alternatives market is worth EUR 210m.", ["ev-at-market"])],
        "gemini": [("g1", "Austria's dairy alternatives market is worth EUR 210k.", ["ev-at-market"])],
        "xai": [("x1", "Austria's dairy alternatives market is worth EUR 0.21 billion.", ["ev-at-market"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "x1"]]),
    C("holdout-cheapest-wrong", "es_care", ["holdout", "contradiction"], {
        "openai": [("o1", "Pureva is the cheapest of the leading Spanish brands.", ["ev-es-competitors"])],
        "gemini": [("g1", "Aqualis is the most affordable leading brand in Spain at EUR 3.20.", ["ev-es-competitors"])],
    }, hallucinated=["o1"]),
    C("holdout-majority-opinion", "us_snacks", ["holdout", "unverifiable"], {
        "openai": [("o1", "Protein snacks are a growing niche in the US.", [])],
        "gemini": [("g1", "High-protein snacks are a fast-growing niche in America.", [])],
        "xai": [("x1", "US savory snack sales rose 3.2% in 2024.", ["ev-us-sales"])],
    }, groups=[["o1", "g1"]]),
    C("holdout-price-usd-vs-eur", "us_snacks", ["holdout", "currency"], {
        "openai": [("o1", "A 200 g bag of chips costs EUR 3.49 in the US.", ["ev-us-price"])],
        "gemini": [("g1", "A 200 g bag of chips costs USD 3.49 in the US.", ["ev-us-price"])],
    }, hallucinated=["o1"]),
    C("holdout-degraded-disagreement", "es_care", ["holdout", "degraded", "wrong-number"], {
        "openai": [("o1", "Lumina sells at EUR 4.50.", ["ev-es-competitors"])],
        "xai": [("x1", "Lumina sells at EUR 5.40.", ["ev-es-competitors"])],
    }, missing={"gemini": "error"}, hallucinated=["x1"], disagreements=[(["o1", "x1"], "numeric")]),
]
