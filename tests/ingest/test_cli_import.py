"""``balise import`` against a temporary SQLite database (typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from tests.conftest import TEST_SECRET
from tests.ingest.helpers import FIXTURES

KEYS = {"format", "posts", "daily_rows", "accounts", "errors"}


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    """A runner on a fresh, migrated database with one client, ``demo``."""
    tmp = tmp_path_factory.mktemp("cli")
    mp = pytest.MonkeyPatch()
    mp.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp / 'cli.db'}")
    mp.setenv("BALISE_VAR_DIR", str(tmp / "var"))
    mp.setenv("BALISE_SECRET_KEY", TEST_SECRET)
    mp.delenv("REDIS_URL", raising=False)
    runner = CliRunner()
    for args in (["migrate"], ["client", "create", "Démo", "--slug", "demo"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
    yield runner
    mp.undo()


def _import(cli: CliRunner, *args: str) -> tuple[int, dict]:
    r = cli.invoke(app, ["import", *args, "--client", "demo", "--json"])
    return r.exit_code, json.loads(r.stdout)


def test_import_prints_the_summary_as_json(cli):
    code, out = _import(cli, str(FIXTURES / "meta_facebook_posts.csv"))
    assert code == 0
    assert set(out) == KEYS
    assert out == {
        "format": "meta_facebook_posts",
        "posts": 3,
        "daily_rows": 0,
        "accounts": 1,
        "errors": [],
    }
    # Again: the same answer, nothing duplicated (checked by the counts below).
    code, again = _import(cli, str(FIXTURES / "meta_facebook_posts.csv"))
    assert code == 0 and again == out
    r = cli.invoke(app, ["import", str(FIXTURES / "meta_facebook_posts.csv"), "--client", "demo"])
    assert r.exit_code == 0
    assert "0 row(s) new or corrected" in r.stdout


def test_refused_file_exits_non_zero_with_every_error(cli):
    code, out = _import(cli, str(FIXTURES / "meta_facebook_posts_bad.csv"))
    assert code == 1
    assert set(out) == KEYS and out["posts"] == 0
    assert [(e["row"], e["column"]) for e in out["errors"]] == [
        (3, "Views"),
        (4, "Publish time"),
        (5, "Post ID"),
        (6, "Reach"),
    ]
    assert all(set(e) == {"row", "column", "value", "reason"} for e in out["errors"])
    r = cli.invoke(
        app, ["import", str(FIXTURES / "meta_facebook_posts_bad.csv"), "--client", "demo"]
    )
    assert r.exit_code == 1
    assert "row 3, Views ('beaucoup'): not a number" in r.output


def test_account_and_format_options(cli, tmp_path: Path):
    code, out = _import(cli, str(FIXTURES / "youtube_table_data.csv"))
    assert code == 1 and "which account" in out["errors"][0]["reason"]
    # Register the channel through Balise's own long format, then name it.
    seed = tmp_path / "seed.csv"
    seed.write_text("network,account_id,metric,day,value\nyoutube,UC-demo,views,2026-05-01,5\n")
    assert _import(cli, str(seed))[0] == 0
    code, out = _import(cli, str(FIXTURES / "youtube_table_data.csv"), "--account", "UC-demo")
    assert code == 0, out
    assert (out["format"], out["posts"], out["accounts"]) == ("youtube_studio_table", 2, 1)
    code, out = _import(
        cli, str(FIXTURES / "youtube_totals.csv"), "--account", "UC-demo",
        "--format", "youtube_studio_totals",
    )  # fmt: skip
    assert code == 0 and out["daily_rows"] == 3
    code, out = _import(
        cli, str(FIXTURES / "meta_instagram_posts.csv"), "--format", "x_tweet_activity"
    )
    assert code == 1 and "X Analytics" in out["errors"][0]["reason"]


def test_unknown_layout_is_refused_by_the_cli(cli):
    code, out = _import(cli, str(FIXTURES / "agency_weekly_sheet.csv"))
    assert code == 1
    assert out["format"] is None and "map its columns" in out["errors"][0]["reason"]


def test_unknown_client_or_file(cli):
    r = cli.invoke(app, ["import", str(FIXTURES / "balise_daily.csv"), "--client", "nobody"])
    assert r.exit_code == 2 and "No client 'nobody'" in r.output
    r = cli.invoke(app, ["import", "/no/such/file.csv", "--client", "demo"])
    assert r.exit_code == 2
