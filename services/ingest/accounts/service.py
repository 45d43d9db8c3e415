"""Rules on accounts: who may see them, registering and archiving them.

Client accounts (the client's own and its peers') belong to one tenant; relays' accounts
are agency-wide (``client_id`` None, ``scope_key`` "agency"): every staff role may read
them, a client viewer may not.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.ingest.accounts import repository as repo
from services.ingest.store.models import Account
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.schemas.ingest import AccountCreate, AccountPublic, OwnerKind

AGENCY = "agency"
STAFF_ROLES = frozenset({Role.admin, Role.strategist, Role.community_manager, Role.service})


def is_staff(principal: Principal) -> bool:
    return principal.role in STAFF_ROLES


def require_staff(principal: Principal) -> None:
    if not is_staff(principal):
        raise Forbidden("The agency's relay directory is for agency staff only.")


class HasClient(Protocol):
    @property
    def client_id(self) -> int | None: ...


def visible(principal: Principal, account: HasClient) -> bool:
    if account.client_id is None:
        return is_staff(principal)
    return principal.sees(account.client_id)


async def account_or_404(session: AsyncSession, principal: Principal, account_id: int) -> Account:
    """The account, or 404 whether it does not exist or belongs to someone else."""
    account = await repo.get(session, account_id)
    if account is None or not visible(principal, account):
        raise NotFound(f"No account {account_id}")
    return account


def public(account: Account) -> AccountPublic:
    return AccountPublic.model_validate(account, from_attributes=True)


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"Unknown time zone {name!r}; use an IANA name such as America/Toronto."
        ) from exc


async def register(
    session: AsyncSession, client_id: int | None, body: AccountCreate
) -> tuple[Account, bool]:
    """Create the account, or return the same one when it is already registered.

    Registering is idempotent on (scope, network, external id): a second call with the
    same owner returns the existing account (``created`` False) and brings it back from
    the archive; the same key with another owner is a conflict.
    """
    if client_id is None:
        if body.owner_kind != OwnerKind.relay:
            raise Invalid("Agency-wide accounts are relays' accounts (owner_kind 'relay').")
    elif body.owner_kind == OwnerKind.relay:
        raise Invalid(
            "Relays' accounts are agency-wide: register them with POST /v1/agency/accounts."
        )
    _check_timezone(body.timezone)
    scope_key = AGENCY if client_id is None else str(client_id)
    existing = await repo.by_key(session, scope_key, body.network, body.external_id)
    if existing is not None:
        if (existing.owner_kind, existing.owner_ref) != (body.owner_kind.value, body.owner_ref):
            raise Conflict(
                f"{body.network} account {body.external_id!r} is already registered for "
                f"another owner (account {existing.id}).",
                account_id=existing.id,
            )
        if existing.archived:
            existing.archived = False
            session.add(existing)
            await session.flush()
        return existing, False
    account = Account(
        client_id=client_id,
        scope_key=scope_key,
        owner_kind=body.owner_kind.value,
        owner_ref=body.owner_ref,
        network=body.network.value,
        external_id=body.external_id,
        handle=body.handle,
        name=body.name,
        url=body.url,
        timezone=body.timezone,
    )
    session.add(account)
    await session.flush()
    return account, True


async def archive(session: AsyncSession, account: Account) -> Account:
    """Archived accounts keep their history but leave the lists and the audit."""
    account.archived = True
    session.add(account)
    await session.flush()
    return account


def check_ids(principal: Principal, accounts: Iterable[Account]) -> None:
    for a in accounts:
        if not visible(principal, a):
            raise NotFound(f"No account {a.id}")
