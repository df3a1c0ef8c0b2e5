"""Well-known brands that look like person names: kept whole and exactly as written, never pseudonymized.

The list is small on purpose: an entry protects only an exact, case-aware, whole occurrence
("Tim Hortons", not "Tim" or "tim hortons"), so a person who shares a brand's surname stays
pseudonymized. Brief fields (product, brand, competitors) add a job's own brands on top.
"""

from __future__ import annotations

import functools

from actors.pii.policy import AllowList

__all__ = ["KNOWN_BRANDS", "known_brands"]

KNOWN_BRANDS: frozenset[str] = frozenset(
    b.strip()
    for b in """
    Tim Hortons|Dr Pepper|Dr. Pepper|Dr. Oetker|Dr Oetker|Johnnie Walker|Trader Joe's|Trader Joe’s|Ben & Jerry's|
    Ben & Jerry’s|Ben's Original|Uncle Ben's|Tony's Chocolonely|Aunt Jemima|Chef Boyardee|
    Marie Callender's|Mrs. Baird's|Duncan Hines|Orville Redenbacher's|Jack Daniel's|Jose Cuervo|
    José Cuervo|Captain Morgan|Johnny Walker|Glenfiddich|McDonald's|Wendy's|Carl's Jr.|
    Arby's|Papa John's|Domino's|Dunkin'|Tommy Hilfiger|Calvin Klein|Ralph Lauren|Hugo Boss|Louis Vuitton|
    Yves Saint Laurent|Christian Dior|Giorgio Armani|Emporio Armani|Dolce & Gabbana|
    Estée Lauder|Helena Rubinstein|Elizabeth Arden|Max Factor|Mary Kay|Paco Rabanne|
    Jean Paul Gaultier|
    Marks & Spencer|Tommy Bahama|Levi's|Lacoste|Hermès|Chanel|
    Mercedes-Benz|Rolls-Royce|Aston Martin|Ferrari|Lamborghini|Porsche|Ford|Chevrolet|John Deere|Harley-Davidson|
    Dr. Martens|Dr Martens|Dr. Bronner's|Dr. Scholl's|Dr. Hauschka|Mr. Clean|Mr. Kipling|Mr Kipling|Mr. Muscle|
    Bertolli|Bonne Maman|Mère Poulard|Haribo|Kellogg's|Heinz|Campbell's|Hershey's|
    Hellmann's|Colman's|Sainsbury's|Morrisons|Waitrose|John Lewis|Dunkin' Donuts|Baskin-Robbins|Häagen-Dazs|
    Wrigley's|Mars|Nestlé|Cadbury|Lindt|Lindt & Sprüngli|Ritter Sport|Milka|Toblerone|Ferrero Rocher|Kinder|
    Anna's|Carte d'Or|Magnum|Alpro|Oatly|Müller|Dr. Karg's|Ehrmann|Zott|Bauer|Weihenstephan|Andechser|
    Arla|Lurpak|Bärenmarke|Landliebe|Emmi|Hochland|Leerdammer|Président|Philadelphia|Danone|Actimel|Activia|
    Jacobs|Tchibo|Dallmayr|Melitta|Eduscho|Douwe Egberts|Lavazza|Illy|Segafredo|Kimbo|Starbucks|Costa Coffee|
    Minor Figures|Califia Farms|Rude Health|Planet Oat|Silk|So Delicious|Elmhurst|Pacific Foods|Ripple|Vly|
    Bob's Red Mill|Annie's|Amy's|Newman's Own|Kettle Brand|Pringles|Walkers|Smith's|Kettle|
    Lidl|Aldi|Aldi Süd|
    Aldi Nord|Edeka|Rewe|Kaufland|Netto|Carrefour|Leclerc|E.Leclerc|Auchan|Casino|Monoprix|Franprix|
    Albert Heijn|Jumbo|Mercadona|Eroski|Esselunga|Conad|Coop|Migros|Biedronka|Żabka|Tesco|Asda|Co-op|
    Whole Foods|Kroger|Safeway|Publix|Walmart|Costco|Target|Wegmans|Ocado|Boots|Superdrug|Holland & Barrett|
    Armani|Gucci|Prada|Versace|Valentino|Fendi|Balenciaga|Givenchy|Burberry|Moncler|Zara|Mango
    """.replace("\n", "").split("|")
    if b.strip()
)
"""Brands, retailers and product lines that contain or are person names (exact, case-aware)."""


@functools.cache
def known_brands() -> AllowList:
    """The bundled brand list as an allow-list."""
    return AllowList(terms=KNOWN_BRANDS)
