"""Structured output: an agent given a JSON Schema answers by calling `submit_result`.

The tool's parameters are the schema; its arguments are validated with a real JSON Schema
validator, and a mismatch is a tool error that says what is wrong, so the model tries again.
The last valid submission is the agent's value.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from sqlalchemy import select

from boocode.agent.runtime import RunContext, Runtime
from boocode.db.engine import Database
from boocode.db.tables import Chat, Message
from boocode.tools import ToolResult

SUBMIT_RESULT = "submit_result"
_DESCRIPTION = (
    "Submit your final result; its arguments must match the required schema. You must call "
    "this before you finish; if it answers with errors, fix them and call it again."
)
_MAX_PROBLEMS = 10


class SubmitResult:
    """A run tool (`boocode.agent.runtime.RunTool`) offered to conversations with a schema."""

    name = SUBMIT_RESULT

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def offered(self, chat: Chat) -> bool:
        return chat.output_schema is not None

    def schema_for(self, chat: Chat) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": SUBMIT_RESULT,
                "description": _DESCRIPTION,
                "parameters": chat.output_schema or {"type": "object"},
            },
        }

    async def __call__(self, context: RunContext, arguments_json: str) -> ToolResult:
        schema = context.chat.output_schema or {}
        try:
            value = json.loads(arguments_json or "{}")
        except json.JSONDecodeError as exc:
            return ToolResult(content=f"the arguments are not valid JSON: {exc.msg}", is_error=True)
        problems = validation_problems(schema, value)
        if problems:
            listed = "\n".join(f"- {problem}" for problem in problems)
            return ToolResult(
                content=f"the result does not match the schema:\n{listed}\nfix it and call "
                f"{SUBMIT_RESULT} again",
                is_error=True,
            )
        return ToolResult(content=json.dumps(value, ensure_ascii=False))


def validation_problems(schema: dict[str, Any], value: Any) -> list[str]:
    """What is wrong with `value` against `schema`, one line each (at most ten)."""
    try:
        validator = Draft202012Validator(schema)
    except SchemaError as exc:
        return [f"the schema itself is invalid: {exc.message}"]
    problems = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.path)):
        where = "/".join(str(part) for part in error.path) or "(the result)"
        problems.append(f"{where}: {error.message}")
        if len(problems) == _MAX_PROBLEMS:
            break
    return problems


def schema_error(schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a valid JSON Schema, or None."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return exc.message
    return None


async def submitted_value(db: Database, conversation_id: str) -> Any:
    """The last valid submission of a conversation, or None when it never made one."""
    async with db.session() as session:
        content = (
            await session.execute(
                select(Message.content)
                .where(
                    Message.chat_id == conversation_id,
                    Message.role == "tool",
                    Message.tool_name == SUBMIT_RESULT,
                    Message.is_error.is_(False),
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    return json.loads(content) if isinstance(content, str) else None
