"""Rules over extracted blocks: agency credits, syndication disclaimers, bylines, tags, chrome
lines, related-story lists and repeated paragraphs.

Each rule removes blocks from the body and, where the removed text is a fact (a credit line, the
byline, the tag list, "this was auto-published"), records it in `Findings`. Rules look at one
block's own text (and link density), never at the site: they are phrased the way wire copy and
CMS templates phrase these lines across publishers.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from transform.wordlists import read_words
from wiredesk import agencies

from .blocks import Block

# --- patterns -----------------------------------------------------------------------------------

# Who a credit names: every spelling of the one agency list, and the words that credit an unnamed
# agency ("(Agencies)", "-- Wires").
_CREDIT_SOURCES = read_words("boilerplate/credit_sources.txt")
_AGENCIES = "|".join([agencies.PATTERN, *(re.escape(w) for w in _CREDIT_SOURCES)])

# "( With inputs from ANI )", "(With agency inputs)", "With inputs from PTI, Reuters."
_WITH_INPUTS = re.compile(
    # in brackets, anything: "( With inputs from ANI )", "(with inputs from our correspondent)"
    r"^[\(\[]\s*(?:\w+\s+)?(?:with\s+)?(?:additional\s+)?inputs?\s+from\s+[^()\[\]]{1,100}[\)\]]\s*\.?$|"
    # bare: only names after "from": "With inputs from PTI, Reuters.", "-- With inputs from agencies"
    r"^[\-–—\s]*(?:\w+\s+)?with\s+(?:additional\s+)?inputs?\s+from\s+(?:agencies|wires|"
    r"(?-i:[A-Z])[\w.&'’\-]*(?:(?:\s*[,&/]\s*|\s+and\s+|\s+)(?-i:[A-Z])[\w.&'’\-]*){0,6})\s*\.?$|"
    r"^[\(\[]?\s*with\s+(?:\w+\s+)?(?:agency|agencies|wire|news\s+agency)\s+inputs?\s*[\)\]]?\s*\.?$",
    re.I,
)
# "(Reporting by A in B; Editing by C)", "Reporting by ...; Writing by ...", "Compiled by ..."
_REPORTING = re.compile(
    r"^[\(\[]?\s*(?:additional\s+)?(?:reporting|writing|editing|compiled|"
    r"written|edited|research(?:ed)?|graphics?|production|translated|"
    r"translation)\s+by\b[^\n]{0,400}$",
    re.I,
)
# a paragraph that is only an agency credit: "(ANI)", "-- AFP", "— Reuters", "PTI XYZ ABC"
_AGENCY_ONLY = re.compile(rf"^[\(\[\-–—\s]*(?:{_AGENCIES})(?:\s*[/,&]\s*(?:{_AGENCIES}))*[\)\]\s.]*$")
# "PTI ABC DEF" (PTI's desk sign-off: agency + staff initials)
_AGENCY_SIGNOFF = re.compile(r"^(?:PTI|IANS|UNI)(?:\s+[A-Z]{2,4}){1,6}$")
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\b)[^\n]{0,200}(?:all rights reserved|may not be "
    r"(?:published|reproduced|redistributed))|^this material may not be published"
    # "© Thomson Reuters 2024", "(c) 2024 AFP", "Copyright 2024 Example Media"
    r"|^(?:©|\(c\))[^\n]{1,150}$|^copyright\s*(?:©\s*)?(?:\d{4}\b|(?:" + _AGENCIES + r")\b)[^\n]{0,150}$",
    re.I,
)

# auto-published / syndicated-feed disclaimers
_SYNDICATED = re.compile(
    r"auto[-\s]?(?:published|generated|generated\s+from)|syndicated\s+(?:news\s+)?feed|"
    r"(?:agency|wire|news)\s+(?:feed|copy)\b|published\s+from\s+(?:a|an|the)\s+(?:syndicated|wire|agency)|"
    r"(?:unedited|unmodified)\s+(?:from\s+)?(?:a|an|the)?\s*(?:wire|agency|syndicated)|"
    r"has\s+not\s+been\s+edited\s+by\s+[\w\s.&'’-]{1,60}\s+staff|"
    r"only\s+the\s+headline\s+(?:of\s+this\s+(?:report|story|article)\s+)?(?:may\s+have\s+been|has\s+been)\s+"
    r"(?:changed|reworked|edited)",
    re.I,
)
_DISCLAIMER_CONTEXT = re.compile(
    r"disclaimer|not\s+been\s+(?:edited|reviewed|modified)|without\s+(?:any\s+)?(?:modification|"
    r"editing|changes)|except\s+for\s+the\s+headline|no\s+(?:editorial|edits?)|(?:is|was|has\s+been)\s+"
    r"(?:auto[-\s]?)?(?:published|generated)\s+from|auto[-\s]?(?:published|generated)\s+(?:from|story|"
    r"news|article|content)|reworked|this\s+(?:story|article|post|report|content)",
    re.I,
)

_APPEARED_FIRST = re.compile(
    r"^(?:the\s+post\s+.{1,400}\s+)?appeared\s+first\s+on\b.{0,200}$|"
    r"^this\s+(?:article|post|story)\s+(?:originally\s+)?appeared\s+(?:first\s+)?"
    r"on\b.{0,200}$|^the\s+post\s+.{1,400}\s+was\s+first\s+published\s+on\b.{0,200}$",
    re.I | re.S,
)

# "This article was originally published on The Conversation": where the copy came from (a credit)
_REPUBLISHED = re.compile(
    r"^[\(\[]?\s*this\s+(?:article|post|story|piece|report)\s+(?:was|is|has\s+been)\s+(?:originally|first)?\s*"
    r"(?:published|republished|reproduced)\s+(?:on|in|by|from|with\s+permission)\b.{0,200}$",
    re.I | re.S,
)

_BYLINE = re.compile(
    r"^(?:(?:written|reported|posted|story|words|text|edited|compiled)\s+)?(?:by|BY|By|Por|POR|Par|PAR|Von|VON|"
    r"Di|DI|Door|DOOR)\s*:?\s+"
    r"(?P<name>[A-Z\u00C0-\u024F][\w.'’\-]*(?:\s+(?:[A-Z\u00C0-\u024F][\w.'’\-]*|and|&|de|del|der|van|von|"
    r"da|di|du|el|al|bin|la|le|y|e|et|und|en),?)*)\s*(?P<rest>(?:[|,/•·–—\-]|\bUpdated\b|\bPublished\b|"
    r"\bPosted\b|\bLast\b|\bon\b|\bin\b|$).*)$"
)
_DATE_LINE = re.compile(
    r"^(?:(?:last\s+)?updated|published|posted|first\s+published|created|modified|date)\s*(?:on|at)?\s*:?\s*"
    r"[\w,:.+/|\- ]{4,70}$|^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+"
    r"\d{4}(?:\s*(?:,|at|\|)?\s*\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\s*[A-Z]{0,4})?$",
    re.I,
)
_DATELINE = re.compile(
    r"^(?P<dl>(?:[A-Z][A-Za-z.'’\-]+(?:\s+[A-Z][A-Za-z.'’\-]+){0,3}(?:,\s*[A-Z][A-Za-z.'’\-]+(?:\s+"
    r"[A-Z][A-Za-z.'’\-]+){0,2})?(?:,?\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+"
    r"\d{1,2})?\s*)?[\(\[](?:" + _AGENCIES + r")[\)\]]\s*[:\-–—]+\s)|^(?P<dl2>[A-Z][A-Z .'’\-]{2,40}"
    r"(?:,\s*[A-Z][A-Za-z .'’\-]{2,30})?\s*[:\-–—]+\s)(?=[A-Z])",
    re.I,
)

_TAGS_LINE = re.compile(
    r"^(?:tags|tagged|topics|tagged\s+with|keywords|filed\s+under)\s*[:|\-–]\s*(?P<tags>.+)$", re.I | re.S
)
_RELATED_HEAD = re.compile(
    r"^(?:related(?:\s+(?:stories|articles|news|posts|coverage|content|reading|links|topics|videos?))?|"
    r"(?:\w+\s+)?related\s+(?:stories|articles|news|posts)|also\s+read|read\s+(?:more|also|next)|"
    r"more\s+(?:from|on|stories|news|in|like\s+this)\b.*|more\s+(?:\w+\s+){1,3}(?:stories|news|articles|reads|"
    r"coverage|videos?)|trending(?:\s+(?:now|stories|news|topics))?|"
    r"you\s+(?:may|might)\s+(?:also\s+)?(?:like|be\s+interested(?:\s+in)?|enjoy)|"
    r"recommended(?:\s+(?:for\s+you|stories|articles|reading))?|most\s+(?:read|popular|viewed|shared)|"
    r"popular\s+(?:stories|now|posts)|"
    r"top\s+stories|latest\s+(?:news|stories|videos?)|see\s+also|don'?t\s+miss|must\s+read|"
    r"what\s+to\s+read\s+next|further\s+reading|editor'?s\s+picks?|recent\s+posts|"
    r"in\s+case\s+you\s+missed\s+it|other\s+people\s+are\s+reading|(?:people|readers)\s+also\s+(?:read|viewed|"
    r"liked|watched)|what\s+others\s+are\s+reading)\s*[:|.]?$",
    re.I,
)
_TEASER = re.compile(
    r"^(?:also\s+read|read\s+(?:also|more|next|here)|also\s+see|see\s+also|related|"
    r"watch|also\s+watch|recommended|must\s+read|don'?t\s+miss|click\s+here|read\s+the\s+"
    r"(?:full|original)\s+(?:story|article|report))\s*[:|\-–—>»]",
    re.I,
)
_CHROME = re.compile(
    r"^(?:advertisement|advertising|advert|ads?|sponsored(?:\s+content)?|promoted|open\s+in\s+app|e-?paper|"
    r"download\s+(?:the|our)\s+(?:[\w-]+\s+){0,3}app\b.*|get\s+the\s+app|subscribe(?:\s+now)?|sign\s+up(?:\s+now)?|"
    r"log\s*in|sign\s+in|skip\s+to\s+(?:main\s+)?content|(?:story|article)\s+continues\s+(?:below|after).*|"
    r"continue\s+reading(?:\s+(?:below|the\s+main\s+story))?|scroll\s+(?:down\s+)?to\s+continue.*|"
    r"click\s+here\s+to\s+.{0,60}|(?:share|tweet)\s+(?:this|on)\b.{0,40}|share|print|email|comments?|"
    r"follow\s+us\s+on\b.{0,60}|listen\s+to\s+(?:this\s+)?(?:article|story).{0,30}|"
    r"(?:\d+\s+)?min(?:ute)?s?\s+read|(?:facebook|twitter|whatsapp|linkedin|telegram|reddit|email|copy\s+link)"
    r"(?:\s*[|,/•·]?\s*(?:facebook|twitter|whatsapp|linkedin|telegram|reddit|email|copy\s+link))*|"
    r"image\s+(?:source|copyright)\b.{0,60}|loading\.*|back\s+to\s+top|view\s+comments|"
    r"newsletter|sign\s+up\s+(?:for|to)\s+(?:our|the)\s+.{0,40}newsletter.{0,40}|"
    r".{0,60}\b(?:requires?|enable)\s+javascript\b.{0,60}|tell\s+us\s+what\s+you\s+think.{0,20}|"
    r"leave\s+a\s+(?:comment|reply)|post\s+(?:a\s+|your\s+)?comments?|join\s+the\s+(?:conversation|discussion)|"
    r"(?:view|show|read|see)\s+(?:all\s+)?(?:\d+\s+)?comments?.{0,20})\s*[.!:…]*$",
    re.I,
)
# unrendered CMS shortcodes: [button link="..."]Send us your review[/button]
_SHORTCODE = re.compile(r"^\[(\w+)\b[^\]]*\].*\[/\1\]$|^\[/?\w+(?:\s+\w+=[^\]]*)?\]$", re.S)

# the writer's contact line at the end of a story; newsletter and app promotions
_CONTACT = re.compile(
    r"\b(?:may|can)\s+be\s+(?:reached|contacted|emailed)\s+(?:at|on|via)\b|\breach\s+(?:him|her|them|me|us)\s+"
    r"(?:at|on|via)\b|\bcontact\s+(?:him|her|them|the\s+(?:writer|author|reporter))\s+at\b|\bfollow\s+"
    r"(?:him|her|them|me|us)\s+on\s+(?:twitter|x|facebook|instagram|threads|bluesky)\b|\bemail\s+(?:him|her|"
    r"them)\s+at\b|^(?:have\s+a\s+(?:news\s+)?tip|got\s+a\s+(?:news\s+)?tip)\b",
    re.I,
)
_PROMO = re.compile(
    r"^catch\s+(?:all\s+)?(?:the\s+)?(?:latest|live|breaking|\w+\s+news)\b.{0,200}$|"
    r"^(?:get|sign\s+up\s+for|subscribe\s+to|receive|stay\s+up\s+to\s+date|download|join)\b.{0,160}"
    r"(?:newsletters?|inbox|subscribe|subscription|our\s+app|the\s+\w+\s+app|push\s+notifications|"
    r"(?:email|news|breaking\s+news)\s+alerts)\b|"
    r"^(?:this\s+(?:web)?site|we)\s+uses?\s+cookies\b|^subscribe\s+(?:to|now|today)\b.{0,120}$|^by\s+(?:continuing|using)\s+(?:to\s+use\s+)?this\s+"
    r"(?:web)?site\b|^.{0,120}\bclick\s+here\b.{0,120}$",
    re.I,
)

_DISCLOSURE = re.compile(
    r"^(?:this\s+(?:post|article|page|story|content)\s+(?:may\s+)?contains?\s+(?:\w+\s+)?affiliate|"
    r"(?:we|i)\s+may\s+(?:earn|receive)\s+(?:a\s+)?(?:small\s+)?(?:commission|compensation)|"
    r"as\s+an\s+amazon\s+associate)",
    re.I,
)
# class names of containers whose text is not the story: captions and photo credits, author boxes
# a caption's photo credit at the end of a block: "(Photo: Jane Doe/AFP)", "Image: NASA", "| Getty Images";
# "(AFP/Getty Images)" and "EPA via Getty Images" end in the Getty credit, whoever stands before it
_PHOTO_CREDIT_TAIL = re.compile(
    r"(?:[(\[|]|[-–—]\s|[.!?]\s)\s*(?:photo|image|picture|pic|foto|photograph|video)s?(?:\s+credit)?\s*[:/]\s*"
    r"[^()\[\]|.!?]{2,80}"
    r"[)\]]?\s*\.?$|(?:^|[(|/]\s*|\s)(?:Getty\s+Images|Shutterstock|AP\s+Photo[^()|]{0,40})\s*[)\]]?\s*\.?$|"
    r"\((?:photo|image|picture)\s+(?:by|courtesy(?:\s+of)?)\s+[^()]{2,60}\)\s*\.?$",
    re.I,
)
_CAPTION_CLASS = re.compile(r"caption|(?:photo|image|img|media|picture)[-_]?credit", re.I)
_NOT_CAPTION = re.compile(r"^(?:no|has[-_]?no|without|hide)[-_]?", re.I)
_AUTHOR_BOX_CLASS = re.compile(
    r"author[-_]?(?:bio|box|info|card|description|details|about)|about[-_]?(?:the[-_]?)?author|bio[-_]?box|"
    r"contributor[-_]?bio",
    re.I,
)

_WORDS = re.compile(r"\w+")
# Cheap substring tests that must pass before the expensive patterns run. Each holds literals its
# pattern cannot match without, so it is part of that rule and stays beside it, not in a word list.
_COPYRIGHT_WORDS = ("©", "copyright", "(c)", "rights reserved", "may not be")
_DISCLAIMER_WORDS = (
    "auto",
    "syndicat",
    "feed",
    "wire",
    "staff",
    "headline",
    "agency",
    "unedited",
    "unmodified",
)
_CONTACT_WORDS = ("reach", "contact", "follow", "email", "tip")
_CONTACT_LABEL = "contact"
_TAIL_DATE_LABEL = "tail-date"
_TAG_STARTS = ("tag", "topic", "keyword", "filed")
_LATE_DATE_LINE = re.compile(r"(?:last\s+)?updated|published|posted|first\s+published", re.I)
_PROMO_STARTS = (
    "get",
    "sign up",
    "subscribe",
    "receive",
    "stay up",
    "download",
    "catch",
    "join",
    "this site",
    "this web",
    "we use",
    "by continuing",
    "by using",
)


@dataclass
class Findings:
    byline: str = ""
    dateline: str = ""
    credits: list[str] = field(default_factory=list)
    auto_published: bool = False
    tags: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def drop(self, label: str) -> None:
        if label not in self.removed:
            self.removed.append(label)


def key(text: str) -> str:
    """Comparison key: lower-cased word tokens."""
    return " ".join(_WORDS.findall(text.lower()))


def is_credit(text: str) -> bool:
    if len(text) > 400:
        return False
    t = text.strip()
    if _WITH_INPUTS.match(t) or _AGENCY_ONLY.match(t) or _AGENCY_SIGNOFF.match(t):
        return True
    return len(t) < 300 and bool(_REPORTING.match(t)) and _names_only(t)


_CREDIT_GLUE = frozenset(read_words("boilerplate/credit_glue.txt"))


def _names_only(t: str) -> bool:
    """'(Reporting by ...; Editing by ...)' or 'Writing by Jane Doe' - not 'Edited by a team of ...'."""
    if t.startswith(("(", "[")) or ";" in t:
        return True
    lower = [
        w for w in re.findall(r"[^\W\d_][\w'’.-]*", t) if w[0].islower() and w.lower() not in _CREDIT_GLUE
    ]
    return len(lower) <= 1


def is_copyright(text: str) -> bool:
    if len(text) >= 400:
        return False
    low = text.lower()
    if not any(w in low for w in _COPYRIGHT_WORDS):
        return False
    return bool(_COPYRIGHT.search(text.strip()))


def is_disclaimer(text: str) -> bool:
    if len(text) > 600:
        return False
    low = text.lower()
    if not any(w in low for w in _DISCLAIMER_WORDS):
        return False
    return bool(_SYNDICATED.search(text)) and bool(_DISCLAIMER_CONTEXT.search(text))


def is_appeared_first(text: str) -> bool:
    return len(text) < 600 and bool(_APPEARED_FIRST.match(text.strip()))


def is_chrome(text: str) -> bool:
    return len(text) < 120 and bool(_CHROME.match(text.strip(" \t|•·-–—>»")))


def _ends_with_photo_credit(text: str) -> bool:
    low = text[-120:].lower()
    if (
        "photo" not in low
        and "image" not in low
        and "pic" not in low
        and "foto" not in low
        and "video" not in low
    ):
        return False
    return bool(_PHOTO_CREDIT_TAIL.search(text))


@functools.lru_cache(maxsize=4096)
def is_caption_class(classes: str) -> bool:
    """A class token naming a caption or photo credit ("wp-caption-text"), not "no_caption"."""
    if not classes or not _CAPTION_CLASS.search(classes):
        return False
    return any(_CAPTION_CLASS.search(t) and not _NOT_CAPTION.match(t) for t in classes.split())


@functools.lru_cache(maxsize=4096)
def is_author_box_class(classes: str) -> bool:
    return bool(classes) and bool(_AUTHOR_BOX_CLASS.search(classes))


def is_related_heading(text: str) -> bool:
    return len(text) < 60 and bool(_RELATED_HEAD.match(text.strip(" \t|•·-–—>»:.…")))


_HEADING_KINDS = frozenset(("h2", "h3", "h4"))
_LINK_LIST_DENSITY = 0.5
_LINK_LIST_MIN_ITEMS = 2
_HEADLINE_MIN_WORDS = 4


def heads_link_list(blocks: Sequence[Block], i: int) -> bool:
    """blocks[i] is a heading over a list of other stories: two or more blocks, up to the next
    heading or the end, each (mostly) one link worded like a headline.

    After the story, that shape is a box of other stories however its heading is worded
    ("Related Stories", a section's name, a misspelling). A heading over prose, over a single
    link, or over short links (a table of contents, a list of URLs, menu entries) is the page's own.
    """
    if blocks[i].kind not in _HEADING_KINDS or blocks[i].text.rstrip()[-1:] in ".!?":
        return False
    items = 0
    for blk in blocks[i + 1 :]:
        if blk.kind in _HEADING_KINDS:
            break
        if blk.link_density < _LINK_LIST_DENSITY or len(blk.text.split()) < _HEADLINE_MIN_WORDS:
            return False
        items += 1
    return items >= _LINK_LIST_MIN_ITEMS


def match_byline(text: str) -> bool:
    if len(text) > 160:
        return False
    m = _BYLINE.match(text.strip())
    if not m:
        return False
    rest = m.group("rest")
    # "By the end of the day, ..." is a sentence, not a byline
    return not (rest and len(rest) > 100)


def is_date_line(text: str) -> bool:
    if len(text) >= 90:
        return False
    return bool(_DATE_LINE.match(text.strip())) or _is_date_only(text)


_DATE_WORDS = frozenset(read_words("boilerplate/date_words.txt"))
_DATE_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_YEAR_OR_TIME = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b|\b\d{1,2}[:.h]\d{2}\b")


def _is_date_only(text: str) -> bool:
    """'sexta-feira, 22 de outubro de 2010 às 20:13', 'Nov 19, 2019 | 10:15 GMT': a date, nothing else."""
    if len(text) >= 80 or not _YEAR_OR_TIME.search(text):
        return False
    words = [t for t in _DATE_TOKEN.findall(text.lower()) if not t.isdigit()]
    return all(w in _DATE_WORDS for w in words)


def dateline_of(text: str) -> str:
    m = _DATELINE.match(text)
    if not m:
        return ""
    return (m.group("dl") or m.group("dl2") or "").strip(" :-–—")


def split_tags_line(text: str) -> str | None:
    m = _TAGS_LINE.match(text.strip())
    return m.group("tags").strip() if m else None


# --- the pass over blocks ----------------------------------------------------------------------------


def apply_rules(blocks: list[Block], f: Findings, *, headline: str = "", mode: str = "page") -> list[Block]:
    """Remove boilerplate blocks, recording what was found. mode: page | fragment | text."""
    kept: list[Block] = []
    keys: list[str] = []
    head_key = key(headline) if headline else ""
    seen_body = False  # a long prose paragraph has been kept
    in_related = False  # after a "Related stories" heading: drop the link list that follows
    tail_only: list[tuple[int, str]] = []
    for i, blk in enumerate(blocks):
        text = blk.text
        n = len(text)
        classes = blk.classes
        if blk.kind == "caption" or is_caption_class(classes) or (n < 400 and _ends_with_photo_credit(text)):
            f.drop("caption")  # photo captions and credits are not the story's text
            continue
        if is_author_box_class(classes):
            f.drop("author-box-or-disclosure")
            continue
        if n < 60 and is_related_heading(text):
            f.drop("related-list")
            if mode == "text":
                break  # a page's text: everything from "Related Stories" on is chrome
            in_related = True
            continue
        if seen_body and n < 60 and heads_link_list(blocks, i):
            f.drop("related-list")  # whatever the heading says: other stories, not this one
            in_related = True
            continue
        if in_related:
            if blk.link_density >= 0.5 or (n < 200 and blk.kind == "li"):
                continue
            in_related = False
        low = text.lower()
        words = _WORDS.findall(low)
        k = " ".join(words)
        if not seen_body and len(kept) < 6:
            # the headline again, or a breadcrumb trail ending in it
            if (
                head_key
                and len(kept) < 4
                and (
                    k == head_key
                    or (head_key in k and len(k) < len(head_key) + 60 and blk.link_density > 0.1)
                )
            ):
                f.drop("headline")
                continue
            if match_byline(text):
                if not f.byline:
                    f.byline = text
                f.drop("byline")
                continue
            if is_date_line(text):
                f.drop("date-line")
                continue
        label = _boilerplate(text, low, words, blk, mode=mode, f=f, seen_body=seen_body)
        if label in (_CONTACT_LABEL, _TAIL_DATE_LABEL):
            tail_only.append((len(kept), label))  # dropped below if it is among the story's last blocks
        elif label:
            f.drop(label)
            continue
        if not f.dateline and not seen_body:
            dl = dateline_of(text)
            if dl:
                f.dateline = dl
        kept.append(blk)
        keys.append(k)
        if blk.kind == "p" and n > 120:
            seen_body = True
    # "Jane Doe can be reached at ...", "Follow her on Twitter", the post's date: the sign-off, at the
    # end only (inside the story such lines are the story's own)
    tail = {i for i, label in tail_only if i >= len(kept) - 2}
    if tail:
        for i, label in tail_only:
            if i in tail:
                f.drop("contact-or-promo" if label == _CONTACT_LABEL else "date-line")
        kept = [b for i, b in enumerate(kept) if i not in tail]
        keys = [k for i, k in enumerate(keys) if i not in tail]
    if kept:
        _strip_closing_credit(kept[-1], f)
    return dedupe(kept, f, always=mode == "text", keys=keys)


# "... has been going on since 2014. (ANI)": the agency's sign-off glued to the story's last
# sentence. Only a known agency, only after a sentence end, only on the last paragraph.
_CLOSING_CREDIT_TEXT = re.compile(rf"(?<=[.!?\"”’'])\s*[\(\[]\s*(?:{_AGENCIES})\s*[\)\]]\s*$")
_CLOSING_CREDIT_HTML = re.compile(
    rf"(?<=[.!?\"”’';])\s*(?P<open>(?:<(?:em|strong|b|i)>\s*)*)[\(\[]\s*(?:{_AGENCIES})\s*[\)\]]\s*"
    rf"(?P<close>(?:</(?:em|strong|b|i)>\s*)*)$"
)


def _strip_closing_credit(blk: Block, f: Findings) -> None:
    text_match = _CLOSING_CREDIT_TEXT.search(blk.text)
    if blk.kind != "p" or text_match is None or text_match.start() < 40:
        return
    html_match = _CLOSING_CREDIT_HTML.search(blk.html)
    if html_match is None:
        return
    f.credits.append(text_match.group().strip())
    blk.text = blk.text[: text_match.start()]
    # A credit wrapped in its own <em> goes with its tags; one inside a longer <em> keeps the close.
    closing = "" if html_match.group("open") else html_match.group("close")
    blk.html = blk.html[: html_match.start()] + closing
    f.drop("credit-line")


# words one of which every agency/CMS boilerplate line contains (a cheap gate before the patterns)
_SUSPECT_WORDS = frozenset(read_words("boilerplate/suspect_words.txt"))
_AGENCY_WORDS = frozenset(
    w.lower()
    for spelling in (*(a for a, _ in agencies.ALIASES), *_CREDIT_SOURCES)
    for w in _WORDS.findall(spelling)
)


def _boilerplate(
    text: str, low: str, words: list[str], blk: Block, *, mode: str, f: Findings, seen_body: bool
) -> str:
    """The removal label for agency/CMS boilerplate (recording its facts in f), or ""."""
    n = len(text)
    suspect = n < 600 and (
        not _SUSPECT_WORDS.isdisjoint(words)
        or "©" in text
        or (n < 120 and not _AGENCY_WORDS.isdisjoint(words))
    )
    if suspect and seen_body and n < 90 and _DATE_LINE.match(text) and _LATE_DATE_LINE.match(text):
        return "date-line"
    if n < 80 and blk.kind == "p" and _is_date_only(text):
        return "date-line" if not seen_body else _TAIL_DATE_LABEL
    if suspect:
        if is_disclaimer(text):
            f.auto_published = True
            return "disclaimer"
        if is_credit(text):
            f.credits.append(text)
            return "credit-line"
        if is_copyright(text):
            f.credits.append(text)
            return "copyright"
        if is_appeared_first(text):
            return "appeared-first-on"
        if _REPUBLISHED.match(text):
            f.credits.append(text)
            return "credit-line"
        if _DISCLOSURE.match(text):
            return "author-box-or-disclosure"
        if any(w in low for w in _CONTACT_WORDS) and _CONTACT.search(text):
            return _CONTACT_LABEL
    if n < 2000 and low.startswith(_TAG_STARTS):
        tags = split_tags_line(text)
        if tags is not None and (
            blk.link_density > 0.5
            or mode != "page"
            or "tag" in blk.classes.lower()
            or not re.search(r"[.!?]\s", tags)
        ):
            f.tags.append(tags)
            return "tags"
    if (
        (n < 120 and is_chrome(text))
        or (text[:1] == "[" and _SHORTCODE.match(text))
        or ("breadcrumb" in blk.classes)
    ):
        return "chrome"
    if (
        n < 400
        and (low.lstrip().startswith(_PROMO_STARTS) or "click here" in low)
        and _PROMO.search(text.strip())
    ):
        return "contact-or-promo"
    if (n < 200 or blk.link_density > 0.3) and _TEASER.match(text):
        return "also-read"
    return ""


def dedupe(
    blocks: list[Block], f: Findings, always: bool = False, keys: list[str] | None = None
) -> list[Block]:
    """Keep a repeated paragraph once: the first prose (<p>) occurrence, else the first.

    In HTML a repeat counts only when the copies were rendered differently: another kind of block
    (a summary <h2> and the first <p>) anywhere, or, for the lede (one of the first two blocks),
    another class or parent element. Identical siblings and repeats further down are left alone
    (a deliberate repetition); `always` (plain text) drops every repeat.
    Also drops a leading summary that is a prefix of a paragraph right after it.
    """
    if keys is None:
        keys = [key(b.text) for b in blocks]
    first: dict[str, int] = {}
    drop: set[int] = set()
    for i, k in enumerate(keys):
        if len(k) < 25 or k.count(" ") < 3:
            continue
        j = first.get(k)
        if j is None:
            first[k] = i
            continue
        a, b = blocks[j], blocks[i]
        if not always and a.kind == b.kind and (a.origin == b.origin or j > 1):
            continue
        # keep the prose occurrence: a heading/caption summary gives way to the paragraph
        if blocks[j].kind != "p" and blocks[i].kind == "p":
            drop.add(j)
            first[k] = i
        else:
            drop.add(i)
    # a truncated summary ("...") right before the full paragraph
    for i in range(min(len(blocks) - 1, 6)):
        if i in drop:
            continue
        k = keys[i].rstrip()
        if len(k) < 50:
            continue
        for j in range(i + 1, min(i + 4, len(blocks))):
            if j not in drop and len(keys[j]) > len(k) and keys[j].startswith(k):
                drop.add(i)
                break
    if drop:
        f.drop("repeated-paragraph")
    return [b for i, b in enumerate(blocks) if i not in drop]
