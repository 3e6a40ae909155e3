// A fake browser for tracker unit tests: just enough window, document, navigator and storage,
// with timers and fetch under the test's control. No npm packages; node's own vm and test runner.
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import vm from 'node:vm';

const SOURCE = readFileSync(new URL('../../static/tracker.js', import.meta.url), 'utf8');

export class FakeStorage {
  constructor(entries = {}) { this.map = new Map(Object.entries(entries)); this.failing = false; }
  get length() { return this.map.size; }
  key(i) { return [...this.map.keys()][i] ?? null; }
  getItem(k) { if (this.failing) throw new Error('SecurityError'); return this.map.has(k) ? this.map.get(k) : null; }
  setItem(k, v) { if (this.failing) throw new Error('QuotaExceededError'); this.map.set(k, String(v)); }
  removeItem(k) { if (this.failing) throw new Error('SecurityError'); this.map.delete(k); }
  json(k) { return JSON.parse(this.map.get(k)); }
  queueKeys() { return [...this.map.keys()].filter((k) => k.startsWith('sc:q:')); }
}

// Load the tracker into a fresh fake page and return handles to drive and observe it.
// respond(request, n) gives the collector's answer: {status, headers, json} (json: the body, {} by default),
// or an Error for a request that got none. `placeholders` are the selectors document.querySelector finds;
// `secure: false` is a page on plain http.
export function load({ attrs = {}, storage = new FakeStorage(), nav = {}, win = {}, search = '',
  respond = () => ({ status: 200 }), beacon = () => true, cookie = '', placeholders = [], secure = true } = {}) {
  const requests = [], beacons = [], timers = [], warnings = [], listeners = {}, dispatched = [], appended = [];
  let timerId = 0;
  const script = {
    src: 'https://collector.example/t.js',
    getAttribute: (name) => (name.slice(5) in attrs ? String(attrs[name.slice(5)]) : null),
  };
  const addListener = (target) => (type, fn) => { (listeners[target + type] ||= []).push(fn); };
  const document = {
    currentScript: script, cookie, referrer: 'https://search.example/', title: 'Oak table', hidden: false,
    addEventListener: addListener('document:'),
    dispatchEvent: (event) => { dispatched.push(event); return true; },
    querySelector: (selector) => (selector.split(',').some((s) => placeholders.includes(s)) ? {} : null),
    createElement: (tag) => ({ tag }),
    head: { appendChild: (node) => { appended.push(node); return node; } },
  };
  const location = {
    hostname: 'shop.example', href: 'https://shop.example/p/1' + search, search, pathname: '/p/1',
  };
  const navigator = {
    language: 'en-GB', onLine: true, webdriver: false,
    sendBeacon: (url, body) => { const ok = beacon(url, body); if (ok) beacons.push({ url, body: JSON.parse(body) }); return ok; },
    ...nav,
  };
  const window = { localStorage: storage, addEventListener: addListener('window:'), ...win };
  const fetch = (url, init) => {
    const request = { url, body: JSON.parse(init.body), keepalive: init.keepalive };
    requests.push(request);
    const answer = respond(request, requests.length);
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve({
      status: answer.status, headers: { get: (h) => (answer.headers || {})[h] ?? null },
      json: () => (answer.json instanceof Error ? Promise.reject(answer.json) : Promise.resolve(answer.json ?? {})),
    });
  };
  class CustomEvent { constructor(type, init) { this.type = type; this.detail = init && init.detail; } }
  const context = vm.createContext({
    window, document, navigator, location, fetch, CustomEvent, Promise,
    // Outside a secure context (plain http) browsers have no crypto.randomUUID.
    crypto: secure ? webcrypto : { getRandomValues: (a) => webcrypto.getRandomValues(a) },
    console: { warn: (m) => warnings.push(m) },
    screen: { width: 1280, height: 800 },
    history: { pushState() {}, replaceState() {} },
    setTimeout: (fn, delay) => { timers.push({ fn, delay, id: ++timerId }); return timerId; },
    clearTimeout: (id) => { const i = timers.findIndex((t) => t.id === id); if (i >= 0) timers.splice(i, 1); },
  });
  vm.runInContext(SOURCE, context);
  const fire = async (target, type, event = {}) => {
    for (const fn of listeners[target + ':' + type] || []) fn({ type, target: event.target, ...event });
    await settle();
  };
  // Run the timers due now (the newest first is what the tracker schedules), then let promises settle.
  const runTimers = async () => {
    const due = timers.splice(0);
    for (const t of due) t.fn();
    await settle();
    return due.map((t) => t.delay);
  };
  const run = (code) => vm.runInContext(code, context);
  return { window, document, location, navigator, storage, requests, beacons, timers, warnings, fire, runTimers, run,
    context, dispatched, appended };
}

export async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

// Every event or record the requests carried: batches' items, and the single events sent for an answer.
export const events = (requests) => requests.flatMap((r) => r.body.events || r.body.records ||
  (r.body.event_id ? [r.body] : []));
