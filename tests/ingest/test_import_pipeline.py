"""All or nothing, idempotence, detection and the column-mapping path of an import."""

from __future__ import annotations

import codecs
import datetime as dt

import pytest
from sqlmodel import select

from services.ingest.importers import cells
from services.ingest.store import loader
from services.ingest.store.models import SourceRecord
from shared.schemas.imports import ColumnMapping
from tests.conftest import new_client_id
from tests.ingest.helpers import FIXTURES, accounts, daily, make_account, posts, run


async def test_bad_file_is_refused_with_every_error_and_nothing_stored(db):
    cid = new_client_id()
    out = await run(db, cid, "meta_facebook_posts_bad.csv")
    assert out.status == "refused"
    got = [(e.row, e.column, e.value, e.reason) for e in out.errors]
    assert got == [
        (3, "Views", "beaucoup", "not a number"),
        (4, "Publish time", "31/09/2026 18:12",
         "not a valid date in this export's month/day/year order"),
        (5, "Post ID", "", "a post without its id"),
        (6, "Reach", "12%", "a percentage where a count is expected"),
    ]  # fmt: skip
    assert out.errors_total == 4
    # Row 2 was good and had been read first: not kept either, nor its account.
    assert await posts(db, cid) == {}
    assert await accounts(db, cid) == {}
    assert out.summary().posts == 0


async def test_the_same_file_twice_changes_nothing(db):
    cid = new_client_id()
    first = await run(db, cid, "meta_facebook_posts.csv", sha256="f" * 64)
    before = await posts(db, cid)
    n_sources = len((await db.exec(select(SourceRecord))).all())
    again = await run(db, cid, "meta_facebook_posts.csv", sha256="f" * 64)
    assert first.counts is not None and again.counts is not None
    assert first.counts.written > 0 and again.counts.written == 0
    assert again.status == "succeeded" and again.summary().posts == 3
    assert await posts(db, cid) == before
    assert len((await db.exec(select(SourceRecord))).all()) == n_sources


async def test_a_refusal_late_in_a_long_file_rolls_back_the_batches_written(db, tmp_path):
    path = tmp_path / "long.csv"
    lines = ["network,account_id,metric,day,value"]
    start = dt.date(2020, 1, 1)
    lines += [f"x,acct,views,{start + dt.timedelta(days=i)},{i}" for i in range(500)]
    lines.append("x,acct,views,2021-13-45,1")  # row 502: bad date, after 5 batches
    path.write_text("\n".join(lines) + "\n")
    cid = new_client_id()
    out = await run(db, cid, path, batch_size=100)
    assert out.status == "refused"
    assert [(e.row, e.column) for e in out.errors] == [(502, "day")]
    assert await daily(db, cid) == {}


async def test_detection_wins_over_nothing_and_an_explicit_format_is_checked(db):
    cid = new_client_id()
    out = await run(db, cid, "meta_instagram_posts.csv", format="x_tweet_activity")
    assert out.status == "refused"
    assert "X Analytics" in out.errors[0].reason
    out = await run(db, cid, "meta_instagram_posts.csv", format="no_such_format")
    assert out.status == "refused" and "unknown format" in out.errors[0].reason


async def test_the_chosen_account_must_be_of_the_files_network(db):
    cid = new_client_id()
    acc = await make_account(db, cid, "youtube", "UC1")
    out = await run(db, cid, "meta_instagram_posts.csv", account=acc)
    assert out.status == "refused" and "youtube account" in out.errors[0].reason


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"\x00\x01\x02garbage\x00" * 50, "binary"),
        (b"network,account_id,metric,day,value\n", "no data rows"),
    ],
)
async def test_unreadable_files_are_refused(db, tmp_path, content, reason):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    out = await run(db, new_client_id(), path)
    assert out.status == "refused" and reason in out.errors[0].reason


async def test_invalid_utf8_after_the_sniffed_start_is_refused(db, tmp_path):
    path = tmp_path / "f.csv"
    head = "network,account_id,metric,day,value\n"
    body = "".join(f"x,a,views,2026-01-{d:02d},1\n" for d in range(1, 29)) * 2500
    path.write_bytes(head.encode() + body.encode() + b"x,a,views,2026-02-01,\xff\xfe\n")
    cid = new_client_id()
    out = await run(db, cid, path)
    assert out.status == "refused"
    assert "UTF-8" in out.errors[0].reason
    assert await daily(db, cid) == {}


async def test_unknown_layout_needs_a_mapping_then_imports(db):
    cid = new_client_id()
    out = await run(db, cid, "agency_weekly_sheet.csv")
    assert out.status == "needs_mapping" and out.format is None
    acc = await make_account(db, cid, "facebook", "1234567890")
    mapping = ColumnMapping(
        kind="daily",
        network="facebook",
        columns={
            "Semaine": "ignore",
            "Jour": "date",
            "Abonnés Facebook": "metric:followers",
            "Portée totale": "metric:reach",
            "Commentaire": "ignore",
        },
        date_order="dmy",
    )
    out = await run(db, cid, "agency_weekly_sheet.csv", mapping=mapping, account=acc)
    assert out.status == "succeeded", out.errors
    assert out.format == "column_mapping"
    d = await daily(db, cid)
    assert d[("1234567890", "followers", dt.date(2026, 5, 2))] == 1535  # "1 535"
    assert d[("1234567890", "reach", dt.date(2026, 5, 3))] == 5002


def test_a_mapping_is_checked_before_use():
    with pytest.raises(ValueError, match="needs a column mapped to date"):
        ColumnMapping(kind="daily", network="x", columns={"a": "metric:views"})
    with pytest.raises(ValueError, match="not a canonical metric"):
        ColumnMapping(kind="daily", network="x", columns={"a": "date", "b": "metric:likes"})


def test_encodings_are_sniffed(tmp_path):
    from services.ingest.importers.reading import open_book

    text = "Date;Vues\n2026-05-01;12\n"
    for enc, bom, expected in (
        ("utf-8", codecs.BOM_UTF8, "utf-8"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
        ("utf-16-le", b"", "utf-16-le"),
        ("cp1252", b"", "utf-8"),  # plain ASCII decodes as UTF-8
    ):
        p = tmp_path / f"{enc}-{len(bom)}.csv"
        p.write_bytes(bom + text.encode(enc))
        with open_book(p) as book:
            assert (book.encoding, book.delimiter) == (expected, ";")
            rows = list(book.sheets[0].rows())
        assert rows == [(1, ["Date", "Vues"]), (2, ["2026-05-01", "12"])]


@pytest.mark.parametrize(
    "raw, decimal_comma, expected",
    [
        ("1777.0", None, 1777.0),
        ("1 234,5", True, 1234.5),
        ("1\u00a0234", True, 1234.0),
        ("1\u202f234,5", None, 1234.5),
        ("1,234", False, 1234.0),
        ("1,234", None, 1234.0),
        ("12,5", None, 12.5),
        ("1.234.567", None, 1234567.0),
        ("1.234,5", None, 1234.5),
        ("1,234.5", None, 1234.5),
        ("−12", None, -12.0),
        ("1.5E+03", None, 1500.0),
        ("-", None, None),
        ("NA", None, None),
        ("n/a", None, None),
        ("", None, None),
        (None, None, None),
        (42, None, 42.0),
    ],
)
def test_numbers(raw, decimal_comma, expected):
    assert cells.parse_number(raw, decimal_comma) == expected


@pytest.mark.parametrize("raw", ["abc", "12%", "1,2,3", "inf", "1e999", "12..5", "1_000x"])
def test_bad_numbers(raw):
    with pytest.raises(cells.CellError):
        cells.parse_number(raw, True)


@pytest.mark.parametrize(
    "raw, order, expected",
    [
        ("09/28/2026 18:12", "mdy", (dt.date(2026, 9, 28), dt.time(18, 12), None)),
        ("28/09/2026 18:12", "dmy", (dt.date(2026, 9, 28), dt.time(18, 12), None)),
        ("10/1/2015 21:00", "mdy", (dt.date(2015, 10, 1), dt.time(21, 0), None)),
        ("2026-05-04 13:12 +0000", "mdy", (dt.date(2026, 5, 4), dt.time(13, 12), dt.UTC)),
        ("May 8, 2020", "mdy", (dt.date(2020, 5, 8), None, None)),
        ("8 mai 2020", "dmy", (dt.date(2020, 5, 8), None, None)),
        ("20260501", "ymd", (dt.date(2026, 5, 1), None, None)),
        ("9/28/2026 6:12 PM", "mdy", (dt.date(2026, 9, 28), dt.time(18, 12), None)),
    ],
)
def test_dates(raw, order, expected):
    assert cells.parse_when(raw, order) == expected


def test_headers_lose_invisible_characters():
    assert cells.norm_header("Video pub\u00adlish\u200b  Time ") == "video publish time"
    assert cells.norm_header("\ufeffPost ID") == "post id"


def test_fixture_quirks_are_really_there():
    """The fixtures must keep the quirks the tests rely on."""
    assert (FIXTURES / "meta_facebook_posts.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert (
        (FIXTURES / "matomo_VisitsSummary.get_day.tsv").read_bytes().startswith(codecs.BOM_UTF16_LE)
    )
    assert "\u00ad" in (FIXTURES / "youtube_table_data.csv").read_text("utf-8-sig")
    assert b"\xe9" in (FIXTURES / "meta_facebook_posts_fr.csv").read_bytes()  # cp1252 é


@pytest.mark.parametrize("validate_first", [True, False])
async def test_progress_is_reported(db, tmp_path, validate_first, monkeypatch):
    monkeypatch.setattr(loader, "PROGRESS_EVERY_S", 0.0)  # every batch, whatever the speed
    path = tmp_path / "long.csv"
    start = dt.date(2000, 1, 1)
    rows = [f"x,acct,views,{start + dt.timedelta(days=i)},{i}" for i in range(45_000)]
    path.write_text("network,account_id,metric,day,value\n" + "\n".join(rows) + "\n")
    calls: list[tuple[float, str]] = []

    async def progress(pct: float, msg: str) -> None:
        calls.append((pct, msg))

    cid = new_client_id()
    out = await run(db, cid, path, progress=progress, validate_first=validate_first)
    assert out.status == "succeeded" and out.counts and out.counts.daily_written == 45_000
    pcts = [p for p, _ in calls]
    assert pcts == sorted(pcts) and all(0 <= p <= 100 for p in pcts)
    if validate_first:
        # Checked with progress, then stored without a word (SQLite's single writer).
        assert [m for _, m in calls] == [
            "20000 rows checked",
            "40000 rows checked",
            "45000 rows checked; storing them",
        ]
        assert pcts[-1] == 60
    else:
        assert [m for _, m in calls] == ["20000 rows stored", "40000 rows stored",
                                         "45000 rows stored"]  # fmt: skip


async def test_long_format_across_batches_and_interleaved_accounts(db, tmp_path):
    """Every row lands once, whatever the order of accounts and the batch boundaries."""
    path = tmp_path / "mixed.csv"
    start = dt.date(2020, 1, 1)
    lines = ["network,account_id,metric,day,value"]
    for i in range(6_000):  # two accounts alternating row by row…
        lines.append(f"x,a{i % 2},views,{start + dt.timedelta(days=i // 2)},{i}")
    for i in range(6_000):  # …then long runs of three
        lines.append(f"linkedin,b{i // 2_000},clicks,{start + dt.timedelta(days=i % 2_000)},{i}")
    path.write_text("\n".join(lines) + "\n")
    cid = new_client_id()
    out = await run(db, cid, path, batch_size=700)
    assert out.status == "succeeded", out.errors
    assert out.counts is not None and out.counts.daily_written == 12_000
    d = await daily(db, cid)
    assert len(d) == 12_000
    assert d[("a1", "views", start + dt.timedelta(days=2_999))] == 5_999
    assert d[("b2", "clicks", start + dt.timedelta(days=1_999))] == 5_999
