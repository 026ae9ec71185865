// gen.mjs: the cases of the differential test, from a fixed seed.
//
// A case is one JSON object (written one a line, NDJSON):
//   {"id", "kind": "auth", "policies": [{"id", "text", "template"}], "links": [...],
//    "entities": [Cedar JSON entities], "requests": [{principal, action, resource, context}]}
//   {"id", "kind": "validate", "schema": cedarschema text, "policies": [...], "links": [...]}
// Each policy's id is the one idra gives it (its @id annotation, else
// "policy<N>" with N its position among the policies and templates of the
// text), and the Cedar side is handed the same ids explicitly.
//
// Usage as a program: node gen.mjs [--random N] [--mutants N] [--validate N] [--seed S] > cases.ndjson
// The same arguments always give the same cases (mulberry32 PRNG, no Math.random).

import { CONDITIONS, POLICY_SETS, ENTITY_SETS, ENTITY_POLICY, CONTEXTS, CONTEXT_POLICY, SCHEMA_PROBES } from './probes.mjs';

// ---------------------------------------------------------------------------
// PRNG

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(seed) { this.next = mulberry32(seed); }
  int(n) { return Math.floor(this.next() * n); }          // 0 .. n-1
  chance(p) { return this.next() < p; }
  pick(xs) { return xs[this.int(xs.length)]; }
  subset(xs, p) { return xs.filter(() => this.chance(p)); }
  // weighted picks from [[weight, value], ...]
  wpick(pairs) {
    const total = pairs.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of pairs) { if ((r -= w) < 0) return v; }
    return pairs[pairs.length - 1][1];
  }
}

// ---------------------------------------------------------------------------
// Cedar text helpers

// str renders a JS string as a Cedar string literal.
function str(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}
const uidText = (u) => `${u.type}::${str(u.id)}`;
const uid = (type, id) => ({ type, id });
const extn = (fn, arg) => ({ __extn: { fn, arg } });

// ---------------------------------------------------------------------------
// The entity universe of the random cases

const ENTITY_TYPES = ['User', 'Group', 'Doc', 'Folder', 'App::Res'];
const ACTIONS = ['read', 'write', 'delete', 'share'];
const ACTION_GROUPS = { readOnly: ['read'], edit: ['write', 'delete'], all: ['readOnly', 'edit', 'share'] };
const ALL_ACTIONS = [...ACTIONS, ...Object.keys(ACTION_GROUPS)];
const IDS = {
  User: ['alice', 'bob', 'carol', 'd "q"'],
  Group: ['admins', 'staff', 'all'],
  Doc: ['d0', 'd1', 'd2', ''],
  Folder: ['root', 'sub'],
  'App::Res': ['r0', 'r1'],
};
// Entities that requests and policies may name but that are never in the store.
const GHOSTS = [uid('User', 'ghost'), uid('Doc', 'gone'), uid('Nope', 'x')];

const STRINGS = ['alice', '', 'a*b', 'abc', 'héllo', 'x\\y', 'foo bar', 'admins', 'a"b', 'ab*', '*'];
const SMALL_LONGS = [0, 1, -1, 2, 7, 42, -100, 1000, 2147483647];
const IPS_GOOD = ['10.0.0.1', '127.0.0.1', '192.168.1.0/24', '224.0.0.1', '::1', 'ff02::1', '2001:db8::/32',
  '10.0.0.0/8', '0.0.0.0', '::', '127.0.0.2/8', 'fe80::1:2', '10.1.2.3/16', '::1/128', 'FF00::/8'];
// Cedar rejects these (IPv4 embedded in IPv6 included); they appear only in policy text, where
// the error skips one policy, never in entities, where it would reject the whole request.
const IPS_BAD = ['1.2.3', '::1/129', '10.0.0.1/33', 'not-an-ip', '01.2.3.4', '1.2.3.4/', '', '::ffff:10.0.0.1',
  '1.2.3.4 ', '1:2:3:4:5:6:7:8:9', '10.0.0.1/08'];
const DECS_GOOD = ['0.0', '1.5', '-1.5', '3.14', '1.2345', '-0.0001', '922337203685477.5807', '-922337203685477.5808',
  '100.0', '1.0'];
const DECS_BAD = ['1.23456', 'abc', '1', '.5', '922337203685477.5808', '1.', '+1.0', ''];

function attrValue(rng, kind, universe) {
  switch (kind) {
    case 'long': return rng.pick(SMALL_LONGS);
    case 'string': return rng.pick(STRINGS);
    case 'bool': return rng.chance(0.5);
    case 'strs': return rng.subset(STRINGS, 0.3);
    case 'nums': return rng.subset(SMALL_LONGS, 0.3);
    case 'entity': { const u = rng.chance(0.9) ? rng.pick(universe) : rng.pick(GHOSTS); return { __entity: u }; }
    case 'ents': return rng.subset(universe, 0.2).map((u) => ({ __entity: u }));
    case 'ip': return extn('ip', rng.pick(IPS_GOOD));
    case 'decimal': return extn('decimal', rng.pick(DECS_GOOD));
    case 'info': {
      const r = { level: rng.pick(SMALL_LONGS) };
      if (rng.chance(0.6)) r.sub = rng.chance(0.8) ? { flag: rng.chance(0.5), label: rng.pick(STRINGS) } : {};
      if (rng.chance(0.2)) r['odd key'] = rng.pick(STRINGS);
      return r;
    }
    default: throw new Error(kind);
  }
}

// ENTITY_ATTRS: the attributes an entity may have, with their usual kind.
const ENTITY_ATTRS = { age: 'long', name: 'string', flag: 'bool', tags: 'strs', nums: 'nums', owner: 'entity',
  manager: 'entity', friends: 'ents', addr: 'ip', score: 'decimal', info: 'info' };
const CONTEXT_ATTRS = { n: 'long', s: 'string', b: 'bool', ip: 'ip', dec: 'decimal', nums: 'nums', strs: 'strs',
  ent: 'entity', ents: 'ents', rec: 'info' };
const KINDS = ['long', 'string', 'bool', 'strs', 'nums', 'entity', 'ip', 'decimal', 'info'];

function randomRecord(rng, attrs, universe, pPresent) {
  const r = {};
  for (const [name, kind] of Object.entries(attrs)) {
    if (!rng.chance(pPresent)) continue;
    // Now and then an attribute of the wrong kind, so type errors happen at run time.
    r[name] = attrValue(rng, rng.chance(0.06) ? rng.pick(KINDS) : kind, universe);
  }
  return r;
}

function randomContext(rng, universe) {
  const c = randomRecord(rng, CONTEXT_ATTRS, universe, 0.8);
  if (rng.chance(0.7)) c.ipstr = rng.chance(0.7) ? rng.pick(IPS_GOOD) : rng.pick(IPS_BAD);
  if (rng.chance(0.7)) c.decstr = rng.chance(0.7) ? rng.pick(DECS_GOOD) : rng.pick(DECS_BAD);
  return c;
}

function actionEntities() {
  const parents = {};
  for (const [g, members] of Object.entries(ACTION_GROUPS)) {
    for (const m of members) (parents[m] ||= []).push(uid('Action', g));
  }
  return ALL_ACTIONS.map((a) => ({ uid: uid('Action', a), attrs: {}, parents: parents[a] || [] }));
}

function randomEntities(rng) {
  const universe = [];
  for (const t of ENTITY_TYPES) for (const id of IDS[t]) universe.push(uid(t, id));
  const byType = (t) => universe.filter((u) => u.type === t);
  const entities = [];
  for (const u of universe) {
    if (rng.chance(0.05)) continue;  // some named entities are missing from the store
    let parents = [];
    const groups = byType('Group'), folders = byType('Folder');
    if (u.type === 'User') parents = rng.subset(groups, 0.4);
    if (u.type === 'Group') parents = rng.subset(groups.slice(0, groups.findIndex((g) => g.id === u.id)), 0.5);
    if (u.type === 'Doc' || u.type === 'App::Res') parents = rng.subset(folders, 0.5);
    if (u.type === 'Folder') parents = rng.subset(folders.slice(0, folders.findIndex((f) => f.id === u.id)), 0.7);
    if (rng.chance(0.05)) parents.push(rng.pick(GHOSTS));  // a parent that is not in the store
    const e = { uid: u, attrs: randomRecord(rng, ENTITY_ATTRS, universe, 0.65), parents };
    if (rng.chance(0.3)) {
      e.tags = {};
      for (const k of rng.subset(['k', 'level', 'color'], 0.5)) e.tags[k] = attrValue(rng, rng.pick(['long', 'string']), universe);
    }
    entities.push(e);
  }
  return { universe, entities: entities.concat(actionEntities()) };
}

// ---------------------------------------------------------------------------
// Expressions. gen(type, depth) returns Cedar text meant to have |type|
// (bool, long, string, entity, set, record, ip, decimal); now and then it
// returns something else, so that evaluation errors are exercised too.

const TYPES = ['bool', 'long', 'string', 'entity', 'set', 'record', 'ip', 'decimal'];
const BIG_LONGS = ['9223372036854775807', '4611686018427387904', '3037000500', '-9223372036854775808',
  '9223372036854775806'];
const LIKE_PATTERNS = ['*', 'a*', '*b', 'a*b', 'a\\*b', '', 'alice', '*l*', '\\**', 'h\\u{e9}llo', 'x\\\\y',
  'foo*bar', '**', 'a\\"b'];

class ExprGen {
  // |attrs| are entity attribute names by kind, |ctx| context names by kind
  // (both may name attributes that do not exist), |uids| entity literals.
  constructor(rng, { uids, entityTypes, errorRate = 0.05 }) {
    this.rng = rng;
    this.uids = uids;
    this.entityTypes = entityTypes;
    this.errorRate = errorRate;
  }

  entityAttr(kind) {
    const names = Object.entries(ENTITY_ATTRS).filter(([, k]) => k === kind).map(([n]) => n);
    return this.rng.pick(names.length && !this.rng.chance(0.05) ? names : Object.keys(ENTITY_ATTRS).concat(['nope']));
  }
  contextAttr(kind) {
    const names = Object.entries(CONTEXT_ATTRS).filter(([, k]) => k === kind).map(([n]) => n);
    if (kind === 'string') names.push('ipstr', 'decstr');
    return this.rng.pick(names.length && !this.rng.chance(0.05) ? names : Object.keys(CONTEXT_ATTRS).concat(['nope']));
  }
  // access renders `e.name` or `e["name"]`.
  access(e, name) {
    if (this.rng.chance(0.2) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `${e}[${str(name)}]`;
    return `${e}.${name}`;
  }
  // entityVar is an entity-typed expression that is cheap and usually in the store.
  entityVar(d) {
    const r = this.rng;
    const e = r.wpick([[4, 'principal'], [4, 'resource'], [1, 'action'], [2, uidText(r.pick(this.uids))],
      [d > 0 ? 2 : 0, () => this.gen('entity', d - 1)]]);
    return typeof e === 'function' ? e() : e;
  }
  attrOf(kind, d) {
    const r = this.rng;
    if (r.chance(0.35)) return this.access('context', this.contextAttr(kind));
    return this.access(this.entityVar(d), this.entityAttr(kind));
  }

  gen(type, d) {
    const r = this.rng;
    if (r.chance(this.errorRate)) type = r.pick(TYPES);  // ill-typed on purpose
    const leaf = d <= 0 || r.chance(0.25);
    const f = this[`g_${type}`].bind(this);
    return f(leaf, Math.max(d, 0));
  }

  ite(type, d) {
    return `(if ${this.gen('bool', d - 1)} then ${this.gen(type, d - 1)} else ${this.gen(type, d - 1)})`;
  }

  g_bool(leaf, d) {
    const r = this.rng;
    if (leaf) {
      return r.wpick([[2, () => r.pick(['true', 'false'])], [2, () => this.attrOf('bool', 0)],
        [2, () => `(${r.pick(['principal', 'resource', 'context'])} has ${r.pick(Object.keys(ENTITY_ATTRS).concat(['n', 'b', 'rec']))})`],
        [1, () => `(${this.entityVar(0)} in ${this.entityVar(0)})`],
        [1, () => `(${r.pick(['principal', 'resource'])} is ${r.pick(this.entityTypes)})`]])();
    }
    const g = (t) => this.gen(t, d - 1);
    const op = r.wpick([
      [3, 'and'], [3, 'or'], [2, 'not'], [1, 'ite'], [3, 'cmp'], [3, 'eq'], [2, 'has'], [1, 'hasdeep'], [2, 'like'],
      [2, 'in'], [1, 'inset'], [2, 'is'], [1, 'isin'], [2, 'contains'], [1, 'containsAll'], [1, 'containsAny'],
      [1, 'isEmpty'], [2, 'ipm'], [1, 'inRange'], [2, 'decm'], [1, 'tag'], [1, 'gettag'],
    ]);
    switch (op) {
      case 'and': return `(${g('bool')} && ${g('bool')})`;
      case 'or': return `(${g('bool')} || ${g('bool')})`;
      case 'not': return `!${g('bool')}`;
      case 'ite': return this.ite('bool', d);
      case 'cmp': return `(${g('long')} ${r.pick(['<', '<=', '>', '>='])} ${g('long')})`;
      case 'eq': {
        const t = r.pick(TYPES);
        return `(${g(t)} ${r.pick(['==', '!='])} ${this.gen(r.chance(0.9) ? t : r.pick(TYPES), d - 1)})`;
      }
      case 'has': {
        const base = r.chance(0.6) ? this.entityVar(0) : r.pick(['context', 'context.rec', 'principal.info', g('record')]);
        const name = r.pick(Object.keys(ENTITY_ATTRS).concat(['n', 'rec', 'level', 'sub', 'odd key', 'nope']));
        return `(${base} has ${/ /.test(name) || r.chance(0.15) ? str(name) : name})`;
      }
      case 'hasdeep': return r.pick([`(principal has info.sub)`, `(context has rec.sub.flag)`, `(resource has info.sub.label)`,
        `(context has rec.level)`, `(${this.entityVar(0)} has owner.name)`, `({a: {b: 1}} has a.b)`]);
      // LIKE_PATTERNS are Cedar source text (`\*` is a literal star).
      case 'like': return `(${g('string')} like "${r.pick(LIKE_PATTERNS)}")`;
      case 'in': return `(${g('entity')} in ${g('entity')})`;
      case 'inset': return `(${g('entity')} in ${r.chance(0.5) ? `[${g('entity')}, ${g('entity')}]` : this.attrOf('ents', 0)})`;
      case 'is': return `(${g('entity')} is ${r.pick(this.entityTypes.concat(['Action', 'Nope']))})`;
      case 'isin': return `(${g('entity')} is ${r.pick(this.entityTypes)} in ${r.chance(0.7) ? g('entity') : `[${g('entity')}]`})`;
      case 'contains': return `${this.setOf(d)}.contains(${g(r.pick(['long', 'string', 'entity']))})`;
      case 'containsAll': return `${this.setOf(d)}.containsAll(${this.setOf(d)})`;
      case 'containsAny': return `${this.setOf(d)}.containsAny(${this.setOf(d)})`;
      case 'isEmpty': return `${this.setOf(d)}.isEmpty()`;
      case 'ipm': return `${g('ip')}.${r.pick(['isIpv4', 'isIpv6', 'isLoopback', 'isMulticast'])}()`;
      case 'inRange': return `${g('ip')}.isInRange(${g('ip')})`;
      case 'decm': return `${g('decimal')}.${r.pick(['lessThan', 'lessThanOrEqual', 'greaterThan', 'greaterThanOrEqual'])}(${g('decimal')})`;
      case 'tag': return `${this.entityVar(0)}.hasTag(${r.chance(0.8) ? str(r.pick(['k', 'level', 'color', 'x'])) : g('string')})`;
      case 'gettag': return `(${this.entityVar(0)}.getTag(${str(r.pick(['k', 'level', 'color']))}) == ${g(r.pick(['long', 'string']))})`;
      default: throw new Error(op);
    }
  }

  setOf(d) {
    const r = this.rng;
    if (d <= 0 || r.chance(0.5)) {
      return r.pick([this.attrOf('strs', 0), this.attrOf('nums', 0), this.attrOf('ents', 0), '[]', '[1, 2, 3]',
        '["alice", "abc"]', `[${uidText(r.pick(this.uids))}]`]);
    }
    return this.gen('set', d - 1);
  }

  g_long(leaf, d) {
    const r = this.rng;
    if (leaf) {
      return r.wpick([[4, () => String(r.pick(SMALL_LONGS))], [2, () => r.pick(BIG_LONGS)],
        [3, () => this.attrOf('long', 0)], [1, () => this.access('context.rec', 'level')],
        [1, () => this.access('principal.info', 'level')]])();
    }
    const g = (t) => this.gen(t, d - 1);
    return r.wpick([
      [3, () => `(${g('long')} + ${g('long')})`], [3, () => `(${g('long')} - ${g('long')})`],
      [3, () => `(${g('long')} * ${g('long')})`], [2, () => `(-${g('long')})`], [1, () => this.ite('long', d)],
      [1, () => `${this.entityVar(0)}.getTag("level")`], [1, () => `{n: ${g('long')}, m: 1}.n`],
    ])();
  }

  g_string(leaf, d) {
    const r = this.rng;
    if (leaf || r.chance(0.4)) {
      return r.wpick([[3, () => str(r.pick(STRINGS))], [3, () => this.attrOf('string', 0)],
        [1, () => this.access('principal.info', 'sub') + '.label']])();
    }
    return r.wpick([[1, () => this.ite('string', d)], [1, () => `${this.entityVar(0)}.getTag("color")`],
      [1, () => `{s: ${this.gen('string', d - 1)}}["s"]`]])();
  }

  g_entity(leaf, d) {
    const r = this.rng;
    if (leaf || r.chance(0.4)) {
      return r.wpick([[4, () => r.pick(['principal', 'resource', 'action'])], [3, () => uidText(r.pick(this.uids))],
        [3, () => this.attrOf('entity', 0)]])();
    }
    return r.wpick([[1, () => this.ite('entity', d)], [2, () => this.access(this.gen('entity', d - 1), r.pick(['owner', 'manager']))]])();
  }

  g_set(leaf, d) {
    const r = this.rng;
    if (leaf) return this.setOf(0);
    const t = r.pick(['long', 'string', 'entity', 'bool', 'record', 'ip', 'decimal', 'set']);
    const n = r.int(4);
    const els = [];
    for (let i = 0; i < n; i++) els.push(this.gen(r.chance(0.9) ? t : r.pick(TYPES), d - 1));
    return r.wpick([[4, () => `[${els.join(', ')}]`], [1, () => this.ite('set', d)]])();
  }

  g_record(leaf, d) {
    const r = this.rng;
    if (leaf || r.chance(0.4)) return r.pick(['context.rec', 'principal.info', 'context', 'resource.info', '{}', 'context.rec.sub']);
    const keys = r.subset(['a', 'b', 'level', 'sub', 'odd key'], 0.5);
    return `{${keys.map((k) => `${/ /.test(k) ? str(k) : k}: ${this.gen(r.pick(TYPES), d - 1)}`).join(', ')}}`;
  }

  g_ip(leaf, d) {
    const r = this.rng;
    return r.wpick([[4, () => `ip(${str(r.chance(0.85) ? r.pick(IPS_GOOD) : r.pick(IPS_BAD))})`],
      [2, () => this.attrOf('ip', 0)], [1, () => 'ip(context.ipstr)'], [leaf ? 0 : 1, () => this.ite('ip', d)]])();
  }

  g_decimal(leaf, d) {
    const r = this.rng;
    return r.wpick([[4, () => `decimal(${str(r.chance(0.85) ? r.pick(DECS_GOOD) : r.pick(DECS_BAD))})`],
      [2, () => this.attrOf('decimal', 0)], [1, () => 'decimal(context.decstr)'],
      [leaf ? 0 : 1, () => this.ite('decimal', d)]])();
  }
}

// ---------------------------------------------------------------------------
// Policies

// scope renders one scope constraint; |slot| allows ?principal/?resource.
function scopeText(rng, v, uids, types, slot) {
  const e = () => uidText(rng.pick(uids));
  const t = () => rng.pick(types);
  const s = `?${v}`;
  // Unconstrained most of the time, so that conditions get evaluated.
  const options = [[12, v], [2, `${v} == ${e()}`], [3, `${v} in ${e()}`], [3, `${v} is ${t()}`],
    [2, `${v} is ${t()} in ${e()}`]];
  if (slot) options.push([3, `${v} == ${s}`], [3, `${v} in ${s}`], [2, `${v} is ${t()} in ${s}`]);
  return rng.wpick(options);
}

function actionScope(rng, actions) {
  const a = () => uidText(uid('Action', rng.pick(actions)));
  return rng.wpick([[8, 'action'], [3, `action == ${a()}`], [3, `action in ${a()}`],
    [2, `action in [${[a(), a()].join(', ')}]`], [0.3, 'action in []']]);
}

// PolicyNamer hands out ids the way idra does: @id when present, else policy<N>.
class PolicyNamer {
  constructor(rng) { this.rng = rng; this.n = 0; this.used = new Set(); }
  next(preferId) {
    const pos = this.n++;
    if (preferId) {
      let id;
      do { id = this.rng.pick(['p', 'deny-', 'rule ', 'P']) + this.rng.int(100); } while (this.used.has(id) || /^policy\d+$/.test(id));
      this.used.add(id);
      return { id, annotation: `@id(${str(id)})\n` };
    }
    const id = `policy${pos}`;
    this.used.add(id);
    return { id, annotation: '' };
  }
}

function policyText(rng, eg, { annotation, effect, principal, action, resource, depth, conds }) {
  let text = annotation;
  if (rng.chance(0.2)) text += `@advice(${str(rng.pick(['x', 'ask "admin"', '']))})\n`;
  text += `${effect}(\n  ${principal},\n  ${action},\n  ${resource}\n)`;
  for (let i = 0; i < conds; i++) text += `\n${rng.chance(0.75) ? 'when' : 'unless'} { ${eg.gen('bool', depth)} }`;
  return text + ';';
}

function randomPolicies(rng, eg, { uids, types, actions, maxPolicies, maxDepth, linkUids }) {
  const namer = new PolicyNamer(rng);
  const policies = [], links = [];
  const n = 1 + rng.int(maxPolicies);
  for (let i = 0; i < n; i++) {
    const template = rng.chance(0.2);
    const { id, annotation } = namer.next(rng.chance(0.7));
    let principal = scopeText(rng, 'principal', uids, types, template);
    let resource = scopeText(rng, 'resource', uids, types, template);
    if (template && !principal.includes('?') && !resource.includes('?')) principal = 'principal == ?principal';
    const text = policyText(rng, eg, { annotation, effect: rng.chance(0.8) ? 'permit' : 'forbid', principal,
      action: actionScope(rng, actions), resource, depth: 1 + rng.int(maxDepth), conds: rng.int(3) });
    policies.push({ id, text, template });
    if (template) {
      const nlinks = rng.int(3);  // a template without links is legal and decides nothing
      for (let k = 0; k < nlinks; k++) {
        const slots = {};
        if (principal.includes('?principal')) slots['?principal'] = rng.pick(linkUids);
        if (resource.includes('?resource')) slots['?resource'] = rng.pick(linkUids);
        links.push({ template: id, id: `${id}-link${k}`, slots });
      }
    }
  }
  return { policies, links };
}

function randomAuthCase(rng, id) {
  const { universe, entities } = randomEntities(rng);
  const uids = universe.concat(GHOSTS.slice(0, 2), [uid('Action', 'read')]);
  const types = ENTITY_TYPES;
  const eg = new ExprGen(rng, { uids, entityTypes: types });
  const { policies, links } = randomPolicies(rng, eg, { uids, types, actions: ALL_ACTIONS, maxPolicies: 6, maxDepth: 3,
    linkUids: universe.concat(GHOSTS.slice(0, 1)) });
  const requests = [];
  const nreq = 2 + rng.int(5);
  for (let i = 0; i < nreq; i++) {
    const ent = () => (rng.chance(0.92) ? rng.pick(universe) : rng.pick(GHOSTS));
    requests.push({ principal: ent(), action: uid('Action', rng.pick(ALL_ACTIONS)), resource: ent(),
      context: randomContext(rng, universe) });
  }
  return { id, kind: 'auth', policies, links, entities, requests };
}

// ---------------------------------------------------------------------------
// Mutants: a random case whose policies are changed token by token (deleted,
// doubled, swapped, replaced or inserted), so that the parsers meet text
// that is slightly wrong. Both engines must reject the same texts, and
// decide alike on what they both accept.

const TOKEN_RE = /"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|\d+|==|!=|<=|>=|&&|\|\||::|\s+|./gs;
const VOCAB = ['==', '!=', '<', '<=', '>', '>=', '&&', '||', '!', '-', '+', '*', 'in', 'has', 'like', 'is', 'if', 'then',
  'else', 'true', 'false', '(', ')', '[', ']', '{', '}', ',', '.', ':', '::', 'principal', 'action', 'resource', 'context',
  '?principal', '?resource', '"x"', '"*"', '1', '0', 'when', 'unless', 'permit', 'forbid', '__cedar', '9223372036854775808',
  'User', 'Action::"read"', 'ip', 'decimal', 'contains', 'isEmpty', '@', 'Group::', ' ', '\n', '"\\u{0}"', 'á', '"\\*"'];

function mutate(rng, text) {
  // Annotations stay as they are: they carry the policy's id.
  const head = text.match(/^(@[^\n]*\n)*/)[0];
  let toks = text.slice(head.length).match(TOKEN_RE);
  const solid = () => toks.map((t, i) => i).filter((i) => !/^\s+$/.test(toks[i]) && i !== toks.length - 1);
  const n = 1 + rng.int(2);
  for (let k = 0; k < n; k++) {
    const at = rng.pick(solid());
    switch (rng.int(5)) {
      case 0: toks.splice(at, 1); break;
      case 1: toks.splice(at, 0, toks[at]); break;
      case 2: { const b = solid().find((i) => i > at); if (b !== undefined) [toks[at], toks[b]] = [toks[b], toks[at]]; break; }
      case 3: toks[at] = rng.pick(VOCAB); break;
      default: toks.splice(at, 0, rng.pick(VOCAB), ' ');
    }
  }
  return head + toks.join('');
}

function mutantAuthCase(rng, id) {
  const c = randomAuthCase(rng, id);
  c.policies = c.policies.slice(0, 3);
  const victim = rng.int(c.policies.length);
  const p = c.policies[victim];
  const text = mutate(rng, p.text);
  const template = /\?(principal|resource)\b/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '""'));
  c.policies[victim] = { id: p.id, text, template };
  const keep = new Set(c.policies.filter((q) => q.template && q !== c.policies[victim]).map((q) => q.id));
  c.links = c.links.filter((l) => keep.has(l.template));
  c.requests = c.requests.slice(0, 3);
  return c;
}

// ---------------------------------------------------------------------------
// Enumerated cases: one policy per case, every combination of scope
// constraints over a small fixed universe, decided for every request in it.

function enumeratedAuthCases(startId) {
  const ents = [
    { uid: uid('User', 'alice'), attrs: { age: 30 }, parents: [uid('Group', 'admins')] },
    { uid: uid('User', 'bob'), attrs: {}, parents: [] },
    { uid: uid('Group', 'admins'), attrs: {}, parents: [uid('Group', 'all')] },
    { uid: uid('Group', 'all'), attrs: {}, parents: [] },
    { uid: uid('Doc', 'd1'), attrs: { owner: { __entity: uid('User', 'alice') } }, parents: [uid('Folder', 'f1')] },
    { uid: uid('Folder', 'f1'), attrs: {}, parents: [] },
  ].concat(actionEntities());
  const P = ['principal', 'principal == User::"alice"', 'principal == Group::"admins"', 'principal in Group::"admins"',
    'principal in Group::"all"', 'principal in User::"bob"', 'principal is User', 'principal is Group',
    'principal is User in Group::"all"', 'principal is Group in Group::"all"', 'principal is Doc in Group::"all"'];
  const A = ['action', 'action == Action::"read"', 'action in Action::"readOnly"', 'action in Action::"all"',
    'action in [Action::"write", Action::"share"]', 'action in [Action::"edit"]'];
  const R = ['resource', 'resource == Doc::"d1"', 'resource in Folder::"f1"', 'resource is Doc', 'resource is Folder',
    'resource is Doc in Folder::"f1"', 'resource in Doc::"d1"', 'resource is User'];
  const principals = [uid('User', 'alice'), uid('User', 'bob'), uid('Group', 'admins'), uid('User', 'nobody')];
  const actions = ['read', 'write', 'all'].map((a) => uid('Action', a));
  const resources = [uid('Doc', 'd1'), uid('Folder', 'f1'), uid('Doc', 'other')];
  const requests = [];
  for (const principal of principals) for (const action of actions) for (const resource of resources) {
    requests.push({ principal, action, resource, context: {} });
  }
  const cases = [];
  let id = startId;
  for (const p of P) for (const a of A) for (const r of R) {
    // Alternate the effect and add one condition that needs the hierarchy,
    // so both permit and forbid paths and `in` inside conditions are covered.
    const effect = id % 2 ? 'forbid' : 'permit';
    const cond = id % 3 === 0 ? ' when { principal in resource.owner || resource in principal }' : '';
    const policies = [{ id: 'policy0', text: `${effect}(${p}, ${a}, ${r})${cond};`, template: false }];
    if (effect === 'forbid') policies.push({ id: 'allow-all', text: '@id("allow-all") permit(principal, action, resource);', template: false });
    cases.push({ id: `enum-${id++}`, kind: 'auth', policies, links: [], entities: ents, requests });
  }
  // Templates: every slot form, linked to every entity of the universe.
  const slotForms = [['principal == ?principal', 'resource'], ['principal in ?principal', 'resource'],
    ['principal', 'resource == ?resource'], ['principal', 'resource in ?resource'],
    ['principal is User in ?principal', 'resource is Doc in ?resource'], ['principal in ?principal', 'resource in ?resource']];
  const linkTo = [uid('User', 'alice'), uid('Group', 'admins'), uid('Group', 'all'), uid('Doc', 'd1'), uid('Folder', 'f1'),
    uid('User', 'nobody')];
  for (const [p, r] of slotForms) {
    const policies = [{ id: 't', text: `@id("t") permit(${p}, action, ${r});`, template: true }];
    const links = [];
    linkTo.forEach((u, i) => {
      const slots = {};
      if (p.includes('?')) slots['?principal'] = u;
      if (r.includes('?')) slots['?resource'] = linkTo[(i + 3) % linkTo.length];
      links.push({ template: 't', id: `link${i}`, slots });
    });
    cases.push({ id: `enum-${id++}`, kind: 'auth', policies, links, entities: ents, requests });
  }
  return cases;
}

// ---------------------------------------------------------------------------
// Validation cases: a random schema over the same names, and policies that
// mostly fit it.

const SCHEMA_ATTR_TYPES = { age: 'Long', name: 'String', flag: 'Bool', tags: 'Set<String>', nums: 'Set<Long>',
  owner: 'User', manager: 'User', friends: 'Set<User>', addr: 'ipaddr', score: 'decimal',
  info: '{ level: Long, sub?: { flag: Bool, label: String } }' };
const CONTEXT_TYPES = { n: 'Long', s: 'String', b: 'Bool', ip: 'ipaddr', dec: 'decimal', nums: 'Set<Long>',
  strs: 'Set<String>', ent: 'User', ents: 'Set<User>', rec: '{ level: Long, sub?: { flag: Bool, label: String } }',
  ipstr: 'String', decstr: 'String' };
const WRONG_TYPES = ['Long', 'String', 'Bool', 'Set<Long>', 'Group', 'decimal', '{ a: Long }'];

// schemaAttrs renders a record type with a random part of |table|; the
// names it keeps are added to |kept| when given.
function schemaAttrs(rng, table, pKeep, kept) {
  const parts = [];
  for (const [name, type] of Object.entries(table)) {
    if (!rng.chance(pKeep)) continue;
    if (kept) kept.push(name);
    const t = rng.chance(0.05) ? rng.pick(WRONG_TYPES) : type;
    parts.push(`${name}${rng.chance(0.15) ? '?' : ''}: ${t}`);
  }
  return `{ ${parts.join(', ')} }`;
}

function randomSchema(rng) {
  let s = '';
  // Common types, entity tags, enumerated types and nested sets, now and then.
  const table = { ...SCHEMA_ATTR_TYPES };
  if (rng.chance(0.3)) { s += `type Info = ${table.info};\n`; table.info = 'Info'; }
  if (rng.chance(0.2)) table.nums = 'Set<Set<Long>>';
  if (rng.chance(0.2)) table.owner = rng.pick(['Group', 'Color', 'App::Res']);
  const tags = () => (rng.chance(0.3) ? ` tags ${rng.pick(['String', 'Long', 'Set<String>', 'Info'].filter((t) => t !== 'Info' || table.info === 'Info'))}` : '');
  s += `entity Group in [Group]${rng.chance(0.3) ? ` ${schemaAttrs(rng, table, 0.3)}` : ''}${tags()};\n`;
  s += `entity User in [Group] ${schemaAttrs(rng, table, 0.85)}${tags()};\n`;
  s += 'entity Folder in [Folder];\n';
  s += `entity Doc in [Folder] ${schemaAttrs(rng, table, 0.6)}${tags()};\n`;
  if (rng.chance(0.5) || table.owner === 'Color') s += 'entity Color enum ["red", "green"];\n';
  s += 'namespace App { entity Res in [Folder]; }\n';
  const ptypes = ['User', 'Group'], rtypes = ['Doc', 'Folder', 'App::Res'];
  const actions = [], contexts = {}, applies = {};
  for (const a of ['read', 'write', 'delete', 'share']) {
    if (a !== 'read' && rng.chance(0.15)) continue;
    const ps = rng.subset(ptypes, 0.6), rs = rng.subset(rtypes, 0.6);
    if (!ps.length) ps.push('User');
    if (!rs.length) rs.push('Doc');
    const parent = a !== 'read' && rng.chance(0.3) ? ' in ["edit"]' : (a === 'read' ? ' in ["readOnly"]' : '');
    const kept = [];
    let context = schemaAttrs(rng, CONTEXT_TYPES, 0.8, kept);
    contexts[a] = kept;
    applies[a] = { ps, rs };
    if (rng.chance(0.2)) { s += `type Ctx_${a} = ${context};\n`; context = `Ctx_${a}`; }
    s += `action ${a}${parent} appliesTo { principal: [${ps.join(', ')}], resource: [${rs.join(', ')}], context: ${context} };\n`;
    actions.push(a);
  }
  s += 'action readOnly, edit;\n';
  return { text: s, actions: actions.concat(['readOnly', 'edit']), contexts, applies };
}

function randomValidateCase(rng, id) {
  const schema = randomSchema(rng);
  const uids = [uid('User', 'alice'), uid('Group', 'admins'), uid('Doc', 'd0'), uid('Folder', 'root'), uid('App::Res', 'r0')];
  if (rng.chance(0.1)) uids.push(uid('Nope', 'x'));
  const types = ['User', 'Group', 'Doc', 'Folder', 'App::Res'];
  const eg = new ExprGen(rng, { uids, entityTypes: types, errorRate: 0.02 });
  const actions = rng.chance(0.1) ? schema.actions.concat(['unknown']) : schema.actions;
  const { policies, links } = randomPolicies(rng, eg, { uids, types, actions, maxPolicies: 3, maxDepth: 2,
    linkUids: uids.slice(0, 5).concat(rng.chance(0.1) ? [uid('Nope', 'x')] : []) });
  // Requests for validate_request: mostly of the types and context shape the
  // schema declares, now and then not.
  const { universe } = randomEntities(rng);
  const requests = [];
  for (let i = 0; i < 3; i++) {
    const action = rng.wpick([[17, () => rng.pick(Object.keys(schema.applies))], [2, () => rng.pick(schema.actions)],
      [1, () => 'unknown']])();
    const context = {};
    for (const k of schema.contexts[action] || []) {
      if (!rng.chance(0.98)) continue;
      const kind = CONTEXT_ATTRS[k] || 'string';
      context[k] = attrValue(rng, rng.chance(0.03) ? rng.pick(KINDS) : kind, universe.filter((u) => u.type === 'User'));
    }
    if (rng.chance(0.03)) context.extra = 1;
    const applies = schema.applies[action] || { ps: ['User'], rs: ['Doc'] };
    const ent = (types) => {
      if (rng.chance(0.1)) return rng.chance(0.5) ? rng.pick(universe) : rng.pick(GHOSTS);
      return rng.pick(universe.filter((u) => types.includes(u.type)));
    };
    requests.push({ principal: ent(applies.ps), action: uid('Action', action), resource: ent(applies.rs), context });
  }
  return { id, kind: 'validate', schema: schema.text, policies, links, requests };
}

// ---------------------------------------------------------------------------
// Probe cases (probes.mjs): fixed corner cases, decided in every run.

const PROBE_ENTITIES = [
  { uid: uid('User', 'alice'), parents: [uid('Group', 'admins')], tags: { k: 'v' },
    attrs: { name: 'alice', age: 30, info: { level: 1, sub: { flag: true } }, 'odd key': 'v', tags: ['alice', 'x'],
      friends: [{ __entity: uid('Group', 'admins') }], manager: { __entity: uid('User', 'bob') },
      owner: { __entity: uid('User', 'alice') }, if: 1, is: 1, in: 1, true: 1, permit: 1, principal: 1, __cedar: 1,
      then: 1, like: 1, has: 1, 'ñ': 1, isIpv4: 1 } },
  { uid: uid('User', 'bob'), parents: [], attrs: { name: 'bob', manager: { __entity: uid('User', 'alice') } } },
  { uid: uid('Group', 'admins'), parents: [uid('Group', 'all')], attrs: {} },
  { uid: uid('Group', 'all'), parents: [], attrs: {} },
  { uid: uid('Doc', 'd1'), parents: [uid('Folder', 'root')], attrs: { owner: { __entity: uid('User', 'alice') } } },
  { uid: uid('Folder', 'root'), parents: [], attrs: {} },
  { uid: uid('App::Res', 'r0'), parents: [uid('Folder', 'root')], attrs: {} },
].concat(actionEntities());
const PROBE_CONTEXT = { n: 1, s: 'abc', b: true, ip: extn('ip', '10.0.0.1'), dec: extn('decimal', '1.5'), nums: [1, 2],
  ent: { __entity: uid('User', 'bob') }, ipstr: '10.0.0.1', decstr: '1.5' };
const PROBE_REQUESTS = [
  { principal: uid('User', 'alice'), action: uid('Action', 'read'), resource: uid('Doc', 'd1'), context: PROBE_CONTEXT },
  { principal: uid('User', 'bob'), action: uid('Action', 'write'), resource: uid('Folder', 'root'), context: { ...PROBE_CONTEXT, n: -5, b: false } },
  { principal: uid('User', 'ghost'), action: uid('Action', 'all'), resource: uid('App::Res', 'r0'), context: {} },
];

// idsOf names policy texts as idra does: @id("..."), else policy<N>.
function idsOf(texts) {
  return texts.map((text, n) => {
    const m = text.match(/@id\(("(?:[^"\\]|\\.)*")\)/);
    if (!m) return `policy${n}`;
    try { return JSON.parse(m[1]); } catch { return m[1]; }
  });
}
function policiesOf(texts) {
  const ids = idsOf(texts);
  return texts.map((text, i) => ({ id: ids[i], text, template: /\?(principal|resource)/.test(text) }));
}

function probeCases() {
  const cases = [];
  CONDITIONS.forEach((cond, i) => {
    cases.push({ id: `probe-cond-${i}`, kind: 'auth', links: [], entities: PROBE_ENTITIES, requests: PROBE_REQUESTS,
      policies: [{ id: 'policy0', text: `permit(principal, action, resource) when { ${cond}\n};`, template: false }] });
  });
  POLICY_SETS.forEach((texts, i) => {
    const policies = policiesOf(texts);
    // Every template is linked once, to the first request's principal and resource.
    const links = policies.filter((p) => p.template).map((p) => {
      const slots = {};
      if (p.text.includes('?principal')) slots['?principal'] = uid('User', 'alice');
      if (p.text.includes('?resource')) slots['?resource'] = uid('Doc', 'd1');
      return { template: p.id, id: `${p.id}-link`, slots };
    });
    cases.push({ id: `probe-set-${i}`, kind: 'auth', links, entities: PROBE_ENTITIES, requests: PROBE_REQUESTS, policies });
  });
  const entityPolicies = policiesOf(ENTITY_POLICY.split('\n'));
  ENTITY_SETS.forEach((entities, i) => {
    cases.push({ id: `probe-entities-${i}`, kind: 'auth', links: [], entities, policies: entityPolicies,
      requests: [{ principal: uid('User', 'alice'), action: uid('Action', 'read'), resource: uid('Doc', 'd1'), context: {} }] });
  });
  const contextPolicies = policiesOf(CONTEXT_POLICY.split('\n'));
  CONTEXTS.forEach((context, i) => {
    cases.push({ id: `probe-context-${i}`, kind: 'auth', links: [], entities: PROBE_ENTITIES, policies: contextPolicies,
      requests: [{ principal: uid('User', 'alice'), action: uid('Action', 'read'), resource: uid('Doc', 'd1'), context }] });
  });
  SCHEMA_PROBES.forEach(([schema, texts], i) => {
    const policies = policiesOf(texts);
    const links = policies.filter((p) => p.template).map((p) => {
      const slots = {};
      if (p.text.includes('?principal')) slots['?principal'] = uid('User', 'alice');
      if (p.text.includes('?resource')) slots['?resource'] = uid('Doc', 'd1');
      return { template: p.id, id: `${p.id}-link`, slots };
    });
    cases.push({ id: `probe-schema-${i}`, kind: 'validate', schema, policies, links });
  });
  return cases;
}

// ---------------------------------------------------------------------------

export function generate({ seed = 20261201, random = 2500, mutants = 600, validate = 800, enumerated = true } = {}) {
  const rng = new Rng(seed);
  const cases = probeCases();
  for (let i = 0; i < random; i++) cases.push(randomAuthCase(rng, `rand-${i}`));
  for (let i = 0; i < mutants; i++) cases.push(mutantAuthCase(rng, `mutant-${i}`));
  if (enumerated) cases.push(...enumeratedAuthCases(0));
  for (let i = 0; i < validate; i++) cases.push(randomValidateCase(rng, `val-${i}`));
  return cases;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : def; };
  const cases = generate({ seed: opt('--seed', 20261201), random: opt('--random', 2500), mutants: opt('--mutants', 600),
    validate: opt('--validate', 800) });
  for (const c of cases) process.stdout.write(JSON.stringify(c) + '\n');
}
