"""Every route of every backend, called as client A against client B: 403/404, never data.

The routes come from each service's own OpenAPI spec, so a route added later is walked
without anyone remembering to add it here; a path parameter without a resource factory
(tests/contract/resources.py) fails the test with a message saying what to add.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import auth, new_client_id
from tests.contract.resources import BODIES, FACTORIES

SERVICES = ("ingest", "benchmark", "planner")
# Endpoints that authenticate by signature or are public by design (health is not in
# the specs). Each entry says why.
EXEMPT: dict[tuple[str, str, str], str] = {
    ("ingest", "GET", "/v1/webhooks/events"): "the event catalogue, the same for every client",
    ("benchmark", "GET", "/v1/webhooks/events"): "the event catalogue, the same for every client",
    ("planner", "GET", "/v1/webhooks/events"): "the event catalogue, the same for every client",
    ("ingest", "GET", "/v1/connections/providers"): "the networks Balise connects, no data",
    ("ingest", "POST", "/v1/incoming/clients/{client_id}/metrics"): "authenticated by "
    "signature (the client's push secret), never by bearer token",
    ("planner", "GET", "/v1/feeds/{token}.ics"): (
        "an animator's calendar feed: its unguessable, revocable token is the credential "
        "(tested in tests/planner/test_calendar_api.py)"
    ),
    ("ingest", "GET", "/v1/import-formats"): "the formats Balise reads; no client data",
}
# Agency-wide data (the relay directory) belongs to no client: any staff member of the
# agency may read it, client viewers may not. Those rules are tested with the routes;
# here they are skipped because there is no "client B" to protect.
AGENCY_PREFIXES = ("/v1/agency/", "/v1/relays", "/v1/scoring/", "/v1/reference")


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def example(
    spec: dict[str, Any],
    schema: dict[str, Any],
    client_id: int,
    name: str = "",
    resources: dict[str, Any] | None = None,
) -> Any:
    """A minimal valid value for ``schema``.

    Client ids are set to the target client, and any field named after a resource
    (``account_id``, ``account_ids``…) gets the target client's resource.
    """
    resources = resources or {}
    singular = name[:-1] if name.endswith("s") else name
    if name in resources:
        return resources[name]
    if singular in resources and resolve(spec, schema).get("type") == "array":
        return [resources[singular]]
    schema = resolve(spec, schema)
    if "example" in schema:
        return schema["example"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if resolve(spec, o).get("type") != "null"]
            return example(spec, options[0], client_id, name, resources)
    if "allOf" in schema:
        return example(spec, schema["allOf"][0], client_id, name, resources)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        out = {}
        for prop in schema.get("required", []):
            out[prop] = example(spec, props.get(prop, {}), client_id, prop, resources)
        for prop in props:
            if prop in ("client_id",):
                out[prop] = client_id
        return out
    if kind == "array":
        n = schema.get("minItems", 1)
        item = example(spec, schema.get("items", {}), client_id, name, resources)
        return [item] * max(1, n)
    if kind == "integer":
        if name.endswith("client_id"):
            return client_id
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return dt.date.today().isoformat()
        if fmt == "date-time":
            return dt.datetime.now(dt.UTC).isoformat()
        if fmt == "email":
            return "someone@example.test"
        if fmt in ("uri", "url"):
            return "https://example.test/"
        n = max(int(schema.get("minLength", 1)), 1)
        return ("x" * n)[: int(schema.get("maxLength", n))]
    return "x"


@pytest.mark.parametrize("service", SERVICES)
async def test_no_route_serves_another_clients_data(make_backend, db, service):
    client_a, client_b = new_client_id(), new_client_id()
    async with make_backend(service) as (app, http):
        spec = (await http.get("/openapi.json")).json()
        # One of each of client B's resources, made before the walk.
        resources = {name: await make(db, client_b) for name, make in FACTORIES[service].items()}
        checked = 0
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                key = (service, method.upper(), path)
                if key in EXEMPT or path.startswith(AGENCY_PREFIXES):
                    continue
                url = path
                params: dict[str, Any] = {}
                for p in op.get("parameters", []):
                    pname = p["name"]
                    if p["in"] == "path":
                        assert pname in resources, (
                            f"{method.upper()} {path}: add a factory for the path parameter "
                            f"{pname!r} in tests/contract/resources.py"
                        )
                        url = url.replace("{" + pname + "}", str(resources[pname]))
                    elif p["in"] == "query" and (p.get("required") or pname in resources):
                        params[pname] = example(
                            spec, p.get("schema", {}), client_b, pname, resources
                        )
                body = None
                if key in BODIES:
                    body = BODIES[key]
                elif "requestBody" in op:
                    content = op["requestBody"].get("content", {})
                    if "application/json" in content:
                        body = example(
                            spec,
                            content["application/json"].get("schema", {}),
                            client_b,
                            resources=resources,
                        )
                headers = auth([client_a], role="admin")
                if "multipart/form-data" in op.get("requestBody", {}).get("content", {}):
                    r = await http.request(
                        method.upper(),
                        url,
                        params=params,
                        headers=headers,
                        files={"file": ("x.csv", b"a,b\n1,2\n")},
                        data={"client_id": str(client_b)},
                    )
                else:
                    r = await http.request(
                        method.upper(), url, params=params, json=body, headers=headers
                    )
                assert r.status_code in (403, 404), (
                    f"{method.upper()} {url} as client A on client B's data answered "
                    f"{r.status_code}: {r.text[:300]}"
                )
                checked += 1
        assert checked > 0
