"""Background subagents: spawned by a tool, run durably on a queue, reported back by themselves.

See docs/subagents.md.
"""

from __future__ import annotations

from boocode.agent.runtime import Runtime
from boocode.subagents import notify
from boocode.subagents.runner import SUBAGENT_QUEUE, register_queue, start_subagent
from boocode.subagents.tools import SUBAGENT_TOOLS, subagent_tools

__all__ = ["SUBAGENT_QUEUE", "SUBAGENT_TOOLS", "install", "register_queue", "start_subagent"]


def install(rt: Runtime) -> None:
    """Offer the subagent tools and deliver notifications in every run of this process."""
    for tool in subagent_tools(rt):
        rt.run_tools[tool.name] = tool

    async def deliver(chat_id: str, turn: int) -> None:
        await notify.deliver_due(rt, chat_id, turn)

    async def wake(chat_id: str, turn: int) -> None:
        await notify.wake_after_turn(rt, chat_id, turn)

    rt.model_call_hooks.append(deliver)
    rt.chat_turn_end_hooks.append(wake)
