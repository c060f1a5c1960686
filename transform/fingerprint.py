"""Near-duplicate fingerprints: MinHash signatures over word shingles, for the whole body and its lead.

Why MinHash rather than a 64-bit simhash: a syndicated copy is often cut to a teaser-length lead,
and simhash (a cosine-like distance over the whole text) cannot tell "the first 40 words of this
story" from "a different story". MinHash estimates Jaccard similarity, and with the set sizes kept
beside it, containment too; a second signature over the first LEAD_WORDS words catches teasers
and lead-preserving rewrites. LSH band keys from both signatures give candidates in O(1).

Cost: one xxh64 per word, then shingle hashes and NUM_PERM multiply-shift permutations in numpy
(no per-shingle Python loop): several thousand docs/s per core (bench/bench_transform.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import xxhash

NUM_PERM = 64  # signature length: +-0.06 standard error on a Jaccard estimate of 0.5
SHINGLE = 3  # words per shingle: long enough that shared vocabulary is not shared shingles
LEAD_WORDS = 40  # the lead window: roughly the first sentence or two, what teasers keep
BAND_ROWS = 2  # rows per LSH band: recall >99% at Jaccard 0.5 with 32 bands
# Leads with fewer shingles than this (a headline-only item) match too easily on their own.
MIN_LEAD_SHINGLES = 8
_WORD = re.compile(r"\w+", re.UNICODE)
_MASK32 = np.uint64(0xFFFFFFFF)

# Fixed, seeded permutation parameters: every worker, every release must draw the same ones,
# or band keys stop matching across processes. Changing them invalidates stored story indexes.
_rng = np.random.Generator(np.random.PCG64(0x5EED_1DE5))
_A = _rng.integers(1, 2**63, size=NUM_PERM, dtype=np.uint64) | np.uint64(1)  # odd multipliers
_B = _rng.integers(0, 2**63, size=NUM_PERM, dtype=np.uint64)
_SHINGLE_MUL = np.array([0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)
_EMPTY = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """MinHash signatures of an article body (uint32 x NUM_PERM each) and their set sizes."""

    body: bytes  # NUM_PERM little-endian uint32 minima over all shingles
    lead: bytes  # the same over the shingles of the first LEAD_WORDS words
    size: int  # distinct shingles in the body
    lead_size: int  # distinct shingles in the lead

    @property
    def empty(self) -> bool:
        return self.size == 0

    def hex(self) -> str:
        """A compact printable form for Provenance.fingerprint: the low byte of each body minimum.

        b-bit MinHash (Li & König): two hexes agree on a byte with probability J + (1-J)/256, so
        downstream consumers can still estimate similarity from it.
        """
        sig = np.frombuffer(self.body, dtype="<u4")
        return (sig & 0xFF).astype(np.uint8).tobytes().hex()

    def to_bytes(self) -> bytes:
        return self.size.to_bytes(4, "little") + self.lead_size.to_bytes(4, "little") + self.body + self.lead

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        n = NUM_PERM * 4
        if len(data) != 8 + 2 * n:
            raise ValueError(f"fingerprint must be {8 + 2 * n} bytes, got {len(data)}")
        return cls(
            body=data[8 : 8 + n],
            lead=data[8 + n :],
            size=int.from_bytes(data[:4], "little"),
            lead_size=int.from_bytes(data[4:8], "little"),
        )


def _shingle_hashes(words: list[str]) -> np.ndarray:
    if not words:
        return np.empty(0, dtype=np.uint64)
    hashed = np.fromiter(
        (xxhash.xxh64_intdigest(w.encode("utf-8", "surrogatepass")) for w in words),
        dtype=np.uint64,
        count=len(words),
    )
    if len(hashed) < SHINGLE:
        # A text shorter than one shingle is its own single shingle.
        return np.array([np.bitwise_xor.reduce(hashed * _SHINGLE_MUL[: len(hashed)])], dtype=np.uint64)
    n = len(hashed) - SHINGLE + 1
    combined = hashed[:n] * _SHINGLE_MUL[0]
    for k in range(1, SHINGLE):
        combined = (combined ^ (combined >> np.uint64(29))) + hashed[k : k + n] * _SHINGLE_MUL[k]
    result: np.ndarray = combined
    return result


def _signature(shingles: np.ndarray) -> np.ndarray:
    if len(shingles) == 0:
        return _EMPTY
    # Multiply-shift hashing (Dietzfelbinger): the high 32 bits of a*x+b mod 2^64 for odd a is a
    # universal family, cheap in numpy (uint64 arithmetic wraps).
    permuted = (shingles[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)
    signature: np.ndarray = (permuted.min(axis=0) & _MASK32).astype("<u4")
    return signature


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def fingerprint(text: str) -> Fingerprint:
    """The fingerprint of an article body (plain text; paragraphs joined by blank lines)."""
    with np.errstate(over="ignore"):
        shingles = _shingle_hashes(words_of(text))
        unique = np.unique(shingles)
        lead_count = max(0, min(len(shingles), LEAD_WORDS - SHINGLE + 1))
        lead = np.unique(shingles[:lead_count]) if lead_count else shingles[:1]
        return Fingerprint(
            body=_signature(unique).tobytes(),
            lead=_signature(lead).tobytes(),
            size=len(unique),
            lead_size=len(lead),
        )


def _jaccard(a: bytes, b: bytes) -> float:
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / NUM_PERM


def _containment(jaccard: float, size_a: int, size_b: int) -> float:
    """|A ∩ B| / min(|A|, |B|) estimated from Jaccard and the set sizes."""
    smaller = min(size_a, size_b)
    if smaller == 0:
        return 0.0
    inter = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return min(1.0, inter / smaller)


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """How likely two fingerprints are the same story, in [0, 1].

    The larger of: Jaccard of the bodies (edits, added/removed sentences, chrome) and containment
    of the smaller lead in the larger (teasers; copies with a different ending). Containment of the
    whole body is not used: estimated from a Jaccard near 0 it is mostly noise.
    """
    if a.empty or b.empty:
        return 0.0
    body = _jaccard(a.body, b.body)
    lead = _containment(_jaccard(a.lead, b.lead), a.lead_size, b.lead_size)
    if min(a.lead_size, b.lead_size) < MIN_LEAD_SHINGLES:
        lead = 0.0
    return max(body, lead)


def band_keys(fp: Fingerprint) -> list[str]:
    """LSH band keys: two fingerprints likely share one when their Jaccard (body or lead) is high."""
    if fp.empty:
        return []
    keys = []
    for name, sig in (("b", fp.body), ("l", fp.lead)):
        for band in range(NUM_PERM // BAND_ROWS):
            chunk = sig[band * BAND_ROWS * 4 : (band + 1) * BAND_ROWS * 4]
            keys.append(f"{name}{band}:{chunk.hex()}")
    return keys
