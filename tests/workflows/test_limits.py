"""Limits that end in an explicit error, never a silent truncation; errors that name their line."""

from __future__ import annotations

import asyncio

from pydantic import JsonValue

from boocode.workflows.host import AgentOptions
from boocode.workflows.limits import ScriptLimits
from boocode.workflows.outcome import ScriptStatus
from workflows.recording_host import ERRORS_OF, RecordingHost, run


async def test_parallel_and_pipeline_take_4096_items_and_refuse_more() -> None:
    outcome = await run(
        ERRORS_OF
        + """
const thunks = Array.from({ length: 4096 }, (_, i) => () => i)
const all = await parallel(thunks)
const piped = await pipeline(Array.from({ length: 4096 }, (_, i) => i), (x) => x * 2)
return {
  parallel: all.length,
  pipeline: piped[4095],
  tooManyThunks: await errorOf(() => parallel([...thunks, () => 1])),
  tooManyItems: await errorOf(() => pipeline(Array(5000).fill(0), (x) => x)),
}
"""
    )

    assert outcome.result == {
        "parallel": 4096,
        "pipeline": 8190,
        "tooManyThunks": "RangeError: parallel() takes at most 4,096 functions per call, "
        "got 4,097; split the work into batches",
        "tooManyItems": "RangeError: pipeline() takes at most 4,096 items per call, "
        "got 5,000; split the work into batches",
    }


async def test_a_run_may_call_agent_1000_times() -> None:
    host = RecordingHost()
    outcome = await run(
        ERRORS_OF
        + """
const answers = await parallel(Array.from({ length: 1001 }, (_, i) => () => agent(`item ${i}`)))
return {
  answered: answers.filter((a) => a !== null).length,
  refused: answers.indexOf(null),
  next: await errorOf(() => agent('one more')),
}
""",
        host=host,
        max_concurrent_agents=8,
    )

    assert outcome.result == {
        "answered": 1000,
        "refused": 1000,
        "next": "Error: a workflow run may call agent() at most 1,000 times",
    }
    assert len(host.agents) == 1000


async def test_agent_throws_once_the_budget_is_spent() -> None:
    host = RecordingHost(tokens_per_agent=10)
    outcome = await run(
        ERRORS_OF
        + """
const seen = []
for (const step of ['plan', 'draft', 'check', 'polish']) {
  seen.push(await errorOf(() => agent(step)), budget.spent(), budget.remaining())
}
return { total: budget.total, seen }
""",
        host=host,
        budget_tokens=25,
    )

    assert outcome.result == {
        "total": 25,
        "seen": [
            "no error", 10, 15,
            "no error", 20, 5,
            "no error", 30, 0,
            "Error: the token budget is spent: 30 of 25 tokens", 30, 0,
        ],
    }  # fmt: skip
    assert [prompt for prompt, _ in host.agents] == ["plan", "draft", "check"]


async def test_the_host_runs_at_most_the_configured_number_of_agents_at_once() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        await asyncio.sleep(0.05)
        return prompt

    host = RecordingHost(answer)
    outcome = await run(
        "return (await parallel(Array.from({ length: 12 }, (_, i) => () => agent(`${i}`)))).length",
        host=host,
        max_concurrent_agents=3,
    )

    assert outcome.result == 12
    assert host.most_running == 3


def test_the_default_concurrency_leaves_two_cores_free_within_1_to_16(monkeypatch) -> None:
    for cores, expected in [(1, 1), (2, 1), (4, 2), (8, 6), (64, 16)]:
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        assert ScriptLimits().max_concurrent_agents == expected


async def test_an_uncaught_error_fails_the_run_with_its_line() -> None:
    outcome = await run("""const files = args.files
await agent('look')
files.forEach((file) => {
  if (file.endsWith('.py')) throw new TypeError(`cannot review ${file}`)
})
""", args={"files": ["a.md", "b.py"]})  # fmt: skip

    assert outcome.status == ScriptStatus.FAILED
    assert outcome.error == "TypeError: cannot review b.py (line 5)"
    assert outcome.line == 5


async def test_a_misused_global_fails_the_run_at_the_callers_line() -> None:
    outcome = await run("\n\nawait parallel([agent('too early')])\n")

    assert outcome.error == (
        "TypeError: parallel() takes functions that start the work, like () => agent(...); "
        "item 0 is a Promise (line 4)"
    )


async def test_throwing_a_non_error_still_fails_in_one_line() -> None:
    outcome = await run("throw { reason: 'no\\nthanks' }")

    assert outcome.status == ScriptStatus.FAILED
    assert outcome.error == 'the script threw {"reason":"no\\nthanks"}'


async def test_a_result_that_is_not_json_fails_the_run() -> None:
    outcome = await run("return { big: 10n }")

    assert outcome.status == ScriptStatus.FAILED
    assert (
        outcome.error
        == "the script's result cannot be sent as JSON: Do not know how to serialize a BigInt"
    )


async def test_nothing_returned_is_a_null_result() -> None:
    outcome = await run("await agent('fire and forget')")

    assert (outcome.status, outcome.result) == (ScriptStatus.SUCCEEDED, None)
