// chain-worker dashboard: plain browser JavaScript (an ES module), no framework, no build step.
// Charts are Apache ECharts (the global `echarts` from /vendor/echarts.min.js, loaded before this module).
//
// Data flow: /api/symbols once; the selected symbol's two models from /api/models/{gex|heatmap}/{U};
// /events (SSE) says when any model changed, and the page refetches only the selected symbol's changed
// model; /api/epochs and /api/analytics/fetch_latency feed the health panel (on change and every 15 s).
//
// Kept fast for 20,000-contract chains: a model is fetched once per published version (gzip on the
// wire), parsed once, and only the selected expiration / strategy / side is turned into chart data;
// charts use canvas, `large` bars and progressive heatmap rendering, and no animation on big series.

/* global echarts */

const HEALTH_REFRESH_MS = 15_000;
const LATENCY_WINDOW_MS = 3_600_000;
const RECONNECT_MS = 3_000;
const MODELS = ['gex', 'heatmap'];
/** The GEX chart opens on strikes within this percent of spot. */
const GEX_VIEW_PCT = 6;

const COLORS = {
  call: '#1f9d55',
  put: '#d0363a',
  net: '#2f6fdb',
  profile: '#8a4fd8',
  spot: '#1d2330',
  zero: '#c77c02',
};
const HEAT_COLORS = [
  '#313695',
  '#4575b4',
  '#74add1',
  '#abd9e9',
  '#e0f3f8',
  '#ffffbf',
  '#fee090',
  '#fdae61',
  '#f46d43',
  '#d73027',
  '#a50026',
];

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

const state = {
  /** @type {{symbol: string, ticker: string, models: Record<string, boolean>}[]} */
  symbols: [],
  symbol: '',
  /** GEX expiration tab: 'All' or YYYY-MM-DD. */
  tab: 'All',
  hm: { expiration: '', strategy: 'butterfly', side: 'call' },
  /** Documents of the selected symbol. */
  docs: { gex: null, heatmap: null },
  /** Latest SSE note per `${model}:${symbol}`, and how many arrived (to know when a refetch is due). */
  notes: new Map(),
  noteSeq: 0,
  stream: 'connecting',
};

/** Measurements exposed for tests and curious operators: window.__cw.timings. */
const stats = { timings: [], renders: { gex: 0, heatmap: 0 }, errors: [] };
window.__cw = stats;

// ── small helpers ─────────────────────────────────────────────────────────────

function escapeHtml(s) {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

function fmtMoney(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  const sign = v < 0 ? '-' : '';
  if (a >= 1e12) return `${sign}$${(a / 1e12).toFixed(2)}T`;
  if (a >= 1e9) return `${sign}$${(a / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${sign}$${(a / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${sign}$${(a / 1e3).toFixed(1)}K`;
  return `${sign}$${a.toFixed(0)}`;
}

function fmtLevel(v) {
  return v === null || v === undefined ? '–' : String(v);
}

function fmtAgo(ms) {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function fmtSec(s) {
  if (s === null || s === undefined) return '–';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
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
  debounce(() => Object.values(charts).forEach((c) => c.resize()), 100),
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

// ── GEX ──────────────────────────────────────────────────────────────────────

let gexZoomKey = '';

function gexRows(doc) {
  if (state.tab === 'All') return doc.by_strike;
  const e = doc.by_expiration[state.tab];
  return e ? e.by_strike : [];
}

function renderGexLevels(doc) {
  const rows = gexRows(doc);
  const totals = state.tab === 'All' ? doc.totals : (doc.by_expiration[state.tab] || {}).totals;
  const lv = doc.levels;
  const parts = [
    ['spot', fmtLevel(doc.spot)],
    ['zero γ', fmtLevel(lv.zero_gamma)],
    ['call wall', fmtLevel(lv.call_wall)],
    ['put wall', fmtLevel(lv.put_wall)],
    ['abs γ', fmtLevel(lv.abs_gamma_strike)],
  ];
  if (totals)
    parts.push(
      ['net', fmtMoney(totals.net)],
      ['calls', fmtMoney(totals.calls)],
      ['puts', fmtMoney(totals.puts)],
    );
  parts.push(['strikes', String(rows.length)]);
  $('gex-levels').innerHTML = parts
    .map(([k, v]) => `<span>${escapeHtml(k)} <b>${escapeHtml(v)}</b></span>`)
    .join('');
}

function renderGex() {
  const doc = state.docs.gex;
  const el = $('gex-chart');
  const c = chart('gex-chart');
  if (!doc) {
    c.clear();
    el.dataset.barCount = '0';
    el.dataset.epochId = '';
    $('gex-levels').textContent = 'no GEX model published yet';
    return;
  }
  const t0 = performance.now();
  if (state.tab !== 'All' && !doc.by_expiration[state.tab]) state.tab = 'All';
  renderTabs();
  renderGexLevels(doc);
  const rows = gexRows(doc);
  const big = rows.length > 400; // ECharts `large` bars: one path per series instead of one per bar
  const lv = doc.levels;
  const marks = [];
  const mark = (value, name, color, type) => {
    if (value === null || value === undefined || !Number.isFinite(value)) return;
    marks.push({
      name,
      xAxis: value,
      lineStyle: { color, type, width: 1.5 },
      label: { formatter: `${name} ${value}`, color, position: 'insideEndTop', fontSize: 10 },
    });
  };
  mark(doc.spot, 'spot', COLORS.spot, 'solid');
  mark(lv.zero_gamma, 'zero γ', COLORS.zero, 'dashed');
  mark(lv.call_wall, 'call wall', COLORS.call, 'dashed');
  mark(lv.put_wall, 'put wall', COLORS.put, 'dashed');

  // x range: every strike and level, padded; the profile is clipped to it.
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    if (r.strike < lo) lo = r.strike;
    if (r.strike > hi) hi = r.strike;
  }
  for (const m of marks) {
    lo = Math.min(lo, m.xAxis);
    hi = Math.max(hi, m.xAxis);
  }
  if (!Number.isFinite(lo)) {
    lo = doc.spot ? doc.spot * 0.9 : 0;
    hi = doc.spot ? doc.spot * 1.1 : 1;
  }
  const pad = Math.max((hi - lo) * 0.02, 1);
  const barStyle = { large: big, largeThreshold: 400, barMaxWidth: 14 };
  const option = {
    // Live data: no animation (it would also delay 'finished' by a second on every update).
    animation: false,
    grid: { left: 70, right: 70, top: 40, bottom: 60 },
    legend: { top: 0, data: ['Calls', 'Puts', 'Net', 'Profile (all exps)'] },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'line' },
      valueFormatter: (v) => fmtMoney(v),
    },
    xAxis: {
      type: 'value',
      name: 'strike',
      nameLocation: 'middle',
      nameGap: 28,
      min: Math.floor(lo - pad),
      max: Math.ceil(hi + pad),
      axisLabel: { formatter: (v) => String(Math.round(v * 100) / 100), hideOverlap: true },
      splitLine: { show: false },
    },
    yAxis: [
      { type: 'value', name: 'GEX $/1%', axisLabel: { formatter: (v) => fmtMoney(v) } },
      {
        type: 'value',
        name: 'profile',
        axisLabel: { formatter: (v) => fmtMoney(v) },
        splitLine: { show: false },
      },
    ],
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      { type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 16, bottom: 6 },
    ],
    series: [
      {
        name: 'Calls',
        type: 'bar',
        stack: 'cp',
        data: rows.map((r) => [r.strike, r.call]),
        itemStyle: { color: COLORS.call },
        ...barStyle,
      },
      {
        name: 'Puts',
        type: 'bar',
        stack: 'cp',
        data: rows.map((r) => [r.strike, r.put]),
        itemStyle: { color: COLORS.put },
        ...barStyle,
      },
      {
        name: 'Net',
        type: 'bar',
        data: rows.map((r) => [r.strike, r.net]),
        itemStyle: { color: COLORS.net },
        ...barStyle,
        markLine: {
          symbol: 'none',
          silent: true,
          animation: false,
          data: marks,
        },
      },
      {
        name: 'Profile (all exps)',
        type: 'line',
        yAxisIndex: 1,
        showSymbol: false,
        clip: true,
        data: doc.profile.map((p) => [p.level, p.net]),
        lineStyle: { color: COLORS.profile, width: 1.5 },
        itemStyle: { color: COLORS.profile },
        animation: false,
      },
    ],
  };
  // Keep the user's zoom across live updates of the same view; reset it when the view changes, starting
  // on the strikes within GEX_VIEW_PCT of spot (the profile spans ±20 %; zoom out with the wheel/slider).
  const zoomKey = `${state.symbol}|${state.tab}`;
  if (zoomKey === gexZoomKey) delete option.dataZoom;
  else if (doc.spot) {
    const from = Math.max(lo - pad, doc.spot * (1 - GEX_VIEW_PCT / 100));
    const to = Math.min(hi + pad, doc.spot * (1 + GEX_VIEW_PCT / 100));
    if (to > from) {
      for (const z of option.dataZoom)
        Object.assign(z, { startValue: Math.floor(from), endValue: Math.ceil(to) });
    }
  }
  gexZoomKey = zoomKey;
  const finished = whenFinished(c);
  c.setOption(option, { replaceMerge: ['series'] });
  const setMs = performance.now() - t0;
  el.dataset.barCount = String(rows.length);
  el.dataset.epochId = doc.epoch_id;
  el.dataset.expiration = state.tab;
  el.dataset.symbol = doc.symbol;
  $('gex-sub').textContent = `${state.tab === 'All' ? 'all expirations' : state.tab} · ${doc.ts ?? ''}`;
  stats.renders.gex++;
  void finished.then(() => {
    el.dataset.renderMs = String(Math.round(performance.now() - t0));
    record({
      model: 'gex',
      phase: 'render',
      ms: performance.now() - t0,
      setOptionMs: setMs,
      items: rows.length,
    });
  });
}

function renderTabs() {
  const doc = state.docs.gex;
  const exps = doc ? Object.keys(doc.by_expiration).sort() : [];
  const tabs = ['All', ...exps];
  const nav = $('exp-tabs');
  const html = tabs
    .map(
      (t) =>
        `<button type="button" role="tab" data-testid="exp-tab" data-expiration="${escapeHtml(t)}" aria-selected="${t === state.tab}">${escapeHtml(t)}</button>`,
    )
    .join('');
  if (nav.dataset.html !== html) {
    nav.innerHTML = html;
    nav.dataset.html = html;
  }
}

$('exp-tabs').addEventListener('click', (ev) => {
  const b = ev.target instanceof HTMLElement ? ev.target.closest('button[data-expiration]') : null;
  if (!b) return;
  state.tab = b.dataset.expiration || 'All';
  renderGex();
  renderHeatmap();
});

// ── heatmap ──────────────────────────────────────────────────────────────────

let hmTiles = [];
let hmZoomKey = '';

/** The tiles of the selected expiration / strategy / side as heatmap cells. */
function heatmapCells(doc, expiration, strategy, side) {
  const e = doc.expirations[expiration];
  const cells = { cols: [], strikes: [], data: [], tiles: [] };
  if (!e) return cells;
  if (strategy === 'single') {
    cells.cols = [side];
    cells.strikes = Object.keys(e.single)
      .filter((k) => e.single[k] && e.single[k][side])
      .sort(byNumber);
    cells.strikes.forEach((k, y) => {
      const tile = e.single[k][side];
      cells.data.push([0, y, tile.value]);
      cells.tiles.push({ tile, strike: k, width: null });
    });
    return cells;
  }
  const table = (e[strategy] && e[strategy][side]) || {};
  cells.cols = doc.widths.map(String);
  const colIndex = new Map(cells.cols.map((w, i) => [w, i]));
  cells.strikes = Object.keys(table).sort(byNumber);
  cells.strikes.forEach((k, y) => {
    for (const [w, tile] of Object.entries(table[k])) {
      let x = colIndex.get(w);
      if (x === undefined) {
        x = cells.cols.length;
        cells.cols.push(w);
        colIndex.set(w, x);
      }
      cells.data.push([x, y, tile.value]);
      cells.tiles.push({ tile, strike: k, width: w });
    }
  });
  return cells;
}

function quantile(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor(q * (sorted.length - 1))))];
}

let hmClickWired = false;
let hmRows = 0;
let hmLabelStep = 1;

/** Shows every n-th strike label so they never overlap, for the rows visible at the current zoom. */
function fitStrikeLabels(c) {
  const z = (c.getOption().dataZoom || [])[0];
  const shown = z ? (hmRows * ((z.end ?? 100) - (z.start ?? 0))) / 100 : hmRows;
  const plotHeight = Math.max(100, $('heatmap-chart').clientHeight - 94);
  const step = Math.max(1, Math.ceil((shown * 14) / plotHeight));
  if (step === hmLabelStep) return;
  hmLabelStep = step;
  c.setOption({ yAxis: { axisLabel: { interval: (i) => i % hmLabelStep === 0 } } });
}

function renderHeatmap() {
  const doc = state.docs.heatmap;
  const el = $('heatmap-chart');
  const c = chart('heatmap-chart');
  if (!hmClickWired) {
    hmClickWired = true;
    c.on('click', (p) => showTile(hmTiles[p.dataIndex]));
    c.on('datazoom', () => fitStrikeLabels(c));
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
  // The GEX tab drives the heatmap when it names a date with tiles; otherwise the heatmap keeps its own.
  if (state.tab !== 'All' && doc.expirations[state.tab]) state.hm.expiration = state.tab;
  if (!doc.expirations[state.hm.expiration]) state.hm.expiration = exps[0] || '';
  const optionsHtml = exps
    .map(
      (d) =>
        `<option value="${escapeHtml(d)}">${escapeHtml(d)} · ${escapeHtml(doc.expirations[d].root)}</option>`,
    )
    .join('');
  if (select.dataset.html !== optionsHtml) {
    select.innerHTML = optionsHtml;
    select.dataset.html = optionsHtml;
  }
  select.value = state.hm.expiration;
  const { expiration, strategy, side } = state.hm;
  const cells = heatmapCells(doc, expiration, strategy, side);
  hmTiles = cells.tiles;
  const values = cells.data.map((d) => d[2]).sort((a, b) => a - b);
  let vmin = quantile(values, 0.02);
  let vmax = quantile(values, 0.98);
  if (vmin === vmax) {
    vmin -= 1;
    vmax += 1;
  }
  const many = cells.data.length > 2000;
  const tall = cells.strikes.length > 60;
  const option = {
    animation: false,
    grid: { left: 72, right: tall ? 46 : 20, top: 16, bottom: 78 },
    tooltip: {
      position: 'top',
      confine: true,
      formatter: (p) => {
        const t = hmTiles[p.dataIndex];
        if (!t) return '';
        const head =
          t.width === null
            ? `${escapeHtml(t.strike)} ${escapeHtml(side)}`
            : `${escapeHtml(t.strike)} · width ${escapeHtml(t.width)}`;
        return `<b>${head}</b><br/>value <b>${t.tile.value.toFixed(2)}</b><br/><span style="font-family:monospace">${escapeHtml(t.tile.description)}</span>`;
      },
    },
    xAxis: {
      type: 'category',
      data: cells.cols.map((w) => (strategy === 'single' ? w : `w ${w}`)),
      splitArea: { show: true },
    },
    yAxis: {
      type: 'category',
      data: cells.strikes,
      splitArea: { show: true },
    },
    visualMap: {
      type: 'continuous',
      dimension: 2,
      min: vmin,
      max: vmax,
      calculable: true,
      precision: 2,
      orient: 'horizontal',
      left: 'center',
      bottom: 4,
      itemHeight: 220,
      inRange: { color: HEAT_COLORS },
    },
    dataZoom: tall
      ? [
          { type: 'inside', yAxisIndex: 0, filterMode: 'none' },
          { type: 'slider', yAxisIndex: 0, filterMode: 'none', right: 8, width: 14 },
        ]
      : [],
    series: [
      {
        type: 'heatmap',
        data: cells.data,
        progressive: 5000,
        progressiveThreshold: 10000,
        label: {
          show: cells.data.length <= 160,
          formatter: (p) => Number(p.value[2]).toFixed(2),
          fontSize: 10,
        },
        emphasis: { itemStyle: { borderColor: '#111', borderWidth: 1 } },
        itemStyle: { borderColor: many ? 'transparent' : '#fff', borderWidth: many ? 0 : 0.5 },
      },
    ],
  };
  const zoomKey = `${state.symbol}|${expiration}|${strategy}|${side}|${cells.strikes.length}`;
  if (tall && zoomKey !== hmZoomKey) {
    // Start on about 60 strikes around spot; the slider shows the rest.
    let mid = cells.strikes.findIndex((k) => doc.spot !== null && Number(k) >= doc.spot);
    if (mid < 0) mid = Math.floor(cells.strikes.length / 2);
    const start = Math.max(0, mid - 30);
    const end = Math.min(cells.strikes.length - 1, start + 60);
    option.dataZoom.forEach((z) => {
      z.startValue = start;
      z.endValue = end;
    });
  } else if (tall) {
    option.dataZoom.forEach((z) => {
      delete z.startValue;
      delete z.endValue;
    });
  }
  hmZoomKey = zoomKey;
  const finished = whenFinished(c);
  c.setOption(option, { replaceMerge: ['series', 'dataZoom'] });
  hmRows = cells.strikes.length;
  fitStrikeLabels(c);
  const setMs = performance.now() - t0;
  el.dataset.tileCount = String(cells.data.length);
  el.dataset.strikeCount = String(cells.strikes.length);
  el.dataset.epochId = doc.epoch_id;
  el.dataset.expiration = expiration;
  el.dataset.strategy = strategy;
  el.dataset.side = side;
  el.dataset.symbol = doc.symbol;
  const e = doc.expirations[expiration];
  $('hm-sub').textContent = e
    ? `${e.root} (${e.settlement}) · ${cells.data.length} tiles · window ${doc.window_pct}%`
    : 'no tiles';
  stats.renders.heatmap++;
  void finished.then(() => {
    el.dataset.renderMs = String(Math.round(performance.now() - t0));
    record({
      model: 'heatmap',
      phase: 'render',
      ms: performance.now() - t0,
      setOptionMs: setMs,
      items: cells.data.length,
    });
  });
}

function showTile(t) {
  const el = $('tile-detail');
  if (!t) {
    el.textContent = 'Click a tile for its order.';
    return;
  }
  const legs = t.tile.legs.map((l) => `${l.qty > 0 ? '+' : ''}${l.qty} ${l.strike}${l.type}`).join('  ');
  el.textContent = `${t.tile.description}\nlegs: ${legs}   value ${t.tile.value.toFixed(2)}`;
}

function wireSegmented(id, key) {
  $(id).addEventListener('click', (ev) => {
    const b = ev.target instanceof HTMLElement ? ev.target.closest('button[data-value]') : null;
    if (!b) return;
    state.hm[key] = b.dataset.value;
    for (const x of $(id).querySelectorAll('button')) x.setAttribute('aria-pressed', String(x === b));
    showTile(null);
    renderHeatmap();
  });
}
wireSegmented('hm-strategy', 'strategy');
wireSegmented('hm-side', 'side');

$('hm-expiration').addEventListener('change', (ev) => {
  state.hm.expiration = /** @type {HTMLSelectElement} */ (ev.target).value;
  showTile(null);
  renderHeatmap();
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

/** Fetches a model of the selected symbol; loops while a newer note (or another symbol) arrived meanwhile. */
async function loadModel(model) {
  const slot = loads[model];
  if (slot.running) return; // the running loop checks for newer notes when it ends
  slot.running = true;
  try {
    for (;;) {
      const symbol = state.symbol;
      const seqAtStart = noteFor(model, symbol)?.seq ?? 0;
      const t0 = performance.now();
      let doc = null;
      const res = await fetch(`/api/models/${model}/${encodeURIComponent(symbol)}`, { cache: 'no-cache' });
      if (res.ok) {
        const text = await res.text();
        const t1 = performance.now();
        doc = JSON.parse(text);
        record({ model, phase: 'fetch', ms: t1 - t0, parseMs: performance.now() - t1, bytes: text.length });
      } else if (res.status !== 404) {
        throw new Error(`${model} ${symbol}: HTTP ${res.status}`);
      }
      if (symbol !== state.symbol) continue;
      state.docs[model] = doc;
      if (model === 'gex') renderGex();
      else renderHeatmap();
      renderHeader();
      const note = noteFor(model, symbol);
      if (note && note.seq > seqAtStart && doc && differs(note, doc)) continue;
      if (symbol === state.symbol) break;
    }
    showError('');
  } catch (err) {
    stats.errors.push(String(err));
    showError(`Could not load a model: ${err.message}`);
  } finally {
    slot.running = false;
  }
}

function renderHeader() {
  const gex = state.docs.gex;
  const hm = state.docs.heatmap;
  const epochId = (gex || hm || {}).epoch_id || '';
  const el = $('epoch');
  el.textContent = epochId ? `epoch ${epochId}` : 'no model yet';
  el.dataset.epochId = epochId;
  const stale = Boolean((gex && gex.stale) || (hm && hm.stale));
  $('stale-badge').hidden = !stale;
  document.title = `chain-worker · ${state.symbol}${stale ? ' (stale)' : ''}`;
}

function selectSymbol(symbol) {
  state.symbol = symbol;
  state.docs = { gex: null, heatmap: null };
  state.tab = 'All';
  $('symbol').value = symbol;
  history.replaceState(null, '', `#${encodeURIComponent(symbol)}`);
  showTile(null);
  for (const m of MODELS) void loadModel(m);
}

$('symbol').addEventListener('change', (ev) =>
  selectSymbol(/** @type {HTMLSelectElement} */ (ev.target).value),
);

// ── live stream ──────────────────────────────────────────────────────────────

function setStream(s) {
  state.stream = s;
  const el = $('stream-status');
  el.dataset.state = s;
  el.textContent = s === 'live' ? 'live' : s === 'disconnected' ? 'disconnected' : 'connecting…';
  document.body.dataset.stream = s;
}

function onNote(note) {
  note.seq = ++state.noteSeq;
  state.notes.set(`${note.model}:${note.symbol}`, note);
  scheduleHealth();
  renderHealthBadges();
  if (note.symbol === state.symbol && differs(note, state.docs[note.model])) void loadModel(note.model);
}

function connectStream() {
  const params = new URLSearchParams({
    symbols: state.symbols.map((s) => s.symbol).join(','),
    models: MODELS.join(','),
  });
  const es = new EventSource(`/events?${params}`);
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
  es.addEventListener('error', () => {
    setStream('disconnected');
    // EventSource retries by itself unless the server refused the stream (then readyState is CLOSED).
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      setTimeout(connectStream, RECONNECT_MS);
    }
  });
}

// ── health panel ─────────────────────────────────────────────────────────────

let lastEpochs = null;

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
    return `<span class="${cls}" data-testid="model-badge" data-model="${m}" data-stale="${Boolean(n.stale)}" title="${escapeHtml(n.epoch_id)} · ${escapeHtml(n.ts || '')}">${m}${n.stale ? ' stale' : ''}</span>`;
  }).join(' ');
}

function renderHealth(view) {
  lastEpochs = view;
  const now = Date.now();
  $('health-rows').innerHTML = view.symbols
    .map((s) => {
      const health = s.last_health || '–';
      return `<tr data-testid="health-row" data-symbol="${escapeHtml(s.symbol)}" data-health="${escapeHtml(health)}" data-epoch-id="${escapeHtml(s.epoch_id || '')}">
        <td><b>${escapeHtml(s.symbol)}</b></td>
        <td title="${s.last_cycle_ts ? new Date(s.last_cycle_ts * 1000).toISOString() : ''}">${s.last_cycle_ts ? fmtAgo(now - s.last_cycle_ts * 1000) : '–'}</td>
        <td><span class="badge health-${escapeHtml(health)}">${escapeHtml(health)}</span></td>
        <td class="epoch-id" title="${escapeHtml(s.epoch_id || '')} · ${escapeHtml(s.status || '')}"><span class="mono">${escapeHtml(s.epoch_id || '–')}</span><br/><span class="muted">${fmtSec(s.epoch_age_sec)} · ${escapeHtml(s.status || '–')}</span></td>
        <td data-testid="dormant-count">${s.dormant_count}</td>
        <td class="models">${modelBadges(s.symbol)}</td>
      </tr>`;
    })
    .join('');
  const a = view.analytics;
  $('analytics-summary').textContent =
    `snapshots ${a.snapshots} · failed ${a.failed_cycles} · SLA violations ${a.sla_violations} · ` +
    `fetch latency avg ${a.latency_ms.avg ?? '–'} ms, p95 ${a.latency_ms.p95 ?? '–'} ms (n=${a.latency_ms.count})`;
  $('health-updated').textContent = `updated ${new Date(view.ts * 1000).toLocaleTimeString()}`;
}

function renderLatency(points) {
  const bySymbol = new Map();
  for (const p of points) {
    if (!bySymbol.has(p.symbol)) bySymbol.set(p.symbol, []);
    bySymbol.get(p.symbol).push([p.ts * 1000, p.value]);
  }
  const c = chart('latency-chart');
  c.setOption(
    {
      animation: false,
      grid: { left: 50, right: 12, top: 24, bottom: 24 },
      legend: { top: 0 },
      tooltip: { trigger: 'axis', valueFormatter: (v) => `${Math.round(v)} ms` },
      xAxis: {
        type: 'time',
        min: Date.now() - LATENCY_WINDOW_MS,
        max: Date.now(),
        axisLabel: {
          hideOverlap: true,
          formatter: { hour: '{HH}:{mm}', minute: '{HH}:{mm}', second: '{HH}:{mm}:{ss}' },
        },
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
    stats.errors.push(String(err));
  } finally {
    healthRunning = false;
  }
}
const scheduleHealth = debounce(() => void refreshHealth(), 500);

// ── start ────────────────────────────────────────────────────────────────────

async function main() {
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
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first =
    state.symbols.find((s) => s.symbol === wanted) ||
    state.symbols.find((s) => s.models.gex) ||
    state.symbols[0];
  if (first) selectSymbol(first.symbol);
  connectStream();
  void refreshHealth();
  setInterval(() => void refreshHealth(), HEALTH_REFRESH_MS);
}

void main();
