"""A cache break, produced on purpose, explained by the first changed segment and byte offset."""

from __future__ import annotations

from support.cache_session import two_turns_with_new_instructions
from support.fake_model import FakeModelServer, Reply, common_prefix_length
from support.live_server import LiveServer, frames_until, turn_ended


async def test_a_changed_system_prompt_is_named_with_the_byte_where_it_diverged(
    cache_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat_id = await two_turns_with_new_instructions(cache_server, fake_model)
    with cache_server.client() as http:
        stats = http.get(f"/api/chats/{chat_id}/cache-stats").json()

    first, second = stats["calls"]
    assert first["diagnosis"]["status"] == "cold"
    diagnosis = second["diagnosis"]
    assert diagnosis["status"] == "diverged" and diagnosis["broke"] is True
    assert (diagnosis["segment_index"], diagnosis["segment_kind"]) == (0, "system")
    # The offset is the one the model's own prefix cache found, not a guess.
    before, after = fake_model.prompts
    assert diagnosis["byte_offset"] == common_prefix_length(before, after)
    assert diagnosis["message"].startswith("the system prompt changed (system prompt)")
    assert f"at byte {diagnosis['byte_offset']}" in diagnosis["message"]
    assert second["cache_hit_tokens"] == diagnosis["byte_offset"] // 4
    assert [t["breaks"] for t in stats["turns"]] == [0, 1]


async def test_an_unchanged_request_that_missed_the_cache_blames_the_provider(
    cache_server: LiveServer, fake_model: FakeModelServer
) -> None:
    chat = cache_server.new_chat()
    cold = {"prompt_tokens": 500, "completion_tokens": 2, "prompt_cache_hit_tokens": 0}
    fake_model.script([Reply.text("one"), Reply.text("two", usage={**cold, "prompt_tokens": 600})])
    async with cache_server.async_client() as http, cache_server.ws(chat["id"]) as ws:
        for turn in (1, 2):
            url = f"/api/chats/{chat['id']}/messages"
            assert (await http.post(url, json={"content": f"hi {turn}"})).status_code == 202
            await frames_until(ws, turn_ended)
        stats = (await http.get(f"/api/chats/{chat['id']}/cache-stats")).json()
    diagnosis = stats["calls"][1]["diagnosis"]
    assert diagnosis == {
        "status": "expired",
        "broke": True,
        "message": "nothing changed on our side: likely the provider's cache expired",
        "segment_index": None,
        "segment_kind": None,
        "segment_label": None,
        "byte_offset": None,
    }


def test_cache_stats_of_an_unknown_chat_is_a_404(cache_server: LiveServer) -> None:
    with cache_server.client() as http:
        response = http.get("/api/chats/nope/cache-stats")
    assert response.status_code == 404
    assert response.json() == {"detail": "chat nope does not exist"}


async def test_the_demo_model_has_no_cache_to_break(live_server: LiveServer) -> None:
    chat_id = live_server.new_chat()["id"]
    async with live_server.ws(chat_id) as ws, live_server.async_client() as http:
        accepted = await http.post(f"/api/chats/{chat_id}/messages", json={"content": "hi"})
        assert accepted.status_code == 202
        await frames_until(ws, turn_ended)
        stats = (await http.get(f"/api/chats/{chat_id}/cache-stats")).json()
    calls = stats["calls"]
    assert len(calls) >= 2  # the demo model makes several calls in a turn
    assert [call["diagnosis"]["broke"] for call in calls] == [False] * len(calls)
    assert {call["diagnosis"]["status"] for call in calls[1:]} == {"intact"}
