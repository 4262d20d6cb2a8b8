import contextlib

import httpx

from boocode.providers import OpenAICompatModel
from support.fake_model import DEFAULT_TEXT, FakeModelServer, Reply

USER = [{"role": "user", "content": "hi"}]


async def test_an_exhausted_script_falls_back_to_the_responder_then_default(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    fake_model.script([Reply.text("scripted")])

    assert (await model.complete(USER, [])).content == "scripted"
    assert (await model.complete(USER, [])).content == DEFAULT_TEXT

    fake_model.responder = lambda request: Reply.text(f"{len(request['messages'])} messages")
    assert (await model.complete(USER * 2, [])).content == "2 messages"


async def test_requests_are_recorded_and_reset(
    fake_model: FakeModelServer, model: OpenAICompatModel
) -> None:
    await model.complete(USER, [])

    assert fake_model.requests[0]["messages"] == USER
    assert fake_model.raw_requests[0].startswith(b"{")

    fake_model.reset()
    assert fake_model.requests == []
    assert fake_model.raw_requests == []


def test_a_wrong_key_gets_an_openai_style_401(fake_model: FakeModelServer) -> None:
    response = httpx.post(
        f"{fake_model.base_url}/chat/completions",
        json={"model": "m", "messages": USER},
        headers={"Authorization": "Bearer nope"},
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_the_server_stops_promptly_during_a_delayed_reply() -> None:
    with FakeModelServer() as server:
        server.script([Reply.text("late", delay_s=30)])
        with contextlib.suppress(httpx.TimeoutException):
            httpx.post(
                f"{server.base_url}/chat/completions",
                json={"model": "m", "messages": USER},
                headers={"Authorization": f"Bearer {server.api_key}"},
                timeout=0.2,
            )
    assert len(server.requests) == 1
