"""REST API of peer groups, peers and benchmark results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from services.benchmark.dependencies import IngestDep, ingest_errors
from services.benchmark.peers import repository as repo
from services.benchmark.peers import service
from services.benchmark.peers.models import PeerAccount
from services.benchmark.peers.schemas import (
    BenchmarkRequest,
    PeerAccountIn,
    PeerAccountPublic,
    PeerCreate,
    PeerGroupCreate,
    PeerGroupDetail,
    PeerGroupPublic,
    PeerGroupUpdate,
    PeerPublic,
    PeerUpdate,
    ResultSummary,
)
from shared.auth import PrincipalDep, WriterDep
from shared.clock import utcnow
from shared.db import SessionDep
from shared.errors import Conflict, NotFound, PayloadTooLarge
from shared.jobs import JobNames
from shared.schemas.benchmark import BenchmarkResultFull
from shared.schemas.common import JobAccepted, Page
from shared.schemas.imports import ImportPublic

router = APIRouter(prefix="/v1", tags=["peers"])


@router.get(
    "/clients/{client_id}/peer-groups",
    response_model=Page[PeerGroupPublic],
    summary="A client's peer groups",
)
async def list_groups(
    client_id: int, session: SessionDep, principal: PrincipalDep
) -> Page[PeerGroupPublic]:
    principal.require_client(client_id)
    return Page(data=await service.list_groups(session, client_id))


@router.post(
    "/clients/{client_id}/peer-groups",
    response_model=PeerGroupDetail,
    status_code=201,
    summary="Create a peer group",
)
async def create_group(
    client_id: int, body: PeerGroupCreate, session: SessionDep, principal: WriterDep
) -> PeerGroupDetail:
    principal.require_client(client_id)
    group = await service.create_group(session, client_id, body)
    return await service.group_detail(session, group)


@router.get("/peer-groups/{group_id}", response_model=PeerGroupDetail, summary="A peer group")
async def get_group(group_id: int, session: SessionDep, principal: PrincipalDep) -> PeerGroupDetail:
    group = await service.group_or_404(session, principal, group_id)
    return await service.group_detail(session, group)


@router.patch("/peer-groups/{group_id}", response_model=PeerGroupDetail)
async def update_group(
    group_id: int, body: PeerGroupUpdate, session: SessionDep, principal: WriterDep
) -> PeerGroupDetail:
    group = await service.group_or_404(session, principal, group_id)
    await service.update_group(session, group, body)
    return await service.group_detail(session, group)


@router.delete("/peer-groups/{group_id}", status_code=204)
async def delete_group(group_id: int, session: SessionDep, principal: WriterDep) -> Response:
    group = await service.group_or_404(session, principal, group_id)
    await service.delete_group(session, group)
    return Response(status_code=204)


@router.post(
    "/peer-groups/{group_id}/peers",
    response_model=PeerPublic,
    status_code=201,
    summary="Add a peer with its public accounts (ingest starts collecting them)",
)
async def add_peer(
    group_id: int,
    body: PeerCreate,
    session: SessionDep,
    principal: WriterDep,
    ingest: IngestDep,
) -> PeerPublic:
    group = await service.group_or_404(session, principal, group_id)
    with ingest_errors():
        peer = await service.add_peer(session, group, body, ingest, principal.token)
    assert peer.id is not None
    return service.peer_public(peer, await repo.accounts_of(session, [peer.id]))


@router.patch("/peers/{peer_id}", response_model=PeerPublic)
async def update_peer(
    peer_id: int, body: PeerUpdate, session: SessionDep, principal: WriterDep
) -> PeerPublic:
    peer = await service.peer_or_404(session, principal, peer_id)
    await service.update_peer(session, peer, body)
    return service.peer_public(peer, await repo.accounts_of(session, [peer_id]))


@router.delete("/peers/{peer_id}", status_code=204)
async def delete_peer(peer_id: int, session: SessionDep, principal: WriterDep) -> Response:
    peer = await service.peer_or_404(session, principal, peer_id)
    await service.delete_peer(session, peer)
    return Response(status_code=204)


@router.post("/peers/{peer_id}/accounts", response_model=PeerAccountPublic, status_code=201)
async def add_account(
    peer_id: int,
    body: PeerAccountIn,
    session: SessionDep,
    principal: WriterDep,
    ingest: IngestDep,
) -> PeerAccountPublic:
    peer = await service.peer_or_404(session, principal, peer_id)
    with ingest_errors():
        account = await service.add_account(session, peer, body, ingest, principal.token)
    return service.account_public(account)


@router.delete("/peers/{peer_id}/accounts/{account_id}", status_code=204)
async def delete_account(
    peer_id: int, account_id: int, session: SessionDep, principal: WriterDep
) -> Response:
    peer = await service.peer_or_404(session, principal, peer_id)
    await service.delete_account(session, peer, account_id)
    return Response(status_code=204)


@router.post(
    "/peer-groups/{group_id}/benchmark",
    response_model=JobAccepted,
    status_code=202,
    summary="Compute a new version of the group's benchmark (a job)",
)
async def compute(
    group_id: int,
    request: Request,
    session: SessionDep,
    principal: WriterDep,
    body: BenchmarkRequest | None = None,
) -> JobAccepted:
    group = await service.group_or_404(session, principal, group_id)
    start, end = (body or BenchmarkRequest()).period(utcnow().date())
    job = await request.app.state.queue.enqueue(
        session,
        JobNames.BENCHMARK_COMPUTE,
        client_id=group.client_id,
        args={"group_id": group_id, "start": start.isoformat(), "end": end.isoformat()},
        created_by=principal.subject,
    )
    return JobAccepted(job_id=job.id, status_url=f"/v1/jobs/{job.id}")


@router.get(
    "/peer-groups/{group_id}/benchmarks",
    response_model=Page[ResultSummary],
    summary="The versions of a group's benchmark, newest first",
)
async def list_results(
    group_id: int, session: SessionDep, principal: PrincipalDep
) -> Page[ResultSummary]:
    await service.group_or_404(session, principal, group_id)
    return Page(data=[service.summary(r) for r in await repo.results_of(session, group_id)])


@router.get(
    "/peer-groups/{group_id}/benchmarks/latest",
    response_model=BenchmarkResultFull,
    summary="The newest version of a group's benchmark",
)
async def latest_result(
    group_id: int, session: SessionDep, principal: PrincipalDep
) -> BenchmarkResultFull:
    await service.group_or_404(session, principal, group_id)
    rows = await repo.results_of(session, group_id)
    if not rows:
        raise NotFound("This group has no benchmark yet; compute one.")
    return service.result_model(rows[0])


@router.get(
    "/benchmarks/{result_id}",
    response_model=BenchmarkResultFull,
    summary="One version of a benchmark (what a plan cites by id and version)",
)
async def get_result(
    result_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    kpi: Annotated[list[str] | None, Query(description="only these KPIs")] = None,
) -> BenchmarkResultFull:
    row = await service.result_or_404(session, principal, result_id)
    result = service.result_model(row)
    if kpi:
        result.kpis = [k for k in result.kpis if k.kpi in kpi]
    return result


@router.get(
    "/clients/{client_id}/benchmarks",
    response_model=Page[ResultSummary],
    summary="Every benchmark version of a client (all its groups), newest first",
)
async def client_results(
    client_id: int, session: SessionDep, principal: PrincipalDep
) -> Page[ResultSummary]:
    principal.require_client(client_id)
    rows = await repo.client_results(session, client_id)
    return Page(data=[service.summary(r) for r in rows])


@router.get(
    "/clients/{client_id}/benchmarks/latest",
    response_model=BenchmarkResultFull,
    summary="The client's most recently computed benchmark (what a plan starts from)",
)
async def client_latest(
    client_id: int, session: SessionDep, principal: PrincipalDep
) -> BenchmarkResultFull:
    principal.require_client(client_id)
    rows = await repo.client_results(session, client_id)
    if not rows:
        raise NotFound("This client has no benchmark yet; compute one.")
    return service.result_model(rows[0])


MAX_IMPORT_BYTES = 50 * 1024 * 1024


@router.post(
    "/peers/{peer_id}/accounts/{account_id}/import",
    response_model=ImportPublic,
    status_code=202,
    summary="Import a peer's data exported from another tool, into that account (ingest)",
    description=(
        "The file goes to ingest's import pipeline for this peer account: the answer is "
        "ingest's import (`queued` with its job, `needs_mapping` for an unknown layout — "
        "continue with ingest's `/v1/imports/{id}/preview` and `/mapping` — or `refused` "
        "with every error). All or nothing, as every import."
    ),
)
async def import_peer_data(
    peer_id: int,
    account_id: int,
    session: SessionDep,
    principal: WriterDep,
    ingest: IngestDep,
    file: Annotated[UploadFile, File(description="the export (CSV, TSV, XLSX or XLS)")],
    format: Annotated[str | None, Form(max_length=60)] = None,
) -> ImportPublic:
    peer = await service.peer_or_404(session, principal, peer_id)
    account = await session.get(PeerAccount, account_id)
    if account is None or account.peer_id != peer.id:
        raise NotFound(f"No account {account_id} on this peer")
    if account.ingest_account_id is None:
        raise Conflict(
            "This account is not registered in ingest yet (ingest was unreachable when it "
            "was added); compute the benchmark or add it again, then import."
        )
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge("The file is larger than 50 MB.")
    with ingest_errors():
        return await ingest.upload_import(
            principal.token,
            peer.client_id,
            file.filename or "export.csv",
            data,
            account.ingest_account_id,
            format,
        )
