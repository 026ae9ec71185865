// compression.test.mjs: idra's compressed GS1 Digital Links against GS1's
// reference implementation, digital-link.js 1.4.3, in both directions, over a
// few thousand random links (tests/gs1/gen.mjs). Run by run.sh, which sets
// IDRA_GS1_TOOL to the gs1_compress_tool binary (see gs1_compress_tool.cpp).
//
//   reference -> idra: digital-link.js compresses; idra must decompress to
//     the very URI digital-link.js decompresses to, and compress the link to
//     the very same text (bit for bit).
//   idra -> reference: idra compresses; digital-link.js must decompress to
//     the original URI. These links also hold what digital-link.js cannot
//     compress itself but reads: empty optional numeric parts ((8008)
//     without minutes, (7007) without an end date).
// Neither direction holds AIs with an alphanumeric part after another part
// ((253), (8003), (7030)-(7039)): digital-link.js garbles them both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dl, rng, randomLink } from './gen.mjs';

const { Utils } = dl;
const tool = process.env.IDRA_GS1_TOOL;
const COUNT = Number(process.env.IDRA_GS1_COUNT ?? 3000);

// idra runs one request per line through the tool, all at once.
function idra(requests) {
  assert.ok(tool, 'IDRA_GS1_TOOL must name the gs1_compress_tool binary');
  const r = spawnSync(tool, { input: requests.join('\n') + '\n', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `gs1_compress_tool failed: ${r.stderr}`);
  const lines = r.stdout.toString().split('\n');
  lines.pop();
  assert.equal(lines.length, requests.length);
  return lines.map((l) => {
    const sp = l.indexOf(' ');
    return { ok: l.slice(0, sp) === 'ok', text: l.slice(sp + 1) };
  });
}

function command(opt, other) {
  if (!opt && !other) return null;  // no tool command for both off
  return !opt ? 'c-noopt' : !other ? 'c-noother' : 'c';
}

test('digital-link.js compresses, idra decompresses and compresses alike', () => {
  const r = rng(1);
  const cases = [];
  let rejected = 0;
  while (cases.length < COUNT) {
    const link = randomLink(r, { referenceSafe: true });
    const opt = r.next() < 0.7;
    const other = r.next() < 0.7 || !opt;
    let compressed;
    let decompressed;
    try {
      compressed = Utils.compressWebUri(link.uri, opt, other);
      decompressed = Utils.decompressWebUri(compressed);
    } catch {
      rejected++;
      continue;
    }
    if (decompressed !== link.uri) {
      rejected++;
      continue;
    }
    cases.push({ uri: link.uri, compressed, decompressed, cmd: command(opt, other) });
  }
  // Most links are for both: the generator stays within digital-link.js.
  assert.ok(rejected < cases.length, `digital-link.js rejected ${rejected} of ${rejected + cases.length}`);
  const d = idra(cases.map((c) => 'd ' + c.compressed));
  const c = idra(cases.map((c) => c.cmd + ' ' + c.uri));
  const failures = [];
  cases.forEach((k, i) => {
    if (!d[i].ok || d[i].text !== k.decompressed) failures.push(`d ${k.compressed}\n  want ${k.decompressed}\n  got  ${d[i].text}`);
    if (!c[i].ok || c[i].text !== k.compressed) failures.push(`${k.cmd} ${k.uri}\n  want ${k.compressed}\n  got  ${c[i].text}`);
  });
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} mismatches of ${2 * cases.length}`);
});

test('idra compresses, digital-link.js decompresses', () => {
  const r = rng(2);
  const cases = [];
  while (cases.length < COUNT) {
    const link = randomLink(r, { referenceSafe: 'decode' });
    const opt = r.next() < 0.7;
    const other = r.next() < 0.7 || !opt;
    cases.push({ uri: link.uri, cmd: command(opt, other) });
  }
  const c = idra(cases.map((k) => k.cmd + ' ' + k.uri));
  const failures = [];
  let withoutMinutes = 0;
  cases.forEach((k, i) => {
    if (!c[i].ok) {
      failures.push(`${k.cmd} ${k.uri}: idra: ${c[i].text}`);
      return;
    }
    let back;
    try {
      back = Utils.decompressWebUri(c[i].text);
    } catch (e) {
      back = 'error: ' + (e?.message ?? String(e));
    }
    if (back !== k.uri) failures.push(`${k.cmd} ${k.uri}\n  idra ${c[i].text}\n  back ${back}`);
    if (/[?&]8008=\d{8}(&|$)/.test(k.uri)) withoutMinutes++;
  });
  assert.ok(withoutMinutes > 0, 'no (8008) without minutes');
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} mismatches of ${cases.length}`);
});
