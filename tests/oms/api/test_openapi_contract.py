"""The OpenAPI schema says what the API does: error responses, shapes, nulls, required bodies.

The live check is ``bench/contract.sh`` (schemathesis against gunicorn on PostgreSQL); these
pin the schema fixes it relies on without a server.
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_the_errors_it_can_answer(schema):
    for path, method, operation in _operations(schema):
        codes = set(operation["responses"])
        assert {"400", "401", "403", "404", "429", "503"} <= codes, (method, path)
        if method in ("post", "put", "patch", "delete"):
            assert {"409", "413", "415", "422"} <= codes, (method, path)
    unavailable = schema["paths"]["/api/orders/"]["post"]["responses"]["503"]
    assert "Retry-After" in unavailable["headers"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]


def test_the_timeline_is_a_bare_list_and_routing_an_object(schema):
    timeline = schema["paths"]["/api/orders/{id}/timeline/"]["get"]["responses"]["200"]
    assert timeline["content"]["application/json"]["schema"]["type"] == "array"
    routing = schema["paths"]["/api/orders/{order_pk}/routing/"]["get"]["responses"]["200"]
    ref = routing["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"order", "status", "consolidation", "decisions"} <= set(body["properties"])


def test_actions_that_read_no_body_document_none(schema):
    for path in (
        "/api/order-tracking/{order_id}/reissue/",
        "/api/order-tracking/{order_id}/revoke/",
        "/api/service-steps/{id}/complete/",
        "/api/webhooks/{id}/rotate-secret/",
    ):
        assert "requestBody" not in schema["paths"][path]["post"], path


def test_nullable_fields_and_non_empty_lists_are_marked(schema):
    components = schema["components"]["schemas"]
    assert components["OrderTracking"]["properties"]["revoked_at"]["nullable"] is True
    assert components["OrderCreateRequest"]["properties"]["lines"]["minItems"] == 1
    assert components["StockBulkUpdateRequest"]["properties"]["items"]["minItems"] == 1


def test_decimal_patterns_need_a_digit(schema):
    patterns = re.findall(r"'pattern': '([^']*\\\\d[^']*)'", repr(schema))
    assert patterns
    for pattern in patterns:
        regex = re.compile(pattern.replace("\\\\", "\\"))
        for refused in ("", "-", "."):
            assert not regex.match(refused), pattern
        assert regex.match("12.5") or "{1,40}" in pattern


def test_the_signed_channel_endpoint_is_documented_as_the_readme_names_it(schema):
    assert "/api/channels/{code}/orders" in schema["paths"]
    assert "/api/channels/{code}/orders/" not in schema["paths"]
