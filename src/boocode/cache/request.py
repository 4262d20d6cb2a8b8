"""The model request of one LLM step, built once with its segments so both go out together."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boocode.agent.history import load_messages
from boocode.agent.prompt import project_instructions, system_prompt
from boocode.agent.runtime import Runtime
from boocode.attachments.parts import provider_message
from boocode.attachments.records import attachment_reference
from boocode.attachments.store import BlobStore
from boocode.attachments.vision import accepts_images
from boocode.cache.segments import Segment, head_segments, message_segments
from boocode.db.tables import Chat
from boocode.providers import ChatModel

MAIN_CONVERSATION = "main"


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

    @property
    def size(self) -> int:
        return sum(segment.size for segment in self.segments)


async def build_model_request(rt: Runtime, chat: Chat, model: ChatModel, turn: int) -> ModelRequest:
    """System prompt, tool schemas, then the stored conversation with its attachments as parts.

    Everything in it comes from stored, unchanging data, so the request before it (same chat,
    same branch) is a byte-identical prefix of it.
    """
    workspace = Path(chat.workspace)
    store = BlobStore(rt.settings.attachment_store_dir)
    images = accepts_images(model.name, is_demo=model.is_demo, configured=rt.settings.vision_models)
    prompt = system_prompt(chat.workspace, project_instructions(workspace), chat.system_prompt)
    system = {"role": "system", "content": prompt}
    tools = rt.tool_schemas(chat)
    messages = [system]
    segments = head_segments(system, tools)
    attachments: list[list[dict[str, Any]]] = [[]]
    for row in await load_messages(rt.db, chat.id, chat.branch_id):
        message = provider_message(row, store, images=images)
        messages.append(message)
        segments += message_segments(message, row, turn)
        records = row.attachments if row.role == "user" and row.attachments else []
        attachments.append([attachment_reference(chat.id, record) for record in records])
    return ModelRequest(
        chat.id,
        turn,
        model.name,
        messages,
        tools,
        segments,
        attachments,
        provider_caches=not model.is_demo,
    )
