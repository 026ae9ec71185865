// gen.mjs: random GS1 Digital Link URIs that both idra and digital-link.js
// 1.4.3 accept, for the compression vectors (tests/vectors/gs1/
// make-compressed.mjs) and the live cross-check (compression.test.mjs).
//
// Values are built from the GS1 Barcode Syntax Dictionary (the copy in
// tests/vectors/gs1) so that they pass idra's checks (check digits, dates,
// the other linters), and restricted to the AIs, key qualifiers and value
// formats digital-link.js 1.4.3 knows (its GS1 General Specifications v18
// tables), so that it accepts them too. Nothing here reads idra's code.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));
export const dl = require('digital-link.js');
const Toolkit = require('digital-link.js/lib/GS1DigitalLinkCompressionPrototype/GS1DigitalLinkToolkit');
export const toolkit = new Toolkit();

// A small deterministic PRNG (mulberry32), so the vectors are reproducible.
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (xs) => xs[int(0, xs.length - 1)];
  return { next, int, pick };
}

// --- The dictionary -------------------------------------------------------

function parseDictionary(text) {
  const entries = new Map();
  for (let line of text.split('\n')) {
    line = line.replace(/#.*/, '').trim();
    if (!line) continue;
    const toks = line.split(/\s+/);
    const range = toks.shift();
    let flags = '';
    if (/^[*?!]+$/.test(toks[0])) flags = toks.shift();
    const components = [];
    while (toks.length && /^\[?[NXYZ]/.test(toks[0])) {
      const t = toks.shift();
      const optional = t.startsWith('[');
      const [fmt, ...linters] = t.replace(/[[\]]/g, '').split(',');
      const m = fmt.match(/^([NXYZ])(\.\.)?(\d+)$/);
      const n = Number(m[3]);
      components.push({ cs: m[1], min: m[2] ? 1 : n, max: n, optional, linters });
    }
    let dlpkey = null;
    const ex = [];
    for (const t of toks) {
      if (t === 'dlpkey') dlpkey = [[]];
      else if (t.startsWith('dlpkey=')) dlpkey = t.slice(7).split('|').map((a) => a.split(','));
      else if (t.startsWith('ex=')) ex.push(...t.slice(3).split(','));
    }
    const [lo, hi = lo] = range.split('-');
    for (let x = Number(lo); x <= Number(hi); x++) {
      const ai = String(x).padStart(lo.length, '0');
      entries.set(ai, { ai, attribute: flags.includes('?'), components, dlpkey, ex });
    }
  }
  return entries;
}

export const dictionary = parseDictionary(
  readFileSync(join(here, '..', 'vectors', 'gs1', 'gs1-syntax-dictionary.txt'), 'utf8'),
);

const known = (ai) => dictionary.has(ai) && Object.hasOwn(toolkit.tableF, ai) && toolkit.aiRegex[ai];
const typeOf = (ai) => toolkit.aitable.find((e) => e.ai === ai)?.type;

// Primary keys both sides know, with the qualifier sequences of each.
export const primaryKeys = [...dictionary.values()]
  .filter((e) => e.dlpkey && known(e.ai) && typeOf(e.ai) === 'I')
  .map((e) => ({
    ai: e.ai,
    alternatives: e.dlpkey.filter((alt) => alt.every((q) => known(q) && typeOf(q) === 'Q')),
  }));

// Data attributes both sides know: flagged '?' in the dictionary, type D
// for digital-link.js (which drops a "Q" AI that is not a qualifier of the
// key and rejects a second key).
export const attributeAis = [...dictionary.values()]
  .filter((e) => e.attribute && known(e.ai) && typeOf(e.ai) === 'D' && !e.dlpkey)
  .map((e) => e.ai);

// --- Values ---------------------------------------------------------------

const CSET82 = "!%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"; // without '"'
const CSET39 = '#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CHARCLASSES = {
  digits: '0123456789',
  hexlower: '0123456789abcdef',
  hexupper: '0123456789ABCDEF',
  base64: B64,
  cset82: CSET82,
};

export function mod10(data) {
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const weight = (data.length - i) % 2 === 1 ? 3 : 1;
    sum += weight * Number(data[i]);
  }
  return String((10 - (sum % 10)) % 10);
}

function primes(n) {
  const out = [];
  for (let c = 2; out.length < n; c++) if (out.every((p) => c % p !== 0)) out.push(c);
  return out;
}
const PRIMES = primes(100);
const CSET32 = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
const CSET82FULL = '!"%&\'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
function checkPair(data) {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += CSET82FULL.indexOf(data[i]) * PRIMES[data.length - 1 - i];
  sum %= 1021;
  return CSET32[Math.floor(sum / 32)] + CSET32[sum % 32];
}

const pad2 = (n) => String(n).padStart(2, '0');
const date = (r) => pad2(r.int(0, 99)) + pad2(r.int(1, 12)) + pad2(r.int(1, 28));

// digits of |len|; for 16 digits or more, usually below 2^53, the largest
// number digital-link.js (JavaScript doubles) carries exactly.
function digits(r, len) {
  let s = '';
  for (let i = 0; i < len; i++) s += String(r.int(0, 9));
  if (len >= 16 && r.next() < 0.8) s = '0'.repeat(len - 15) + s.slice(len - 15);
  else if (len >= 8 && r.next() < 0.3) s = '0000' + s.slice(4);
  return s;
}

function chars(r, len, alphabet) {
  let s = '';
  for (let i = 0; i < len; i++) s += r.pick(alphabet);
  return s;
}

// digital-link.js's regular expressions leave ":;<=>?" out of CSET 82.
const CSET82_REFERENCE = CSET82.replace(/[:;<=>?]/g, '');

function componentValue(r, c, referenceSafe, forcedLength) {
  const L = (name) => c.linters.includes(name);
  let len = forcedLength ?? (c.min === c.max ? c.max : r.int(c.min, Math.min(c.max, r.pick([4, 8, 12, c.max]))));
  if (c.cs === 'N') {
    if (L('zero')) return '0';
    if (L('yymmd0') || L('yymmdd')) return date(r);
    if (L('hhmi')) return pad2(r.int(0, 23)) + pad2(r.int(0, 59));
    if (L('hh')) return pad2(r.int(0, 23));
    if (L('mi') || L('ss')) return pad2(r.int(0, 59));
    if (L('winding')) return r.pick(['0', '1', '9']);
    if (L('iso4217')) return r.pick(['978', '840', '826']);
    if (L('iso3166') || L('iso3166999')) return r.pick(['276', '250', '840']);
    if (L('pieceoftotal')) {
      const half = len / 2;
      const total = r.int(1, 10 ** half - 1);
      return String(r.int(1, total)).padStart(half, '0') + String(total).padStart(half, '0');
    }
    let s = digits(r, len);
    if (L('nonzero') && /^0+$/.test(s)) s = s.slice(0, -1) + '1';
    if (L('nozeroprefix') && s[0] === '0') s = '1' + s.slice(1);
    if (L('csum')) s = s.slice(0, -1) + mod10(s.slice(0, -1));
    return s;
  }
  let alphabet = c.cs === 'Y' ? CSET39 : c.cs === 'Z' ? B64 : CHARCLASSES[r.pick(Object.keys(CHARCLASSES))];
  if (referenceSafe && alphabet === CSET82) alphabet = CSET82_REFERENCE;
  let s = chars(r, len, alphabet);
  if (L('gcppos1') || L('gcppos2')) {
    len = Math.max(len, Math.min(c.max, 6));
    s = digits(r, 6).slice(0, len) + chars(r, len - Math.min(len, 6), alphabet);
  }
  if (L('csumalpha')) {
    if (len < 3) len = 3;
    s = s.slice(0, len - 2).padEnd(len - 2, '1');
    s += checkPair(s);
  }
  return s;
}

// referenceExact tells whether digital-link.js carries |value| of |ai|
// through its bit stream exactly: it reads and writes numbers through
// JavaScript doubles (exact below 2^53), writes "NaN" for an empty numeric
// component, and drops leading zeros of variable-length numbers and of
// all-digit alphanumeric values when it decompresses.
// With |decodeOnly|, whether its decompressor reads idra's bits of it
// exactly (an empty numeric component is then fine).
export function referenceExact(ai, value, decodeOnly = false) {
  let pos = 0;
  for (const c of toolkit.tableF[ai] ?? []) {
    const part = c.L !== undefined ? value.slice(pos, pos + Number(c.L)) : value.slice(pos);
    pos += part.length;
    const numeric = /^[0-9]+$/.test(part);
    if (c.E === 'N' && part === '' && !decodeOnly) return false;
    if (numeric && BigInt(part) >= 2n ** 53n) return false;
    if (numeric && part.length > 1 && part[0] === '0' && (c.E === 'X' || c.M !== undefined)) return false;
  }
  return true;
}

// aiValue returns a valid value of |ai|; with |referenceSafe| one that
// digital-link.js also carries exactly (see referenceExact), with
// referenceSafe 'decode' one its decompressor reads exactly.
export function aiValue(r, ai, referenceSafe = false) {
  const e = dictionary.get(ai);
  for (let tries = 0; ; tries++) {
    let out = '';
    for (const c of e.components) {
      if (c.optional && r.next() < 0.4) break;
      out += componentValue(r, c, referenceSafe);
    }
    if (!referenceSafe || referenceExact(ai, out, referenceSafe === 'decode') || tries > 200) return out;
  }
}

// --- Links ----------------------------------------------------------------

// The percent-encoding both idra and digital-link.js use for CSET 82 values
// (the two differ only on '"', which values here never hold).
export const encode = (v) =>
  [...v].map((ch) => (/[A-Za-z0-9._-]/.test(ch) ? ch : '%' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))).join('');

function excluded(a, b) {
  const match = (pattern, ai) =>
    pattern.length === ai.length && [...pattern].every((ch, i) => (ch === 'n' ? /\d/.test(ai[i]) : ch === ai[i]));
  return (dictionary.get(a).ex.some((p) => match(p, b)) || dictionary.get(b).ex.some((p) => match(p, a)));
}

// digital-link.js prints attributes in JavaScript object order: AIs without
// a leading zero in numeric order, then the others as inserted.
export function referenceOrder(ais) {
  const ints = ais.filter((a) => a[0] !== '0').sort((x, y) => Number(x) - Number(y));
  return [...ints, ...ais.filter((a) => a[0] === '0')];
}

const STEMS = ['https://id.gs1.org', 'https://example.com/some/path', 'http://res.example.org:8080', 'https://example.com/a'];
const OTHER_KEYS = ['linkType', 'context', 'lang', 'foo_bar', 'x-y', 'k1'];
const OTHER_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-._/';

// randomLink returns {uri, key, qualifiers, attributes, others} with values
// decoded; attributes in reference order.
// carried tells whether digital-link.js carries values of |ai| at all: not
// when its format has an alphanumeric part after another part ((253),
// (8003), (7030)-(7039)), which its compressor garbles (it repeats the bits
// before that part) and its decompressor too (that part overwrites the rest).
export const carried = (ai) => !(toolkit.tableF[ai] ?? []).some((c, i) => i > 0 && c.E === 'X');

export function randomLink(r, { maxAttributes = 4, maxOthers = 2, key: keyAi, referenceSafe = false } = {}) {
  const keys = referenceSafe ? primaryKeys.filter((k) => carried(k.ai)) : primaryKeys;
  const key = keyAi ? keys.find((k) => k.ai === keyAi) : r.pick(keys);
  const used = [key.ai];
  const keyValue = aiValue(r, key.ai, referenceSafe);
  const qualifiers = [];
  if (key.alternatives.length && r.next() < 0.7) {
    for (const q of r.pick(key.alternatives)) {
      if (r.next() < 0.6) {
        qualifiers.push([q, aiValue(r, q, referenceSafe)]);
        used.push(q);
      }
    }
  }
  const qualifierAis = new Set(key.alternatives.flat());
  const attributes = [];
  const n = r.int(0, maxAttributes);
  for (let tries = 0; attributes.length < n && tries < 50; tries++) {
    const a = r.pick(attributeAis);
    if (referenceSafe && !carried(a)) continue;
    if (used.includes(a) || qualifierAis.has(a) || used.some((u) => excluded(u, a))) continue;
    used.push(a);
    attributes.push([a, aiValue(r, a, referenceSafe)]);
  }
  const order = referenceOrder(attributes.map(([a]) => a));
  attributes.sort((x, y) => order.indexOf(x[0]) - order.indexOf(y[0]));
  const others = [];
  const m = r.int(0, maxOthers);
  for (let i = 0; i < m; i++) {
    const k = r.pick(OTHER_KEYS);
    if (others.some(([o]) => o === k)) continue;
    others.push([k, chars(r, r.int(1, 16), OTHER_CHARS)]);
  }
  let uri = r.pick(STEMS) + '/' + key.ai + '/' + encode(keyValue);
  for (const [q, v] of qualifiers) uri += '/' + q + '/' + encode(v);
  const query = [...attributes.map(([a, v]) => a + '=' + encode(v)), ...others.map(([k, v]) => k + '=' + v)];
  if (query.length) uri += '?' + query.join('&');
  return { uri, key: [key.ai, keyValue], qualifiers, attributes, others };
}
