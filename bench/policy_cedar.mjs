// policy_cedar.mjs: the official Cedar's side of the policy benchmark (bench/policy.sh).
//
//   node policy_cedar.mjs CEDAR_WASM_DIR WORKLOAD.json SECONDS IDRA_DECISIONS
//
// Loads @cedar-policy/cedar-wasm (its nodejs build) from CEDAR_WASM_DIR,
// preparses the workload's policy set once (preparsePolicySet, so no call
// re-parses it), and, single-threaded, decides the requests round-robin for
// SECONDS with statefulIsAuthorized, timing every call with
// process.hrtime.bigint() (decisions per second = calls over the time spent
// inside them). Each call hands Cedar the request's entities and
// context as JS values, which it converts and builds per call: that is the
// API's only way in.
// Before timing, one untimed pass compares every request's answer with the
// line idra wrote to IDRA_DECISIONS (bench_policy_decide): the decision, and
// separately the determining and errored policy ids. Prints one JSON line of
// figures, with the disagreement counts, on stdout. Not a test: no verdict.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const [dir, workloadFile, secondsArg, idraFile] = process.argv.slice(2);
if (!idraFile) {
  console.error('usage: node policy_cedar.mjs CEDAR_WASM_DIR WORKLOAD.json SECONDS IDRA_DECISIONS');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const cedar = require(path.resolve(dir, 'nodejs/cedar_wasm.js'));
const w = JSON.parse(fs.readFileSync(workloadFile, 'utf8'));

const staticPolicies = {}, templates = {};
for (const p of w.policies) (p.template ? templates : staticPolicies)[p.id] = p.text;
const templateLinks = w.links.map((l) => ({ templateId: l.template, newId: l.id, values: l.slots }));
const pre = cedar.preparsePolicySet('bench', { staticPolicies, templates, templateLinks });
if (pre.type !== 'success') {
  console.error('cedar: preparsePolicySet:', JSON.stringify(pre.errors));
  process.exit(1);
}
const calls = w.requests.map((r) => ({ principal: r.principal, action: r.action, resource: r.resource,
  context: r.context, entities: r.entities, preparsedPolicySetId: 'bench' }));

// The untimed pass: answers, compared with idra's.
const idra = fs.readFileSync(idraFile, 'utf8').split('\n').filter((l) => l);
if (idra.length !== calls.length) {
  console.error(`cedar: idra answered ${idra.length} requests of ${calls.length}`);
  process.exit(1);
}
let decisionDiff = 0, reasonDiff = 0, errorDiff = 0, failures = 0, allow = 0, withErrors = 0;
const examples = [];
calls.forEach((call, i) => {
  const a = cedar.statefulIsAuthorized(call);
  if (a.type !== 'success') {
    failures++;
    if (examples.length < 3) examples.push({ i, cedar: a.errors.map((e) => e.message).join('; ') });
    return;
  }
  const d = a.response.diagnostics;
  const mine = [a.response.decision, [...d.reason].sort().join(','), [...new Set(d.errors.map((e) => e.policyId))].sort().join(',')];
  const theirs = idra[i].split('\t');
  if (mine[0] === 'allow') allow++;
  if (mine[2]) withErrors++;
  if (mine[0] !== theirs[0]) decisionDiff++;
  if (mine[1] !== (theirs[1] ?? '')) reasonDiff++;
  if (mine[2] !== (theirs[2] ?? '')) errorDiff++;
  if ((mine[0] !== theirs[0] || mine[1] !== theirs[1] || mine[2] !== (theirs[2] ?? '')) && examples.length < 3) {
    examples.push({ i, request: w.requests[i], cedar: mine, idra: theirs });
  }
});

const seconds = Number(secondsArg);
const samples = new Float64Array(Math.ceil(seconds * 400000) + 1024);
let n = 0;
const start = process.hrtime.bigint();
const stop = start + BigInt(Math.round(seconds * 1e9));
let now = start;
for (let i = 0; now < stop && n < samples.length; i = i + 1 === calls.length ? 0 : i + 1) {
  const t0 = process.hrtime.bigint();
  const a = cedar.statefulIsAuthorized(calls[i]);
  now = process.hrtime.bigint();
  if (a.type !== 'success') throw new Error('cedar failed during timing');
  samples[n++] = Number(now - t0);
}
const elapsed = Number(now - start) / 1e9;
const sorted = samples.subarray(0, n).sort();
let sum = 0;
for (let i = 0; i < n; i++) sum += sorted[i];
const pct = (p) => sorted[Math.min(n - 1, Math.floor(p * n))] / 1000;
console.log(JSON.stringify({ engine: 'cedar-wasm', version: cedar.getCedarVersion(), policies: Object.keys(staticPolicies).length + templateLinks.length,
  requests: calls.length, decisions: n, seconds: elapsed, per_second: n / (sum / 1e9), p50_us: pct(0.5), p99_us: pct(0.99),
  mean_us: sum / n / 1000, allow_share_requests: allow / calls.length, requests_with_policy_errors: withErrors,
  disagreements: { decision: decisionDiff, determining: reasonDiff, errored: errorDiff, cedar_failures: failures }, examples }));
