export const meta = {
  name: 'doc-audit',
  description: 'Find stale documentation per area, then let three skeptics vote on each medium or high finding.',
  phases: [{ title: 'Scan' }, { title: 'Verify' }],
};

const MAX_AREAS = 4;
const SKEPTICS = 3;

const FINDINGS = {
  type: 'array',
  items: {
    type: 'object',
    properties: { file: { type: 'string' }, claim: { type: 'string' }, severity: { type: 'string', enum: ['high', 'medium', 'low'] } },
    required: ['file', 'claim', 'severity'],
  },
};

const VERDICTS = {
  type: 'object',
  properties: { verdicts: { type: 'array', items: { type: 'object' } } },
  required: ['verdicts'],
};

// Pure helpers: no Date.now() or Math.random() (a resumed run must replay the same way).
function planAreas(dirs) {
  const sorted = Array.from(new Set(dirs)).sort();
  if (sorted.length <= MAX_AREAS) return sorted.map((d) => ({ id: d, dirs: [d] }));
  const areas = Array.from({ length: MAX_AREAS }, () => []);
  sorted.forEach((d, i) => areas[i % MAX_AREAS].push(d));
  return areas.map((a, i) => ({ id: `area-${i + 1}`, dirs: a }));
}

function vote(votes) {
  const counts = { stale: 0, fine: 0, unsure: 0 };
  for (const v of votes) {
    if (Object.prototype.hasOwnProperty.call(counts, v.verdict)) counts[v.verdict] += 1;
  }
  if (counts.stale >= 2) return 'stale';
  if (counts.fine >= 2) return 'fine';
  return 'needs_human';
}

export default async function ({ agent, parallel, pipeline, log, args }) {
  const { directories = [], issue = null } = args;
  const areas = planAreas(directories);
  if (areas.length === 0) {
    log('doc-audit: nothing to scan');
    return { issue, stale: [], needsHuman: [] };
  }
  log(`doc-audit: ${areas.length} area(s) from ${directories.length} directories`);

  async function scan(area, _item, index) {
    const findings = await agent(`List stale documentation claims under: ${area.dirs.join(', ')}`, {
      agentType: 'doc-scanner', schema: FINDINGS, phase: 'Scan', label: `scan:${area.id}:${index}`,
    });
    return { area, findings: Array.isArray(findings) ? findings : [] };
  }

  async function verify({ area, findings }) {
    const serious = findings.filter((f) => f.severity !== 'low');
    const byFile = new Map();
    for (const f of serious) {
      if (!byFile.has(f.file)) byFile.set(f.file, []);
      byFile.get(f.file).push(f);
    }
    const judged = [];
    for (const [file, claims] of byFile) {
      const prompt = `Try to refute each claim about ${file}:\n${claims.map((c, i) => `${i}. ${c.claim}`).join('\n')}`;
      const outputs = await parallel(
        Array.from({ length: SKEPTICS }, (_, s) => () =>
          agent(prompt, { agentType: 'doc-skeptic', schema: VERDICTS, phase: 'Verify', label: `verify:${area.id}:${file}:${s + 1}` }),
        ),
      );
      claims.forEach((claim, i) => {
        const votes = outputs.map((o) => (o?.verdicts ?? []).find((v) => v.index === i)).filter(Boolean);
        judged.push({ ...claim, verdict: vote(votes) });
      });
    }
    return judged;
  }

  const perArea = await pipeline(areas, scan, verify);
  const all = perArea.filter(Boolean).flat();
  return {
    issue,
    stale: all.filter((f) => f.verdict === 'stale').map((f) => f.file),
    needsHuman: all.filter((f) => f.verdict === 'needs_human').map((f) => f.file),
  };
}
