// pulso.js: the loader every host page pays for. It keeps the command queue and
// decides when a survey is due (funnel steps, page rules with single-page-app
// navigation, targeting, sampling, recontact periods, a site-wide gap); only
// then it imports boot.js, which loads the WebAssembly card and holds the
// outbox. Built by `cargo xtask widget`: __BUNDLE__ becomes the content-hashed
// bundle name, comments and indentation go, then terser. Modern syntax (ES2017,
// as every browser with WebAssembly has) keeps it small.
((w, d, l) => {
  const script = d.currentScript;
  const site = script && script.dataset.site;
  const queued = (w.pulso && w.pulso.q) || [];
  const base = script && script.src.replace(/\/[^\/]*$/, '');
  const KEY = 'pulso.t.' + site, DAY = 864e5, BAD = {};
  let config, boot, user, traits = {}, shown, path = l.pathname;
  const warn = (e) => console.warn('pulso:', e);

  // localStorage may be blocked (privacy modes, sandboxed frames): setting
  // answers 1 when it worked.
  const store = (key, value) => {
    try {
      const s = w.localStorage;
      return value === void 0 ? s[key] : (value === null ? delete s[key] : s[key] = value, 1);
    } catch {}
  };
  // A random (v4) UUID, also where crypto.randomUUID is missing (pages not
  // served over https): every blob URL ends with one.
  const uuid = () => URL.createObjectURL(new Blob).slice(-36);
  let rid = store('pulso.rid') || uuid();
  // Without storage nothing can be throttled: no survey is shown at all
  // rather than one on every page.
  const writable = store('pulso.rid', rid);
  // When each survey (and any) was last shown (s), answered (a), dismissed (d).
  // Only this script writes it; were it unreadable, the error would reach the
  // console through the caller's catch, never the page.
  const state = (t) => (t && store(KEY, JSON.stringify(t)), JSON.parse(store(KEY) || '{}'));
  const loadConfig = () => config || (config = fetch(base + '/v1/sites/' + site + '/config').then((r) => r.ok ? r.json() : Promise.reject('config: ' + r.status)));
  // `wasm`: the card's wasm, fetched beside the module when a survey is due.
  const loadBoot = (wasm) => boot || (boot = import(base + '/widget/__BUNDLE__.js').then((m) => m.boot(base, site, store, wasm)));

  // Sampling: a number in [0, 1) fixed per respondent and survey (a string
  // hash of the random respondent id), so a refresh never re-rolls it.
  const share = (s, h = 0) => {
    for (const c of s) h = Math.imul(h, 31) + c.charCodeAt() | 0;
    return (h >>> 0) / 2 ** 32;
  };
  const holds = (c, props) => {
    const v = (c.trait ? traits : props)[c.trait || c.prop];
    return 'equals' in c ? v === c.equals : c.one_of ? c.one_of.includes(v) :
      typeof v == 'number' && !(v <= c.gt || v < c.gte || v >= c.lt || v > c.lte);
  };
  // Surveys come highest priority first: the first one due is shown.
  const check = (step, props = {}) => writable && !shown && loadConfig().then((c) => {
    const t = state(), now = Date.now(), at = path;
    const s = c.surveys.find((s) =>
      (step ? s.steps.includes(step) : s.patterns.some((p) => RegExp(p).test(path))) &&
      s.when.every((x) => holds(x, props)) &&
      share(rid + s.id) < s.sample &&
      !(now - t['a' + s.id] < s.recontact_days * DAY) &&
      !(now - t['d' + s.id] < s.dismiss_days * DAY) &&
      !(now - t.s < c.gap_days * DAY));
    // At most one survey per page view; leaving the page cancels a delayed one.
    if (s && !shown) {
      shown = 1;
      setTimeout(() => at == path && display(c, s, step, props), s.delay_seconds * 1e3);
    }
  }).catch(warn);
  // boot.js imports the card and shows it (not without WebAssembly). The wasm
  // is fetched beside it, one round trip for both; a failed fetch is warned
  // about here (never an unhandled rejection in the host page, even when the
  // import fails too) and boot.js tries again. (Checking for WebAssembly first
  // costs the loader bytes it does not have; a browser without it fetches the
  // file once, then has it cached.)
  const display = (c, s, step, props, preview) => loadBoot(boot || fetch(base + '/widget/__BUNDLE__.wasm').catch(warn)).then((b) => b.show({
    survey: s, respondent: rid, user_id: user, preview, theme: c.theme, step, page: path, props,
    locale: script.dataset.locale,
    // What happened to the card: shown (s), answered (a), dismissed (d).
    note: (k, t = state()) => preview || state((t[k] = t[k + s.id] = Date.now(), t))
  })).catch(warn);
  // Single-page apps: a new path is a new page view.
  const moved = () => {
    if (l.pathname != path) {
      path = l.pathname;
      shown = 0;
      check();
    }
  };
  const object = (o) => {
    if (o != null && typeof o != 'object') throw BAD;
    return o || {};
  };
  const api = {
    __proto__: null,
    track: (step, props) => {
      if (typeof step != 'string' || !step) throw BAD;
      return check(step, object(props));
    },
    identify: (id, t) => {
      if (id == null || id === '') throw BAD;
      traits = object(t);
      user = '' + id;
    },
    // A survey now, whatever its triggers: a preview that records nothing
    // unless {record: true}.
    show: (id, o) => loadConfig().then((c) => {
      const s = c.surveys.find((s) => s.id == id);
      if (!s) throw BAD;
      return display(c, s, void 0, {}, !object(o).record);
    }),
    reset: () => {
      user = null;
      traits = {};
      store(KEY, null);
      store('pulso.rid', rid = uuid());
    }
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
  w.addEventListener('popstate', moved);
  // Answers waiting in the outbox go now (boot.js also sends them when the
  // browser comes back online).
  store('pulso.outbox') && loadBoot().then((b) => b.flush(1), warn);
  for (const q of queued) pulso(...q);
  check();
})(window, document, location);
