// chain-worker dashboard: plain browser JavaScript (an ES module), no framework, no build step.
// Charts are Apache ECharts (the global `echarts` from /vendor/echarts.min.js, loaded before this module).
//
// Data flow: /api/symbols once; the selected symbol's two models from /api/models/{gex|heatmap}/{U};
// /events (SSE) says when any model changed (`model`), and sends heatmap changes as diffs of changed
// tiles (`heatmap_diff`): the page applies a diff when its base is the document it holds, else refetches.
// /api/epochs and /api/analytics/fetch_latency feed the health panel (on change and every 15 s);
// /api/history/{U} feeds the levels-through-the-day chart and the time slider (`?at=` replays a version).
//
// Kept fast for 20,000-contract chains: a model is fetched once per published version (gzip on the
// wire), parsed once, and only the selected expiration / strategy / side is turned into chart data;
// charts use canvas, `large` bars, and no animation.

/* global echarts */

const HEALTH_REFRESH_MS = 15_000;
const HISTORY_REFRESH_MS = 60_000;
const LATENCY_WINDOW_MS = 3_600_000;
const RECONNECT_MS = 3_000;
const MODELS = ['gex', 'heatmap'];
/** The GEX chart opens on strikes within this percent of spot. */
const GEX_VIEW_PCT = 6;
/** A symbol's data is "live" while its newest tick (or snapshot) is younger than this. */
const LIVE_MAX_AGE_SEC = 15;
/** A worker whose last cycle is older than this is taken as unreachable (amber, then red at twice). */
const WORKER_QUIET_SEC = 120;
/** Index levels are shown with this many decimals (fixed, so numbers do not jitter). */
const PRICE_DECIMALS = { SPX: 2, NDX: 2, RUT: 2, XSP: 2 };
const NY = 'America/New_York';

const COLORS = {
  call: '#1f9d55',
  put: '#d0363a',
  net: '#2f6fdb',
  profile: '#8a4fd8',
  spot: '#1d2330',
  zero: '#c77c02',
  abs: '#6b7385',
  em: 'rgba(47, 111, 219, 0.08)',
};

/** Debits: one-directional (light → dark), so a darker tile costs more of its width. */
const DEBIT_STOPS = ['#fff7bc', '#fec44f', '#ec7014', '#cc4c02', '#8c2d04', '#4a1486'];
/** Credits: a different hue altogether (a credit is not a cheap debit). */
const CREDIT_STOPS = ['#c7e9c0', '#41ab5d', '#00441b'];
const ZERO_COLOR = '#e0e0e0';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  /** @type {{symbol: string, ticker: string, models: Record<string, boolean>}[]} */
  symbols: [],
  symbol: '',
  /** GEX view: a horizon ('h:all', 'h:0dte', 'h:next') or an expiration date YYYY-MM-DD. */
  tab: 'h:all',
  hm: { expiration: '', strategy: 'butterfly', side: 'call' },
  /** Documents of the selected symbol. */
  docs: { gex: null, heatmap: null },
  /** Latest SSE note per `${model}:${symbol}`, and how many arrived (to know when a refetch is due). */
  notes: new Map(),
  noteSeq: 0,
  stream: 'connecting',
  /** When the server was last heard from (stream event or successful fetch), ms. */
  serverSeenMs: 0,
  serverDownSinceMs: 0,
  /** Replay: null = live; else the ISO time whose versions are shown. */
  at: null,
  /** The clicked order: its identity, so it is looked up again in every new version. */
  sel: null,
};

/** Measurements exposed for tests and curious operators: window.__cw. */
const stats = {
  timings: [],
  renders: { gex: 0, heatmap: 0 },
  errors: [],
  diffs: { applied: 0, refetched: 0 },
  longtasks: [],
};
window.__cw = stats;

/**
 * `cw:first-draw` (a performance mark, and `__cw.firstDrawMs`, ms since navigation) once both charts have
 * drawn a model for the first time.
 */
const firstDrawn = new Set();
function markFirstDraw(chartName) {
  if (stats.firstDrawMs !== undefined) return;
  firstDrawn.add(chartName);
  if (firstDrawn.size < 2) return;
  stats.firstDrawMs = Math.round(performance.now());
  performance.mark('cw:first-draw');
}

if (typeof PerformanceObserver !== 'undefined') {
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        stats.longtasks.push({ start: Math.round(e.startTime), ms: Math.round(e.duration) });
      if (stats.longtasks.length > 500) stats.longtasks.splice(0, stats.longtasks.length - 500);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // longtask not supported
  }
}

// ── formatting: numbers as traders read them, times in New York ──────────────

function escapeHtml(s) {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

const numFmt = new Map();
function nf(decimals) {
  if (!numFmt.has(decimals))
    numFmt.set(
      decimals,
      new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals }),
    );
  return numFmt.get(decimals);
}

function priceDecimals() {
  return PRICE_DECIMALS[state.symbol] ?? 2;
}

/** An index level or strike: fixed decimals per instrument, thousands separators. */
function fmtPx(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return nf(priceDecimals()).format(v);
}

/** A signed distance in points. */
function fmtPts(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  v = Number(v.toFixed(priceDecimals()));
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${nf(priceDecimals()).format(Math.abs(v))}`;
}

function fmtPct(v, decimals = 2) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  v = Number(v.toFixed(decimals)); // −0.001 % shows as ±0.00 %, not −0.00 %
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${nf(decimals).format(Math.abs(v))}%`;
}

/** Dollars with a unit: always two decimals after the unit (B, M, K), so precision never changes. */
function fmtMoney(v, signed = false) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const sign = v < 0 ? '−' : signed && v > 0 ? '+' : '';
  if (a >= 1e12) return `${sign}$${nf(2).format(a / 1e12)}T`;
  if (a >= 1e9) return `${sign}$${nf(2).format(a / 1e9)}B`;
  if (a >= 1e6) return `${sign}$${nf(2).format(a / 1e6)}M`;
  if (a >= 1e3) return `${sign}$${nf(2).format(a / 1e3)}K`;
  return `${sign}$${nf(0).format(a)}`;
}

/** An option price in dollars per share. */
function fmtOpt(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return nf(2).format(v);
}

const timeFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: NY,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const dateTimeFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: NY,
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
const nyDateFmt = new Intl.DateTimeFormat('en-CA', {
  timeZone: NY,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** `10:31:02 ET` (New York time) from an ISO string, Unix ms or a Date. */
function fmtTime(t) {
  if (t === null || t === undefined || t === '') return '–';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '–';
  return `${timeFmt.format(d)} ET`;
}

function fmtDateTime(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '–';
  return `${dateTimeFmt.format(d)} ET`;
}

/** Today's date in New York, YYYY-MM-DD. */
function nyToday() {
  return nyDateFmt.format(new Date());
}

/** Calendar days from today (New York) to an expiration date. */
function dte(date) {
  const a = Date.UTC(
    ...nyToday()
      .split('-')
      .map((x, i) => Number(x) - (i === 1 ? 1 : 0)),
  );
  const b = Date.UTC(...date.split('-').map((x, i) => Number(x) - (i === 1 ? 1 : 0)));
  return Math.round((b - a) / 86_400_000);
}

function fmtAge(sec) {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '–';
  const s = Math.max(0, Math.round(sec));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${nf(1).format(s / 3600)}h`;
}

const byNumber = (a, b) => Number(a) - Number(b);

async function getJson(url, init) {
  const res = await fetch(url, { cache: 'no-cache', ...init });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && body.message) message = body.message;
    } catch {
      // not JSON
    }
    const err = new Error(message);
    err.status = res.status;
    throw err;
  }
  serverSeen();
  return res.json();
}

function showError(message) {
  const el = $('error-banner');
  if (!message) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.hidden = false;
  el.textContent = message;
}

/** Calls `fn` after the page has been quiet for `ms` (coalesces bursts of events). */
function debounce(fn, ms) {
  let t;
  return () => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
}

// ── charts ───────────────────────────────────────────────────────────────────

const charts = {};

function chart(id) {
  if (!charts[id]) charts[id] = echarts.init($(id), null, { renderer: 'canvas' });
  return charts[id];
}

window.addEventListener(
  'resize',
  debounce(() => {
    Object.values(charts).forEach((c) => c.resize());
    placeLevelChips();
  }, 100),
);

/** Resolves when ECharts has finished drawing (progressive chunks included). */
function whenFinished(c) {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      c.off('finished', finish);
      resolve();
    };
    c.on('finished', finish);
    setTimeout(finish, 5000);
  });
}

/** Zoom windows (in axis values) remembered per view, so live updates and reconnects keep them. */
const zoomMemory = new Map();

/** True while the page itself sets a chart's option: zoom events then are not the user's. */
let ownSetOption = false;
function setOptionQuietly(c, option, opts) {
  ownSetOption = true;
  try {
    c.setOption(option, opts);
  } finally {
    ownSetOption = false;
  }
}

function rememberZoom(c, key, axis) {
  if (ownSetOption) return;
  // The axis's scale extent is the window shown (the dataZoom option may still hold stale percentages).
  const [startValue, endValue] = c.getModel().getComponent(axis, 0).axis.scale.getExtent();
  if (Number.isFinite(startValue) && Number.isFinite(endValue)) zoomMemory.set(key, { startValue, endValue });
}

// ── GEX: the view (horizon or date), its rows, profile and levels ────────────

/** Rows, profile, levels and totals of the selected view; `scope` says which the levels are. */
function gexView(doc) {
  if (!state.tab.startsWith('h:')) {
    const e = doc.by_expiration[state.tab];
    if (e)
      return {
        rows: e.by_strike,
        profile: e.profile,
        levels: e.levels,
        totals: e.totals,
        scope: `${state.tab} only`,
        expirations: [state.tab],
      };
    state.tab = 'h:all';
  }
  const h = state.tab.slice(2);
  const hz = doc.horizons?.[h];
  if (h === 'all' || !hz) {
    return {
      rows: doc.by_strike,
      profile: doc.profile,
      levels: doc.levels,
      totals: doc.totals,
      scope: 'all expirations',
      expirations: Object.keys(doc.by_expiration).sort(),
    };
  }
  // A horizon's bars and profile: the sum of its dates' (the levels are the model's, for that horizon).
  const byStrike = new Map();
  let profile = null;
  for (const d of hz.expirations) {
    const e = doc.by_expiration[d];
    if (!e) continue;
    for (const r of e.by_strike) {
      const acc = byStrike.get(r.strike) || { strike: r.strike, call: 0, put: 0, net: 0, vanna: 0, charm: 0 };
      acc.call += r.call;
      acc.put += r.put;
      acc.net += r.net;
      acc.vanna += r.vanna;
      acc.charm += r.charm;
      byStrike.set(r.strike, acc);
    }
    if (!profile) profile = e.profile.map((p) => ({ level: p.level, net: p.net }));
    else if (profile.length === e.profile.length)
      e.profile.forEach((p, i) => {
        profile[i].net += p.net;
      });
  }
  return {
    rows: [...byStrike.values()].sort((a, b) => a.strike - b.strike),
    profile: profile || [],
    levels: hz.levels,
    totals: hz.totals,
    scope: `${h === '0dte' ? '0DTE' : 'next expiration'} (${hz.expirations.join(', ') || 'none today'})`,
    expirations: hz.expirations,
    share: hz.share,
  };
}

/**
 * The expected move of a date: the ATM straddle (call mid + put mid at the strike nearest spot), from the
 * heatmap's single options. Null without both quotes.
 */
function expectedMove(date) {
  const hm = state.docs.heatmap;
  const spot = hm?.spot ?? state.docs.gex?.spot;
  if (hm) ensureDate(date);
  const e = hm?.expirations?.[date];
  if (!e || !spot) return null;
  let best = null;
  for (const k of Object.keys(e.single)) {
    const s = e.single[k];
    if (!s.call || !s.put) continue;
    if (best === null || Math.abs(Number(k) - spot) < Math.abs(Number(best) - spot)) best = k;
  }
  if (best === null) return null;
  const move = e.single[best].call.value + e.single[best].put.value;
  return { date, strike: Number(best), move, low: spot - move, high: spot + move };
}

/** The date whose expected move a view shows: the date itself, or the horizon's nearest date. */
function emDate(view) {
  const hm = state.docs.heatmap;
  const dates = view.expirations.filter((d) => hm?.expirations?.[d]);
  return dates[0] ?? null;
}

const LEVEL_DEFS = [
  { key: 'spot', name: 'spot', color: COLORS.spot, type: 'solid' },
  { key: 'zero_gamma', name: 'zero γ', color: COLORS.zero, type: 'dashed' },
  { key: 'call_wall', name: 'call wall', color: COLORS.call, type: 'dashed' },
  { key: 'put_wall', name: 'put wall', color: COLORS.put, type: 'dashed' },
  { key: 'abs_gamma_strike', name: 'abs γ', color: COLORS.abs, type: 'dotted' },
];

/** Previous snapshot's levels per `${symbol}|${view}`, for "what moved". */
const prevLevels = new Map();
/** Previous snapshot's net GEX per strike per view, for the per-strike change in the tooltip. */
const prevNet = new Map();

/**
 * Remembers a value per key and snapshot: returns the previous snapshot's `{ts, value}` (null for the first
 * one seen). Re-rendering the same snapshot keeps the same previous one.
 */
function advance(memory, key, ts, value) {
  const m = memory.get(key);
  if (!m) {
    memory.set(key, { current: { ts, value }, previous: null });
    return null;
  }
  if (m.current.ts !== ts) {
    m.previous = m.current;
    m.current = { ts, value };
  } else m.current.value = value;
  return m.previous;
}

function levelValues(doc, view) {
  return {
    spot: doc.spot,
    zero_gamma: view.levels.zero_gamma,
    call_wall: view.levels.call_wall,
    put_wall: view.levels.put_wall,
    abs_gamma_strike: view.levels.abs_gamma_strike,
  };
}

function renderLadder(doc, view, values, em) {
  const prev = advance(prevLevels, `${state.symbol}|${state.tab}`, doc.ts, values);
  const spot = doc.spot;
  let regime = '–';
  let regimeClass = '';
  if (spot && values.zero_gamma !== null && values.zero_gamma !== undefined) {
    const above = spot >= values.zero_gamma;
    regime = above ? 'positive γ: spot above zero γ' : 'negative γ: spot below zero γ';
    regimeClass = above ? 'pos' : 'neg';
  }
  const rows = LEVEL_DEFS.map((d) => {
    const v = values[d.key];
    const dist = d.key !== 'spot' && spot && Number.isFinite(v) ? v - spot : null;
    const pv = prev ? prev.value[d.key] : null;
    const moved = Number.isFinite(v) && Number.isFinite(pv) ? v - pv : null;
    return `<tr data-testid="ladder-row" data-level="${d.key}" data-value="${v ?? ''}">
      <th><i class="swatch" style="background:${d.color}"></i>${escapeHtml(d.name)}</th>
      <td class="num">${fmtPx(v)}</td>
      <td class="num">${dist === null ? '' : fmtPts(dist)}</td>
      <td class="num">${dist === null ? '' : fmtPct((dist / spot) * 100)}</td>
      <td class="num moved ${moved > 0 ? 'up' : moved < 0 ? 'down' : ''}" data-testid="ladder-moved">${moved === null ? '' : moved === 0 ? '·' : fmtPts(moved)}</td>
    </tr>`;
  }).join('');
  const t = view.totals || {};
  const emRow = em
    ? `<tr data-testid="ladder-em" title="${escapeHtml(em.date)} ATM straddle at ${escapeHtml(fmtPx(em.strike))}"><th><i class="swatch em"></i>exp. move</th><td class="num">±${fmtPx(em.move)}</td><td class="num" colspan="3">${fmtPx(em.low)} – ${fmtPx(em.high)}</td></tr>`
    : '';
  $('ladder').innerHTML = `
    <div class="ladder-head"><b>Levels</b> <span class="muted">${escapeHtml(view.scope)}</span></div>
    <div class="regime ${regimeClass}" data-testid="regime">${escapeHtml(regime)}</div>
    <table class="ladder-table">
      <thead><tr><th></th><th class="num">level</th><th class="num">pts</th><th class="num">%</th><th class="num" title="change since the previous snapshot">Δ prev</th></tr></thead>
      <tbody>${rows}${emRow}</tbody>
    </table>
    <table class="ladder-table totals">
      <tr><th>net GEX</th><td class="num">${fmtMoney(t.net)}</td></tr>
      <tr><th>calls · puts</th><td class="num">${fmtMoney(t.calls)} · ${fmtMoney(t.puts)}</td></tr>
      <tr><th>vanna</th><td class="num" title="$ of delta per vol point">${fmtMoney(t.vanna)}</td></tr>
      <tr><th>charm</th><td class="num" title="$ of delta per day">${fmtMoney(t.charm)}</td></tr>
      ${view.share !== undefined ? `<tr><th>share of |GEX|</th><td class="num">${nf(1).format(view.share * 100)}%</td></tr>` : ''}
      <tr><th>strikes</th><td class="num">${nf(0).format(view.rows.length)}</td></tr>
    </table>
    <div class="muted small">GEX $ per 1% move · as of ${escapeHtml(fmtTime(doc.as_of))}</div>`;
}

/**
 * Axis bounds that put zero at the same height on both y axes (bars and profile): each axis keeps its own
 * scale, but the fraction of the plot below zero is the same.
 */
function sharedZeroBounds(extents) {
  let frac = 0;
  for (const [lo, hi] of extents) {
    const up = Math.max(hi, 0);
    const dn = Math.max(-lo, 0);
    if (up + dn > 0) frac = Math.max(frac, dn / (up + dn));
  }
  frac = Math.min(Math.max(frac, 0.08), 0.92);
  return extents.map(([lo, hi]) => {
    let up = Math.max(hi, 0) * 1.06;
    let dn = Math.max(-lo, 0) * 1.06;
    if (up === 0 && dn === 0) up = 1;
    // below / above = frac / (1 − frac)
    if (dn / frac > up / (1 - frac)) up = (dn * (1 - frac)) / frac;
    else dn = (up * frac) / (1 - frac);
    return { min: -dn, max: up };
  });
}

let gexChipsWired = false;
let gexMarks = [];
/** The strike range the GEX bars are drawn for (the zoom window and one window either side). */
let gexDrawn = { from: -Infinity, to: Infinity };

/** The strikes to draw bars for: the zoom window widened by its own width on each side. */
function drawnRange(zoom, xMin, xMax) {
  if (!zoom) return { from: xMin, to: xMax };
  const span = zoom.endValue - zoom.startValue;
  return { from: Math.max(xMin, zoom.startValue - span), to: Math.min(xMax, zoom.endValue + span) };
}

/** After a pan or zoom beyond the drawn range, redraws the GEX bars for the new window (80 ms later). */
let resliceTimer = 0;
function resliceGexSoon(c) {
  const [a, b] = c.getModel().getComponent('xAxis', 0).axis.scale.getExtent();
  const span = b - a;
  const { from, to } = gexDrawn;
  // Still inside the drawn range, and not zoomed in so far that most drawn bars are off screen: nothing to do.
  if (a >= from && b <= to && to - from <= 5 * span) return;
  // At most one redraw per 80 ms while a drag goes on (not only once it stops: the bars would be missing).
  if (resliceTimer) return;
  resliceTimer = setTimeout(() => {
    resliceTimer = 0;
    drawn.gex = '';
    scheduleRender();
  }, 80);
}

function renderGex() {
  const doc = state.docs.gex;
  const el = $('gex-chart');
  const c = chart('gex-chart');
  if (!gexChipsWired) {
    gexChipsWired = true;
    c.on('datazoom', () => {
      rememberZoom(c, `gex|${state.symbol}|${state.tab}`, 'xAxis');
      placeLevelChips();
      if (!ownSetOption) resliceGexSoon(c);
    });
    // A click on a strike opens the chain ladder of the view's date (a horizon: its nearest date).
    c.on('click', (p) => {
      const g = state.docs.gex;
      if (!g || p.componentType !== 'series' || !Array.isArray(p.value)) return;
      const date = state.tab.startsWith('h:') ? gexView(g).expirations[0] : state.tab;
      if (date) void openChain(date, p.value[0]);
    });
  }
  if (!doc) {
    c.clear();
    el.dataset.barCount = '0';
    el.dataset.epochId = '';
    $('ladder').textContent = 'no GEX model published yet';
    $('gex-chips').innerHTML = '';
    return;
  }
  const t0 = performance.now();
  const view = gexView(doc);
  renderTabs();
  const rows = view.rows;
  const values = levelValues(doc, view);
  const date = emDate(view);
  const em = date ? expectedMove(date) : null;
  renderLadder(doc, view, values, em);

  gexMarks = LEVEL_DEFS.filter((d) => Number.isFinite(values[d.key])).map((d) => ({
    ...d,
    value: values[d.key],
  }));
  const marks = gexMarks.map((m) => ({
    name: m.name,
    xAxis: m.value,
    lineStyle: { color: m.color, type: m.type, width: 1.5 },
    label: { show: false },
  }));

  // x range: every strike and level, padded; the profile is clipped to it.
  let lo = Infinity;
  let hi = -Infinity;
  let bLo = 0;
  let bHi = 0;
  for (const r of rows) {
    if (r.strike < lo) lo = r.strike;
    if (r.strike > hi) hi = r.strike;
    bLo = Math.min(bLo, r.put, r.net);
    bHi = Math.max(bHi, r.call, r.net);
  }
  for (const m of gexMarks) {
    lo = Math.min(lo, m.value);
    hi = Math.max(hi, m.value);
  }
  if (!Number.isFinite(lo)) {
    lo = doc.spot ? doc.spot * 0.9 : 0;
    hi = doc.spot ? doc.spot * 1.1 : 1;
  }
  const pad = Math.max((hi - lo) * 0.02, 1);
  const xMin = Math.floor(lo - pad);
  const xMax = Math.ceil(hi + pad);
  // The profile inside the x range only (it spans ±20 % of spot).
  const profile = view.profile.filter((p) => p.level >= xMin && p.level <= xMax);
  let pLo = 0;
  let pHi = 0;
  for (const p of profile) {
    pLo = Math.min(pLo, p.net);
    pHi = Math.max(pHi, p.net);
  }
  const [yBars, yProfile] = sharedZeroBounds([
    [bLo, bHi],
    [pLo, pHi],
  ]);
  // Keep the user's zoom across live updates of the same view (as axis values, since the axis range moves
  // with spot); a new view opens on three expected moves either side of spot (at least 1 % of spot, at
  // most GEX_VIEW_PCT).
  const zoomKey = `gex|${state.symbol}|${state.tab}`;
  const saved = zoomMemory.get(zoomKey);
  let zoom = saved;
  if (!zoom && doc.spot) {
    const half = Math.min(
      (doc.spot * GEX_VIEW_PCT) / 100,
      Math.max(doc.spot / 100, em ? 3 * em.move : (doc.spot * GEX_VIEW_PCT) / 100),
    );
    const from = Math.max(xMin, doc.spot - half);
    const to = Math.min(xMax, doc.spot + half);
    if (to > from) zoom = { startValue: Math.floor(from), endValue: Math.ceil(to) };
  }
  // Bars only for the strikes in the zoom window and one window either side (panning within that needs no
  // redraw; beyond it the datazoom handler redraws): ECharts lays out every bar it is given, shown or not.
  gexDrawn = drawnRange(zoom, xMin, xMax);
  const drawnRows = rows.filter((r) => r.strike >= gexDrawn.from && r.strike <= gexDrawn.to);
  const nowNet = new Map(rows.map((r) => [r.strike, r.net]));
  const prevSnap = advance(prevNet, `${state.symbol}|${state.tab}`, doc.ts, nowNet);
  const prev = prevSnap ? { ts: prevSnap.ts, net: prevSnap.value } : null;
  // ECharts `large` bars, whatever the count: one path per series instead of an element (with its style and
  // label state) per bar.
  const barStyle = { large: true, largeThreshold: 0, barMaxWidth: 14 };
  const option = {
    // Live data: no animation (it would also delay 'finished' by a second on every update).
    animation: false,
    // Fixed margins that hold the labels: no outer-bounds pass measuring every axis label on each update.
    grid: { left: 64, right: 64, top: 78, bottom: 56, outerBoundsMode: 'none' },
    legend: { top: 0, data: ['Calls', 'Puts', 'Net', 'Profile'] },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'line' },
      formatter: (ps) => {
        const list = Array.isArray(ps) ? ps : [ps];
        const strike = list[0]?.value?.[0];
        const lines = list.map(
          (p) => `${p.marker}${escapeHtml(p.seriesName)} <b>${fmtMoney(p.value[1])}</b>`,
        );
        const was = prev?.net.get(strike);
        const now = nowNet.get(strike);
        if (was !== undefined && now !== undefined)
          lines.push(`Δ net since ${escapeHtml(fmtTime(prev.ts))}: <b>${fmtMoney(now - was, true)}</b>`);
        return `<b>${fmtPx(strike)}</b><br/>${lines.join('<br/>')}`;
      },
    },
    xAxis: {
      type: 'value',
      name: 'strike',
      nameLocation: 'middle',
      nameGap: 26,
      min: xMin,
      max: xMax,
      axisLabel: { formatter: (v) => nf(0).format(v), hideOverlap: true },
      splitLine: { show: false },
    },
    yAxis: [
      {
        type: 'value',
        name: 'GEX $/1%',
        min: yBars.min,
        max: yBars.max,
        axisLabel: { formatter: (v) => fmtMoney(v) },
        axisLine: { show: true, onZero: false },
      },
      {
        type: 'value',
        name: 'profile',
        min: yProfile.min,
        max: yProfile.max,
        axisLabel: { formatter: (v) => fmtMoney(v) },
        splitLine: { show: false },
        axisLine: { show: true, onZero: false },
      },
    ],
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      // No data shadow: the bars are drawn for the window only, a shadow of them would end at its margins.
      { type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 16, bottom: 6, showDataShadow: false },
    ],
    series: [
      {
        id: 'calls',
        name: 'Calls',
        type: 'bar',
        stack: 'cp',
        data: drawnRows.map((r) => [r.strike, r.call]),
        itemStyle: { color: COLORS.call },
        ...barStyle,
      },
      {
        id: 'puts',
        name: 'Puts',
        type: 'bar',
        stack: 'cp',
        data: drawnRows.map((r) => [r.strike, r.put]),
        itemStyle: { color: COLORS.put },
        ...barStyle,
      },
      {
        id: 'net',
        name: 'Net',
        type: 'bar',
        data: drawnRows.map((r) => [r.strike, r.net]),
        itemStyle: { color: COLORS.net },
        ...barStyle,
        markLine: { symbol: 'none', silent: true, animation: false, data: marks },
        markArea: em
          ? {
              silent: true,
              itemStyle: { color: COLORS.em },
              data: [[{ xAxis: em.low, name: '' }, { xAxis: em.high }]],
            }
          : { data: [] },
      },
      {
        id: 'profile',
        name: 'Profile',
        type: 'line',
        yAxisIndex: 1,
        showSymbol: false,
        clip: true,
        data: profile.map((p) => [p.level, p.net]),
        lineStyle: { color: COLORS.profile, width: 1.5 },
        itemStyle: { color: COLORS.profile },
        animation: false,
      },
    ],
  };
  if (zoom) for (const z of option.dataZoom) Object.assign(z, zoom);
  const finished = whenFinished(c);
  // Series merge by id (their models are kept, their data replaced); the zoom is set anew.
  setOptionQuietly(c, option, { replaceMerge: ['dataZoom'] });
  // The default window is kept once it is known from the expected move (it would otherwise follow spot).
  if (!saved && zoom && em) zoomMemory.set(zoomKey, zoom);
  const setMs = performance.now() - t0;
  placeLevelChips();
  el.dataset.barCount = String(rows.length);
  el.dataset.drawnBars = String(drawnRows.length);
  el.dataset.drawnFrom = String(gexDrawn.from);
  el.dataset.drawnTo = String(gexDrawn.to);
  el.dataset.epochId = doc.epoch_id;
  el.dataset.expiration = state.tab.startsWith('h:') ? 'All' : state.tab;
  el.dataset.view = state.tab;
  el.dataset.symbol = doc.symbol;
  el.dataset.ts = doc.ts ?? '';
  $('gex-sub').textContent = `levels: ${view.scope} · ${fmtTime(doc.ts)}`;
  stats.renders.gex++;
  void finished.then(() => {
    el.dataset.renderMs = String(Math.round(performance.now() - t0));
    markFirstDraw('gex');
    record({
      model: 'gex',
      phase: 'render',
      ms: performance.now() - t0,
      setOptionMs: setMs,
      items: rows.length,
      drawn: drawnRows.length,
      profile: profile.length,
    });
  });
}

/**
 * Level labels as chips above the plot, never overlapping: sorted by x, each goes into the first row where
 * it clears the chips already there; a level outside the zoom window is pinned to the edge with an arrow.
 */
function placeLevelChips() {
  const box = $('gex-chips');
  const c = charts['gex-chart'];
  if (!c || !state.docs.gex) {
    box.innerHTML = '';
    return;
  }
  const grid = c.getModel().getComponent('grid', 0)?.coordinateSystem?.getRect?.();
  if (!grid) return;
  const xAxis = c.getModel().getComponent('xAxis', 0).axis;
  const [vMin, vMax] = xAxis.scale.getExtent();
  box.innerHTML = gexMarks
    .map(
      (m) =>
        `<span class="chip" data-testid="level-chip" data-level="${m.key}" data-value="${m.value}" style="border-color:${m.color};color:${m.color}">${escapeHtml(m.name)} ${fmtPx(m.value)}</span>`,
    )
    .join('');
  const chips = [...box.children];
  const placed = [];
  const ROW_H = 17;
  const items = gexMarks.map((m, i) => {
    const inside = m.value >= vMin && m.value <= vMax;
    const x = inside
      ? c.convertToPixel({ xAxisIndex: 0 }, m.value)
      : m.value < vMin
        ? grid.x
        : grid.x + grid.width;
    return { m, el: chips[i], x, inside, side: m.value < vMin ? -1 : m.value > vMax ? 1 : 0 };
  });
  items.sort((a, b) => a.x - b.x);
  for (const it of items) {
    if (it.side < 0) it.el.textContent = `◀ ${it.el.textContent}`;
    if (it.side > 0) it.el.textContent = `${it.el.textContent} ▶`;
    const w = it.el.offsetWidth;
    let left = Math.round(it.x - w / 2);
    left = Math.max(0, Math.min(left, box.clientWidth - w));
    let row = 0;
    while (placed.some((p) => p.row === row && left < p.right + 4 && left + w + 4 > p.left)) row++;
    placed.push({ row, left, right: left + w });
    it.el.style.left = `${left}px`;
    it.el.style.top = `${row * ROW_H}px`;
    it.el.dataset.row = String(row);
    it.el.classList.toggle('off', !it.inside);
  }
  const rowsUsed = placed.reduce((n, p) => Math.max(n, p.row + 1), 0);
  box.style.height = `${rowsUsed * ROW_H}px`;
}

function renderTabs() {
  const doc = state.docs.gex;
  const exps = doc ? Object.keys(doc.by_expiration).sort() : [];
  const hz = doc?.horizons || {};
  const horizon = (key, label) => {
    const h = hz[key];
    const empty = key !== 'all' && (!h || h.expirations.length === 0);
    const title = h
      ? `${h.expirations.join(', ') || 'none today'} · ${nf(1).format((h.share ?? 0) * 100)}% of |GEX|`
      : '';
    return `<button type="button" role="tab" class="horizon" data-testid="horizon-tab" data-horizon="${key}" data-tab="h:${key}" aria-selected="${state.tab === `h:${key}`}" ${empty ? 'disabled' : ''} title="${escapeHtml(title)}">${label}</button>`;
  };
  const html =
    `<span class="tab-group" role="group" aria-label="Horizon">${horizon('0dte', '0DTE')}${horizon('next', 'Next')}${horizon('all', 'All')}</span>` +
    exps
      .map((t) => {
        const d = dte(t);
        return `<button type="button" role="tab" data-testid="exp-tab" data-expiration="${escapeHtml(t)}" data-tab="${escapeHtml(t)}" data-dte="${d}" class="${d <= 0 ? 'zero-dte' : ''}" aria-selected="${t === state.tab}">${escapeHtml(t.slice(5))} <small>${d <= 0 ? '0DTE' : `${d}d`}</small></button>`;
      })
      .join('');
  const nav = $('exp-tabs');
  if (nav.dataset.html !== html) {
    nav.innerHTML = html;
    nav.dataset.html = html;
  }
}

$('exp-tabs').addEventListener('click', (ev) => {
  const b = ev.target instanceof HTMLElement ? ev.target.closest('button[data-tab]') : null;
  if (!b || b.disabled) return;
  state.tab = b.dataset.tab || 'h:all';
  // A date tab selects that date in the heatmap (once, on the click: the heatmap keeps its own choice).
  if (!state.tab.startsWith('h:') && state.docs.heatmap?.expirations?.[state.tab]) {
    state.hm.expiration = state.tab;
    state.sel = null;
    showTile();
  }
  renderGex();
  renderHeatmap();
});

// ── heatmap ──────────────────────────────────────────────────────────────────

/** Colour metric of a tile: cost as a % of width (butterfly, vertical), or the price (single). */
function metricOf(strategy, tile, width) {
  if (strategy === 'single' || !width) return tile.value;
  return (tile.value / Number(width)) * 100;
}

/** The tiles of the selected expiration / strategy / side as cells `[column, strike, metric, value]`. */
function heatmapCells(doc, expiration, strategy, side) {
  ensureDate(expiration);
  const e = doc.expirations[expiration];
  const cells = { cols: [], strikes: [], data: [], tiles: [] };
  if (!e) return cells;
  if (strategy === 'single') {
    cells.cols = [side];
    cells.strikes = Object.keys(e.single)
      .filter((k) => e.single[k] && e.single[k][side])
      .sort(byNumber);
    for (const k of cells.strikes) {
      const tile = e.single[k][side];
      cells.data.push([0, Number(k), metricOf(strategy, tile, null), tile.value]);
      cells.tiles.push({ tile, strike: k, width: null });
    }
    return cells;
  }
  const table = (e[strategy] && e[strategy][side]) || {};
  cells.cols = doc.widths.map(String);
  const colIndex = new Map(cells.cols.map((w, i) => [w, i]));
  cells.strikes = Object.keys(table).sort(byNumber);
  for (const k of cells.strikes) {
    for (const [w, tile] of Object.entries(table[k])) {
      let x = colIndex.get(w);
      if (x === undefined) {
        x = cells.cols.length;
        cells.cols.push(w);
        colIndex.set(w, x);
      }
      cells.data.push([x, Number(k), metricOf(strategy, tile, w), tile.value]);
      cells.tiles.push({ tile, strike: k, width: w });
    }
  }
  return cells;
}

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))];
}

/** A "nice" upper bound (1, 2, 2.5, 5 × 10^k) at or above v. */
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/**
 * Colour scales, fixed for the session per symbol × expiration × strategy × side: set from the first
 * snapshot seen (98th percentile, rounded up to a nice number; verticals are 0–100 % of width by
 * construction) and never recomputed, so a colour that changes while you watch is a price that changed.
 */
const scales = new Map();

function scaleFor(key, strategy, cells) {
  let s = scales.get(key);
  if (s) return s;
  const debits = [];
  const credits = [];
  for (const d of cells.data) {
    if (d[3] > 0) debits.push(d[2]);
    else if (d[3] < 0) credits.push(-d[2]);
  }
  debits.sort((a, b) => a - b);
  credits.sort((a, b) => a - b);
  const debitMax = strategy === 'vertical' ? 100 : niceCeil(quantile(debits, 0.98));
  const creditMax = niceCeil(quantile(credits, 0.98) || debitMax / 10);
  s = {
    debitMax,
    creditMax,
    unit: strategy === 'single' ? '$ per share (mid)' : 'cost, % of width (mid)',
  };
  scales.set(key, s);
  return s;
}

function hexToRgb(h) {
  const n = parseInt(h.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function ramp(stops, t) {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const a = hexToRgb(stops[i]);
  const b = hexToRgb(stops[i + 1]);
  const f = x - i;
  return `rgb(${a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(',')})`;
}

function tileColor(scale, metric, value) {
  if (value === 0) return ZERO_COLOR;
  if (value > 0) return ramp(DEBIT_STOPS, metric / scale.debitMax);
  return ramp(CREDIT_STOPS, -metric / scale.creditMax);
}

function renderLegend(scale, strategy) {
  const fmt = (v) => (strategy === 'single' ? fmtOpt(v) : `${nf(v < 10 ? 1 : 0).format(v)}%`);
  $('hm-legend').innerHTML = `
    <span class="legend-part" data-testid="legend-debit">debit <span class="legend-bar" style="background:linear-gradient(90deg,${DEBIT_STOPS.join(',')})"></span> 0 – ${fmt(scale.debitMax)}${strategy === 'vertical' ? '' : '+'}</span>
    <span class="legend-part" data-testid="legend-credit">credit <span class="legend-bar short" style="background:linear-gradient(90deg,${CREDIT_STOPS.join(',')})"></span> 0 – ${fmt(scale.creditMax)}+</span>
    <span class="legend-part"><span class="legend-swatch" style="background:${ZERO_COLOR}"></span> 0.00</span>
    <span class="legend-unit" data-testid="legend-unit">${escapeHtml(scale.unit)} · scale fixed this session</span>`;
}

let hmTiles = [];
let hmColors = [];
/** The strike range the heatmap's tiles are drawn for. */
let hmDrawn = { from: -Infinity, to: Infinity };
let hmResliceTimer = 0;
let hmClickWired = false;

/** The smallest gap between consecutive strikes (rows are that tall on the numeric strike axis). */
function strikeStep(strikes) {
  let step = Infinity;
  for (let i = 1; i < strikes.length; i++) step = Math.min(step, Number(strikes[i]) - Number(strikes[i - 1]));
  return Number.isFinite(step) && step > 0 ? step : 5;
}

/** Levels drawn on the heatmap: the date's GEX levels (from the GEX model, else the density's copy). */
function heatmapLevels(expiration) {
  const g = state.docs.gex;
  const hm = state.docs.heatmap;
  const lv = g?.by_expiration?.[expiration]?.levels ?? hm?.expirations?.[expiration]?.density?.levels ?? {};
  return {
    spot: hm?.spot ?? g?.spot ?? null,
    zero_gamma: lv.zero_gamma ?? null,
    call_wall: lv.call_wall ?? null,
    put_wall: lv.put_wall ?? null,
  };
}

function renderHeatmap() {
  const doc = state.docs.heatmap;
  const el = $('heatmap-chart');
  const c = chart('heatmap-chart');
  if (!hmClickWired) {
    hmClickWired = true;
    c.on('click', (p) => {
      if (p.seriesIndex !== 0) return;
      const t = hmTiles[p.dataIndex];
      if (!t) return;
      state.sel = {
        expiration: state.hm.expiration,
        strategy: state.hm.strategy,
        side: state.hm.side,
        strike: t.strike,
        width: t.width,
        first: { value: t.tile.value, ts: doc?.ts },
        last: { value: t.tile.value, ts: state.docs.heatmap?.ts },
      };
      showTile();
    });
    c.on('datazoom', () => {
      rememberZoom(
        c,
        `hm|${state.symbol}|${state.hm.expiration}|${state.hm.strategy}|${state.hm.side}`,
        'yAxis',
      );
      if (ownSetOption) return;
      // Panned beyond the drawn tiles, or zoomed in so far that most of them are off screen: redraw.
      const [a, b] = c.getModel().getComponent('yAxis', 0).axis.scale.getExtent();
      const { from, to } = hmDrawn;
      if (a >= from && b <= to && to - from <= 3 * (b - a)) return;
      if (hmResliceTimer) return; // one redraw per 80 ms while a drag goes on
      hmResliceTimer = setTimeout(() => {
        hmResliceTimer = 0;
        renderHeatmap();
      }, 80);
    });
  }
  const select = /** @type {HTMLSelectElement} */ ($('hm-expiration'));
  if (!doc) {
    c.clear();
    hmTiles = [];
    el.dataset.tileCount = '0';
    el.dataset.epochId = '';
    select.innerHTML = '';
    $('hm-sub').textContent = 'no heatmap model published yet';
    return;
  }
  const t0 = performance.now();
  const exps = Object.keys(doc.expirations).sort();
  if (!doc.expirations[state.hm.expiration]) {
    state.hm.expiration =
      !state.tab.startsWith('h:') && doc.expirations[state.tab] ? state.tab : exps[0] || '';
  }
  const optionsHtml = exps
    .map((d) => {
      const n = dte(d);
      return `<option value="${escapeHtml(d)}">${escapeHtml(d)} · ${n <= 0 ? '0DTE' : `${n}d`} · ${escapeHtml(doc.expirations[d].root)}</option>`;
    })
    .join('');
  if (select.dataset.html !== optionsHtml) {
    select.innerHTML = optionsHtml;
    select.dataset.html = optionsHtml;
  }
  if (select.value !== state.hm.expiration) select.value = state.hm.expiration;
  const { expiration, strategy, side } = state.hm;
  const cells = heatmapCells(doc, expiration, strategy, side);
  const viewKey = `${state.symbol}|${expiration}|${strategy}|${side}`;
  const scale = scaleFor(viewKey, strategy, cells);
  renderLegend(scale, strategy);
  const step = strikeStep(cells.strikes);
  const lv = heatmapLevels(expiration);
  const em = expectedMove(expiration);
  const e = doc.expirations[expiration];
  const density = e?.density?.points ?? [];
  const few = cells.data.length <= 160;
  const marks = [
    ['spot', lv.spot, COLORS.spot, 'solid'],
    ['zero γ', lv.zero_gamma, COLORS.zero, 'dashed'],
    ['call wall', lv.call_wall, COLORS.call, 'dashed'],
    ['put wall', lv.put_wall, COLORS.put, 'dashed'],
  ]
    .filter(([, v]) => Number.isFinite(v))
    .map(([name, v, color, type]) => ({
      name,
      yAxis: v,
      lineStyle: { color, type, width: 1.5 },
      label: { show: false },
    }));
  const strikesNum = cells.strikes.map(Number);
  let yMin = strikesNum.length ? strikesNum[0] - step / 2 : (lv.spot ?? 0) - 1;
  let yMax = strikesNum.length ? strikesNum[strikesNum.length - 1] + step / 2 : (lv.spot ?? 0) + 1;
  for (const m of marks) {
    yMin = Math.min(yMin, m.yAxis - step);
    yMax = Math.max(yMax, m.yAxis + step);
  }
  // Keep the zoom of this view (in strike values) across updates; a new view opens on ±30 rows of spot.
  const zoomKey = `hm|${viewKey}`;
  let zoom = zoomMemory.get(zoomKey);
  if (!zoom && strikesNum.length > 60 && lv.spot) {
    zoom = { startValue: lv.spot - 30 * step, endValue: lv.spot + 30 * step };
    zoomMemory.set(zoomKey, zoom);
  }
  // Tiles only for the strikes in the zoom window and a margin of a fifth of it (at least 3 rows) either side:
  // ECharts builds, lays out and paints every tile it is given, shown or clipped; a pan beyond that redraws.
  const margin = zoom ? Math.max((zoom.endValue - zoom.startValue) / 5, 3 * step) : Infinity;
  hmDrawn = zoom
    ? { from: zoom.startValue - margin, to: zoom.endValue + margin }
    : { from: -Infinity, to: Infinity };
  const data = [];
  hmTiles = [];
  for (let i = 0; i < cells.data.length; i++) {
    const d = cells.data[i];
    if (d[1] < hmDrawn.from || d[1] > hmDrawn.to) continue;
    data.push(d);
    hmTiles.push(cells.tiles[i]);
  }
  hmColors = data.map((d) => tileColor(scale, d[2], d[3]));
  const option = {
    animation: false,
    grid: [
      { left: 64, right: '24%', top: 16, bottom: 40, outerBoundsMode: 'none' },
      { left: '79%', right: 34, top: 16, bottom: 40, outerBoundsMode: 'none' },
    ],
    tooltip: {
      confine: true,
      formatter: (p) => {
        if (p.seriesIndex !== 0) return '';
        const t = hmTiles[p.dataIndex];
        if (!t) return '';
        const head =
          t.width === null
            ? `${escapeHtml(fmtPx(Number(t.strike)))} ${escapeHtml(side)}`
            : `${escapeHtml(fmtPx(Number(t.strike)))} · width ${escapeHtml(t.width)}`;
        const pct =
          t.width === null ? '' : ` (${nf(1).format(metricOf(strategy, t.tile, t.width))}% of width)`;
        return `<b>${head}</b><br/>mid <b>${fmtOpt(t.tile.value)}</b>${pct}<br/><span style="font-family:monospace">${escapeHtml(descriptionOf(t.tile))}</span>`;
      },
    },
    xAxis: [
      {
        type: 'category',
        gridIndex: 0,
        data: cells.cols.map((w) => (strategy === 'single' ? w : `w ${w}`)),
        splitArea: { show: false },
      },
      {
        type: 'value',
        gridIndex: 1,
        name: 'density',
        nameLocation: 'middle',
        nameGap: 22,
        axisLabel: { show: false },
        splitLine: { show: false },
      },
    ],
    yAxis: [
      {
        type: 'value',
        gridIndex: 0,
        min: yMin,
        max: yMax,
        axisLabel: { formatter: (v) => nf(0).format(v), hideOverlap: true },
        splitLine: { show: false },
      },
      {
        type: 'value',
        gridIndex: 1,
        min: yMin,
        max: yMax,
        axisLabel: { show: false },
        splitLine: { show: false },
      },
    ],
    dataZoom: [
      { type: 'inside', yAxisIndex: [0, 1], filterMode: 'none' },
      // No data shadow: the slider would rebuild it from the density on every update.
      {
        type: 'slider',
        yAxisIndex: [0, 1],
        filterMode: 'none',
        right: 6,
        width: 14,
        showDataShadow: false,
      },
    ],
    series: [
      {
        id: 'tiles',
        type: 'custom',
        xAxisIndex: 0,
        yAxisIndex: 0,
        clip: true,
        data,
        encode: { x: 0, y: 1, tooltip: [3] },
        renderItem: (params, api) => {
          const p = api.coord([api.value(0), api.value(1)]);
          // One tile's size in pixels is every tile's: measured once per drawing pass.
          const size = params.context.size || (params.context.size = api.size([1, step]));
          const w = size[0] - 1;
          const h = Math.max(1, size[1] - (size[1] > 6 ? 1 : 0));
          const rect = {
            type: 'rect',
            shape: { x: p[0] - w / 2, y: p[1] - h / 2, width: w, height: h },
            style: { fill: hmColors[params.dataIndex] },
          };
          if (!few || h < 12) return rect;
          return {
            type: 'group',
            children: [
              rect,
              {
                type: 'text',
                style: {
                  x: p[0],
                  y: p[1],
                  text: fmtOpt(api.value(3)),
                  align: 'center',
                  verticalAlign: 'middle',
                  fontSize: 10,
                  fill: '#111',
                },
              },
            ],
          };
        },
        markLine: { symbol: 'none', silent: true, animation: false, data: marks },
        markArea: em
          ? {
              silent: true,
              itemStyle: {
                color: 'rgba(47, 111, 219, 0.10)',
                borderColor: 'rgba(47,111,219,0.5)',
                borderWidth: 1,
              },
              data: [[{ yAxis: em.low }, { yAxis: em.high }]],
            }
          : { data: [] },
      },
      {
        id: 'density',
        type: 'line',
        name: 'density',
        xAxisIndex: 1,
        yAxisIndex: 1,
        showSymbol: false,
        clip: true,
        areaStyle: { color: 'rgba(138, 79, 216, 0.15)' },
        lineStyle: { color: COLORS.profile, width: 1.2 },
        data: density.map((d) => [d.density, d.strike]),
        markLine: {
          symbol: 'none',
          silent: true,
          animation: false,
          data: marks.map((m) => ({ ...m, lineStyle: { ...m.lineStyle, width: 1 } })),
        },
      },
    ],
  };
  if (zoom) for (const z of option.dataZoom) Object.assign(z, zoom);
  else for (const z of option.dataZoom) Object.assign(z, { start: 0, end: 100 });
  const finished = whenFinished(c);
  // Series, axes and grids merge (their models are kept); the zoom is set anew.
  setOptionQuietly(c, option, { replaceMerge: ['dataZoom'] });
  const setMs = performance.now() - t0;
  el.dataset.tileCount = String(cells.data.length);
  el.dataset.drawnTiles = String(data.length);
  el.dataset.drawnFrom = String(hmDrawn.from);
  el.dataset.drawnTo = String(hmDrawn.to);
  el.dataset.strikeCount = String(cells.strikes.length);
  el.dataset.epochId = doc.epoch_id;
  el.dataset.expiration = expiration;
  el.dataset.strategy = strategy;
  el.dataset.side = side;
  el.dataset.symbol = doc.symbol;
  el.dataset.ts = doc.ts ?? '';
  const probs = e?.density?.probabilities;
  const flags = e?.flags;
  const nFlags = (flags?.negative_butterfly?.length ?? 0) + (flags?.vertical_over_width?.length ?? 0);
  $('hm-sub').textContent = e
    ? `${e.root} (${e.settlement}) · ${nf(0).format(cells.data.length)} tiles · ${fmtTime(doc.ts)}` +
      (probs?.between_walls !== null && probs?.between_walls !== undefined
        ? ` · P(between walls) ${nf(0).format(probs.between_walls * 100)}%`
        : '') +
      (nFlags ? ` · ${nFlags} arbitrage flags` : '')
    : 'no tiles';
  showTile();
  stats.renders.heatmap++;
  void finished.then(() => {
    el.dataset.renderMs = String(Math.round(performance.now() - t0));
    markFirstDraw('heatmap');
    record({
      model: 'heatmap',
      phase: 'render',
      ms: performance.now() - t0,
      setOptionMs: setMs,
      items: cells.data.length,
      drawn: data.length,
    });
  });
}

/** Looks the selected order up in the current document (it refreshes with every version). */
function selectedTile() {
  const s = state.sel;
  ensureDate(s.expiration);
  const e = state.docs.heatmap?.expirations?.[s.expiration];
  if (!e) return null;
  if (s.strategy === 'single') return e.single?.[s.strike]?.[s.side] ?? null;
  return e[s.strategy]?.[s.side]?.[s.strike]?.[s.width] ?? null;
}

/** Natural price: buy at the ask, sell at the bid (from the chain ladder's quotes, when loaded). */
function naturalPrice(tile, expiration) {
  const q = chainQuotes.get(`${state.symbol}|${expiration}`)?.quotes;
  if (!q) return null;
  let nat = 0;
  for (const l of tile.legs) {
    const c = q.get(`${l.strike}|${l.type === 'C' || l.type === 'call' ? 'call' : 'put'}`);
    if (!c || c.bid === null || c.ask === null) return null;
    nat += l.qty * (l.qty > 0 ? c.ask : c.bid);
  }
  return nat;
}

function showTile() {
  const el = $('tile-detail');
  if (!state.sel) {
    el.textContent = 'Click a tile for its order (priced at mid).';
    el.dataset.value = '';
    return;
  }
  const tile = selectedTile();
  if (!tile) {
    el.textContent = 'The selected order is no longer quoted.';
    el.dataset.value = '';
    return;
  }
  const s = state.sel;
  const ts = state.docs.heatmap?.ts;
  if (s.last.ts !== ts) {
    s.prev = s.last;
    s.last = { value: tile.value, ts };
  }
  const legs = tile.legs.map((l) => `${l.qty > 0 ? '+' : ''}${l.qty} ${l.strike}${l.type}`).join('  ');
  const change = s.prev ? tile.value - s.prev.value : null;
  const nat = naturalPrice(tile, s.expiration);
  refreshSelectedQuotes();
  const quotesAsOf = chainQuotes.get(`${state.symbol}|${s.expiration}`)?.asOf;
  el.dataset.value = String(tile.value);
  el.dataset.ts = ts ?? '';
  el.innerHTML =
    `<div>${escapeHtml(descriptionOf(tile))}</div>` +
    `<div>legs: ${escapeHtml(legs)}</div>` +
    `<div>mid <b data-testid="tile-mid">${fmtOpt(tile.value)}</b> · natural ${nat === null ? '<span class="muted">(loading bid/ask…)</span>' : `<b data-testid="tile-natural">${fmtOpt(nat)}</b> <span class="muted">(bid/ask ${escapeHtml(fmtTime(quotesAsOf))})</span>`}` +
    ` · at ${escapeHtml(fmtTime(ts))}` +
    (change === null
      ? ''
      : ` · <span class="${change > 0 ? 'up' : change < 0 ? 'down' : ''}">${change === 0 ? 'unchanged' : fmtPts(change)}</span> since ${escapeHtml(fmtTime(s.prev.ts))}`) +
    ` <button type="button" class="linkish" data-testid="open-chain">chain ${escapeHtml(s.expiration)}</button></div>`;
}

$('tile-detail').addEventListener('click', (ev) => {
  if (ev.target instanceof HTMLElement && ev.target.dataset.testid === 'open-chain' && state.sel)
    void openChain(state.sel.expiration, Number(state.sel.strike));
});

function wireSegmented(id, key) {
  $(id).addEventListener('click', (ev) => {
    const b = ev.target instanceof HTMLElement ? ev.target.closest('button[data-value]') : null;
    if (!b) return;
    state.hm[key] = b.dataset.value;
    for (const x of $(id).querySelectorAll('button')) x.setAttribute('aria-pressed', String(x === b));
    state.sel = null;
    renderHeatmap();
  });
}
wireSegmented('hm-strategy', 'strategy');
wireSegmented('hm-side', 'side');

$('hm-expiration').addEventListener('change', (ev) => {
  state.hm.expiration = /** @type {HTMLSelectElement} */ (ev.target).value;
  state.sel = null;
  renderHeatmap();
});

// ── chain ladder (bid, ask, mid, IV, delta, gamma, OI, volume) ───────────────

/**
 * Quotes per `${symbol}|${expiration}`: `{quotes: Map(`${strike}|${type}` → row), asOf, fetchedMs}`, for the
 * ladder and the selected order's natural price (refreshed with the data, at most every QUOTES_REFRESH_MS).
 */
const chainQuotes = new Map();
const QUOTES_REFRESH_MS = 10_000;
let quotesLoading = false;

async function loadQuotes(expiration) {
  const symbol = state.symbol;
  const body = await getJson(
    `/api/chain/${encodeURIComponent(symbol)}?expiration=${encodeURIComponent(expiration)}`,
  );
  const quotes = new Map();
  for (const c of body.contracts) quotes.set(`${c.strike}|${c.type}`, c);
  chainQuotes.set(`${symbol}|${expiration}`, { quotes, asOf: body.as_of, fetchedMs: Date.now() });
  return body;
}

/** Keeps the selected order's quotes fresh (in the background; the order is redrawn when they arrive). */
function refreshSelectedQuotes() {
  const s = state.sel;
  if (!s || quotesLoading || state.at) return;
  const q = chainQuotes.get(`${state.symbol}|${s.expiration}`);
  if (q && Date.now() - q.fetchedMs < QUOTES_REFRESH_MS) return;
  quotesLoading = true;
  loadQuotes(s.expiration)
    .then(() => showTile())
    .catch((err) => stats.errors.push(String(err)))
    .finally(() => {
      quotesLoading = false;
    });
}

async function openChain(expiration, strike) {
  const box = $('chain');
  box.hidden = false;
  box.innerHTML = `<div class="muted">loading the ${escapeHtml(expiration)} chain…</div>`;
  try {
    const body = await loadQuotes(expiration);
    const q = chainQuotes.get(`${state.symbol}|${expiration}`).quotes;
    const strikes = [...new Set(body.contracts.map((c) => c.strike))].sort((a, b) => a - b);
    const cell = (c, f, d) => (c && c[f] !== null && c[f] !== undefined ? nf(d).format(c[f]) : '–');
    const side = (c) =>
      `<td>${cell(c, 'bid', 2)}</td><td>${cell(c, 'ask', 2)}</td><td>${cell(c, 'mid', 2)}</td><td>${c && c.iv !== null ? nf(1).format(c.iv * 100) + '%' : '–'}</td><td>${cell(c, 'delta', 3)}</td><td>${cell(c, 'gamma', 4)}</td><td>${cell(c, 'oi', 0)}</td><td>${cell(c, 'volume', 0)}</td>`;
    box.innerHTML = `<div class="panel-head"><b>Chain ${escapeHtml(expiration)}</b> <span class="muted">as of ${escapeHtml(fmtTime(body.as_of))}</span><button type="button" class="linkish" data-testid="close-chain">close</button></div>
      <div class="table-wrap chain-wrap"><table class="chain-table" data-testid="chain-table"><thead><tr><th colspan="8">calls</th><th>strike</th><th colspan="8">puts</th></tr>
      <tr>${'<th>bid</th><th>ask</th><th>mid</th><th>IV</th><th>Δ</th><th>γ</th><th>OI</th><th>vol</th>'}<th></th>${'<th>bid</th><th>ask</th><th>mid</th><th>IV</th><th>Δ</th><th>γ</th><th>OI</th><th>vol</th>'}</tr></thead><tbody>
      ${strikes
        .map(
          (k) =>
            `<tr data-strike="${k}" class="${k === strike ? 'hit' : ''}">${side(q.get(`${k}|call`))}<th>${fmtPx(k)}</th>${side(q.get(`${k}|put`))}</tr>`,
        )
        .join('')}</tbody></table></div>`;
    box.querySelector('tr.hit')?.scrollIntoView({ block: 'center' });
    showTile();
  } catch (err) {
    box.innerHTML = `<div class="muted">chain unavailable: ${escapeHtml(err.message)}</div>`;
  }
}

$('chain').addEventListener('click', (ev) => {
  if (ev.target instanceof HTMLElement && ev.target.dataset.testid === 'close-chain')
    $('chain').hidden = true;
});

// ── models: fetch only what changed ──────────────────────────────────────────

const loads = { gex: { running: false }, heatmap: { running: false } };

function record(t) {
  stats.timings.push({ at: Date.now(), symbol: state.symbol, ...t });
  if (stats.timings.length > 200) stats.timings.splice(0, stats.timings.length - 200);
}

function noteFor(model, symbol) {
  return state.notes.get(`${model}:${symbol}`);
}

function differs(note, doc) {
  return !doc || note.epoch_id !== doc.epoch_id || note.ts !== doc.ts;
}

function modelUrl(model, symbol) {
  const u = `/api/models/${model}/${encodeURIComponent(symbol)}`;
  return state.at ? `${u}?at=${encodeURIComponent(state.at)}` : u;
}

/** Fetches a model of the selected symbol; loops while a newer note (or another symbol) arrived meanwhile. */
async function loadModel(model) {
  const slot = loads[model];
  if (slot.running) return; // the running loop checks for newer notes when it ends
  slot.running = true;
  try {
    for (;;) {
      const symbol = state.symbol;
      const at = state.at;
      const seqAtStart = noteFor(model, symbol)?.seq ?? 0;
      const t0 = performance.now();
      let doc = null;
      const early = at ? undefined : earlyFetches.get(`${model}:${symbol}`);
      earlyFetches.delete(`${model}:${symbol}`);
      const res = await (early ?? fetch(modelUrl(model, symbol), { cache: 'no-cache' }));
      if (res.ok) {
        serverSeen();
        const text = await res.text();
        const t1 = performance.now();
        doc = JSON.parse(text);
        record({ model, phase: 'fetch', ms: t1 - t0, parseMs: performance.now() - t1, bytes: text.length });
      } else if (res.status !== 404) {
        throw new Error(`${model} ${symbol}: HTTP ${res.status}`);
      }
      if (symbol !== state.symbol || at !== state.at) continue;
      state.docs[model] = doc;
      if (model === 'heatmap') pendingDates.clear(); // diff work of the document it replaces
      // Each chart draws the other model's levels (the heatmap the date's GEX levels, the GEX chart the
      // expected move from the heatmap): both are redrawn, once, whichever model changed.
      scheduleRender();
      if (state.at) break;
      const note = noteFor(model, symbol);
      if (note && note.seq > seqAtStart && doc && differs(note, doc)) continue;
      if (symbol === state.symbol) break;
    }
    showError('');
  } catch (err) {
    stats.errors.push(String(err));
    showError(`Could not load a model: ${err.message}`);
    scheduleRender(); // the other chart may be waiting for this one
  } finally {
    slot.running = false;
  }
}

/**
 * Diff work not yet applied to the heatmap document, per date: a 20,000-contract chain's diff reprices some
 * 100,000 tiles, too much for one task. The tiles of a date are applied when something reads that date
 * ({@link ensureDate}: the drawn date, the expected move's, the selected order's) and the rest in slices of
 * SLICE_MS between other tasks. A new diff first completes the previous one.
 */
const pendingDates = new Map();
let pendingTimer = 0;
const SLICE_MS = 8;

function ensureDate(date) {
  const work = pendingDates.get(date);
  if (!work) return;
  pendingDates.delete(date);
  for (const f of work) f();
}

function flushPending() {
  for (const date of [...pendingDates.keys()]) ensureDate(date);
}

function drainPendingSoon() {
  if (pendingTimer || pendingDates.size === 0) return;
  pendingTimer = setTimeout(function slice() {
    pendingTimer = 0;
    const t0 = performance.now();
    for (const [date, work] of pendingDates) {
      while (work.length > 0 && performance.now() - t0 < SLICE_MS) work.shift()();
      if (work.length > 0) break;
      pendingDates.delete(date);
    }
    if (pendingDates.size > 0) pendingTimer = setTimeout(slice, 0);
  }, 0);
}

function defer(date, f) {
  const work = pendingDates.get(date);
  if (work) work.push(f);
  else pendingDates.set(date, [f]);
}

/**
 * A repriced tile: the new value; its description's price part (`@ 2.35 DEBIT`) follows when the description
 * is read ({@link descriptionOf}), not for every tile of every diff.
 */
function reprice(t, value) {
  if (!t) return;
  if (t.descValue === undefined) t.descValue = t.value;
  t.value = value;
}

/** A tile's order description with its current price. */
function descriptionOf(t) {
  if (t.descValue !== undefined && t.descValue !== t.value) {
    const old = orderPrice(t.descValue);
    if (t.description.endsWith(old))
      t.description = t.description.slice(0, -old.length) + orderPrice(t.value);
    t.descValue = t.value;
  }
  return t.description;
}

/**
 * Applies a `heatmap_diff` when its base is the document shown (returns false when it does not fit): the
 * header and each date's fields at once, the tiles per date and strategy as deferred work.
 */
function applyHeatmapDiff(d) {
  const doc = state.docs.heatmap;
  if (!doc || state.at || d.symbol !== state.symbol) return false;
  if (d.base.epoch_id !== doc.epoch_id || d.base.ts !== doc.ts) return false;
  flushPending();
  // The header is every top-level field of the new version: one it dropped (e.g. `live`) goes too.
  for (const k of Object.keys(doc)) if (k !== 'expirations' && !(k in d.header)) delete doc[k];
  for (const [k, v] of Object.entries(d.header)) doc[k] = v;
  for (const date of d.removed_expirations) delete doc.expirations[date];
  let added = false;
  for (const [date, vs] of Object.entries(d.values || {})) {
    const e = doc.expirations[date];
    if (!e) continue;
    for (const k of ['butterfly', 'vertical'])
      for (const side of ['call', 'put'])
        if (vs[k]?.[side])
          defer(date, () => {
            for (const [strike, byWidth] of Object.entries(vs[k][side]))
              for (const [w, value] of Object.entries(byWidth)) reprice(e[k][side][strike]?.[w], value);
          });
    if (vs.single)
      defer(date, () => {
        for (const [strike, sides] of Object.entries(vs.single))
          for (const [side, value] of Object.entries(sides)) reprice(e.single[strike]?.[side], value);
      });
  }
  for (const [date, ch] of Object.entries(d.changed)) {
    let e = doc.expirations[date];
    if (!e) {
      e = doc.expirations[date] = emptyExpiration();
      added = true;
    }
    for (const [k, v] of Object.entries(ch)) {
      if (k === 'butterfly' || k === 'vertical') {
        defer(date, () => {
          for (const side of ['call', 'put'])
            for (const [strike, byWidth] of Object.entries(v[side] || {})) {
              const row = e[k][side][strike] || (e[k][side][strike] = {});
              Object.assign(row, byWidth);
            }
        });
      } else if (k === 'single') {
        defer(date, () => {
          for (const [strike, sides] of Object.entries(v)) {
            const row = e.single[strike] || (e.single[strike] = {});
            Object.assign(row, sides);
          }
        });
      } else e[k] = v;
    }
  }
  const removed = new Map();
  for (const path of d.removed) {
    if (!removed.has(path[0])) removed.set(path[0], []);
    removed.get(path[0]).push(path);
  }
  for (const [date, paths] of removed)
    defer(date, () => {
      const e = doc.expirations[date];
      if (!e) return;
      for (const [, strategy, a, b, c] of paths) {
        if (strategy === 'single') {
          if (e.single[a]) {
            delete e.single[a][b];
            if (Object.keys(e.single[a]).length === 0) delete e.single[a];
          }
        } else if (e[strategy]?.[a]?.[b]) {
          delete e[strategy][a][b][c];
          if (Object.keys(e[strategy][a][b]).length === 0) delete e[strategy][a][b];
        }
      }
    });
  // Keys stay in ascending date order, as in the published document.
  if (added)
    doc.expirations = Object.fromEntries(
      Object.entries(doc.expirations).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  return true;
}

/** The price part of an order description, as the heatmap model writes it: ` @ 2.35 DEBIT`. */
function orderPrice(value) {
  return ` @ ${Math.abs(value).toFixed(2)} ${value > 0 ? 'DEBIT' : value < 0 ? 'CREDIT' : 'EVEN'}`;
}

function emptyExpiration() {
  return {
    root: '',
    settlement: 'PM',
    butterfly: { call: {}, put: {} },
    vertical: { call: {}, put: {} },
    single: {},
    density: null,
    flags: { negative_butterfly: [], vertical_over_width: [] },
  };
}

function onHeatmapDiff(d) {
  const t0 = performance.now();
  const doc = state.docs.heatmap;
  if (doc && doc.epoch_id === d.epoch_id && doc.ts === d.ts) return; // already there
  if (applyHeatmapDiff(d)) {
    stats.diffs.applied++;
    record({ model: 'heatmap', phase: 'diff', ms: performance.now() - t0, bytes: d.bytes ?? 0 });
    scheduleRender();
    drainPendingSoon();
  } else if (d.symbol === state.symbol && !state.at) {
    stats.diffs.refetched++;
    void loadModel('heatmap');
  }
}

/**
 * Redraws both charts after a model changed, coalesced: models arriving together (a GEX and a heatmap
 * version, a diff and a note) draw once, and the two charts draw in separate tasks so neither blocks the
 * page for the time of both.
 */
let renderQueued = false;
const drawn = { gex: '', heatmap: '' };
/** Redraws caused only by the other model (the expected move, a date's levels) wait this long for the
 * chart's own next version, which usually follows within it: one draw instead of two. */
const FOLLOW_MS = 400;
const follow = { gex: { timer: 0, due: false }, heatmap: { timer: 0, due: false } };
const pairing = { timer: 0, since: 0 };
const PAIR_MAX_MS = 3_000;

/** Draws `chart` when its key changed; a change of `ownKey` draws now, any other change after FOLLOW_MS. */
function drawIfChanged(chartName, key, ownKey, draw) {
  const f = follow[chartName];
  const due = f.due;
  f.due = false;
  if (key === drawn[chartName]) return;
  const ownChanged = !drawn[chartName].startsWith(`${ownKey}#`);
  if (!ownChanged && !due) {
    clearTimeout(f.timer);
    f.timer = setTimeout(() => {
      f.due = true;
      scheduleRender();
    }, FOLLOW_MS);
    return;
  }
  clearTimeout(f.timer);
  drawn[chartName] = key;
  draw();
}

/** The heatmap's expiration: the selected one, else the GEX date tab's, else the first date. */
function heatmapExpiration(doc) {
  if (doc.expirations[state.hm.expiration]) return state.hm.expiration;
  if (!state.tab.startsWith('h:') && doc.expirations[state.tab]) return state.tab;
  return Object.keys(doc.expirations).sort()[0] || '';
}

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    // What each chart shows depends on: its own document, the view, and what it takes from the other.
    const g = state.docs.gex;
    const hm = state.docs.heatmap;
    const view =
      g && !state.tab.startsWith('h:') ? [state.tab] : (g?.horizons?.[state.tab.slice(2)]?.expirations ?? []);
    const emFor = hm
      ? (view.find((d) => hm.expirations?.[d]) ?? Object.keys(hm.expirations ?? {}).sort()[0])
      : null;
    const em = emFor ? expectedMove(emFor) : null;
    const gexOwn = `${g?.epoch_id}|${g?.ts}|${state.tab}`;
    const hmExp = hm ? heatmapExpiration(hm) : '';
    const hmOwn = `${hm?.epoch_id}|${hm?.ts}|${hmExp}`;
    // On a first load each chart waits for the other model while it is still loading, rather than being
    // drawn twice: the GEX chart's expected-move band comes from the heatmap, the heatmap's level lines from
    // the GEX model. A model's load ends with a scheduleRender, whatever came of it.
    const waiting = (!g && loads.gex.running) || (!hm && loads.heatmap.running);
    if (waiting && (g || hm)) return;
    // Both models of a cycle carry its `ts`: when one has arrived and the other not yet (a heatmap diff comes
    // over the stream, the GEX document is fetched after its note), wait for the other (FOLLOW_MS for its
    // note, then while it loads, PAIR_MAX_MS at most), so each chart draws once per cycle rather than once
    // for its own model and again for the other's.
    if (g && hm && g.ts !== hm.ts) {
      const newer = g.ts > hm.ts ? g.ts : hm.ts;
      const lagging = g.ts > hm.ts ? 'heatmap' : 'gex';
      const inFlight = noteFor(lagging, state.symbol)?.ts === newer && loads[lagging].running;
      const now = performance.now();
      if (!pairing.since) pairing.since = now;
      const waited = now - pairing.since;
      if (waited < (inFlight ? PAIR_MAX_MS : FOLLOW_MS)) {
        clearTimeout(pairing.timer);
        pairing.timer = setTimeout(
          () => {
            pairing.timer = 0;
            scheduleRender();
          },
          Math.max(10, (inFlight ? PAIR_MAX_MS : FOLLOW_MS) - waited),
        );
        return;
      }
    }
    clearTimeout(pairing.timer);
    pairing.timer = 0;
    pairing.since = 0;
    drawIfChanged('gex', `${gexOwn}#${em?.move}`, gexOwn, renderGex);
    renderHeader();
    const levels = JSON.stringify(g?.by_expiration?.[hmExp]?.levels ?? null);
    drawIfChanged('heatmap', `${hmOwn}#${levels}`, hmOwn, () => setTimeout(() => renderHeatmap(), 0));
  }, 0);
}

function renderHeader() {
  const gex = state.docs.gex;
  const hm = state.docs.heatmap;
  const epochId = (gex || hm || {}).epoch_id || '';
  const el = $('epoch');
  el.textContent = epochId ? `epoch ${epochId}` : 'no model yet';
  el.dataset.epochId = epochId;
  el.title = `active epoch of the selected symbol: ${epochId}`;
  const stale = Boolean((gex && gex.stale) || (hm && hm.stale));
  $('stale-badge').hidden = !stale;
  document.title = `chain-worker · ${state.symbol}${stale ? ' (stale)' : ''}`;
  tick();
}

function selectSymbol(symbol) {
  state.symbol = symbol;
  state.docs = { gex: null, heatmap: null };
  pendingDates.clear();
  state.tab = 'h:all';
  state.sel = null;
  $('chain').hidden = true;
  $('symbol').value = symbol;
  history.replaceState(null, '', `#${encodeURIComponent(symbol)}`);
  showTile();
  for (const m of MODELS) void loadModel(m);
  // The day's history a moment later: its chart is not in the way of the first draw of the two models.
  setTimeout(() => void loadHistory(), 1_000);
  // The stream sends heatmap diffs for the drawn symbol only: reconnect it for the new one.
  if (es && es.symbol !== symbol) {
    es.close();
    connectStream();
  }
}

$('symbol').addEventListener('change', (ev) =>
  selectSymbol(/** @type {HTMLSelectElement} */ (ev.target).value),
);

// ── status: data age, live badges, server reachability (ticks every second) ──

function serverSeen() {
  state.serverSeenMs = Date.now();
  state.serverDownSinceMs = 0;
}

/** Time of a symbol's newest data: its last streamed tick, else the snapshot's as-of. */
function dataTime(symbol) {
  const doc = symbol === state.symbol && !state.at ? state.docs.gex : null;
  const note = noteFor('gex', symbol) ?? noteFor('heatmap', symbol);
  const t = doc?.live?.last_tick_ts ?? note?.last_tick_ts ?? doc?.as_of ?? note?.as_of ?? null;
  return t ? Date.parse(t) : NaN;
}

function symbolState(symbol) {
  if (state.stream !== 'live') return 'down';
  const note = noteFor('gex', symbol) ?? noteFor('heatmap', symbol);
  if (!note) return 'none';
  const age = (Date.now() - dataTime(symbol)) / 1000;
  if (note.stale) return 'stale';
  return age <= LIVE_MAX_AGE_SEC ? 'live' : 'delayed';
}

function tick() {
  const now = Date.now();
  // Header: the age of the selected symbol's data, ticking.
  const t = dataTime(state.symbol);
  const age = (now - t) / 1000;
  const ageEl = $('data-age');
  ageEl.textContent = Number.isFinite(age)
    ? state.at
      ? `replay ${fmtDateTime(state.at)}`
      : `data ${fmtAge(age)} old`
    : 'no data';
  ageEl.dataset.ageSec = Number.isFinite(age) ? String(Math.round(age)) : '';
  // Per-symbol live badges.
  const badges = state.symbols
    .map((s) => {
      const st = symbolState(s.symbol);
      const a = (now - dataTime(s.symbol)) / 1000;
      const note = noteFor('gex', s.symbol);
      const src = note?.live_source ?? (note ? 'snapshot' : '');
      return `<span class="badge live-badge" data-testid="live-badge" data-symbol="${escapeHtml(s.symbol)}" data-state="${st}" title="${escapeHtml(src)} · newest data ${Number.isFinite(a) ? fmtTime(dataTime(s.symbol)) : '–'}">${escapeHtml(s.symbol)} ${st === 'live' ? '●' : st === 'down' ? '✕' : '◐'} ${Number.isFinite(a) ? fmtAge(a) : '–'}</span>`;
    })
    .join('');
  const box = $('live-badges');
  if (box.dataset.html !== badges) {
    box.innerHTML = badges;
    box.dataset.html = badges;
  }
  renderHealthState();
}
setInterval(tick, 1000);

// ── live stream ──────────────────────────────────────────────────────────────

function setStream(s) {
  const was = state.stream;
  state.stream = s;
  const el = $('stream-status');
  el.dataset.state = s;
  el.textContent = s === 'live' ? 'live' : s === 'disconnected' ? 'disconnected' : 'connecting…';
  document.body.dataset.stream = s;
  if (s === 'live') serverSeen();
  else if (was === 'live' || !state.serverDownSinceMs) state.serverDownSinceMs = Date.now();
  tick();
}

function onNote(note) {
  serverSeen();
  note.seq = ++state.noteSeq;
  state.notes.set(`${note.model}:${note.symbol}`, note);
  scheduleHealth();
  renderHealthBadges();
  if (state.at) return;
  if (note.symbol === state.symbol && differs(note, state.docs[note.model])) void loadModel(note.model);
  if (note.model === 'gex' && note.symbol === state.symbol) scheduleHistory();
}

let es = null;
function connectStream() {
  const params = new URLSearchParams({
    symbols: state.symbols.map((s) => s.symbol).join(','),
    models: MODELS.join(','),
    // heatmap versions of the drawn symbol as diffs of changed tiles
    diffs: state.symbol,
  });
  es = new EventSource(`/events?${params}`);
  es.symbol = state.symbol;
  const mine = es;
  setStream('connecting');
  es.addEventListener('open', () => setStream('live'));
  es.addEventListener('hello', () => setStream('live'));
  es.addEventListener('model', (ev) => {
    try {
      onNote(JSON.parse(ev.data));
    } catch (err) {
      stats.errors.push(String(err));
    }
  });
  es.addEventListener('heatmap_diff', (ev) => {
    try {
      const d = JSON.parse(ev.data);
      d.bytes = ev.data.length;
      onHeatmapDiff(d);
    } catch (err) {
      stats.errors.push(String(err));
    }
  });
  es.addEventListener('error', () => {
    setStream('disconnected');
    // EventSource retries by itself unless the server refused the stream (then readyState is CLOSED).
    if (mine.readyState === EventSource.CLOSED) {
      mine.close();
      setTimeout(connectStream, RECONNECT_MS);
    }
  });
}

// ── health panel ─────────────────────────────────────────────────────────────

let lastEpochs = null;
let healthFailedAt = 0;

function renderHealthBadges() {
  if (!lastEpochs) return;
  for (const s of lastEpochs.symbols) {
    const cell = document.querySelector(`tr[data-symbol="${CSS.escape(s.symbol)}"] td.models`);
    if (cell) cell.innerHTML = modelBadges(s.symbol);
  }
}

function modelBadges(symbol) {
  return MODELS.map((m) => {
    const n = noteFor(m, symbol);
    if (!n) return `<span class="badge" title="not published">${m} –</span>`;
    const cls = n.stale ? 'badge stale' : 'badge health-ok';
    return `<span class="${cls}" data-testid="model-badge" data-model="${m}" data-stale="${Boolean(n.stale)}" title="${escapeHtml(n.epoch_id)} · ${escapeHtml(fmtTime(n.ts))}">${m}${n.stale ? ' stale' : ''}</span>`;
  }).join(' ');
}

/**
 * The panel's overall state: `down` (red) when the server cannot be reached (stream lost or /api/epochs
 * failing), `warn` (amber) when a worker has not cycled for WORKER_QUIET_SEC or a symbol is not healthy,
 * else `ok`. Re-judged every second, so an outage shows within a few seconds, not at the next refresh.
 */
function renderHealthState() {
  const panel = $('health-panel');
  const now = Date.now();
  let st = 'ok';
  let why = 'server and workers reachable';
  if (state.stream !== 'live' || healthFailedAt > state.serverSeenMs) {
    st = 'down';
    const since = state.serverDownSinceMs || healthFailedAt || now;
    why = `server unreachable for ${fmtAge((now - since) / 1000)} (since ${fmtTime(since)})`;
  } else if (lastEpochs) {
    for (const s of lastEpochs.symbols) {
      const age = s.last_cycle_ts ? now / 1000 - s.last_cycle_ts : Infinity;
      if (age > 2 * WORKER_QUIET_SEC) {
        st = 'down';
        why = `${s.symbol}: no worker cycle for ${fmtAge(age)}`;
        break;
      }
      if (age > WORKER_QUIET_SEC || (s.last_health && s.last_health !== 'ok')) {
        st = 'warn';
        why = `${s.symbol}: ${age > WORKER_QUIET_SEC ? `no worker cycle for ${fmtAge(age)}` : s.last_health}`;
      }
    }
  }
  panel.dataset.state = st;
  const el = $('health-state');
  el.dataset.state = st;
  el.textContent = `${st === 'ok' ? 'ok' : st === 'warn' ? 'degraded' : 'unreachable'} · ${why}`;
  // Row ages tick too.
  if (lastEpochs)
    for (const s of lastEpochs.symbols) {
      const cell = document.querySelector(`tr[data-symbol="${CSS.escape(s.symbol)}"] td.cycle-age`);
      if (cell) cell.textContent = s.last_cycle_ts ? `${fmtAge(now / 1000 - s.last_cycle_ts)} ago` : '–';
    }
}

function renderHealth(view) {
  lastEpochs = view;
  $('health-rows').innerHTML = view.symbols
    .map((s) => {
      const health = s.last_health || '–';
      return `<tr data-testid="health-row" data-symbol="${escapeHtml(s.symbol)}" data-health="${escapeHtml(health)}" data-epoch-id="${escapeHtml(s.epoch_id || '')}">
        <td><b>${escapeHtml(s.symbol)}</b></td>
        <td class="cycle-age" title="${s.last_cycle_ts ? fmtDateTime(s.last_cycle_ts * 1000) : ''}">–</td>
        <td><span class="badge health-${escapeHtml(health)}">${escapeHtml(health)}</span></td>
        <td class="epoch-id" title="${escapeHtml(s.epoch_id || '')} · ${escapeHtml(s.status || '')}"><span class="mono">${escapeHtml(s.epoch_id || '–')}</span><br/><span class="muted">${fmtAge(s.epoch_age_sec)} · ${escapeHtml(s.status || '–')}</span></td>
        <td data-testid="dormant-count">${s.dormant_count}</td>
        <td class="models">${modelBadges(s.symbol)}</td>
      </tr>`;
    })
    .join('');
  const a = view.analytics;
  $('analytics-summary').textContent =
    `snapshots ${a.snapshots} · failed ${a.failed_cycles} · SLA violations ${a.sla_violations} · ` +
    `fetch latency avg ${a.latency_ms.avg ?? '–'} ms, p95 ${a.latency_ms.p95 ?? '–'} ms (n=${a.latency_ms.count})`;
  $('health-updated').textContent = `updated ${fmtTime(view.ts * 1000)}`;
  renderHealthState();
}

let latencyDrawn = '';
function renderLatency(points) {
  // Redrawn only when the points changed (the health refresh runs after every model note).
  const key = `${points.length}|${points[0]?.ts}|${points[points.length - 1]?.ts}|${Math.floor(Date.now() / 60_000)}`;
  if (key === latencyDrawn) return;
  latencyDrawn = key;
  const bySymbol = new Map();
  for (const p of points) {
    if (!bySymbol.has(p.symbol)) bySymbol.set(p.symbol, []);
    bySymbol.get(p.symbol).push([p.ts * 1000, p.value]);
  }
  const c = chart('latency-chart');
  c.setOption(
    {
      animation: false,
      grid: { left: 50, right: 12, top: 24, bottom: 24, outerBoundsMode: 'none' },
      legend: { top: 0 },
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v) => `${nf(0).format(v)} ms`,
      },
      xAxis: {
        type: 'time',
        min: Date.now() - LATENCY_WINDOW_MS,
        max: Date.now(),
        axisLabel: { hideOverlap: true, formatter: (v) => timeFmt.format(new Date(v)).slice(0, 5) },
      },
      yAxis: { type: 'value', name: 'ms', nameGap: 8 },
      series: [...bySymbol].map(([symbol, data]) => ({
        name: symbol,
        type: 'line',
        showSymbol: data.length < 60,
        data,
        sampling: 'lttb',
      })),
    },
    { replaceMerge: ['series'] },
  );
  $('latency-chart').dataset.pointCount = String(points.length);
}

let healthRunning = false;
async function refreshHealth() {
  if (healthRunning) return;
  healthRunning = true;
  try {
    const [view, series] = await Promise.all([
      getJson('/api/epochs'),
      getJson(`/api/analytics/fetch_latency?since=${(Date.now() - LATENCY_WINDOW_MS) / 1000}`),
    ]);
    renderHealth(view);
    renderLatency(series.points);
  } catch (err) {
    healthFailedAt = Date.now();
    stats.errors.push(String(err));
    renderHealthState();
  } finally {
    healthRunning = false;
  }
}
const scheduleHealth = debounce(() => void refreshHealth(), 500);

// ── the day's history: levels through the day, and the time slider ──────────

const HISTORY_FIELDS = 'spot,zero_gamma,call_wall,put_wall,net';
let historyRows = [];

async function loadHistory() {
  const symbol = state.symbol;
  const to = new Date();
  const from = new Date(to.getTime() - 24 * 3_600_000);
  const box = $('history-chart');
  try {
    const body = await getJson(
      `/api/history/${encodeURIComponent(symbol)}?from=${from.toISOString()}&to=${to.toISOString()}&fields=${HISTORY_FIELDS}`,
    );
    if (symbol !== state.symbol) return;
    historyRows = body.rows || [];
    stats.historyRows = historyRows;
    $('history-note').textContent =
      `${nf(0).format(historyRows.length)} versions · ${fmtTime(from)} – ${fmtTime(to)}`;
  } catch (err) {
    historyRows = [];
    $('history-note').textContent =
      err.status === 404 ? 'no history yet for this symbol' : `history unavailable: ${err.message}`;
  }
  box.dataset.rowCount = String(historyRows.length);
  renderHistory();
}
const scheduleHistory = debounce(() => void loadHistory(), 5_000);

let historyDrawn = '';
function renderHistory() {
  const last = historyRows[historyRows.length - 1];
  const key = `${state.symbol}|${state.at}|${historyRows.length}|${historyRows[0]?.ts}|${last?.ts}`;
  if (key === historyDrawn) return;
  historyDrawn = key;
  const c = chart('history-chart');
  const series = [
    ['spot', COLORS.spot, 'solid'],
    ['zero_gamma', COLORS.zero, 'dashed'],
    ['call_wall', COLORS.call, 'solid'],
    ['put_wall', COLORS.put, 'solid'],
  ].map(([f, color, type]) => ({
    name: f === 'zero_gamma' ? 'zero γ' : f.replace('_', ' '),
    type: 'line',
    step: f.endsWith('wall') ? 'end' : undefined,
    showSymbol: false,
    connectNulls: false,
    lineStyle: { color, type, width: 1.5 },
    itemStyle: { color },
    data: historyRows.map((r) => [Date.parse(r.ts), r[f] ?? null]),
  }));
  c.setOption(
    {
      animation: false,
      grid: { left: 64, right: 16, top: 28, bottom: 28, outerBoundsMode: 'none' },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v) => fmtPx(v) },
      xAxis: {
        type: 'time',
        axisLabel: { hideOverlap: true, formatter: (v) => timeFmt.format(new Date(v)).slice(0, 5) },
      },
      yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => nf(0).format(v) } },
      series: [
        ...series,
        {
          type: 'line',
          data: [],
          markLine: state.at
            ? {
                symbol: 'none',
                silent: true,
                data: [{ xAxis: Date.parse(state.at), lineStyle: { color: COLORS.net } }],
                label: { show: false },
              }
            : { data: [] },
        },
      ],
    },
    { replaceMerge: ['series'] },
  );
  const slider = /** @type {HTMLInputElement} */ ($('time-slider'));
  slider.max = String(Math.max(0, historyRows.length - 1));
  slider.disabled = historyRows.length === 0;
  if (!state.at) slider.value = slider.max;
}

/** The time slider: the version in force at the chosen row's time (the last position = live). */
$('time-slider').addEventListener(
  'input',
  debounce(() => {
    const slider = /** @type {HTMLInputElement} */ ($('time-slider'));
    const i = Number(slider.value);
    const live = i >= historyRows.length - 1;
    setReplay(live ? null : (historyRows[i]?.ts ?? null));
  }, 150),
);

$('replay-live').addEventListener('click', () => setReplay(null));

function setReplay(at) {
  state.at = at;
  $('replay-live').hidden = !at;
  document.body.dataset.replay = at ? 'on' : 'off';
  $('replay-label').textContent = at ? `replaying ${fmtDateTime(at)}` : 'live';
  renderHistory();
  for (const m of MODELS) void loadModel(m);
}

// ── start ────────────────────────────────────────────────────────────────────

let warmedUp = false;
/** Model requests sent before /api/symbols answers (for the symbol in the URL), taken by loadModel. */
const earlyFetches = new Map();

/**
 * While the first models load, draws a few made-up bars and tiles on a hidden chart that is then thrown away:
 * ECharts' code paths are compiled then, in the wait for the network, rather than in the first real draws.
 */
function warmUp() {
  const box = document.createElement('div');
  box.style.cssText = 'position:absolute;left:-10000px;top:0;width:640px;height:360px;visibility:hidden';
  document.body.append(box);
  const w = echarts.init(box, null, { renderer: 'canvas' });
  const pts = [
    [1, 2],
    [2, -1],
    [3, 3],
  ];
  const mark = { symbol: 'none', silent: true, data: [{ xAxis: 2, label: { show: false } }] };
  const steps = [
    () =>
      w.setOption({
        animation: false,
        grid: { left: 64, right: 64, top: 40, bottom: 40, outerBoundsMode: 'none' },
        legend: { data: ['a', 'b'] },
        tooltip: { trigger: 'axis' },
        xAxis: { type: 'value', min: 0, max: 4 },
        yAxis: [{ type: 'value' }, { type: 'value' }],
        dataZoom: [{ type: 'inside' }, { type: 'slider', showDataShadow: false }],
        series: [
          { name: 'a', type: 'bar', stack: 's', large: true, largeThreshold: 0, data: pts, markLine: mark },
          { name: 'b', type: 'bar', stack: 's', large: true, largeThreshold: 0, data: pts },
          {
            type: 'line',
            yAxisIndex: 1,
            showSymbol: false,
            data: pts,
            markArea: { silent: true, data: [[{ xAxis: 1 }, { xAxis: 2 }]] },
          },
        ],
      }),
    () =>
      w.setOption(
        {
          animation: false,
          grid: [
            { left: 40, right: '30%', outerBoundsMode: 'none' },
            { left: '75%', right: 20, outerBoundsMode: 'none' },
          ],
          tooltip: { confine: true },
          xAxis: [
            { type: 'category', gridIndex: 0, data: ['x', 'y'] },
            { type: 'value', gridIndex: 1 },
          ],
          yAxis: [
            { type: 'value', gridIndex: 0, min: 0, max: 4 },
            { type: 'value', gridIndex: 1, min: 0, max: 4 },
          ],
          dataZoom: [{ type: 'inside', yAxisIndex: [0, 1] }],
          series: [
            {
              type: 'custom',
              clip: true,
              data: pts.map(([a, b]) => [a % 2, a, b, b]),
              encode: { x: 0, y: 1 },
              renderItem: (params, api) => {
                const p = api.coord([api.value(0), api.value(1)]);
                const size = api.size([1, 1]);
                return {
                  type: 'rect',
                  shape: { x: p[0] - size[0] / 2, y: p[1] - size[1] / 2, width: size[0], height: size[1] },
                  style: { fill: '#fec44f' },
                };
              },
              markLine: { symbol: 'none', silent: true, data: [{ yAxis: 2, label: { show: false } }] },
            },
            { type: 'line', xAxisIndex: 1, yAxisIndex: 1, showSymbol: false, areaStyle: {}, data: pts },
          ],
        },
        { notMerge: true },
      ),
    () => {
      w.dispose();
      box.remove();
    },
  ];
  const next = () => {
    const step = steps.shift();
    if (!step) return;
    step();
    setTimeout(next, 0);
  };
  next();
}

async function main() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted && !earlyFetches.size)
    for (const m of MODELS)
      earlyFetches.set(`${m}:${wanted}`, fetch(modelUrl(m, wanted), { cache: 'no-cache' }));
  if (typeof echarts !== 'undefined' && !warmedUp) {
    warmedUp = true;
    setTimeout(warmUp, 0);
  }
  try {
    const { symbols } = await getJson('/api/symbols');
    state.symbols = symbols;
  } catch (err) {
    showError(`Could not list symbols: ${err.message}`);
    setTimeout(main, RECONNECT_MS);
    return;
  }
  const select = /** @type {HTMLSelectElement} */ ($('symbol'));
  select.innerHTML = state.symbols
    .map((s) => `<option value="${escapeHtml(s.symbol)}">${escapeHtml(s.symbol)}</option>`)
    .join('');
  const first =
    state.symbols.find((s) => s.symbol === wanted) ||
    state.symbols.find((s) => s.models.gex) ||
    state.symbols[0];
  if (first) selectSymbol(first.symbol);
  connectStream();
  void refreshHealth();
  setInterval(() => void refreshHealth(), HEALTH_REFRESH_MS);
  setInterval(() => void loadHistory(), HISTORY_REFRESH_MS);
}

void main();
