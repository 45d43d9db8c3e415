"""Dependencies of the benchmark API: the ingest client, staff-only access, ingest errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from services.benchmark.clients.ingest import IngestClient
from shared.auth import Principal, PrincipalDep, Role
from shared.errors import Invalid, NotFound, ServiceUnavailable
from shared.http import BackendNotFound, BackendRejected, BackendUnavailable

STAFF = (Role.admin, Role.strategist, Role.community_manager, Role.service)


async def get_ingest(request: Request) -> IngestClient:
    client: IngestClient = request.app.state.ingest
    return client


IngestDep = Annotated[IngestClient, Depends(get_ingest)]


async def get_staff(principal: PrincipalDep) -> Principal:
    """The relay directory is agency data: staff roles only, never a client's viewers.

    A client viewer gets a 404 (as for another tenant's data): the directory's existence
    is not theirs to know about.
    """
    if principal.role not in STAFF:
        raise NotFound("No such resource.")
    return principal


async def get_staff_writer(staff: Annotated[Principal, Depends(get_staff)]) -> Principal:
    staff.require_write()
    return staff


StaffDep = Annotated[Principal, Depends(get_staff)]
StaffWriterDep = Annotated[Principal, Depends(get_staff_writer)]


@contextlib.contextmanager
def ingest_errors() -> Iterator[None]:
    """Turn ingest's failures into this API's problems (never a bare 500)."""
    try:
        yield
    except BackendUnavailable as exc:
        raise ServiceUnavailable(
            f"The ingest service is unavailable: {exc}", headers={"Retry-After": "10"}
        ) from exc
    except BackendNotFound as exc:
        raise NotFound(f"ingest: {exc}") from exc
    except BackendRejected as exc:
        raise Invalid(f"ingest refused the request: {exc}", ingest=exc.problem) from exc
