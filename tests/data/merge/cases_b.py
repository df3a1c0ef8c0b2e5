"""Labeled merge cases, part B: invented sources and competitors, contradictions, pseudonyms, degraded runs."""

from __future__ import annotations

from tests.data.merge.casekit import C

CASES = [
    # --- invented sources -------------------------------------------------------------------------------
    C("invented-source-single", "de_dairy", ["invented-source"], {
        "openai": [("o1", "Oatfield holds 27% of the German market.", ["ev-de-competitors"])],
        "gemini": [("g1", "Euromonitor data show German oat drink sales up 14% in 2024.", ["ev-euromonitor-2024"])],
    }, hallucinated=["g1"]),
    C("invented-source-correct-figure", "de_dairy", ["invented-source"], {
        "openai": [("o1", "The German dairy alternatives market grows 6.4% a year.", ["ev-de-market"])],
        "gemini": [("g1", "The German dairy alternatives market grows 6.4% a year.", ["ev-de-growth-2024"])],
        "xai": [("x1", "Dairy alternatives in Germany grow by 6.4% annually.", ["ev-de-market"])],
    }, hallucinated=["g1"], groups=[["o1", "x1"]]),
    C("invented-source-mixed-citation", "fr_coffee", ["invented-source"], {
        "openai": [("o1", "Crema Nova leads French coffee with a 24% share.", ["ev-fr-competitors", "ev-fr-nielsen-q3"])],
        "gemini": [("g1", "Crema Nova is the French coffee leader at 24% share.", ["ev-fr-competitors"])],
    }, hallucinated=["o1"]),
    C("invented-source-all-providers", "us_snacks", ["invented-source"], {
        "openai": [("o1", "Private label holds 22% of US savory snacks.", ["ev-us-private-label"])],
        "gemini": [("g1", "Store brands account for 22% of US savory snack sales.", ["ev-us-private-label"])],
    }, hallucinated=["o1", "g1"], groups=[["o1", "g1"]]),
    C("invented-source-https-style", "de_plant_milk", ["invented-source"], {
        "openai": [("o1", "Oat drinks hold 54% of plant-based milk volume in German retail.", ["ev-share-oat"])],
        "gemini": [("g1", "Barista oat drinks cost EUR 2.49 at the median.", ["ev-price"])],
        "xai": [("x1", "Plant-based milk penetration in Germany is 62% of households.", ["https://example.org/x"])],
    }, hallucinated=["x1"]),
    C("invented-source-no-citation-unverifiable", "es_care", ["invented-source", "unverifiable"], {
        "openai": [("o1", "Spanish consumers spend EUR 160 per head on personal care.", [])],
        "gemini": [("g1", "Lumina holds 22% of Spanish personal care.", ["ev-es-competitors"])],
    }, hallucinated=["o1"]),
    # --- invented competitors -----------------------------------------------------------------------------
    C("invented-competitor-share", "de_dairy", ["invented-competitor"], {
        "openai": [("o1", "Oatfield leads with 27% share.", ["ev-de-competitors"])],
        "gemini": [("g1", "Milkora holds 12% of the German dairy alternatives market.", ["ev-de-competitors"])],
    }, hallucinated=["g1"]),
    C("invented-competitor-no-number", "fr_coffee", ["invented-competitor"], {
        "openai": [("o1", "Roastline is the value brand in French coffee at EUR 5.49.", ["ev-fr-competitors"])],
        "gemini": [("g1", "Kaffeo is gaining share quickly among young French coffee drinkers.", ["ev-fr-competitors"])],
        "xai": [("x1", "Roastline sells for EUR 5.49 in France.", ["ev-fr-competitors"])],
    }, hallucinated=["g1"], groups=[["o1", "x1"]]),
    C("invented-competitor-multiword", "es_care", ["invented-competitor"], {
        "openai": [("o1", "Aqualis holds 15% of Spanish personal care.", ["ev-es-competitors"])],
        "gemini": [("g1", "Bella Rosa Cosmetics is the fastest growing brand in Spain.", ["ev-es-competitors"])],
    }, hallucinated=["g1"]),
    C("invented-competitor-alongside-real", "us_snacks", ["invented-competitor"], {
        "openai": [("o1", "Crunchwell and Snackory together hold over 45% of US savory snacks.", ["ev-us-brands"])],
        "gemini": [("g1", "Crunchwell is the biggest US savory snack brand with a 31% share.", ["ev-us-brands"])],
    }, hallucinated=["o1"]),
    C("invented-competitor-price", "de_dairy", ["invented-competitor"], {
        "openai": [("o1", "Verdalat is the cheapest brand at EUR 1.59.", ["ev-de-competitors"])],
        "gemini": [("g1", "Verdalat is the cheapest brand at EUR 1.59.", ["ev-de-competitors"])],
        "xai": [("x1", "Haferglück undercuts everyone at EUR 1.29.", ["ev-de-competitors"])],
    }, hallucinated=["x1"], groups=[["o1", "g1"]]),
    C("invented-competitor-majority-unverifiable", "de_dairy", ["invented-competitor", "unverifiable"], {
        "openai": [("o1", "Planta Verde plans to enter the German market in 2025.", [])],
        "gemini": [("g1", "Planta Verde plans to enter the German market in 2025.", [])],
    }, groups=[["o1", "g1"]]),
    # --- contradictory claims -------------------------------------------------------------------------------
    C("polarity-growing-vs-shrinking", "de_dairy", ["contradiction"], {
        "openai": [("o1", "The German dairy alternatives market is growing.", ["ev-de-market"])],
        "gemini": [("g1", "The German dairy alternatives market is shrinking.", ["ev-de-market"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "polarity")]),
    C("polarity-negation", "fr_coffee", ["contradiction"], {
        "openai": [("o1", "Crema Nova is the market leader in French coffee.", ["ev-fr-competitors"])],
        "gemini": [("g1", "Crema Nova is not the market leader in French coffee.", ["ev-fr-competitors"])],
    }, disagreements=[(["o1", "g1"], "polarity")], hallucinated=["g1"]),
    C("contradiction-decline-with-number", "es_care", ["contradiction", "wrong-number"], {
        "openai": [("o1", "Spain's personal care market grows 3.9% a year.", ["ev-es-market"])],
        "gemini": [("g1", "Spain's personal care market is declining by 3.9% a year.", ["ev-es-market"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("contradiction-leader-swap", "de_dairy", ["contradiction"], {
        "openai": [("o1", "Oatfield is the market leader in German dairy alternatives.", ["ev-de-competitors"])],
        "gemini": [("g1", "Soyana is the market leader in German dairy alternatives.", ["ev-de-competitors"])],
        "xai": [("x1", "Oatfield leads German dairy alternatives.", ["ev-de-competitors"])],
    }, disagreements=[(["o1", "g1", "x1"], "fact")], hallucinated=["g1"], groups=[["o1", "x1"]]),
    C("contradiction-two-wrong-values", "fr_coffee", ["contradiction", "wrong-number"], {
        "openai": [("o1", "Coffee sales in France grow 1.8% a year.", ["ev-fr-market"])],
        "gemini": [("g1", "Coffee sales in France grow 3% a year.", ["ev-fr-market"])],
        "xai": [("x1", "Coffee sales in France grow 5.5% a year.", ["ev-fr-market"])],
    }, hallucinated=["g1", "x1"], disagreements=[(["o1", "g1", "x1"], "numeric")]),
    C("contradiction-unsupported-both", "us_snacks", ["contradiction", "unverifiable"], {
        "openai": [("o1", "US consumers are shifting towards baked snacks.", [])],
        "gemini": [("g1", "US consumers are not shifting towards baked snacks.", [])],
    }, hallucinated=["o1", "g1"], disagreements=[(["o1", "g1"], "polarity")]),
    C("contradiction-growth-no-citation", "at_interviews", ["contradiction", "wrong-number"], {
        "openai": [("o1", "Austria's dairy alternatives market grows 7.2% a year.", [])],
        "gemini": [("g1", "Austria's dairy alternatives market grows 2.7% a year.", [])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    # --- pseudonymized text -----------------------------------------------------------------------------------
    C("pseudonym-agreement", "at_interviews", ["pseudonymized", "paraphrase"], {
        "openai": [("o1", "<PERSON_1> expects oat drink shelf prices in Austria to rise 5% in 2025.",
                    ["ev-at-interview"])],
        "gemini": [("g1", "According to <PERSON_1>, Austrian oat drink prices will go up by 5 percent next year.",
                    ["ev-at-interview"])],
        "xai": [("x1", "A buyer at <ORGANIZATION_1> (<PERSON_1>) forecasts a 5% price rise for oat drinks in Austria.",
                 ["ev-at-interview"])],
    }, groups=[["o1", "g1", "x1"]]),
    C("pseudonym-different-people", "at_interviews", ["pseudonymized"], {
        "openai": [("o1", "<PERSON_1> is a category buyer at <ORGANIZATION_1>.", ["ev-at-interview"])],
        "gemini": [("g1", "<PERSON_2> reports that 33% of Austrian households bought a plant-based drink.",
                    ["ev-at-survey"])],
    }),
    C("pseudonym-wrong-number", "at_interviews", ["pseudonymized", "wrong-number"], {
        "openai": [("o1", "<PERSON_2>'s panel found 33% of Austrian households bought a plant-based drink last month.",
                    ["ev-at-survey"])],
        "gemini": [("g1", "<PERSON_2>'s panel found 43% of Austrian households bought a plant-based drink last month.",
                    ["ev-at-survey"])],
    }, hallucinated=["g1"], disagreements=[(["o1", "g1"], "numeric")]),
    C("pseudonym-invented-person", "at_interviews", ["pseudonymized", "invented-source"], {
        "openai": [("o1", "<PERSON_1> says two more barista products will be listed.", ["ev-at-interview"])],
        "gemini": [("g1", "<PERSON_7> from <ORGANIZATION_4> predicts a 12% price cut.", ["ev-at-interview"])],
    }, hallucinated=["g1"]),
    C("pseudonym-email-digits", "at_interviews", ["pseudonymized", "clean"], {
        "openai": [("o1", "Contact <EMAIL_ADDRESS_1> for the retail panel; Austrian prices are expected to rise 5%.",
                    ["ev-at-interview"])],
        "gemini": [("g1", "Austrian retailers expect oat drink prices to rise 5% in 2025.", ["ev-at-interview"])],
    }, groups=[["o1", "g1"]]),
    C("pseudonym-location", "at_interviews", ["pseudonymized"], {
        "openai": [("o1", "The Austrian dairy alternatives market was worth EUR 210 million in 2024.", ["ev-at-market"])],
        "gemini": [("g1", "Dairy alternatives in <LOCATION_1> were a EUR 210m market in 2024.", ["ev-at-market"])],
    }, groups=[["o1", "g1"]]),
    # --- degraded runs and unverifiable claims ---------------------------------------------------------------
    C("degraded-one-missing", "de_dairy", ["degraded"], {
        "openai": [("o1", "Nutty Grove is the premium brand at EUR 2.79.", ["ev-de-competitors"])],
        "gemini": [("g1", "Nutty Grove sells at a premium EUR 2.79.", ["ev-de-competitors"])],
    }, missing={"xai": "timeout"}, groups=[["o1", "g1"]]),
    C("degraded-single-answer", "de_dairy", ["degraded", "unverifiable"], {
        "openai": [("o1", "The German dairy alternatives market was worth EUR 1,480 million in 2024.", ["ev-de-market"]),
                   ("o2", "Flexitarians drive most of the demand.", [])],
    }, missing={"gemini": "error", "xai": "timeout"}, hallucinated=["o2"]),
    C("unverifiable-majority-kept", "fr_coffee", ["unverifiable"], {
        "openai": [("o1", "Single-serve capsules are popular with French office workers.", [])],
        "gemini": [("g1", "French office workers like single-serve capsules.", [])],
        "xai": [("x1", "Montebrew costs EUR 8.99.", ["ev-fr-competitors"])],
    }, groups=[["o1", "g1"]]),
    C("unverifiable-single-opinion", "es_care", ["unverifiable"], {
        "openai": [("o1", "Lumina's share of Spanish personal care is 22%.", ["ev-es-competitors"])],
        "gemini": [("g1", "Influencer marketing works best for Spanish skincare launches.", [])],
        "xai": [("x1", "Lumina holds 22 percent of the Spanish market.", ["ev-es-competitors"])],
    }, hallucinated=["g1"], groups=[["o1", "x1"]]),
    C("clean-uncited-but-true", "de_plant_milk", ["clean"], {
        "openai": [("o1", "Median barista oat drink prices in Germany are EUR 2.49.", [])],
        "gemini": [("g1", "Oat drinks account for 54% of German plant-based milk volume.", [])],
    }),
    C("clean-text-only-support", "de_plant_milk", ["clean"], {
        "openai": [("o1", "Alpro and Califia Farms together hold about 38% of the barista segment.", ["ev-competitors"])],
        "gemini": [("g1", "Alpro and Califia Farms control roughly 38% of German barista milk.", ["ev-competitors"])],
    }, groups=[["o1", "g1"]]),
]
