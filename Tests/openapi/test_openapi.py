"""deploy/openapi.yaml against the server.

Static tests (always run):
  * the document is valid OpenAPI 3.1 (openapi-spec-validator);
  * every route registered in Sources/VigilNode/*.swift is in the spec, and every operation of the spec
    is a registered route (ticket actions are one Swift route, `/api/v1/tickets/{id}/{action}`, and one
    spec path per action: the actions are read from the `switch action` of `ticketAction`);
  * the role written in each operation's description agrees with the role middleware on its route group.

Live tests (when VIGIL_URL, VIGIL_CA and VIGIL_TOKEN name a running cluster, as Tests/openapi/run.sh does):
  * every documented route answers 401 without a token and 403 to the role just below the documented
    one (the middleware answers before the handler runs, so these probes change nothing);
  * a scripted walk drives every operation to a success answer and checks each answer's status, content
    type and body against the spec; a final test fails if some operation was never answered with a 2xx;
  * regressions for server bugs found while writing the spec (they fail until the server is fixed).
"""

from __future__ import annotations

import copy
import http.server
import json
import os
import pathlib
import queue
import re
import secrets
import threading
import time
import urllib.parse

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "deploy" / "openapi.yaml"
SWIFT_DIR = ROOT / "Sources" / "VigilNode"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
ROLES = ["viewer", "responder", "manager", "admin"]


@pytest.fixture(scope="session")
def spec() -> dict:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


# ----------------------------------------------------------------------------------------------- static


def test_spec_is_valid_openapi_3_1(spec):
    from openapi_spec_validator import validate

    assert str(spec["openapi"]).startswith("3.1"), spec["openapi"]
    validate(spec)


def swift_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every `router.<method>("...")` in the sources, `{param}` names kept."""
    routes: set[tuple[str, str]] = set()
    object_reads: list[str] = []
    interpolated: list[tuple[str, str, str]] = []
    for source in sorted(SWIFT_DIR.glob("*.swift")):
        text = source.read_text(encoding="utf-8")
        object_reads += re.findall(r'addObjectReads\(\s*router\s*,\s*"([^"]+)"', text)
        # Routes are registered on the router or on a route group (`settings.get("/api/…")`).
        for method, path in re.findall(r'\b[A-Za-z]+\.(get|put|post|delete|patch|head|options)\(\s*"(/[^"]*)"', text):
            if "\\(" in path:
                interpolated.append((source.name, method, path))
            else:
                routes.add((method.upper(), path))
    for file, method, path in interpolated:
        # The only helper that builds paths is addObjectReads(router, "<name>"); anything else must be
        # taught to this test rather than silently skipped.
        assert "\\(name)" in path and re.sub(r"\\\(name\)", "", path).count("\\(") == 0, (
            f"{file}: router.{method}(\"{path}\") interpolates something this test cannot expand"
        )
        assert object_reads, f"{file}: interpolated route without addObjectReads calls"
        for name in object_reads:
            routes.add((method.upper(), path.replace("\\(name)", name)))
    assert routes, "no routes found in Sources/VigilNode"
    return routes


def ticket_actions() -> set[str]:
    text = (SWIFT_DIR / "HTTPAPI+Duty.swift").read_text(encoding="utf-8")
    body = text[text.index("func ticketAction("):]
    body = body[: body.index("default:")]
    actions = set(re.findall(r'case\s+"([a-z-]+)"\s*:', body))
    assert actions, "no ticket actions found in ticketAction"
    return actions


def shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


GENERIC_ACTION_ROUTE = ("POST", "/api/v1/tickets/{}/{}")


def test_every_swift_route_is_in_the_spec(spec):
    documented = {(method, shape(path)) for method, path, _ in operations(spec)}
    missing = []
    for method, path in sorted(swift_routes()):
        key = (method, shape(path))
        if key == GENERIC_ACTION_ROUTE:
            for action in sorted(ticket_actions()):
                if (method, f"/api/v1/tickets/{{}}/{action}") not in documented:
                    missing.append(f"{method} /api/v1/tickets/{{id}}/{action}")
        elif key not in documented:
            missing.append(f"{method} {path}")
    assert not missing, "routes registered in Sources/VigilNode but missing from deploy/openapi.yaml:\n  " + "\n  ".join(missing)


def test_every_spec_operation_is_a_swift_route(spec):
    routes = {(method, shape(path)) for method, path in swift_routes()}
    actions = ticket_actions()
    extra = []
    for method, path, _ in operations(spec):
        key = (method, shape(path))
        if key in routes:
            continue
        match = re.fullmatch(r"/api/v1/tickets/\{[^}]+\}/([a-z-]+)", path)
        if method == "POST" and match and match.group(1) in actions and GENERIC_ACTION_ROUTE in routes:
            continue
        extra.append(f"{method} {path}")
    assert not extra, "operations in deploy/openapi.yaml that the server does not register:\n  " + "\n  ".join(extra)


def required_access(method: str, path: str) -> str:
    """The role middleware of each route group in HTTPAPI.makeRouter, restated: 'open', 'integration' or a role name."""
    if path in ("/healthz", "/readyz", "/metrics", "/api/v1/cluster"):
        return "open"
    if path in ("/v2/enqueue", "/v2/change/enqueue") or path.startswith("/api/v1/integrations/"):
        return "integration"
    if path.startswith("/ack/") or path.startswith("/calendar/") or path.startswith("/feedback/"):
        return "open"
    if path == "/api/v1/tokens" or path.startswith("/api/v1/tokens/"):
        return "admin"
    if path.startswith("/api/v1/cluster/"):
        return "admin"
    if path.startswith("/api/v1/people/") and (path.endswith("/password") or path.endswith("/password-link")):
        return "admin"
    if method in ("GET", "HEAD"):
        return "manager" if path.endswith("/contact-methods") or path.endswith("/contact") else "viewer"
    if path.startswith("/api/v1/settings/"):
        return "admin"
    if path == "/api/v1/tickets" or path.startswith("/api/v1/tickets/"):
        return "responder"
    if path.startswith("/api/v1/heartbeats/") and path.endswith("/ping"):
        return "responder"
    return "manager"


def documented_access(operation: dict) -> str:
    if operation.get("security") == []:
        text = operation.get("description", "")
        return "integration" if "integration key" in text else "open"
    match = re.search(r"Role: (viewer|responder|manager|admin)", operation.get("description", ""))
    return match.group(1) if match else "undocumented"


def test_documented_roles_match_the_middleware(spec):
    source = (SWIFT_DIR / "HTTPAPI.swift").read_text(encoding="utf-8")
    # The role middleware sits on each group of routes in HTTPAPI.makeRouter; if the wiring changes,
    # required_access above must change with it (and the spec with it).
    for needle in ('settings = router.group().add(middleware: auth.requiring(read: .viewer, write: .admin))',
                   'addTicketRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .responder)))',
                   'addConfigurationRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .manager)),',
                   'heartbeatPings: router.group().add(middleware: auth.requiring(.responder)),',
                   'contactData: router.group().add(middleware: auth.requiring(.manager)))',
                   'addCustomerRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .manager)),',
                   'contactData: router.group().add(middleware: auth.requiring(.manager)))',
                   'addIntakeRoutes(to: router.group().add(middleware: IntegrationKeyMiddleware(',
                   'addTokenRoutes(to: router.group().add(middleware: auth.requiring(.admin)))',
                   'addMemberRoutes(to: router.group().add(middleware: auth.requiring(.admin)))',
                   'addAckRoutes(to: router)', 'addFeedbackRoutes(to: router)', 'router.get("/calendar/{secret}")',
                   'addCalendarFeedRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .manager)))', 'router.get("/healthz")', 'router.get("/readyz")', 'router.get("/api/v1/cluster")',
                   'router.get("/metrics")'):
        assert needle in source, f"HTTPAPI.makeRouter changed ({needle!r} is gone): update required_access in this test"
    wrong = []
    for method, path, operation in operations(spec):
        want, have = required_access(method, path), documented_access(operation)
        if want != have:
            wrong.append(f"{method} {path}: the middleware requires {want}, the spec says {have}")
        if want in ("open", "integration") and operation.get("security") != []:
            wrong.append(f"{method} {path}: needs no bearer token but the spec does not say `security: []`")
    assert not wrong, "\n".join(wrong)


# ----------------------------------------------------------------------------------------------- live

LIVE = all(os.environ.get(name) for name in ("VIGIL_URL", "VIGIL_CA", "VIGIL_TOKEN"))
live = pytest.mark.skipif(not LIVE, reason="set VIGIL_URL, VIGIL_CA and VIGIL_TOKEN (Tests/openapi/run.sh does)")

EXERCISED: set[tuple[str, str]] = set()  # (METHOD, spec path) answered with a validated 2xx


class Client:
    def __init__(self, spec: dict):
        import requests

        self.spec = spec
        self.base = os.environ.get("VIGIL_URL", "").rstrip("/")
        self.session = requests.Session()
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`.
        self.ca = os.environ.get("VIGIL_CA")
        self.admin = os.environ.get("VIGIL_TOKEN")
        self.templates = [(method, path, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"))
                          for method, path, _ in operations(spec)]

    def spec_path(self, method: str, url_path: str) -> str:
        exact = [path for m, path, rx in self.templates if m == method and path == url_path]
        if exact:
            return exact[0]
        # The most specific template wins (fewest parameters).
        matches = sorted((path.count("{"), path) for m, path, rx in self.templates if m == method and rx.match(url_path))
        assert matches, f"{method} {url_path} is not an operation of the spec"
        return matches[0][1]

    def call(self, method: str, path: str, body=None, *, token: str | None = "admin", headers=None, raw: bytes | None = None,
             params=None, expect: int | tuple[int, ...] | None = None):
        """One request; the answer must be documented and match its schema. Returns (status, json or text, response)."""
        send_headers = dict(headers or {})
        if token == "admin":
            token = self.admin
        if token:
            send_headers["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            send_headers.setdefault("Content-Type", "application/json")
        url_path = urllib.parse.urlsplit(path).path
        response = self.session.request(method, self.base + path, data=data, headers=send_headers, params=params, timeout=30,
                                        verify=self.ca)
        template = self.spec_path(method, url_path)
        payload = check_answer(self.spec, method, template, response)
        if expect is not None:
            wanted = expect if isinstance(expect, tuple) else (expect,)
            assert response.status_code in wanted, f"{method} {path}: {response.status_code} {response.text[:500]} (wanted {wanted})"
        if 200 <= response.status_code < 300:
            EXERCISED.add((method, template))
        return response.status_code, payload, response


def resolve(spec: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: object = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target  # type: ignore[assignment]
    return node


def check_answer(spec: dict, method: str, template: str, response):
    from jsonschema import Draft202012Validator

    operation = spec["paths"][template][method.lower()]
    status = str(response.status_code)
    responses = operation["responses"]
    assert status in responses, (f"{method} {template}: status {status} is not documented "
                                 f"(documented: {sorted(responses)}); body: {response.text[:500]}")
    documented = resolve(spec, responses[status])
    content = documented.get("content", {})
    media = (response.headers.get("Content-Type") or "").split(";")[0].strip()
    if not content:
        return response.text
    assert media in content, f"{method} {template} {status}: Content-Type {media!r}, documented {sorted(content)}"
    schema = content[media].get("schema", {})
    if media != "application/json":
        return response.text
    try:
        payload = response.json()
    except ValueError:
        pytest.fail(f"{method} {template} {status}: the body is not JSON: {response.text[:500]!r}")
    root = dict(copy.deepcopy(schema))
    root["components"] = spec["components"]
    errors = sorted(Draft202012Validator(root).iter_errors(payload), key=lambda error: list(error.absolute_path))
    assert not errors, (f"{method} {template} {status}: the answer does not match the spec:\n  "
                        + "\n  ".join(f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:300]}" for e in errors[:5])
                        + f"\nbody: {response.text[:800]}")
    return payload


@pytest.fixture(scope="session")
def client(spec) -> Client:
    return Client(spec)


@pytest.fixture(scope="session")
def run_id() -> str:
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def tokens(client, run_id) -> dict:
    """One token per role, plus a manager token acting as carol (a manager in deploy/examples/oncall.yaml)."""
    issued = {}
    for role in ROLES:
        _, answer, _ = client.call("POST", "/api/v1/tokens", {"name": f"oa-{run_id}-{role}", "role": role}, expect=201)
        issued[role] = answer["token"]
    _, answer, _ = client.call("POST", "/api/v1/tokens", {"name": f"oa-{run_id}-carol", "role": "manager", "person_id": "carol"},
                               expect=201)
    issued["carol"] = answer["token"]
    return issued


# Harmless probes per operation: path values that name nothing, and bodies the strict decoder refuses.
PROBE_VALUES = {"id": "no-such-object", "key": "openapi.probe", "name": "no-such-token", "token": "no-such-link"}


def probe_request(method: str, path: str) -> tuple[str, dict | None, dict]:
    url = path
    for name, value in PROBE_VALUES.items():
        url = url.replace("{" + name + "}", value)
    if path.startswith("/api/v1/tickets/{id}"):
        url = path.replace("{id}", "999999999")
    if path.startswith("/api/v1/integrations/alertmanager/"):
        url = path.replace("{key}", "00000000000000000000000000000000")
    query = {"/api/v1/reports": "?month=2026-01", "/api/v1/reports/breaches": "?month=2026-01", "/api/v1/kb/search": "?q=probe",
             "/api/v1/people/{id}/contact-methods": "?reason=probe", "/api/v1/customers/{id}/contact": "?reason=probe"}.get(path, "")
    body = None
    if method in ("PUT", "POST"):
        body = {"value": 1} if path.startswith("/api/v1/settings/") else {"__openapi_probe": True}
    return url + query, body, {}


@live
def test_every_bearer_route_answers_401_without_a_token(client, spec):
    failures = []
    for method, path, operation in operations(spec):
        if operation.get("security") == []:
            continue
        url, body, _ = probe_request(method, path)
        status, payload, response = client.call(method, url, body, token=None)
        if status != 401 or response.headers.get("WWW-Authenticate") != 'Bearer realm="vigil"':
            failures.append(f"{method} {path}: {status} {response.headers.get('WWW-Authenticate')!r}")
        status, _, _ = client.call(method, url, body, token="vgl_not-a-token-of-this-cluster")
        if status != 401:
            failures.append(f"{method} {path} with an unknown token: {status}")
    assert not failures, "\n".join(failures)


@live
def test_every_route_refuses_the_role_below_the_documented_one(client, spec, tokens):
    failures = []
    for method, path, operation in operations(spec):
        access = documented_access(operation)
        if access not in ROLES or access == "viewer":
            continue
        below = ROLES[ROLES.index(access) - 1]
        url, body, _ = probe_request(method, path)
        status, payload, _ = client.call(method, url, body, token=tokens[below])
        if status != 403:
            failures.append(f"{method} {path} as {below}: {status} {payload}")
        # The documented role itself gets past the middleware (the probe is then refused by the handler).
        status, payload, _ = client.call(method, url, body, token=tokens[access])
        if status in (401, 403) and not (path.endswith("/contact-methods") or path.endswith("/contact")):
            failures.append(f"{method} {path} as {access}: {status} {payload}")
    assert not failures, "\n".join(failures)


@live
def test_node_routes(client):
    client.call("GET", "/healthz", token=None, expect=200)
    client.call("GET", "/readyz", token=None, expect=200)
    _, text, _ = client.call("GET", "/metrics", token=None, expect=200)
    assert "vigil_raft_term" in text
    _, view, _ = client.call("GET", "/api/v1/cluster", token=None, expect=200)
    assert view["leader"] != 0 and len(view["members"]) == 3


@live
def test_settings(client, run_id):
    key = f"openapi.{run_id}"
    _, answer, _ = client.call("PUT", f"/api/v1/settings/{key}", {"value": "one"}, expect=200)
    assert answer["created"] is True
    revision = answer["revision"]
    _, answer, _ = client.call("GET", f"/api/v1/settings/{key}", expect=200)
    assert answer["value"] == "one"
    client.call("GET", f"/api/v1/settings/{key}", params={"consistency": "local"}, expect=200)
    client.call("GET", f"/api/v1/settings/{key}", params={"consistency": "eventual"}, expect=400)
    client.call("PUT", f"/api/v1/settings/{key}", {"value": "two"}, headers={"If-Match": f'"{revision + 1000}"'}, expect=409)
    client.call("PUT", f"/api/v1/settings/{key}", {"value": "two"}, headers={"If-Match": f'"{revision}"'}, expect=200)
    client.call("PUT", f"/api/v1/settings/{key}", {"value": 2}, expect=400)
    client.call("PUT", f"/api/v1/settings/{key}", raw=b"{", expect=400)
    client.call("PUT", f"/api/v1/settings/{key}", {"value": "x" * (70 << 10)}, expect=413)
    client.call("PUT", "/api/v1/settings/bad%20key", {"value": "x"}, expect=400)
    _, answer, _ = client.call("DELETE", f"/api/v1/settings/{key}", expect=200)
    assert answer["deleted"] is True and "value" not in answer
    client.call("DELETE", f"/api/v1/settings/{key}", expect=404)
    client.call("GET", f"/api/v1/settings/{key}", expect=404)


@live
def test_tokens(client, run_id):
    name = f"oa-{run_id}-temp"
    _, answer, _ = client.call("POST", "/api/v1/tokens", {"name": name, "role": "viewer", "person_id": None}, expect=201)
    viewer = answer["token"]
    client.call("GET", "/api/v1/people", token=viewer, expect=200)
    client.call("POST", "/api/v1/tokens", {"name": name, "role": "viewer"}, expect=409)
    client.call("POST", "/api/v1/tokens", {"name": "not a name", "role": "viewer"}, expect=400)
    client.call("POST", "/api/v1/tokens", {"name": f"{name}-x", "role": "viewer", "person_id": "nobody-here"}, expect=404)
    client.call("POST", "/api/v1/tokens", {"name": f"{name}-x", "role": "root"}, expect=400)
    _, answer, _ = client.call("GET", "/api/v1/tokens", expect=200)
    assert name in [item["name"] for item in answer["items"]]
    assert all("token" not in item and "sha256" not in item for item in answer["items"])
    client.call("DELETE", f"/api/v1/tokens/{name}", expect=200)
    client.call("DELETE", f"/api/v1/tokens/{name}", expect=404)
    client.call("GET", "/api/v1/people", token=viewer, expect=401)


@live
def test_people_and_contact_data(client, tokens, run_id):
    person = f"oa-{run_id}"
    _, answer, _ = client.call("GET", "/api/v1/people", expect=200)
    assert {"alice", "bob", "carol"} <= {item["id"] for item in answer["items"]}
    assert all("contact_methods" not in item for item in answer["items"])
    client.call("GET", "/api/v1/people/alice", expect=200)
    client.call("GET", "/api/v1/people/nobody-here", expect=404)
    body = {"id": person, "name": "OpenAPI Probe", "role": "viewer", "time_zone_identifier": "Europe/Berlin",
            "contact_methods": [{"id": "mail", "kind": "email", "address": "probe@example.invalid"}],
            "notification_rules": [{"contact_method_id": "mail", "delay_minutes": 2}]}
    _, answer, _ = client.call("PUT", f"/api/v1/people/{person}", body, token=tokens["manager"], expect=200)
    assert answer["object"] == person
    client.call("PUT", f"/api/v1/people/{person}", {"id": person, "name": "Minimal", "role": "viewer"}, expect=200)
    client.call("PUT", f"/api/v1/people/{person}", dict(body, colour="blue"), expect=400)
    client.call("PUT", f"/api/v1/people/{person}", dict(body, id="other"), expect=400)
    client.call("PUT", f"/api/v1/people/{person}", dict(body, time_zone_identifier="Mars/Olympus"), expect=400)
    client.call("PUT", f"/api/v1/people/{person}", {"id": person, "name": "x" * (600 << 10), "role": "viewer"}, expect=413)
    _, answer, _ = client.call("GET", "/api/v1/people/alice/contact-methods", params={"reason": "openapi test"},
                               token=tokens["carol"], expect=200)
    assert {"chat", "sms"} <= {item["id"] for item in answer["items"]}
    client.call("GET", "/api/v1/people/alice/contact-methods", params={"reason": "openapi test"}, expect=403)
    client.call("GET", "/api/v1/people/alice/contact-methods", token=tokens["carol"], expect=400)
    client.call("GET", "/api/v1/people/nobody-here/contact-methods", params={"reason": "x"}, token=tokens["carol"], expect=404)


@live
def test_teams(client, run_id):
    team = f"oa-{run_id}"
    client.call("PUT", f"/api/v1/teams/{team}", {"id": team, "name": "Probe team", "member_ids": ["alice", "bob"]}, expect=200)
    client.call("PUT", f"/api/v1/teams/{team}", {"id": team, "name": "Probe team", "member_ids": ["alice", "nobody-here"]},
                expect=404)
    client.call("PUT", f"/api/v1/teams/{team}", {"id": team, "name": "Probe team", "member_ids": []}, expect=400)
    _, answer, _ = client.call("GET", "/api/v1/teams", expect=200)
    assert team in [item["id"] for item in answer["items"]]
    client.call("GET", "/api/v1/teams/ops", expect=200)
    client.call("GET", "/api/v1/teams/nobody-here", expect=404)


@live
def test_schedules(client, run_id):
    schedule = f"oa-{run_id}"
    body = {"id": schedule, "name": "Probe rota", "time_zone_identifier": "Europe/Berlin",
            "layers": [{"name": "hours", "user_ids": ["carol", "bob"], "rotation": {"hours": 12},
                        "start_date": {"year": 2026, "month": 1, "day": 5}, "handoff_minute": 0, "ends_at": 1893456000000},
                       {"name": "days", "user_ids": ["alice", "bob"], "rotation": {"days": 2},
                        "start_date": {"year": 2026, "month": 1, "day": 5}, "handoff_minute": 540,
                        "restrictions": [{"iso_weekdays": [1, 2, 3, 4, 5], "start_minute": 480, "end_minute": 1080}]}]}
    client.call("PUT", f"/api/v1/schedules/{schedule}", body, expect=200)
    client.call("PUT", f"/api/v1/schedules/{schedule}", dict(body, layers=[dict(body["layers"][0], rotation="fortnightly")]),
                expect=400)
    client.call("PUT", f"/api/v1/schedules/{schedule}", dict(body, layers=[dict(body["layers"][0], rotation={"days": 2, "hours": 1})]),
                expect=400)
    _, answer, _ = client.call("GET", f"/api/v1/schedules/{schedule}", expect=200)
    assert answer["layers"][0]["rotation"] == {"hours": 12}
    client.call("GET", "/api/v1/schedules", expect=200)
    client.call("GET", "/api/v1/schedules/nobody-here", expect=404)
    start = 1798761600000  # 2027-01-01
    _, answer, _ = client.call("POST", f"/api/v1/schedules/{schedule}/overrides",
                               {"person_id": "carol", "start": start, "end": start + 3_600_000}, expect=201)
    assert answer["object"]["overrides"][-1]["person_id"] == "carol"
    client.call("POST", f"/api/v1/schedules/{schedule}/overrides", {"person_id": "carol", "start": start, "end": start}, expect=400)
    client.call("POST", "/api/v1/schedules/nobody-here/overrides", {"person_id": "carol", "start": start, "end": start + 1}, expect=404)
    _, answer, _ = client.call("GET", f"/api/v1/schedules/{schedule}/oncall", params={"at": start + 60_000, "next": 3}, expect=200)
    assert answer["person_id"] == "carol" and len(answer["next_shifts"]) == 3
    client.call("GET", "/api/v1/schedules/primary/oncall", expect=200)
    client.call("GET", "/api/v1/schedules/primary/oncall", params={"at": "soon"}, expect=400)
    client.call("GET", "/api/v1/schedules/primary/oncall", params={"next": 101}, expect=400)
    client.call("GET", "/api/v1/schedules/nobody-here/oncall", expect=404)


@live
def test_policies_and_calendars(client, run_id):
    name = f"oa-{run_id}"
    client.call("PUT", f"/api/v1/calendars/{name}", {"id": name, "time_zone_identifier": "UTC",
                                                    "windows": [{"iso_weekday": 1, "start_minute": 0, "end_minute": 1440}]}, expect=200)
    client.call("GET", f"/api/v1/calendars/{name}", expect=200)
    client.call("GET", "/api/v1/calendars", expect=200)
    client.call("GET", "/api/v1/calendars/nobody-here", expect=404)
    client.call("PUT", f"/api/v1/calendars/{name}", {"id": name, "time_zone_identifier": "UTC", "windows": []}, expect=400)
    sla = {"id": name, "name": "Probe SLA", "calendar_id": name, "warning_threshold_percent": 50,
           "rules": [{"priority": "P1", "target": "firstResponse", "target_seconds": 60, "clock_mode": "calendarTime"},
                     {"priority": "P3", "target": "resolution", "target_seconds": 3600, "clock_mode": "businessTime"}]}
    _, answer, _ = client.call("PUT", f"/api/v1/sla-policies/{name}", sla, expect=200)
    assert "policy_announced" in answer["events"][0]["kind"]
    _, first, _ = client.call("GET", f"/api/v1/sla-policies/{name}", expect=200)
    client.call("PUT", f"/api/v1/sla-policies/{name}", sla, expect=200)
    _, second, _ = client.call("GET", f"/api/v1/sla-policies/{name}", expect=200)
    assert second["version"] == first["version"] + 1
    client.call("GET", "/api/v1/sla-policies", expect=200)
    client.call("GET", "/api/v1/sla-policies/nobody-here", expect=404)
    client.call("PUT", f"/api/v1/sla-policies/{name}", dict(sla, calendar_id=None), expect=400)
    policy = {"id": name, "name": "Probe escalation",
              "levels": [{"targets": [{"schedule": "primary"}, {"team": "ops"}], "mode": "roundRobin", "delay_minutes": 3},
                         {"targets": [{"person": "carol"}], "delay_minutes": 10}], "repeat_count": 1, "repeat_from_level": 1}
    client.call("PUT", f"/api/v1/escalation-policies/{name}", policy, expect=200)
    _, answer, _ = client.call("GET", f"/api/v1/escalation-policies/{name}", expect=200)
    assert answer["levels"][1]["mode"] == "all"
    client.call("GET", "/api/v1/escalation-policies", expect=200)
    client.call("GET", "/api/v1/escalation-policies/nobody-here", expect=404)
    client.call("PUT", f"/api/v1/escalation-policies/{name}",
                dict(policy, levels=[{"targets": [{"person": "carol", "team": "ops"}], "delay_minutes": 3}], repeat_from_level=0),
                expect=400)
    client.call("PUT", f"/api/v1/escalation-policies/{name}",
                dict(policy, levels=[{"targets": [{"person": "nobody-here"}], "delay_minutes": 3}], repeat_from_level=0), expect=404)


def new_key() -> str:
    return secrets.token_hex(16)


@pytest.fixture(scope="session")
def service(client, run_id) -> dict:
    """A service of its own (with its own integration key) for the ticket and intake tests."""
    name = f"oa-{run_id}"
    client.call("PUT", f"/api/v1/services/{name}", {"id": name, "name": "Probe service", "team_id": "ops",
                                                   "escalation_policy_id": "emergency", "sla_policy_id": None}, expect=200)
    key = new_key()
    _, answer, _ = client.call("POST", f"/api/v1/services/{name}/integration-keys", {"key": key}, expect=201)
    assert answer["object"]["integration_keys"] == [key]
    return {"id": name, "key": key}


@live
def test_services(client, service):
    name = service["id"]
    _, answer, _ = client.call("GET", f"/api/v1/services/{name}", expect=200)
    assert answer["integration_keys"] == [service["key"]]
    # An upsert keeps the keys and windows (documented: they are managed by their own routes).
    client.call("PUT", f"/api/v1/services/{name}", {"id": name, "name": "Probe service", "team_id": "ops",
                                                   "escalation_policy_id": "emergency", "integration_keys": []}, expect=200)
    _, answer, _ = client.call("GET", f"/api/v1/services/{name}", expect=200)
    assert answer["integration_keys"] == [service["key"]]
    client.call("GET", "/api/v1/services", expect=200)
    client.call("GET", "/api/v1/services/nobody-here", expect=404)
    client.call("PUT", f"/api/v1/services/{name}", {"id": name, "name": "Probe", "team_id": "nobody-here"}, expect=404)
    client.call("POST", f"/api/v1/services/{name}/integration-keys", {"key": service["key"]}, expect=409)
    client.call("POST", f"/api/v1/services/{name}/integration-keys", {"key": "TOO-SHORT"}, expect=400)
    client.call("POST", "/api/v1/services/nobody-here/integration-keys", {"key": new_key()}, expect=404)
    start = 1893456000000  # 2030-01-01, so that the window does not silence the intake tests
    _, answer, _ = client.call("POST", f"/api/v1/services/{name}/maintenance-windows",
                               {"start": start, "end": start + 3_600_000, "reason": "upgrade"}, expect=201)
    assert answer["object"]["maintenance_windows"][-1]["reason"] == "upgrade"
    client.call("POST", f"/api/v1/services/{name}/maintenance-windows",
                {"start": start, "end": start + 40 * 86_400_000, "reason": "too long"}, expect=400)


@live
def test_heartbeats(client, tokens, service, run_id):
    monitor = f"oa-{run_id}"
    _, answer, _ = client.call("PUT", f"/api/v1/heartbeats/{monitor}", {"service_id": service["id"], "interval_seconds": 3600},
                               expect=200)
    assert answer["object"]["grace_seconds"] == 0
    client.call("PUT", f"/api/v1/heartbeats/{monitor}", {"service_id": service["id"], "interval_seconds": 5}, expect=400)
    client.call("PUT", f"/api/v1/heartbeats/{monitor}", {"service_id": "nobody-here", "interval_seconds": 60}, expect=404)
    client.call("POST", f"/api/v1/heartbeats/{monitor}/ping", token=tokens["responder"], expect=200)
    client.call("POST", f"/api/v1/heartbeats/{monitor}/ping", {}, expect=200)
    client.call("POST", "/api/v1/heartbeats/nobody-here/ping", expect=404)
    client.call("GET", f"/api/v1/heartbeats/{monitor}", expect=200)
    client.call("GET", "/api/v1/heartbeats", expect=200)
    client.call("GET", "/api/v1/heartbeats/nobody-here", expect=404)


@live
def test_articles_and_search(client, run_id):
    article = f"oa-{run_id}"
    client.call("PUT", f"/api/v1/articles/{article}", {"id": article, "title": "Rotate the probe widget",
                                                      "body": "Turn the widget twice.", "category": "probes"}, expect=200)
    _, answer, _ = client.call("GET", f"/api/v1/articles/{article}", expect=200)
    assert answer["version"] >= 1
    client.call("GET", "/api/v1/articles", expect=200)
    client.call("GET", "/api/v1/articles/nobody-here", expect=404)
    client.call("PUT", f"/api/v1/articles/{article}", {"id": article, "title": " ", "body": "", "category": "probes"}, expect=400)
    _, answer, _ = client.call("GET", "/api/v1/kb/search", params={"q": "reset password"}, expect=200)
    assert answer["items"] and answer["items"][0]["article_id"] == "reset-password"
    client.call("GET", "/api/v1/kb/search", expect=400)
    client.call("GET", "/api/v1/kb/search", params={"q": "x" * 1025}, expect=400)


@live
def test_ticket_lifecycle(client, tokens, service):
    responder = tokens["responder"]
    _, answer, _ = client.call("POST", "/api/v1/tickets", {"kind": "complaint", "priority": "P2", "title": "Probe ticket",
                                                          "description": "from the OpenAPI test", "service_id": service["id"],
                                                          "customer_id": "acme", "owner_id": None},
                               token=responder, expect=201)
    ticket = answer["object"]
    tid = ticket["id"]
    assert ticket["stage"] == "registered" and ticket["timeline"]
    client.call("POST", "/api/v1/tickets", {"kind": "complaint", "priority": "P2", "title": "x", "service_id": service["id"],
                                            "colour": "red"}, token=responder, expect=400)
    client.call("POST", "/api/v1/tickets", {"kind": "complaint", "priority": "P9", "title": "x", "service_id": service["id"]},
                token=responder, expect=400)
    client.call("POST", "/api/v1/tickets", {"kind": "complaint", "priority": "P2", "title": "x", "service_id": "nobody-here"},
                token=responder, expect=404)
    client.call("POST", "/api/v1/tickets", {"kind": "complaint", "priority": "P2", "title": "x", "service_id": service["id"]},
                token=tokens["viewer"], expect=403)
    client.call("POST", "/api/v1/tickets", raw=b"", token=responder, expect=400)
    client.call("GET", f"/api/v1/tickets/{tid}", token=tokens["viewer"], expect=200)
    client.call("GET", "/api/v1/tickets/0", expect=400)
    client.call("GET", "/api/v1/tickets/abc", expect=400)
    client.call("GET", "/api/v1/tickets/999999999", expect=404)
    _, answer, _ = client.call("GET", "/api/v1/tickets", params={"service_id": service["id"], "stage": "registered",
                                                                 "priority": "p2", "open": "true", "limit": 500}, expect=200)
    assert tid in [item["id"] for item in answer["items"]]
    _, answer, _ = client.call("GET", "/api/v1/tickets", params={"limit": 1}, expect=200)
    if "next" in answer:
        client.call("GET", "/api/v1/tickets", params={"limit": 1, "after": answer["next"]}, expect=200)
    for bad in ({"limit": 0}, {"after": -1}, {"stage": "done"}, {"priority": "P0"}, {"consistency": "eventual"}):
        client.call("GET", "/api/v1/tickets", params=bad, expect=400)
    act = lambda action, body=None, **kw: client.call("POST", f"/api/v1/tickets/{tid}/{action}", body, token=responder, **kw)
    _, answer, _ = act("acknowledge", expect=200)
    assert answer["object"]["acknowledged_at"]
    act("assign", {"owner_id": "alice"}, expect=200)
    act("assign", {"owner_id": "nobody-here"}, expect=404)
    act("priority", {"priority": "P1"}, expect=200)
    act("comment", {"text": "Looking into it", "customer_visible": True}, expect=200)
    act("comment", {"text": "internal"}, expect=200)
    act("initial-solution", {"text": "Restarted it"}, expect=200)
    act("transition", {"stage": "analysing"}, expect=200)
    act("transition", {"stage": "registered"}, expect=409)
    act("waiting", {"waiting": True}, expect=200)
    act("waiting", {"waiting": False}, expect=200)
    _, answer, _ = act("resolve", expect=200)
    assert answer["object"]["stage"] == "feedback"
    act("rate", {"rating": 4, "comment": "fine"}, expect=200)
    act("rate", {"rating": 9}, expect=(400, 409))
    act("reopen", {"reason": "it came back"}, expect=200)
    act("transition", {}, expect=400)
    client.call("POST", "/api/v1/tickets/999999999/acknowledge", token=responder, expect=404)
    _, answer, _ = client.call("GET", f"/api/v1/tickets/{tid}", expect=200)
    actions = [next(iter(entry["action"])) for entry in answer["timeline"]]
    for expected in ("registered", "acknowledged", "owner_changed", "priority_changed", "note", "initial_solution",
                     "stage_changed", "waiting_for_customer", "feedback", "reopened"):
        assert expected in actions, (expected, actions)


@live
def test_calendar_feeds_parse_and_match_oncall_across_dst(client, tokens, run_id):
    import datetime
    import icalendar
    _, created, _ = client.call("POST", "/api/v1/calendar-feeds", {"id": f"primary-{run_id}", "schedule_id": "primary"},
                                token=tokens["manager"], expect=201)
    path = "/calendar/" + created["url"].rsplit("/calendar/", 1)[1]
    client.call("POST", "/api/v1/calendar-feeds", {"id": f"primary-{run_id}", "schedule_id": "primary"}, token=tokens["manager"], expect=409)
    client.call("POST", "/api/v1/calendar-feeds", {"id": f"x-{run_id}", "schedule_id": "primary"}, token=tokens["responder"], expect=403)
    client.call("POST", "/api/v1/calendar-feeds", {"id": f"y-{run_id}", "schedule_id": "nope"}, token=tokens["manager"], expect=404)
    client.call("POST", "/api/v1/calendar-feeds", {"id": f"z-{run_id}"}, token=tokens["manager"], expect=400)
    # 30 days across Berlin's spring-forward night (2027-03-28), read by a real iCalendar parser.
    _, text, response = client.call("GET", path, token=None, params={"from": "2027-03-15", "days": "30"}, expect=200)
    assert response.headers["Content-Type"].startswith("text/calendar")
    assert all(len(line.encode()) <= 75 for line in response.text.split("\r\n")), "a line is not folded"
    calendar = icalendar.Calendar.from_ical(response.text)
    shifts = [(event.decoded("dtstart"), event.decoded("dtend"), str(event.get("x-vigil-person")))
              for event in calendar.walk("VEVENT")]
    assert len(shifts) > 30, len(shifts)
    assert len({str(event.get("uid")) for event in calendar.walk("VEVENT")}) == len(shifts), "UIDs repeat"
    for (start, end, _), (next_start, _, _) in zip(shifts, shifts[1:]):
        assert start < end <= next_start
    # Every hour of the 30 days, and minutes around the change: the feed says who /oncall says.
    first = datetime.datetime(2027, 3, 14, 23, 0, tzinfo=datetime.timezone.utc)
    # 30 local days hold 719 hours: the change takes one.
    instants = [first + datetime.timedelta(hours=h) for h in range(0, 30 * 24 - 1)]
    instants += [datetime.datetime(2027, 3, 28, 0, m, tzinfo=datetime.timezone.utc) for m in range(0, 60, 15)]
    checked = 0
    for instant in instants:
        ms = int(instant.timestamp() * 1000)
        _, answer, _ = client.call("GET", "/api/v1/schedules/primary/oncall", params={"at": str(ms), "next": "0"}, token=tokens["viewer"],
                                   expect=200)
        covering = [person for start, end, person in shifts if start <= instant < end]
        assert covering == ([answer["person_id"]] if answer.get("person_id") else []), (instant, covering, answer)
        checked += 1
    assert checked >= 719
    # Per person: only their shifts, from every schedule.
    _, person_feed, _ = client.call("POST", "/api/v1/calendar-feeds", {"id": f"alice-{run_id}", "person_id": "alice"},
                                    token=tokens["manager"], expect=201)
    _, _, response = client.call("GET", "/calendar/" + person_feed["url"].rsplit("/calendar/", 1)[1], token=None,
                                 params={"from": "2027-03-15", "days": "30"}, expect=200)
    people = {str(event.get("x-vigil-person")) for event in icalendar.Calendar.from_ical(response.text).walk("VEVENT")}
    assert people == {"alice"}, people
    _, listed, _ = client.call("GET", "/api/v1/calendar-feeds", token=tokens["viewer"], expect=200)
    assert f"primary-{run_id}" in [feed["id"] for feed in listed["items"]]
    assert all(feed.get("url") is None for feed in listed["items"]), "a listing shows a secret"
    # Revoked, the address stops working.
    client.call("DELETE", f"/api/v1/calendar-feeds/primary-{run_id}", token=tokens["manager"], expect=200)
    client.call("GET", path, token=None, expect=404)
    client.call("DELETE", f"/api/v1/calendar-feeds/primary-{run_id}", token=tokens["manager"], expect=404)
    client.call("GET", "/calendar/vgc_nothing", token=None, expect=404)
    client.call("GET", path, token=None, params={"days": "0"}, expect=(400, 404))


@live
def test_console_passwords(client, tokens):
    client.call("PUT", "/api/v1/people/alice/password", {"password": "correct horse battery"}, expect=200)
    client.call("PUT", "/api/v1/people/alice/password", {"password": "too short"}, expect=400)
    client.call("PUT", "/api/v1/people/alice/password", {"password": "correct horse battery", "extra": 1}, expect=400)
    client.call("PUT", "/api/v1/people/nobody-here/password", {"password": "correct horse battery"}, expect=404)
    client.call("PUT", "/api/v1/people/alice/password", {"password": "correct horse battery"}, token=tokens["manager"], expect=403)
    client.call("DELETE", "/api/v1/people/alice/password", expect=200)
    client.call("DELETE", "/api/v1/people/alice/password", expect=404)
    _, answer, _ = client.call("POST", "/api/v1/people/alice/password-link", {"valid_hours": 24}, expect=201)
    assert "/console/set-password/vgr_" in answer["url"], answer
    client.call("POST", "/api/v1/people/alice/password-link", expect=201)
    client.call("POST", "/api/v1/people/alice/password-link", {"valid_hours": 0}, expect=400)
    client.call("POST", "/api/v1/people/nobody-here/password-link", expect=404)


@live
def test_supervision_samples_and_inspections(client, tokens, service, run_id):
    _, answer, _ = client.call("POST", "/api/v1/tickets", {"kind": "suggestion", "priority": "P4", "title": "Archive me",
                                                          "service_id": service["id"]}, expect=201)
    tid = answer["object"]["id"]
    client.call("POST", f"/api/v1/tickets/{tid}/resolve", expect=200)
    _, answer, _ = client.call("POST", f"/api/v1/tickets/{tid}/transition", {"stage": "archived"}, expect=200)
    assert answer["object"]["stage"] == "archived"
    sample = f"oa-{run_id}"
    _, answer, _ = client.call("POST", "/api/v1/samples", {"id": sample, "size": 10000, "seed": 18446744073709551615},
                               token=tokens["manager"], expect=201)
    assert tid in answer["object"]["ticket_ids"]
    client.call("POST", "/api/v1/samples", {"id": sample, "size": 1}, expect=409)
    client.call("POST", "/api/v1/samples", {"id": f"{sample}-b", "size": 0}, expect=400)
    client.call("POST", "/api/v1/samples", {"id": f"{sample}-c", "size": 1, "seed": None}, expect=201)
    client.call("POST", f"/api/v1/samples/{sample}/verdicts", {"ticket_id": tid, "verdict": "nonCompliant"}, expect=400)
    _, answer, _ = client.call("POST", f"/api/v1/samples/{sample}/verdicts",
                               {"ticket_id": tid, "verdict": "needsImprovement", "note": "say the workaround"}, expect=200)
    assert answer["object"]["reviews"][0]["ticket_id"] == tid
    client.call("POST", f"/api/v1/samples/{sample}/verdicts", {"ticket_id": tid, "verdict": "compliant"}, expect=409)
    client.call("POST", "/api/v1/samples/nobody-here/verdicts", {"ticket_id": tid, "verdict": "compliant"}, expect=404)
    client.call("GET", f"/api/v1/samples/{sample}", token=tokens["viewer"], expect=200)
    client.call("GET", "/api/v1/samples", expect=200)
    client.call("GET", "/api/v1/samples/nobody-here", expect=404)
    inspection = f"oa-{run_id}"
    _, answer, _ = client.call("PUT", f"/api/v1/inspections/{inspection}", {"channel": "sms-gateway", "times_per_day": 4},
                               expect=200)
    # The leader runs a new inspection at once and records its result (the scheduler's, failed: no gateway here),
    # which may be applied before this answer is read.
    assert all(result["actor"] == "scheduler" for result in answer["object"]["results"]), answer["object"]["results"]
    client.call("PUT", f"/api/v1/inspections/{inspection}", {"channel": "sms-gateway", "times_per_day": 0}, expect=400)
    client.call("POST", f"/api/v1/inspections/{inspection}/results", {"passed": True}, expect=201)
    _, answer, _ = client.call("POST", f"/api/v1/inspections/{inspection}/results", {"passed": False, "detail": "502"}, expect=201)
    # The leader's scheduler runs a new inspection at once and records its own results beside these.
    assert [result["passed"] for result in answer["object"]["results"] if result.get("actor") != "scheduler"] == [True, False]
    client.call("POST", f"/api/v1/inspections/{inspection}/results", {"passed": False, "detail": "x" * 1001}, expect=400)
    client.call("POST", "/api/v1/inspections/nobody-here/results", {"passed": True}, expect=404)
    client.call("GET", f"/api/v1/inspections/{inspection}", expect=200)
    client.call("GET", "/api/v1/inspections", expect=200)
    client.call("GET", "/api/v1/inspections/nobody-here", expect=404)


@live
def test_reports(client):
    month = time.strftime("%Y-%m", time.gmtime())
    _, answer, _ = client.call("GET", "/api/v1/reports", params={"month": month}, expect=200)
    assert answer["grouping"] == "overall"
    for group in ("team", "person"):
        client.call("GET", "/api/v1/reports", params={"month": month, "group": group, "time_zone": "Asia/Shanghai"}, expect=200)
    _, text, response = client.call("GET", "/api/v1/reports", params={"month": month, "format": "csv"}, expect=200)
    assert response.headers["Content-Type"].startswith("text/csv") and text.startswith("month,group,tickets,")
    for bad in ({"month": "2026"}, {"month": month, "group": "planet"}, {"month": month, "time_zone": "Mars/Olympus"}, {}):
        client.call("GET", "/api/v1/reports", params=bad, expect=400)
    # Breaches: counted and listed (at most 20) per row, every one of them a page at a time.
    for row in answer["rows"]:
        assert row["breach_count"] >= len(row["breaches"]) and len(row["breaches"]) <= 20
    _, page, _ = client.call("GET", "/api/v1/reports/breaches", params={"month": month, "limit": 5}, expect=200)
    assert len(page["items"]) <= 5 + 3 or "next" not in page
    for bad in ({"month": month, "limit": 0}, {"month": month, "after": -1}, {"month": "13"}, {"month": month, "group_name": ""}):
        client.call("GET", "/api/v1/reports/breaches", params=bad, expect=400)


@live
def test_pagerduty_intake(client, service):
    key = service["key"]
    trigger = {"routing_key": key, "event_action": "trigger", "client": "probe", "client_url": "https://example.invalid",
               "links": [{"href": "https://example.invalid/x", "text": "x"}], "images": [{"src": "https://example.invalid/i.png"}],
               "payload": {"summary": "Probe alert", "source": "probe-host", "severity": "warning",
                           "timestamp": "2026-11-29T10:00:00.123Z", "component": "disk", "group": "hosts", "class": "space",
                           "custom_details": {"free": "1%"}}}
    _, answer, _ = client.call("POST", "/v2/enqueue", trigger, token=None, expect=202)
    dedup = answer["dedup_key"]
    _, again, _ = client.call("POST", "/v2/enqueue", dict(trigger, dedup_key=dedup), token=None, expect=202)
    assert again["dedup_key"] == dedup
    client.call("POST", "/v2/enqueue", {"routing_key": key, "event_action": "acknowledge", "dedup_key": dedup}, token=None, expect=202)
    client.call("POST", "/v2/enqueue", {"routing_key": key, "event_action": "resolve", "dedup_key": dedup}, token=None, expect=202)
    # As PagerDuty answers: resolving or acknowledging an alert that is not open is accepted and changes nothing.
    _, answer, _ = client.call("POST", "/v2/enqueue", {"routing_key": key, "event_action": "resolve", "dedup_key": dedup},
                               token=None, expect=202)
    assert answer["status"] == "success" and answer["dedup_key"] == dedup
    client.call("POST", "/v2/enqueue", {"routing_key": key, "event_action": "acknowledge", "dedup_key": "never-triggered"},
                token=None, expect=202)
    _, answer, _ = client.call("POST", "/v2/enqueue", {"event_action": "explode"}, token=None, expect=400)
    assert len(answer["errors"]) >= 2
    client.call("POST", "/v2/enqueue", raw=b"not json", token=None, expect=400)
    client.call("POST", "/v2/enqueue", dict(trigger, routing_key=new_key()), token=None, expect=400)
    client.call("POST", "/v2/enqueue", raw=b'{"routing_key":"' + b"x" * (600 << 10) + b'"}', token=None, expect=413)


@live
def test_pagerduty_change_events(client, service):
    key = service["key"]
    change = {"routing_key": key, "payload": {"summary": "Deploy v42", "source": "ci", "timestamp": "2026-11-29T10:00:00Z"},
              "links": [{"href": "https://ci.example.invalid/42", "text": "build 42"}]}
    _, answer, _ = client.call("POST", "/v2/change/enqueue", change, token=None, expect=202)
    assert answer == {"status": "success", "message": "Change event processed"}
    _, answer, _ = client.call("POST", "/v2/change/enqueue", {"routing_key": key, "payload": {}}, token=None, expect=400)
    assert answer["status"] == "invalid event"
    client.call("POST", "/v2/change/enqueue", dict(change, routing_key=new_key()), token=None, expect=400)
    _, page, _ = client.call("GET", f"/api/v1/services/{service['id']}/changes", expect=200)
    assert any(item["summary"] == "Deploy v42" and item["links"] == ["https://ci.example.invalid/42"] for item in page["items"])
    client.call("GET", "/api/v1/services/no-such-service/changes", expect=404)


@live
def test_alertmanager_intake(client, service):
    url = f"/api/v1/integrations/alertmanager/{service['key']}"
    alert = {"status": "firing", "labels": {"alertname": "ProbeDown", "severity": "critical", "instance": "a"},
             "annotations": {"summary": "Probe down"}, "startsAt": "2026-11-29T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
             "generatorURL": "http://prometheus.invalid/graph", "fingerprint": "a1b2c3"}
    note = {"version": "4", "groupKey": '{}:{alertname="ProbeDown"}', "truncatedAlerts": 0, "status": "firing",
            "receiver": "vigil", "groupLabels": {"alertname": "ProbeDown"}, "commonLabels": {"alertname": "ProbeDown"},
            "commonAnnotations": {}, "externalURL": "http://alertmanager.invalid", "alerts": [alert]}
    _, answer, _ = client.call("POST", url, note, token=None, expect=200)
    assert answer["object"]["priority"] == "P1"
    resolved = dict(note, status="resolved", alerts=[dict(alert, status="resolved")])
    _, answer, _ = client.call("POST", url, resolved, token=None, expect=200)
    assert answer["object"]["stage"] == "feedback"
    client.call("POST", url, dict(note, version="3"), token=None, expect=400)
    client.call("POST", url, dict(note, alerts=[]), token=None, expect=400)
    client.call("POST", url, {"version": "4"}, token=None, expect=400)
    client.call("POST", "/api/v1/integrations/alertmanager/" + new_key(), note, token=None, expect=404)


@live
def test_errors_have_one_shape(client):
    _, answer, _ = client.call("PUT", "/api/v1/teams/ops", {"id": "ops", "name": "Operations", "member_ids": ["alice"],
                                                            "colour": "blue"}, expect=400)
    assert answer["error"] == {"code": "unknown_field", "message": answer["error"]["message"], "field": "colour"}
    _, answer, _ = client.call("PUT", "/api/v1/teams/ops", {"id": "ops", "member_ids": ["alice"]}, expect=400)
    assert answer["error"]["code"] == "missing_field" and answer["error"]["field"] == "name"
    _, answer, _ = client.call("PUT", "/api/v1/teams/ops", {"id": "ops", "name": 5, "member_ids": ["alice"]}, expect=400)
    assert answer["error"]["code"] == "invalid_field" and answer["error"]["field"] == "name"
    _, answer, _ = client.call("PUT", "/api/v1/teams/ops", raw=b"{nope", expect=400)
    assert answer["error"]["code"] == "invalid_json" and answer["error"]["field"] is None


# ----------------------------------------------------------------------------------------------- regressions
# Server bugs found while writing the spec. Each fails until the server is fixed (see the test's docstring).


@live
def test_percent_encoded_path_parameters_are_decoded(client, run_id):
    """A client that percent-encodes a path parameter (JavaScript's encodeURIComponent turns ':' into %3A,
    '@' into %40) must address the same object. The server passes path parameters on undecoded, so
    `PUT /api/v1/settings/a%3Ab` is 400 invalid_key and `GET /api/v1/people/x%40y` looks for 'x%40y'."""
    key = f"openapi:{run_id}"
    client.call("PUT", f"/api/v1/settings/{key}", {"value": "v"}, expect=200)
    status, answer, _ = client.call("GET", "/api/v1/settings/" + urllib.parse.quote(key, safe=""))
    client.call("DELETE", f"/api/v1/settings/{key}")
    assert status == 200 and answer["key"] == key, f"GET /api/v1/settings/{urllib.parse.quote(key, safe='')} answered {status} {answer}"


@live
def test_calendar_windows_and_holidays_are_checked_in_any_order(client, run_id):
    """BusinessCalendar.init sorts windows and de-duplicates holidays, and validate() relies on that order to
    find overlapping windows; the API decodes the body without the init, so overlapping windows that are not
    adjacent in the body are accepted, and duplicate/unsorted holidays are stored as sent (isHoliday's binary
    search then misses holidays)."""
    name = f"oa-{run_id}-order"
    overlapping = {"id": name, "time_zone_identifier": "UTC",
                   "windows": [{"iso_weekday": 1, "start_minute": 600, "end_minute": 700},
                               {"iso_weekday": 2, "start_minute": 0, "end_minute": 60},
                               {"iso_weekday": 1, "start_minute": 500, "end_minute": 650}]}
    status, answer, _ = client.call("PUT", f"/api/v1/calendars/{name}", overlapping)
    problems = []
    if status != 400:
        problems.append(f"overlapping Monday windows (600-700 and 500-650) were accepted: {status} {answer}")
    holidays = [{"year": 2026, "month": 12, "day": 25}, {"year": 2026, "month": 1, "day": 1}, {"year": 2026, "month": 12, "day": 25}]
    client.call("PUT", f"/api/v1/calendars/{name}", {"id": name, "time_zone_identifier": "UTC", "holidays": holidays,
                                                    "windows": [{"iso_weekday": 1, "start_minute": 0, "end_minute": 60}]}, expect=200)
    _, stored, _ = client.call("GET", f"/api/v1/calendars/{name}", expect=200)
    expected = [{"year": 2026, "month": 1, "day": 1}, {"year": 2026, "month": 12, "day": 25}]
    if stored["holidays"] != expected:
        problems.append(f"holidays stored as {stored['holidays']}, expected sorted and unique {expected}")
    assert not problems, "\n".join(problems)


@live
def test_sla_policy_duplicate_rules_are_refused_in_any_order(client, run_id):
    """SLAPolicy.Draft.init sorts the rules and validate() finds duplicates by comparing neighbours; the API
    decodes the body without the init, so a duplicate (priority, target) rule that is not adjacent is accepted."""
    name = f"oa-{run_id}-dup"
    rule = lambda priority, seconds: {"priority": priority, "target": "firstResponse", "target_seconds": seconds,
                                      "clock_mode": "calendarTime"}
    status, answer, _ = client.call("PUT", f"/api/v1/sla-policies/{name}",
                                    {"id": name, "name": "Duplicate", "warning_threshold_percent": 50,
                                     "rules": [rule("P1", 60), rule("P2", 60), rule("P1", 120)]})
    assert status == 409, f"two P1 firstResponse rules were answered {status} {answer}"


@live
def test_numbers_out_of_range_name_their_field(client, service):
    """APIJSON promises that every decoding failure names the field. A number that is valid JSON but does not
    fit the field's integer type (1.5 or 1e30 for an integer, -1 for an unsigned seed) is answered
    `invalid_json`, "the body is not valid JSON", field null."""
    problems = []
    for path, body, field in (("/api/v1/tickets/1/rate", {"rating": 1.5}, "rating"),
                              ("/api/v1/samples", {"id": "never-drawn", "size": 1e30}, "size"),
                              ("/api/v1/samples", {"id": "never-drawn", "size": 1, "seed": -1}, "seed"),
                              (f"/api/v1/heartbeats/never-made", {"service_id": service["id"], "interval_seconds": 60.5},
                               "interval_seconds")):
        _, answer, _ = client.call("POST" if "heartbeats" not in path else "PUT", path, body, expect=400)
        if answer["error"]["field"] != field or answer["error"]["code"] != "invalid_field":
            problems.append(f"{path} {json.dumps(body)}: {answer['error']}")
    assert not problems, "\n".join(problems)


@live
def test_ack_links(client, run_id):
    """A page reaches a webhook receiver this test runs on 127.0.0.1; its ack link is shown (GET, which
    must not acknowledge) and followed (POST) on the node the client uses, which need not be the sender."""
    pages: queue.Queue = queue.Queue()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            pages.put(json.loads(body))

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        name = f"oa-{run_id}-pager"
        client.call("PUT", f"/api/v1/people/{name}", {
            "id": name, "name": "Pager", "role": "responder",
            "contact_methods": [{"id": "hook", "kind": "webhook", "address": f"http://127.0.0.1:{server.server_address[1]}/hook"}],
            "notification_rules": [{"contact_method_id": "hook", "delay_seconds": 0}]}, expect=200)
        client.call("PUT", f"/api/v1/escalation-policies/{name}", {
            "id": name, "name": "Pager", "levels": [{"targets": [{"person": name}], "delay_seconds": 600}]}, expect=200)
        client.call("PUT", f"/api/v1/services/{name}", {"id": name, "name": "Pager", "escalation_policy_id": name}, expect=200)
        key = secrets.token_hex(16)
        client.call("POST", f"/api/v1/services/{name}/integration-keys", {"key": key}, expect=201)
        client.call("POST", "/v2/enqueue", {"routing_key": key, "event_action": "trigger",
                                            "payload": {"summary": "ack link probe", "source": "openapi", "severity": "critical"}},
                    token=None, expect=202)
        page = pages.get(timeout=30)
        link = urllib.parse.urlsplit(page["ack_url"]).path
        _, text, _ = client.call("GET", link, token=None, expect=200)
        assert '<form method="post">' in text
        _, ticket, _ = client.call("GET", f"/api/v1/tickets/{page['ticket']['id']}", expect=200)
        assert "acknowledged_at" not in ticket, "GET must not acknowledge"
        _, answer, _ = client.call("POST", link, token=None, expect=200)
        assert answer == {"status": "acknowledged", "ticket_id": page["ticket"]["id"]}
        _, answer, _ = client.call("POST", link, token=None, expect=200)
        assert answer["status"] == "already_acknowledged"
        client.call("POST", link[:-2] + ("AA" if not link.endswith("AA") else "BB"), token=None, expect=404)
        client.call("GET", "/ack/not-a-link", token=None, expect=404)
    finally:
        server.shutdown()


def feedback_token(ticket: int, key: str, expires: int, action: int = 3) -> str:
    """A satisfaction link's token, signed here with the cluster's ack secret as the Swift signer does (version 1,
    action, expiry, ticket, key length, key, HMAC-SHA256): an independent check of the format."""
    import base64
    import hashlib
    import hmac
    secret = bytes.fromhex(pathlib.Path(os.environ["VIGIL_ACK_SECRET_FILE"]).read_text().strip())
    body = bytes([1, action]) + expires.to_bytes(8, "big") + ticket.to_bytes(8, "big") + len(key).to_bytes(2, "big") + key.encode()
    return base64.urlsafe_b64encode(body + hmac.new(secret, body, hashlib.sha256).digest()).decode().rstrip("=")


@live
def test_customers_and_the_satisfaction_page(client, tokens, run_id):
    """S15/S16 customers (addresses only on the audited route) and the S13 page a satisfaction link opens."""
    name = f"oa-{run_id}-cust"
    body = {"id": name, "name": "ACME", "language": "zh", "email_addresses": [f"{name}@example.invalid"], "sla_policy_id": "default",
            "announcements": False}
    _, answer, _ = client.call("PUT", f"/api/v1/customers/{name}", body, token=tokens["manager"], expect=200)
    assert answer["object"] == name
    client.call("PUT", f"/api/v1/customers/{name}", dict(body, id="other"), expect=400)
    client.call("PUT", f"/api/v1/customers/{name}", dict(body, email_addresses=["not an address"]), expect=400)
    client.call("PUT", f"/api/v1/customers/{name}-2", dict(body, id=f"{name}-2"), expect=409)
    _, answer, _ = client.call("GET", "/api/v1/customers", expect=200)
    assert name in [item["id"] for item in answer["items"]] and all("email_addresses" not in item for item in answer["items"])
    _, answer, _ = client.call("GET", f"/api/v1/customers/{name}", expect=200)
    assert answer["address_count"] == 1 and "email_addresses" not in answer
    _, answer, _ = client.call("GET", f"/api/v1/customers/{name}/contact", params={"reason": "openapi test"}, token=tokens["carol"], expect=200)
    assert answer["email_addresses"] == [f"{name}@example.invalid"]
    client.call("GET", f"/api/v1/customers/{name}/contact", params={"reason": "openapi test"}, expect=403)
    # A ticket of the customer at the feedback stage, then its satisfaction page and the rating.
    _, created, _ = client.call("POST", "/api/v1/tickets", {"kind": "consultation", "priority": "P3", "title": "Rate me",
                                                           "service_id": "web", "customer_id": name}, expect=201)
    ticket = created["object"]["id"]
    client.call("POST", f"/api/v1/tickets/{ticket}/assign", {"owner_id": "bob"}, expect=200)
    for stage in ("analysing", "handling", "feedback"):
        client.call("POST", f"/api/v1/tickets/{ticket}/transition", {"stage": stage}, expect=200)
    link = f"/feedback/{feedback_token(ticket, f'mail:satisfaction:{ticket}:0', int(time.time()) + 600)}"
    _, text, _ = client.call("GET", link, token=None, expect=200)
    assert 'name="rating"' in text and "请评价工单" in text
    client.call("GET", f"/feedback/{feedback_token(ticket, 'x', int(time.time()) + 600, action=1)}", token=None, expect=404)
    client.call("GET", f"/feedback/{feedback_token(ticket, 'x', int(time.time()) - 5)}", token=None, expect=410)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    client.call("POST", link, token=None, expect=200, headers=form, raw=b"rating=4&comment=fine")
    client.call("POST", link, token=None, expect=409, headers=form, raw=b"rating=4")
    _, answer, _ = client.call("GET", f"/api/v1/tickets/{ticket}", expect=200)
    assert answer["feedback"]["rating"] == 4
    _, answer, _ = client.call("DELETE", f"/api/v1/customers/{name}", token=tokens["manager"], expect=200)
    client.call("GET", f"/api/v1/customers/{name}", expect=404)


@live
def test_cluster_membership_leadership_backup_and_tls_reload(client):
    """Membership changes on the live cluster, with a learner that never runs (it holds no vote, so the cluster
    is unaffected), a leadership hand-over and back, and a backup file. Schemathesis leaves these routes alone."""
    _, answer, _ = client.call("GET", "/api/v1/cluster/members", expect=200)
    ids = [member["id"] for member in answer["items"]]
    assert ids == [1, 2, 3] and all(member["voter"] for member in answer["items"])
    ghost = {"id": 9, "peer": "127.0.0.1:9", "http": "127.0.0.1:19"}
    _, answer, _ = client.call("POST", "/api/v1/cluster/members", ghost, expect=201)
    assert [(member["id"], member["voter"]) for member in answer["items"]][-1] == (9, False)
    client.call("POST", "/api/v1/cluster/members", ghost, expect=409)
    client.call("POST", "/api/v1/cluster/members", {"id": 10, "peer": "no port", "http": "127.0.0.1:20"}, expect=400)
    client.call("POST", "/api/v1/cluster/members", {"id": 10, "peer": "127.0.0.1:9", "http": "127.0.0.1:20"}, expect=409)
    _, answer, _ = client.call("DELETE", "/api/v1/cluster/members/9", expect=200)
    assert [member["id"] for member in answer["items"]] == [1, 2, 3]
    client.call("DELETE", "/api/v1/cluster/members/9", expect=404)
    client.call("PUT", "/api/v1/settings/_vigil:member:9", {"value": "{}"}, expect=400)

    _, view, _ = client.call("GET", "/api/v1/cluster", expect=200)
    leader = view["leader"]
    here = view["node_id"]
    target = here if here != leader else (1 if leader != 1 else 2)
    client.call("POST", "/api/v1/cluster/leader", {"to": leader}, expect=409)
    client.call("POST", "/api/v1/cluster/leader", {"to": target}, expect=200)
    client.call("POST", "/api/v1/cluster/leader", {"to": leader}, expect=200)

    status, body, response = client.call("GET", "/api/v1/cluster/backup", expect=200)
    assert response.content.startswith(b"VIGILBAK")
    length = int.from_bytes(response.content[8:12], "big")
    header = json.loads(response.content[12:12 + length])
    assert header["format_version"] == 1 and header["index"] >= 1
    assert len(response.content) == 12 + length + header["body_bytes"]

    _, answer, _ = client.call("POST", "/api/v1/cluster/tls/reload", expect=200)
    assert answer["trusted_cas"] == 1 and answer["certificate_expires_at_ms"] > 0


@live
def test_zz_every_operation_was_exercised(spec):
    """Runs last (pytest keeps file order): every operation answered 2xx at least once with a valid body."""
    missing = sorted(f"{method} {path}" for method, path, _ in operations(spec) if (method, path) not in EXERCISED)
    assert not missing, "operations never answered with a validated 2xx:\n  " + "\n  ".join(missing)
