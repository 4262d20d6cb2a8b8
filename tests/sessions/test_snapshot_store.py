"""The stored snapshot on both engines: upsert, incremental saves, versions, the frame."""

from __future__ import annotations

from datetime import UTC, datetime

from session_seed import ChatSeed
from sqlalchemy import delete, func, select, update

from boocode.agent.runtime import Runtime
from boocode.contracts.sessions import AgentStatus
from boocode.db.tables import AgentSnapshot, Message
from boocode.sessions import snapshot_store
from boocode.sessions.snapshot import build_snapshot_frame


async def test_save_then_load_holds_what_a_client_needs(rt: Runtime, seed: ChatSeed) -> None:
    await seed.turn(1, "create the module", writes={"pkg/mod.py": "x = 1\n"})
    await seed.turn(2, "explain it")

    saved = await snapshot_store.save(rt.db, seed.chat_id)
    loaded = await snapshot_store.load(rt.db, seed.chat_id)

    assert loaded == saved
    assert loaded.turn == 2 and loaded.status is AgentStatus.IDLE and loaded.task_id is None
    assert loaded.model == "fake-model"
    assert loaded.message_count == 6
    assert loaded.usage.prompt_tokens == 100 + 200 + 200
    assert loaded.pending_tool_calls == []
    assert [(f.path, f.writes, f.last_turn, f.created) for f in loaded.files] == [
        ("pkg/mod.py", 1, 1, True)
    ]


async def test_save_upserts_one_row_per_chat(rt: Runtime, seed: ChatSeed) -> None:
    await seed.turn(1, "one")
    await snapshot_store.save(rt.db, seed.chat_id)
    await seed.turn(2, "two")
    await snapshot_store.save(rt.db, seed.chat_id)
    async with rt.db.session() as session:
        rows = (
            await session.execute(select(func.count()).where(AgentSnapshot.chat_id == seed.chat_id))
        ).scalar()
    assert rows == 1
    loaded = await snapshot_store.load(rt.db, seed.chat_id)
    assert loaded is not None and loaded.turn == 2


async def test_save_folds_only_what_is_newer_than_the_stored_snapshot(
    rt: Runtime, seed: ChatSeed
) -> None:
    await seed.turn(1, "one")
    first = await snapshot_store.save(rt.db, seed.chat_id)
    # Mark the stored totals: a save that re-read the whole history would lose the mark.
    marked = first.model_copy(deep=True)
    marked.usage.completion_tokens = 1_000_000
    async with rt.db.session() as session, session.begin():
        await session.execute(
            update(AgentSnapshot)
            .where(AgentSnapshot.chat_id == seed.chat_id)
            .values(data=marked.model_dump(mode="json"))
        )
    await seed.turn(2, "two", writes={"a.txt": "a\n"})

    second = await snapshot_store.save(rt.db, seed.chat_id)

    assert second.usage.completion_tokens == 1_000_000 + 10 + 20
    assert second.last_message_id > first.last_message_id
    assert [f.path for f in second.files] == ["a.txt"]


async def test_a_turn_cut_after_its_tool_calls_shows_them_pending(
    rt: Runtime, seed: ChatSeed
) -> None:
    await seed.turn(1, "write it", writes={"a.txt": "a\n"}, status="running", finish=False)
    # The tool phase has not stored its result yet: drop it, as if cut mid-phase.
    async with rt.db.session() as session, session.begin():
        await session.execute(
            delete(Message).where(Message.chat_id == seed.chat_id, Message.role == "tool")
        )

    snapshot = await snapshot_store.save(rt.db, seed.chat_id)

    assert snapshot.status is AgentStatus.RUNNING and snapshot.task_id is not None
    assert [call.id for call in snapshot.pending_tool_calls] == ["c1-0"]


async def test_a_version_1_snapshot_still_loads_and_the_next_save_upgrades_it(
    rt: Runtime, seed: ChatSeed
) -> None:
    await seed.turn(1, "one", writes={"a.txt": "a\n"})
    v1 = {
        "chat_id": seed.chat_id,
        "status": "idle",
        "turn": 1,
        "last_message_id": 4,
        "usage": {"prompt_tokens": 300, "completion_tokens": 30},
    }
    async with rt.db.session() as session, session.begin():
        session.add(
            AgentSnapshot(chat_id=seed.chat_id, version=1, data=v1, updated_at=datetime.now(UTC))
        )

    old = await snapshot_store.load(rt.db, seed.chat_id)
    assert old is not None and old.version == 1
    assert old.turn == 1 and old.usage.prompt_tokens == 300 and old.files == []

    upgraded = await snapshot_store.save(rt.db, seed.chat_id)
    assert upgraded.version == 2
    assert [f.path for f in upgraded.files] == ["a.txt"]
    async with rt.db.session() as session:
        row = await session.get(AgentSnapshot, seed.chat_id)
    assert row is not None and row.version == 2


async def test_delete_forgets_the_snapshot_but_not_the_chat(rt: Runtime, seed: ChatSeed) -> None:
    await seed.turn(1, "one")
    await snapshot_store.save(rt.db, seed.chat_id)

    assert await snapshot_store.delete(rt.db, seed.chat_id) is True
    assert await snapshot_store.load(rt.db, seed.chat_id) is None
    assert await snapshot_store.delete(rt.db, seed.chat_id) is False
    frame = await build_snapshot_frame(seed.chat_id)
    assert len(frame.messages) == 2 and frame.session is not None and frame.session.turn == 1


async def test_the_frame_is_the_stored_snapshot_advanced_to_now(
    rt: Runtime, seed: ChatSeed
) -> None:
    await seed.turn(1, "one", writes={"a.txt": "a\n"})
    await snapshot_store.save(rt.db, seed.chat_id)
    await seed.turn(2, "two", writes={"b.txt": "b\n"})

    frame = await build_snapshot_frame(seed.chat_id)

    assert frame.session is not None
    assert frame.session.turn == 2
    assert [f.path for f in frame.session.files] == ["a.txt", "b.txt"]
    assert frame.usage.prompt_tokens == 2 * (100 + 200)
    assert [m.turn for m in frame.messages] == [1, 1, 1, 1, 2, 2, 2, 2]
    stored = await snapshot_store.load(rt.db, seed.chat_id)
    assert stored is not None and stored.turn == 1
