"""The built-in offline demo model: deterministic, no network, drives the real tools."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boocode.providers.types import DeltaKind, DeltaSink, ModelResponse, ToolCall
from boocode.providers.usage import Usage

_SKIPPED_DIRS = {"node_modules", "__pycache__", "venv", "env", "dist", "build"}
_MAX_FILES_EXAMINED = 500
_QUOTE_LIMIT = 120


@dataclass(frozen=True)
class _Step:
    tool: str
    arguments: dict[str, Any]
    thought: str


class DemoModel:
    """Answers every user message with the same four steps, based on the turn so far:

    1. `list_files` of the workspace root, 2. `read_file` of a README (or the first text file),
    3. `run_command python3 --version`, 4. a short summary of what the tools returned.

    A step whose tool is not offered (or, for step 2, with no file to read) is skipped.
    """

    def __init__(self, workspace: Path, *, delay_s: float = 0.03) -> None:
        self.name = "demo"
        self.is_demo = True
        self.label = "demo (offline demo model)"
        self.workspace = workspace
        self.delay_s = delay_s

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        on_delta: DeltaSink | None = None,
    ) -> ModelResponse:
        turn_start = _last_user_index(messages)
        turn = messages[turn_start + 1 :]
        called = {call["function"]["name"] for call in _tool_calls(turn)}
        offered = {tool.get("function", {}).get("name") for tool in tools}
        pending = [
            step for step in self._plan() if step.tool in offered and step.tool not in called
        ]
        prompt_tokens = len(json.dumps(messages, ensure_ascii=False)) // 4
        if pending:
            step = pending[0]
            await self._stream(on_delta, "reasoning", step.thought)
            call = ToolCall(
                id=f"demo-{_turn_hash(messages, turn_start)}-{len(messages)}",
                name=step.tool,
                arguments=json.dumps(step.arguments),
            )
            return ModelResponse(
                reasoning=step.thought,
                tool_calls=[call],
                usage=_usage(prompt_tokens, step.thought + call.arguments),
                finish_reason="tool_calls",
                model=self.name,
            )
        user_message = messages[turn_start] if turn_start >= 0 else {}
        answer = _summary(turn, user_message)
        await self._stream(on_delta, "text", answer)
        return ModelResponse(
            content=answer,
            usage=_usage(prompt_tokens, answer),
            finish_reason="stop",
            model=self.name,
        )

    def _plan(self) -> list[_Step]:
        steps = [
            _Step(
                "list_files",
                {"path": ".", "recursive": False},
                "Looking at the project layout first.",
            )
        ]
        chosen = _file_to_read(self.workspace)
        if chosen is not None:
            steps.append(
                _Step("read_file", {"path": chosen}, f"Reading {chosen} to see what this is.")
            )
        steps.append(
            _Step(
                "run_command",
                {"argv": ["python3", "--version"]},
                "Checking which Python the workspace has.",
            )
        )
        return steps

    async def _stream(self, on_delta: DeltaSink | None, kind: DeltaKind, text: str) -> None:
        if on_delta is None:
            return
        for index, word in enumerate(re.findall(r"\S+\s*", text)):
            if index and self.delay_s > 0:
                await asyncio.sleep(self.delay_s)
            await on_delta(kind, word)


def _last_user_index(messages: list[dict[str, Any]]) -> int:
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "user":
            return index
    return -1


def _turn_hash(messages: list[dict[str, Any]], turn_start: int) -> str:
    anchor = messages[turn_start] if turn_start >= 0 else {}
    text = json.dumps([turn_start, anchor.get("content")], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _tool_calls(turn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        call
        for message in turn
        if message.get("role") == "assistant"
        for call in message.get("tool_calls") or []
    ]


def _file_to_read(workspace: Path) -> str | None:
    """A README at the root if there is one, else the first text file in sorted walk order."""
    if not workspace.is_dir():
        return None
    readmes = sorted(
        entry.name
        for entry in workspace.iterdir()
        if entry.name.upper().startswith("README") and entry.is_file()
    )
    if readmes:
        return readmes[0]
    examined = 0
    for root, dirs, files in os.walk(workspace):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            if path.is_file() and not path.is_symlink() and _looks_like_text(path):
                return path.relative_to(workspace).as_posix()
            examined += 1
            if examined >= _MAX_FILES_EXAMINED:
                return None
    return None


def _looks_like_text(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
        head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return bool(head) and b"\0" not in head


def _summary(turn: list[dict[str, Any]], user_message: dict[str, Any]) -> str:
    results = _tool_results(turn)
    sentences = [
        "I am BooCode's offline demo model: no language model was called, "
        "I just ran a fixed sequence of tools."
    ]
    question = _quote(_text_of(user_message.get("content")))
    if question:
        sentences.append(f'You asked: "{question}".')
    if _has_image(user_message.get("content")):
        sentences.append(
            "You attached an image; the demo model cannot look at it, a vision model can."
        )
    if "list_files" in results:
        count = _entry_count(results["list_files"])
        sentences.append(f"Listing the workspace root returned {count} entries.")
    if "read_file" in results:
        path, content = results["read_file"]
        sentences.append(f'The first line of {path} is "{_quote(_first_line(content))}".')
    if "run_command" in results:
        output = _quote(_command_output(results["run_command"]))
        sentences.append(f'Running python3 --version printed "{output}".')
    sentences.append(
        "To use a real model, set BOOCODE_API_KEY (with BOOCODE_BASE_URL and BOOCODE_MODEL for "
        "any OpenAI-compatible endpoint) or DEEPSEEK_API_KEY in the environment: the next "
        "boocode run reads it, and boocode serve reads it when it is started again."
    )
    return " ".join(sentences)


def _tool_results(turn: list[dict[str, Any]]) -> dict[str, Any]:
    """Tool name → its result text (for read_file: (path, text)), latest call winning."""
    calls = {call.get("id"): call["function"] for call in _tool_calls(turn)}
    results: dict[str, Any] = {}
    for message in turn:
        if message.get("role") != "tool" or message.get("tool_call_id") not in calls:
            continue
        function = calls[message["tool_call_id"]]
        text = _text_of(message.get("content"))
        if function["name"] == "read_file":
            path = _json_object(function.get("arguments")).get("path", "the file")
            results["read_file"] = (path, text)
        else:
            results[function["name"]] = text
    return results


def _entry_count(listing: str) -> int:
    """Entries in a list_files result: one per line, plus those its "… N more" note omits."""
    count = 0
    for line in listing.splitlines():
        omitted = re.match(r"…\s*(\d+) more", line.strip())
        if omitted:
            count += int(omitted.group(1))
        elif line.strip() and "empty directory" not in line:
            count += 1
    return count


def _first_line(numbered_text: str) -> str:
    """The first non-blank line of a read_file result, without its line-number prefix."""
    for line in numbered_text.splitlines():
        text = re.sub(r"^\s*\d+\t", "", line).strip()
        if text:
            return text
    return "(empty)"


def _command_output(result: str) -> str:
    """The first output line of a run_command result, after its "exit code: …" header."""
    lines = [line.strip() for line in result.splitlines() if line.strip()]
    if lines and lines[0].startswith("exit code:"):
        lines = lines[1:]
    return lines[0] if lines else "(nothing)"


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _has_image(content: object) -> bool:
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") in ("image_url", "image") for part in content
    )


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(text or "")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _quote(text: str) -> str:
    collapsed = " ".join(text.split())
    if len(collapsed) > _QUOTE_LIMIT:
        return collapsed[: _QUOTE_LIMIT - 1] + "…"
    return collapsed


def _usage(prompt_tokens: int, completion_text: str) -> Usage:
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=len(completion_text) // 4,
        cache_miss_tokens=prompt_tokens,
    )
