"""The model request of one LLM step, built once with its segments so both go out together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boocode.agent.history import messages_after
from boocode.agent.prompt import project_instructions, system_prompt
from boocode.agent.runtime import Runtime
from boocode.attachments.parts import provider_message
from boocode.attachments.records import attachment_reference
from boocode.attachments.store import BlobStore
from boocode.attachments.vision import accepts_images
from boocode.cache.diagnosis import PreviousCall
from boocode.cache.segments import Segment, head_segments, message_segments
from boocode.db.tables import Chat
from boocode.providers import ChatModel

MAIN_CONVERSATION = "main"


@dataclass
class History:
    """A run's conversation as it goes into its model requests, kept between its model calls.

    While a run goes on its branch only grows (a restore waits for the run's end), so each
    request reads only the messages stored after the last one the previous request saw.
    """

    turn: int
    images: bool
    last_id: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    attachments: list[list[dict[str, Any]]] = field(default_factory=list)
    # The run's latest recorded call (`boocode.cache.recorder`), which the next is compared with.
    last_call: RecordedCall | None = None


@dataclass(frozen=True)
class RecordedCall(PreviousCall):
    """A call as the recorder stored it: what the next call is compared with, and its row."""

    shape_id: int


@dataclass(frozen=True)
class ModelRequest:
    chat_id: str
    turn: int
    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    segments: list[Segment]
    # Per message, the attachments its parts carry (by reference), for the call's trace.
    attachments: list[list[dict[str, Any]]] = field(default_factory=list)
    conversation: str = MAIN_CONVERSATION
    # The offline demo model has no prompt cache: its misses are no cache breaks.
    provider_caches: bool = True
    # The conversation as read for this request, for the run's next one (`build_model_request`).
    history: History | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return sum(segment.size for segment in self.segments)


async def build_model_request(
    rt: Runtime, chat: Chat, model: ChatModel, turn: int, history: History | None = None
) -> ModelRequest:
    """System prompt, tool schemas, then the stored conversation with its attachments as parts.

    Everything in it comes from stored, unchanging data, so the request before it (same chat,
    same branch) is a byte-identical prefix of it. `history`: what the run's earlier requests
    read, brought up to date here.
    """
    workspace = Path(chat.workspace)
    images = accepts_images(model.name, is_demo=model.is_demo, configured=rt.settings.vision_models)
    if history is None or (history.turn, history.images) != (turn, images):
        history = History(turn, images)
    await _catch_up(rt, chat, history)
    prompt = system_prompt(chat.workspace, project_instructions(workspace), chat.system_prompt)
    system = {"role": "system", "content": prompt}
    tools = rt.tool_schemas(chat)
    return ModelRequest(
        chat.id,
        turn,
        model.name,
        [system, *history.messages],
        tools,
        head_segments(system, tools) + history.segments,
        [[], *history.attachments],
        provider_caches=not model.is_demo,
        history=history,
    )


async def _catch_up(rt: Runtime, chat: Chat, history: History) -> None:
    """Append to `history` the chat's messages stored since it was last brought up to date."""
    store = BlobStore(rt.settings.attachment_store_dir)
    for row in await messages_after(rt.db, chat.id, chat.branch_id, history.last_id):
        message = provider_message(row, store, images=history.images)
        history.messages.append(message)
        history.segments += message_segments(message, row, history.turn)
        records = row.attachments if row.role == "user" and row.attachments else []
        history.attachments.append([attachment_reference(chat.id, record) for record in records])
        history.last_id = row.id
