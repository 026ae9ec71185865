// diff.mjs: run the cases of gen.mjs through the official Cedar (cedar-wasm)
// and through idra (policy_diff_runner), and fail on any difference.
//
//   node diff.mjs RUNNER [--random N] [--mutants N] [--validate N] [--seed S] [--show N] [--keep DIR]
//
// Compared, for every request: the decision, the determining policies (as a
// set) and the policies that errored (as a set); a request that one side
// rejects outright (bad policies, entities or context) must be rejected by
// the other too. For every validation case: whether the schema and policies
// parse, and the set of policies the validator finds invalid.
// Environment: IDRA_DIFF_RANDOM, IDRA_DIFF_MUTANTS, IDRA_DIFF_VALIDATE, IDRA_DIFF_SEED override
// the counts and the seed.
import { createRequire } from 'module';
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { generate } from './gen.mjs';

const require = createRequire(import.meta.url);
const cedar = require('@cedar-policy/cedar-wasm/nodejs');

const args = process.argv.slice(2);
const runner = args[0];
if (!runner || runner.startsWith('--')) {
  console.error('usage: node diff.mjs RUNNER [--random N] [--mutants N] [--validate N] [--seed S] [--show N] [--keep DIR]');
  process.exit(2);
}
const opt = (name, env, def) => {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return process.env[env] ?? def;
};
const sanitized = spawnSync(runner, ['--sanitized'], { encoding: 'utf8' }).stdout.trim() === '1';
const nRandom = Number(opt('--random', 'IDRA_DIFF_RANDOM', sanitized ? 400 : 2500));
const nMutants = Number(opt('--mutants', 'IDRA_DIFF_MUTANTS', sanitized ? 150 : 600));
const nValidate = Number(opt('--validate', 'IDRA_DIFF_VALIDATE', sanitized ? 150 : 800));
const seed = Number(opt('--seed', 'IDRA_DIFF_SEED', 20261201));
const show = Number(opt('--show', 'IDRA_DIFF_SHOW', 20));
const keep = opt('--keep', 'IDRA_DIFF_KEEP', '');

const t0 = Date.now();
const cases = generate({ seed, random: nRandom, mutants: nMutants, validate: nValidate });
const dir = keep || fs.mkdtempSync(path.join(os.tmpdir(), 'idra-diff-'));
fs.mkdirSync(dir, { recursive: true });
// Each validation case also carries its schema in Cedar's JSON form, as
// cedar-wasm writes it (alternately with and without resolved type names),
// so that idra's JSON schema reader is held to the same verdicts.
cases.forEach((c, i) => {
  if (c.kind !== 'validate') return;
  const j = i % 2 ? cedar.schemaToJson(c.schema) : cedar.schemaToJsonWithResolvedTypes(c.schema);
  if (j.type === 'success') c.schema_json = j.json;
});
const casesFile = path.join(dir, 'cases.ndjson');
const idraFile = path.join(dir, 'idra.ndjson');
fs.writeFileSync(casesFile, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');

// idra: one process for all cases.
const out = fs.openSync(idraFile, 'w');
const run = spawnSync(runner, [casesFile], { stdio: ['ignore', out, 'inherit'] });
fs.closeSync(out);
if (run.status !== 0) {
  console.error(`differential: ${runner} failed (status ${run.status}, signal ${run.signal})`);
  process.exit(1);
}
const idraLines = fs.readFileSync(idraFile, 'utf8').split('\n').filter((l) => l);
if (idraLines.length !== cases.length) {
  console.error(`differential: idra answered ${idraLines.length} cases of ${cases.length}`);
  process.exit(1);
}
const tIdra = Date.now();

// ---------------------------------------------------------------------------
// Cedar's answers

function cedarPolicySet(c) {
  const staticPolicies = {}, templates = {};
  for (const p of c.policies) (p.template ? templates : staticPolicies)[p.id] = p.text;
  const templateLinks = c.links.map((l) => ({ templateId: l.template, newId: l.id, values: l.slots }));
  return { staticPolicies, templates, templateLinks };
}
const messages = (errors) => errors.map((e) => e.message).join('; ');

function cedarAuth(c) {
  const pre = cedar.preparsePolicySet('case', cedarPolicySet(c));
  if (pre.type !== 'success') return c.requests.map(() => ({ failure: messages(pre.errors) }));
  return c.requests.map((r) => {
    const a = cedar.statefulIsAuthorized({ ...r, preparsedPolicySetId: 'case', entities: c.entities });
    if (a.type !== 'success') return { failure: messages(a.errors) };
    const d = a.response.diagnostics;
    const msgs = {};
    for (const e of d.errors) msgs[e.policyId] = e.error.message;
    return { decision: a.response.decision, reason: [...d.reason].sort(), errors: [...new Set(d.errors.map((e) => e.policyId))].sort(),
      messages: msgs };
  });
}

function cedarValidate(c, schema) {
  const a = cedar.validate({ schema, policies: cedarPolicySet(c), validationSettings: { mode: 'strict' } });
  if (a.type !== 'success') return { failure: messages(a.errors) };
  return { invalid: [...new Set(a.validationErrors.map((e) => e.policyId))].sort(),
    messages: a.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`) };
}

// ---------------------------------------------------------------------------
// Comparison

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const verdict = (r) => (r.failure !== undefined ? { failure: true } : { decision: r.decision, reason: r.reason, errors: r.errors });

const mismatches = [];
let nRequests = 0, nValidations = 0, nJson = 0, nRequestChecks = 0;
const stats = { allow: 0, deny: 0, errored: 0, failure: 0, valid: 0, invalid: 0, vfailure: 0, reqok: 0, reqbad: 0 };
cases.forEach((c, i) => {
  const mine = JSON.parse(idraLines[i]);
  if (mine.id !== c.id) throw new Error(`idra answered case ${mine.id} where ${c.id} was expected`);
  if (c.kind === 'validate') {
    nValidations++;
    const theirs = cedarValidate(c, c.schema);
    if (theirs.failure !== undefined) stats.vfailure++;
    else if (theirs.invalid.length) stats.invalid++;
    else stats.valid++;
    const v = (x) => (x.failure !== undefined ? 'failure' : x.invalid);
    if (!same(v(theirs), v(mine))) mismatches.push({ c, cedar: theirs, idra: mine });
    // validate_request: Cedar is asked to decide the request with the schema
    // and validateRequest on, over no policies and no entities; a failure
    // answer means it found the request invalid.
    (c.requests || []).forEach((r, k) => {
      nRequestChecks++;
      const a = cedar.isAuthorized({ ...r, schema: c.schema, validateRequest: true, entities: [],
        policies: { staticPolicies: {} } });
      const theirs = a.type === 'success' ? { verdict: 'ok' } : { verdict: 'invalid', why: messages(a.errors) };
      stats[theirs.verdict === 'ok' ? 'reqok' : 'reqbad']++;
      const ours = mine.requests ? mine.requests[k] : { verdict: 'no answer' };
      if (theirs.verdict !== ours.verdict) mismatches.push({ c, request: r, k, requestCheck: true, cedar: theirs, idra: ours });
    });
    if (c.schema_json) {
      nJson++;
      const theirsJson = cedarValidate(c, c.schema_json);
      if (!mine.json || !same(v(theirsJson), v(mine.json))) {
        mismatches.push({ c, json: true, cedar: theirsJson, idra: mine.json ?? 'no answer' });
      }
    }
    return;
  }
  const theirs = cedarAuth(c);
  const ours = mine.failure !== undefined ? c.requests.map(() => ({ failure: mine.failure })) : mine.results;
  c.requests.forEach((r, k) => {
    nRequests++;
    const t = theirs[k];
    if (t.failure !== undefined) stats.failure++;
    else {
      stats[t.decision]++;
      if (t.errors.length) stats.errored++;
    }
    if (!same(verdict(t), verdict(ours[k]))) mismatches.push({ c, request: r, k, cedar: t, idra: ours[k] });
  });
});
const tCedar = Date.now();

function describe(m) {
  const lines = [];
  const c = m.c;
  lines.push(`=== MISMATCH in case ${c.id}${m.request ? ` request ${m.k}` : ''}${m.json ? ' (JSON schema)' : ''}` +
    `${m.requestCheck ? ' (validate_request)' : ''}`);
  if (c.kind === 'validate') lines.push('--- schema', m.json ? JSON.stringify(c.schema_json) : c.schema.trimEnd());
  if (!m.requestCheck) lines.push('--- policies');
  if (!m.requestCheck) {
    for (const p of c.policies) lines.push(`# id ${p.id}${p.template ? ' (template)' : ''}`, p.text);
    if (c.links.length) lines.push('--- links', JSON.stringify(c.links));
  }
  if (m.requestCheck) {
    lines.push('--- request', JSON.stringify(m.request));
  } else if (m.request) {
    lines.push('--- entities', JSON.stringify(c.entities));
    lines.push('--- request', JSON.stringify(m.request));
  }
  lines.push('--- cedar', JSON.stringify(m.cedar));
  lines.push('--- idra ', JSON.stringify(m.idra));
  return lines.join('\n');
}

mismatches.slice(0, show).forEach((m) => console.log(describe(m) + '\n'));
if (mismatches.length > show) {
  console.log(`... ${mismatches.length - show} more mismatches (cases ${[...new Set(mismatches.slice(show).map((m) => m.c.id))].join(' ')})`);
}
console.log(`differential: seed ${seed}${sanitized ? ' (sanitized build: fewer cases)' : ''}; ` +
  `${cases.length - nValidations} authorization cases, ${nRequests} requests ` +
  `(cedar: ${stats.allow} allow, ${stats.deny} deny, ${stats.errored} with policy errors, ${stats.failure} rejected); ` +
  `${nValidations} validation cases (cedar: ${stats.valid} valid, ${stats.invalid} invalid, ${stats.vfailure} rejected; ` +
  `${nJson} also with the JSON schema, ${nRequestChecks} requests checked against the schema: ` +
  `${stats.reqok} fit, ${stats.reqbad} do not); ` +
  `idra ${((tIdra - t0) / 1000).toFixed(1)}s, cedar+compare ${((tCedar - tIdra) / 1000).toFixed(1)}s`);
if (!keep) fs.rmSync(dir, { recursive: true, force: true });
if (mismatches.length) {
  console.log(`differential: FAIL: ${mismatches.length} mismatches between idra and Cedar ${cedar.getCedarVersion()}`);
  process.exit(1);
}
console.log(`differential: OK: idra agrees with Cedar ${cedar.getCedarVersion()}`);
