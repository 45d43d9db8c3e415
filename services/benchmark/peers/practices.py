"""Best practices across peers: breakout posts, and what outperforms, with its evidence.

Every post is compared with its **own account**: its *relative rate* is its engagement
rate (by follower) ÷ the median rate of its account's posts in the period, so a large
peer does not drown a small one. Accounts with fewer than ``MIN_ACCOUNT_POSTS`` rated
posts have no reliable median and are left out.

* A **breakout** is a post whose relative rate is at least ``BREAKOUT_MULTIPLE``.
* For a format, a time slot (weekday × part of the day, in the account's time zone), a
  theme (a word stem) or a hashtag, the **effect** is the median relative rate of the
  posts that have it ÷ the median relative rate of the posts that do not. A finding is
  claimed only with at least ``MIN_POSTS`` posts on each side and ``MIN_ACCOUNTS``
  accounts using it; otherwise the result says what was withheld and why.
"""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from services.benchmark import stats
from services.benchmark.scoring import text as textmod
from shared.schemas.benchmark import BestPractices, Breakout, PracticeFinding
from shared.schemas.ingest import Network, PostPublic

BREAKOUT_MULTIPLE = 3.0
MIN_ACCOUNT_POSTS = 10
MIN_POSTS = 30
MIN_ACCOUNTS = 3
MIN_EFFECT = 1.1  # smaller differences are not worth a claim
TOP_PER_DIMENSION = 5
MAX_BREAKOUTS = 20
BANDS = ((0, 6, "night"), (6, 12, "morning"), (12, 18, "afternoon"), (18, 24, "evening"))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_HASHTAG = re.compile(r"#([^\W_][\w]*)", re.UNICODE)


@dataclass
class AccountPosts:
    account_id: int
    owner: str
    network: Network
    timezone: str
    posts: Sequence[PostPublic]


@dataclass
class _Rated:
    post: PostPublic
    acc: AccountPosts
    rate: float
    relative: float


def _tz(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def slot_of(post: PostPublic, tz: str) -> str | None:
    if post.published_at is None:
        return None
    local = post.published_at.astimezone(_tz(tz))
    band = next(b for lo, hi, b in BANDS if lo <= local.hour < hi)
    return f"{WEEKDAYS[local.weekday()]} {band}"


def hashtags(post: PostPublic) -> set[str]:
    return {"#" + textmod.fold(h.casefold()) for h in _HASHTAG.findall(post.text or "")}


def themes(post: PostPublic) -> set[str]:
    body = _HASHTAG.sub(" ", post.text or "")
    return {textmod.stems(w)[0] for w in textmod.words(body) if len(w) >= 4}


def _rate(post: PostPublic) -> float | None:
    if post.engagement_rate_by_follower is not None:
        return post.engagement_rate_by_follower
    eng = post.metrics.get("engagements")
    return stats.ratio(eng, post.followers_at_post) if eng is not None else None


def analyse(accounts: Sequence[AccountPosts]) -> BestPractices:
    rated: list[_Rated] = []
    withheld: list[str] = []
    used_accounts = 0
    for acc in accounts:
        rows = [(p, r) for p in acc.posts if (r := _rate(p)) is not None]
        med = stats.median([r for _, r in rows])
        if len(rows) < MIN_ACCOUNT_POSTS or not med:
            if acc.posts:
                withheld.append(
                    f"{acc.owner} ({acc.network.value}): {len(rows)} rated post(s), fewer "
                    f"than {MIN_ACCOUNT_POSTS} (or a zero median): left out."
                )
            continue
        used_accounts += 1
        rated.extend(_Rated(p, acc, r, r / med) for p, r in rows)

    breakouts = sorted(
        (x for x in rated if x.relative >= BREAKOUT_MULTIPLE), key=lambda x: -x.relative
    )
    findings: list[PracticeFinding] = []
    dims: list[tuple[str, Callable[[_Rated], Iterable[str]], bool]] = [
        ("format", lambda x: [x.post.content_type] if x.post.content_type else [], True),
        ("time_slot", lambda x: [s] if (s := slot_of(x.post, x.acc.timezone)) else [], True),
        ("theme", lambda x: themes(x.post), False),
        ("hashtag", lambda x: hashtags(x.post), False),
    ]
    for dim, values_of, per_network in dims:
        found, small = _dimension(rated, dim, values_of, per_network)
        findings.extend(found)
        if small:
            withheld.append(
                f"{dim}: {small} candidate(s) under the minimum sample "
                f"({MIN_POSTS} posts with and without, {MIN_ACCOUNTS} accounts): not claimed."
            )
    if not rated:
        withheld.insert(
            0,
            f"No account has {MIN_ACCOUNT_POSTS} posts with an engagement rate in the period: "
            "no best practice can be claimed yet.",
        )
    return BestPractices(
        method="relative rate = post engagement rate (by follower) ÷ its account's median; "
        "effect = median relative rate with ÷ without",
        breakout_multiple=BREAKOUT_MULTIPLE,
        breakout_rule=f"engagement rate ≥ {BREAKOUT_MULTIPLE:g}× the account's own median "
        f"(accounts with ≥ {MIN_ACCOUNT_POSTS} rated posts)",
        breakouts=[_breakout(x) for x in breakouts[:MAX_BREAKOUTS]],
        findings=findings,
        min_posts=MIN_POSTS,
        min_accounts=MIN_ACCOUNTS,
        withheld=withheld,
        posts_analysed=len(rated),
        accounts_analysed=used_accounts,
    )


def _breakout(x: _Rated) -> Breakout:
    excerpt = (x.post.text or "")[:160] or None
    return Breakout(
        post_id=x.post.id,
        account_id=x.acc.account_id,
        owner=x.acc.owner,
        network=x.acc.network,
        published_at=x.post.published_at,
        content_type=x.post.content_type,
        engagement_rate=x.rate,
        account_median=x.rate / x.relative,
        multiple=round(x.relative, 3),
        permalink=x.post.permalink,
        excerpt=excerpt,
    )


def _dimension(
    rated: Sequence[_Rated],
    dim: str,
    values_of: Callable[[_Rated], Iterable[str]],
    per_network: bool,
) -> tuple[list[PracticeFinding], int]:
    groups: dict[Network | None, list[_Rated]] = defaultdict(list)
    for x in rated:
        groups[x.acc.network if per_network else None].append(x)
    out: list[PracticeFinding] = []
    small = 0
    for net, rows in groups.items():
        rel = np.array([x.relative for x in rows])
        index: dict[str, list[int]] = defaultdict(list)
        for i, x in enumerate(rows):
            for v in set(values_of(x)):
                index[v].append(i)
        labels = _labels(rows) if dim == "theme" else {}
        found = []
        for value, idx in index.items():
            n_with = len(idx)
            n_without = len(rows) - n_with
            n_acc = len({rows[i].acc.account_id for i in idx})
            if n_with < MIN_POSTS or n_without < MIN_POSTS or n_acc < MIN_ACCOUNTS:
                if n_with >= 5:
                    small += 1
                continue
            mask = np.zeros(len(rows), dtype=bool)
            mask[idx] = True
            m_with = float(np.median(rel[mask]))
            m_without = float(np.median(rel[~mask]))
            effect = stats.ratio(m_with, m_without)
            if effect is None or effect < MIN_EFFECT:
                continue
            label = labels.get(value, value)
            where = f" on {net.value}" if net else ""
            found.append(
                PracticeFinding(
                    dimension=dim,
                    network=net,
                    value=label,
                    effect=round(effect, 3),
                    median_relative_rate=round(m_with, 4),
                    baseline_relative_rate=round(m_without, 4),
                    posts=n_with,
                    posts_without=n_without,
                    accounts=n_acc,
                    statement=f"{dim.replace('_', ' ')} “{label}”{where}: {effect:.2f}× the "
                    f"engagement of other posts ({n_with} vs {n_without} posts, "
                    f"{n_acc} accounts)",
                )
            )
        found.sort(key=lambda f: -f.effect)
        out.extend(found[:TOP_PER_DIMENSION])
    return out, small


def _labels(rows: Sequence[_Rated]) -> dict[str, str]:
    """For each theme stem, the word peers wrote most often."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for x in rows:
        for w in textmod.words(_HASHTAG.sub(" ", x.post.text or "")):
            if len(w) >= 4:
                seen[textmod.stems(w)[0]][w] += 1
    return {stem: c.most_common(1)[0][0] for stem, c in seen.items()}
