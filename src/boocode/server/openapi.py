"""The OpenAPI document, made true: every 4xx an `/api` call can answer, in one shape.

FastAPI documents the responses a route declares and a 422 of its own shape. Every `/api` call
can also be refused by the access control (401, 403) and, with a body, by the body parser (400);
all of them answer `ErrorBody`, which replaces FastAPI's validation error schema here.

It also carries OpenAPI links: where the id a read or a cancel needs comes from (a run started,
a list of traces, runs or subagents), so a client generator — or a fuzzer — can follow them.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Link:
    """The answer of `source` names an id that `target` takes, at `value` (a runtime expression)."""

    source: tuple[str, str, str]  # method, path, status
    target: tuple[str, str]  # method, path
    parameters: dict[str, str]


_RUN_ID = {"run_id": "$response.body#/run_id"}
_FIRST_RUN = {"run_id": "$response.body#/runs/0/run_id"}
_FIRST_SUBAGENT = {"task_id": "$response.body#/subagents/0/task_id"}
_FIRST_TRACE = {"chat_id": "$request.path.chat_id", "trace_id": "$response.body#/items/0/id"}
_LINKS = [
    *(
        _Link(("post", "/api/chats/{chat_id}/workflows", "202"), target, _RUN_ID)
        for target in (
            ("get", "/api/workflow-runs/{run_id}"),
            ("post", "/api/workflow-runs/{run_id}/cancel"),
        )
    ),
    *(
        _Link(("get", "/api/chats/{chat_id}/workflows", "200"), target, _FIRST_RUN)
        for target in (
            ("get", "/api/workflow-runs/{run_id}"),
            ("post", "/api/workflow-runs/{run_id}/cancel"),
        )
    ),
    *(
        _Link(("get", "/api/chats/{chat_id}/subagents", "200"), target, _FIRST_SUBAGENT)
        for target in (
            ("get", "/api/subagents/{task_id}"),
            ("post", "/api/subagents/{task_id}/cancel"),
        )
    ),
    _Link(
        ("get", "/api/chats/{chat_id}/traces", "200"),
        ("get", "/api/chats/{chat_id}/traces/{trace_id}"),
        _FIRST_TRACE,
    ),
]


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
    _add_links(schema["paths"])
    return schema


def _add_links(paths: dict[str, Any]) -> None:
    for link in _LINKS:
        method, path, status = link.source
        target = paths[link.target[1]][link.target[0]]
        response = paths[path][method]["responses"][status]
        response.setdefault("links", {})[target["operationId"]] = {
            "operationId": target["operationId"],
            "parameters": link.parameters,
        }


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
