"""Compare two plan versions field by field (items matched by their stable ids)."""

from __future__ import annotations

from typing import Any

from shared.schemas.planner import FieldChange


def _key(item: Any, i: int) -> str:
    if isinstance(item, dict) and item.get("id"):
        return str(item["id"])
    if isinstance(item, dict) and item.get("relay_id") is not None:
        return f"relay-{item['relay_id']}"
    return f"#{i}"


def compare(a: Any, b: Any, path: str = "") -> list[FieldChange]:
    """Changes from ``a`` to ``b`` (JSON-like values); lists of items match on ``id``."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[FieldChange] = []
        for k in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{k}" if path else str(k)
            if k not in b:
                out.append(FieldChange(path=sub, before=a[k], after=None))
            elif k not in a:
                out.append(FieldChange(path=sub, before=None, after=b[k]))
            else:
                out.extend(compare(a[k], b[k], sub))
        return out
    if isinstance(a, list) and isinstance(b, list) and any(isinstance(x, dict) for x in a + b):
        ka = {_key(x, i): x for i, x in enumerate(a)}
        kb = {_key(x, i): x for i, x in enumerate(b)}
        out = []
        for k in list(ka) + [k for k in kb if k not in ka]:
            sub = f"{path}[{k}]"
            if k not in kb:
                out.append(FieldChange(path=sub, before=ka[k], after=None))
            elif k not in ka:
                out.append(FieldChange(path=sub, before=None, after=kb[k]))
            else:
                out.extend(compare(ka[k], kb[k], sub))
        return out
    if a != b:
        return [FieldChange(path=path, before=a, after=b)]
    return []
