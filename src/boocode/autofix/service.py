"""Auto-fix as the transports use it: a chat's state, and its on/off switch."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from boocode.agent import runtime, service
from boocode.autofix.config import plan_for
from boocode.autofix.runs import latest_runs
from boocode.contracts.autofix import AutofixState
from boocode.db.tables import Chat


async def autofix_state(chat_id: str) -> AutofixState:
    """The command that runs after this chat's writes, whether it will run, and why."""
    chat = await service.get_chat(chat_id)
    plan = plan_for(Path(chat.workspace), chat.autofix)
    return AutofixState(
        enabled=plan.enabled,
        commands=plan.commands,
        source=plan.source,
        reason=plan.summary,
        chat_setting=plan.chat_setting,
        project_enabled=plan.project_enabled,
        max_attempts=plan.max_attempts,
        timeout_s=plan.timeout_s,
        runs=await latest_runs(runtime.current().db, chat_id),
    )


async def set_chat_autofix(chat_id: str, enabled: bool | None) -> AutofixState:
    """Switch auto-fix on or off for one chat; None goes back to the project's default."""
    await service.get_chat(chat_id)
    async with runtime.current().db.session() as session, session.begin():
        await session.execute(update(Chat).where(Chat.id == chat_id).values(autofix=enabled))
    return await autofix_state(chat_id)
