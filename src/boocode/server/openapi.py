"""The OpenAPI document, made true: every 4xx an `/api` call can answer, in one shape.

FastAPI documents the responses a route declares and a 422 of its own shape. Every `/api` call
can also be refused by the access control (401, 403) and, with a body, by the body parser (400);
all of them answer `ErrorBody`, which replaces FastAPI's validation error schema here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from boocode.contracts.chats import ErrorBody

BEARER = "accessToken"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_ACCESS_ERRORS = {
    "401": "missing or wrong access token",
    "403": "a cross-origin request, refused",
}
_INPUT_ERROR = ("422", "a parameter or the body is invalid; `errors` lists each problem")
_BODY_ERROR = ("400", "the body could not be read")
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
_OPERATIONS = ("get", "put", "post", "delete", "patch")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = document_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("ErrorBody", ErrorBody.model_json_schema())
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "the access token `boocode serve` prints (or its cookie)",
        }
    }
    for path, item in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method in _OPERATIONS:
            if method in item:
                _document_operation(item[method])
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    return schema


def _document_operation(operation: dict[str, Any]) -> None:
    operation["security"] = [{BEARER: []}]
    responses = operation.setdefault("responses", {})
    errors = dict(_ACCESS_ERRORS)
    if operation.get("parameters") or "requestBody" in operation:
        errors[_INPUT_ERROR[0]] = _INPUT_ERROR[1]
    if "requestBody" in operation:
        errors[_BODY_ERROR[0]] = _BODY_ERROR[1]
    for status, description in errors.items():
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": _ERROR_REF}},
        }
