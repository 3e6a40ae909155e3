// Unit tests of static/tracker.js in a fake page: queue, batching, backoff, storage failure,
// consent, privacy signals, payload shape, beacons and tabs. Run with `node --test tests/js/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { FakeStorage, load, settle, events } from './harness.mjs';

const KEY = { key: 'live_abc' };
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('the page view goes out on load, alone (to be answered), with the documented shape', async () => {
  const page = load({ attrs: { ...KEY, page: '{"type":"pageview","subtype":"product","product_id":"p1"}' },
    search: '?utm_source=news&utm_campaign=winter%20sale' });
  await settle();
  assert.equal(page.requests.length, 1);
  const [request] = page.requests;
  assert.equal(request.url, 'https://collector.example/v1/events?key=live_abc');
  const event = request.body;
  assert.match(event.event_id, UUID4);
  assert.ok(Math.abs(Date.parse(event.timestamp) - Date.now()) < 5000);
  assert.deepEqual(event.event, { type: 'pageview', subtype: 'product', product_id: 'p1' });
  assert.match(event.user.anonymous_id, UUID4);
  assert.equal(event.user.user_id, null);
  assert.equal(event.context.page_url, 'https://shop.example/p/1?utm_source=news&utm_campaign=winter%20sale');
  assert.equal(event.context.referrer, 'https://search.example/');
  assert.equal(event.context.page_title, 'Oak table');
  assert.equal(event.context.screen, '1280x800');
  assert.ok(event.context.timezone);
  assert.match(event.context.session_id, UUID4);
});

test('later events wait 2 s for company, or go at once when ten are waiting', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' } });
  page.window.storefront('event', { type: 'wishlist', subtype: 'add', product_id: 'alone' });
  await settle();
  assert.equal(page.requests.length, 0);
  assert.deepEqual(await page.runTimers(), [2000]);
  assert.equal(page.requests.length, 1);
  assert.ok(!Number.isNaN(Date.parse(page.requests[0].body.sent_at)));
  assert.equal(page.requests[0].body.dropped, 0);
  for (let i = 0; i < 10; i++) page.window.storefront('event', { type: 'wishlist', subtype: 'add', product_id: 't' + i });
  await settle();
  assert.equal(page.requests.length, 2);
  assert.equal(page.requests[1].body.events.length, 10);
});

test('acknowledged events leave the queue; the queue is persisted until then', async () => {
  let status = 503;
  const page = load({ attrs: KEY, respond: () => ({ status }) });
  const [stored] = page.storage.queueKeys();
  assert.equal(page.storage.json(stored)[1].length, 1);
  await settle();
  assert.equal(page.storage.queueKeys().length, 1, 'still queued after a 503');
  status = 204;
  await page.runTimers();
  assert.equal(page.storage.queueKeys().length, 0);
});

test('backoff doubles from 1 s with jitter, and Retry-After wins', async () => {
  let answer = { status: 500 };
  const page = load({ attrs: KEY, respond: () => answer });
  page.run('Math.random = () => 0.5');  // jitter factor 1
  await settle();                         // the page view went on load; the answer is 500
  const delays = [];
  for (let i = 0; i < 4; i++) delays.push(...await page.runTimers());
  assert.deepEqual(delays, [1000, 2000, 4000, 8000]);
  answer = { status: 503, headers: { 'Retry-After': '7' } };
  assert.deepEqual(await page.runTimers(), [16000]);
  assert.deepEqual(await page.runTimers(), [7000]);
  for (let i = 0; i < 12; i++) { answer = { status: 0 }; await page.runTimers(); }
});

test('a 429 from the rate limiter: the tracker waits the Retry-After it was given, then delivers', async () => {
  let answer = { status: 429, headers: { 'Retry-After': '3' } };
  const page = load({ attrs: KEY, respond: () => answer });
  await settle();                         // the page view went on load; the answer is 429
  answer = { status: 204 };
  assert.deepEqual(await page.runTimers(), [3000]);
  assert.equal(page.storage.queueKeys().length, 0);  // delivered on the retry
  assert.equal(page.warnings.length, 0);             // a rate limit is not an error to report
});

test('the backoff never waits more than 5 minutes, nor less after hours of failures', async () => {
  const page = load({ attrs: KEY, respond: () => new Error('offline') });
  page.run('Math.random = () => 0.99');
  const delays = [];
  for (let i = 0; i < 40; i++) delays.push(...await page.runTimers());
  assert.ok(delays.slice(9).every((delay) => delay <= 300000 * 1.5 && delay >= 290000), `delays ${delays}`);
  assert.ok(page.requests.length >= 39);
});

test('4xx other than 408 and 429 drops the events with a warning; 408 and 429 retry', async () => {
  for (const [status, kept] of [[400, false], [413, false], [401, false], [408, true], [429, true]]) {
    const page = load({ attrs: KEY, respond: () => ({ status }) });
    await page.runTimers();
    assert.equal(page.storage.queueKeys().length === 1, kept, `status ${status}`);
    assert.equal(page.warnings.length > 0, !kept, `warning for ${status}`);
  }
});

test('localStorage that throws: events are kept in memory and still delivered', async () => {
  const storage = new FakeStorage();
  storage.failing = true;
  const page = load({ attrs: KEY, storage });
  await page.runTimers();
  assert.equal(events(page.requests).length, 1);
});

test('the queue is capped at 500 events, oldest dropped and counted', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' }, respond: () => new Error('down') });
  page.navigator.onLine = false;  // nothing goes out while offline
  for (let i = 0; i < 503; i++) page.window.storefront('event', { type: 'click', subtype: 'product', product_id: 'q' + i });
  const [stored] = page.storage.queueKeys();
  const queue = page.storage.json(stored)[1];
  assert.equal(queue.length, 500);
  assert.equal(queue[0].b.event.product_id, 'q3');
  page.navigator.onLine = true;
  let body;
  page.window.storefront('flush');
  await settle();
  body = page.requests[0].body;
  assert.equal(body.dropped, 3);
});

test('offline: nothing is sent until the browser is online again', async () => {
  const page = load({ attrs: KEY, nav: { onLine: false } });
  await page.runTimers();
  assert.equal(page.requests.length, 0);
  page.navigator.onLine = true;
  await page.fire('window', 'online');
  assert.equal(page.requests.length, 1);
});

test('consent pending keeps events in memory only; granted stores and sends them', async () => {
  const page = load({ attrs: { ...KEY, consent: 'pending' } });
  await page.runTimers();
  assert.equal(page.requests.length, 0);
  assert.equal(page.storage.length, 0, 'nothing stored on the device');
  page.window.storefront('consent', 'granted');
  await settle();
  assert.equal(events(page.requests).length, 1);
  assert.ok(page.document.cookie.startsWith('sc_aid='));
});

test('consent denied drops what waited and what comes after', async () => {
  const page = load({ attrs: { ...KEY, consent: 'pending' } });
  page.window.storefront('consent', 'denied');
  page.window.storefront('event', { type: 'login' });
  await page.runTimers();
  assert.equal(page.requests.length, 0);
  assert.equal(page.storage.length, 0);
});

test('opt-out persists: the next page sends and stores nothing', async () => {
  const storage = new FakeStorage();
  const page = load({ attrs: { ...KEY, auto: 'false' }, storage });
  page.window.storefront('optout');
  const next = load({ attrs: KEY, storage });
  await next.runTimers();
  assert.equal(next.requests.length, 0);
  assert.deepEqual([...storage.map.keys()].filter((k) => k !== 'sc:aid'), ['sc:optout']);
  assert.match(next.warnings[0], /opted out/);
});

for (const [name, nav] of [['Global Privacy Control', { globalPrivacyControl: true }], ['Do Not Track', { doNotTrack: '1' }]]) {
  test(`${name}: nothing sent, nothing stored`, async () => {
    const page = load({ attrs: KEY, nav });
    page.window.storefront('event', { type: 'login' });
    page.window.datacue.track({ type: 'login' });
    page.window.storefront('consent', 'granted');
    await page.runTimers();
    await page.fire('window', 'pagehide');
    assert.equal(page.requests.length + page.beacons.length, 0);
    assert.equal(page.storage.length, 0);
    assert.equal(page.document.cookie, '');
  });
}

test('the site can choose to ignore privacy signals', async () => {
  const page = load({ attrs: { ...KEY, 'privacy-signals': 'ignore' }, nav: { globalPrivacyControl: true } });
  await page.runTimers();
  assert.equal(events(page.requests).length, 1);
});

test('localhost and automated browsers are skipped unless data-allow-local', async () => {
  assert.equal(load({ attrs: KEY, nav: { webdriver: true } }).storage.length, 0);
  const local = load({ attrs: KEY });
  local.location.hostname = 'localhost';
  const allowed = load({ attrs: { ...KEY, 'allow-local': 'true' }, nav: { webdriver: true } });
  await allowed.runTimers();
  assert.equal(events(allowed.requests).length, 1);
});

test('identify: later events carry the user id and keep the anonymous id', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' } });
  page.window.storefront('event', { type: 'search', term: 'before' });
  page.window.datacue.identify('u-42', { segment: 'gold' });
  page.window.datacue.track({ type: 'login' });
  await page.runTimers();
  const [before, after] = events(page.requests);
  assert.equal(before.user.user_id, null);
  assert.equal(after.user.user_id, 'u-42');
  assert.deepEqual(after.user.profile, { segment: 'gold' });
  assert.equal(after.user.anonymous_id, before.user.anonymous_id);
});

test('the anonymous id comes from the cookie, and is mirrored into localStorage', async () => {
  const page = load({ attrs: KEY, cookie: 'sc_aid=11111111-2222-4333-8444-555555555555' });
  await page.runTimers();
  assert.equal(events(page.requests)[0].user.anonymous_id, '11111111-2222-4333-8444-555555555555');
  assert.equal(page.storage.json('sc:aid'), '11111111-2222-4333-8444-555555555555');
});

test('the session id holds within 30 minutes and changes after', async () => {
  const storage = new FakeStorage();
  const first = load({ attrs: KEY, storage });
  await first.runTimers();
  const session = events(first.requests)[0].context.session_id;
  const second = load({ attrs: KEY, storage });
  await second.runTimers();
  assert.equal(events(second.requests)[0].context.session_id, session);
  const [id, last] = storage.json('sc:s');
  storage.setItem('sc:s', JSON.stringify([id, last - 31 * 60 * 1000]));
  const third = load({ attrs: KEY, storage });
  await third.runTimers();
  assert.notEqual(events(third.requests)[0].context.session_id, session);
});

test('calls queued by the stub replay in order; an unknown one only warns', async () => {
  const calls = [['identify', 'u-1'], ['event', { type: 'search', term: 'a' }], ['trak', {}], ['event', { type: 'search', term: 'b' }]];
  const stub = Object.assign(() => {}, { q: calls });
  const page = load({ attrs: { ...KEY, auto: 'false' }, win: { storefront: stub } });
  await page.runTimers();
  assert.deepEqual(events(page.requests).map((e) => [e.event.term, e.user.user_id]), [['a', 'u-1'], ['b', 'u-1']]);
  assert.deepEqual(page.warnings, ['storefront: unknown call trak']);
});

test("the README's datacue stub queues calls made before the script loads, replayed in order", async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const stub = readme.match(/<script>(window\.storefront=.*window\.datacue=.*)<\/script>/)[1];
  const page = {};
  page.window = page;
  vm.createContext(page);
  vm.runInContext(stub, page);
  vm.runInContext("datacue.identify('u-7'); datacue.track({type: 'search', term: 'x'}); " +
    "datacue.track({type: 'search', term: 'y'})", page);
  const loaded = load({ attrs: { ...KEY, auto: 'false' }, win: { storefront: page.storefront, datacue: page.datacue } });
  await loaded.runTimers();
  assert.deepEqual(events(loaded.requests).map((e) => [e.event.term, e.user.user_id]), [['x', 'u-7'], ['y', 'u-7']]);
});

test('datacue.track(event, true) is held until the next page load', async () => {
  const storage = new FakeStorage();
  const page = load({ attrs: { ...KEY, auto: 'false' }, storage });
  const result = page.window.datacue.track({ type: 'click', subtype: 'banner', banner_id: 'b1' }, true);
  assert.ok(typeof result.then === 'function');
  await page.runTimers();
  assert.equal(page.requests.length, 0);
  const next = load({ attrs: { ...KEY, auto: 'false' }, storage });
  await next.runTimers();
  assert.deepEqual(events(next.requests).map((e) => e.event.banner_id), ['b1']);
});

test('datacueConfig fires the matching event and sets the key and user', async () => {
  const cases = [
    [{ page_type: 'home' }, { type: 'pageview', subtype: 'home' }],
    [{ page_type: 'product', product_id: 'p9', variant_id: 'v2' }, { type: 'pageview', subtype: 'product', product_id: 'p9', variant_id: 'v2' }],
    [{ page_type: 'category', category_id: 'c3' }, { type: 'pageview', subtype: 'category', category_id: 'c3' }],
    [{ page_type: 'product', product_id: 'p9', product_update: [{ variant_id: 'v1', name: 'Lamp', price: 20 }] },
      { type: 'pageview', subtype: 'product', product_id: 'p9',
        product_update: [{ variant_id: 'v1', name: 'Lamp', price: 20 }] }],
    [{ page_type: 'category', category_id: 'c3', category_update: { name: 'Lights', link: '/c/lights' } },
      { type: 'pageview', subtype: 'category', category_id: 'c3', category_update: { name: 'Lights', link: '/c/lights' } }],
    [{ page_type: 'search', term: 'lamp' }, { type: 'search', term: 'lamp' }],
    [{ page_type: 'cart' }, { type: 'viewcart', cart: [] }],
    [{ page_type: 'order confirmation', order_id: 'o7', order_details: { cart: [{ product_id: 'p1' }] } },
      { type: 'order', subtype: 'completed', order_id: 'o7', cart: [{ product_id: 'p1' }] }],
    [{ page_type: 'order confirmation', order_id: 'o8', order_details: { order_status: 'cancelled' } },
      { type: 'order', subtype: 'cancelled', order_id: 'o8' }],
    [{ page_type: '404' }, { type: 'pageview', subtype: 'page' }],
  ];
  for (const [config, expected] of cases) {
    const page = load({ win: { datacueConfig: { api_key: 'live_cfg', user_id: 'u-9', ...config } } });
    await page.runTimers();
    const [request] = page.requests;
    assert.ok(request.url.endsWith('?key=live_cfg'));
    const [event] = events([request]);
    assert.deepEqual(event.event, expected);
    assert.equal(event.user.user_id, 'u-9');
  }
});

test('Cobi interactions go to /user-interactions in the records form', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' } });
  page.window.storefront('interaction', { interaction_type: 'SHARE', item_type: 'OFFER', item_id: 'x' });
  await page.runTimers();
  const [request] = page.requests;
  assert.equal(request.url, 'https://collector.example/user-interactions?key=live_abc');
  const [record] = request.body.records;
  assert.equal(record.interaction_type, 'SHARE');
  assert.equal(record.platform, 'WEB');
  assert.match(record.event_id, UUID4);
  assert.ok(record.event_timestamp && record.anonymous_id && record.context.page_url);
});

test('declarative clicks fire banner, product, any event and interactions', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' } });
  const element = (attrs, parent = null) => ({ parentNode: parent, getAttribute: (n) => attrs[n.slice(5)] ?? null });
  const click = (target) => page.fire('document', 'click', { target });
  await click(element({}, element({ 'click-banner': 'b1' })));      // a click inside the banner
  await click(element({ 'click-product': 'p2' }));
  await click(element({ event: '{"type":"wishlist","subtype":"add","product_id":"p3"}' }));
  await click(element({ interaction: '{"interaction_type":"FILTER_CLICK","item_type":"TAG","item_id":"t"}' }));
  await click(element({}));
  await page.runTimers();
  await page.runTimers();
  const sent = events(page.requests);
  assert.deepEqual(sent.map((e) => e.event ? e.event.subtype : e.item_type), ['banner', 'product', 'add', 'TAG']);
});

test('page hidden: queued events go by sendBeacon, in the records and events forms', async () => {
  const page = load({ attrs: KEY });
  page.window.storefront('interaction', { interaction_type: 'SHARE', item_type: 'SHOP', item_id: 'x' });
  page.document.hidden = true;
  await page.fire('document', 'visibilitychange');
  assert.deepEqual(page.beacons.map((b) => b.url.split('?')[0].split('/').pop()), ['events', 'user-interactions']);
  assert.ok(page.beacons.every((b) => b.url.endsWith('?key=live_abc')));
});

test('a refused beacon is split in halves, then falls back to fetch keepalive', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' }, beacon: (url, body) => JSON.parse(body).events.length < 3 });
  for (let i = 0; i < 8; i++) page.window.storefront('event', { type: 'search', term: 't' + i });
  await page.fire('window', 'pagehide');
  assert.deepEqual(page.beacons.map((b) => b.body.events.length), [2, 2, 2, 2]);
  const solo = load({ attrs: KEY, beacon: () => false, nav: { onLine: false } });
  await solo.fire('window', 'pagehide');
  assert.equal(solo.requests.length, 1);
  assert.equal(solo.requests[0].keepalive, true);
});

test('beacon chunks stay under 60 KB', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' } });
  page.navigator.onLine = false;
  for (let i = 0; i < 40; i++) page.window.storefront('event', { type: 'search', term: 'x'.repeat(3000) });
  await page.fire('window', 'pagehide');
  assert.ok(page.beacons.length >= 2);
  assert.ok(page.beacons.every((b) => JSON.stringify(b.body).length <= 60000));
  assert.equal(page.beacons.reduce((n, b) => n + b.body.events.length, 0), 40);
});

test('a tab that is gone leaves its queue to the next page; a live tab keeps its own', async () => {
  const storage = new FakeStorage();
  const first = load({ attrs: { ...KEY, auto: 'false' }, storage, respond: () => new Error('down') });
  first.window.storefront('event', { type: 'search', term: 'left behind' });
  const live = load({ attrs: { ...KEY, auto: 'false' }, storage, respond: () => new Error('down') });
  live.window.storefront('event', { type: 'search', term: 'still mine' });
  await first.fire('window', 'pagehide');               // first navigates away
  const next = load({ attrs: { ...KEY, auto: 'false' }, storage });
  await next.runTimers();
  assert.deepEqual(events(next.requests).map((e) => e.event.term), ['left behind']);
  assert.equal(storage.queueKeys().length, 1, 'the live tab keeps its queue');
});

test('SPA: push, replace and back give one page view per new path', async () => {
  const page = load({ attrs: { ...KEY, spa: 'true', auto: 'false' } });
  const go = (method, path) => { page.location.pathname = path; page.context.history[method]({}, '', path); };
  go('pushState', '/a');
  go('pushState', '/a');          // same path: nothing
  go('replaceState', '/b');
  page.location.pathname = '/a';
  await page.fire('window', 'popstate');
  await page.runTimers();
  assert.deepEqual(events(page.requests).map((e) => e.context.page_url && e.event.subtype), ['page', 'page', 'page']);
});

// An object made in the tracker's realm, as plain data (deepEqual compares prototypes across realms).
const plain = (value) => JSON.parse(JSON.stringify(value));
const ANSWER = { similar_product_skus: [{ product_id: 'p2', name: 'Lamp' }], related_product_skus: [],
  recent_product_skus: [] };

test('an answered event resolves track() and storefront() with the answer, and fires storefront:recommendations', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' }, respond: (r) => (r.body.event_id ? { status: 200, json: ANSWER } : { status: 204 }) });
  const answer = await page.window.datacue.track({ type: 'pageview', subtype: 'product', product_id: 'p1' });
  assert.deepEqual(plain(answer), ANSWER);
  assert.equal(page.requests.length, 1, 'sent at once, alone');
  assert.equal(page.requests[0].body.event.product_id, 'p1');
  assert.deepEqual(plain(page.dispatched.map((e) => [e.type, e.detail])), [['storefront:recommendations', ANSWER]]);
  assert.deepEqual(plain(page.window.datacue.answer), ANSWER);
  assert.equal(page.storage.queueKeys().length, 0, 'acknowledged: no longer queued');
  assert.deepEqual(plain(await page.window.storefront('event', { type: 'search', term: 'lamp' })), ANSWER);
  // Events that load no page resolve {} at once, wait for a batch, and fire nothing.
  assert.deepEqual(plain(await page.window.datacue.track({ type: 'click', subtype: 'product', product_id: 'p2' })), {});
  assert.equal(page.requests.length, 2);
  assert.equal(page.dispatched.length, 2);
});

test('a page view that could not be answered resolves {} and is delivered later, in a batch', async () => {
  let status = 503;
  const page = load({ attrs: KEY, respond: () => ({ status, json: ANSWER }) });
  page.window.storefront('pageview');  // a second page view, while the first (sent on load) is answered 503
  await settle();
  assert.equal(page.requests.length, 1);
  assert.deepEqual(plain(page.dispatched.map((e) => e.detail)), [{}, {}], 'both resolved {} at the failure');
  status = 204;
  await page.runTimers();
  const later = page.requests.slice(1);
  assert.deepEqual(later.map((r) => (r.body.events || []).length), [2], 'both delivered later, in a batch');
  assert.equal(page.storage.queueKeys().length, 0);
});

test('while the collector cannot answer, every page waiting for an answer resolves {} at once', async () => {
  let status = 503;
  const page = load({ attrs: { ...KEY, auto: 'false' }, respond: () => ({ status, json: ANSWER }) });
  const waiting = [];
  for (let i = 0; i < 5; i++) waiting.push(page.window.datacue.track({ type: 'search', term: 'q' + i }));
  const answers = await Promise.all(waiting);  // would wait behind the backoff, minutes, without it
  assert.deepEqual(plain(answers), [{}, {}, {}, {}, {}]);
  assert.equal(page.requests.length, 1, 'one try');
  status = 204;
  await page.runTimers();
  assert.equal(events(page.requests.slice(1)).length, 5, 'all five delivered later, in a batch');
  assert.equal(page.requests.length, 2);
});

test('a malformed answer resolves {}', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' }, respond: () => ({ status: 200, json: new SyntaxError('bad') }) });
  assert.deepEqual(plain(await page.window.datacue.track({ type: 'pageview', subtype: 'home' })), {});
  assert.equal(page.storage.queueKeys().length, 0, 'stored all the same: not sent again');
});

test('events dropped from a full queue are still reported after an answered page view', async () => {
  const page = load({ attrs: { ...KEY, auto: 'false' }, respond: (r) => ({ status: r.body.event_id ? 200 : 204 }) });
  page.navigator.onLine = false;
  for (let i = 0; i < 503; i++) page.window.storefront('event', { type: 'click', subtype: 'product', product_id: 'q' + i });
  page.navigator.onLine = true;
  await page.window.datacue.track({ type: 'pageview', subtype: 'home' });
  await settle();
  assert.ok(page.requests[0].body.event_id, 'the page view went first, alone');
  // 503 clicks and the page view in a queue of 500: four dropped, reported by the next batch.
  assert.equal(page.requests[1].body.dropped, 4, 'the next batch reports what the queue dropped');
});

test('the widget script is loaded once, and only on a page with a placeholder', async () => {
  const plain = load({ attrs: KEY, respond: () => ({ status: 200, json: ANSWER }) });
  await settle();
  assert.deepEqual(plain.appended, []);
  const shop = load({ attrs: KEY, placeholders: ['[data-dc-products]'], respond: () => ({ status: 200, json: ANSWER }) });
  await settle();
  await shop.window.datacue.track({ type: 'pageview', subtype: 'product', product_id: 'p3' });
  assert.deepEqual(shop.appended.map((n) => [n.tag, n.src]), [['script', 'https://collector.example/w.js']]);
});

test('outside a secure context (no crypto.randomUUID) nothing is sent or stored', async () => {
  const page = load({ attrs: KEY, secure: false });
  page.window.storefront('event', { type: 'click', subtype: 'product', product_id: 'p1' });
  await page.runTimers();
  assert.deepEqual(page.requests, []);
  assert.equal(page.storage.length, 0);
  assert.deepEqual(page.warnings, ['storefront: not tracking: not HTTPS']);
  assert.deepEqual(plain(await page.window.datacue.track({ type: 'pageview', subtype: 'home' })), {});
});
