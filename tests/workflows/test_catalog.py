"""The built-in catalog's workflows, loaded and run in the real sandbox against a scripted host
that answers each agent by its label (structured objects where the script gives a schema)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import JsonValue

from boocode.workflows.discovery import CATALOG_DIR
from boocode.workflows.host import AgentOptions
from boocode.workflows.limits import ScriptLimits
from boocode.workflows.outcome import ScriptOutcome, ScriptStatus
from boocode.workflows.sandbox import run_script
from boocode.workflows.script import Script, load_script
from workflows.recording_host import TEST_LIMITS, Answer, RecordingHost


def catalog_script(name: str) -> Script:
    return load_script((CATALOG_DIR / f"{name}.js").read_text(), name=name)


async def run_catalog(
    name: str, args: JsonValue, answer: Answer, *, tokens_per_agent: int = 0, **limits: Any
) -> tuple[ScriptOutcome, RecordingHost]:
    host = RecordingHost(answer, tokens_per_agent=tokens_per_agent)
    # Enough agents at once for every fan-out to be seen running together on a 2-core machine.
    all_limits = TEST_LIMITS | {"max_concurrent_agents": 8} | limits
    outcome = await run_script(catalog_script(name), args, host, ScriptLimits(**all_limits))
    assert outcome.status == ScriptStatus.SUCCEEDED, outcome.error
    return outcome, host


async def failure_of(name: str, args: JsonValue) -> str | None:
    """The error of a catalog workflow that fails before it starts any agent."""
    host = RecordingHost()
    outcome = await run_script(catalog_script(name), args, host, ScriptLimits(**TEST_LIMITS))
    assert outcome.status == ScriptStatus.FAILED and host.agents == []
    return outcome.error


def labels(host: RecordingHost) -> list[str]:
    return [options.label or "" for _, options in host.agents]


def phases(host: RecordingHost) -> list[str]:
    return [title for kind, title in host.events if kind == "phase"]


class Gathering:
    """Holds each agent until `count` of them are running: passes only if they run at once."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.arrived = 0
        self.all_here = asyncio.Event()

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived == self.count:
            self.all_here.set()
        await asyncio.wait_for(self.all_here.wait(), 10)


SUB_QUESTIONS = ["Where are requests routed?", "How is the session opened?", "Who commits?"]


async def test_deep_research_plans_investigates_in_parallel_and_synthesises() -> None:
    investigators = Gathering(len(SUB_QUESTIONS))

    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        if options.label == "plan":
            assert options.output_schema is not None
            return {"questions": [*SUB_QUESTIONS, SUB_QUESTIONS[0]]}
        if options.label == "synthesize":
            assert "Who commits?" not in prompt  # its investigator failed
            return "Requests go through app/routes.py:12 to db/session.py:40."
        await investigators.wait()
        if "Who commits?" in prompt:
            raise RuntimeError("the investigator crashed")
        return f"found it for: {prompt.splitlines()[-3]}"

    outcome, host = await run_catalog(
        "deep-research", "How does a request reach the database?", answer
    )

    assert phases(host) == ["Plan", "Investigate", "Synthesize"]
    assert labels(host) == ["plan", "investigate:1", "investigate:2", "investigate:3", "synthesize"]
    assert [options.agent_type for _, options in host.agents[:4]] == ["Explore"] * 4
    assert host.most_running == 3
    assert outcome.result == {
        "question": "How does a request reach the database?",
        "answer": "Requests go through app/routes.py:12 to db/session.py:40.",
        "findings": [
            {
                "question": SUB_QUESTIONS[0],
                "answer": f"found it for: Your part: {SUB_QUESTIONS[0]}",
            },
            {
                "question": SUB_QUESTIONS[1],
                "answer": f"found it for: Your part: {SUB_QUESTIONS[1]}",
            },
            {"question": SUB_QUESTIONS[2], "answer": None},
        ],
    }


async def test_deep_research_investigates_the_question_whole_when_the_plan_is_lost() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        return None if options.label in {"plan", "synthesize"} else "an answer"

    outcome, host = await run_catalog("deep-research", {"question": "Why two caches?"}, answer)

    assert labels(host) == ["plan", "investigate:1", "synthesize"]
    assert outcome.result == {
        "question": "Why two caches?",
        "answer": None,
        "findings": [{"question": "Why two caches?", "answer": "an answer"}],
    }
    assert ("log", "⚠ no plan came back: investigating the question whole") in host.events


async def test_deep_research_starts_no_investigator_without_budget_for_the_answer() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        return {"questions": SUB_QUESTIONS}

    outcome, host = await run_catalog(
        "deep-research", "q?", answer, tokens_per_agent=10_000, budget_tokens=25_000
    )

    assert labels(host) == ["plan"]
    assert isinstance(outcome.result, dict) and outcome.result["answer"] is None
    assert ("log", "⏹ 15000 tokens left: no investigation started") in host.events


async def test_deep_research_without_a_question_fails_saying_what_it_needs() -> None:
    assert await failure_of("deep-research", {}) == (
        "Error: deep-research needs a question: args.question, or args as a string (line 27)"
    )


def finding(file: str, line: int | None, severity: str, claim: str) -> dict[str, JsonValue]:
    return {"file": file, "line": line, "severity": severity, "claim": claim}


async def test_multi_review_verifies_each_finding_and_keeps_the_confirmed() -> None:
    reviews: dict[str, JsonValue] = {
        "review:correctness": {
            "findings": [
                finding("app.py", 3, "low", "off by one"),
                finding("app.py", 9, "high", "None not handled"),
            ]
        },
        "review:security": {"findings": [finding("auth.py", None, "medium", "token logged")]},
    }
    verdicts = {"off by one": "confirmed", "None not handled": "confirmed", "token logged": None}
    correctness_verified = asyncio.Event()

    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        label = options.label or ""
        if label == "review:tests":
            raise RuntimeError("the reviewer crashed")
        if label == "review:security":
            # No barrier between stages: correctness findings are verified before this returns.
            await asyncio.wait_for(correctness_verified.wait(), 10)
        if label.startswith("review:"):
            assert "git diff HEAD" in prompt and options.output_schema is not None
            return reviews[label]
        assert options.phase == "Verify"
        if label.startswith("verify:correctness"):
            correctness_verified.set()
        claim = next(claim for claim in verdicts if claim in prompt)
        verdict = verdicts[claim]
        return verdict and {"verdict": verdict, "reason": f"checked: {claim}"}

    outcome, host = await run_catalog("multi-review", None, answer)

    assert sorted(labels(host)) == [
        "review:correctness",
        "review:security",
        "review:tests",
        "verify:correctness:app.py:3",
        "verify:correctness:app.py:9",
        "verify:security:auth.py",
    ]
    assert outcome.result == {
        "base": "HEAD",
        "confirmed": [
            {**finding("app.py", 9, "high", "None not handled"), "focus": "correctness",
             "verdict": "confirmed", "reason": "checked: None not handled"},
            {**finding("app.py", 3, "low", "off by one"), "focus": "correctness",
             "verdict": "confirmed", "reason": "checked: off by one"},
        ],
        "refuted": 0,
        "unverified": [{**finding("auth.py", None, "medium", "token logged"), "focus": "security"}],
        "failedReviewers": ["tests"],
    }  # fmt: skip


async def test_multi_review_takes_a_base_and_a_focus_and_counts_refuted_findings() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        if options.label == "review:security":
            assert "git diff main" in prompt
            return {"findings": [finding("a.py", 1, "high", "x"), finding("b.py", 2, "low", "y")]}
        return {"verdict": "refuted", "reason": "handled in the caller"}

    outcome, host = await run_catalog(
        "multi-review", {"base": "main", "focus": ["security"]}, answer
    )

    assert len(host.agents) == 3
    assert outcome.result == {
        "base": "main",
        "confirmed": [],
        "refuted": 2,
        "unverified": [],
        "failedReviewers": [],
    }


async def test_multi_review_refuses_a_base_that_is_not_a_git_ref() -> None:
    assert await failure_of("multi-review", "main; rm -rf ~") == (
        "Error: multi-review diffs against a git ref, not: main; rm -rf ~ (line 49)"
    )


async def test_multi_review_leaves_findings_unverified_when_the_budget_runs_low() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        return {"findings": [finding("a.py", 1, "high", f"from {options.label}")]}

    outcome, host = await run_catalog(
        "multi-review", None, answer, tokens_per_agent=1_000, budget_tokens=5_000
    )

    assert all((options.label or "").startswith("review:") for _, options in host.agents)
    assert isinstance(outcome.result, dict)
    assert len(outcome.result["unverified"]) == 3


FAILING = [f"tests/test_{name}.py" for name in ("a", "b", "c", "d", "e")]


def fixing_answer(failing: list[str], fixers: Gathering | None = None) -> Answer:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        if options.label == "run-tests":
            return {
                "command": "pytest -q",
                "failing": [
                    {"file": file, "tests": ["test_x"], "error": "boom"} for file in failing
                ],
            }
        if options.label == "summarize":
            return "two fixed, one not"
        assert options.isolation == "worktree"
        if fixers is not None:
            await fixers.wait()
        if options.label == "fix:tests/test_b.py":
            return None
        return {"fixed": True, "diagnosis": "stale fixture", "change": "updated the fixture"}

    return answer


async def test_fix_failing_tests_fixes_each_file_in_its_worktree_in_batches() -> None:
    outcome, host = await run_catalog(
        "fix-failing-tests", {"maxFiles": 5}, fixing_answer(FAILING, Gathering(4))
    )

    assert phases(host) == ["Run", "Fix", "Summarize"]
    assert labels(host) == ["run-tests", *(f"fix:{file}" for file in FAILING), "summarize"]
    assert host.most_running == 4  # a batch of four, then one
    assert isinstance(outcome.result, dict)
    assert outcome.result["command"] == "pytest -q"
    assert outcome.result["summary"] == "two fixed, one not"
    assert outcome.result["unattempted"] == []
    assert outcome.result["fixes"][1] == {
        "file": "tests/test_b.py",
        "fixed": False,
        "diagnosis": None,
        "change": None,
    }


async def test_fix_failing_tests_stops_starting_fixers_when_the_budget_runs_low() -> None:
    outcome, host = await run_catalog(
        "fix-failing-tests",
        "make test",
        fixing_answer(FAILING),
        tokens_per_agent=10_000,
        budget_tokens=75_000,
    )

    assert labels(host)[-1] == "summarize"
    assert len(host.agents) == 6  # the run, one batch of four fixers, the summary
    assert isinstance(outcome.result, dict)
    assert outcome.result["unattempted"] == ["tests/test_e.py"]
    assert "Run the tests with `make test`." in host.agents[0][0]


async def test_fix_failing_tests_stops_early_when_nothing_fails_or_nothing_is_reported() -> None:
    passing, host = await run_catalog("fix-failing-tests", None, fixing_answer([]))
    lost, _ = await run_catalog("fix-failing-tests", None, lambda_none)

    assert len(host.agents) == 1
    assert passing.result == {
        "command": "pytest -q",
        "failing": [],
        "fixes": [],
        "unattempted": [],
        "summary": "Every test passes.",
    }
    assert lost.result == {
        "command": None,
        "failing": [],
        "fixes": [],
        "unattempted": [],
        "summary": None,
    }


async def lambda_none(prompt: str, options: AgentOptions) -> JsonValue:
    return None
