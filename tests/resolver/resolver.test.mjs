// resolver.test.mjs: the GS1-Conformant Resolver requirements (issue 6,
// section 1) checked against a real `idra serve` over HTTPS. Linksets are
// validated with ajv against GS1's linkset schema (tests/vectors/gs1/);
// compressed URIs are made and read by digital-link.js 1.4.3, GS1's reference.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import digitalLink from 'digital-link.js';
import { Node, linkHeader } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const schema = JSON.parse(fs.readFileSync(path.join(here, '..', 'vectors', 'gs1', 'gs1-linkset-schema.json'), 'utf8'));
// GS1's schema uses keywords ajv does not know ("name", "@id"): not strict.
const validateLinkset = new Ajv({ strict: false, allErrors: true }).compile(schema);
const { Utils } = digitalLink;

const ROOT = 'https://id.example.com';
const GTIN = '09506000134352';
const OTHER_GTIN = '09506000134376';

const node = new Node({
  resolver: {
    root: ROOT,
    delegations: { '0614141': 'https://id.other.example' },
    identification_link_hosts: ['nameplate.example.com'],
  },
});

function header(r, name) {
  const v = r.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function assertLinkset(r, anchor) {
  assert.equal(r.status, 200, r.body);
  assert.match(header(r, 'content-type'), /^application\/linkset\+json/);
  const body = r.json();
  assert.ok(validateLinkset(body), JSON.stringify(validateLinkset.errors));
  assert.equal(body.linkset[0].anchor, anchor);
  return body.linkset[0];
}

before(async () => {
  await node.start();
  const product = await node.request('POST', '/api/gs1/links', {
    admin: true,
    body: {
      identifier: `(01)${GTIN}`,
      itemDescription: 'Dal Giardino Risotto Rice with Mushrooms',
      links: [
        { linkType: 'gs1:pip', href: 'https://brand.example/rice', title: 'Product page', hreflang: ['en'], type: 'text/html', default: true },
        { linkType: 'gs1:epil', href: 'https://brand.example/leaflet/en', title: 'Leaflet', hreflang: ['en'], type: 'text/html' },
        { linkType: 'gs1:epil', href: 'https://brand.example/leaflet/de', title: 'Beipackzettel', hreflang: ['de'], type: 'text/html' },
        { linkType: 'gs1:epil', href: 'https://brand.example/leaflet/en.pdf', title: 'Leaflet (PDF)', hreflang: ['en'], type: 'application/pdf' },
        { linkType: 'gs1:recipeInfo', href: 'https://brand.example/recipes/1', title: 'Recipe 1' },
        { linkType: 'gs1:recipeInfo', href: 'https://brand.example/recipes/2', title: 'Recipe 2' },
        { linkType: 'gs1:certificationInfo', href: 'https://brand.example/cert/us', title: 'US', context: ['us'] },
        { linkType: 'gs1:certificationInfo', href: 'https://brand.example/cert', title: 'Other' },
      ],
    },
  });
  assert.equal(product.status, 201, product.body);
  const lot = await node.request('POST', '/api/gs1/links', {
    admin: true,
    body: {
      identifier: `https://id.example.com/01/${GTIN}/10/LOT7`,
      links: [{ linkType: 'gs1:traceability', href: 'https://brand.example/trace/LOT7', title: 'Lot trace', default: true }],
    },
  });
  assert.equal(lot.status, 201, lot.body);
  // Registration through the Handle API: the values are GS1_LINK records.
  const put = await node.request('PUT', `/api/handles/${encodeURIComponent(`${ROOT}/01/${OTHER_GTIN}/21/S-1`)}`, {
    admin: true,
    body: [{ index: 1, type: 'GS1_LINK', data: JSON.stringify({ linkType: 'gs1:pip', href: 'https://brand.example/s1', title: 'S1', default: true }) }],
  });
  assert.equal(put.status, 201, put.body);
});

after(async () => {
  await node.stop();
});

describe('redirection (307)', () => {
  test('GET redirects to the default link and passes the query string on', async () => {
    const r = await node.request('GET', `/01/${GTIN}?campaign=qr&x=%2F`);
    assert.equal(r.status, 307, r.body);
    assert.equal(r.headers.location, 'https://brand.example/rice?campaign=qr&x=%2F');
  });

  test('HEAD answers as GET, without a body', async () => {
    const r = await node.request('HEAD', `/01/${GTIN}`);
    assert.equal(r.status, 307);
    assert.equal(r.headers.location, 'https://brand.example/rice');
    assert.equal(r.body, '');
  });

  test('linkType selects the link; linkType itself is not passed on', async () => {
    const r = await node.request('GET', `/01/${GTIN}?linkType=gs1:recipeInfo&utm=1`);
    assert.equal(r.status, 300, 'two recipe links cannot be told apart');
    const one = await node.request('GET', `/01/${GTIN}?linkType=gs1:epil&utm=1`, { headers: { 'accept-language': 'de' } });
    assert.equal(one.status, 307);
    assert.equal(one.headers.location, 'https://brand.example/leaflet/de?utm=1');
  });

  test('the full vocabulary URI is the same link type as the gs1: CURIE', async () => {
    const r = await node.request('GET', `/01/${GTIN}?linkType=${encodeURIComponent('https://gs1.org/voc/epil')}`, {
      headers: { 'accept-language': 'de-CH, en;q=0.3' },
    });
    assert.equal(r.headers.location, 'https://brand.example/leaflet/de');
  });

  test('the element string, aliases, a path stem and a trailing slash name the same item', async () => {
    for (const p of [`/gtin/${GTIN}`, `/any/stem/01/${GTIN}`, `/01/${GTIN}/`]) {
      const r = await node.request('GET', p);
      assert.equal(r.status, 307, p);
      assert.equal(r.headers.location, 'https://brand.example/rice', p);
    }
  });
});

describe('content negotiation', () => {
  test('Accept picks the media type among same-language links', async () => {
    const r = await node.request('GET', `/01/${GTIN}?linkType=gs1:epil`, {
      headers: { 'accept-language': 'en', accept: 'application/pdf, text/html;q=0.5' },
    });
    assert.equal(r.headers.location, 'https://brand.example/leaflet/en.pdf');
    const html = await node.request('GET', `/01/${GTIN}?linkType=gs1:epil`, {
      headers: { 'accept-language': 'en', accept: 'text/html' },
    });
    assert.equal(html.headers.location, 'https://brand.example/leaflet/en');
  });

  test('context selects; an unknown context falls back to the context-free link', async () => {
    const us = await node.request('GET', `/01/${GTIN}?linkType=gs1:certificationInfo&context=us`);
    assert.equal(us.headers.location, 'https://brand.example/cert/us?context=us');
    const ca = await node.request('GET', `/01/${GTIN}?linkType=gs1:certificationInfo&context=ca`);
    assert.equal(ca.headers.location, 'https://brand.example/cert?context=ca');
  });

  test('every answer varies on Accept and Accept-Language', async () => {
    for (const q of ['', '?linkType=linkset', '?linkType=gs1:epil']) {
      const r = await node.request('GET', `/01/${GTIN}${q}`);
      const vary = header(r, 'vary').split(',').map((s) => s.trim().toLowerCase());
      assert.ok(vary.includes('accept') && vary.includes('accept-language'), `${q}: ${vary}`);
    }
  });

  test('300 lists the candidates that cannot be told apart', async () => {
    const r = await node.request('GET', `/01/${GTIN}?linkType=gs1:recipeInfo`);
    assert.equal(r.status, 300);
    const body = r.json();
    assert.ok(body.message);
    const hrefs = body.linkset[0]['https://gs1.org/voc/recipeInfo'].map((l) => l.href).sort();
    assert.deepEqual(hrefs, ['https://brand.example/recipes/1', 'https://brand.example/recipes/2']);
    const targets = linkHeader(header(r, 'link')).map((l) => l.target);
    assert.ok(targets.includes('https://brand.example/recipes/1'));
  });
});

describe('errors', () => {
  test('404 for an unknown identifier and for an unknown link type', async () => {
    const unknown = await node.request('GET', '/01/09506000134369');
    assert.equal(unknown.status, 404);
    assert.ok(unknown.json().message);
    const noType = await node.request('GET', `/01/${GTIN}?linkType=gs1:hasRetailers`);
    assert.equal(noType.status, 404);
    assert.match(noType.json().message, /gs1:hasRetailers/);
  });

  test('400 for a wrong check digit and invalid syntax, with a message', async () => {
    for (const p of ['/01/09506000134353', '/01/9506000134352X', `/01/${GTIN}/21/A1/10/LOT7`, `/01/${GTIN}?17=991332`,
      `/01/${GTIN}/21/${'x'.repeat(30)}`, `/01/${GTIN}?linkType=not-a-type`]) {
      const r = await node.request('GET', p);
      assert.equal(r.status, 400, `${p}: ${r.body}`);
      assert.ok(r.json().message.length > 10, p);
    }
  });
});

describe('qualifier fallback', () => {
  test('serial -> lot -> product', async () => {
    const serial = await node.request('GET', `/01/${GTIN}/10/LOT7/21/A99`);
    assert.equal(serial.headers.location, 'https://brand.example/trace/LOT7', 'the lot has the default link');
    const pip = await node.request('GET', `/01/${GTIN}/10/LOT7/21/A99?linkType=gs1:pip`);
    assert.equal(pip.headers.location, 'https://brand.example/rice', 'only the product has a pip');
    const otherLot = await node.request('GET', `/01/${GTIN}/10/LOT8`);
    assert.equal(otherLot.headers.location, 'https://brand.example/rice');
  });
});

describe('linkset', () => {
  test('?linkType=linkset and Accept: application/linkset+json give the same schema-valid linkset', async () => {
    const a = assertLinkset(await node.request('GET', `/01/${GTIN}?linkType=linkset`), `${ROOT}/01/${GTIN}`);
    const b = assertLinkset(await node.request('GET', `/01/${GTIN}`, { headers: { accept: 'application/linkset+json' } }),
      `${ROOT}/01/${GTIN}`);
    assert.deepEqual(a, b);
    assert.equal(a.itemDescription, 'Dal Giardino Risotto Rice with Mushrooms');
    assert.equal(a['https://gs1.org/voc/defaultLink'].length, 1, 'exactly one default link');
    assert.equal(a['https://gs1.org/voc/defaultLink'][0].href, 'https://brand.example/rice');
    assert.equal(a['https://gs1.org/voc/epil'].length, 3);
  });

  test('a linkset of a lot, and of an item registered through the Handle API, validate too', async () => {
    assertLinkset(await node.request('GET', `/01/${GTIN}/10/LOT7?linkType=linkset`), `${ROOT}/01/${GTIN}/10/LOT7`);
    assertLinkset(await node.request('GET', `/01/${OTHER_GTIN}/21/S-1`, { headers: { accept: 'application/linkset+json' } }),
      `${ROOT}/01/${OTHER_GTIN}/21/S-1`);
  });

  test('the Link header lists the links and the linkset', async () => {
    const r = await node.request('GET', `/01/${GTIN}`);
    const links = linkHeader(header(r, 'link'));
    const rels = links.map((l) => l.rel);
    assert.ok(rels.includes('https://gs1.org/voc/pip'));
    const ls = links.find((l) => l.rel === 'linkset');
    assert.equal(ls.target, `${ROOT}/01/${GTIN}?linkType=linkset`);
    assert.equal(ls.params.type[0], 'application/linkset+json');
    const de = links.find((l) => l.target === 'https://brand.example/leaflet/de');
    assert.deepEqual(de.params.hreflang, ['de']);
  });
});

describe('CORS', () => {
  test('preflight', async () => {
    const r = await node.request('OPTIONS', `/01/${GTIN}`, {
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'accept-language' },
    });
    assert.ok(r.status === 204 || r.status === 200, String(r.status));
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(r.headers['access-control-allow-methods'], /GET/);
    assert.match(r.headers['access-control-allow-methods'], /HEAD/);
    assert.match(r.headers['access-control-allow-headers'].toLowerCase(), /accept-language/);
  });

  test('responses allow any origin and expose Link and Location', async () => {
    const r = await node.request('GET', `/01/${GTIN}`, { headers: { origin: 'https://app.example' } });
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(r.headers['access-control-expose-headers'], /Link/);
    assert.match(r.headers['access-control-expose-headers'], /Location/);
  });
});

describe('compressed Digital Link URIs', () => {
  const uncompressed = [
    `${ROOT}/01/${GTIN}`,
    `${ROOT}/01/${GTIN}/10/LOT7`,
    `${ROOT}/01/${GTIN}/10/LOT7/21/A99`,
    `${ROOT}/01/${OTHER_GTIN}/21/S-1`,
    `${ROOT}/01/${GTIN}?17=261231&3103=000500`,
  ];
  for (const uri of uncompressed) {
    for (const optimise of [true, false]) {
      test(`${uri} compressed by digital-link.js (optimisations ${optimise})`, async () => {
        const compressed = Utils.compressWebUri(uri, optimise, true);
        assert.notEqual(compressed, uri);
        const target = compressed.slice(ROOT.length);
        const direct = await node.request('GET', uri.slice(ROOT.length));
        const r = await node.request('GET', target);
        assert.equal(r.status, 307, `${target}: ${r.body}`);
        assert.equal(r.headers.location.split('?')[0], direct.headers.location.split('?')[0]);
        const sameAs = linkHeader(header(r, 'link')).find((l) => l.rel === 'owl:sameAs');
        assert.ok(sameAs, header(r, 'link'));
        // The uncompressed URI idra names is the one digital-link.js decompresses to.
        assert.equal(Utils.decompressWebUri(Utils.compressWebUri(sameAs.target, optimise, true)), Utils.decompressWebUri(compressed));
      });
    }
  }

  test('a corrupt compressed URI is a 400 with a message', async () => {
    const compressed = Utils.compressWebUri(`${ROOT}/01/${GTIN}/21/A1`);
    const bad = compressed.slice(ROOT.length, -3);
    const r = await node.request('GET', bad);
    assert.ok(r.status === 400 || r.status === 404, `${bad}: ${r.status}`);
    assert.ok(r.json().message);
  });
});

describe('delegation and description', () => {
  test('a delegated company prefix is redirected to its resolver (gs1:handledBy)', async () => {
    const r = await node.request('GET', '/01/00614141123452/21/X1?linkType=gs1:pip');
    assert.equal(r.status, 307);
    assert.equal(r.headers.location, 'https://id.other.example/01/00614141123452/21/X1?linkType=gs1:pip');
    const handledBy = linkHeader(header(r, 'link')).find((l) => l.rel === 'https://gs1.org/voc/handledBy');
    assert.equal(handledBy.target, 'https://id.other.example');
  });

  test('/.well-known/gs1resolver describes the resolver', async () => {
    const r = await node.request('GET', '/.well-known/gs1resolver');
    assert.equal(r.status, 200);
    const d = r.json();
    assert.equal(d.resolverRoot, ROOT);
    assert.equal(typeof d.name, 'string');
    assert.ok(Array.isArray(d.supportedPrimaryKeys) && d.supportedPrimaryKeys.length > 0);
    assert.deepEqual(d.supportedLinkType, [{ namespace: 'https://gs1.org/voc/', prefix: 'gs1:' }]);
    assert.equal(typeof d.linkTypeDefaultCanBeLinkset, 'boolean');
  });
});

describe('registration', () => {
  test('exactly one default link per item: none or two are refused and nothing is written', async () => {
    for (const links of [
      [{ linkType: 'gs1:pip', href: 'https://e.example/a', title: 'a' }],
      [{ linkType: 'gs1:pip', href: 'https://e.example/a', title: 'a', default: true },
        { linkType: 'gs1:epil', href: 'https://e.example/b', title: 'b', default: true }],
    ]) {
      const r = await node.request('POST', '/api/gs1/links', { admin: true, body: { identifier: '(01)09506000134369', links } });
      assert.equal(r.status, 400, r.body);
      assert.match(r.json().message, /default/);
    }
    assert.equal((await node.request('GET', '/01/09506000134369')).status, 404);
  });

  test('unauthenticated registration is refused', async () => {
    const r = await node.request('POST', '/api/gs1/links', {
      body: { identifier: '(01)09506000134369', links: [{ linkType: 'gs1:pip', href: 'https://e.example/a', title: 'a', default: true }] },
    });
    assert.equal(r.status, 401);
  });
});

describe('IEC 61406 identification links and AAS discovery', () => {
  test('a device registered under its identification link resolves by host and path', async () => {
    const link = 'https://nameplate.example.com/dev/4711?s=9';
    const put = await node.request('PUT', `/api/handles/${encodeURIComponent(link)}`, {
      admin: true,
      body: [
        { index: 1, type: 'GS1_LINK', data: JSON.stringify({ linkType: 'gs1:pip', href: 'https://maker.example/4711', title: 'Device', default: true }) },
        { index: 2, type: 'AAS_ID', data: 'https://maker.example/aas/4711' },
      ],
    });
    assert.equal(put.status, 201, put.body);
    const r = await node.request('GET', '/dev/4711?s=9', { headers: { host: 'nameplate.example.com' } });
    assert.equal(r.status, 307, r.body);
    assert.equal(r.headers.location, 'https://maker.example/4711?s=9');
    const j = await node.request('GET', '/dev/4711?s=9', { headers: { host: 'nameplate.example.com', accept: 'application/json' } });
    assert.equal(j.status, 200);
    assert.equal(j.json().handle, 'IDRA/iec61406/nameplate.example.com/dev/4711?s=9');
    const shells = await node.request('POST', '/lookup/shellsByAssetLink', { body: [{ name: 'globalAssetId', value: link }] });
    assert.deepEqual(shells.json().result, ['https://maker.example/aas/4711']);
    const id = Buffer.from(JSON.stringify({ name: 'globalAssetId', value: link })).toString('base64url');
    const byGet = await node.request('GET', `/lookup/shells?assetIds=${id}`);
    assert.deepEqual(byGet.json().result, ['https://maker.example/aas/4711']);
  });
});
