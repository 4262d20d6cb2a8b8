export const meta = {
  name: 'rename-sweep',
  description: 'Rename a symbol across packages: packages in parallel, files in a package one at a time, then one build gate.',
  whenToUse: 'a rename that touches several packages',
  phases: [
    { title: 'Plan', detail: 'group the call sites by package (plain JS, no agents)' },
    { title: 'Rename', detail: 'one editor per package, serial inside a package' },
    { title: 'Gate', detail: 'one build over the whole tree' },
  ],
}

// args: { from, to, sites: [{ path, line }], build } or the same as a JSON string.
const input = normalizeArgs(args)
const sites = Array.isArray(input?.sites) ? input.sites : []
const GENERATED = new Set(['gen', 'vendor'])

function normalizeArgs(raw) {
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw)
    } catch {
      return {}
    }
  }
  return raw ?? {}
}

const EDIT_SCHEMA = {
  type: 'object',
  required: ['path', 'edited', 'reason'],
  properties: { path: { type: 'string' }, edited: { type: 'boolean' }, reason: { type: ['string', 'null'] } },
}

phase('Plan')
const byPackage = {}
const skipped = []
for (const site of sites) {
  const [pkg] = site.path.match(/^[\w-]+/) ?? ['(root)']
  if (GENERATED.has(pkg)) {
    skipped.push({ ...site, reason: 'generated code' })
    continue
  }
  byPackage[pkg] ??= []
  byPackage[pkg].push(site)
}
log(`Plan: ${sites.length} sites in ${Object.keys(byPackage).length} packages, ${skipped.length} skipped`)

phase('Rename')
const perPackage = await parallel(Object.entries(byPackage).map(([pkg, pkgSites]) => () => renameIn(pkg, pkgSites)))

async function renameIn(pkg, pkgSites) {
  const edits = []
  for (const site of pkgSites) {
    const edit = await agent(
      `Rename \`${input.from}\` to \`${input.to}\` at ${site.path}:${site.line}.
Only edit files under ${pkg}/. Report { edited: false, reason } if the site is not a use of the symbol.`,
      { label: `rename:${pkg}:${site.line}`, phase: 'Rename', schema: EDIT_SCHEMA, agentType: 'editor' },
    )
    edits.push(edit ?? { path: site.path, edited: false, reason: 'agent failed' })
  }
  return { pkg, edits }
}

const edits = perPackage.filter(Boolean).flatMap((p) => p.edits)

phase('Gate')
const gate = await agent(`Run \`${input.build}\` from the repository root and report whether it passes.`, {
  label: 'gate:build',
  schema: { type: 'object', required: ['passes'], properties: { passes: { type: 'boolean' }, output: { type: 'string' } } },
})

return {
  passes: Boolean(gate?.passes),
  edited: edits.filter((e) => e.edited).map((e) => e.path),
  declined: edits.filter((e) => !e.edited).map((e) => ({ path: e.path, reason: e.reason })),
  skipped,
}
