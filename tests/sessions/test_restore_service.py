"""Timeline, restore, branches and file restore as services, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from session_seed import ChatSeed
from sqlalchemy import select

from boocode.agent import service
from boocode.agent.history import load_messages
from boocode.agent.runtime import Runtime
from boocode.contracts.chats import TurnStatus
from boocode.contracts.sessions import CheckoutRequest, FileAction, RestoreRequest
from boocode.db.tables import Message
from boocode.runs.store import TurnInProgress
from boocode.sessions import branches, files, restore, snapshot_store
from boocode.sessions.timeline import timeline


async def _three_turns(seed: ChatSeed) -> None:
    await seed.turn(1, "create notes", writes={"notes.txt": "v1\n"})
    await seed.turn(
        2, "extend notes, add a helper", writes={"notes.txt": "v2\n", "helper.py": "h\n"}
    )
    await seed.turn(3, "rewrite notes", writes={"notes.txt": "v3\n"})


async def test_timeline_lists_every_turn_with_its_figures(rt: Runtime, seed: ChatSeed) -> None:
    await _three_turns(seed)
    await seed.turn(4, "  a   long\nprompt " + "x" * 400, status="failed")

    result = await timeline(rt.db, seed.chat_id)

    assert [t.turn for t in result.turns] == [1, 2, 3, 4]
    second = result.turns[1]
    assert second.prompt == "extend notes, add a helper"
    assert second.tool_calls == 2 and second.tool_errors == 0
    assert second.tokens == 100 + 10 + 200 + 20
    assert second.status is TurnStatus.SUCCEEDED and second.duration_ms is not None
    assert second.files == ["notes.txt", "helper.py"]
    assert result.turns[3].status is TurnStatus.FAILED
    assert (
        result.turns[3].prompt.startswith("a long prompt xxx")
        and len(result.turns[3].prompt) == 160
    )
    assert [(b.id, b.current, b.turns) for b in result.branches] == [(0, True, 4)]


async def test_restore_continues_on_a_new_branch_and_keeps_the_old_one(
    rt: Runtime, seed: ChatSeed
) -> None:
    await _three_turns(seed)

    switch = await restore.restore(seed.chat_id, RestoreRequest(turn=1))

    assert (switch.branch_id, switch.previous_branch_id, switch.turn) == (1, 0, 1)
    current = await load_messages(rt.db, seed.chat_id)
    assert {m.turn_number for m in current} == {1} and all(m.branch_id == 1 for m in current)
    kept = await load_messages(rt.db, seed.chat_id, branch_id=0)
    assert {m.turn_number for m in kept} == {1, 2, 3}
    snapshot = await snapshot_store.load(rt.db, seed.chat_id)
    assert snapshot is not None and (snapshot.branch_id, snapshot.turn) == (1, 1)
    assert [f.path for f in snapshot.files] == ["notes.txt"]

    await seed.turn(2, "a different second turn")
    result = await timeline(rt.db, seed.chat_id)
    assert [t.prompt for t in result.turns] == ["create notes", "a different second turn"]
    assert result.turns[0].status is TurnStatus.SUCCEEDED  # found through the original task
    assert [(b.id, b.current, b.turns, b.forked_at_turn) for b in result.branches] == [
        (0, False, 3, None),
        (1, True, 2, 1),
    ]

    back = await restore.checkout(seed.chat_id, 0, CheckoutRequest())
    assert (back.branch_id, back.previous_branch_id, back.turn) == (0, 1, 3)
    old = await timeline(rt.db, seed.chat_id)
    assert [t.prompt for t in old.turns][-1] == "rewrite notes"


async def test_a_new_turn_after_restore_never_reuses_a_step_of_the_branch_left(
    rt: Runtime, seed: ChatSeed
) -> None:
    await _three_turns(seed)
    await restore.restore(seed.chat_id, RestoreRequest(turn=1))
    async with rt.db.session() as session:
        keys = dict(
            (
                await session.execute(
                    select(Message.step_key, Message.branch_id).where(
                        Message.chat_id == seed.chat_id, Message.step_key.is_not(None)
                    )
                )
            ).all()
        )
    assert "t2-llm0" not in keys and keys["~b0:t2-llm0"] == 0
    await seed.turn(2, "again")  # stores t2-llm1 anew: unique per chat, so it must be free


async def test_restore_is_refused_while_a_turn_runs_or_out_of_range(
    rt: Runtime, seed: ChatSeed
) -> None:
    await seed.turn(1, "one")
    await seed.turn(2, "two", status="running", finish=False)
    with pytest.raises(TurnInProgress):
        await restore.restore(seed.chat_id, RestoreRequest(turn=1))
    with pytest.raises(TurnInProgress):
        await restore.checkout(seed.chat_id, 0, CheckoutRequest())

    other = await ChatSeed(rt, seed.workspace).create()
    await other.turn(1, "one")
    with pytest.raises(restore.TurnOutOfRange, match="from 0 to 0"):
        await restore.restore(other.chat_id, RestoreRequest(turn=1))
    with pytest.raises(branches.BranchNotFound):
        await restore.checkout(other.chat_id, 7, CheckoutRequest())
    with pytest.raises(service.ChatNotFound):
        await restore.restore("nope", RestoreRequest(turn=0))


async def test_file_restore_puts_agent_files_back_but_never_a_file_the_user_changed(
    rt: Runtime, seed: ChatSeed, workspace: Path
) -> None:
    await _three_turns(seed)
    (workspace / "helper.py").write_text("the user's own edit\n")

    switch = await restore.restore(seed.chat_id, RestoreRequest(turn=1, restore_files=True))

    outcome = {f.path: (f.action, f.reason) for f in switch.files}
    assert outcome["notes.txt"] == (FileAction.RESTORED, None)
    assert outcome["helper.py"][0] is FileAction.SKIPPED
    assert "changed since the agent's last write" in (outcome["helper.py"][1] or "")
    assert (workspace / "notes.txt").read_text() == "v1\n"
    assert (workspace / "helper.py").read_text() == "the user's own edit\n"

    back = await restore.checkout(seed.chat_id, 0, CheckoutRequest(restore_files=True))

    outcome = {f.path: f.action for f in back.files}
    assert outcome == {"notes.txt": FileAction.RESTORED, "helper.py": FileAction.SKIPPED}
    assert (workspace / "notes.txt").read_text() == "v3\n"


async def test_file_restore_removes_a_file_the_agent_created_after_the_turn(
    rt: Runtime, seed: ChatSeed, workspace: Path
) -> None:
    await _three_turns(seed)
    (workspace / "helper.py").unlink()
    (workspace / "helper.py").write_text("h\n")  # same content as the agent wrote

    switch = await restore.restore(seed.chat_id, RestoreRequest(turn=1, restore_files=True))

    assert {f.path: f.action for f in switch.files} == {
        "helper.py": FileAction.DELETED,
        "notes.txt": FileAction.RESTORED,
    }
    assert not (workspace / "helper.py").exists()
    back = await restore.checkout(seed.chat_id, 0, CheckoutRequest(restore_files=True))
    assert {f.path: f.action for f in back.files} == {
        "helper.py": FileAction.RESTORED,
        "notes.txt": FileAction.RESTORED,
    }
    assert (workspace / "helper.py").read_text() == "h\n"


async def test_coder_pane_lists_touched_files_with_their_net_diff(
    rt: Runtime, seed: ChatSeed, workspace: Path
) -> None:
    await _three_turns(seed)
    (workspace / "helper.py").write_text("changed by hand\n")

    touched = await files.touched_files(rt.db, seed.chat_id)
    turn_3 = await files.touched_files(rt.db, seed.chat_id, turn=3)

    by_path = {f.path: f for f in touched.files}
    assert [f.path for f in touched.files] == ["notes.txt", "helper.py"]
    assert by_path["notes.txt"].writes == 3 and by_path["notes.txt"].last_turn == 3
    assert [f.path for f in turn_3.files] == ["notes.txt"]
    assert turn_3.files[0].diff.splitlines()[2:] == ["@@ -1 +1 @@", "-v2", "+v3"]
    assert by_path["notes.txt"].changed_since is False
    assert by_path["helper.py"].created is True and by_path["helper.py"].changed_since is True
    assert by_path["helper.py"].diff.startswith("--- /dev/null\n+++ b/helper.py\n")
