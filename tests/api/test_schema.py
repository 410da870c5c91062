"""The OpenAPI schema validates, the docs page is served, and a fuzzer finds no 500."""

import json

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from rest_framework.utils.encoders import JSONEncoder
from schemathesis.checks import not_a_server_error

from tests.helpers import token_client


def test_the_schema_is_public_and_valid_openapi_3(campaign):
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema
    assert "/api/v1/campaigns/{slug}/members/" in schema["paths"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_docs_page_uses_only_files_from_this_site(campaign):
    page = APIClient().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "<style" not in html
    assert "<script>" not in html  # no inline script: the init script has its own URL
    script = APIClient().get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"/api/schema/" in script.content


@pytest.fixture
def wsgi_app(db):
    # Django closes the connection after each WSGI request; in a test that
    # would close the test transaction too (the test Client does the same).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _schema():
    # Built in-process (no request, no database) so it can be loaded at import.
    document = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document, cls=JSONEncoder)))
    loaded.app = get_wsgi_application()
    return loaded.include(
        path_regex=r"^/api/v1/(campaigns|invites|webhooks/$)", method=["GET", "POST"]
    )


@pytest.fixture
def fuzz_token(mara, tree_of_three):
    return token_client(mara)._credentials["HTTP_AUTHORIZATION"]


schema = _schema()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_fuzzer_finds_no_server_error(case, wsgi_app, fuzz_token):
    # The real slug, so that the fuzzer gets past the 404 into the views.
    if "slug" in (case.path_parameters or {}):
        case.path_parameters["slug"] = "default"
    case.call_and_validate(headers={"Authorization": fuzz_token}, checks=[not_a_server_error])
