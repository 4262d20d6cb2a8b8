export const meta = {
  name: 'deep-research',
  description: 'Answer a question about the codebase: split it into sub-questions, investigate each with a read-only explorer in parallel, then write one answer with file references.',
  whenToUse: 'a question that spans several parts of the code, such as "how does a request reach the database?"',
  phases: [
    { title: 'Plan', detail: 'split the question into 3 to 6 sub-questions' },
    { title: 'Investigate', detail: 'one read-only Explore agent per sub-question, in parallel' },
    { title: 'Synthesize', detail: 'one answer with file references' },
  ],
}

// args: "the question" or { question: "the question" }
const MIN_QUESTIONS = 3
const MAX_QUESTIONS = 6
// Tokens kept for the answer: with fewer left, no investigator is started.
const SYNTHESIS_RESERVE = 20_000

const PLAN = {
  type: 'object',
  properties: {
    questions: { type: 'array', items: { type: 'string' }, minItems: MIN_QUESTIONS, maxItems: MAX_QUESTIONS },
  },
  required: ['questions'],
}

const question = String((typeof args === 'string' ? args : args?.question) ?? '').trim()
if (!question) throw new Error('deep-research needs a question: args.question, or args as a string')

phase('Plan')
const plan = await ask(
  `Plan the investigation of this question about the codebase in the current directory:\n\n${question}\n\n` +
    `Glance at the layout of the code (do not investigate yet), then split the question into ` +
    `${MIN_QUESTIONS} to ${MAX_QUESTIONS} sub-questions that can be answered independently and together ` +
    `answer it. Each sub-question must make sense on its own, without the others.`,
  { label: 'plan', schema: PLAN, agentType: 'Explore' },
)
let subQuestions = distinctStrings(plan?.questions).slice(0, MAX_QUESTIONS)
if (subQuestions.length === 0) {
  log('⚠ no plan came back: investigating the question whole')
  subQuestions = [question]
}
log(`🔎 ${subQuestions.length} sub-question(s)`)

phase('Investigate')
let answers = subQuestions.map(() => null)
if (lowOnBudget(SYNTHESIS_RESERVE)) {
  log(`⏹ ${budget.remaining()} tokens left: no investigation started`)
} else {
  answers = await parallel(
    subQuestions.map((sub, i) => () =>
      ask(
        `You are investigating one part of a larger question about the codebase.\n\n` +
          `The larger question: ${question}\nYour part: ${sub}\n\n` +
          `Answer your part from the code itself. Cite every claim with a file path and line ` +
          `(path/to/file.py:42). Say plainly what you could not find.`,
        { label: `investigate:${i + 1}`, agentType: 'Explore' },
      ),
    ),
  )
}
const findings = subQuestions.map((sub, i) => ({ question: sub, answer: answers[i] ?? null }))
const answered = findings.filter((f) => f.answer !== null)
log(`📚 ${answered.length} of ${findings.length} sub-question(s) answered`)
if (answered.length === 0) return { question, answer: null, findings }

phase('Synthesize')
const answer = await ask(
  `Answer this question about the codebase: ${question}\n\n` +
    `Investigators answered these sub-questions:\n\n` +
    answered.map((f, i) => `## ${i + 1}. ${f.question}\n\n${f.answer}`).join('\n\n') +
    `\n\nWrite one answer to the question from their findings. Keep the file references ` +
    `(path:line) for every claim; where investigators disagree or found nothing, say so. ` +
    `Do not add claims they did not support.`,
  { label: 'synthesize' },
)
return { question, answer, findings }

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

function distinctStrings(values) {
  if (!Array.isArray(values)) return []
  const strings = values.filter((v) => typeof v === 'string').map((v) => v.trim()).filter(Boolean)
  return Array.from(new Set(strings))
}
