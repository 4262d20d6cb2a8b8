"""Paging through a chat's traces: every row exactly once, newest first, under every filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from boocode.contracts.traces import TraceKind, TraceOutcome, TraceQuery
from boocode.db.engine import Database
from boocode.db.tables import ToolTrace
from boocode.events.log import EventLog
from boocode.traces import query

from .conftest import add_chat

TOOLS = ["read_file", "grep", "run_command"]
OUTCOMES = ["ok", "ok", "error", "timeout", "cancelled", "interrupted", "running"]


def _rows(chat_id: str, count: int) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        kind = "llm" if i % 5 == 0 else ("autofix" if i % 17 == 0 else "tool")
        rows.append(
            {
                "chat_id": chat_id,
                "session_id": f"run-{i // 20}",
                "turn_number": i // 20 + 1,
                "kind": kind,
                "tool_name": "fake-model" if kind == "llm" else TOOLS[i % 3],
                "input": {"i": i},
                "output": f"out {i}",
                "started_at": start + timedelta(seconds=i),
                "outcome": OUTCOMES[i % len(OUTCOMES)],
            }
        )
    return rows


async def _seed(db: Database, rows: list[dict[str, Any]]) -> None:
    async with db.session() as session, session.begin():
        await session.execute(insert(ToolTrace), rows)


async def _all_pages(db: Database, chat_id: str, **filters: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await query.list_traces(db, chat_id, TraceQuery(limit=7, cursor=cursor, **filters))
        assert len(page.items) <= 7
        seen += [item.model_dump(mode="json") for item in page.items]
        if page.next_cursor is None:
            return seen
        assert len(page.items) == 7
        cursor = page.next_cursor


async def test_pagination_reaches_the_end_with_no_row_missing_or_repeated(
    events: EventLog,
) -> None:
    chat_id, other = await add_chat(events.db), await add_chat(events.db)
    await _seed(events.db, _rows(chat_id, 203) + _rows(other, 30))
    listed = await _all_pages(events.db, chat_id)
    ids = [item["id"] for item in listed]
    assert len(ids) == 203 and len(set(ids)) == 203
    assert ids == sorted(ids, reverse=True)
    assert {item["chat_id"] for item in listed} == {chat_id}
    assert listed[-1]["input"] == {"i": 0} and listed[0]["output"] == "out 202"


FILTERS: list[dict[str, Any]] = [
    {"turn": 3},
    {"kind": TraceKind.LLM},
    {"kind": TraceKind.AUTOFIX},
    {"tool_name": "grep"},
    {"outcome": TraceOutcome.ERROR},
    {"outcome": TraceOutcome.RUNNING},
    {"turn": 2, "kind": TraceKind.TOOL, "outcome": TraceOutcome.OK},
    {"tool_name": "run_command", "outcome": TraceOutcome.INTERRUPTED},
]


@pytest.mark.parametrize(
    "filters", FILTERS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items())
)
async def test_every_filter_pages_to_exactly_the_matching_rows(
    events: EventLog, filters: dict[str, Any]
) -> None:
    chat_id = await add_chat(events.db)
    seeded = _rows(chat_id, 160)
    await _seed(events.db, seeded)
    column = {"turn": "turn_number", "kind": "kind", "tool_name": "tool_name", "outcome": "outcome"}
    expected = [
        row["input"]["i"]
        for row in seeded
        if all(row[column[key]] == value for key, value in filters.items())
    ]
    listed = await _all_pages(events.db, chat_id, **filters)
    assert expected, "the seed covers every filter"
    assert [item["input"]["i"] for item in listed] == list(reversed(expected))


async def test_a_chat_without_traces_has_an_empty_page_an_unknown_chat_is_not_found(
    events: EventLog,
) -> None:
    chat_id = await add_chat(events.db)
    page = await query.list_traces(events.db, chat_id, TraceQuery())
    assert page.items == [] and page.next_cursor is None
    with pytest.raises(query.ChatNotFound):
        await query.list_traces(events.db, "no-such-chat", TraceQuery())
    with pytest.raises(query.ChatNotFound):
        await query.get_trace(events.db, "no-such-chat", 1)
    with pytest.raises(query.TraceNotFound):
        await query.get_trace(events.db, chat_id, 10**12)


def test_query_parameters_are_checked() -> None:
    from pydantic import ValidationError

    for bad in (
        {"limit": 0},
        {"limit": 501},
        {"cursor": "abc"},
        {"cursor": "0"},
        {"turn": -1},
        {"kind": "bogus"},
        {"outcome": "fine"},
        {"tool_name": ""},
        {"colour": "red"},
    ):
        with pytest.raises(ValidationError):
            TraceQuery.model_validate(bad)
    assert TraceQuery().limit == 50
