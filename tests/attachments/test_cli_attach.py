"""`boocode run --attach FILE`: files go with the prompt; the run ends with a cache summary."""

from __future__ import annotations

import base64
from pathlib import Path

from support.fake_model import FakeModelServer, Reply
from support.images import png
from support.processes import boocode_env, run_boocode


def test_run_attaches_files_and_prints_a_cache_summary(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    image = png(6, 6)
    (tmp_path / "shot.png").write_bytes(image)
    (tmp_path / "trace.log").write_text("ERROR boom\n")
    fake_model.script([Reply.text("Saw both."), Reply.text("Still here.")])
    # No model named: the endpoint's default model, gpt-4o-mini, sees images.
    env = boocode_env(tmp_path / "data", workspace, fake_model)

    first = run_boocode(
        "run",
        "look",
        "--attach",
        str(tmp_path / "shot.png"),
        "--attach",
        str(tmp_path / "trace.log"),
        env=env,
    )
    chat_id = first.stderr.split("chat: ", 1)[1].split()[0]
    second = run_boocode("run", "again", "--chat", chat_id, env=env)

    assert first.returncode == 0, first.stderr
    parts = fake_model.requests[0]["messages"][-1]["content"]
    assert (
        parts[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(image).decode()
    )
    assert parts[2]["text"] == '<file name="trace.log">\nERROR boom\n</file>'
    assert "[cache: turn 1 0% of " in first.stderr
    last_line = second.stderr.strip().splitlines()[-1]
    assert (
        last_line.startswith("[cache: turn 2 ") and "chat " in last_line and "saved $" in last_line
    )
    assert " 0% of " not in last_line


def test_run_refuses_an_unreadable_attachment_clearly(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    env = boocode_env(tmp_path / "data", workspace, fake_model)
    result = run_boocode("run", "look", "--attach", str(tmp_path / "missing.png"), env=env)
    assert result.returncode == 1
    assert (
        f"boocode: cannot read {tmp_path / 'missing.png'}: No such file or directory"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert fake_model.requests == []
