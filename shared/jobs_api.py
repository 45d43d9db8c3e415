"""The job status API every backend exposes: ``/v1/jobs/{id}`` and its retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth import Principal, PrincipalDep, Role, WriterDep
from shared.db import ReadSessionDep, SessionDep
from shared.errors import Conflict, NotFound
from shared.jobs import JobBase, JobPublic, JobStatus, after_commit, public
from shared.schemas.common import Page


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
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
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
