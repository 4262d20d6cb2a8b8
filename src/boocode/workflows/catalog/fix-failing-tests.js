export const meta = {
  name: 'fix-failing-tests',
  description: 'Run the test suite, then have one agent per failing test file propose a fix in its own git worktree, and summarise what each found and changed.',
  whenToUse: 'the tests fail and the failures look independent of each other',
  phases: [
    { title: 'Run', detail: 'run the tests and list the failing test files' },
    { title: 'Fix', detail: 'one agent per failing test file, each in its own worktree' },
    { title: 'Summarize' },
  ],
}

// args: nothing (the agent finds the test command), "the test command", or { command, maxFiles }
const BATCH = 4
// Tokens kept back per fixer and for the summary: with fewer left, no more fixers are started.
const FIX_RESERVE = 30_000

const FAILURES = {
  type: 'object',
  properties: {
    command: { type: 'string' },
    failing: {
      type: 'array',
      items: {
        type: 'object',
        properties: { file: { type: 'string' }, tests: { type: 'array', items: { type: 'string' } }, error: { type: 'string' } },
        required: ['file', 'tests', 'error'],
      },
    },
  },
  required: ['command', 'failing'],
}

const FIX = {
  type: 'object',
  properties: {
    fixed: { type: 'boolean' },
    diagnosis: { type: 'string' },
    change: { type: 'string' },
  },
  required: ['fixed', 'diagnosis', 'change'],
}

const given = String((typeof args === 'string' ? args : args?.command) ?? '').trim()
const maxFiles = Number(args?.maxFiles) || 8

phase('Run')
const run = await ask(
  (given ? `Run the tests with \`${given}\`.` : `Find how this project runs its tests (README, Makefile, pyproject.toml, package.json, CI config) and run them.`) +
    ` List every test file with a failing test: its path, the failing tests' names and the first ` +
    `line of the error. Report the command you ran. Do not change any file.`,
  { label: 'run-tests', schema: FAILURES },
)
if (run === null) {
  log('⚠ the test run gave no report')
  return { command: given || null, failing: [], fixes: [], unattempted: [], summary: null }
}
const command = run.command || given
const failing = (Array.isArray(run.failing) ? run.failing : [])
  .filter((f) => typeof f?.file === 'string')
  .map((f) => ({ file: f.file, tests: Array.isArray(f.tests) ? f.tests : [], error: String(f.error ?? '') }))
log(`🧪 ${failing.length} failing test file(s)`)
if (failing.length === 0) return { command, failing: [], fixes: [], unattempted: [], summary: 'Every test passes.' }

phase('Fix')
const fixes = []
const attempts = failing.slice(0, maxFiles)
for (let start = 0; start < attempts.length; start += BATCH) {
  if (lowOnBudget(FIX_RESERVE)) {
    log(`⏹ ${budget.remaining()} tokens left: no more fixers started`)
    break
  }
  const batch = attempts.slice(start, start + BATCH)
  const proposals = await parallel(batch.map((failure) => () => fix(failure)))
  batch.forEach((failure, i) => fixes.push({ file: failure.file, ...(proposals[i] ?? { fixed: false, diagnosis: null, change: null }) }))
}
const unattempted = failing.slice(fixes.length).map((f) => f.file)

phase('Summarize')
const summary = await ask(
  `The test command \`${command}\` failed in ${failing.length} test file(s). Agents working in ` +
    `separate git worktrees proposed these fixes:\n\n${JSON.stringify(fixes, null, 2)}\n\n` +
    (unattempted.length ? `Not attempted: ${unattempted.join(', ')}.\n\n` : '') +
    `Summarise for the developer: what was wrong in each file, which fixes are confirmed by a ` +
    `passing run, which fixes touch the same code, and what is left to do. Do not change any file.`,
  { label: 'summarize', agentType: 'Explore' },
)
return { command, failing, fixes, unattempted, summary }

async function fix(failure) {
  return await ask(
    `The test file ${failure.file} fails (${failure.tests.join(', ') || 'its tests'}) with:\n\n` +
      `${failure.error}\n\nYou work in your own git worktree. Find the cause: decide whether the ` +
      `code or the test is wrong, make the smallest fix, and run this file's tests (with ` +
      `\`${command}\`, narrowed to it) to check it. Report whether it now passes, your diagnosis and the change you made.`,
    { label: `fix:${failure.file}`, schema: FIX, isolation: 'worktree' },
  )
}

// An agent that failed or could not start (the budget is spent) counts as no answer.
async function ask(prompt, options) {
  try {
    return await agent(prompt, options)
  } catch (error) {
    log(`⚠ ${options.label}: ${error.message}`)
    return null
  }
}

function lowOnBudget(reserve) {
  return budget.total !== null && budget.remaining() < reserve
}
