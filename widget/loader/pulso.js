// pulso.js: the loader every host page pays for. It keeps the command queue,
// fetches the site's survey configuration when a funnel step is tracked, and
// imports the WebAssembly card only when a survey is due.
// Built by `cargo xtask widget`: __BUNDLE__ becomes the content-hashed bundle name,
// lines starting with // and indentation are dropped.
(function (w, d) {
  var script = d.currentScript || d.querySelector('script[data-site]');
  var site = script && script.getAttribute('data-site');
  var queued = (w.pulso && w.pulso.q) || [];
  var base = script ? script.src.replace(/\/[^\/]*$/, '') : '';
  var config, bundle, user, rid;
  var warn = function (e) { console.warn('pulso:', e) };

  // localStorage may be blocked (privacy modes, sandboxed frames): fall back
  // to an id for this page view.
  var store = function (key, value) {
    try {
      var s = w.localStorage;
      if (value === null) s.removeItem(key); else if (value) s.setItem(key, value); else return s.getItem(key);
    } catch (e) {}
  };
  var uuid = function () {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = b[6] & 15 | 64; b[8] = b[8] & 63 | 128;
    for (var i = 0; i < 16; i++) h.push((b[i] + 256).toString(16).slice(1) + ([3, 5, 7, 9].indexOf(i) < 0 ? '' : '-'));
    return h.join('');
  };
  var respondent = function () {
    return rid || (rid = store('pulso.rid') || uuid(), store('pulso.rid', rid), rid);
  };
  var loadConfig = function () {
    return config || (config = fetch(base + '/v1/sites/' + encodeURIComponent(site) + '/config').then(function (r) {
      if (!r.ok) throw 'configuration: HTTP ' + r.status;
      return r.json();
    }));
  };
  var loadBundle = function () {
    return bundle || (bundle = import(base + '/widget/__BUNDLE__.js').then(function (m) {
      return m.default({ module_or_path: base + '/widget/__BUNDLE__.wasm' }).then(function () { return m });
    }));
  };
  // A respondent's first survey asks the open question, later ones a closed list.
  // The browser remembers earlier answers; when it does not, the collector may
  // (storage cleared, another device of an identified user). Asked while the
  // bundle loads; when nobody knows, it is a first survey.
  var answeredBefore = function (r) {
    return store('pulso.answered.' + site) ? Promise.resolve(true) :
      fetch(base + '/v1/sites/' + encodeURIComponent(site) + '/respondents/' + r + (user ? '?user=' + encodeURIComponent(user) : ''))
        .then(function (res) { return res.ok && res.json() })
        .then(function (j) { return !!(j && j.answered) }, function () { return false });
  };
  var display = function (survey, step, props) {
    // No WebAssembly (some locked-down browsers): show nothing, count nothing.
    if (typeof WebAssembly != 'object') return;
    var r = respondent();
    return Promise.all([loadBundle(), answeredBefore(r)]).then(function (v) {
      v[0].show({
        base: base, site: site, survey: survey, respondent: r, user_id: user, first: !v[1], queue: queue,
        step: step, page: location.pathname, props: props || {},
        locales: [script.getAttribute('data-locale'), d.documentElement.lang].concat(navigator.languages || [navigator.language]).filter(Boolean)
      });
    });
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
  var flushing, timer;
  // `all`: a page load or the browser coming online sends everything at once;
  // timers within a page send only what its pause lets through.
  var flush = function (all) {
    var now = Date.now(), due = outbox().filter(function (e) { return all === 1 || e.at <= now });
    if (flushing || !due.length) return;
    flushing = 1;
    Promise.all(due.map(function (e) {
      return fetch(base + '/v1/responses', { method: 'POST', keepalive: true, headers: { 'content-type': 'application/json' }, body: e.body })
        // Delivered, or refused for good (a 4xx other than 408/429): done with it.
        .then(function (r) { return r.ok || r.status < 500 && r.status != 408 && r.status != 429 }, function () {});
    })).then(function (done) {
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
  var api = {
    track: function (step, props) {
      if (typeof step != 'string' || !step) throw 'track needs a step name';
      return loadConfig().then(function (c) {
        var due = c.surveys.filter(function (s) { return s.steps.indexOf(step) >= 0 })[0];
        return due && display(due, step, props);
      });
    },
    identify: function (id) {
      if (id == null || id === '') throw 'identify needs a user id';
      user = String(id);
    },
    reset: function () {
      user = rid = undefined;
      store('pulso.rid', null);
    }
  };
  // Never throw into the host page: a bad call costs one console warning.
  var pulso = function (command) {
    var f = api.hasOwnProperty(command) && api[command];
    if (!f) return warn('unknown command ' + command);
    try {
      var p = f.apply(null, [].slice.call(arguments, 1));
      p && p.catch(warn);
    } catch (e) {
      warn(e);
    }
  };
  if (!site) return warn('the script tag needs a data-site attribute');
  w.pulso = pulso;
  for (var i = 0; i < queued.length; i++) pulso.apply(null, queued[i]);
  w.addEventListener('online', function () { flush(1) });
  flush(1);
})(window, document);
