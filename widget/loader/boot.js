// boot.js: the loader's rarely needed half, imported only when a survey is due
// or an answer waits in the outbox (or the browser's storage is to be
// cleared), so that pages pay nothing for it otherwise. `cargo xtask widget`
// bundles it with wasm-bindgen's glue into one module (esbuild, then terser)
// named with the bundle's content hash: the loader fetches that module and the
// wasm side by side, one round trip.
import load, { show as card, reply as replyCard } from './pulso_widget.js';

export function boot(base, site, store, wasm) {
  // `store` is the loader's: this collector's and this site's keys in
  // localStorage, or nothing where storage is blocked or not consented to.
  // `wasm`: the card's wasm as the loader fetched it, or nothing (the module
  // was first imported to send the outbox).

  // A respondent's first survey asks the open question, later ones a closed list.
  // The browser remembers earlier answers (its survey history has a time of
  // the last answer on the site); when it does not, the collector may
  // (storage cleared, another device of a verified user). When nobody knows,
  // it is a first survey; so it is when the collector has not said within 3 s
  // (the card is on screen meanwhile, and a score chosen waits). The lookup
  // is a POST (no ids in a URL, where proxies log them) of a plain-text body
  // (no CORS preflight, so no extra round trip).
  var answeredBefore = function (respondent, user, hash) {
    var history;
    try { history = JSON.parse(store('t') || '{}') } catch (e) { history = {} }
    return history.a ? Promise.resolve(true) : Promise.race([
      fetch(base + '/v1/sites/' + encodeURIComponent(site) + '/history', {
        method: 'POST', headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ respondent: respondent, user_id: user, user_hash: hash })
      })
        .then(function (res) { return res.ok && res.json() })
        .then(function (j) { return !!(j && j.answered) }, function () { return false }),
      new Promise(function (done) { setTimeout(done, 3e3, false) })
    ]);
  };

  // The outbox: every answer is written here before it is posted (so a closed
  // tab or a crash mid-request loses nothing) and stays until the collector
  // answered for good; one not acknowledged (offline, 408, 429, 5xx) is sent
  // again with growing pauses, at every page load and when the browser comes
  // back online. The latest revision of each answer, at most 20. The collector
  // keeps one answer per id, so a repeat is harmless. `queue(body)` before a
  // post says whether the answer is kept; `queue(body, true)` after a final
  // answer drops it; `queue(body, false)` after a failure schedules a retry.
  // What is read back is checked: only this site's answers, each entry's body
  // its own, at most 20 (a page could plant anything in localStorage, and a
  // planted outbox must not fire thousands of requests).
  var OUTBOX = 'o';
  var outbox = function () {
    var list;
    try { list = JSON.parse(store(OUTBOX) || '[]') } catch (e) { list = [] }
    return (Array.isArray(list) ? list : []).filter(function (e) {
      try {
        var a = JSON.parse(e.body);
        return a.id == e.id && a.rev == e.rev && a.site == site && typeof e.at == 'number' && /^[\da-f-]{36}$/i.test(e.id);
      } catch (x) { return false }
    }).slice(-20);
  };
  // Displays (`a.display`) wait here too, but never crowd out answers: one
  // is kept only while the outbox holds fewer than 10 entries.
  var queue = function (body, settled) {
    var a = JSON.parse(body), list = outbox().filter(function (e) { return e.id != a.id || e.rev > a.rev });
    // Before the post, a pause keeps timers off the card's own request.
    if (!settled && !(a.display && list.length > 9) && !list.some(function (e) { return e.id == a.id })) list.push({ id: a.id, rev: a.rev, body: body, tries: 0, at: Date.now() + (settled === false ? 0 : 1e4) });
    store(OUTBOX, list.length ? JSON.stringify(list.slice(-20)) : null);
    if (settled === false) setTimeout(flush, 2e3);
    return outbox().some(function (e) { return e.id == a.id });
  };
  // Posts an answer (or a display). Resolves 1 when the collector stored it,
  // 2 when it refused it for good (a 4xx other than 408/429: its error is
  // logged, once, naming which of the two it was, and it is done with),
  // nothing when it is worth sending again.
  var post = function (body) {
    var what = JSON.parse(body).display ? 'display' : 'answer';
    return fetch(base + (what == 'display' ? '/v1/displays' : '/v1/responses'), { method: 'POST', keepalive: true, headers: { 'content-type': 'application/json' }, body: body })
      .then(function (r) {
        if (r.ok) return 1;
        if (r.status < 500 && r.status != 408 && r.status != 429) return r.json().then(function (j) {
          return j.error.code + ' ' + j.error.field;
        }).catch(function () { return r.status }).then(function (why) {
          console.warn('pulso: ' + what + ' refused: ' + why);
          return 2;
        });
      }, function () {});
  };
  var flushing, timer;
  // `all`: a page load or the browser coming online sends everything at once;
  // timers within a page send only what its pause lets through.
  var flush = function (all) {
    var now = Date.now(), due = outbox().filter(function (e) { return all === 1 || e.at <= now });
    if (flushing || !due.length) return;
    flushing = 1;
    Promise.all(due.map(function (e) { return post(e.body) })).then(function (done) {
      var list = outbox().filter(function (e) {
        var i = due.findIndex(function (d) { return d.id == e.id && d.rev == e.rev });
        if (i < 0) return 1;
        if (!done[i]) e.at = Date.now() + Math.min(36e5, 2e3 * Math.pow(2, e.tries++));
        return !done[i];
      });
      store(OUTBOX, list.length ? JSON.stringify(list) : null);
      flushing = 0;
      clearTimeout(timer);
      if (list.length) timer = setTimeout(flush, Math.max(1e3, Math.min.apply(null, list.map(function (e) { return e.at })) - Date.now()));
    });
  };
  // The card's sender: the answer goes into the outbox, then out. Resolves
  // whether it is safe: stored, or kept to be sent again. A safe answer is
  // noted (`note`, the loader's: the survey history's time of the last
  // answer, from which recontact periods run and which marks later surveys
  // as not the first).
  var send = function (body, note) {
    var kept = queue(body);
    return post(body).then(function (s) {
      queue(body, !!s);
      var safe = s == 1 || !s && kept;
      if (safe) note('a');
      return safe;
    });
  };
  window.addEventListener('online', function () { flush(1) });

  // Everything of this collector's and site's in this browser: the respondent
  // id, the survey history, the outbox (`pulso('reset')`, or consent
  // withdrawn). Straight on localStorage: storage may no longer be consented
  // to, and forgetting must still happen.
  var clear = function () {
    var prefix = 'pulso:' + base + ':' + site + ':';
    try {
      Object.keys(localStorage).forEach(function (k) { k.indexOf(prefix) || localStorage.removeItem(k) });
    } catch (e) {}
  };

  // An answer's id (its display's too), in time order: a UUIDv7, the clock's
  // milliseconds, then random bits from a blob URL's UUID (there also where
  // crypto.randomUUID is missing, on pages not served over https). New ids
  // sort after older ones, so the collector's index of ids takes each new
  // answer on its last page, not on a random page of its own (see
  // ARCHITECTURE.md, "ids in time order").
  var timeId = function () {
    var t = Date.now().toString(16).padStart(12, '0');
    return t.slice(0, 8) + '-' + t.slice(8) + '-7' + URL.createObjectURL(new Blob).slice(-21);
  };

  // The card's wasm sits beside this module, under the same hash. A load that
  // failed (a network blip) is tried again, from the wasm's own URL, by the
  // next survey of this page view (single-page apps live long).
  var ready;
  // `o`: the loader's options, one letter each: survey (s; a preview may give
  // its id; 1 when a reply waits instead), theme (t), respondent (r), user id (u) and its hash (h), preview
  // (v), step (p), page (g), props (o), locale (l: the list of locales to try
  // once here). This adds the note (n), the site, the sender, the display id
  // (i) and whether this is a first survey, and the card reads them all.
  var show = function (o) {
    // No WebAssembly (some locked-down browsers): show nothing, count nothing.
    if (typeof WebAssembly != 'object') return;
    return o.s === 1 ? reply(o) : survey(o);
  };
  var loadCard = function () {
    return ready = ready || load({ module_or_path: wasm || fetch(import.meta.url.replace(/\.js$/, '.wasm')) })
      .catch(function (e) { ready = wasm = null; throw e });
  };
  // A reply of the site's team waits (the configuration listed this
  // respondent's key, or this verified user's): its text is asked for by a
  // POST (no id in a URL), shown once in the card, and recorded seen. The
  // key is 8 hex digits, so another respondent may share it: the collector
  // then has nothing for them, and nothing shows.
  var reply = function (o) {
    var whom = JSON.stringify({ respondent: o.r, user_id: o.u, user_hash: o.h });
    var post = function (path) {
      return fetch(base + '/v1/sites/' + encodeURIComponent(site) + '/replies' + path, {
        method: 'POST', headers: { 'content-type': 'text/plain' }, body: whom
      });
    };
    return post('').then(function (r) { return r.ok && r.json() }).then(function (j) {
      var r = j && j.replies && j.replies[0];
      return r && loadCard().then(function () {
        if (replyCard({ text: r.text, locale: r.locale, t: o.t })) return post('/' + r.id + '/seen');
      });
    });
  };
  var survey = function (o) {
    // A preview (`pulso('show', id)`) names its survey by id: it and the
    // site's theme come from the configuration, fetched here, not by the
    // loader, which has no bytes for it.
    var found = typeof o.s == 'string' ? fetch(base + '/v1/sites/' + site + '/config').then(function (r) { return r.json() }).then(function (c) {
      var s = c.surveys.find(function (s) { return s.id == o.s });
      if (!s) throw 'bad call: show';
      o.t = c.theme;
      return s;
    }) : Promise.resolve(o.s);
    // The card does not wait for the first-survey lookup: it needs the answer
    // only once a score is chosen, and gets it as a promise.
    o.first = answeredBefore(o.r, o.u, o.h).then(function (a) { return !a });
    return Promise.all([found, loadCard()]).then(function (got) {
      o.s = got[0];
      // What became of the card, in the loader's survey history: shown (s),
      // answered (a), dismissed (d), for this survey and for any; a
      // preview records nothing. Shown and dismissed are also posted, as a
      // display without personal data (for the response rate), through
      // the outbox.
      // The display's id is the answer's too (`i`).
      var d = { id: o.i = timeId(), rev: 1, site: site, survey: o.s.id, step: o.p, display: 'shown' };
      o.n = function (k) {
        var t;
        if (o.v) return;
        if (k != 'a') {
          if (k == 'd') d.rev = 2, d.display = 'dismissed';
          send(JSON.stringify(d), function () {});
        }
        try { t = JSON.parse(store('t') || '{}') } catch (e) { t = {} }
        t[k] = t[k + o.s.id] = Date.now();
        store('t', JSON.stringify(t));
      };
      o.site = site;
      // The visitor's traits go with the answer only for the keys the site
      // keeps (`keep_traits`), added to the card's body here.
      var kept = {};
      (o.s.keep_traits || []).forEach(function (t) { o.k && t in o.k && (kept[t] = o.k[t]) });
      o.send = function (body) {
        var a = JSON.parse(body);
        a.traits = kept;
        return send(JSON.stringify(a), o.n);
      };
      o.l = [o.l, document.documentElement.lang].concat(navigator.languages || [navigator.language]).filter(Boolean);
      card(o) && o.n('s');
    });
  };
  return { flush: flush, show: show, clear: clear };
}
