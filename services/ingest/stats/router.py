"""The ingest read API: period stats of many accounts, posts, daily series, baselines."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.accounts import service as account_service
from services.ingest.audit import service as audit_service
from services.ingest.stats import baselines as baseline_service
from services.ingest.stats import columns as column_service
from services.ingest.stats import posts as post_service
from services.ingest.stats import repository as repo
from services.ingest.stats import service as stats_service
from shared import metrics_catalogue
from shared.auth import Principal, PrincipalDep
from shared.db import SessionDep, get_session
from shared.errors import Invalid, NotFound
from shared.schemas.common import Page
from shared.schemas.ingest import (
    AccountStatsList,
    Baseline,
    MetricPoint,
    MetricSeries,
    Network,
    PostPublic,
    StatsQuery,
)
from shared.schemas.ingest_columns import (
    BINARY,
    NDJSON,
    DailyColumnsQuery,
    PostColumnsQuery,
    media_type,
)

router = APIRouter(prefix="/v1", tags=["stats"])

# The stats answer streams after the endpoint returns: its session must live until the
# last byte is sent (request scope), unlike the ordinary function-scoped SessionDep.
StreamSessionDep = Annotated[AsyncSession, Depends(get_session, scope="request")]


@router.post(
    "/stats/accounts",
    response_model=AccountStatsList,
    summary="Period figures of many accounts at once (streamed; NDJSON on request)",
    responses={200: {"content": {NDJSON: {}}}},
)
async def account_stats(
    body: StatsQuery, request: Request, session: StreamSessionDep, principal: PrincipalDep
) -> StreamingResponse:
    accounts = await _readable_accounts(session, principal, body.account_ids, body.start, body.end)
    ndjson = NDJSON in request.headers.get("accept", "")

    async def chunks() -> AsyncIterator[bytes]:
        first = True
        if not ndjson:
            yield b'{"data":['
        async for line in stats_service.stats_json_for(
            session, accounts, body.start, body.end, body.sections
        ):
            if ndjson:
                yield line + b"\n"
            else:
                yield line if first else b"," + line
            first = False
        if not ndjson:
            yield b"]}"

    return StreamingResponse(chunks(), media_type=NDJSON if ndjson else "application/json")


async def _readable_accounts(
    session: AsyncSession,
    principal: Principal,
    account_ids: list[int],
    start: dt.date,
    end: dt.date,
) -> list[repo.AccountKey]:
    """The asked accounts (duplicates dropped, order kept), or 404 naming the hidden ones.

    A client's accounts are the tenant's; relays' agency-wide accounts are for staff.
    """
    if start > end:
        raise Invalid("start is after end")
    if (end - start).days > audit_service.MAX_DAYS:
        raise Invalid(f"The period is longer than {audit_service.MAX_DAYS} days.")
    ids = list(dict.fromkeys(account_ids))
    # Account ids are 32-bit: a larger one names no account (and must not reach the driver).
    real = [i for i in ids if 0 < i < 2**31]
    found = {}
    for i in range(0, len(real), stats_service.CHUNK * 5):
        for a in await repo.accounts_by_ids(session, real[i : i + stats_service.CHUNK * 5]):
            found[a.id] = a
    hidden = [i for i in ids if i not in found or not account_service.visible(principal, found[i])]
    if hidden:
        shown = ", ".join(str(i) for i in hidden[:10])
        raise NotFound(
            f"{len(hidden)} account id(s) are unknown or not yours: {shown}"
            f"{'…' if len(hidden) > 10 else ''}"
        )
    return [found[i] for i in ids]


@router.post(
    "/stats/posts/columns",
    summary="Posts of many accounts as columns (chunks), ordered by account and time",
    responses={200: {"content": {NDJSON: {}, BINARY: {}}}},
)
async def post_columns(
    body: PostColumnsQuery, session: StreamSessionDep, principal: PrincipalDep
) -> StreamingResponse:
    """See :mod:`shared.schemas.ingest_columns` for the chunks' layout."""
    accounts = await _readable_accounts(session, principal, body.account_ids, body.start, body.end)
    column_service.check_post_metrics(body.metrics)  # refused before the stream starts
    return StreamingResponse(
        column_service.post_columns(session, accounts, body),
        media_type=media_type(body.encoding),
    )


@router.post(
    "/stats/daily/columns",
    summary="Daily account metrics of many accounts as columns (chunks, per metric)",
    responses={200: {"content": {NDJSON: {}, BINARY: {}}}},
)
async def daily_columns(
    body: DailyColumnsQuery, session: StreamSessionDep, principal: PrincipalDep
) -> StreamingResponse:
    accounts = await _readable_accounts(session, principal, body.account_ids, body.start, body.end)
    column_service.check_daily_metrics(body.metrics)
    return StreamingResponse(
        column_service.daily_columns(session, accounts, body),
        media_type=media_type(body.encoding),
    )


@router.get(
    "/accounts/{account_id}/posts",
    response_model=Page[PostPublic],
    summary="An account's posts with their latest metrics, newest first",
)
async def account_posts(
    account_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    start: dt.date | None = None,
    end: dt.date | None = None,
    content_type: Annotated[str | None, Query(max_length=20)] = None,
    format: Annotated[str | None, Query(max_length=80)] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[PostPublic]:
    account = await account_service.account_or_404(session, principal, account_id)
    return await post_service.list_posts(
        session,
        account,
        start=start,
        end=end,
        content_type=content_type,
        fmt=format,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/accounts/{account_id}/metrics",
    response_model=list[MetricSeries],
    summary="Daily series of an account's metrics (days without data are absent)",
)
async def account_metrics(
    account_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    metric: Annotated[list[str], Query(min_length=1, max_length=20)],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[MetricSeries]:
    account = await account_service.account_or_404(session, principal, account_id)
    unknown = [m for m in metric if m not in metrics_catalogue.CATALOGUE]
    if unknown:
        raise Invalid(f"Unknown metric(s): {', '.join(unknown)}")
    start, end, _, _ = audit_service.periods(start, end, "previous")
    series = await repo.daily_series(
        session, account.id or 0, list(dict.fromkeys(metric)), start, end
    )
    out = []
    for name, points in series.items():
        m = metrics_catalogue.get(name)
        out.append(
            MetricSeries(
                account_id=account.id or 0,
                metric=name,
                unit=m.unit,
                aggregation=m.aggregation.value,
                definition=m.definition,
                points=[MetricPoint(day=d, value=v) for d, v in points],
            )
        )
    return out


@router.get(
    "/clients/{client_id}/baselines",
    response_model=list[Baseline],
    summary="KPI baselines of the client over a window (default: the last 90 days)",
)
async def client_baselines(
    client_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    start: dt.date | None = None,
    end: dt.date | None = None,
    network: Network | None = None,
) -> list[Baseline]:
    principal.require_client(client_id)
    start, end, _, _ = audit_service.periods(start, end, "previous")
    accounts = await audit_service.client_accounts(session, client_id)
    return await baseline_service.baselines(session, client_id, accounts, start, end, network)
