// policy_workload.mjs: the policy sets, entities and requests of bench/policy.sh.
//
//   node policy_workload.mjs POLICIES REQUESTS SEED > workload.json
//
// Writes one JSON object:
//   {"policies": [{"id", "text", "template"}], "links": [{"template", "id", "slots"}],
//    "requests": [{"principal", "action", "resource", "context", "entities": [Cedar JSON entities]}]}
// POLICIES counts static policies plus template links (templates themselves
// decide nothing). The vocabulary is idra's schema (policies/idra.cedarschema):
// Device/User/Anonymous principals in Role and Org groups, Value in Identifier
// in a real Prefix hierarchy, the handle, certificate and audit actions with
// their action groups and contexts. Each request carries exactly the entities
// it needs (principal, its organization, the resource and its ancestors), and
// both engines are given that same list. The same arguments always give the
// same workload (mulberry32, no Math.random).

const [nPolicies, nRequests, seed] = process.argv.slice(2).map(Number);
if (!(nPolicies > 0 && nRequests > 0 && Number.isFinite(seed))) {
  console.error('usage: node policy_workload.mjs POLICIES REQUESTS SEED');
  process.exit(2);
}

function mulberry32(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = mulberry32(seed);
const int = (n) => Math.floor(next() * n);
const pick = (xs) => xs[int(xs.length)];
const chance = (p) => next() < p;
const wpick = (pairs) => {
  let r = next() * pairs.reduce((s, [w]) => s + w, 0);
  for (const [w, v] of pairs) if ((r -= w) < 0) return v;
  return pairs[pairs.length - 1][1];
};

// The universe: 88 > 88.100..88.119 > 88.1xx.1..88.1xx.5, 30 organizations
// (a third named acme-*), value types as in Handle records.
const TOP = Array.from({ length: 20 }, (_, i) => `88.${100 + i}`);
const SUB = TOP.flatMap((p) => [1, 2, 3, 4, 5].map((j) => `${p}.${j}`));
const PREFIXES = [...TOP, ...SUB];
const ORGS = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? `acme-${i}` : `org-${i}`));
const TYPES = ['URL', 'EMAIL', 'HS_ADMIN', 'HS_VLIST', 'GTIN', 'BATCH', 'SERIAL', 'DESC'];
const PERMS = ['add_handle', 'delete_handle', 'add_value', 'modify_value', 'remove_value', 'read_value',
  'modify_admin', 'add_admin', 'remove_admin', 'list_handles'];
const q = (s) => JSON.stringify(s);
const cedarSet = (xs) => `[${xs.map(q).join(', ')}]`;
const A = (a) => `Action::${q(a)}`;

// ---------------------------------------------------------------------------
// Policies: twelve shapes, each scoped to a prefix or organization drawn at
// random, so that a larger set is more of the same kind of rules, as a
// deployment with many partners and prefixes would have.
const shapes = [
  [10, () => `permit (principal, action == ${A('resolve')}, resource in Prefix::${q(pick(PREFIXES))})
unless { principal in Role::"partner" };`],
  [12, () => `permit (principal in Org::${q(pick(ORGS))}, action in [${A('resolve')}, ${A('readValue')}], resource in Prefix::${q(pick(PREFIXES))})
when { action == ${A('resolve')} || ${cedarSet(['URL', 'GTIN', pick(TYPES)])}.contains(resource.type) };`],
  [8, () => `permit (principal is Device, action == ${A('update')}, resource is Value in Prefix::${q(pick(TOP))})
when { resource in principal.record && context.change != "remove" && resource.type != "HS_ADMIN" };`],
  [8, () => `permit (principal is User, action in ${A('write')}, resource in Prefix::${q(pick(PREFIXES))})
when { principal.kind == "handle" && context.handleAdmin.containsAll(${cedarSet([pick(PERMS), pick(PERMS)])}) };`],
  [5, () => `permit (principal is User, action == ${A('listHandles')}, resource is Prefix in Prefix::${q(pick(TOP))})
when { principal.organization like "acme-*" && context.handleAdmin.contains("list_handles") };`],
  [7, () => `forbid (principal in Org::${q(pick(ORGS))}, action == ${A('readValue')}, resource in Prefix::${q(pick(PREFIXES))})
when { resource.index >= ${100 + int(100)} && resource.index < 400 }
unless { context.handleAdmin.contains("read_value") };`],
  [5, () => `forbid (principal, action in ${A('write')}, resource in Prefix::${q(pick(PREFIXES))})
when { context.change == "remove" && resource has type && resource.type like "HS_*" };`],
  [5, () => `permit (principal in Role::"admin", action in [${A('enroll')}, ${A('revoke')}, ${A('issueToken')}], resource is Certificate in Prefix::${q(pick(TOP))})
when { ${cedarSet(['device', pick(['server', 'partner', 'gateway'])])}.contains(context.profile) };`],
  [3, () => `permit (principal in Role::"auditor", action == ${A('readAudit')}, resource)
when { principal has org && principal.org == Org::${q(pick(ORGS))} };`],
  [12, () => `permit (principal, action == ${A('readValue')}, resource in Prefix::${q(pick(PREFIXES))})
when { resource.publicRead || (!context.publicOnly && resource.adminRead && context.handleAdmin.contains("read_value")) }
unless { principal in Role::"partner" };`],
  [8, () => `permit (principal is User, action == ${A('readValue')}, resource in Prefix::${q(pick(TOP))})
when { principal has org && principal.org has grantedTypes && principal.org.grantedTypes.contains(resource.type) };`],
  [4, () => `permit (principal is User in Role::"partner", action in ${A('read')}, resource is Identifier in Prefix::${q(pick(SUB))})
when { principal.profile == "partner" && (resource == Identifier::${q(`${pick(SUB)}/item-${int(50)}`)} || context.handleAdmin.containsAny(["read_value", "list_handles"])) };`],
];
const templates = [
  { id: 't-grant', text: `permit (principal == ?principal, action in [${A('readValue')}, ${A('resolve')}], resource in ?resource)
when { !context.publicOnly };` },
  { id: 't-freeze', text: `forbid (principal in ?principal, action == ${A('update')}, resource in ?resource)
unless { context.handleAdmin.contains("modify_admin") };` },
];

const nLinks = Math.max(2, Math.round(nPolicies / 50));
const policies = [];
for (let i = 0; i < nPolicies - nLinks; i++) {
  const id = `p${i}`;
  policies.push({ id, text: `@id(${q(id)})\n${wpick(shapes)()}`, template: false });
}
for (const t of templates) policies.push({ id: t.id, text: `@id(${q(t.id)})\n${t.text}`, template: true });

// ---------------------------------------------------------------------------
// Principals and resources.
const uid = (type, id) => ({ type, id });
const handleIn = (prefix) => `${prefix}/item-${int(50)}`;
function principal() {
  return wpick([
    [40, () => ({ uid: uid('Anonymous', 'anonymous'), attrs: {}, parents: [] })],
    [20, () => {
      const org = pick(ORGS);
      const h = handleIn(pick(SUB));
      return { uid: uid('Device', h), org,
        attrs: { record: { __entity: uid('Identifier', h) }, organization: org, profile: 'device', fingerprint: `fp-${int(1e6)}` },
        parents: [uid('Role', 'device'), uid('Org', org)] };
    }],
    [20, () => {
      const org = pick(ORGS);
      return { uid: uid('User', `partner-${int(200)}`), org,
        attrs: { kind: 'certificate', organization: org, profile: 'partner', fingerprint: `fp-${int(1e6)}`, org: { __entity: uid('Org', org) } },
        parents: [uid('Role', 'partner'), uid('Org', org)] };
    }],
    [10, () => ({ uid: uid('User', `300:0.NA/${pick(TOP)}`), attrs: { kind: 'handle', organization: '', profile: '', fingerprint: '' }, parents: [] })],
    [5, () => {
      const org = pick(ORGS);
      return { uid: uid('User', `auditor-${int(10)}`), org,
        attrs: { kind: 'certificate', organization: org, profile: 'auditor', fingerprint: `fp-${int(1e6)}`, org: { __entity: uid('Org', org) } },
        parents: [uid('Role', 'auditor'), uid('Org', org)] };
    }],
    [5, () => ({ uid: uid('User', `admin-${int(3)}`), attrs: { kind: 'certificate', organization: 'idra', profile: 'admin', fingerprint: `fp-${int(1e6)}` },
      parents: [uid('Role', 'admin')] })],
  ])();
}
function prefixChain(prefix, out) {
  const parts = prefix.split('.');
  for (let i = parts.length; i >= 1; i--) {
    const p = parts.slice(0, i).join('.');
    out.push({ uid: uid('Prefix', p), attrs: {}, parents: i > 1 ? [uid('Prefix', parts.slice(0, i - 1).join('.'))] : [] });
  }
}
function identifier(h, out) {
  const prefix = h.slice(0, h.indexOf('/'));
  out.push({ uid: uid('Identifier', h), attrs: {}, parents: [uid('Prefix', prefix)] });
  prefixChain(prefix, out);
}
const perms = () => PERMS.filter(() => chance(0.25));
function handleContext(change) {
  return { handleAdmin: chance(0.5) ? [] : perms(), publicOnly: chance(0.2), change };
}

function request() {
  const p = principal();
  const entities = [{ uid: p.uid, attrs: p.attrs, parents: p.parents }];
  if (p.org) {
    const i = ORGS.indexOf(p.org);
    entities.push({ uid: uid('Org', p.org), attrs: i % 2 ? { grantedTypes: TYPES.filter((_, k) => (k + i) % 3 === 0) } : {}, parents: [] });
  }
  const action = wpick([[40, 'readValue'], [25, 'resolve'], [10, 'update'], [3, 'register'], [2, 'delete'],
    [5, 'listHandles'], [3, 'homePrefix'], [5, 'cert'], [7, 'readAudit']]);
  let resource, context, act = action;
  if (action === 'readValue' || action === 'update') {
    // A device mostly acts on its own record.
    const h = p.uid.type === 'Device' && chance(0.5) ? p.uid.id : handleIn(pick(SUB));
    const index = pick([1, 2, 3, 100, 101, 200, 300]);
    const type = index === 100 ? 'HS_ADMIN' : pick(TYPES);
    resource = uid('Value', `${h}#${index}`);
    entities.push({ uid: resource, parents: [uid('Identifier', h)],
      attrs: { type, index, publicRead: chance(0.7), adminRead: true, publicWrite: chance(0.05), adminWrite: true } });
    identifier(h, entities);
    context = handleContext(action === 'update' ? pick(['add', 'modify', 'remove']) : '');
  } else if (action === 'resolve' || action === 'register' || action === 'delete') {
    const h = handleIn(pick(SUB));
    resource = uid('Identifier', h);
    identifier(h, entities);
    context = handleContext('');
  } else if (action === 'listHandles' || action === 'homePrefix') {
    const prefix = pick(PREFIXES);
    resource = uid('Prefix', prefix);
    prefixChain(prefix, entities);
    context = handleContext(action === 'homePrefix' ? pick(['home', 'unhome']) : '');
  } else if (action === 'cert') {
    act = pick(['enroll', 'revoke', 'issueToken', 'reenroll']);
    const h = handleIn(pick(SUB));
    resource = uid('Certificate', `serial-${int(1e6)}`);
    entities.push({ uid: resource, attrs: {}, parents: [uid('Identifier', h)] });
    identifier(h, entities);
    context = { profile: pick(['device', 'server', 'partner', '']) };
  } else {
    resource = uid('AuditLog', 'log');
    entities.push({ uid: resource, attrs: {}, parents: [] });
    context = {};
  }
  // Action groups, as in the schema: the request's action and its group.
  const group = { resolve: 'read', listHandles: 'read', readValue: 'read', register: 'write', delete: 'write',
    update: 'write', homePrefix: 'write', enroll: 'certificates', reenroll: 'certificates', revoke: 'certificates',
    issueToken: 'certificates', readAudit: 'audit' }[act];
  entities.push({ uid: uid('Action', act), attrs: {}, parents: [uid('Action', group)] });
  entities.push({ uid: uid('Action', group), attrs: {}, parents: [] });
  // Roles the principal names (they are entities without attributes).
  for (const parent of p.parents) if (parent.type === 'Role') entities.push({ uid: parent, attrs: {}, parents: [] });
  // De-duplicate (a device's own record may already be the resource's).
  const seen = new Set();
  const unique = entities.filter((e) => {
    const k = `${e.uid.type}::${e.uid.id}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { principal: p.uid, action: uid('Action', act), resource, context, entities: unique };
}

// Template links: grants to partner users, freezes on organizations.
const links = [];
for (let i = 0; i < nLinks; i++) {
  if (i % 2 === 0) {
    links.push({ template: 't-grant', id: `l${i}`, slots: { '?principal': uid('User', `partner-${int(200)}`), '?resource': uid('Prefix', pick(PREFIXES)) } });
  } else {
    links.push({ template: 't-freeze', id: `l${i}`, slots: { '?principal': uid('Org', pick(ORGS)), '?resource': uid('Prefix', pick(TOP)) } });
  }
}

const requests = Array.from({ length: nRequests }, request);
process.stdout.write(JSON.stringify({ seed, policies, links, requests }) + '\n');
