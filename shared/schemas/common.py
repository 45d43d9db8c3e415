"""Contract pieces every API uses."""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, model_validator

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of results; pass ``next_cursor`` back as ``cursor`` for the next one."""

    data: list[T]
    next_cursor: str | None = None


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    from shared.errors import Invalid

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, json.JSONDecodeError) as exc:
        raise Invalid("The cursor is malformed.") from exc
    if not isinstance(value, dict):
        raise Invalid("The cursor is malformed.")
    return value


class Patch(BaseModel):
    """A partial update: an absent field is left as it is, ``null`` clears a field.

    The fields named in ``NOT_NULL`` cannot be cleared (their column has no empty
    value): an explicit ``null`` for one is a 422, never a failed database write.
    """

    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _refuse_null(self) -> Any:
        nulls = [
            f for f in self.NOT_NULL if f in self.model_fields_set and getattr(self, f) is None
        ]
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null (leave the field out to keep it)")
        return self


class JobAccepted(BaseModel):
    """Answer of an endpoint that started a job: poll ``status_url`` for progress."""

    job_id: str
    status_url: str
