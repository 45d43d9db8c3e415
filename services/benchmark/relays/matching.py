"""Finding the same person twice: normalised names and handles, fuzzy matching.

Two relays are proposed as duplicates when

* they share a handle (on any network: people keep one handle across networks), or
* their names are similar (rapidfuzz ``token_sort_ratio`` ≥ ``NAME_THRESHOLD`` on names
  folded to lower-case ASCII, so "Tremblay, Marie" and "Marie Tremblay" match), or
* one's handle spells the other's name ("marietremblay" for "Marie Tremblay").

Nothing is merged automatically: a person confirms, or dismisses the pair for good.
Comparing every pair of a large directory is quadratic, so names are compared within
blocks that share the first two letters of their token-sorted form.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

NAME_THRESHOLD = 90.0
HANDLE_NAME_THRESHOLD = 92.0


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def name_key(name: str) -> str:
    """Lower-case ASCII words, sorted: the form names are compared in."""
    words = re.findall(r"[a-z0-9]+", fold(name))
    return " ".join(sorted(words))


def handle_key(handle: str) -> str:
    """A handle as platforms compare them: no @, case-insensitive, accents folded."""
    h = fold(handle.strip().lstrip("@"))
    h = re.sub(r"^https?://(www\.)?[^/]+/", "", h).strip("/")
    return re.sub(r"[^a-z0-9._-]", "", h)


@dataclass
class Candidate:
    relay_id: int
    name: str
    handles: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return name_key(self.name)


@dataclass
class Match:
    a: int
    b: int
    similarity: float
    reasons: list[str]


def compare(x: Candidate, y: Candidate) -> Match | None:
    reasons: list[str] = []
    score = 0.0
    shared = x.handles & y.handles
    if shared:
        reasons.append(f"same handle @{sorted(shared)[0]}")
        score = 100.0
    name_sim = fuzz.token_sort_ratio(x.key, y.key)
    if name_sim >= NAME_THRESHOLD and x.key:
        reasons.append(f"similar names ({name_sim:.0f}/100)")
        score = max(score, float(name_sim))
    for h in x.handles:
        s = fuzz.ratio(h.replace(".", "").replace("_", ""), y.key.replace(" ", ""))
        if s >= HANDLE_NAME_THRESHOLD:
            reasons.append(f"handle @{h} spells “{y.name}”")
            score = max(score, float(s))
            break
    for h in y.handles:
        s = fuzz.ratio(h.replace(".", "").replace("_", ""), x.key.replace(" ", ""))
        if s >= HANDLE_NAME_THRESHOLD:
            reasons.append(f"handle @{h} spells “{x.name}”")
            score = max(score, float(s))
            break
    if not reasons:
        return None
    a, b = sorted((x.relay_id, y.relay_id))
    return Match(a, b, round(score, 1), reasons)


def matches_for(new: Candidate, existing: Sequence[Candidate]) -> list[Match]:
    """Existing relays that may be ``new`` (import rows, a relay being created)."""
    out = []
    by_handle = {h: c for c in existing for h in c.handles}
    seen: set[int] = set()
    for h in new.handles:
        c = by_handle.get(h)
        if c is not None and c.relay_id not in seen:
            m = compare(new, c)
            if m:
                out.append(m)
                seen.add(c.relay_id)
    keys = [c.key for c in existing]
    if new.key:
        for _, _score, i in process.extract(
            new.key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_THRESHOLD, limit=20
        ):
            c = existing[i]
            if c.relay_id not in seen:
                m = compare(new, c)
                if m:
                    out.append(m)
                    seen.add(c.relay_id)
    return sorted(out, key=lambda m: -m.similarity)


def all_pairs(relays: Sequence[Candidate], dismissed: Iterable[tuple[int, int]]) -> list[Match]:
    """Every likely duplicate pair in the directory, most similar first."""
    skip = set(dismissed)
    pairs: dict[tuple[int, int], Match] = {}

    def add(m: Match | None) -> None:
        if m is None or (m.a, m.b) in skip or m.a == m.b:
            return
        old = pairs.get((m.a, m.b))
        if old is None or m.similarity > old.similarity:
            pairs[(m.a, m.b)] = m

    by_handle: dict[str, list[Candidate]] = defaultdict(list)
    for c in relays:
        for h in c.handles:
            by_handle[h].append(c)
    for group in by_handle.values():
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                add(compare(group[i], group[j]))
    blocks: dict[str, list[Candidate]] = defaultdict(list)
    for c in relays:
        keys = {c.key[:2], *(h[:2] for h in c.handles)}
        for k in keys:
            blocks[k].append(c)
    for group in blocks.values():
        if len(group) < 2:
            continue
        names = [c.key for c in group]
        sims = process.cdist(names, names, scorer=fuzz.token_sort_ratio, workers=1)
        close = {(i, j) for i, j in zip(*(sims >= NAME_THRESHOLD).nonzero(), strict=True) if i < j}
        spelled = [c.key.replace(" ", "") for c in group]
        owners = [
            (i, h.replace(".", "").replace("_", "")) for i, c in enumerate(group) for h in c.handles
        ]
        if owners:
            hs = process.cdist([h for _, h in owners], spelled, scorer=fuzz.ratio, workers=1)
            for k, j in zip(*(hs >= HANDLE_NAME_THRESHOLD).nonzero(), strict=True):
                i = owners[k][0]
                if i != j:
                    close.add((min(i, j), max(i, j)))
        for i, j in close:
            if group[i].relay_id != group[j].relay_id:
                add(compare(group[i], group[j]))
    return sorted(pairs.values(), key=lambda m: (-m.similarity, m.a, m.b))
