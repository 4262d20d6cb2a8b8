export const meta = {
  name: 'judge-panel',
  description: 'Score each candidate answer with three independent judges per round; stop early when the budget runs low.',
  phases: [{ title: 'Round 1' }, { title: 'Round 2' }, { title: 'Report' }],
}

const WIND_DOWN_TOKENS = 1_500
const JUDGES = 3
const JUDGE_MODEL = 'small'
const BATCH = 4

// args: "q1, q2 --rounds 2" or ['q1', 'q2'] or { questions, rounds }
const text = typeof args === 'string' ? args.trim() : ''
const tokens = text ? text.split(/[\s,]+/) : []
const flag = tokens.indexOf('--rounds')
const questions = text
  ? tokens.filter((t, i) => i !== flag && i !== flag + 1)
  : Array.isArray(args) ? args : (args?.questions ?? [])
const rounds = Number(text ? tokens[flag + 1] : args?.rounds) || 1

const SCORE = {
  type: 'object',
  required: ['score'],
  properties: { score: { type: 'number' }, note: { anyOf: [{ type: 'string' }, { type: 'null' }] } },
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b)
  if (!v.length) return null
  const m = Math.floor(v.length / 2)
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2
}

async function judge(question, round) {
  const answer = await agent(`Answer briefly: ${question}`, { label: `answer:${round}:${question}`, model: 'large' })
  const scores = await parallel(
    Array.from({ length: JUDGES }, (_, j) => () =>
      agent(`Judge #${j + 1}: score 0-10 this answer to "${question}":\n${answer}`, {
        label: `judge:${round}:${question}:${j + 1}`,
        schema: SCORE,
        model: JUDGE_MODEL,
      }).then((v) => (v ? v.score : null)),
    ),
  )
  const valid = scores.filter((s) => s !== null)
  return { question, score: median(valid), spread: valid.length ? Math.max(...valid) - Math.min(...valid) : null }
}

const results = []
for (let round = 1; round <= rounds; round++) {
  if (budget.total && budget.remaining() < WIND_DOWN_TOKENS) {
    log(`⏹ winding down before round ${round} (${budget.remaining()} tokens left)`)
    break
  }
  phase(`Round ${round}`)
  for (let start = 0; start < questions.length; start += BATCH) {
    const batch = questions.slice(start, start + BATCH)
    const scored = await parallel(batch.map((q) => () => judge(q, round)))
    results.push(...scored.filter(Boolean).map((r) => ({ round, ...r })))
  }
  log(`◆ round ${round}: ${results.filter((r) => r.round === round).length} questions scored`)
}

phase('Report')
const best = [...results].sort((a, b) => b.score - a.score)[0] ?? null
return {
  results,
  best: best && { question: best.question, score: Number(best.score.toFixed(1)) },
  spent: budget.spent(),
}
