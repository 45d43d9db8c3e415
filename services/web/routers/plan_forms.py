"""Turn the plan builder's HTML forms into the planner's JSON bodies."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from shared.errors import Invalid


def _text(form: FormData, name: str) -> str:
    v = form.get(name)
    return v.strip() if isinstance(v, str) else ""


def _opt(form: FormData, name: str) -> str | None:
    return _text(form, name) or None


def _list(form: FormData, name: str, sep: str = ",") -> list[str]:
    return [x.strip() for x in _text(form, name).split(sep) if x.strip()]


def _num(form: FormData, name: str, *, scale: float = 1.0, required: bool = False) -> float | None:
    raw = _text(form, name).replace(",", ".").replace(" ", "").rstrip("%")
    if not raw:
        if required:
            raise Invalid(f"{name} is required.", field=name)
        return None
    try:
        return float(raw) * scale
    except ValueError as exc:
        raise Invalid(f"{name}: {raw!r} is not a number.", field=name) from exc


def body_for(collection: str, form: FormData) -> dict[str, Any]:
    """The JSON body of one item of ``collection`` from a builder form."""
    if collection == "audiences":
        return {
            "name": _text(form, "name"),
            "description": _text(form, "description"),
            "age_bands": [b for b in form.getlist("age_bands") if isinstance(b, str)],
            "language": _opt(form, "language"),
            "region": _opt(form, "region"),
            "interests": _list(form, "interests"),
        }
    if collection == "objectives":
        return {
            "audience_id": _text(form, "audience_id"),
            "kind": _text(form, "kind"),
            "kpi": _text(form, "kpi"),
            "network": _opt(form, "network"),
            "description": _text(form, "description"),
            "target": _num(form, "target"),
            "deadline": _opt(form, "deadline"),
        }
    if collection == "pillars":
        return {
            "name": _text(form, "name"),
            "share": _num(form, "share", scale=0.01, required=True),
            "description": _text(form, "description"),
        }
    if collection == "animators":
        return {
            "name": _text(form, "name"),
            "email": _opt(form, "email"),
            "hours_per_week": _num(form, "hours_per_week", required=True),
        }
    if collection == "spaces":
        body: dict[str, Any] = {
            "network": _text(form, "network"),
            "handle": _opt(form, "handle"),
            "animator_id": _opt(form, "animator_id"),
            "formats": _list(form, "formats"),
        }
        for k in ("posts_per_week", "minutes_per_post", "community_minutes_per_week"):
            v = _num(form, k)
            if v is not None:
                body[k] = v
        return body
    raise Invalid(f"No form for {collection}")


def style_body(form: FormData) -> dict[str, Any]:
    lines = {
        k: _list(form, k, sep="\n")
        for k in (
            "voice_attributes",
            "do",
            "dont",
            "vocabulary",
            "avoid_terms",
            "hashtags",
            "languages",
        )
    }
    return {"tone": _text(form, "tone"), "hashtag_policy": _text(form, "hashtag_policy"), **lines}
