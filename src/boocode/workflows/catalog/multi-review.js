export const meta = {
  name: 'multi-review',
  description: 'Review the working tree\'s changes from several angles at once, then have a skeptic try to refute each finding; the result is the findings that survive.',
  whenToUse: 'before committing or opening a pull request',
  phases: [
    { title: 'Review', detail: 'one reviewer per focus: correctness, security, tests and maintainability' },
    { title: 'Verify', detail: 'one skeptic per finding, as soon as its reviewer is done' },
  ],
}

// args: nothing (the working tree against HEAD), "a git ref to diff against", or { base, focus: [ids] }
const FOCI = [
  { id: 'correctness', look: 'logic errors, unhandled edge cases, broken invariants, wrong error handling, races' },
  { id: 'security', look: 'injection, path traversal, secrets in code, unsafe deserialisation, missing authorisation checks' },
  { id: 'tests', look: 'changed behaviour without tests, weak assertions, timing-dependent tests, and maintainability: duplication, unclear names, dead code' },
]
// Tokens kept back per finding: with fewer left, a finding is left unverified.
const VERIFY_RESERVE = 5_000
const SEVERITIES = ['high', 'medium', 'low']

const FINDINGS = {
  type: 'object',
  properties: {
    findings: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          file: { type: 'string' },
          line: { anyOf: [{ type: 'integer' }, { type: 'null' }] },
          severity: { type: 'string', enum: SEVERITIES },
          claim: { type: 'string' },
        },
        required: ['file', 'line', 'severity', 'claim'],
      },
    },
  },
  required: ['findings'],
}

const VERDICT = {
  type: 'object',
  properties: { verdict: { type: 'string', enum: ['confirmed', 'refuted'] }, reason: { type: 'string' } },
  required: ['verdict', 'reason'],
}

const base = String((typeof args === 'string' ? args : args?.base) ?? '').trim() || 'HEAD'
// The reviewers run `git diff <base>`: a ref, never a second command.
if (!/^[\w./~^@{}-]+$/.test(base)) throw new Error(`multi-review diffs against a git ref, not: ${base}`)
const wanted = Array.isArray(args?.focus) ? args.focus : FOCI.map((f) => f.id)
const foci = FOCI.filter((f) => wanted.includes(f.id))
if (foci.length === 0) throw new Error(`multi-review focuses on: ${FOCI.map((f) => f.id).join(', ')}`)
const diff = `git diff ${base}`

phase('Review')
const reviews = await pipeline(foci, review, verifyAll)

const failedReviewers = foci.filter((_, i) => reviews[i] === null).map((f) => f.id)
const judged = reviews.filter(Boolean).flat()
const confirmed = distinct(judged.filter((f) => f.verdict === 'confirmed'))
  .sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity))
const refuted = judged.filter((f) => f.verdict === 'refuted').length
const unverified = judged.filter((f) => f.verdict === null).map(({ verdict, reason, ...finding }) => finding)
log(`✅ ${confirmed.length} confirmed, ${refuted} refuted, ${unverified.length} unverified`)
return { base, confirmed, refuted, unverified, failedReviewers }

async function review(focus) {
  const found = await ask(
    `Review the changes in this repository's working tree: run \`${diff}\` and \`git status --short\` ` +
      `(read new, untracked files whole). Look only for ${focus.id} problems: ${focus.look}.\n\n` +
      `Read the surrounding code before you claim anything. Report each problem with its file, its ` +
      `line in the new version (null if it has none) and its severity. Report nothing you are not ` +
      `sure of; an empty list is a fine answer. Do not change any file.`,
    { label: `review:${focus.id}`, phase: 'Review', schema: FINDINGS },
  )
  if (found === null) throw new Error(`the ${focus.id} reviewer gave no findings`)
  const findings = (Array.isArray(found.findings) ? found.findings : []).map((f) => ({ ...f, focus: focus.id }))
  log(`📝 ${focus.id}: ${findings.length} finding(s)`)
  return findings
}

async function verifyAll(findings) {
  return await parallel(findings.map((finding) => () => verify(finding)))
}

async function verify(finding) {
  const where = finding.line === null ? finding.file : `${finding.file}:${finding.line}`
  if (lowOnBudget(VERIFY_RESERVE)) return { ...finding, verdict: null, reason: 'the budget ran low' }
  const judgement = await ask(
    `A reviewer of this repository's uncommitted changes (\`${diff}\`) claims, at ${where}:\n\n` +
      `${finding.claim}\n\nTry to refute it. Read the code and the change; it is confirmed only if ` +
      `the problem is real, is in the changed code or caused by it, and is not handled elsewhere. ` +
      `Do not change any file.`,
    { label: `verify:${finding.focus}:${where}`, phase: 'Verify', schema: VERDICT },
  )
  const verdict = ['confirmed', 'refuted'].includes(judgement?.verdict) ? judgement.verdict : null
  return { ...finding, verdict, reason: verdict && String(judgement.reason ?? '') }
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

// Reviewers of different focus may report the same problem.
function distinct(findings) {
  const seen = new Set()
  return findings.filter((f) => {
    const key = `${f.file}:${f.line}:${f.claim}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
