"""Labeled merge cases, part A: clean agreement, paraphrases, wrong numbers, unit and magnitude slips."""

from __future__ import annotations

from tests.data.merge.casekit import C

CASES = [
    # --- clean agreement and paraphrase -------------------------------------------------------------
    C("clean-identical", "de_dairy", ["clean"], {
        "openai": [("o1", "The German dairy alternatives market was worth EUR 1,480 million in 2024.", ["ev-de-market"])],
        "gemini": [("g1", "The German dairy alternatives market was worth EUR 1,480 million in 2024.", ["ev-de-market"])],
        "xai": [("x1", "The German dairy alternatives market was worth EUR 1,480 million in 2024.", ["ev-de-market"])],
    }, groups=[["o1", "g1", "x1"]]),
    C("paraphrase-market-size-magnitudes", "de_dairy", ["paraphrase", "magnitude"], {
        "openai": [("o1", "Germany's dairy-alternatives market is worth about €1.48bn.", ["ev-de-market"])],
        "gemini": [("g1", "In 2024 German plant-based dairy sales reached EUR 1,480 million.", ["ev-de-market"])],
        "xai": [("x1", "The market for dairy alternatives in Germany is roughly 1.5 billion euros.", ["ev-de-market"])],
    }, groups=[["o1", "g1", "x1"]]),
    C("paraphrase-growth", "de_dairy", ["paraphrase"], {
        "openai": [("o1", "The German dairy alternatives category grows 6.4% per year.", ["ev-de-market"], 6.4, "%")],
        "gemini": [("g1", "Annual growth of dairy alternatives in Germany is around 6%.", ["ev-de-market"])],
        "xai": [("x1", "Germany's plant-based dairy segment is expanding at 6.4 percent annually.", ["ev-de-market"])],
    }, groups=[["o1", "g1", "x1"]]),
    C("paraphrase-leader", "de_dairy", ["paraphrase"], {
        "openai": [("o1", "Oatfield leads the German market with a 27% share.", ["ev-de-competitors"])],
        "gemini": [("g1", "With 27 percent of category value, Oatfield is the largest brand in Germany.",
                    ["ev-de-competitors"])],
        "xai": [("x1", "Market leader in Germany: Oatfield (27.0% share).", ["ev-de-competitors"], 27.0, "share pct")],
    }, groups=[["o1", "g1", "x1"]]),
    C("paraphrase-two-topics", "de_dairy", ["paraphrase"], {
        "openai": [("o1", "Soyana is the second brand with a 19.5% share.", ["ev-de-competitors"]),
                   ("o2", "Verdalat is the cheapest of the four brands at EUR 1.59.", ["ev-de-competitors"])],
        "gemini": [("g1", "Verdalat sells at EUR 1.59, the lowest shelf price among leading brands.",
                    ["ev-de-competitors"]),
                   ("g2", "Soyana holds 19.5% of the German category.", ["ev-de-competitors"])],
    }, groups=[["o1", "g2"], ["o2", "g1"]]),
    C("paraphrase-usd", "us_snacks", ["paraphrase", "currency"], {
        "openai": [("o1", "US savory snack sales were $24.6 billion in 2024.", ["ev-us-sales"])],
        "gemini": [("g1", "American savory snacks generated USD 24,600 million in retail sales last year.",
                    ["ev-us-sales"])],
        "xai": [("x1", "Savory snack retail sales in the US reached 24.6 bn USD.", ["ev-us-sales"], 24.6, "USD bn")],
    }, groups=[["o1", "g1", "x1"]]),
    C("paraphrase-text-only-evidence", "us_snacks", ["paraphrase"], {
        "openai": [("o1", "Crunchwell is the largest savory snack brand in the US with 31% value share.",
                    ["ev-us-brands"])],
        "gemini": [("g1", "Crunchwell holds a 31% share of US savory snacks, ahead of Munchly.", ["ev-us-brands"])],
    }, groups=[["o1", "g1"]]),
    C("clean-mixed-coverage", "fr_coffee", ["clean"], {
        "openai": [("o1", "France's coffee market was worth EUR 3.25 billion in 2024.", ["ev-fr-market"]),
                   ("o2", "Crema Nova leads French coffee with 24% share.", ["ev-fr-competitors"])],
        "gemini": [("g1", "The French coffee market is valued at EUR 3,250 million.", ["ev-fr-market"]),
                   ("g2", "Montebrew is the premium option at EUR 8.99.", ["ev-fr-competitors"])],
        "xai": [("x1", "Coffee in France grows slowly, at 1.8% a year.", ["ev-fr-market"])],
    }, groups=[["o1", "g1"]]),
    C("clean-rounding", "de_plant_milk", ["clean", "rounding"], {
        "openai": [("o1", "German plant-based milk sales are about EUR 1.1 bn.", ["ev-market-size"], 1.1, "EUR bn")],
        "gemini": [("g1", "Plant milk sales in Germany total roughly EUR 1,100 million.", ["ev-market-size"])],
        "xai": [("x1", "Oat accounts for 54% of plant-based milk volume in Germany.", ["ev-share-oat"])],
    }, groups=[["o1", "g1"]]),
    C("clean-survey", "de_plant_milk", ["clean", "paraphrase"], {
        "openai": [("o1", "41% of urban coffee drinkers aged 25-40 order plant-based milk weekly.", ["ev-survey"])],
        "gemini": [("g1", "Two in five young urban coffee drinkers (41%) choose a plant-based milk every week.",
                    ["ev-survey"])],
    }, groups=[["o1", "g1"]]),
    C("clean-stub-style", "de_dairy", ["clean", "stub"], {
        "openai": [("o1", "The dairy alternatives market in Germany (DE) was worth EUR 1,480.0 million in 2024, growing "
                          "6.4% a year (sample dataset; illustrative, not real figures) (growth pct: 6.4).",
                    ["ev-de-market"], 6.4, "growth pct")],
        "gemini": [("g1", "The dairy alternatives market in Germany (DE) was worth EUR 1,480.0 million in 2024, growing "
                          "6.4% a year (sample dataset; illustrative, not real figures) (value eur m: 1480).",
                    ["ev-de-market"], 1480.0, "value eur m")],
    }, groups=[["o1", "g1"]]),
    # --- wrong numbers --------------------------------------------------------------------------------
    C("wrong-market-size-one-of-three", "de_dairy", ["wrong-number"], {
        "openai": [("o1", "The German dairy alternatives market was worth EUR 1.48 billion in 2024.", ["ev-de-market"])],
        "gemini": [("g1", "Germany's dairy alternatives market reached EUR 1,480 million in 2024.", ["ev-de-market"])],
        "xai": [("x1", "The German dairy alternatives market was worth EUR 1.85 billion in 2024.", ["ev-de-market"])],
    }, hallucinated=["x1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "g1"]]),
    C("wrong-growth", "de_dairy", ["wrong-number"], {
        "openai": [("o1", "Dairy alternatives in Germany grow 6.4% a year.", ["ev-de-market"])],
        "gemini": [("g1", "Dairy alternatives in Germany grow 9.4% a year.", ["ev-de-market"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("wrong-share", "de_dairy", ["wrong-number"], {
        "openai": [("o1", "Oatfield holds a 27% share of the German market.", ["ev-de-competitors"])],
        "gemini": [("g1", "Oatfield holds a 35% share of the German market.", ["ev-de-competitors"])],
        "xai": [("x1", "Oatfield has 27 percent of German dairy alternatives sales.", ["ev-de-competitors"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "x1"]]),
    C("wrong-price-swapped-brand", "de_dairy", ["wrong-number"], {
        "openai": [("o1", "Soyana is priced at EUR 1.89.", ["ev-de-competitors"])],
        "gemini": [("g1", "Soyana is priced at EUR 2.29.", ["ev-de-competitors"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("wrong-number-single-no-peer", "fr_coffee", ["wrong-number"], {
        "openai": [("o1", "Roastline holds 17% of the French coffee market.", ["ev-fr-competitors"])],
        "gemini": [("g1", "The French coffee market grows 4.5% a year.", ["ev-fr-market"])],
        "xai": [("x1", "Crema Nova's shelf price is EUR 6.99.", ["ev-fr-competitors"])],
    }, hallucinated=["g1"]),
    C("wrong-number-both-wrong-agree", "fr_coffee", ["wrong-number"], {
        "openai": [("o1", "French coffee is a EUR 4.1 billion market.", ["ev-fr-market"])],
        "gemini": [("g1", "The coffee market in France is worth EUR 4,100 million.", ["ev-fr-market"])],
        "xai": [("x1", "France's coffee market was EUR 3.25bn in 2024.", ["ev-fr-market"])],
    }, hallucinated=["o1", "g1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "g1"]]),
    C("wrong-number-structured-value", "es_care", ["wrong-number"], {
        "openai": [("o1", "Spain's personal care market grows steadily.", ["ev-es-market"], 3.9, "growth pct")],
        "gemini": [("g1", "Spain's personal care market grows steadily.", ["ev-es-market"], 5.9, "growth pct")],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("wrong-usd-sales", "us_snacks", ["wrong-number", "currency"], {
        "openai": [("o1", "US savory snack sales reached $24.6 billion in 2024.", ["ev-us-sales"])],
        "gemini": [("g1", "US savory snack sales reached $31.2 billion in 2024.", ["ev-us-sales"])],
        "xai": [("x1", "US savory snack sales grew 3.2% in 2024.", ["ev-us-sales"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("wrong-text-only-share", "us_snacks", ["wrong-number"], {
        "openai": [("o1", "Munchly holds a 14% share of US savory snacks.", ["ev-us-brands"])],
        "gemini": [("g1", "Munchly holds a 24% share of US savory snacks.", ["ev-us-brands"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("wrong-population", "de_dairy", ["wrong-number"], {
        "openai": [("o1", "Germany has a population of about 83.2 million.", ["ev-de-facts"])],
        "gemini": [("g1", "Germany has a population of about 92 million.", ["ev-de-facts"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    # --- unit and magnitude slips ---------------------------------------------------------------------
    C("magnitude-bn-for-m", "de_dairy", ["magnitude"], {
        "openai": [("o1", "Germany's dairy alternatives market is worth EUR 1,480 million.", ["ev-de-market"])],
        "gemini": [("g1", "Germany's dairy alternatives market is worth EUR 1,480 billion.", ["ev-de-market"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("magnitude-structured-unit", "de_dairy", ["magnitude"], {
        "openai": [("o1", "German dairy alternatives market size.", ["ev-de-market"], 1.48, "EUR bn")],
        "gemini": [("g1", "German dairy alternatives market size.", ["ev-de-market"], 1.48, "EUR m")],
        "xai": [("x1", "German dairy alternatives market size.", ["ev-de-market"], 1480.0, "EUR million")],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1", "x1"], "numeric")], groups=[["o1", "x1"]]),
    C("magnitude-thousand", "fr_coffee", ["magnitude"], {
        "openai": [("o1", "The French coffee market amounts to EUR 3,250 thousand.", ["ev-fr-market"])],
        "gemini": [("g1", "The French coffee market amounts to EUR 3.25 billion.", ["ev-fr-market"])],
    }, hallucinated=["o1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("unit-percent-vs-points-ok", "es_care", ["clean", "rounding"], {
        "openai": [("o1", "Lumina has a 22 percent share in Spanish personal care.", ["ev-es-competitors"])],
        "gemini": [("g1", "Lumina's share of Spain's personal care market is 22.0%.", ["ev-es-competitors"],
                    22.0, "share pct")],
    }, groups=[["o1", "g1"]]),
    C("magnitude-usd-million", "us_snacks", ["magnitude", "currency"], {
        "openai": [("o1", "US savory snacks are a $24.6 million category.", ["ev-us-sales"])],
        "gemini": [("g1", "US savory snacks are a $24.6 billion category.", ["ev-us-sales"])],
    }, hallucinated=["o1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("magnitude-continental-format", "de_dairy", ["magnitude", "clean"], {
        "openai": [("o1", "Der Markt: Oatfield kostet 2,29 € im Regal.", ["ev-de-competitors"])],
        "gemini": [("g1", "Oatfield's shelf price is EUR 2.29.", ["ev-de-competitors"])],
    }, groups=[["o1", "g1"]]),
    C("magnitude-growth-fraction-slip", "at_interviews", ["magnitude"], {
        "openai": [("o1", "The Austrian dairy alternatives market grows 7.2% a year.", ["ev-at-market"])],
        "gemini": [("g1", "The Austrian dairy alternatives market grows 72% a year.", ["ev-at-market"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
]
