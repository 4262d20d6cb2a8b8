"""Snapshot cost: saving at turn 500 against turn 10, LangGraph's SqliteSaver beside it, and
the time from WebSocket open to the `snapshot` frame for a 200-turn chat. SQLite throughout.

Saving "at turn N" is timed repeatedly by putting the snapshot saved after turn N-1 back
(untimed) before each timed save, so every sample folds exactly turn N into it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from langgraph.checkpoint.base import empty_checkpoint
from langgraph.checkpoint.sqlite import SqliteSaver
from sqlalchemy import insert

from boocode.config import Settings
from boocode.db.chats import insert_chat
from boocode.db.engine import Database
from boocode.db.tables import AgentRun, AgentSnapshot, FileWrite, Message
from boocode.sessions import snapshot_store
from support.live_server import LiveServer

LONG, SHORT, WS_TURNS = 500, 10, 200
SAMPLES = 60
WS_SAMPLES = 40


def turn_rows(chat_id: str, turn: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One realistic turn: a prompt, a tool call and its result, an answer; and a file write."""
    now = datetime.now(UTC)
    call = {"id": f"call-{turn}", "name": "write_file", "arguments": json.dumps({"path": "a"})}
    usage = {"prompt_tokens": 2000 + turn * 50, "completion_tokens": 120, "cache_hit_tokens": 1800}
    base = {"chat_id": chat_id, "branch_id": 0, "turn_number": turn, "created_at": now}
    messages = [
        {**base, "role": "user", "content": f"please change module {turn} " + "x" * 200},
        {
            **base,
            "role": "assistant",
            "content": "",
            "tool_calls": [call],
            "usage": usage,
            "step_key": f"t{turn}-llm0",
        },
        {
            **base,
            "role": "tool",
            "content": "wrote src/mod.py",
            "tool_call_id": call["id"],
            "tool_name": "write_file",
            "step_key": f"t{turn}-tool-{call['id']}",
        },
        {
            **base,
            "role": "assistant",
            "content": "done: " + "y" * 400,
            "usage": usage,
            "step_key": f"t{turn}-llm1",
        },
    ]
    write = {**base, "path": f"src/mod{turn % 20}.py", "before": "a\n" * 40, "after": "b\n" * 40}
    return messages, write


async def new_chat(db: Database, chat_id: str | None = None) -> str:
    return (
        await insert_chat(db, workspace="/tmp", model="bench", title="bench", chat_id=chat_id)
    ).id


async def add_turn(db: Database, chat_id: str, turn: int) -> list[dict[str, Any]]:
    messages, write = turn_rows(chat_id, turn)
    async with db.session() as session, session.begin():
        await session.execute(insert(Message), messages)
        await session.execute(insert(FileWrite), [write])
        await session.execute(
            insert(AgentRun),
            [
                {
                    "id": f"turn-{chat_id}-{turn}",
                    "chat_id": chat_id,
                    "kind": "turn",
                    "turn_number": turn,
                    "branch_id": 0,
                    "status": "succeeded",
                    "created_at": messages[0]["created_at"],
                }
            ],
        )
    return messages


async def save_at_turn(db: Database, turns: int) -> tuple[list[float], list[dict[str, Any]]]:
    """Samples of the save right after turn `turns`; and the chat's history for LangGraph."""
    chat_id = await new_chat(db)
    history: list[dict[str, Any]] = []
    for turn in range(1, turns):
        history += await add_turn(db, chat_id, turn)
        await snapshot_store.save(db, chat_id)
    before = await snapshot_store.load(db, chat_id)
    assert before is not None
    history += await add_turn(db, chat_id, turns)
    samples = []
    for _ in range(SAMPLES):
        async with db.session() as session, session.begin():
            row = await session.get(AgentSnapshot, chat_id)
            assert row is not None
            row.data = before.model_dump(mode="json")
        started = time.perf_counter()
        await snapshot_store.save(db, chat_id)
        samples.append(time.perf_counter() - started)
    return samples, history


def langgraph_put(path: Path, history: list[dict[str, Any]]) -> list[float]:
    """SqliteSaver storing the message history as a checkpoint, as a LangGraph agent does."""
    plain = [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in m.items()}
        for m in history
    ]
    conn = sqlite3.connect(path, check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    samples = []
    for sample in range(SAMPLES):
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"messages": plain}
        checkpoint["channel_versions"] = {"messages": sample + 1}
        config = {"configurable": {"thread_id": f"t-{len(history)}", "checkpoint_ns": ""}}
        started = time.perf_counter()
        saver.put(config, checkpoint, {"source": "loop", "step": sample}, {"messages": sample + 1})
        samples.append(time.perf_counter() - started)
    conn.close()
    return samples


async def ws_open_to_snapshot(root: Path) -> list[float]:
    server = LiveServer.start(root / "server")
    try:
        chat_id = server.new_chat()["id"]
        db = Database(
            Settings(
                database_url=f"sqlite:///{server.data_dir / 'boocode.sqlite'}"
            ).resolved_database_url
        )
        for turn in range(1, WS_TURNS + 1):
            await add_turn(db, chat_id, turn)
        await snapshot_store.save(db, chat_id)
        await db.dispose()
        samples = []
        for _ in range(WS_SAMPLES):
            started = time.perf_counter()
            async with server.ws(chat_id) as ws:
                frame = json.loads(await ws.recv())
                samples.append(time.perf_counter() - started)
            assert frame["type"] == "snapshot" and len(frame["messages"]) == 4 * WS_TURNS
        return samples
    finally:
        server.stop()


def ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = Database(
            Settings(database_url=f"sqlite:///{root / 'bench.sqlite'}").resolved_database_url
        )
        await db.upgrade()
        short, short_history = await save_at_turn(db, SHORT)
        long, long_history = await save_at_turn(db, LONG)
        await db.dispose()
        lg_short = langgraph_put(root / "lg.sqlite", short_history)
        lg_long = langgraph_put(root / "lg.sqlite", long_history)
        ws = await ws_open_to_snapshot(root)
    print(f"BooCode snapshot save at turn {SHORT}: {ms(short):.2f} ms median")
    print(f"BooCode snapshot save at turn {LONG}: {ms(long):.2f} ms median")
    print(f"  ratio turn {LONG} / turn {SHORT}: {ms(long) / ms(short):.2f} (target <= 2)")
    print(f"LangGraph SqliteSaver put at turn {SHORT}: {ms(lg_short):.2f} ms median")
    print(f"LangGraph SqliteSaver put at turn {LONG}: {ms(lg_long):.2f} ms median")
    print(f"  ratio turn {LONG} / turn {SHORT}: {ms(lg_long) / ms(lg_short):.2f}")
    print(f"LangGraph / BooCode at turn {LONG}: {ms(lg_long) / ms(long):.2f}x")
    print(
        f"WebSocket open -> snapshot, {WS_TURNS}-turn chat: {ms(ws):.2f} ms median (target <= 50)"
    )


if __name__ == "__main__":
    asyncio.run(main())
