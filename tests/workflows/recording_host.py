"""A small WorkflowHost that records what a script asked for, and a helper to run a script."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import JsonValue

from boocode.workflows.host import AgentOptions
from boocode.workflows.limits import MIB, ScriptLimits
from boocode.workflows.outcome import ScriptOutcome
from boocode.workflows.sandbox import SpareChild, run_script
from boocode.workflows.script import Script, load_script

META = "export const meta = { name: 'test', description: 'a script under test' }\n"
# Small enough that a runaway allocation is caught in well under a second.
TEST_LIMITS: dict[str, Any] = {"deadline_s": 20.0, "memory_bytes": 32 * MIB}

# Collects the message of each thrown error, so that one run checks many calls.
ERRORS_OF = """
async function errorOf(call) {
  try { await call(); return 'no error' } catch (e) { return `${e.name}: ${e.message}` }
}
"""

Answer = Callable[[str, AgentOptions], Awaitable[JsonValue]]


async def echo(prompt: str, options: AgentOptions) -> JsonValue:
    return f"done: {prompt}"


class RecordingHost:
    """Answers each agent() with `answer`, charging `tokens_per_agent`, and records every call."""

    def __init__(self, answer: Answer = echo, *, tokens_per_agent: int = 0) -> None:
        self.answer = answer
        self.tokens_per_agent = tokens_per_agent
        self.spent = 0
        self.agents: list[tuple[str, AgentOptions]] = []
        self.workflows: list[str] = []
        # The sources `workflow(name)` finds, by name.
        self.scripts: dict[str, str] = {}
        self.events: list[tuple[str, str]] = []
        self.running = 0
        self.most_running = 0

    async def agent(self, prompt: str, options: AgentOptions) -> JsonValue:
        self.agents.append((prompt, options))
        self.events.append(("agent", prompt))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            result = await self.answer(prompt, options)
            self.spent += self.tokens_per_agent
            return result
        finally:
            self.running -= 1

    async def load_workflow(self, name_or_ref: str) -> Script:
        self.workflows.append(name_or_ref)
        if name_or_ref not in self.scripts:
            raise LookupError(f"no workflow called {name_or_ref!r}")
        return load_script(self.scripts[name_or_ref], name=name_or_ref)

    def log(self, message: str) -> None:
        self.events.append(("log", message))

    def phase(self, title: str) -> None:
        self.events.append(("phase", title))

    def tokens_spent(self) -> int:
        return self.spent


async def run(
    body: str,
    args: JsonValue = None,
    host: RecordingHost | None = None,
    spare: SpareChild | None = None,
    **limits: Any,
) -> ScriptOutcome:
    """Run `body` after a standard meta line (so the body's first line is line 2)."""
    script = load_script(META + body)
    return await run_script(
        script, args, host or RecordingHost(), ScriptLimits(**(TEST_LIMITS | limits)), spare=spare
    )


def held_until(asked_first: dict[str, str]) -> Answer:
    """An answer that holds a prompt until another one has been asked: agents finish in an order
    the test chooses, however loaded the machine."""
    asked: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        asked[prompt].set()
        if prompt in asked_first:
            await asyncio.wait_for(asked[asked_first[prompt]].wait(), 10)
        return f"done: {prompt}"

    return answer
