"""The OpenAPI schema's shared parts: the error responses every operation can give, and fixes.

A postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``) documents once what
``oms.api.errors.exception_handler`` answers for every view, rather than on each view: 400 (a
field map), 401/403 (not authenticated or not allowed), 404, 429 (throttled) and 503 (database
out of reach, with ``Retry-After``) on every operation; 409 and 422 (domain and idempotency
errors), 413 and 415 on writes. It also tightens decimal patterns so that ``""``, ``"-"`` and
``"."``, which the API refuses, are not documented as valid, marks the lists that may not be
empty, and names the signed channel endpoint as the README does.
"""

import re
from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": "A domain, idempotency or request error: a stable code and a message; some "
    "codes add fields of their own (e.g. ``inbox_id``).",
    "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": 'Invalid input: a map of field name to messages (``{"field": ["message"]}``), '
    "nested for nested input; ``non_field_errors`` for the whole object. A body that is not "
    'JSON answers ``{"detail": "..."}``.',
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
            {"type": "string"},
        ]
    },
}

_ERROR = {"$ref": "#/components/schemas/Error"}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
_EVERY_OPERATION: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "400": ("Invalid input.", {"$ref": "#/components/schemas/ValidationError"}, {}),
    "401": ("No valid API key.", _ERROR, {}),
    "403": ("The key may not do this.", _ERROR, {}),
    "404": ("No such resource for this merchant.", _ERROR, {}),
    "429": ("Throttled.", _ERROR, _RETRY_AFTER),
    "503": ("The database is out of reach (code database_unavailable).", _ERROR, _RETRY_AFTER),
}
_WRITES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "409": ("A domain conflict, or the same Idempotency-Key still in flight.", _ERROR, {}),
    "413": ("The request body is too large.", _ERROR, {}),
    "415": ("The request body is not JSON.", _ERROR, {}),
    "422": ("The Idempotency-Key was used with another request body.", _ERROR, {}),
}
# Nested list serializers with ``allow_empty=False``, which the generator does not read.
_NON_EMPTY_LISTS = (
    ("OrderCreateRequest", "lines"),
    ("StockBulkUpdateRequest", "items"),
    ("CartPromiseRequest", "lines"),
)
_CHANNEL_INGEST = "/api/channels/{code}/orders"
_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
_DECIMAL = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


def _response(description: str, schema: dict[str, Any], headers: dict[str, Any]) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _tighten_decimals(node: Any) -> None:
    """A decimal needs at least one digit: ``^-?\\d{0,W}(?:\\.\\d{0,D})?$`` admits ``""``."""
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and (match := _DECIMAL.match(pattern)):
            whole, places = match.groups()
            node["pattern"] = rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
        for value in node.values():
            _tighten_decimals(value)
    elif isinstance(node, list):
        for value in node:
            _tighten_decimals(value)


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Document the error responses of every operation, and tighten decimal patterns."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    schemas.setdefault("ValidationError", VALIDATION_ERROR_SCHEMA)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            extra = dict(_EVERY_OPERATION)
            if method in _WRITE_METHODS:
                extra.update(_WRITES)
            for code, (description, schema, headers) in extra.items():
                responses.setdefault(code, _response(description, schema, headers))
    # The signed channel endpoint answers with or without the trailing slash; document it as the
    # README names it.
    paths = result.get("paths", {})
    if _CHANNEL_INGEST + "/" in paths:
        paths[_CHANNEL_INGEST] = paths.pop(_CHANNEL_INGEST + "/")
    for component, field in _NON_EMPTY_LISTS:
        schemas[component]["properties"][field]["minItems"] = 1
    _tighten_decimals(result)
    return result
