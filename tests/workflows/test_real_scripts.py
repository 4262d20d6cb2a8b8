"""Scripts written the way public Claude Code workflows are (scripts/*.js), loaded and run whole.

Each leans on what real scripts use: args given as a string or an object, helpers declared
after their use, `??=` and `?.`, schemas with agentType and model, parallel inside pipeline
stages, `.then` on agent(), budget wind-down, and the default-export forms.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import JsonValue

from boocode.workflows.host import AgentOptions
from boocode.workflows.limits import ScriptLimits
from boocode.workflows.outcome import ScriptStatus
from boocode.workflows.sandbox import run_script
from boocode.workflows.script import Script, load_script
from workflows.recording_host import TEST_LIMITS, RecordingHost

SCRIPTS = Path(__file__).parent / "scripts"


def script(file_name: str) -> Script:
    path = SCRIPTS / file_name
    return load_script(path.read_text(), name=path.stem)


async def test_a_rename_sweep_fans_out_per_package_then_gates_the_build() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        if options.label == "gate:build":
            return {"passes": True, "output": "ok"}
        match = re.search(r"at (\S+):(\d+)\.", prompt)
        assert match is not None
        if match[2] == "9":
            return {"path": match[1], "edited": False, "reason": "a different fetchUser"}
        return {"path": match[1], "edited": True, "reason": None}

    host = RecordingHost(answer)
    sites = [
        {"path": "api/users.ts", "line": 3},
        {"path": "api/auth.ts", "line": 9},
        {"path": "web/profile.ts", "line": 12},
        {"path": "gen/client.ts", "line": 1},
    ]
    args = json.dumps(
        {"from": "fetchUser", "to": "loadUser", "sites": sites, "build": "make check"}
    )

    outcome = await run_script(script("rename-sweep.js"), args, host, ScriptLimits(**TEST_LIMITS))

    assert outcome.status == ScriptStatus.SUCCEEDED, outcome.error
    assert outcome.result == {
        "passes": True,
        "edited": ["api/users.ts", "web/profile.ts"],
        "declined": [{"path": "api/auth.ts", "reason": "a different fetchUser"}],
        "skipped": [{"path": "gen/client.ts", "line": 1, "reason": "generated code"}],
    }
    assert ("log", "Plan: 4 sites in 2 packages, 1 skipped") in host.events
    assert {options.agent_type for _, options in host.agents} == {"editor", None}


async def test_a_judge_panel_takes_string_args_and_winds_down_on_its_budget() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        if options.label and options.label.startswith("answer:"):
            return f"an answer to {prompt}"
        judge = re.search(r'Judge #(\d+): score 0-10 this answer to "(\w+)"', prompt)
        assert judge is not None and options.model == "small"
        if judge[2] == "gamma" and judge[1] == "3":
            return None
        return {"score": len(judge[2]) + int(judge[1]), "note": None}

    host = RecordingHost(answer, tokens_per_agent=100)
    limits = ScriptLimits(**TEST_LIMITS, budget_tokens=2500)

    outcome = await run_script(
        script("judge-panel.js"), "alpha, beta, gamma --rounds 2", host, limits
    )

    assert outcome.status == ScriptStatus.SUCCEEDED, outcome.error
    assert outcome.result == {
        "results": [
            {"round": 1, "question": "alpha", "score": 7, "spread": 2},
            {"round": 1, "question": "beta", "score": 6, "spread": 2},
            {"round": 1, "question": "gamma", "score": 6.5, "spread": 1},
        ],
        "best": {"question": "alpha", "score": 7},
        "spent": 1200,
    }
    assert [event for event in host.events if event[0] != "agent"] == [
        ("phase", "Round 1"),
        ("log", "◆ round 1: 3 questions scored"),
        ("log", "⏹ winding down before round 2 (1300 tokens left)"),
        ("phase", "Report"),
    ]


async def test_a_doc_audit_pipes_areas_through_scan_and_a_skeptic_vote() -> None:
    findings: dict[str, JsonValue] = {
        "docs/api": [
            {"file": "docs/api/auth.md", "claim": "uses v1 tokens", "severity": "high"},
            {"file": "docs/api/auth.md", "claim": "a typo", "severity": "low"},
        ],
        "docs/guide": [
            {"file": "docs/guide/setup.md", "claim": "needs node 14", "severity": "medium"}
        ],
        "README": "not a list",
    }

    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        assert options.label is not None
        kind, area, *rest = options.label.split(":")
        if kind == "scan":
            return findings[area]
        file, skeptic = rest
        if file.endswith("auth.md"):
            return {"verdicts": [{"index": 0, "verdict": "stale"}]}
        if skeptic == "3":
            raise RuntimeError("the skeptic crashed")
        return {"verdicts": [{"index": 0, "verdict": "stale" if skeptic == "1" else "fine"}]}

    host = RecordingHost(answer)
    args: JsonValue = {"directories": ["docs/guide", "README", "docs/api", "docs/api"], "issue": 42}

    outcome = await run_script(script("doc-audit.js"), args, host, ScriptLimits(**TEST_LIMITS))

    assert outcome.status == ScriptStatus.SUCCEEDED, outcome.error
    assert outcome.result == {
        "issue": 42,
        "stale": ["docs/api/auth.md"],
        "needsHuman": ["docs/guide/setup.md"],
    }
    assert {(options.agent_type, options.phase) for _, options in host.agents} == {
        ("doc-scanner", "Scan"),
        ("doc-skeptic", "Verify"),
    }


async def test_whales_form_runs_main_with_the_args() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        return "3" if prompt.endswith("a.py") else "0"

    loaded = script("whale-count.js")
    outcome = await run_script(
        loaded, {"files": ["a.py", "b.py"]}, RecordingHost(answer), ScriptLimits(**TEST_LIMITS)
    )

    assert loaded.name == "whale-count"
    assert outcome.result == {"a.py": 3, "b.py": 0}
