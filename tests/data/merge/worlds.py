"""Evidence worlds the labeled merge cases draw on (sample figures, fictional brands)."""

from __future__ import annotations

from typing import Any

Ev = dict[str, Any]


def ev(id: str, source: str, text: str, data: dict[str, float] | None = None) -> Ev:
    """One evidence item in the DESIGN.md shape."""
    item: Ev = {"id": id, "source": source, "text": text}
    if data:
        item["data"] = data
    return item


DE_DAIRY = [
    ev("ev-dataset-notice", "mcp://market-data/dataset/notice",
       "Illustrative sample data for demos and tests; not real market figures. Dataset mka-market-sample v1, year 2024."),
    ev("ev-de-facts", "mcp://market-data/country_facts?country=DE",
       "Germany (DE): capital Berlin; population 83,240,525; area 357,114 km²; currency EUR; official languages German; "
       "region Western Europe (offline reference data, may be dated).",
       {"population": 83240525.0, "area_km2": 357114.0}),
    ev("ev-de-market", "mcp://market-data/market_size?country=DE&category=dairy+alternatives",
       "The dairy alternatives market in Germany (DE) was worth EUR 1,480.0 million in 2024, growing 6.4% a year "
       "(sample dataset; illustrative, not real figures).",
       {"value_eur_m": 1480.0, "growth_pct": 6.4, "year": 2024.0}),
    ev("ev-de-competitors", "mcp://market-data/competitors?country=DE&category=dairy+alternatives",
       "Leading dairy alternatives brands in Germany (DE) in 2024: Oatfield 27.0% share at EUR 2.29; Soyana 19.5% "
       "share at EUR 1.89; Nutty Grove 11.0% share at EUR 2.79; Verdalat 8.5% share at EUR 1.59 (sample dataset, "
       "fictional brands).",
       {"Oatfield share_pct": 27.0, "Oatfield price_eur": 2.29, "Soyana share_pct": 19.5, "Soyana price_eur": 1.89,
        "Nutty Grove share_pct": 11.0, "Nutty Grove price_eur": 2.79, "Verdalat share_pct": 8.5,
        "Verdalat price_eur": 1.59}),
]

FR_COFFEE = [
    ev("ev-fr-market", "mcp://market-data/market_size?country=FR&category=coffee",
       "The coffee market in France (FR) was worth EUR 3,250.0 million in 2024, growing 1.8% a year "
       "(sample dataset; illustrative, not real figures).",
       {"value_eur_m": 3250.0, "growth_pct": 1.8, "year": 2024.0}),
    ev("ev-fr-competitors", "mcp://market-data/competitors?country=FR&category=coffee",
       "Leading coffee brands in France (FR) in 2024: Crema Nova 24.0% share at EUR 6.99; Roastline 17.0% share at "
       "EUR 5.49; Montebrew 12.5% share at EUR 8.99 (sample dataset, fictional brands).",
       {"Crema Nova share_pct": 24.0, "Crema Nova price_eur": 6.99, "Roastline share_pct": 17.0,
        "Roastline price_eur": 5.49, "Montebrew share_pct": 12.5, "Montebrew price_eur": 8.99}),
    ev("ev-de-market", "mcp://market-data/market_size?country=DE&category=coffee",
       "The coffee market in Germany (DE) was worth EUR 5,120.0 million in 2024, growing 2.1% a year "
       "(sample dataset; illustrative, not real figures).",
       {"value_eur_m": 5120.0, "growth_pct": 2.1, "year": 2024.0}),
]

US_SNACKS = [
    ev("ev-us-sales", "https://www.example.org/research/us-savory-snacks-2024",
       "US savory snack retail sales reached $24.6 billion in 2024, up 3.2% on 2023.",
       {"sales_usd_bn": 24.6, "growth_pct": 3.2}),
    ev("ev-us-brands", "https://www.example.com/industry/snack-brands-us",
       "Crunchwell is the largest savory snack brand in the United States with a 31% value share; Munchly follows "
       "with 14%."),
    ev("ev-us-price", "mcp://retail-prices/us/snacks?sku=chips-200g",
       "The median shelf price of a 200 g bag of potato chips in the US is USD 3.49.", {"price_usd": 3.49}),
]

DE_PLANT_MILK = [
    ev("ev-market-size", "mcp://market-data/eurostat/plant-milk?country=DE",
       "Plant-based milk retail sales in Germany reached EUR 1.1 bn in 2024, up 9% on 2023.",
       {"sales_eur_bn": 1.1, "growth_pct": 9.0}),
    ev("ev-share-oat", "mcp://market-data/nielsen/category-share?segment=oat",
       "Oat drinks hold 54% of plant-based milk volume in German retail.", {"share_pct": 54.0}),
    ev("ev-price", "mcp://retail-prices/de/barista?sku=oat-1l",
       "Median shelf price of 1 l barista oat drinks in Germany is EUR 2.49.", {"price_eur": 2.49}),
    ev("ev-competitors", "https://www.example.com/industry/alpro-califia-2024",
       "Alpro and Califia Farms together hold about 38% of the barista segment in Germany."),
    ev("ev-survey", "mcp://surveys/yougov/coffee-habits-2024",
       "41% of urban coffee drinkers aged 25-40 order a plant-based milk at least weekly.",
       {"weekly_pct": 41.0, "sample_size": 2034.0}),
]

ES_CARE = [
    ev("ev-es-market", "mcp://market-data/market_size?country=ES&category=personal+care",
       "The personal care market in Spain (ES) was worth EUR 7,600.0 million in 2024, growing 3.9% a year "
       "(sample dataset; illustrative, not real figures).",
       {"value_eur_m": 7600.0, "growth_pct": 3.9, "year": 2024.0}),
    ev("ev-es-competitors", "mcp://market-data/competitors?country=ES&category=personal+care",
       "Leading personal care brands in Spain (ES) in 2024: Lumina 22.0% share at EUR 4.50; Aqualis 15.0% share at "
       "EUR 3.20; Pureva 9.0% share at EUR 5.80 (sample dataset, fictional brands).",
       {"Lumina share_pct": 22.0, "Lumina price_eur": 4.5, "Aqualis share_pct": 15.0, "Aqualis price_eur": 3.2,
        "Pureva share_pct": 9.0, "Pureva price_eur": 5.8}),
]

AT_INTERVIEWS = [
    ev("ev-at-interview", "mcp://interviews/retail/at-2025?id=17",
       "Interview with <PERSON_1> (<EMAIL_ADDRESS_1>), category buyer at <ORGANIZATION_1>: Austrian retailers "
       "expect oat drink shelf prices to rise 5% in 2025 and plan to list two more barista products.",
       {"price_rise_pct": 5.0}),
    ev("ev-at-market", "mcp://market-data/market_size?country=AT&category=dairy+alternatives",
       "The dairy alternatives market in Austria (AT) was worth EUR 210.0 million in 2024, growing 7.2% a year "
       "(sample dataset; illustrative, not real figures).",
       {"value_eur_m": 210.0, "growth_pct": 7.2, "year": 2024.0}),
    ev("ev-at-survey", "mcp://surveys/at/panel-2024?wave=3",
       "<PERSON_2> reports for the panel that 33% of Austrian households bought a plant-based drink in the last month.",
       {"households_pct": 33.0}),
]

WORLDS = {"de_dairy": DE_DAIRY, "fr_coffee": FR_COFFEE, "us_snacks": US_SNACKS, "de_plant_milk": DE_PLANT_MILK,
          "es_care": ES_CARE, "at_interviews": AT_INTERVIEWS}
