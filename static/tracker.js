/*
 * storefront-collector tracker. This readable file is the source; the collector serves it minified
 * (calmjs.parse) and compressed at /t.js. ES5 syntax, no eval, no inline script needed:
 *
 *   <script async src="https://collector.example/t.js" data-key="live_..."></script>
 *
 * Calls made before it loads are queued by the one-line stub
 *   window.storefront=window.storefront||function(){(storefront.q=storefront.q||[]).push(arguments)}
 * and replayed in order; DataCue's calls made that early (datacue.init, identify, track) join the same
 * queue through the README's stub, which defines `datacue` over `storefront`. Every event gets an event_id and a timestamp, waits in this tab's queue
 * (persisted in localStorage), goes out in batches, is retried with backoff until the collector
 * acknowledges it, and is beaconed when the page is hidden. The collector dedupes by event_id.
 *
 * An event the collector answers with recommendations (a page view, a search, a cart view) goes first and
 * alone, so its answer can be read: storefront('event', ...) and datacue.track(...) resolve with it, a
 * `storefront:recommendations` DOM event carries it, and on a page with DataCue's placeholders
 * (data-dc-banners, data-dc-products) the widget script /w.js is loaded to fill them. An event whose
 * answer could not be had is delivered later in a batch, and resolves {}.
 */
(function (w, d, nav, loc) {
  'use strict';

  /* Times (milliseconds) and caps. */
  var BATCH_SIZE = 10;                 // events per request
  var BATCH_WAIT = 2000;               // how long a first event waits for others to join its batch
  var QUEUE_MAX_EVENTS = 500;          // the queue's cap; the oldest events are dropped (and counted) past it
  var QUEUE_MAX_CHARS = 262144;        // and its cap as JSON (256 KB)
  var BEACON_MAX_CHARS = 60000;        // under the browsers' 64 KB budget for beacons and keepalive requests
  var SESSION_IDLE = 1800000;          // a session ends after 30 minutes without an event
  var ABANDONED_QUEUE = 180000;        // another tab's queue is adopted after 3 minutes of silence
  var RETRY_FIRST = 1000;              // backoff: 1 s, doubling with each failure,
  var RETRY_MAX = 300000;              // up to 5 minutes
  var COOKIE_MAX_AGE = 31536000;       // the anonymous id's cookie lasts a year (seconds)

  var script = d.currentScript;
  var cfg = w.datacueConfig || {};
  var now = Date.now;
  var nothing = Promise.resolve({});
  var store;
  try {
    store = w.localStorage;
  } catch (e) {}

  function attr(name, el) {
    return (el || script).getAttribute('data-' + name);
  }

  function warn(reason) {
    console.warn('storefront: ' + reason);
  }

  function on(target, type, handler) {
    target.addEventListener(type, handler, true);
  }

  function iso() {
    return new Date().toISOString();
  }

  // A random UUID, or nothing outside a secure context (plain http), where the tracker stays off.
  function uuid() {
    return crypto.randomUUID && crypto.randomUUID();
  }

  var key = attr('key') || cfg.api_key;
  var endpoint = attr('endpoint') || script.src.split('/').slice(0, 3).join('/');

  // Why not to track, if there is a reason: a privacy signal, a development host or an automated
  // browser (both allowed by data-allow-local), a page outside a secure context (no random UUIDs), or
  // an opt-out stored earlier (checked below).
  var off = '';
  if (attr('privacy-signals') != 'ignore' && (nav.globalPrivacyControl || nav.doNotTrack == 1)) {
    off = 'GPC/DNT';
  } else if (!attr('allow-local') && (/^(localhost|127\.|\[::1\]$)|^$/.test(loc.hostname) || nav.webdriver)) {
    off = 'local';
  } else if (!uuid()) {
    off = 'not HTTPS';
  }

  /* Storage: localStorage while it works, memory when it throws (private mode, quota, disabled). */
  var memory = {};
  var persist = attr('consent') != 'pending';

  function get(name, fresh) {
    if (name in memory && !fresh) return memory[name];
    try {
      return JSON.parse(store.getItem(name));
    } catch (e) {}
  }

  // Returns true when the value reached localStorage. Nothing is stored while tracking is off.
  function put(name, value) {
    memory[name] = value;
    if (!persist || off) return false;
    try {
      if (value == null) {
        store.removeItem(name);
      } else {
        store.setItem(name, JSON.stringify(value));
      }
      return value != null;
    } catch (e) {
      return false;
    }
  }

  if (get('sc:optout')) off = 'opted out';

  /* Identity: the anonymous id lives in a first-party cookie mirrored in localStorage. */
  var cookie = /\bsc_aid=([^;]+)/.exec(d.cookie);
  var anonymousId = (cookie && cookie[1]) || get('sc:aid') || uuid();
  var userId = get('sc:uid');
  var profile;

  function remember() {
    put('sc:aid', anonymousId);
    if (persist && !off) d.cookie = 'sc_aid=' + anonymousId + ';max-age=' + COOKIE_MAX_AGE + ';path=/;SameSite=Lax';
  }

  function context(page) {
    // UTM parameters (from page_url) and language (from Accept-Language) are filled in by the collector;
    // page_load is left out of the JSON unless set (1).
    var session = get('sc:s') || [];
    var sessionId = now() - session[1] < SESSION_IDLE ? session[0] : uuid();
    put('sc:s', [sessionId, now()]);
    return {
      page_url: loc.href, referrer: d.referrer, page_title: d.title, session_id: sessionId,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, screen: screen.width + 'x' + screen.height,
      page_load: page
    };
  }

  /* The queue: this tab's events, under its own key, so no two tabs send the same event. */
  var tab = 'sc:q:' + uuid();
  var queue = [];
  var dropped = 0;
  var timer, busy, owned, denied, widgets;
  var attempt = 0;

  // Saved with the time of the last save, or 0 when the page is leaving (another tab may adopt it at once).
  function save(leaving) {
    while (queue.length > QUEUE_MAX_EVENTS || JSON.stringify(queue).length > QUEUE_MAX_CHARS) {
      queue.shift();
      dropped++;
    }
    owned = put(tab, queue.length ? [leaving ? 0 : now(), queue] : null);
  }

  // Give up our queue if another tab took it over, and take over the queues of tabs that are gone
  // (closed or navigated away) or silent for a while.
  function adopt() {
    if (owned && !get(tab, true)) queue = [];
    try {
      for (var i = store.length - 1; i >= 0; i--) {
        var name = store.key(i);
        var other = name.indexOf('sc:q:') == 0 && name != tab && get(name, true);
        if (other && now() - other[0] > ABANDONED_QUEUE) {
          store.removeItem(name);
          queue = queue.concat(other[1]);
        }
      }
    } catch (e) {}
    save();
  }

  // An item's r, the resolve of the promise of its answer, lives in this page's memory only (JSON leaves
  // functions out): another page that adopts the queue delivers the event in a batch.
  function enqueue(kind, body, answered) {
    if (off || denied) return;
    queue.push({k: kind, b: body, r: answered});
    save();
    if (queue.length >= BATCH_SIZE || answered) {
      flush();
    } else if (!timer) {
      timer = setTimeout(flush, BATCH_WAIT);
    }
  }

  function pending(kind) {
    return queue.filter(function (item) {
      return item.k == kind;
    });
  }

  // Post items of one kind ('e' DataCue events, 'i' Cobi interactions), or one event alone (single) to
  // read its answer; returns fetch's promise, or true for a beacon the browser took.
  function send(items, beacon, single) {
    var kind = items[0].k;
    var body = {sent_at: iso(), dropped: dropped};
    body[kind == 'e' ? 'events' : 'records'] = items.map(function (item) {
      return item.b;
    });
    if (single) body = single.b;
    var url = endpoint + (kind == 'e' ? '/v1/events' : '/user-interactions') + '?key=' + key;
    body = JSON.stringify(body);
    var large = body.length > BEACON_MAX_CHARS;
    // A beacon is text/plain (no CORS preflight); one too large or refused by the browser is split in halves.
    if (beacon) {
      if (!(large && items.length > 1) && nav.sendBeacon(url, body)) return true;
      if (items.length > 1) {
        var half = items.length / 2;
        send(items.slice(0, half), true);
        return send(items.slice(half), true);
      }
    }
    // keepalive lets the request outlive the page, within the browser's 64 KB budget.
    return fetch(url, {method: 'POST', body: body, keepalive: !large});
  }

  /* Sending: a batch, or what the wait gathered, one request at a time, backoff on failure. */
  function flush() {
    clearTimeout(timer);
    timer = 0;
    if (off || !persist || !key || busy || !nav.onLine) return;
    adopt();
    if (!queue.length) return;
    var asked = queue.filter(function (item) {
      return item.r;
    })[0];
    var items = asked ? [asked] : pending(queue[0].k).slice(0, BATCH_SIZE);
    busy = send(items, 0, asked).then(done, done);

    // r is the response, or the error of a request that got none.
    function done(r) {
      var status = r.status;
      busy = 0;
      if (status < 500 && status != 408 && status != 429) {
        // Answered: stored, or refused for good (a 4xx other than 408 and 429); either way not sent again.
        if (status > 299) warn('refused ' + status);
        if (asked) {
          asked.r(status == 200 ? r.json().catch(function () {
            return {};
          }) : {});
        } else {
          dropped = 0;  // reported in batches only
        }
        attempt = 0;
        queue = queue.filter(function (item) {
          return items.indexOf(item) < 0;
        });
        save();
        flush();
        return;
      }
      // One try for an answer: while the collector cannot answer, no page waits for one, and every event
      // waiting for its answer is delivered later in a batch.
      queue.forEach(function (item) {
        if (item.r) item.r({});
        item.r = 0;
      });
      // Exponential backoff with jitter; Retry-After wins when the collector sends one.
      // (Math.pow, not a shift: 1000 << 22 overflows to a negative delay, a retry loop after an hour down.)
      var delay = status && r.headers.get('Retry-After') * 1000;
      if (!delay) {
        delay = Math.min(RETRY_MAX, RETRY_FIRST * Math.pow(2, attempt)) * (0.5 + Math.random());
        attempt++;
      }
      timer = setTimeout(flush, delay);
    }
  }

  // Page hidden or leaving: beacon everything queued. A beacon's delivery is never confirmed, so the
  // events stay queued and are sent again later, by this page or the next one (the collector dedupes).
  function drain(e) {
    if (!off && persist && key) {
      ['e', 'i'].forEach(function (kind) {
        var items = pending(kind);
        if (items.length) send(items, true);
      });
    }
    save(e.type == 'pagehide');
  }

  /* Events. A promise of the collector's answer: {} for an event it answers with no recommendations. */
  // `page`: the event a page sends as it loads, its page view whatever its type (a cart page's viewcart).
  function event(data, defer, page) {
    var body = {
      event_id: uuid(), timestamp: iso(), context: context(page), event: data,
      user: {user_id: userId, anonymous_id: anonymousId, profile: profile}
    };
    var answer = nothing;
    if (defer) {
      put('sc:d', (get('sc:d') || []).concat([body]));
    } else if (!denied && /^(pageview|search|viewcart)$/.test(data.type)) {
      answer = new Promise(function (resolve) {
        enqueue('e', body, resolve);
      }).then(function (found) {
        api.answer = found;
        d.dispatchEvent(new CustomEvent('storefront:recommendations', {detail: found}));
        // The widgets only where the page has placeholders: a shop without them loads nothing more.
        // (A script element given its src once in the document loads it.)
        if (!widgets && d.querySelector('[data-dc-banners],[data-dc-products]')) {
          widgets = d.head.appendChild(d.createElement('script')).src = endpoint + '/w.js';
        }
        return found;
      });
    } else {
      enqueue('e', body);
    }
    return answer;
  }

  function interaction(record) {
    enqueue('i', Object.assign({platform: 'WEB', event_timestamp: iso()}, record, {
      event_id: uuid(), anonymous_id: anonymousId, user_id: record.user_id || userId, context: context()
    }));
  }

  // The event DataCue's 2021 window.datacueConfig describes, by its page_type.
  function configEvent() {
    var type = cfg.page_type;
    var order = cfg.order_details || {};
    switch (type) {
      // product_update and category_update ride along: the catalogue falls back to them where the
      // shop's backend sent no record of the product.
      case 'product':
        return {type: 'pageview', subtype: type, product_id: cfg.product_id, variant_id: cfg.variant_id,
          product_update: cfg.product_update};
      case 'category':
        return {type: 'pageview', subtype: type, category_id: cfg.category_id, category_name: cfg.category_name,
          category_update: cfg.category_update};
      case 'search':
        return {type: type, term: cfg.term};
      case 'cart':
        return {type: 'viewcart', cart: cfg.cart || []};
      case 'order confirmation':
        return {type: 'order', subtype: order.order_status == 'cancelled' ? 'cancelled' : 'completed',
          order_id: cfg.order_id, cart: order.cart};
    }
    return {type: 'pageview', subtype: type == 'home' ? type : 'page'};
  }

  // The page's own event: the script tag's data-page (a DataCue event as JSON), or datacueConfig's,
  // or else a generic page view.
  function pageview() {
    event(JSON.parse(attr('page')) || configEvent(), 0, 1);
  }

  var api = {
    event: event,
    interaction: interaction,
    pageview: pageview,
    flush: flush,
    init: function (k) {
      key = k;
      flush();
    },
    identify: function (id, traits) {
      userId = id;
      put('sc:uid', id);
      profile = traits;
    },
    // pending: events wait in memory only; granted: stored and sent; denied: dropped.
    consent: function (state) {
      denied = state == 'denied';
      if (denied) queue = [];
      persist = state == 'granted';
      if (persist) {
        remember();
        save();
        flush();
      }
    },
    // The opt-out is stored (the one thing kept without consent) and holds on every later page.
    // DataCue's track: an event, and a Promise as its library returns.
    track: function (data, defer) {
      return storefront('event', data, defer) || nothing;
    },
    optout: function () {
      queue = [];
      save();
      persist = true;
      put('sc:optout', 1);
      off = 'opted out';
    }
  };

  function storefront(name) {
    if (off) return;
    // An unknown call only warns: one typo in a page must not stop the calls queued after it.
    if (!api[name]) return warn('unknown call ' + name);
    return api[name].apply(null, [].slice.call(arguments, 1));
  }

  var queued = (w.storefront && w.storefront.q) || [];
  w.storefront = storefront;
  // DataCue's browser API is this one: init(key), identify(userId, profile), track(event, defer) -> Promise.
  w.datacue = api;
  if (off) return warn('not tracking: ' + off);

  if (persist) remember();
  adopt();
  // Events deferred by datacue.track(event, true) on the previous page.
  (get('sc:d') || []).forEach(function (body) {
    enqueue('e', body);
  });
  put('sc:d');
  if ('user_id' in cfg) api.identify(cfg.user_id);
  queued.forEach(function (args) {
    storefront.apply(null, args);
  });
  if (attr('auto') != 'false') pageview();

  // Declarative tracking on click: data-click-banner="ID", data-click-product="ID", and any DataCue
  // event or Cobi interaction as JSON in data-event='{...}' or data-interaction='{...}'.
  on(d, 'click', function (e) {
    for (var el = e.target; el && el.getAttribute; el = el.parentNode) {
      var banner = attr('click-banner', el);
      var product = attr('click-product', el);
      var data = attr('event', el);
      var record = attr('interaction', el);
      if (banner) return event({type: 'click', subtype: 'banner', banner_id: banner});
      if (product) return event({type: 'click', subtype: 'product', product_id: product});
      if (data) return event(JSON.parse(data));
      if (record) return interaction(JSON.parse(record));
    }
  });

  // Single-page apps (data-spa): one page view per new path, from pushState, replaceState and popstate.
  var path = loc.pathname;
  function route() {
    if (path == loc.pathname) return;
    path = loc.pathname;
    event({type: 'pageview', subtype: 'page'}, 0, 1);
  }
  if (attr('spa')) {
    ['pushState', 'replaceState'].forEach(function (name) {
      var original = history[name];
      history[name] = function () {
        original.apply(this, arguments);
        route();
      };
    });
    on(w, 'popstate', route);
  }

  on(w, 'online', flush);
  on(w, 'pagehide', drain);
  on(d, 'visibilitychange', function (e) {
    if (d.hidden) {
      drain(e);
    } else {
      flush();
    }
  });
  flush();
})(window, document, navigator, location);
