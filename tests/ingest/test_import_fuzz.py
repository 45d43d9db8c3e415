"""Damaged files: either a clean import or a clean refusal — never an exception, never a
partial import, and a file that imported once imports again without changing anything.

Each example damages one of the fixtures (truncation, random bytes, another encoding,
shuffled or missing columns, bad numbers) and imports it for a fresh client.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import col, select

from services.ingest.store.models import (
    Account,
    ChannelTotal,
    DailyMetric,
    Post,
    WebMetric,
    WebPeriodMetric,
)
from tests.conftest import new_client_id
from tests.ingest.helpers import FIXTURES, make_account, run

TEXT_FIXTURES = (
    "meta_facebook_posts.csv",
    "meta_facebook_posts_fr.csv",
    "meta_instagram_posts.csv",
    "facebook_insights_legacy.csv",
    "tweet_activity_metrics_balisedemo_20260501_20260531_en.csv",
    "daily_tweet_activity_metrics_balisedemo_20260501_20260531_en.csv",
    "youtube_table_data.csv",
    "ga4_traffic_acquisition.csv",
    "matomo_VisitsSummary.get_day.tsv",
    "imported_sources_20260501_20260502.csv",
    "balise_daily.csv",
)
BINARY_FIXTURES = (
    "balisedemo_content_1746057600000.xls",
    "balisedemo_followers_1746057600000.xlsx",
)
NETWORK_OF = {
    "youtube_table_data.csv": "youtube",
    "matomo_VisitsSummary.get_day.tsv": "matomo",
    "imported_sources_20260501_20260502.csv": "plausible",
}
RAW = {name: (FIXTURES / name).read_bytes() for name in (*TEXT_FIXTURES, *BINARY_FIXTURES)}
SETTINGS = settings(
    # BALISE_FUZZ_EXAMPLES=1000 for a longer hunt; the default keeps the suite quick.
    max_examples=int(os.environ.get("BALISE_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _decode(data: bytes) -> tuple[str, str, bytes]:
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc), enc, bom
    try:
        return data.decode("utf-8"), "utf-8", b""
    except UnicodeDecodeError:
        return data.decode("cp1252"), "cp1252", b""


def _table(text: str) -> tuple[list[list[str]], str]:
    delimiter = (
        "\t"
        if text.count("\t") > text.count(",")
        else (";" if text.count(";") > text.count(",") else ",")
    )
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter


def _write(rows: list[list[str]], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from((*TEXT_FIXTURES, *BINARY_FIXTURES)))
    data = RAW[name]
    kind = draw(
        st.sampled_from(
            ("truncate", "bytes", "encoding", "shuffle", "drop", "numbers")
            if name in TEXT_FIXTURES
            else ("truncate", "bytes")
        )
    )
    if kind == "truncate":
        return name, data[: draw(st.integers(0, len(data)))]
    if kind == "bytes":
        pos = draw(st.integers(0, len(data)))
        noise = draw(st.binary(min_size=1, max_size=40))
        cut = draw(st.integers(0, 40))
        return name, data[:pos] + noise + data[pos + cut :]
    text, enc, bom = _decode(data)
    if kind == "encoding":
        target = draw(st.sampled_from(("utf-16-be", "utf-16-le", "latin-1", "cp1252", "utf-8")))
        keep_bom = draw(st.booleans())
        body = text.encode(target, errors="replace")
        return name, (codecs.BOM_UTF8 if keep_bom and target == "utf-8" else b"") + body
    lines = text.splitlines(keepends=True)
    comments = [ln for ln in lines if ln.startswith("#")]
    rest = "".join(ln for ln in lines if not ln.startswith("#"))
    rows, delimiter = _table(rest)
    if not rows:
        return name, data
    width = len(rows[0])
    if kind == "shuffle":
        order = draw(st.permutations(range(width)))
        rows = [[r[i] if i < len(r) else "" for i in order] for r in rows]
    elif kind == "drop":
        gone = draw(st.integers(0, width - 1))
        rows = [[c for i, c in enumerate(r) if i != gone] for r in rows]
    else:
        for _ in range(draw(st.integers(1, 4))):
            r = draw(st.integers(1, max(1, len(rows) - 1)))
            if r < len(rows) and rows[r]:
                c = draw(st.integers(0, len(rows[r]) - 1))
                rows[r][c] = draw(
                    st.one_of(
                        st.sampled_from(("1e999", "NaN", "12%", "1,2,3", "--5", "abc", "")),
                        st.text(max_size=8),
                        st.floats(allow_nan=True, allow_infinity=True).map(str),
                    )
                )
    new_text = "".join(comments) + _write(rows, delimiter)
    return name, bom + new_text.encode(enc, errors="replace")


async def _stored(db, client_id: int) -> int:
    ids = select(Account.id).where(Account.client_id == client_id)
    total = 0
    for model in (DailyMetric, Post, WebMetric, WebPeriodMetric, ChannelTotal):
        total += (
            await db.exec(
                select(func.count()).select_from(model).where(col(model.account_id).in_(ids))
            )
        ).one()
    return total


@SETTINGS
@given(case=damaged())
async def test_damaged_file_is_imported_or_refused_cleanly(db, tmp_path, case):
    name, data = case
    path = tmp_path / f"{uuid.uuid4().hex}-{name}"
    path.write_bytes(data)
    cid = new_client_id()
    account = None
    if name in NETWORK_OF:
        account = await make_account(db, cid, NETWORK_OF[name], "acct")
    n_accounts = len((await db.exec(select(Account).where(Account.client_id == cid))).all())

    out = await run(db, cid, path, account=account)

    assert out.status in ("succeeded", "refused", "needs_mapping")
    if out.status != "succeeded":
        # Nothing of the file: no rows, no account made on the way.
        assert await _stored(db, cid) == 0
        now = len((await db.exec(select(Account).where(Account.client_id == cid))).all())
        assert now == n_accounts
        if out.status == "refused":
            assert out.errors and all(e.reason for e in out.errors)
        return
    assert out.counts is not None and out.counts.written > 0
    stored = await _stored(db, cid)
    assert stored > 0
    again = await run(db, cid, path, account=account)
    assert again.status == "succeeded"
    assert again.counts is not None and again.counts.written == 0
    assert await _stored(db, cid) == stored


@SETTINGS
@given(data=st.binary(max_size=2000), suffix=st.sampled_from((".csv", ".xlsx", ".xls", ".tsv")))
async def test_random_bytes_never_escape(db, tmp_path, data, suffix):
    path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(data)
    cid = new_client_id()
    out = await run(db, cid, path)
    assert out.status in ("succeeded", "refused", "needs_mapping")
    if out.status != "succeeded":
        assert await _stored(db, cid) == 0
