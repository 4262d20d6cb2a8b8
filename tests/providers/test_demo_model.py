import json
from pathlib import Path
from typing import Any

from boocode.providers import DemoModel, ModelResponse

TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("list_files", "read_file", "run_command", "write_file")
]
TOOL_RESULTS = {
    "list_files": "README.md\nsetup.py\nsrc/",
    "read_file": "    1\t# Boo project\n    2\t\n    3\tA test workspace.\n",
    "run_command": "exit code: 0 (12 ms)\nPython 3.11.2\n",
}


class Turn:
    """Plays one user turn against the demo model, answering tool calls from TOOL_RESULTS."""

    def __init__(self, model: DemoModel, user_content: Any = "What is this project?") -> None:
        self.model = model
        self.messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are BooCode."},
            {"role": "user", "content": user_content},
        ]
        self.responses: list[ModelResponse] = []
        self.deltas: list[tuple[str, str]] = []

    async def record(self, kind: str, text: str) -> None:
        self.deltas.append((kind, text))

    async def play(self, tools: list[dict[str, Any]] = TOOLS) -> "Turn":
        while len(self.responses) < 10:
            response = await self.model.complete(self.messages, tools, self.record)
            self.responses.append(response)
            self.messages.append(response.to_message())
            if not response.tool_calls:
                break
            for call in response.tool_calls:
                self.messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": TOOL_RESULTS[call.name]}
                )
        return self

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (call.name, json.loads(call.arguments))
            for response in self.responses
            for call in response.tool_calls
        ]

    @property
    def answer(self) -> str:
        return self.responses[-1].content


def _workspace(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hi')\n")
    (tmp_path / "setup.py").write_text("from setuptools import setup\n")
    (tmp_path / "README.md").write_text("# Boo project\n\nA test workspace.\n")
    return tmp_path


async def test_demo_runs_four_steps_and_summarises_what_it_saw(tmp_path: Path) -> None:
    turn = await Turn(DemoModel(_workspace(tmp_path), delay_s=0)).play()

    assert turn.calls == [
        ("list_files", {"path": ".", "recursive": False}),
        ("read_file", {"path": "README.md"}),
        ("run_command", {"argv": ["python3", "--version"]}),
    ]
    assert [r.finish_reason for r in turn.responses] == ["tool_calls"] * 3 + ["stop"]
    assert turn.responses[0].reasoning == "Looking at the project layout first."
    assert "offline demo model" in turn.answer
    assert "3 entries" in turn.answer
    assert '"# Boo project"' in turn.answer
    assert '"Python 3.11.2"' in turn.answer
    assert "BOOCODE_API_KEY" in turn.answer
    assert "DEEPSEEK_API_KEY" in turn.answer
    assert "".join(text for kind, text in turn.deltas if kind == "text") == turn.answer
    assert [kind for kind, _ in turn.deltas].count("text") == len(turn.answer.split())
    first_usage = turn.responses[0].usage
    assert first_usage.prompt_tokens > 0
    assert first_usage.cache_hit_tokens == 0


async def test_demo_is_deterministic_across_replays(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path)

    first = await Turn(DemoModel(workspace, delay_s=0)).play()
    second = await Turn(DemoModel(workspace, delay_s=0)).play()

    assert first.messages == second.messages
    assert first.deltas == second.deltas
    call_ids = [call.id for response in first.responses for call in response.tool_calls]
    assert len(set(call_ids)) == 3
    assert all(call_id.startswith("demo-") for call_id in call_ids)


async def test_without_a_readme_the_first_text_file_is_read_root_first(tmp_path: Path) -> None:
    (tmp_path / ".hidden").write_text("secret\n")
    (tmp_path / "a.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("notes\n")
    (tmp_path / "c.txt").write_text("c\n")

    model = DemoModel(tmp_path, delay_s=0)

    assert ("read_file", {"path": "c.txt"}) in (await Turn(model).play()).calls
    (tmp_path / "c.txt").unlink()
    assert ("read_file", {"path": "b/notes.txt"}) in (await Turn(model).play()).calls


async def test_an_empty_workspace_skips_reading(tmp_path: Path) -> None:
    turn = await Turn(DemoModel(tmp_path, delay_s=0)).play()

    assert [name for name, _ in turn.calls] == ["list_files", "run_command"]
    assert "first line" not in turn.answer


async def test_tools_that_are_not_offered_are_not_called(tmp_path: Path) -> None:
    turn = await Turn(DemoModel(_workspace(tmp_path), delay_s=0)).play(tools=[])

    assert turn.calls == []
    assert "offline demo model" in turn.answer


async def test_an_attached_image_is_mentioned(tmp_path: Path) -> None:
    content = [
        {"type": "text", "text": "What is in this screenshot?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]

    turn = await Turn(DemoModel(tmp_path, delay_s=0), content).play()

    assert "image" in turn.answer
    assert "What is in this screenshot?" in turn.answer


async def test_a_new_user_message_starts_the_steps_again(tmp_path: Path) -> None:
    model = DemoModel(_workspace(tmp_path), delay_s=0)
    turn = await Turn(model).play()
    turn.messages.append({"role": "user", "content": "And again?"})
    turn.responses.clear()

    await turn.play()

    assert [name for name, _ in turn.calls] == ["list_files", "read_file", "run_command"]
