"""The job status API every backend exposes: ``/v1/jobs/{id}`` and its retry."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Integer, bindparam
from sqlalchemy import select as core_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from shared.auth import Principal, PrincipalDep, Role, WriterDep, get_principal
from shared.db import ReadQuery, ReadSessionDep, SessionDep
from shared.errors import Conflict, NotFound
from shared.jobs import JobBase, JobPublic, JobStatus, after_commit, public
from shared.schemas.common import Page

#: the largest page ``GET /v1/jobs`` gives
MAX_LIMIT = 200


def jobs_router(job_model: type[JobBase]) -> APIRouter:
    router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

    async def job_or_404(session: AsyncSession, principal: Principal, job_id: str) -> JobBase:
        job = await session.get(job_model, job_id)
        if job is None:
            raise NotFound(f"No job {job_id}")
        if job.client_id is None:
            if principal.role not in (Role.admin, Role.service):
                raise NotFound(f"No job {job_id}")
        elif not principal.sees(job.client_id):
            raise NotFound(f"No job {job_id}")
        return job

    @router.get("/{job_id}", response_model=JobPublic, summary="A job's status and progress")
    async def get_job(job_id: str, session: ReadSessionDep, principal: PrincipalDep) -> JobPublic:
        return public(await job_or_404(session, principal, job_id))

    @router.get("", response_model=Page[JobPublic], summary="Recent jobs of a client")
    async def list_jobs(
        session: ReadSessionDep,
        principal: PrincipalDep,
        client_id: int,
        status: Annotated[JobStatus | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    ) -> Page[JobPublic]:
        principal.require_client(client_id)
        q = select(job_model).where(job_model.client_id == client_id)
        if status:
            q = q.where(job_model.status == status)
        q = q.order_by(job_model.created_at.desc()).limit(limit)  # type: ignore[attr-defined]
        rows = (await session.exec(q)).all()
        return Page[JobPublic](data=[public(j) for j in rows], next_cursor=None)

    @router.post(
        "/{job_id}/retry",
        response_model=JobPublic,
        status_code=202,
        summary="Queue a failed job again",
    )
    async def retry_job(
        job_id: str, request: Request, session: SessionDep, principal: WriterDep
    ) -> JobPublic:
        job = await job_or_404(session, principal, job_id)
        if job.status != JobStatus.failed:
            raise Conflict(f"Only a failed job can be retried; this one is {job.status}.")
        job.status = JobStatus.queued
        job.progress = 0
        job.message = "queued again"
        job.finished_at = None
        session.add(job)
        await session.flush()
        queue = request.app.state.queue
        after_commit(session, lambda: queue.submit(job_id))
        return public(job)

    return router


#: the columns of a job's public form, in :class:`JobPublic`'s order (``retryable`` derived)
_PUBLIC = [n for n in JobPublic.model_fields if n != "retryable"]
_ID = re.compile(r"[1-9][0-9]{0,8}")  # a client id the fast path takes (below 2^31)
_STATUSES = frozenset(JobStatus)
_STATUS = _PUBLIC.index("status")
_JOB_PAGE = Page[JobPublic]


class JobListRoute(Route):
    """``GET /v1/jobs?client_id=…`` served as a plain ASGI endpoint, ahead of FastAPI.

    Every page of a client in the web service starts by asking the three backends for
    that client's recent jobs, so this list is the backends' most frequent read. Through
    FastAPI's routing, dependency solving and the ORM it cost each backend ~1.7 ms of CPU
    for an empty list. Here: the same authentication (:func:`get_principal`) and client
    check, one prebuilt statement through the app's :class:`HotReader`, the same
    :class:`Page` of :class:`JobPublic` serialised by pydantic.

    Only well-formed queries take this path (``client_id`` a positive id, ``status`` a
    known status, ``limit`` 1-200, nothing else, each once); any other query does not
    match here and goes on to the declared route, which validates it and answers 422
    exactly as before. The middlewares and problem handlers apply to both.
    """

    def __init__(self, job_model: type[JobBase]) -> None:
        super().__init__(
            "/v1/jobs", self._serve, methods=["GET"], name="list_jobs_fast", include_in_schema=False
        )
        self.app = self._serve  # the ASGI callable itself (see PushRoute)
        jobs = job_model.__table__  # type: ignore[attr-defined]
        base = core_select(*(jobs.c[n] for n in _PUBLIC)).where(
            jobs.c.client_id == bindparam("client_id")
        )
        newest = jobs.c.created_at.desc()
        limit = bindparam("limit", type_=Integer)
        self._queries = {
            False: ReadQuery(base.order_by(newest).limit(limit)),
            True: ReadQuery(
                base.where(jobs.c.status == bindparam("status")).order_by(newest).limit(limit)
            ),
        }

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.FULL:
            return Match.NONE, {}
        query = _job_query(scope.get("query_string", b""))
        if query is None:
            return Match.NONE, {}
        child["job_query"] = query
        return match, child

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self  # the metrics label the route by its path
        request = Request(scope, receive)
        principal = await get_principal(request)
        query: dict[str, Any] = scope["job_query"]
        principal.require_client(query["client_id"])
        rows = await request.app.state.reader.all(self._queries["status" in query], query)
        page = _JOB_PAGE(
            data=[
                JobPublic(
                    **dict(zip(_PUBLIC, row, strict=True)), retryable=row[_STATUS] == "failed"
                )
                for row in rows
            ],
            next_cursor=None,
        )
        await Response(page.model_dump_json(), media_type="application/json")(scope, receive, send)


def _job_query(raw: bytes) -> dict[str, Any] | None:
    """The parameters of a well-formed job-list query, or None (left to FastAPI)."""
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    query: dict[str, Any] = {"limit": 50}
    seen: set[str] = set()
    for key, value in pairs:
        if key in seen:
            return None
        seen.add(key)
        if key == "client_id" and _ID.fullmatch(value):
            query["client_id"] = int(value)
        elif key == "limit" and _ID.fullmatch(value) and int(value) <= MAX_LIMIT:
            query["limit"] = int(value)
        elif key == "status" and value in _STATUSES:
            query["status"] = value
        else:
            return None
    return query if "client_id" in query else None
