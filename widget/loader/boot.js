// boot.js: the loader's rarely needed half, imported only when a survey is due
// or an answer waits in the outbox, so that pages pay nothing for it otherwise.
// `cargo xtask widget` bundles it with wasm-bindgen's glue into one module
// (esbuild, then terser) named with the bundle's content hash: the loader
// fetches that module and the wasm side by side, one round trip.
import load, { show as card } from './pulso_widget.js';

export function boot(base, site, store, wasm) {
  // `store` is the loader's: localStorage, or nothing where it is blocked.
  // `wasm`: the card's wasm as the loader fetched it, or nothing (the module
  // was first imported to send the outbox).

  // A respondent's first survey asks the open question, later ones a closed list.
  // The browser remembers earlier answers; when it does not, the collector may
  // (storage cleared, another device of an identified user). When nobody
  // knows, it is a first survey; so it is when the collector has not said
  // within 3 s (the card is on screen meanwhile, and a score chosen waits).
  var answeredBefore = function (respondent, user) {
    return store('pulso.answered.' + site) ? Promise.resolve(true) : Promise.race([
      fetch(base + '/v1/sites/' + encodeURIComponent(site) + '/respondents/' + respondent + (user ? '?user=' + encodeURIComponent(user) : ''))
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
  var OUTBOX = 'pulso.outbox';
  var outbox = function () {
    try { return JSON.parse(store(OUTBOX) || '[]') } catch (e) { return [] }
  };
  var queue = function (body, settled) {
    var a = JSON.parse(body), list = outbox().filter(function (e) { return e.id != a.id || e.rev > a.rev });
    // Before the post, a pause keeps timers off the card's own request.
    if (!settled && !list.some(function (e) { return e.id == a.id })) list.push({ id: a.id, rev: a.rev, body: body, tries: 0, at: Date.now() + (settled === false ? 0 : 1e4) });
    store(OUTBOX, list.length ? JSON.stringify(list.slice(-20)) : null);
    if (settled === false) setTimeout(flush, 2e3);
    return outbox().some(function (e) { return e.id == a.id });
  };
  // Posts an answer. Resolves 1 when the collector stored it, 2 when it
  // refused it for good (a 4xx other than 408/429: its error is logged, once,
  // and the answer is done with), nothing when it is worth sending again.
  var post = function (body) {
    return fetch(base + '/v1/responses', { method: 'POST', keepalive: true, headers: { 'content-type': 'application/json' }, body: body })
      .then(function (r) {
        if (r.ok) return 1;
        if (r.status < 500 && r.status != 408 && r.status != 429) return r.json().then(function (j) {
          return j.error.code + ' ' + j.error.field;
        }).catch(function () { return r.status }).then(function (why) {
          console.warn('pulso: answer refused: ' + why);
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
  // whether it is safe: stored, or kept to be sent again. A stored answer is
  // remembered (the next survey asks the closed list) and noted (`note`, the
  // loader's: its recontact period starts).
  var send = function (body, note) {
    var kept = queue(body);
    return post(body).then(function (s) {
      queue(body, !!s);
      if (s == 1) {
        store('pulso.answered.' + site, 1);
        note('a');
      }
      return s == 1 || !s && kept;
    });
  };
  window.addEventListener('online', function () { flush(1) });

  // The card's wasm sits beside this module, under the same hash. A load that
  // failed (a network blip) is tried again, from the wasm's own URL, by the
  // next survey of this page view (single-page apps live long).
  var ready;
  var show = function (o) {
    // No WebAssembly (some locked-down browsers): show nothing, count nothing.
    if (typeof WebAssembly != 'object') return;
    // The card does not wait for the first-survey lookup: it needs the answer
    // only once a score is chosen, and gets it as a promise.
    o.first = answeredBefore(o.respondent, o.user_id).then(function (a) { return !a });
    ready = ready || load({ module_or_path: wasm || fetch(import.meta.url.replace(/\.js$/, '.wasm')) })
      .catch(function (e) { ready = wasm = null; throw e });
    return ready.then(function () {
      o.site = site;
      o.send = function (body) { return send(body, o.note) };
      o.locales = [o.locale, document.documentElement.lang].concat(navigator.languages || [navigator.language]).filter(Boolean);
      card(o) && o.note('s');
    });
  };
  return { flush: flush, show: show };
}
