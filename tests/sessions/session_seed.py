"""Seeded chats: finished turns written the way the turn loop stores them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from boocode.agent.runtime import Runtime
from boocode.db.chats import insert_chat
from boocode.db.tables import AgentRun, Chat, FileWrite, Message


class ChatSeed:
    """Writes finished turns the way the turn loop stores them, files included."""

    def __init__(self, rt: Runtime, workspace: Path) -> None:
        self.rt = rt
        self.workspace = workspace
        self.chat_id = uuid.uuid4().hex
        self.clock = datetime(2025, 1, 1, tzinfo=UTC)

    async def create(self) -> ChatSeed:
        await insert_chat(
            self.rt.db,
            workspace=str(self.workspace),
            model="fake-model",
            title="seeded",
            chat_id=self.chat_id,
            created_at=self.clock,
        )
        return self

    async def branch(self) -> int:
        async with self.rt.db.session() as session:
            chat = await session.get(Chat, self.chat_id)
            assert chat is not None
            return chat.branch_id

    async def turn(
        self,
        number: int,
        prompt: str,
        *,
        writes: dict[str, str] | None = None,
        status: str = "succeeded",
        finish: bool = True,
    ) -> None:
        """One turn: the prompt, a tool call per written file, their results, an answer."""
        branch = await self.branch()
        writes = writes or {}
        start = self._tick()
        calls = [
            {"id": f"c{number}-{index}", "name": "write_file", "arguments": "{}"}
            for index, _ in enumerate(writes)
        ]
        rows: list[Message] = [self._message(branch, number, "user", prompt, at=start)]
        if calls:
            rows.append(
                self._message(
                    branch,
                    number,
                    "assistant",
                    "",
                    tool_calls=calls,
                    usage={"prompt_tokens": 100, "completion_tokens": 10},
                    step_key=f"t{number}-llm0",
                )
            )
        file_rows = []
        for call, (path, content) in zip(calls, writes.items(), strict=True):
            target = self.workspace / path
            before = target.read_text() if target.exists() else None
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            file_rows.append(
                FileWrite(
                    chat_id=self.chat_id,
                    branch_id=branch,
                    turn_number=number,
                    path=path,
                    before=before,
                    after=content,
                    created_at=self._tick(),
                )
            )
            rows.append(
                self._message(
                    branch,
                    number,
                    "tool",
                    f"wrote {path}",
                    tool_call_id=call["id"],
                    tool_name="write_file",
                    step_key=f"t{number}-tool-{call['id']}",
                )
            )
        if finish:
            rows.append(
                self._message(
                    branch,
                    number,
                    "assistant",
                    f"answer {number}",
                    usage={"prompt_tokens": 200, "completion_tokens": 20},
                    step_key=f"t{number}-llm1",
                )
            )
        task = AgentRun(
            id=f"turn-{self.chat_id}-{branch}-{number}-{uuid.uuid4().hex[:8]}",
            chat_id=self.chat_id,
            kind="turn",
            turn_number=number,
            branch_id=branch,
            status=status,
            created_at=start,
            started_at=start,
            finished_at=self._tick() if finish else None,
        )
        async with self.rt.db.session() as session, session.begin():
            for row in rows:
                session.add(row)
                await session.flush()
            session.add_all(file_rows)
            session.add(task)

    def _tick(self) -> datetime:
        self.clock += timedelta(milliseconds=1500)
        return self.clock

    def _message(
        self,
        branch: int,
        number: int,
        role: str,
        content: Any,
        *,
        at: datetime | None = None,
        **kw: Any,
    ) -> Message:
        return Message(
            chat_id=self.chat_id,
            branch_id=branch,
            turn_number=number,
            role=role,
            content=content,
            created_at=at or self._tick(),
            **kw,
        )
