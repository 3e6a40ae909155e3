/*
 * storefront-collector widgets: DataCue's placeholders filled with the collector's recommendations. This
 * readable file is the source; the collector serves it minified at /w.js, and the tracker (/t.js) loads it
 * on a page that has a data-dc-banners or data-dc-products placeholder. A page with only a custom banner
 * layout (data-dc-main-insert-banner, data-dc-sub-insert-banner) loads it with its own script tag, where
 * DataCue's datacue-storefront.js was:
 *
 *   <div data-dc-banners data-dc-static-img="/img/sale.jpg" data-dc-static-link="/sale"></div>
 *   <div data-dc-products></div>                   the page's lists, as its answer names them
 *   <div data-dc-products="related"></div>         or one list: related, recent, similar, categories, top
 *   <div data-dc-main-insert-banner="1"></div>     the first main banner, in a layout of the shop's own
 *
 * It renders the answer the tracker got for the page (datacue.answer), then each later one
 * (`storefront:recommendations`), into elements with classes a shop can restyle (dc-*, /w.css) and titles it
 * can change (data-dc-title-related="..." on the placeholder). Catalogue data is text and attributes only,
 * never markup, and only http(s) or relative links and images are used. A click on a product or banner is
 * sent by the tracker as DataCue's click event naming its list; a list seen on screen is sent once per
 * answer as an impression. No inline script or style: it works under a strict Content-Security-Policy that
 * allows the collector's origin for scripts and styles.
 */
(function (w, d) {
  'use strict';

  if (w.storefrontWidgets) return;
  w.storefrontWidgets = 1;

  var cfg = w.datacueConfig || {};
  var origin = ((d.currentScript || {}).src || '').replace(/\/w\.js([?#].*)?$/, '');
  var TITLES = {
    related: 'Recommended for you', bought: 'Frequently bought together', recent: 'Recently viewed',
    similar: 'Similar products', top: 'Top products'
  };
  // The lists a placeholder shows, by its data-dc-products value ('' for all the page's own).
  var LISTS = ['similar', 'related', 'recent', 'top'];
  var seen = w.IntersectionObserver && new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var el = entry.target;
      if (entry.isIntersecting) {
        seen.unobserve(el);
        track({type: 'impression', subtype: el.dcBanners ? 'banners' : 'products', list: el.dcList, ids: el.dcIds});
      }
    });
  }, {threshold: 0.5});

  function track(event) {
    if (w.storefront) w.storefront('event', event);
  }

  // An http(s) or relative address, resolved against the page; null for anything else (javascript:, data:).
  function safe(url) {
    try {
      var resolved = new URL(url, location.href);
      if (/^https?:$/.test(resolved.protocol)) return resolved.href;
    } catch (e) {}
    return null;
  }

  function el(tag, className, text) {
    var node = d.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  // A link when it has a safe address (a click on it is sent as `click`), else a plain block.
  function link(href, className, click) {
    href = safe(href);
    var node = el(href ? 'a' : 'div', className);
    if (href) {
      node.href = href;
      node.setAttribute('data-event', JSON.stringify(click));
    }
    return node;
  }

  function image(src, alt, className) {
    var node = el('img', className);
    node.alt = alt || '';
    node.loading = 'lazy';
    src = safe(src);
    if (src) node.src = src;
    return node;
  }

  // A price for the page's language, in the currency the placeholder or datacueConfig names, if any.
  function price(value, currency) {
    if (typeof value != 'number') return '';
    try {
      return new Intl.NumberFormat(d.documentElement.lang || undefined, currency
        ? {style: 'currency', currency: currency} : {minimumFractionDigits: 2, maximumFractionDigits: 2})
        .format(value);
    } catch (e) {
      return value.toFixed(2);
    }
  }

  // Watched once it is in the page: an impression is sent when half of it is on screen.
  function watch(node, list, ids, banners) {
    node.dcList = list;
    node.dcIds = ids;
    node.dcBanners = banners;
    if (seen) seen.observe(node);
  }

  function products(placeholder, list, title, items) {
    items = (items || []).filter(function (item) {
      return item && item.name;
    });
    if (!items.length) return;
    var section = el('section', 'dc-list dc-list-' + list);
    var grid = el('div', 'dc-grid');
    section.appendChild(el('h2', 'dc-title', placeholder.getAttribute('data-dc-title-' + list) || title));
    items.forEach(function (item) {
      var card = link(item.link, 'dc-product',
        {type: 'click', subtype: 'product', product_id: String(item.product_id), list: list});
      card.appendChild(image(item.photo_url, item.name, 'dc-photo'));
      card.appendChild(el('span', 'dc-name', item.name));
      card.appendChild(el('span', 'dc-price', price(item.price, placeholder.getAttribute('data-dc-currency') ||
        cfg.currency)));
      grid.appendChild(card);
    });
    section.appendChild(grid);
    placeholder.appendChild(section);
    watch(section, list, items.map(function (item) {
      return String(item.product_id);
    }));
  }

  // A banner's clicks and impressions name one list, `banners`, whichever slot shows it.
  function banner(item, kind) {
    var node = link(item.link, 'dc-banner dc-' + kind,
      {type: 'click', subtype: 'banner', banner_id: String(item.banner_id), list: 'banners'});
    node.appendChild(image(item.photo_url, item.name, 'dc-banner-img'));
    return node;
  }

  // DataCue's standard layout: the first main banner (the static image where the site has none) and the
  // first two sub banners.
  function banners(placeholder, answer) {
    var main = answer.main_banners[0];
    var sub = answer.sub_banners.slice(0, 2);
    var box = el('div', 'dc-banners');
    var fallback = placeholder.getAttribute('data-dc-static-img');
    if (main) {
      box.appendChild(banner(main, 'main'));
    } else if (fallback) {
      var stat = link(placeholder.getAttribute('data-dc-static-link'), 'dc-banner dc-main dc-static', {
        type: 'click', subtype: 'banner', banner_id: 'static', list: 'banners'});
      stat.appendChild(image(fallback, '', 'dc-banner-img'));
      box.appendChild(stat);
    }
    sub.forEach(function (item) {
      box.appendChild(banner(item, 'sub'));
    });
    if (!box.firstChild) return;
    placeholder.appendChild(box);
    watch(box, 'banners', (main ? [main] : []).concat(sub).map(function (item) {
      return String(item.banner_id);
    }), 1);
  }

  // Rows of the visitor's list by top-level category, the categories they lean to first (DataCue's
  // "related categories").
  function categories(placeholder, items) {
    var rows = Object.create(null);  // a category named __proto__ or constructor is a row like any other
    var order = [];
    (items || []).forEach(function (item) {
      var name = item.category_1;
      if (name == null) return;
      if (!rows[name]) order.push(name);
      (rows[name] = rows[name] || []).push(item);
    });
    order.slice(0, 3).forEach(function (name) {
      products(placeholder, 'categories', String(name), rows[name]);
    });
  }

  function fill(placeholder, answer, kind) {
    var lists = kind ? [kind] : LISTS;
    // A placeholder keeps what it shows until an answer has one of its lists (a search's answer on a
    // product page leaves the similar products there).
    if (!lists.some(function (list) {
      return (list == 'categories' ? 'related' : list) + '_product_skus' in answer;
    })) return;
    placeholder.textContent = '';
    placeholder.classList.add('dc-filled');
    lists.forEach(function (list) {
      if (list == 'categories') return categories(placeholder, answer.related_product_skus);
      products(placeholder, list, TITLES[list == 'related' && 'similar_product_skus' in answer ? 'bought' : list],
        answer[list + '_product_skus']);
    });
  }

  function render(answer) {
    if (!answer || typeof answer != 'object') return;
    [].forEach.call(d.querySelectorAll('[data-dc-products]'), function (placeholder) {
      fill(placeholder, answer, placeholder.getAttribute('data-dc-products'));
    });
    if (!answer.main_banners || !answer.sub_banners) return;
    [].forEach.call(d.querySelectorAll('[data-dc-banners]'), function (placeholder) {
      placeholder.textContent = '';
      banners(placeholder, answer);
    });
    ['main', 'sub'].forEach(function (kind) {
      [].forEach.call(d.querySelectorAll('[data-dc-' + kind + '-insert-banner]'), function (placeholder) {
        var item = answer[kind + '_banners'][placeholder.getAttribute('data-dc-' + kind + '-insert-banner') - 1];
        placeholder.textContent = '';
        if (item) watch(placeholder.appendChild(banner(item, kind)), 'banners', [String(item.banner_id)], 1);
      });
    });
  }

  // The stylesheet, unless the page has it already (or styles the widgets itself: data-dc-css="none" on
  // any placeholder).
  if (origin && !d.querySelector('link[href$="/w.css"],[data-dc-css="none"]')) {
    var sheet = el('link');
    sheet.rel = 'stylesheet';
    sheet.href = origin + '/w.css';
    d.head.appendChild(sheet);
  }
  d.addEventListener('storefront:recommendations', function (e) {
    render(e.detail);
  });
  render(w.datacue && w.datacue.answer);
})(window, document);
