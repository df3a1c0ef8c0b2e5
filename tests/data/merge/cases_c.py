"""Labeled merge cases, part C: realistic multi-claim answers mixing several kinds of error, tolerance edges."""

from __future__ import annotations

from tests.data.merge.casekit import C

CASES = [
    C("mixed-three-answers", "de_dairy", ["mixed", "wrong-number", "invented-competitor", "paraphrase"], {
        "openai": [
            ("o1", "Germany's dairy alternatives market was worth EUR 1.48bn in 2024.", ["ev-de-market"]),
            ("o2", "The category is growing 6.4% a year.", ["ev-de-market"]),
            ("o3", "Oatfield leads with a 27% share, followed by Soyana at 19.5%.", ["ev-de-competitors"]),
            ("o4", "Verdalat is the price entry brand at EUR 1.59.", ["ev-de-competitors"]),
        ],
        "gemini": [
            ("g1", "German dairy alternatives sales reached EUR 1,480 million in 2024.", ["ev-de-market"]),
            ("g2", "Growth in the category runs at 8.1% annually.", ["ev-de-market"]),
            ("g3", "Oatfield is the leading brand with 27% of category value.", ["ev-de-competitors"]),
            ("g4", "Greenmoo is the fastest-growing challenger brand.", ["ev-de-competitors"]),
        ],
        "xai": [
            ("x1", "The German market for dairy alternatives is about EUR 1.5 billion.", ["ev-de-market"]),
            ("x2", "Dairy alternatives grow at 6.4% per year in Germany.", ["ev-de-market"]),
            ("x3", "Nutty Grove sells at EUR 2.79, the most expensive of the leading brands.", ["ev-de-competitors"]),
        ],
    }, hallucinated=["g2", "g4"], disagreements=[(["o2", "g2", "x2"], "numeric")],
        groups=[["o1", "g1", "x1"], ["o2", "x2"], ["o3", "g3"]]),
    C("mixed-coffee-answers", "fr_coffee", ["mixed", "magnitude", "invented-source"], {
        "openai": [
            ("o1", "The French coffee market is worth EUR 3.25 billion.", ["ev-fr-market"]),
            ("o2", "Montebrew is the premium brand at EUR 8.99 per pack.", ["ev-fr-competitors"]),
            ("o3", "Roastline has 17% of French coffee sales.", ["ev-fr-competitors"]),
        ],
        "gemini": [
            ("g1", "French coffee sales total EUR 3,250 billion.", ["ev-fr-market"]),
            ("g2", "Montebrew retails at EUR 8.99.", ["ev-fr-competitors"]),
            ("g3", "Capsule coffee makes up 40% of French coffee sales.", ["ev-fr-capsules"]),
        ],
        "xai": [
            ("x1", "In France, coffee is a EUR 3,250 million market growing 1.8% a year.", ["ev-fr-market"]),
            ("x2", "Roastline holds a 17 percent share in France.", ["ev-fr-competitors"]),
        ],
    }, hallucinated=["g1", "g3"], disagreements=[(["o1", "g1", "x1"], "numeric")],
        groups=[["o1", "x1"], ["o2", "g2"], ["o3", "x2"]]),
    C("tolerance-within", "es_care", ["clean", "rounding"], {
        "openai": [("o1", "The Spanish personal care market is worth about EUR 7.6 billion.", ["ev-es-market"])],
        "gemini": [("g1", "Spain's personal care market is roughly EUR 7,700 million.", ["ev-es-market"])],
    }, groups=[["o1", "g1"]]),
    C("tolerance-just-outside", "es_care", ["wrong-number"], {
        "openai": [("o1", "Aqualis holds 15.0% of Spanish personal care.", ["ev-es-competitors"])],
        "gemini": [("g1", "Aqualis holds 16.5% of Spanish personal care.", ["ev-es-competitors"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("wrong-citation-true-elsewhere", "de_dairy", ["clean"], {
        "openai": [("o1", "Oatfield is priced at EUR 2.29.", ["ev-de-market"])],
        "gemini": [("g1", "Oatfield costs EUR 2.29 on the shelf.", ["ev-de-competitors"])],
    }, groups=[["o1", "g1"]]),
    C("area-and-population", "de_dairy", ["clean", "paraphrase"], {
        "openai": [("o1", "Germany covers 357,114 km² and has 83.2 million inhabitants.", ["ev-de-facts"])],
        "gemini": [("g1", "Germany has roughly 83 million people.", ["ev-de-facts"])],
        "xai": [("x1", "Germany's area is about 357,000 km2.", ["ev-de-facts"])],
    }),
    C("usd-price-paraphrase-and-slip", "us_snacks", ["currency", "wrong-number", "paraphrase"], {
        "openai": [("o1", "A 200 g bag of chips costs $3.49 at the median.", ["ev-us-price"])],
        "gemini": [("g1", "Median US shelf price for a 200 g bag of potato chips is USD 3.49.", ["ev-us-price"])],
        "xai": [("x1", "A 200 g bag of chips costs $4.99 at the median.", ["ev-us-price"])],
    }, hallucinated=["x1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "g1"]]),
    C("different-countries-not-merged", "fr_coffee", ["clean"], {
        "openai": [("o1", "The coffee market in France grows 1.8% a year.", ["ev-fr-market"])],
        "gemini": [("g1", "The coffee market in Germany grows 2.1% a year.", ["ev-de-market"])],
    }),
    C("different-brands-not-merged", "de_dairy", ["clean"], {
        "openai": [("o1", "Soyana holds 19.5% of the German category.", ["ev-de-competitors"])],
        "gemini": [("g1", "Nutty Grove holds 11% of the German category.", ["ev-de-competitors"])],
        "xai": [("x1", "Verdalat holds 8.5% of the German category.", ["ev-de-competitors"])],
    }),
    C("same-topic-different-years-evidence", "de_plant_milk", ["wrong-number"], {
        "openai": [("o1", "Plant-based milk sales in Germany rose 9% in 2024.", ["ev-market-size"])],
        "gemini": [("g1", "Plant-based milk sales in Germany rose 19% in 2024.", ["ev-market-size"])],
        "xai": [("x1", "German plant milk retail grew 9 percent last year.", ["ev-market-size"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "x1"]]),
    C("survey-sample-size-slip", "de_plant_milk", ["magnitude"], {
        "openai": [("o1", "The coffee habits survey sampled 2,034 people.", ["ev-survey"])],
        "gemini": [("g1", "The coffee habits survey sampled 20,340 people.", ["ev-survey"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("long-answer-clean", "es_care", ["clean", "paraphrase"], {
        "openai": [
            ("o1", "Spain's personal care market was worth EUR 7,600 million in 2024.", ["ev-es-market"]),
            ("o2", "It grows 3.9% a year.", ["ev-es-market"]),
            ("o3", "Lumina leads with 22% share at EUR 4.50.", ["ev-es-competitors"]),
            ("o4", "Pureva is the premium brand at EUR 5.80.", ["ev-es-competitors"]),
        ],
        "gemini": [
            ("g1", "Personal care in Spain is a EUR 7.6bn market.", ["ev-es-market"]),
            ("g2", "Annual growth is 3.9%.", ["ev-es-market"]),
            ("g3", "Aqualis has 15% share and sells at EUR 3.20.", ["ev-es-competitors"]),
        ],
        "xai": [
            ("x1", "The Spanish personal care market is valued at EUR 7.6 billion.", ["ev-es-market"]),
            ("x2", "Pureva costs EUR 5.80, the highest price among leaders.", ["ev-es-competitors"]),
        ],
    }, groups=[["o1", "g1", "x1"], ["o2", "g2"], ["o4", "x2"]]),
]
