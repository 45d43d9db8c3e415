"""The PDF audit report: a job with progress, a stored file, French and English words."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from services.ingest.audit import findings as F
from services.ingest.audit.i18n import Words
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
        assert "Aucune publication sur Facebook pendant 24 jours" in " ".join(text.split())
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


def test_every_finding_message_is_translated():
    source = Path(F.__file__).read_text(encoding="utf-8")
    catalog = json.loads(Path(F.__file__).with_name("fr_CA.json").read_text(encoding="utf-8"))
    # Each message template in findings.py, joined across its string pieces.
    messages = {m.message for m in _all_messages(source)}
    assert messages and messages <= set(catalog), messages - set(catalog)


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
