// probes.mjs: hand-written corner cases of the Cedar language that random
// generation rarely reaches (lexer and parser corners, overflow edges,
// extension-string formats, JSON entity forms, validator rules). Each becomes
// one case of gen.mjs, decided by both engines like any other case.

// CONDITIONS: each is the `when` of a policy, evaluated over PROBE_ENTITIES
// with PROBE_REQUESTS. A probe that does not parse must fail in both engines.
export const CONDITIONS = [
  // equality over every kind
  '1 == 1', '"a" == "a"', '[1, 2] == [2, 1, 1]', '{a: 1, b: 2} == {b: 2, a: 1}', '[1] == [1, 1]', '{a: 1} == {a: 1, b: 2}',
  '1 == "1"', 'User::"alice" == User::"alice"', 'User::"alice" == Group::"alice"', '[] == []', '{} == {}',
  'principal == principal', 'context == context', '[[1], [2]] == [[2], [1]]', '[{a: 1}] == [{a: 1}, {a: 1}]',
  'decimal("1.0") == decimal("1.00")', 'decimal("-0.0") == decimal("0.0")', 'ip("10.0.0.1") == ip("10.0.0.1/32")',
  'ip("10.0.0.1/8") == ip("10.0.0.0/8")', 'ip("::1") == ip("0:0::1")', 'ip("::1") == ip("::0001")',
  'ip("10.0.0.1") == ip("::ffff:a00:1")', 'decimal("1.0") == 1', 'ip("1.2.3.4") != decimal("1.0")',
  // arithmetic and overflow
  '9223372036854775807 + 1 > 0', '-9223372036854775808 - 1 < 0', '-9223372036854775808 * -1 > 0',
  '(-9223372036854775807 - 1) == -9223372036854775808', '9223372036854775808 == 1', '-(-9223372036854775808) == 1',
  '- 9223372036854775808 == 0', '-(9223372036854775808) == 0', '--1 == 1', '-(-1) == 1', '----1 == 1', '-----1 == -1',
  '!!true', '!!!!true', '!!!!!true', '9223372036854775807 * 0 == 0', '3037000500 * 3037000500 > 0',
  '-3037000499 * 3037000499 < 0', '4611686018427387904 * 2 > 0', '4611686018427387904 * -2 < 0',
  '1 - -1 == 2', '1--1 == 2', '1 + 2 * 3 == 7', '(1 + 2) * 3 == 9', '2 * 3 + 1 == 7', '10 - 2 - 3 == 5', '0 - 9223372036854775807 - 1 < 0',
  '0 - 9223372036854775807 - 2 < 0', '1 * 1 * 1 * 9223372036854775807 > 0', '007 == 7', '0x10 == 16', '1_000 == 1000',
  // comparisons
  '1 < 2', '2 <= 2', '"a" < "b"', 'decimal("1.0") < decimal("2.0")', 'true < false', '1 < true', 'principal < resource',
  '1 < 2 < 3', '1 == 1 == true', '(1 == 1) == true', '1 >= 1 && 2 > 1',
  // boolean operators and short-circuiting
  'true || (1 + "a" == 2)', 'false || (1 + "a" == 2)', 'false && (1 + "a" == 2)', 'true && (1 + "a" == 2)',
  'true && 1', 'false || 1', 'true || 1', 'false && 1', '!1', 'if 1 then true else false', 'if true then 1 == 1 else "x"',
  'if false then 1 + "a" else true', 'if true then true else 1 + "a"', '(if true then 1 else "a") == 1',
  '(if context.b then principal else resource) is User', 'if true then if false then false else true else false',
  // strings, escapes and like
  '"\\x41" == "A"', '"\\u{10FFFF}" != ""', '"\\u{D800}" == ""', '"\\q" == "q"', '"\\0" == "\\u{0}"', '"\\\'" == "\'"',
  '"\\r\\n\\t" != ""', '"é" == "\\u{e9}"', '"e\\u{301}" == "é"', '"\\u{1F600}" like "?"', '"\\u{1F600}" like "*"',
  '"abc" like "a*"', '"a*c" like "a\\*c"', '"abc" like "a\\*c"', '"" like ""', '"" like "*"', '"\\u{0}" like "*"',
  '"héllo" like "h*llo"', '"a\\nb" like "a*b"', '"abc" like "**c"', '"abc" like "*b*"', '"abc" like "abc*"',
  '"abc" like "ab"', '"ab" like "abc"', '"*" like "\\*"', '"\\\\" like "\\\\"', '"a" like "\\a"', '"aaa" like "*a*a*a*"',
  '"aa" like "*a*a*a*"', '1 like "1"', 'context.s like context.s', '"x" like "x" == true', 'principal.name like "*"',
  // records, attributes, has
  '{"a b": 1}["a b"] == 1', '{"a b": 1} has "a b"', '{} has a', '{a: {b: 1}} has a.b', '{a: {b: 1}} has a.c',
  '{a: 1} has a.b', '1 has a', 'principal has info.sub.flag', 'principal has info.nope.x', 'principal.info has sub',
  'principal has "odd key"', 'principal["odd key"] == "v"', '{a: 1, a: 2}.a == 1', '{a: 1}.b == 1', '{a: 1}["a"] == 1',
  'context["n"] == context.n', 'context has n', 'context.nope == 1', 'principal.manager.manager.name == "alice"',
  'principal.owner == User::"alice"', 'context.ent.name == "bob"', 'context.ent has name', 'context.implicit == User::"alice"',
  'context.implicit has id', 'context.implicit.type == "User"', 'principal.info.level > 0', 'principal has info && principal.info.level > 0',
  'principal.if == 1', 'principal["if"] == 1', 'principal has if', 'principal.is == 1', 'principal.in == 1', 'principal.true == 1',
  'principal.permit == 1', 'principal.principal == 1', 'principal.__cedar == 1', 'principal.then == 1', 'principal.like == 1',
  'principal.has == 1', 'principal has like', 'principal has "if"', 'principal.ñ == 1', 'principal.isIpv4 == 1',
  // sets
  '[1, 2].contains(1)', '[].isEmpty()', '[[1]].contains([1])', '[{a: 1}].contains({a: 1})', '[ip("10.0.0.1")].contains(ip("10.0.0.1"))',
  '[decimal("1.0")].contains(decimal("1.00"))', '[1, 2].containsAll([])', '[].containsAny([])', '[1].containsAny([2, 1])',
  '[1, "a"].contains("a")', '[1, 1 + "a"].contains(1)', '1.contains(1)', '[1].contains(1, 2)', '[1].containsAll(1)',
  '[1].isEmpty(1)', '"ab".contains("a")', 'principal.isEmpty()', 'principal.tags.contains("alice")', 'context.nums.containsAll([1])',
  '[principal, resource].contains(User::"alice")', '[1, 2] == [1, 2].containsAll([1])',
  // entities, in, is
  'principal in [principal]', 'principal in []', 'principal in [1]', 'principal in [User::"ghost", principal]',
  'User::"ghost" in User::"ghost"', 'User::"ghost" in Group::"admins"', 'action in Action::"all"',
  'action in [Action::"edit", Action::"readOnly"]', 'principal in principal.friends', 'principal in 1', '1 in principal',
  'principal in Group::"all"', 'Group::"all" in principal', 'principal in resource', 'principal is User in principal',
  'principal is App::Res', 'Action::"read" is Action', 'principal is Action', 'principal is User in [Group::"all"]',
  'principal is User in [1]', '1 is User', 'principal is User in 1', 'App :: Res :: "r0" is App::Res', 'App::Res::"r0" in Folder::"root"',
  'principal is __cedar::ipaddr', 'User::"" == User::""', 'User::"\\u{e9}" == User::"é"', 'Group::"admins" in Group::"all"',
  'principal in Group::"admins" && principal in Group::"all"',
  // extension functions
  'ip("10.0.0.1/8").isInRange(ip("10.0.0.0/8"))', 'ip("10.0.0.0/8").isInRange(ip("10.0.0.1/8"))',
  'ip("10.1.0.0/16").isInRange(ip("10.0.0.0/8"))', 'ip("10.0.0.0/8").isInRange(ip("10.1.0.0/16"))',
  'ip("::1").isInRange(ip("10.0.0.0/8"))', 'ip("0.0.0.0/0").isInRange(ip("1.2.3.4"))', 'ip("1.2.3.4").isInRange(ip("0.0.0.0/0"))',
  'ip("127.0.0.1/8").isLoopback()', 'ip("127.255.255.255").isLoopback()', 'ip("128.0.0.1").isLoopback()', 'ip("::1").isLoopback()',
  'ip("::2").isLoopback()', 'ip("::1/64").isLoopback()', 'ip("::ffff:7f00:1").isLoopback()', 'ip("ff00::").isMulticast()',
  'ip("224.0.0.0/4").isMulticast()', 'ip("224.0.0.0/3").isMulticast()', 'ip("239.255.255.255").isMulticast()',
  'ip("240.0.0.0").isMulticast()', 'ip("1.2.3.4").isIpv4()', 'ip("::").isIpv6()', 'ip("1.2.3.4/0").isIpv4()',
  'ip("1.2.3.4/32").isIpv4()', 'ip("1.2.3.4/33").isIpv4()', 'ip("::/0").isIpv6()', 'ip("::/128").isIpv6()', 'ip("::/129").isIpv6()',
  'ip("1.2.3.4/-1").isIpv4()', 'ip("1.2.3.4/+8").isIpv4()', 'ip("1.2.3.04").isIpv4()', 'ip("1.2.3.256").isIpv4()',
  'ip(" 1.2.3.4").isIpv4()', 'ip("1.2.3.4%eth0").isIpv4()', 'ip("fe80::1%eth0").isIpv6()', 'ip("1::2::3").isIpv6()',
  'ip("1:2:3:4:5:6:7:8").isIpv6()', 'ip("1:2:3:4:5:6:7::").isIpv6()', 'ip("::1.2.3.4").isIpv6()', 'ip("FFFF::").isIpv6()',
  'ip("10.0.0.1/8") == ip("10.0.0.1/8")', 'ip("1.2.3.4/08").isIpv4()', 'ip("0.0.0.0").isIpv4()', 'ip("1.2.3").isIpv4()',
  'ip("1.2.3.4").isInRange(1)', 'ip(1).isIpv4()', 'ip("1.2.3.4", "x").isIpv4()', 'ip().isIpv4()', 'ip("1.2.3.4").isIpv4(1)',
  'isIpv4(ip("1.2.3.4"))', 'ip("1.2.3.4").isIpv4', '__cedar::ip("1.2.3.4").isIpv4()', 'ipaddr("1.2.3.4").isIpv4()',
  'ip(context.ipstr).isIpv4()', 'context.ip.isInRange(ip("10.0.0.0/8"))', 'nope("x")', 'principal.nope()',
  'decimal("1.0").lessThan(decimal("1.1"))', 'decimal("-1.5").lessThanOrEqual(decimal("-1.5"))',
  'decimal("1.5").greaterThan(decimal("1.4999"))', 'decimal("1.5").greaterThanOrEqual(decimal("1.50"))',
  'decimal("922337203685477.5807").greaterThan(decimal("-922337203685477.5808"))', 'decimal("922337203685477.5808") == decimal("0.0")',
  'decimal("-922337203685477.5809") == decimal("0.0")', 'decimal("0.00001") == decimal("0.0")', 'decimal("1.0000") == decimal("1.0")',
  'decimal("00001.5") == decimal("1.5")', 'decimal("1_0.0") == decimal("10.0")', 'decimal(" 1.0") == decimal("1.0")',
  'decimal("1.0 ") == decimal("1.0")', 'decimal("-.5") == decimal("-0.5")', 'decimal("1e3") == decimal("1000.0")',
  'decimal("+1.0") == decimal("1.0")', 'decimal("-0.0001").lessThan(decimal("0.0"))', 'decimal("1.0").lessThan(1)',
  'decimal("1.0").lessThan(ip("1.2.3.4"))', 'decimal(1)', 'decimal("1.0").isIpv4()', 'ip("1.2.3.4").lessThan(ip("1.2.3.5"))',
  'decimal(context.decstr).greaterThan(decimal("0.0"))', 'context.dec.lessThan(decimal("100.0"))', 'decimal("١.٠") == decimal("1.0")',
  // tags
  'principal.hasTag("k")', 'principal.getTag("k") == "v"', 'principal.getTag("nope") == 1', 'User::"ghost".hasTag("k")',
  'User::"ghost".getTag("k") == 1', 'principal.hasTag(1)', 'principal.hasTag("k") && principal.getTag("k") == "v"', '1.hasTag("k")',
  'context.hasTag("k")', 'User::"ghost".nope == 1', 'User::"ghost" has nope', 'Doc::"d1" has owner',
  // comments and whitespace
  'true // a comment', 'true /* block */', '  true\n\t', 'principal\n.\nname == "alice"',
];

// POLICY_SETS: whole policy texts, one policy an element (the Cedar side
// gets them one by one; a set one engine rejects must be rejected by the
// other). Ids follow idra's rule (@id, else policy<N>). Duplicate ids and
// texts of zero or two policies are left out: Cedar is handed a map from id
// to the text of exactly one policy, so they cannot be put to it alike.
export const POLICY_SETS = [
  ['permit(principal, action, resource);'],
  ['permit(principal, action, resource)'],
  ['permit(principal, action, resource) when { true } when { true };'],
  ['permit(principal, action, resource) when {};'],
  ['permit(principal, action, resource) when { true } unless { false } when { principal in Group::"all" };'],
  ['permit(principal is User in [Group::"all"], action, resource);'],
  ['permit(action, principal, resource);'],
  ['permit(principal, action, resource, context);'],
  ['permit(principal, action, resource,);'],
  ['permit(principal,action,resource);', 'forbid ( principal , action , resource ) ;'],
  ['Permit(principal, action, resource);'],
  ['permit(principal, action is Action, resource);'],
  ['permit(principal, action == ?principal, resource);'],
  ['permit(principal in ?resource, action, resource);'],
  ['permit(principal, action in [Action::"read", Action::"read"], resource);'],
  ['permit(principal, action == Group::"admins", resource);'],
  ['permit(principal, action in Group::"admins", resource);'],
  ['permit(principal, action in [Group::"admins"], resource);'],
  ['permit(principal == User::"alice", action, resource) when { principal == ?principal };'],
  ['@id("a") @id("b") permit(principal, action, resource);'],
  ['@foo permit(principal, action, resource);'],
  ['@foo("a") @foo("b") permit(principal, action, resource);'],
  ['@id("") permit(principal, action, resource);'],
  ['@id(1) permit(principal, action, resource);'],
  ['@if("x") permit(principal, action, resource);'],
  ['@__cedar("x") permit(principal, action, resource);'],
  ['permit(principal == App::Res::"r0", action == App::Action::"read", resource);'],
  ['permit(principal, action == Action::"read", resource == Action::"read");'],
  ['permit(principal == Action::"read", action, resource);'],
  ['forbid(principal, action, resource) unless { false };', 'permit(principal, action, resource);'],
  ['forbid(principal, action, resource) unless { 1 };', 'permit(principal, action, resource);'],
  ['permit(principal, action, resource) when { 1 };'],
  ['permit(principal, action, resource) when { principal.nope };', 'permit(principal, action, resource) when { true };'],
  ['permit(principal is User, action, resource is Doc in Folder::"root");'],
  ['permit(principal is user, action, resource);'],
  ['permit(principal is User::"alice", action, resource);'],
  ['permit(principal == User, action, resource);'],
  ['permit(principal in [User::"alice"], action, resource);'],
  ['permit(principal, action, resource in [Doc::"d1"]);'],
  ['permit(principal, action, resource) when { resource in ?resource };'],
  ['permit(principal, action == Action::"read", resource) when { action == Action::"read" };'],
  ['permit(principal, action, resource)\nwhen { true }\n;'],
  ['permit(principal, action, resource) // comment\n;'],
  ['permit(principal, action, resource) when { if };'],
  ['permit(principal, action, resource) when { principal.age > 1 } unless { principal.age > 100 };'],
  ['forbid(principal is User, action == Action::"read", resource) when { principal has age && principal.age < 18 };',
    'permit(principal in Group::"admins", action in Action::"all", resource);'],
  ['permit(principal, action, resource) advice { true };'],
  ['permit(principal, action, resource) when { true } when { false };'],
  ['permit(principal, action, resource) when { context.rec.level == 1 || context.rec.level != 1 };'],
  ['permit(\n principal,\n action in [Action::"read", Action::"readOnly", Action::"all"],\n resource\n);'],
  ['permit(principal in Group::"all", action in [], resource);'],
  ['permit(principal, action == Action::"read", resource is Doc);', 'forbid(principal is Group, action, resource);'],
  ['@id("é") permit(principal, action, resource);'],
  ['@id("a\\"b") permit(principal, action, resource);'],
];

// ENTITY_SETS: JSON entity lists in the forms Cedar accepts (and some it
// does not), each decided with one policy that reads them.
export const ENTITY_SETS = [
  [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [] }, { uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { a: 1 }, parents: [] }, { uid: { type: 'User', id: 'alice' }, attrs: { a: 2 }, parents: [] }],
  [{ uid: { __entity: { type: 'User', id: 'alice' } }, attrs: {}, parents: [{ __entity: { type: 'Group', id: 'admins' } }] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { owner: { type: 'User', id: 'bob' } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { owner: { __entity: { type: 'User', id: 'bob' } } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { score: { __extn: { fn: 'decimal', arg: '1.23456' } } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { score: { __extn: { fn: 'ipaddr', arg: '1.2.3.4' } } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { score: { __extn: { fn: 'nope', arg: '1' } } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { score: { fn: 'decimal', arg: '1.5' } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { age: 1.5 }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { age: null }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { age: 1e3 }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { x: { __entity: { type: 'User', id: 'bob' }, extra: 1 } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { x: { __entity: { type: 'User' } } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { x: { type: 'User', id: 'bob', more: 1 } }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { x: [1, [2, 3], { a: [] }] }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: {} }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [], tags: { k: 'v', n: { __extn: { fn: 'ip', arg: '1.2.3.4' } } } }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [{ type: 'Group', id: 'a' }] },
    { uid: { type: 'Group', id: 'a' }, attrs: {}, parents: [{ type: 'Group', id: 'b' }] },
    { uid: { type: 'Group', id: 'b' }, attrs: {}, parents: [{ type: 'Group', id: 'a' }] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [{ type: 'User', id: 'alice' }] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [{ type: 'Group', id: 'a' }] },
    { uid: { type: 'Group', id: 'a' }, attrs: {}, parents: [{ type: 'Group', id: 'b' }] },
    { uid: { type: 'Group', id: 'b' }, attrs: {}, parents: [{ type: 'Group', id: 'c' }] }],
  [{ uid: { type: 'Action', id: 'read' }, attrs: { x: 1 }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: {}, parents: [{ type: 'Action', id: 'read' }] }],
  [{ uid: { type: 'Bad Type', id: 'alice' }, attrs: {}, parents: [] }],
  [{ uid: { type: 'App::Res', id: 'x' }, attrs: {}, parents: [] }, { uid: { type: 'App :: Res', id: 'y' }, attrs: {}, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { 'a b': 1, '': 2 }, parents: [] }],
  [{ uid: { type: 'User', id: 'alice' }, attrs: { big: 9007199254740991, neg: -9007199254740991 }, parents: [] }],
];
export const ENTITY_POLICY = 'permit(principal, action, resource) when { principal in Group::"b" };\n' +
  'permit(principal, action, resource) when { principal.owner == User::"bob" };\n' +
  'permit(principal, action, resource) when { principal.score.lessThan(decimal("2.0")) };\n' +
  'permit(principal, action, resource) when { principal.x == 1 || principal.x.type == "User" };\n' +
  'permit(principal, action, resource) when { principal.getTag("k") == "v" };\n' +
  'permit(principal, action, resource) when { principal.age > 0 || principal["a b"] == 1 || principal.big > 0 };\n' +
  'permit(principal, action, resource) when { principal in Group::"a" && principal in Action::"read" };';

// CONTEXTS: request contexts in the JSON forms Cedar accepts (and not).
export const CONTEXTS = [
  { implicit: { type: 'User', id: 'alice' } }, { x: { __extn: { fn: 'ip', arg: '1.2.3.4' } } }, { x: null }, { x: 1.5 },
  { x: { __extn: { fn: 'decimal', arg: 'x' } } }, { x: [{ __entity: { type: 'User', id: 'alice' } }] }, {},
  { x: { __entity: { type: 'User', id: 'alice' } } }, { 'a b': { c: [[]] } },
];
export const CONTEXT_POLICY = 'permit(principal, action, resource) when { context.implicit == User::"alice" };\n' +
  'permit(principal, action, resource) when { context.x.isIpv4() };\n' +
  'permit(principal, action, resource) when { context has x && context.x.contains(User::"alice") };\n' +
  'permit(principal, action, resource) when { context.x == User::"alice" };';

// SCHEMA_PROBES: [schema text, policy texts] for the validator.
const BASE_SCHEMA = `entity Group in [Group];
entity User in [Group] { age: Long, name: String, nick?: String, tags: Set<String>, addr: ipaddr, score: decimal,
  info: { level: Long, sub?: { flag: Bool } }, manager?: User, "odd key"?: Long };
entity Folder in [Folder];
entity Doc in [Folder] { owner: User, public: Bool, size: Long };
entity Color enum ["red", "green"];
action read appliesTo { principal: [User], resource: [Doc, Folder], context: { n: Long, ip?: ipaddr, s: String } };
action write appliesTo { principal: User, resource: Doc };
action admin appliesTo { principal: Group, resource: Folder };
action view in [read];
`;
export const SCHEMA_PROBES = [
  [BASE_SCHEMA, ['permit(principal, action, resource);']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal.age > 1 };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal.nick == "x" };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has nick && principal.nick == "x" };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal.nick == "x" || true };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { true || principal.nick == "x" };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has nick || principal.nick == "x" };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { !(principal has nick) || principal.nick == "x" };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { if principal has nick then principal.nick == "x" else false };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal.info.sub.flag };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has info.sub && principal.info.sub.flag };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has info.sub.flag && principal.info.sub.flag };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal.manager.age > 1 };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has manager && principal.manager.age > 1 };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has manager.age };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal["odd key"] == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has "odd key" && principal["odd key"] == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal.nope == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { principal has nope };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { resource.owner == principal };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource is Doc) when { resource.owner == principal };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"write", resource) when { resource.owner == principal };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { context.n > 1 && context.s like "a*" };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { context.ip.isLoopback() };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { context has ip && context.ip.isLoopback() };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"write", resource) when { context.n > 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { context.n > 1 };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"nope", resource);']],
  [BASE_SCHEMA, ['permit(principal is Nope, action, resource);']],
  [BASE_SCHEMA, ['permit(principal is Group, action == Action::"read", resource);']],
  [BASE_SCHEMA, ['permit(principal is Group, action == Action::"admin", resource is Doc);']],
  [BASE_SCHEMA, ['permit(principal == Group::"g", action == Action::"read", resource);']],
  [BASE_SCHEMA, ['permit(principal in Group::"g", action == Action::"read", resource);']],
  [BASE_SCHEMA, ['permit(principal in Doc::"g", action == Action::"read", resource);']],
  [BASE_SCHEMA, ['permit(principal, action in Action::"read", resource);']],
  [BASE_SCHEMA, ['permit(principal, action in [Action::"read", Action::"admin"], resource) when { principal.age > 1 };']],
  [BASE_SCHEMA, ['permit(principal, action in [Action::"read", Action::"admin"], resource) when { principal is User && principal.age > 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { 1 == "a" };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal == resource };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { User::"a" == Doc::"b" };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { [1, "a"].contains(1) };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { [].isEmpty() };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { if true then 1 else "a" };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { (if true then 1 else "a") == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { ip("bad").isIpv4() };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { decimal("1.23456").lessThan(decimal("1.0")) };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"read", resource) when { ip(context.s).isIpv4() };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { action.foo == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { Color::"red" == Color::"red" };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { Color::"blue" == Color::"red" };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal in Color::"red" };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.getTag("k") == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { 9223372036854775807 + 1 > 0 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { 1 + true > 0 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal in resource };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { resource in principal };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal is Doc };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { {a: 1}.b == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { {a: 1} has b };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.tags.contains(1) };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.tags.containsAll(["a"]) };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.tags == ["a"] };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.info == {level: 1} };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.info == {level: 1, other: 2} };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.name like "a*" && principal.score.lessThan(decimal("1.0")) };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal.addr.isInRange(ip("10.0.0.0/8")) };']],
  [BASE_SCHEMA, ['permit(principal, action == Action::"view", resource) when { principal.age > 1 };']],
  [BASE_SCHEMA, ['permit(principal == ?principal, action == Action::"read", resource in ?resource);']],
  [BASE_SCHEMA, ['permit(principal == ?principal, action == Action::"read", resource) when { principal.age > 1 };']],
  [BASE_SCHEMA, ['permit(principal in ?principal, action == Action::"admin", resource);']],
  // Cedar types `E in A` as False when one side is an action and the other
  // is not, and then does not typecheck what that False makes dead.
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal in action && principal.nope == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { action in resource } when { principal.nope == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { if action in principal then principal.nope else true };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { Folder::"f" in action && principal.nope == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal in Action::"read" || principal.nope == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal is Doc && principal.nope == 1 };']],
  [BASE_SCHEMA, ['permit(principal, action, resource) when { principal in resource && principal.nope == 1 };']],
  [`type Info = { level: Long };
entity User { info: Info, tags: Set<String> } tags String;
entity Doc;
action read appliesTo { principal: User, resource: Doc, context: Info };`,
  ['permit(principal, action, resource) when { principal.info.level > context.level };',
    'permit(principal, action, resource) when { principal.hasTag("a") && principal.getTag("a") like "x*" };',
    'permit(principal, action, resource) when { principal.getTag("a") like "x*" };']],
  [`namespace App {
  entity User { age: Long };
  entity Doc { owner: App::User };
  action read appliesTo { principal: User, resource: Doc };
}`, ['permit(principal is App::User, action == App::Action::"read", resource) when { resource.owner == principal && principal.age > 1 };',
    'permit(principal is User, action, resource);', 'permit(principal, action == Action::"read", resource);']],
  ['entity User { x: Nope };', ['permit(principal, action, resource);']],
  ['entity User; entity User;', ['permit(principal, action, resource);']],
  ['entity User in [Nope];', ['permit(principal, action, resource);']],
  ['entity User; action read appliesTo { principal: User, resource: Nope };', ['permit(principal, action, resource);']],
  ['entity User; action read appliesTo { principal: [], resource: [User] };', ['permit(principal, action, resource);']],
  ['entity User; action read; action write appliesTo { principal: User, resource: User };', ['permit(principal, action == Action::"read", resource);', 'permit(principal, action, resource);']],
  ['entity User { s: Set<Set<Long>>, r: { "a b": Bool } }; action read appliesTo { principal: User, resource: User };',
    ['permit(principal, action, resource) when { principal.s.contains([1]) && principal.r["a b"] };']],
  ['entity User = { age: Long }; action read appliesTo { principal: User, resource: User };',
    ['permit(principal, action, resource) when { principal.age > 1 };']],
  ['entity E1, E2 in [E1]; action read appliesTo { principal: E2, resource: E1 };',
    ['permit(principal, action, resource) when { principal in resource };', 'permit(principal, action, resource) when { resource in principal };']],
  ['// comment\nentity User; /* no */', ['permit(principal, action, resource);']],
  ['entity User { age: Long, };', ['permit(principal, action, resource);']],
  ['entity User { age: long };', ['permit(principal, action, resource);']],
  ['entity User { a: __cedar::Long, b: __cedar::ipaddr }; action read appliesTo { principal: User, resource: User };',
    ['permit(principal, action, resource) when { principal.a > 1 && principal.b.isIpv4() };']],
];
