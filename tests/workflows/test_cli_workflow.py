"""`boocode workflow list | show | run` as a user types them, against the fake model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from support.fake_model import FakeModelServer, Reply
from support.processes import boocode_env, run_boocode

ASK_TWICE = """
// Asks the same question of two agents and returns both answers.
export const meta = {
  name: "ask-twice",
  description: "two agents answer one question",
  phases: [{ title: "ask", detail: "both at once" }],
}
phase("ask")
log(`question: ${args.q}`)
return await parallel([1, 2].map((n) => () => agent(args.q, { label: `agent ${n}` })))
"""


def respond(body: dict[str, Any]) -> Reply:
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return Reply.text(f"an answer to {prompt}")


def test_list_show_run_and_resume(
    tmp_path: Path, workspace: Path, fake_model: FakeModelServer
) -> None:
    (workspace / ".boocode" / "workflows").mkdir(parents=True)
    (workspace / ".boocode" / "workflows" / "ask-twice.js").write_text(ASK_TWICE)
    (workspace / ".boocode" / "workflows" / "Bad_Name.js").write_text(ASK_TWICE)
    fake_model.responder = respond
    env = boocode_env(tmp_path / "data", workspace, fake_model, HOME=str(tmp_path / "home"))

    listed = run_boocode("workflow", "list", env=env, cwd=workspace)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^  ask-twice +project +two agents answer one question$", listed.stdout, re.M)
    assert re.search(r"^  deep-research +builtin ", listed.stdout, re.M)
    assert re.search(r"^! Bad_Name ", listed.stdout, re.M)

    shown = run_boocode("workflow", "show", "ask-twice", env=env, cwd=workspace)
    assert shown.stdout.splitlines()[1:] == [
        "two agents answer one question",
        "  1. ask: both at once",
    ]
    missing = run_boocode("workflow", "show", "nope", env=env, cwd=workspace)
    assert missing.returncode == 1 and "nope" in missing.stderr

    first = run_boocode(
        "workflow", "run", "ask-twice", "--args", '{"q": "why?"}', env=env, cwd=workspace
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == ["an answer to why?", "an answer to why?"]
    assert "== ask" in first.stderr and "  question: why?" in first.stderr
    assert first.stderr.count(": succeeded") == 2
    run_id = re.search(r"^run: (\S+)$", first.stderr, re.M)[1]  # type: ignore[index]
    calls = len(fake_model.requests)

    again = run_boocode(
        "workflow",
        "run",
        "ask-twice",
        "--args",
        '{"q": "why?"}',
        "--resume",
        run_id,
        env=env,
        cwd=workspace,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert again.stderr.count("succeeded (cached)") == 2
    assert len(fake_model.requests) == calls

    bad = run_boocode("workflow", "run", "ask-twice", "--args", "{nope", env=env, cwd=workspace)
    assert bad.returncode == 2 and "not JSON" in bad.stderr

    huge = run_boocode(
        "workflow", "run", "ask-twice", "--budget", str(2**53), env=env, cwd=workspace
    )
    assert huge.returncode == 1
    assert huge.stderr.splitlines()[-1] == (
        "boocode: budget: Input should be less than or equal to 9007199254740991"
    )
    resumed = run_boocode(
        "workflow", "run", "ask-twice", "--resume", "wf-" + "x" * 80, env=env, cwd=workspace
    )
    assert resumed.returncode == 1 and "Traceback" not in resumed.stderr
    assert resumed.stderr.splitlines()[-1].startswith("boocode: resume_from: String should have")
