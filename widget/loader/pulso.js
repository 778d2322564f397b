// pulso.js: the loader every host page pays for. It keeps the command queue and
// decides when a survey is due (funnel steps, page rules with single-page-app
// navigation, targeting, sampling, recontact periods, a site-wide gap); only
// then it imports boot.js, which loads the WebAssembly card and holds the
// outbox. Built by `cargo xtask widget`: __BUNDLE__ becomes the content-hashed
// bundle name, comments and indentation go, then terser. Modern syntax (ES2017,
// as every browser with WebAssembly has) keeps it small.
((w, d, l) => {
  const script = d.currentScript;
  const set = script && script.dataset;
  const site = set && set.site;
  const queued = (w.pulso && w.pulso.q) || [];
  const base = script && script.src.replace(/\/[^/]*$/, '');
  // Every key of ours is this collector's and this site's: two collectors (or
  // sites) on one origin never share an outbox, an id or a history. Keys:
  // r (the respondent id), t (the survey history), o (the outbox).
  const P = 'pulso:' + base + ':' + site + ':', BAD = {};
  let config, boot, user, hash, traits = { __proto__: null }, shown, rid, writable, path = l.pathname;
  // With data-consent="required", storage is neither read nor written, and no
  // survey shown, until pulso('consent', true).
  let allowed = set && set.consent != 'required';
  const warn = (e) => console.warn('pulso:', e);

  // localStorage may be blocked (privacy modes, sandboxed frames): setting
  // answers 1 when it worked.
  const store = (key, value, s) => {
    try {
      s = allowed ? localStorage : null;
      key = P + key;
      return value === void 0 ? s[key] : (value === null ? delete s[key] : s[key] = value, 1);
    } catch {}
  };
  // Forgets everything of ours in this browser (a rare path: boot.js does it).
  const clear = () => loadBoot().then((b) => b.clear(), warn);
  // A random (v4) UUID, also where crypto.randomUUID is missing (pages not
  // served over https): every blob URL ends with one.
  const uuid = () => URL.createObjectURL(new Blob).slice(-36);
  // The respondent id is a UUID of ours, or a new one (a planted value never
  // reaches a request). Without storage nothing can be throttled: no survey
  // is shown at all rather than one on every page.
  const init = () => {
    rid = store('r');
    /^[\da-f-]{36}$/.test(rid) || (rid = uuid());
    writable = store('r', rid);
    // Answers waiting in the outbox go now (boot.js also sends them when the
    // browser comes back online).
    store('o') && loadBoot().then((b) => b.flush(1), warn);
  };
  // When each survey (and any) was last shown (s), answered (a), dismissed (d).
  // boot.js writes it as the card goes; were it unreadable, the error would
  // reach the console through the caller's catch, never the page.
  const state = (t) => (t && store('t', JSON.stringify(t)), JSON.parse(store('t') || '{}'));
  const loadConfig = () => config || (config = fetch(base + '/v1/sites/' + site + '/config').then((r) => r.ok ? r.json() : Promise.reject(r.status)));
  // `wasm`: the card's wasm, fetched beside the module when a survey is due.
  const loadBoot = (wasm) => boot || (boot = import(base + '/widget/__BUNDLE__.js').then((m) => m.boot(base, site, store, wasm)));

  // Sampling: a number in [0, 1) fixed per respondent and survey (a string
  // hash of the random respondent id), so a refresh never re-rolls it.
  const share = (s, h = 0) => {
    for (const c of s) h = Math.imul(h, 31) + c.charCodeAt() | 0;
    return (h >>> 0) / 2 ** 32;
  };
  // Conditions as the collector compiles them: one of a list, or a number in
  // a closed range (exclusive bounds moved to the next double).
  const holds = (c, props) => {
    const v = (c.trait ? traits : props)[c.trait || c.prop];
    return c.in ? c.in.includes(v) : typeof v == 'number' && !(v < c.min || v > c.max);
  };
  // Surveys come highest priority first: the first one due is shown. URL
  // rules arrive as one anchored regular expression per survey.
  const check = (step, props = { __proto__: null }) => writable && !shown && loadConfig().then((c) => {
    // A reply of the site's team waits for this respondent (or verified
    // user): the configuration lists its key, the first 8 hex digits of the
    // id (or the hash). It shows instead of a survey; boot.js fetches its
    // text (a key found elsewhere in the id only costs that request).
    if (c.w.some((k) => (rid + hash).includes(k))) return display(c, shown = 1);
    const t = state(), now = Date.now(), at = path;
    const s = c.surveys.find((s) =>
      (step ? s.steps.includes(step) : RegExp(s.pattern).test(path)) &&
      s.targets.every((x) => holds(x, props)) &&
      share(rid + s.id) < s.sample &&
      !(now - t['a' + s.id] < s.recontact_ms) &&
      !(now - t['d' + s.id] < s.dismiss_ms) &&
      !(now - t.s < c.gap_ms));
    // At most one survey per page view; leaving the page cancels a delayed one.
    if (s && !shown) {
      shown = 1;
      setTimeout(() => at == path && display(c, s, step, props), s.delay_seconds * 1e3);
      // The card loads during the survey's delay.
      card().catch(warn);
    }
  }).catch(warn);
  // boot.js imports the card and shows it (not without WebAssembly); the
  // options' names are one letter each (see boot.js): survey (s, or its id
  // for a preview, or 1: a reply waits), theme (t; a preview's is looked up
  // by boot.js), respondent (r), user id
  // (u) and its hash (h), preview (v), step (p), page (g), props (o), locale (l),
  // traits (k: boot.js sends the survey's keep_traits of them). The wasm
  // is fetched beside it, one round trip for both; a failed fetch is warned
  // about here (never an unhandled rejection in the host page, even when the
  // import fails too) and boot.js tries again. (Checking for WebAssembly first
  // costs the loader bytes it does not have; a browser without it fetches the
  // file once, then has it cached.)
  const card = () => loadBoot(boot || fetch(base + '/widget/__BUNDLE__.wasm').catch(warn));
  const display = (c, s, step, props, preview) => card().then((b) => b.show({
    s, t: c.theme, r: rid, u: user, h: hash, v: preview, p: step, g: path, o: props,
    l: set.locale, k: traits
  })).catch(warn);
  // Single-page apps: a new path is a new page view.
  const moved = () => {
    if (l.pathname != path) {
      path = l.pathname;
      shown = 0;
      check();
    }
  };
  // The page's objects, own properties only (nothing inherited is read).
  const object = (o) => {
    if (o != null && typeof o != 'object') throw BAD;
    return Object.assign({ __proto__: null }, o);
  };
  const api = {
    __proto__: null,
    track: (step, props) => {
      if (!step || typeof step != 'string') throw BAD;
      return check(step, object(props));
    },
    // `o.hash`: the site's HMAC of the id (verified identify).
    identify: (id, t, o) => {
      if (id == null || id === '') throw BAD;
      traits = object(t);
      user = '' + id;
      hash = object(o).hash;
    },
    // A survey now, whatever its triggers: a preview that records nothing
    // unless {record: true}. (boot.js finds the survey and the theme by the
    // survey's id: a rare path.)
    show: (id, o) => display(0, id, 0, {}, !object(o).record),
    // Forgets the respondent, their history and their waiting answers.
    reset: () => {
      user = hash = null;
      traits = { __proto__: null };
      clear().then(init);
    },
    consent: (yes) => yes ? allowed || (allowed = 1, init(), check()) : (clear(), allowed = writable = 0)
  };
  // Never throw into the host page: a bad call (an unknown command, arguments
  // unlike the README's) costs one console warning.
  const pulso = (command, ...args) => {
    const fail = (e) => warn(e === BAD ? 'bad call: ' + command : e);
    try {
      const p = api[command](...args);
      p && p.catch(fail);
    } catch (e) {
      fail(api[command] ? e : BAD);
    }
  };
  if (!site) return warn('no data-site');
  w.pulso = pulso;
  // Both return nothing; their callers are the page's router.
  for (const k of ['pushState', 'replaceState']) {
    const f = history[k];
    history[k] = (...a) => {
      f.apply(history, a);
      moved();
    };
  }
  addEventListener('popstate', moved);
  init();
  for (const q of queued) pulso(...q);
  check();
})(window, document, location);
