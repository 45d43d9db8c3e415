"""REST API of the relay directory (staff only), shortlists and co-creator candidates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile
from fastapi.responses import Response as RawResponse

from services.benchmark.dependencies import IngestDep, StaffDep, StaffWriterDep, ingest_errors
from services.benchmark.relays import imports, service, shortlists
from services.benchmark.relays import repository as repo
from services.benchmark.relays.schemas import (
    DismissRequest,
    DuplicatePair,
    HistoryIn,
    HistoryPublic,
    MergeRequest,
    RelayAccountIn,
    RelayAccountPublic,
    RelayCreate,
    RelayDetail,
    RelayImportSummary,
    RelaysPage,
    RelayUpdate,
    ShortlistEntry,
    ShortlistIn,
    SortKey,
)
from shared.auth import Principal, PrincipalDep, WriterDep
from shared.db import ReadSessionDep, SessionDep
from shared.errors import Invalid, PayloadTooLarge
from shared.schemas.benchmark import CoCreatorCandidate
from shared.schemas.common import decode_cursor, encode_cursor

router = APIRouter(prefix="/v1", tags=["relays"])

Multi = Annotated[list[str] | None, Query()]
Score = Annotated[float | None, Query(ge=0, le=100)]
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _client(principal: Principal, client_id: int | None) -> int | None:
    return principal.require_client(client_id) if client_id is not None else None


@router.get("/relays", response_model=RelaysPage, summary="Search the relay directory")
async def search(
    session: ReadSessionDep,
    staff: StaffDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    topic: Multi = None,
    network: Multi = None,
    tier: Multi = None,
    language: Multi = None,
    region: Multi = None,
    status: Multi = None,
    min_composite: Score = None,
    max_composite: Score = None,
    min_reach: Score = None,
    min_resonance: Score = None,
    min_relevance: Score = None,
    min_authenticity: Score = None,
    min_activity: Score = None,
    client_id: Annotated[
        int | None, Query(description="adds relevance to this client's themes and shortlist")
    ] = None,
    shortlisted: bool = False,
    sort: SortKey = "composite",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RelaysPage:
    cid = _client(staff, client_id)
    if (sort == "relevance" or min_relevance is not None or shortlisted) and cid is None:
        raise Invalid("Relevance and the shortlist are per client: give client_id.")
    ranges = {
        "composite": (min_composite, max_composite),
        "reach": (min_reach, None),
        "resonance": (min_resonance, None),
        "relevance": (min_relevance, None),
        "authenticity": (min_authenticity, None),
        "activity": (min_activity, None),
    }
    filters = repo.Filters(
        q=q,
        topics=topic or [],
        networks=network or [],
        tiers=tier or [],
        languages=language or [],
        regions=region or [],
        statuses=status or [],
        ranges={k: v for k, v in ranges.items() if v != (None, None)},
        shortlisted_for=cid if shortlisted else None,
    )
    offset = int((decode_cursor(cursor) or {}).get("offset", 0))
    rows, total = await repo.search(
        session,
        filters,
        client_id=cid,
        sort=sort,
        descending=order == "desc",
        offset=offset,
        limit=limit,
    )
    data = await service.publics(session, rows, cid)
    nxt = encode_cursor({"offset": offset + limit}) if offset + limit < total else None
    return RelaysPage(data=data, next_cursor=nxt, total=total)


@router.post("/relays", response_model=RelayDetail, status_code=201, summary="Add a relay")
async def create(
    body: RelayCreate, session: SessionDep, staff: StaffWriterDep, ingest: IngestDep
) -> RelayDetail:
    with ingest_errors():
        relay = await service.create(session, body, ingest, staff.token)
    return await service.detail(session, relay, staff, None)


@router.get("/relays/duplicates", response_model=list[DuplicatePair])
async def duplicates(
    session: SessionDep,
    staff: StaffDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DuplicatePair]:
    """Likely duplicates (same handle, similar names, a handle spelling a name)."""
    return await service.duplicate_pairs(session, limit)


@router.post("/relays/duplicates/dismiss", status_code=204)
async def dismiss(body: DismissRequest, session: SessionDep, staff: StaffWriterDep) -> Response:
    await service.dismiss(session, body.a, body.b)
    return Response(status_code=204)


@router.get("/relays/export.csv", summary="The directory (or a filtered part) as CSV")
async def export(
    session: SessionDep,
    staff: StaffDep,
    topic: Multi = None,
    network: Multi = None,
    status: Multi = None,
    tier: Multi = None,
    client_id: int | None = None,
    shortlisted: bool = False,
) -> RawResponse:
    cid = _client(staff, client_id)
    body = await imports.export_csv(
        session,
        repo.Filters(
            topics=topic or [],
            networks=network or [],
            statuses=status or [],
            tiers=tier or [],
            shortlisted_for=cid if shortlisted else None,
        ),
    )
    return RawResponse(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="relays.csv"'},
    )


@router.post(
    "/relays/import",
    response_model=RelayImportSummary,
    summary="Import relays from CSV (all or nothing; duplicates need a decision)",
)
async def import_csv(
    session: SessionDep,
    staff: StaffWriterDep,
    ingest: IngestDep,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, , ; or tab separated")],
    dry_run: bool = False,
    on_duplicate: Annotated[
        str,
        Query(
            pattern="^(refuse|merge|create)$",
            description="rows matching an existing relay: refuse the file (default), merge "
            "into the existing relay, or create anyway (to merge later)",
        ),
    ] = "refuse",
) -> RelayImportSummary:
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB.")
    return await imports.import_csv(
        session, data, ingest, staff.token, dry_run=dry_run, on_duplicate=on_duplicate
    )


@router.get("/relays/{relay_id}", response_model=RelayDetail)
async def get_relay(
    relay_id: int, session: SessionDep, staff: StaffDep, client_id: int | None = None
) -> RelayDetail:
    cid = _client(staff, client_id)
    relay = await service.relay_or_404(session, relay_id)
    return await service.detail(session, relay, staff, cid)


@router.patch("/relays/{relay_id}", response_model=RelayDetail)
async def update(
    relay_id: int, body: RelayUpdate, session: SessionDep, staff: StaffWriterDep
) -> RelayDetail:
    relay = await service.relay_or_404(session, relay_id)
    await service.update_relay(session, relay, body)
    return await service.detail(session, relay, staff, None)


@router.delete("/relays/{relay_id}", status_code=204)
async def delete(relay_id: int, session: SessionDep, staff: StaffWriterDep) -> Response:
    relay = await service.relay_or_404(session, relay_id)
    await session.delete(relay)
    await session.flush()
    return Response(status_code=204)


@router.post("/relays/{relay_id}/accounts", response_model=RelayAccountPublic, status_code=201)
async def add_account(
    relay_id: int,
    body: RelayAccountIn,
    session: SessionDep,
    staff: StaffWriterDep,
    ingest: IngestDep,
) -> RelayAccountPublic:
    relay = await service.relay_or_404(session, relay_id)
    with ingest_errors():
        account = await service.add_account(session, relay, body, ingest, staff.token)
    return service.account_public(account)


@router.delete("/relays/{relay_id}/accounts/{account_id}", status_code=204)
async def delete_account(
    relay_id: int, account_id: int, session: SessionDep, staff: StaffWriterDep
) -> Response:
    relay = await service.relay_or_404(session, relay_id)
    await service.delete_account(session, relay, account_id)
    return Response(status_code=204)


@router.post(
    "/relays/{relay_id}/merge",
    response_model=RelayDetail,
    summary="Merge a duplicate into this relay (the confirmation of a proposed pair)",
)
async def merge(
    relay_id: int, body: MergeRequest, session: SessionDep, staff: StaffWriterDep
) -> RelayDetail:
    keep = await service.relay_or_404(session, relay_id)
    other = await service.relay_or_404(session, body.other_id)
    await service.merge(session, keep, other, staff.subject)
    return await service.detail(session, keep, staff, None)


@router.post(
    "/relays/{relay_id}/history",
    response_model=HistoryPublic,
    status_code=201,
    summary="Record that the relay relayed a client's post",
)
async def add_history(
    relay_id: int, body: HistoryIn, session: SessionDep, staff: StaffWriterDep
) -> HistoryPublic:
    staff.require_client(body.client_id)
    relay = await service.relay_or_404(session, relay_id)
    return service.history_public(await service.add_history(session, relay, body))


# --------------------------------------------------------------------------- per client


@router.get("/clients/{client_id}/shortlist", response_model=list[ShortlistEntry])
async def shortlist(
    client_id: int, session: SessionDep, principal: PrincipalDep
) -> list[ShortlistEntry]:
    """The client's shortlist (its own viewers may read it, not the whole directory)."""
    principal.require_client(client_id)
    return await shortlists.entries(session, client_id)


@router.post("/clients/{client_id}/shortlist", response_model=ShortlistEntry, status_code=201)
async def shortlist_add(
    client_id: int, body: ShortlistIn, session: SessionDep, staff: StaffWriterDep
) -> ShortlistEntry:
    staff.require_client(client_id)
    relay = await service.relay_or_404(session, body.relay_id)
    await service.shortlist_add(session, client_id, relay, body.note, staff.subject)
    entries = await shortlists.entries(session, client_id)
    return next(e for e in entries if e.relay.id == relay.id)


@router.delete("/clients/{client_id}/shortlist/{relay_id}", status_code=204)
async def shortlist_remove(
    client_id: int, relay_id: int, session: SessionDep, principal: WriterDep
) -> Response:
    principal.require_client(client_id)
    await service.shortlist_remove(session, client_id, relay_id)
    return Response(status_code=204)


@router.get(
    "/clients/{client_id}/cocreators",
    response_model=list[CoCreatorCandidate],
    summary="Co-creator candidates (the path the planner reads)",
)
@router.get("/clients/{client_id}/co-creators", response_model=list[CoCreatorCandidate])
async def co_creators(
    client_id: int, session: SessionDep, principal: PrincipalDep
) -> list[CoCreatorCandidate]:
    """Co-creator candidates: the client's shortlisted relays, best first.

    The client's most engaged community members will join them once ingest exposes who
    engages with the client's posts; it does not yet, so none are listed.
    """
    principal.require_client(client_id)
    return await shortlists.co_creators(session, client_id)
