"""The globals a workflow script sees, each met the way a script uses it."""

from __future__ import annotations

from pydantic import JsonValue

from boocode.workflows.host import AgentOptions
from boocode.workflows.outcome import ScriptStatus
from workflows.recording_host import ERRORS_OF, RecordingHost, held_until, run

NOT_A_THUNK = "parallel() takes functions that start the work, like () => agent(...)"


async def test_agent_passes_the_prompt_and_options_and_returns_the_hosts_answer() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        return {"verdict": "ok"} if options.output_schema else None

    host = RecordingHost(answer)
    outcome = await run(
        """
phase('Review')
const schema = { type: 'object', properties: { verdict: { type: 'string' } } }
const checked = await agent('Check a.py', {
  label: 'check:a', schema, model: 'small', effort: 'low',
  isolation: 'worktree', agentType: 'Explore',
})
const plain = await agent('Say nothing', { phase: 'Other', label: undefined })
return { checked, plain }
""",
        host=host,
    )

    assert outcome.status == ScriptStatus.SUCCEEDED
    assert outcome.result == {"checked": {"verdict": "ok"}, "plain": None}
    (first_prompt, first), (second_prompt, second) = host.agents
    assert first_prompt == "Check a.py"
    assert first == AgentOptions(
        label="check:a",
        phase="Review",
        schema={"type": "object", "properties": {"verdict": {"type": "string"}}},
        model="small",
        effort="low",
        isolation="worktree",
        agentType="Explore",
    )
    assert (second_prompt, second) == ("Say nothing", AgentOptions(phase="Other"))


async def test_agent_refuses_wrong_arguments_with_type_errors() -> None:
    host = RecordingHost()
    outcome = await run(
        ERRORS_OF
        + """
return [
  await errorOf(() => agent()),
  await errorOf(() => agent(42)),
  await errorOf(() => agent('x', 'fast')),
  await errorOf(() => agent('x', ['fast'])),
  await errorOf(() => agent('x', { labl: 'typo' })),
  await errorOf(() => agent('x', { label: 3 })),
  await errorOf(() => agent('x', { schema: 'object' })),
]
""",
        host=host,
    )

    assert outcome.result == [
        "TypeError: agent(prompt, opts) takes a prompt string, got undefined",
        "TypeError: agent(prompt, opts) takes a prompt string, got a number",
        "TypeError: agent(prompt, opts) takes an options object, got a string",
        "TypeError: agent(prompt, opts) takes an options object, got an array",
        'TypeError: agent() has no option "labl"; it takes label, phase, schema, model, effort, '
        "isolation, agentType",
        'TypeError: agent() option "label" must be a string, got a number',
        'TypeError: agent() option "schema" must be an object (a JSON Schema), got a string',
    ]
    assert host.agents == []


async def test_a_failing_agent_rejects_with_the_hosts_message() -> None:
    async def answer(prompt: str, options: AgentOptions) -> JsonValue:
        raise RuntimeError("the model is unavailable\nretry later")

    outcome = await run(
        ERRORS_OF + "return await errorOf(() => agent('x'))", host=RecordingHost(answer)
    )

    assert outcome.result == "Error: the model is unavailable"


async def test_workflow_runs_another_workflow_inline_with_its_own_args() -> None:
    host = RecordingHost()
    host.scripts["triage"] = (
        "export const meta = { name: 'triage', description: 'triage one issue' }\n"
        "phase('Triage')\n"
        "const found = await agent(`triage ${args.issue}`, { label: 'triager' })\n"
        "return { found, nested: await workflow('cleanup').catch((e) => e.message) }\n"
    )
    host.scripts["cleanup"] = "export default async function main(args) { return args }\n"
    outcome = await run(
        ERRORS_OF
        + """
const inner = await workflow('triage', { issue: 7 })
const bare = await workflow('cleanup')
return [inner, bare, args, await errorOf(() => workflow('nope')), await errorOf(() => workflow(3))]
""",
        args={"outer": True},
        host=host,
    )

    assert outcome.result == [
        {
            "found": "done: triage 7",
            "nested": 'workflow("cleanup") inside a workflow that workflow() started: '
            "workflows nest one level only",
        },
        None,
        {"outer": True},
        "Error: no workflow called 'nope'",
        "TypeError: workflow(nameOrRef, args) takes a workflow name, got a number",
    ]
    assert host.workflows == ["triage", "cleanup", "nope"]
    # The inner workflow shares the run's phases and agents.
    assert ("phase", "Triage") in host.events
    assert [prompt for prompt, _ in host.agents] == ["triage 7"]
    assert host.agents[0][1].phase == "Triage"


async def test_phase_and_log_reach_the_host_in_order() -> None:
    host = RecordingHost()
    outcome = await run(
        """
phase('Scan')
log('scanning', 2, 'files')
await agent('scan')
log({ found: 1 })
phase('Report')
console.log('console.log is log')
for (let i = 0; i < 50; i++) log(`line ${i}`)
return 'done'
""",
        host=host,
    )

    assert outcome.status == ScriptStatus.SUCCEEDED
    assert host.events == [
        ("phase", "Scan"),
        ("log", "scanning 2 files"),
        ("agent", "scan"),
        ("log", '{"found":1}'),
        ("phase", "Report"),
        ("log", "console.log is log"),
        *[("log", f"line {i}") for i in range(50)],
    ]


async def test_args_are_the_runs_args_verbatim() -> None:
    args: JsonValue = {"files": ["a.py", "b.py"], "depth": 2, "strict": True, "note": None}

    outcome = await run("return { args, type: typeof args, files: args.files.length }", args=args)

    assert outcome.result == {"args": args, "type": "object", "files": 2}


async def test_budget_without_a_total_is_unbounded_and_counts_what_agents_spend() -> None:
    host = RecordingHost(tokens_per_agent=120)
    outcome = await run(
        """
const before = budget.spent()
await agent('one')
await agent('two')
const unbounded = budget.remaining() === Infinity
return { total: budget.total, before, after: budget.spent(), unbounded }
""",
        host=host,
    )

    assert outcome.result == {"total": None, "before": 0, "after": 240, "unbounded": True}


async def test_parallel_keeps_the_order_of_its_thunks_and_turns_failures_into_null() -> None:
    host = RecordingHost(held_until({"slow": "fast", "medium": "fast"}))
    outcome = await run(
        """
const results = await parallel([
  () => agent('slow'),
  () => agent('medium'),
  () => { throw new Error('this branch fails') },
  async () => agent('fast'),
  () => 'no agent at all',
])
return { results, running: 'all done' }
""",
        host=host,
        max_concurrent_agents=4,
    )

    assert outcome.result == {
        "results": ["done: slow", "done: medium", None, "done: fast", "no agent at all"],
        "running": "all done",
    }
    assert host.most_running == 3
    assert [prompt for prompt, _ in host.agents] == ["slow", "medium", "fast"]


async def test_parallel_wants_an_array_of_functions() -> None:
    outcome = await run(
        ERRORS_OF
        + """
return [
  await errorOf(() => parallel(agent('started too early'))),
  await errorOf(() => parallel([() => 1, agent('also too early')])),
  await errorOf(() => parallel([() => 1, 'x'])),
  await parallel([]),
]
"""
    )

    assert outcome.result == [
        "TypeError: parallel(thunks) takes an array of functions, got a Promise",
        f"TypeError: {NOT_A_THUNK}; item 1 is a Promise",
        f"TypeError: {NOT_A_THUNK}; item 1 is a string",
        [],
    ]


async def test_pipeline_moves_each_item_through_the_stages_without_a_barrier() -> None:
    host = RecordingHost(held_until({"draft slow": "check quick"}))
    outcome = await run(
        """
const seen = []
const results = await pipeline(
  ['slow', 'quick', 'broken'],
  (prev, item, index) => {
    seen.push(`stage 1 got ${prev}, ${item}, ${index}`)
    return agent(`draft ${item}`)
  },
  async (draft, item) => {
    if (item === 'broken') throw new Error('no second stage for this one')
    seen.push(`stage 2 got ${draft}`)
    return agent(`check ${item}`)
  },
)
return { results, seen }
""",
        host=host,
        max_concurrent_agents=4,
    )

    assert outcome.result == {
        "results": ["done: check slow", "done: check quick", None],
        "seen": [
            "stage 1 got slow, slow, 0",
            "stage 1 got quick, quick, 1",
            "stage 1 got broken, broken, 2",
            "stage 2 got done: draft quick",
            "stage 2 got done: draft slow",
        ],
    }
    prompts = [prompt for prompt, _ in host.agents]
    # The slow draft was held until the quick item reached its check: no barrier between stages.
    assert prompts.index("check quick") < prompts.index("check slow")


async def test_pipeline_wants_items_and_function_stages() -> None:
    outcome = await run(
        ERRORS_OF
        + """
return [
  await errorOf(() => pipeline('abc', (x) => x)),
  await errorOf(() => pipeline([1], (x) => x, 'stage')),
  await pipeline([1, 2]),
]
"""
    )

    assert outcome.result == [
        "TypeError: pipeline(items, ...stages) takes an array of items, got a string",
        "TypeError: pipeline() stages are functions (prev, item, index); stage 2 is a string",
        [1, 2],
    ]
