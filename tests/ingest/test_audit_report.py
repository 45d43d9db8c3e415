"""The PDF audit report: a job with progress, a stored file, French and English words."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from services.ingest.audit import findings as F
from services.ingest.audit.i18n import Words
from services.ingest.stats.service import RATE_METHODS
from shared.db import create_sessionmaker
from tests.conftest import auth, new_client_id
from tests.ingest.test_audit import seed_client


async def test_report_job_renders_a_pdf(engine, make_live_backend):
    cid = new_client_id()
    async with create_sessionmaker(engine)() as session:
        await seed_client(session, cid)
        await session.commit()
    async with make_live_backend("ingest") as (app, c):
        r = await c.post(
            f"/v1/clients/{cid}/audit/reports",
            params={"client_name": "Tourisme Haute-Côte"},
            json={"start": "2024-03-01", "end": "2024-03-31", "locale": "fr_CA", "min_sample": 3},
            headers=auth([cid]),
        )
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        assert await app.state.runner.wait_idle(60)
        job = (await c.get(f"/v1/jobs/{job_id}", headers=auth([cid]))).json()
        assert job["status"] == "succeeded", job
        assert job["progress"] == 100 and job["result"]["findings"] == 8
        r = await c.get(f"/v1/clients/{cid}/audit/reports/{job_id}", headers=auth([cid]))
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/pdf"
        assert "audit-2024-03-01-2024-03-31-fr_CA.pdf" in r.headers["content-disposition"]
        body = r.content
        assert body.startswith(b"%PDF")
        assert len(re.findall(rb"/Type /Page\b", body)) >= 4  # findings, account ×2, website
        from pypdf import PdfReader

        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
        assert "Audit des réseaux sociaux · Tourisme Haute-Côte" in text
        words = " ".join(text.split())
        assert "Aucune publication sur Facebook pendant 24 jours" in words
        # Evidence lines in French as well (the PDF's locale), none left in English.
        assert "Page FB : 6 publications, 2 semaines sur 5 avec une publication" in words
        assert "weeks with a post" not in words and "rated posts" not in words
        other = await c.get(f"/v1/clients/{cid}/audit/reports/{job_id}", headers=auth([cid + 1]))
        assert other.status_code == 404
        viewer = auth([cid], role="client_viewer", scope="read")
        r = await c.post(f"/v1/clients/{cid}/audit/reports", json={}, headers=viewer)
        assert r.status_code == 403
        r = await c.post(
            f"/v1/clients/{cid}/audit/reports",
            json={"start": "2024-03-31", "end": "2024-03-01"},
            headers=auth([cid]),
        )
        assert r.status_code == 422


def test_french_finding_text():
    f = F.make(
        "content_type_gap",
        "{best} posts on {network} get {ratio} the engagement rate by follower of "
        "{worst} posts ({best_rate} vs {worst_rate}; {best_posts} vs {worst_posts} posts)",
        1.0,
        {
            "best": ("video", "text"),
            "worst": ("photo", "text"),
            "network": ("linkedin", "network"),
            "ratio": (2.3, "ratio"),
            "best_rate": (0.0412, "percent"),
            "worst_rate": (0.0179, "percent"),
            "best_posts": (41, "number"),
            "worst_posts": (1118, "number"),
        },
    )
    assert Words("fr_CA").finding(f) == (
        "Les publications de type vidéo sur LinkedIn obtiennent 2,3 × le taux d'engagement par "
        "abonné des publications de type photo (4,1 % contre 1,8 %; 41 contre 1\u00a0118 "
        "publications)"
    )
    assert Words("en").finding(f).startswith("video posts on LinkedIn get 2.3 × the engagement")


def test_french_evidence_lines():
    f = F.make(
        "follower_growth",
        "{network} gained {followers} followers ({pct}) from {start_day} to {end_day}",
        1.0,
        {
            "network": ("facebook", "network"),
            "followers": (1200, "number"),
            "pct": (0.12, "percent"),
            "start_day": ("2024-03-01", "date"),
            "end_day": ("2024-03-31", "date"),
        },
        evidence=[
            F.ev(
                "{name}: {start} followers on {start_day}, {end} on {end_day}",
                name=("Pages d'été", "name"),
                start=(10_000, "number"),
                start_day=("2024-03-01", "date"),
                end=(11_200, "number"),
                end_day=("2024-03-31", "date"),
            ),
            F.ev("Method: {method}", method=(RATE_METHODS["followers"], "text")),
        ],
    )
    assert f.evidence == [
        "Pages d'été: 10,000 followers on 2024-03-01, 11,200 on 2024-03-31",
        f"Method: {RATE_METHODS['followers']}",
    ]
    assert Words("fr_CA").evidence(f) == [
        "Pages d'été : 10\u00a0000 abonnés le 1 mars 2024, 11\u00a0200 le 31 mars 2024",
        "Méthode : moyenne sur les publications des engagements / abonnés le jour de la "
        "publication (dernier décompte au plus 30 jours avant)",
    ]


def test_every_finding_message_is_translated():
    source = Path(F.__file__).read_text(encoding="utf-8")
    catalog = json.loads(Path(F.__file__).with_name("fr_CA.json").read_text(encoding="utf-8"))
    # Each message template in findings.py, joined across its string pieces.
    messages = {m.message for m in _all_messages(source)}
    assert messages and messages <= set(catalog), messages - set(catalog)


def test_every_evidence_line_is_translated_for_the_page_and_the_pdf():
    import ast

    from services.web.i18n import catalog

    tree = ast.parse(Path(F.__file__).read_text(encoding="utf-8"))
    lines = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "ev"
        and isinstance(node.args[0], ast.Constant)
    }
    assert len(lines) >= 10
    pdf = json.loads(Path(F.__file__).with_name("fr_CA.json").read_text(encoding="utf-8"))
    web = catalog("fr_CA")
    assert lines <= set(pdf), lines - set(pdf)
    assert lines <= set(web), lines - set(web)
    assert RATE_METHODS["followers"] in pdf and RATE_METHODS["followers"] in web


class _M:
    def __init__(self, message: str) -> None:
        self.message = message


def _all_messages(source: str) -> list[_M]:
    import ast

    out = []
    for node in ast.walk(ast.parse(source)):
        # Whole templates only (not the "; {top} …" piece appended to another one).
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.count("{") >= 2
            and not node.value.startswith(("{k", "; "))
        ):
            out.append(_M(node.value))
    return out
