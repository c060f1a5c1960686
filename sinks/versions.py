"""Ordering of article derivations: which of two writes of the same article is the newer.

An article is newer when its raw item `version` is higher, or, for the same item version, when
its `transform_version` is higher (a replay after an extractor improvement). Transform versions
are dotted ("2026.11.1" < "2026.11.10"), so they must be compared part by part, numerically
where a part is a number; a plain string comparison gets "2026.11.10" wrong.

The guard also has to run inside the databases (PostgreSQL compares in SQL so that concurrent
sink replicas stay correct), hence `transform_sort_key`: a string whose plain byte order is the
dotted-version order, stored next to the version and compared with a binary collation.
"""

from __future__ import annotations

import re

# Numbers and words alternate inside a part ("1rc2" -> 1, "rc", 2), as natural sorting does.
_RUN = re.compile(r"\d+|[^\d]+")
# Anything that could collide with the key's own separators is dropped from word runs.
_UNSAFE = re.compile(r"[^\x21-\x7e]")


def _encode_run(run: str) -> str:
    if run.isdigit():
        digits = run.lstrip("0") or "0"
        # Length first, so that a longer number always sorts after a shorter one ("9" < "10").
        # Two decimal digits of length cover numbers up to 99 digits long.
        return "1" + f"{min(len(digits), 99):02d}" + digits
    # Words sort before numbers, so "1.0.dev" < "1.0.0" as in most version schemes.
    return "0" + _UNSAFE.sub("", run.lower())


def transform_sort_key(version: str) -> str:
    """A key whose binary (byte) order is the dotted-version order of `version`.

    Parts are separated by a space (0x20), below every printable character, so a version that
    is a prefix of another sorts first ("1.2" < "1.2.1"). Runs inside a part are separated by
    "!" (0x21), below every encoded run start ("0" and "1"), for the same reason.
    """
    parts = version.strip().split(".")
    return " ".join("!".join(_encode_run(run) for run in _RUN.findall(part)) for part in parts)


def derivation_key(version: int, transform_version: str) -> tuple[int, str]:
    """The full ordering key of one write: item version first, then the derivation."""
    return (version, transform_sort_key(transform_version))


def compare_transform_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as dotted version `a` is older than, the same as, or newer than `b`."""
    ka, kb = transform_sort_key(a), transform_sort_key(b)
    return (ka > kb) - (ka < kb)
