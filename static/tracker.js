/*
 * storefront-collector tracker. This readable file is the source; the collector serves it minified
 * (calmjs.parse) and gzipped at /t.js. ES5 syntax, no eval, no inline script needed:
 *
 *   <script async src="https://collector.example/t.js" data-key="live_..."></script>
 *
 * Calls made before it loads are queued by the one-line stub
 *   window.storefront=window.storefront||function(){(storefront.q=storefront.q||[]).push(arguments)}
 * and replayed in order. Every event gets an event_id and a timestamp, waits in this tab's queue
 * (persisted in localStorage), goes out in batches, is retried with backoff until the collector
 * acknowledges it, and is beaconed when the page is hidden. The collector dedupes by event_id.
 */
(function (w, d, nav, loc) {
  'use strict';
  var script = d.currentScript;
  var cfg = w.datacueConfig || {};
  var now = Date.now;
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
    target.addEventListener(type, handler, 1);
  }

  function iso() {
    return new Date().toISOString();
  }

  function uuid() {
    return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, function (c) {
      return (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16);
    });
  }

  var key = attr('key') || cfg.api_key;
  var endpoint = attr('endpoint') || script.src.split('/').slice(0, 3).join('/');
  // Why not to track, if there is a reason: a privacy signal, a development host or an automated
  // browser (both allowed by data-allow-local), or an opt-out stored earlier (checked below).
  var off = attr('privacy-signals') != 'ignore' && (nav.globalPrivacyControl || nav.doNotTrack == 1) ? 'GPC/DNT' :
    !attr('allow-local') && (/^(localhost|127\.|\[::1\]$)|^$/.test(loc.hostname) || nav.webdriver) ? 'local' : '';

  /* Storage: localStorage while it works, memory when it throws (private mode, quota, disabled). */
  var memory = {};
  var persist = attr('consent') != 'pending';

  function get(k, fresh) {
    if (k in memory && !fresh) return memory[k];
    try {
      return JSON.parse(store.getItem(k));
    } catch (e) {}
  }

  // Returns true when the value reached localStorage. Nothing is stored while tracking is off.
  function put(k, v) {
    memory[k] = v;
    try {
      if (persist && !off) return v == null ? store.removeItem(k) : !store.setItem(k, JSON.stringify(v));
    } catch (e) {}
  }

  if (get('sc:optout')) off = 'opted out';

  /* Identity: the anonymous id lives in a first-party cookie mirrored in localStorage, one year. */
  var cookie = /\bsc_aid=([^;]+)/.exec(d.cookie);
  var anonymousId = cookie && cookie[1] || get('sc:aid') || uuid();
  var userId = get('sc:uid');
  var profile;

  function remember() {
    put('sc:aid', anonymousId);
    if (persist && !off) d.cookie = 'sc_aid=' + anonymousId + ';max-age=31536000;path=/;SameSite=Lax';
  }

  function context() {
    // The session lasts while events come less than 30 minutes apart.
    // UTM parameters (from page_url) and language (from Accept-Language) are filled in by the collector.
    var session = get('sc:s') || [];
    put('sc:s', session = [now() - session[1] < 18e5 ? session[0] : uuid(), now()]);
    return {
      page_url: loc.href, referrer: d.referrer, page_title: d.title, session_id: session[0],
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone, screen: screen.width + 'x' + screen.height
    };
  }

  /* The queue: this tab's events, under its own key, so no two tabs send the same event. */
  var tab = 'sc:q:' + uuid();
  var queue = [];
  var dropped = 0;
  var timer, busy, owned, denied, attempt = 0;

  function save(gone) {
    // Capped at 500 events or 256 KB; the oldest go first and are counted in `dropped`.
    while (queue[500] || JSON.stringify(queue)[262144]) queue.shift(), dropped++;
    owned = put(tab, queue[0] ? [gone ? 0 : now(), queue] : null);
  }

  // Give up our queue if another tab took it over, and take over the queues of tabs that are gone
  // (closed or navigated away) or silent for three minutes.
  function adopt() {
    if (owned && !get(tab, 1)) queue = [];
    try {
      for (var i = store.length; i--;) {
        var k = store.key(i), other = !k.indexOf('sc:q:') && k != tab && get(k, 1);
        if (other && now() - other[0] > 18e4) store.removeItem(k), queue = queue.concat(other[1]);
      }
    } catch (e) {}
    save();
  }

  function enqueue(kind, body) {
    if (off || denied) return;
    queue.push({k: kind, b: body});
    save();
    queue[9] ? flush() : timer || (timer = setTimeout(flush, 2e3));
  }

  function pending(kind) {
    return queue.filter(function (item) {
      return item.k == kind;
    });
  }

  function send(items, beacon) {
    var kind = items[0].k, body = {sent_at: iso(), dropped: dropped};
    body[kind == 'e' ? 'events' : 'records'] = items.map(function (item) {
      return item.b;
    });
    var url = endpoint + (kind == 'e' ? '/v1/events' : '/user-interactions') + '?key=' + key;
    body = JSON.stringify(body);
    // A beacon is text/plain (no CORS preflight); one the browser refuses is split in halves.
    if (beacon && (body[6e4] && items[1] || !nav.sendBeacon(url, body))) {
      if (items[1]) return send(items.slice(0, items.length / 2), 1), send(items.slice(items.length / 2), 1);
      beacon = 0;
    }
    // keepalive lets the request outlive the page, within the browser's 64 KB budget.
    return beacon || fetch(url, {method: 'POST', body: body, keepalive: !body[6e4]});
  }

  /* Sending: 10 events, or what 2 s gathered, one request at a time, backoff on failure. */
  function flush() {
    clearTimeout(timer);
    timer = 0;
    if (off || !persist || !key || busy || !nav.onLine) return;
    adopt();
    var items = queue[0] && pending(queue[0].k).slice(0, 10);
    if (items) busy = send(items).then(done, done);

    // r is the response, or the error of a request that got none.
    function done(r) {
      var status = r.status;
      busy = 0;
      if (status < 500 && status != 408 && status != 429) {
        if (status > 299) warn('collector refused events: ' + status);
        dropped = attempt = 0;
        queue = queue.filter(function (item) {
          return items.indexOf(item) < 0;
        });
        save();
        flush();
      } else {
        // Exponential backoff from 1 s to 5 min with jitter; Retry-After wins when the collector sends one.
        // (Math.pow, not a shift: 1000 << 22 overflows to a negative delay, a retry loop after an hour down.)
        timer = setTimeout(flush, status && r.headers.get('Retry-After') * 1e3 ||
          Math.min(3e5, 1e3 * Math.pow(2, attempt++)) * (0.5 + Math.random()));
      }
    }
  }

  // Page hidden or leaving: beacon everything queued. A beacon's delivery is never confirmed, so the
  // events stay queued and are sent again later, by this page or the next one (the collector dedupes).
  function drain(e) {
    if (!off && persist && key) {
      for (var kind in {e: 1, i: 1}) {
        var items = pending(kind);
        items[0] && send(items, 1);
      }
    }
    save(e.type == 'pagehide');
  }

  /* Events. */
  function event(data, defer) {
    var body = {
      event_id: uuid(), timestamp: iso(), context: context(), event: data,
      user: {user_id: userId, anonymous_id: anonymousId, profile: profile}
    };
    defer ? put('sc:d', (get('sc:d') || []).concat([body])) : enqueue('e', body);
  }

  function interaction(record) {
    enqueue('i', Object.assign({platform: 'WEB', event_timestamp: iso()}, record, {
      event_id: uuid(), anonymous_id: anonymousId, user_id: record.user_id || userId, context: context()
    }));
  }

  // The page's own event: the script tag's data-page (a DataCue event as JSON), or DataCue's 2021
  // window.datacueConfig, or else a generic page view.
  function pageview() {
    var type = cfg.page_type, order = cfg.order_details || {};
    event(JSON.parse(attr('page')) ||
      (type == 'product' ? {type: 'pageview', subtype: type, product_id: cfg.product_id, variant_id: cfg.variant_id} :
      type == 'category' ? {type: 'pageview', subtype: type, category_id: cfg.category_id, category_name: cfg.category_name} :
      type == 'search' ? {type: type, term: cfg.term} :
      type == 'cart' ? {type: 'viewcart', cart: cfg.cart || []} :
      type == 'order confirmation' ? {type: 'order', order_id: cfg.order_id, cart: order.cart,
        subtype: order.order_status == 'cancelled' ? 'cancelled' : 'completed'} :
      {type: 'pageview', subtype: type == 'home' ? type : 'page'}));
  }

  var api = {
    event: event,
    interaction: interaction,
    pageview: pageview,
    flush: flush,
    identify: function (id, traits) {
      put('sc:uid', userId = id);
      profile = traits;
    },
    // pending: events wait in memory only; granted: stored and sent; denied: dropped.
    consent: function (state) {
      if (denied = state == 'denied') queue = [];
      if (persist = state == 'granted') remember(), save(), flush();
    },
    // The opt-out is stored (the one thing kept without consent) and holds on every later page.
    optout: function () {
      queue = [];
      save();
      persist = 1;
      put('sc:optout', 1);
      off = 'opted out';
    }
  };

  function storefront(name) {
    // An unknown call only warns: one typo in a page must not stop the calls queued after it.
    off || (api[name] ? api[name].apply(0, [].slice.call(arguments, 1)) : warn('unknown call ' + name));
  }
  var queued = w.storefront && w.storefront.q || [];
  w.storefront = storefront;
  // DataCue's browser API: init(key), identify(userId, profile), track(event, defer) -> Promise.
  w.datacue = {
    init: function (k) {
      key = k;
      flush();
    },
    identify: api.identify,
    track: function (data, defer) {
      storefront('event', data, defer);
      return Promise.resolve({});
    }
  };
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
    storefront.apply(0, args);
  });
  if (attr('auto') != 'false') pageview();

  // Declarative tracking on click: data-click-banner="ID", data-click-product="ID", and any DataCue
  // event or Cobi interaction as JSON in data-event='{...}' or data-interaction='{...}'.
  on(d, 'click', function (e) {
    for (var el = e.target, value; el && el.getAttribute; el = el.parentNode) {
      if (value = attr('click-banner', el)) return event({type: 'click', subtype: 'banner', banner_id: value});
      if (value = attr('click-product', el)) return event({type: 'click', subtype: 'product', product_id: value});
      if (value = attr('event', el)) return event(JSON.parse(value));
      if (value = attr('interaction', el)) return interaction(JSON.parse(value));
    }
  });

  // Single-page apps (data-spa): one page view per new path, from pushState, replaceState and popstate.
  var path = loc.pathname;
  function route() {
    if (path != loc.pathname) path = loc.pathname, event({type: 'pageview', subtype: 'page'});
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
    d.hidden ? drain(e) : flush();
  });
  flush();
})(window, document, navigator, location);
