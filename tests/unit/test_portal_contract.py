"""The portal against its own OpenAPI document: schemathesis fuzzes every operation as each role (stateless, with a
bounded example count) and follows the document's links statefully (submit → read, events, merge, cancel, …).
Every check runs: no server error, and every status, content type, header and body conforms to the document."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import IllegalTransition, JobState
from tests.portal import FakeBackend, Keys, _test_config, make_identity
from serve_app import create_app
from serve_app.auth import Authenticator

pytestmark = [pytest.mark.unit, pytest.mark.timeout(900)]

# Per operation and role: the suite stays fast; MKA_CONTRACT_EXAMPLES=150 runs the long version.
EXAMPLES = int(os.environ.get("MKA_CONTRACT_EXAMPLES", "8"))
ROLES = ("viewer", "analyst", "admin", "root")


class ContractBackend(FakeBackend):
    """The fake backend with the real backend's answers for the moves a fuzzer makes: cancelling a finished job
    is 409, as the orchestrator answers."""

    def cancel(self, job_id: str, *, project: str) -> str:
        job = self._get(job_id, project)
        if job.state in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED):
            raise IllegalTransition(f"job {job_id} is {job.state.value}; only an unfinished job is cancelled")
        return "cancelled"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_identity(tmp_path_factory.mktemp("contract"))


def _app(keys: Keys):  # type: ignore[no-untyped-def]
    config = replace(_test_config(), rate_limit_per_minute=1_000_000, rate_limit_burst=1_000_000)
    return create_app(ContractBackend(), auth=Authenticator(keys.identity), config=config)


# A schema-valid request can still be refused for what JSON Schema cannot say: a country code that does not exist,
# a locale babel does not know, a cursor this API did not make (422), an uploaded file's content (415 for a type we
# do not read, 422 for one we refuse to open). Every other check runs as shipped.
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "401", "403", "404", "409", "410", "415", "422", "429"]}}})


def _schema(keys: Keys) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", _app(keys), config=CONFIG)


def _headers(keys: Keys, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {getattr(keys, role)}"}


def _credential(case: schemathesis.Case, headers: dict[str, str]) -> dict[str, str]:
    """The role's key, except for a negative case about the credential itself (dropped or spoilt): that one is
    sent as generated, and must be refused."""
    data = case.meta.phase.data if case.meta is not None else None
    return {} if getattr(data, "parameter", None) == "Authorization" else headers


_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_as_each_role(keys: Keys, role: str) -> None:
    """Stateless: each operation with generated and negative inputs; every check (conformance, server errors,
    auth respected, negative data rejected)."""
    schema = _schema(keys)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @_SETTINGS
        @given(case=st.one_of(operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
                              operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=_credential(case, _headers(keys, role)))

        try:
            run()
        except BaseException as exc:  # schemathesis reports several failures as a (base) exception group
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)


def test_links_followed_statefully_conform(keys: Keys) -> None:
    """Stateful: scenarios follow the document's links from a submitted job to its reads and moves."""
    schema = _schema(keys)
    machine = schema.as_state_machine()
    headers = _headers(keys, "analyst")

    class Scenarios(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": _credential(case, headers)}

    Scenarios.run(settings=settings(max_examples=3 * EXAMPLES, stateful_step_count=6, deadline=None, derandomize=True,
                                    database=None, suppress_health_check=list(HealthCheck)))


def test_the_document_describes_every_route(keys: Keys) -> None:
    """Every served route is documented with a body where it reads one, a 2xx answer and its problems as
    problem+json; the docs pages load their assets from the portal itself."""
    from fastapi.testclient import TestClient

    client = TestClient(_app(keys))
    doc = client.get("/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            statuses = set(op["responses"])
            assert any(s.startswith("2") for s in statuses), (method, path)
            problems = [s for s in statuses if s[0] in "45" and (path, s) != ("/v1/health/ready", "503")]
            assert problems and all("application/problem+json" in op["responses"][s]["content"] for s in problems)
            assert op.get("operationId") and op.get("summary") or op.get("description"), (method, path)
            if method in ("post",) and path not in ("/v1/jobs/{job_id}/cancel", "/v1/jobs/{job_id}/resume",
                                                    "/v1/artifacts/{artifact_id}/release"):
                assert "requestBody" in op, (method, path)
    assert doc["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobRequest"}
    assert "links" in doc["paths"]["/v1/jobs"]["post"]["responses"]["202"]
    ready = doc["paths"]["/v1/health/ready"]["get"]["responses"]["503"]["content"]  # the checks, not a problem
    assert ready == {"application/json": {"schema": {"$ref": "#/components/schemas/Ready"}}}
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn." not in html and "https://" not in html.replace("https://fastapi.tiangolo.com", "")
        for asset in [a for a in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css",
                                  "/docs-assets/redoc.js") if a in html]:
            assert client.get(asset).status_code == 200, asset
    assert "cdn.redoc.ly" not in client.get("/docs-assets/redoc.js").text
    docs = client.get("/docs")
    assert '"validatorUrl": null' in docs.text  # Swagger UI's badge would load from validator.swagger.io
    assert "default-src 'self'" in docs.headers["content-security-policy"]


def test_a_wrong_method_names_every_method_of_the_path(keys: Keys) -> None:
    """RFC 9110: a 405's Allow lists what the path takes (Starlette names only its first route's methods)."""
    from fastapi.testclient import TestClient

    client = TestClient(_app(keys), headers=_headers(keys, "admin"))
    for path, allowed in (("/v1/jobs", "GET, POST"), ("/v1/projects/acme/members", "DELETE, GET, POST")):
        answer = client.put(path)
        assert answer.status_code == 405 and answer.headers["allow"] == allowed, (path, answer.headers)
