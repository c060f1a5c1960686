"""One set of search cases that every search backend must answer the same way.

The syntax is documented in sinks/search_query.py and the README; the SQLite test
(tests/unit/sinks/test_sink_search_syntax.py) and the PostgreSQL test
(tests/integration/test_sink_postgres.py) both run these cases.
"""

from __future__ import annotations

from wiredesk.records import Article

# (number, headline, body): build_article(number, headline=..., body=...)
CORPUS = [
    (1, "Lavrov and Blinken to meet in Geneva", "The foreign ministers will discuss the ceasefire."),
    (2, "Lavrov speaks in Moscow", "Russia's foreign minister addressed reporters."),
    (3, "Blinken visits Kyiv", "The secretary of state met the president."),
    (4, "Wheat prices soar", "Traders blamed the drought in the south."),
    (5, "Drought hits harvest", "Farmers expect lower wheat exports this year."),
    (6, "Jean-Pierre wins the election", "Voters chose him on Sunday."),
]

# (query, the numbers of the articles it must find, in any order)
CASES = [
    ("lavrov", {1, 2}),
    ("LAVROV", {1, 2}),
    ("lavrov blinken", {1}),
    ("lavrov AND blinken", {1}),
    # Several words all have to match: no silent fallback to any of them.
    ("blinken moscow", set()),
    ("blinken OR moscow", {1, 2, 3}),
    ("lavrov blinken OR moscow", {1, 2}),
    ("lavrov OR", {1, 2}),
    ("lavrov -blinken", {2}),
    ("lavrov NOT blinken", {2}),
    ('blinken -"foreign ministers"', {3}),
    ('drought -"wheat prices"', {5}),
    ('"wheat prices"', {4}),
    ('"prices wheat"', set()),
    ("prices wheat", {4}),
    ("harv*", {5}),
    ("Jean-Pierre", {6}),
    ('"jean pierre"', {6}),
    ("-lavrov", set()),
    ("NOT", set()),
    ("OR AND", set()),
    ("", set()),
    # Punctuation is not syntax: brackets are ignored, an unclosed quote runs to the end.
    ("(wheat) [prices]", {4}),
    ('wheat "prices', {4}),
    ("headline:wheat", set()),  # no field filters: "headline" is a word like any other
]


def numbers(hits_uris: list[str], corpus: dict[str, Article]) -> set[int]:
    by_uri = {article.uri: n for n, article in corpus.items()}
    return {by_uri[uri] for uri in hits_uris}
