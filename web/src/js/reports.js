// Review reports (工作报告): an area's daily, weekly or monthly report generated from the
// record by the server (`GET /api/v1/reports`), drawn as a printable A4 document — key
// figures against the previous period, cases per day, top issues, a map of the period's
// cases, the assessment with its rankings and red and black lists, overdue cases and the
// visits owed — with every table as CSV and the kept reports listed.
//
// The address holds the report: /reports?area=<code>&period=<day|week|month>&at=<date>, or
// /reports/<code>/<period>/<date>.

import { api, ApiError, authHeaders } from './api.js';
import { codeName, CARE_TAGS, isEn, onLang, PLACE_TYPES } from './i18n.js';
import { svg } from './chart.js';
import { errorText, h, setupHeader, signInNotice } from './ui.js';

const S = {
  area: ['区域', 'Area'],
  period: ['周期', 'Period'],
  day: ['日报', 'Daily'],
  week: ['周报', 'Weekly'],
  month: ['月报', 'Monthly'],
  at: ['日期', 'Date'],
  show: ['生成报告', 'Show report'],
  print: ['打印 / PDF', 'Print / PDF'],
  live: ['重新计算（不用存档）', 'Recompute (not the kept copy)'],
  csv: ['表格下载（CSV）', 'Tables (CSV)'],
  snapshots: ['已存档的报告', 'Kept reports'],
  noSnapshots: ['暂无存档。每个周期结束后自动生成并存档。', 'None yet: each period’s report is kept when it ends.'],
  city: ['全市', 'Whole city'],
  loading: ['正在生成报告…', 'Generating the report…'],
  needArea: ['请填写区域代码（您的令牌限定了区域）。', 'Enter an area code (your token is limited to an area).'],
  kept: ['存档版本，生成于 {t}，此后不再改变', 'Kept copy, generated {t}; it never changes'],
  computed: ['实时生成于 {t}', 'Computed {t}'],
  generated: ['生成数据：事件、网格员、走访与巡查为演示生成，非真实数据', 'Generated data: cases, workers, visits and patrols are generated for the demo, not real'],
  previous: ['上期 {p}', 'previous: {p}'],
  kpis: ['核心指标', 'Key figures'],
  k_cases: ['上报事件', 'Cases reported'],
  k_found: ['网格员自主发现率', 'Found by grid workers'],
  k_missed: ['漏报（他人先报）', 'Missed (reported by others)'],
  k_on_time: ['按期办结率', 'Resolved on time'],
  k_overdue: ['超期未办结', 'Overdue, open'],
  k_visits: ['走访完成率', 'Visits made / due'],
  k_satisfaction: ['回访满意率', 'Satisfaction'],
  k_score: ['综合考核得分', 'Assessment score'],
  daily: ['每日上报与办结', 'Reported and resolved per day'],
  reported: ['上报', 'reported'],
  resolved: ['办结', 'resolved'],
  categories: ['主要问题（按分类）', 'Top issues (by category)'],
  category: ['分类', 'Category'],
  count: ['本期', 'This period'],
  prevCount: ['上期', 'Previous'],
  map: ['事件分布图', 'Map of the period’s cases'],
  mapNote: ['共 {n} 件，图中 {m} 件', '{n} cases, {m} drawn'],
  done: ['已办结', 'finished'],
  open: ['办理中', 'open'],
  overdueDot: ['超期', 'overdue'],
  ranking: ['下级考核排名', 'Ranking of the areas below'],
  rank: ['名次', 'Rank'],
  name: ['名称', 'Name'],
  score: ['得分', 'Score'],
  cases: ['事件', 'Cases'],
  found: ['自主发现', 'Found'],
  onTime: ['按期', 'On time'],
  overdue: ['超期', 'Overdue'],
  visits: ['走访 完成/应访', 'Visits made/due'],
  red: ['红榜', 'Red list (best)'],
  black: ['黑榜', 'Black list (worst)'],
  none: ['无', 'None'],
  workers: ['网格员考核（前 {n} 名，共 {total} 人）', 'Grid workers (first {n} of {total})'],
  grids: ['网格', 'Grids'],
  reports: ['上报', 'Reports'],
  handled: ['办理', 'Handled'],
  overdueCases: ['超期未办结事件（{n} 件）', 'Overdue open cases ({n})'],
  id: ['编号', 'No.'],
  title: ['标题', 'Title'],
  reportedAt: ['上报时间', 'Reported'],
  dueAt: ['期限', 'Due'],
  missedVisits: ['走访欠账（应访 {owed} 次，已访 {done} 次）', 'Visits owed ({owed} due, {done} made)'],
  reason: ['原因', 'Reason'],
  owed: ['应访', 'Due'],
  made: ['已访', 'Made'],
  riskSites: ['走访欠账最多的风险点位', 'Risk sites most behind on visits'],
  other_care: ['其他关爱对象（敏感类别合并）', 'Other people in care (sensitive tags together)'],
  weights: ['得分 = 各项比率的加权平均 × 100，权重：', 'Score = weighted mean of the shares × 100; weights: '],
  w_kept: ['上报有效', 'reports kept'],
  w_found: ['自主发现', 'found'],
  w_on_time: ['按期办结', 'on time'],
  w_visits: ['走访完成', 'visits'],
  w_satisfaction: ['满意', 'satisfaction'],
  drill: ['点击数字可查看明细', 'Numbers link to the cases behind them'],
};

const r = (k, vars = {}) => (S[k] ? S[k][isEn() ? 1 : 0] : k).replace(/\{(\w+)\}/g, (_, v) => String(vars[v] ?? ''));
const pct = (v) => (v == null ? '—' : `${(v * 100).toFixed(1)}%`);
const num = (v) => (v == null ? '—' : typeof v === 'number' ? v.toLocaleString(isEn() ? 'en' : 'zh-CN') : String(v));
const fmtDate = (iso) => (iso ? new Date(iso).toLocaleString(isEn() ? 'en-GB' : 'zh-CN', { hour12: false }) : '');
const SHARES = new Set(['found', 'on_time', 'visits', 'satisfaction']);

/** The report asked by the address. */
function asked() {
  const q = new URLSearchParams(location.search);
  const parts = location.pathname.split('/').filter(Boolean);
  const [, area, period, at] = parts;
  return {
    area: q.get('area') ?? (area && area !== 'city' ? decodeURIComponent(area) : ''),
    period: q.get('period') ?? period ?? 'month',
    at: q.get('at') ?? at ?? '',
    live: q.get('live') === 'true',
  };
}

function query(a) {
  const q = new URLSearchParams();
  if (a.area) q.set('area', a.area);
  q.set('period', a.period);
  if (a.at) q.set('at', a.at);
  return q;
}


/** Cases reported and resolved per day: bars and a line. */
function dailyChart(days) {
  const W = 700;
  const H = 180;
  const pad = { l: 36, r: 8, t: 10, b: 24 };
  const max = Math.max(1, ...days.flatMap((d) => [d.reported, d.resolved]));
  const bw = (W - pad.l - pad.r) / Math.max(1, days.length);
  const y = (v) => H - pad.b - (v * (H - pad.t - pad.b)) / max;
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': r('daily') });
  for (const t of [0, 0.5, 1]) {
    const v = Math.round(max * t);
    chart.append(svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }));
    chart.append(svg('text', { x: pad.l - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v));
  }
  days.forEach((d, i) => {
    const x = pad.l + i * bw;
    chart.append(svg('rect', { x: x + 1, y: y(d.reported), width: Math.max(1, bw - 2), height: H - pad.b - y(d.reported), class: 'bar' }, svg('title', {}, `${d.date}: ${d.reported} ${r('reported')}, ${d.resolved} ${r('resolved')}`)));
    if (days.length <= 10 || i % Math.ceil(days.length / 10) === 0) {
      chart.append(svg('text', { x: x + bw / 2, y: H - 6, 'text-anchor': 'middle', class: 'tick' }, d.date.slice(5)));
    }
  });
  const line = days.map((d, i) => `${i ? 'L' : 'M'}${(pad.l + i * bw + bw / 2).toFixed(1)},${y(d.resolved).toFixed(1)}`).join('');
  if (days.length) chart.append(svg('path', { d: line, class: 'line' }));
  return h('figure', { class: 'figure' }, chart, h('figcaption', {}, h('span', { class: 'key bar' }), r('reported'), ' ', h('span', { class: 'key line' }), r('resolved')));
}

/** The areas' outlines and the period's cases, in an equirectangular frame. */
function mapFigure(map) {
  const W = 700;
  const H = 460;
  // Framed on the cases (2nd to 98th percentile, with a margin) when there are enough of
  // them: far islands would otherwise shrink the mainland to a corner.
  let b = map.areas.bbox;
  if (map.points.length >= 20) {
    const q = (arr, f) => arr[Math.min(arr.length - 1, Math.max(0, Math.round(f * (arr.length - 1))))];
    const xs = map.points.map((p) => p[0]).sort((x, y) => x - y);
    const ys = map.points.map((p) => p[1]).sort((x, y) => x - y);
    const [x0, x1, y0, y1] = [q(xs, 0.02), q(xs, 0.98), q(ys, 0.02), q(ys, 0.98)];
    const mx = Math.max(0.005, (x1 - x0) * 0.15);
    const my = Math.max(0.005, (y1 - y0) * 0.15);
    b = [x0 - mx, y0 - my, x1 + mx, y1 + my];
  }
  if (!b) return h('p', { class: 'muted' }, r('none'));
  const k = Math.cos((((b[1] + b[3]) / 2) * Math.PI) / 180);
  const sx = (W - 20) / Math.max(1e-9, (b[2] - b[0]) * k);
  const sy = (H - 20) / Math.max(1e-9, b[3] - b[1]);
  const s = Math.min(sx, sy);
  const px = (lon) => 10 + (lon - b[0]) * k * s;
  const py = (lat) => H - 10 - (lat - b[1]) * s;
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'report-map', role: 'img', 'aria-label': r('map'), overflow: 'hidden' });
  for (const a of map.areas.outlines) {
    const d = a.rings.map((ring) => ring.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('') + 'Z').join('');
    el.append(svg('path', { d, class: 'outline' }, svg('title', {}, a.name)));
  }
  const cls = ['done', 'open', 'overdue'];
  for (const [x, y, st] of map.points) el.append(svg('circle', { cx: px(x).toFixed(1), cy: py(y).toFixed(1), r: st === 2 ? 2.6 : 1.8, class: `pt ${cls[st]}` }));
  return h(
    'figure',
    { class: 'figure' },
    el,
    h('figcaption', {}, r('mapNote', { n: num(map.points_total), m: num(map.points.length) }), ' · ', h('span', { class: 'key done' }), r('done'), ' ', h('span', { class: 'key open' }), r('open'), ' ', h('span', { class: 'key overdue' }), r('overdueDot')),
  );
}

function table(head, rows, cls = '') {
  return h('table', { class: `report-table ${cls}` }, h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows));
}

/** Shows the cases or visits behind a figure (the drill-down) in a dialog. */
async function explain(q, title) {
  let dlg = document.getElementById('explain');
  if (!dlg) {
    dlg = h('dialog', { id: 'explain', class: 'explain' });
    document.body.append(dlg);
  }
  const close = h('button', { type: 'button', onclick: () => dlg.close() }, isEn() ? 'Close' : '关闭');
  dlg.replaceChildren(h('h3', {}, title), h('p', { class: 'muted' }, r('loading')), close);
  if (!dlg.open) dlg.showModal();
  try {
    const e = await api(`/api/v1/assessment/explain?${q}`);
    let body;
    if (e.cases) {
      body = table([r('id'), r('category'), r('title'), r('reportedAt'), r('dueAt')], e.cases.map((c) => h('tr', {}, h('td', { class: 'num' }, c.id), h('td', {}, c.category), h('td', {}, c.title), h('td', {}, fmtDate(c.reported_at)), h('td', {}, fmtDate(c.due_at)))));
    } else if (e.visits) {
      body = table([r('id'), r('name'), r('reportedAt')], e.visits.map((v) => h('tr', {}, h('td', { class: 'num' }, v.id), h('td', {}, `${v.worker.name} → ${v.target.kind} ${v.target.id}`), h('td', {}, fmtDate(v.at)))));
    } else {
      body = table([r('name'), r('reason'), r('owed'), r('made')], e.subjects.map((x) => h('tr', {}, h('td', {}, x.label), h('td', {}, x.reasons.map((c) => codeName(CARE_TAGS, c) !== c ? codeName(CARE_TAGS, c) : codeName(PLACE_TYPES, c)).join('、')), h('td', { class: 'num' }, x.required), h('td', { class: 'num' }, x.done))));
    }
    dlg.replaceChildren(h('h3', {}, `${title} · ${num(e.count)}`), h('div', { class: 'explain-body' }, body), close);
  } catch (err) {
    dlg.replaceChildren(h('h3', {}, title), h('p', { class: 'error' }, errorText(err)), close);
  }
}

/** A figure opening the cases or visits behind it. */
function drill(b, row, measure, text) {
  const q = new URLSearchParams({ period: b.period.kind, at: b.period.starts, measure, limit: '500' });
  if (row.level === 'worker') q.set('worker', row.id);
  else if (row.code) q.set('area', row.code);
  return h('button', { type: 'button', class: 'link drill', onclick: () => explain(q, `${row.name} · ${measure}`) }, text);
}

/** Downloads a table of the report as CSV (with the token, which a plain link cannot send). */
async function downloadCsv(q, name) {
  const r2 = await fetch(`/api/v1/reports.csv?${q}&table=${name}`, { headers: authHeaders() });
  if (!r2.ok) return;
  const url = URL.createObjectURL(await r2.blob());
  const a = h('a', { href: url, download: `${name}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function rankRows(b, rows, { areaLinks }) {
  return rows.map((c) =>
    h(
      'tr',
      {},
      h('td', { class: 'num' }, c.rank ?? '—'),
      h('td', {}, areaLinks && c.code ? h('a', { href: `/reports?${query({ area: c.code, period: b.period.kind, at: b.period.starts })}` }, c.name) : c.name, c.grids ? h('span', { class: 'muted small' }, ` ${c.grids.join(' ')}`) : null),
      h('td', { class: 'num strong' }, c.score ?? '—'),
      h('td', { class: 'num' }, drill(b, c, 'cases', num(c.figures.cases))),
      h('td', { class: 'num' }, drill(b, c, 'found', pct(c.shares.found))),
      h('td', { class: 'num' }, drill(b, c, 'on_time', pct(c.shares.on_time))),
      h('td', { class: 'num' }, drill(b, c, 'overdue', num(c.figures.overdue))),
      h('td', { class: 'num' }, drill(b, c, 'visits_done', `${num(c.figures.visits_done)}/${num(c.figures.visits_due)}`)),
    ),
  );
}

const rankHead = () => [r('rank'), r('name'), r('score'), r('cases'), r('found'), r('onTime'), r('overdue'), r('visits')];

function lists(l) {
  const one = (key, rows) =>
    h('div', { class: `list ${key}` }, h('h4', {}, r(key)), rows.length ? h('ol', {}, rows.map((x) => h('li', {}, `${x.name} · ${x.score}`))) : h('p', { class: 'muted' }, r('none')));
  return h('div', { class: 'lists' }, one('red', l.red), one('black', l.black));
}

function render(b) {
  const a = b.assessment;
  const stamp = b.snapshot ? r('kept', { t: fmtDate(b.snapshot.created_at) }) : r('computed', { t: fmtDate(b.computed_at) });
  const kpiCard = (k) => {
    const share = SHARES.has(k.key);
    const fmt = share ? pct : num;
    let delta = null;
    if (k.value != null && k.previous != null) {
      const d = k.value - k.previous;
      // Green when better: more is better for shares and the score, fewer for missed and
      // overdue cases; the number of cases is neither.
      const sign = k.key === 'cases' ? 0 : ['missed', 'overdue'].includes(k.key) ? -Math.sign(d) : Math.sign(d);
      delta = h('span', { class: `delta ${sign > 0 ? 'up' : sign < 0 ? 'down' : ''}` }, d > 0 ? '▲' : d < 0 ? '▼' : '＝', share ? ` ${(Math.abs(d) * 100).toFixed(1)}` : ` ${num(Math.abs(Math.round(d * 10) / 10))}`);
    }
    return h('div', { class: 'kpi' }, h('div', { class: 'kpi-label' }, r(`k_${k.key}`)), h('div', { class: 'kpi-value' }, fmt(k.value)), h('div', { class: 'kpi-prev' }, r('previous', { p: fmt(k.previous) }), ' ', delta));
  };
  const weights = Object.entries(a.weights).map(([k, v]) => `${r(`w_${k}`)} ${v}`).join(isEn() ? ', ' : '，');
  const reasons = (code) => (code === 'other_care' ? r('other_care') : codeName(CARE_TAGS, code) !== code ? codeName(CARE_TAGS, code) : codeName(PLACE_TYPES, code));
  return h(
    'div',
    {},
    h('header', { class: 'report-head' }, h('h1', {}, b.title), h('p', { class: 'muted' }, `${b.period_label} · ${r('previous', { p: b.previous_label })} · ${stamp}`), b.generated ? h('p', { class: 'badge generated' }, r('generated')) : null),
    h('section', { class: 'report-section', 'data-part': 'kpis' }, h('h2', {}, r('kpis')), h('div', { class: 'kpis' }, b.kpis.map(kpiCard)), h('p', { class: 'muted small' }, r('weights'), weights, '。', r('drill'))),
    h('section', { class: 'report-section', 'data-part': 'daily' }, h('h2', {}, r('daily')), dailyChart(b.daily)),
    h(
      'section',
      { class: 'report-section two', 'data-part': 'two' },
      h('div', {}, h('h2', {}, r('categories')), table([r('category'), r('count'), r('prevCount')], b.categories.slice(0, 12).map((c) => h('tr', {}, h('td', {}, isEn() ? c.name_en || c.code : c.name || c.code), h('td', { class: 'num' }, num(c.count)), h('td', { class: 'num' }, num(c.previous)))))),
      h('div', {}, h('h2', {}, r('map')), mapFigure(b.map)),
    ),
    h('section', { class: 'report-section', 'data-part': 'ranking' }, h('h2', {}, r('ranking')), table(rankHead(), rankRows(b, a.children, { areaLinks: true })), lists(a.children_lists)),
    h('section', { class: 'report-section', 'data-part': 'workers' }, h('h2', {}, r('workers', { n: a.workers.length, total: a.workers_total })), table(rankHead(), rankRows(b, a.workers, { areaLinks: false })), lists(a.workers_lists)),
    h(
      'section',
      { class: 'report-section', 'data-part': 'overdue' },
      h('h2', {}, r('overdueCases', { n: num(b.overdue_cases.count) })),
      table([r('id'), r('category'), r('title'), r('reportedAt'), r('dueAt')], b.overdue_cases.cases.map((c) => h('tr', {}, h('td', { class: 'num' }, c.id), h('td', {}, c.category), h('td', {}, c.title), h('td', {}, fmtDate(c.reported_at)), h('td', {}, fmtDate(c.due_at))))),
    ),
    h(
      'section',
      { class: 'report-section', 'data-part': 'visits' },
      h('h2', {}, r('missedVisits', { owed: num(b.missed_visits.owed), done: num(b.missed_visits.done) })),
      table([r('reason'), r('owed'), r('made')], b.missed_visits.by_reason.map((x) => h('tr', {}, h('td', {}, reasons(x.reason)), h('td', { class: 'num' }, num(x.owed)), h('td', { class: 'num' }, num(x.done))))),
      h('h3', {}, r('riskSites')),
      table([r('name'), r('category'), r('owed'), r('made')], b.missed_visits.places.map((p) => h('tr', {}, h('td', {}, p.name), h('td', {}, codeName(PLACE_TYPES, p.type)), h('td', { class: 'num' }, num(p.owed)), h('td', { class: 'num' }, num(p.done))))),
    ),
  );
}

const TABLES = ['kpis', 'daily', 'categories', 'children', 'workers', 'lists', 'overdue_cases', 'missed_visits', 'risk_sites'];

async function snapshots(a) {
  const wrap = document.getElementById('snapshots-wrap');
  const list = document.getElementById('snapshots');
  try {
    const q = new URLSearchParams();
    if (a.area) q.set('area', a.area);
    const s = await api(`/api/v1/reports/snapshots?${q}`);
    list.replaceChildren(
      ...(s.snapshots.length
        ? s.snapshots.map((x) => h('li', {}, h('a', { href: `/reports?${query({ area: x.area_code, period: x.period, at: x.starts })}` }, `${x.area_code || r('city')} · ${r(x.period)} · ${x.starts}`)))
        : [h('li', { class: 'muted' }, r('noSnapshots'))]),
    );
    wrap.hidden = false;
  } catch {
    wrap.hidden = true;
  }
}

async function load() {
  const a = asked();
  const form = document.getElementById('report-form');
  form.area.value = a.area;
  form.period.value = a.period;
  form.at.value = a.at;
  form.live.checked = a.live;
  const msg = document.getElementById('report-msg');
  const out = document.getElementById('report');
  msg.textContent = r('loading');
  msg.className = 'form-msg';
  out.setAttribute('aria-busy', 'true');
  const q = query(a);
  if (a.live) q.set('live', 'true');
  try {
    const b = await api(`/api/v1/reports?${q}`);
    out.replaceChildren(render(b));
    document.title = `${b.title} · 民情地图`;
    if (!a.at) form.at.value = b.period.starts;
    msg.textContent = '';
    const links = document.getElementById('csv-links');
    links.replaceChildren(...TABLES.map((t) => h('button', { type: 'button', class: 'csv', dataset: { table: t }, onclick: () => downloadCsv(q, t) }, t)));
    document.getElementById('csv-wrap').hidden = false;
    out.dataset.ready = 'true';
  } catch (e) {
    out.replaceChildren();
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      msg.textContent = '';
      out.replaceChildren(signInNotice(e));
    } else if (e instanceof ApiError && e.status === 400 && !a.area) {
      msg.textContent = r('needArea');
      msg.className = 'form-msg error';
    } else {
      msg.textContent = errorText(e);
      msg.className = 'form-msg error';
    }
  } finally {
    out.removeAttribute('aria-busy');
  }
  snapshots(a);
}

function labels() {
  for (const el of document.querySelectorAll('[data-r]')) el.textContent = r(el.dataset.r);
  document.getElementById('report-form').area.placeholder = r('city');
}

function init() {
  setupHeader({ onAuthChange: load });
  labels();
  onLang(() => {
    labels();
    load();
  });
  document.getElementById('report-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const a = { area: f.area.value.trim(), period: f.period.value, at: f.at.value, live: f.live.checked };
    const q = query(a);
    if (a.live) q.set('live', 'true');
    history.pushState(null, '', `/reports?${q}`);
    load();
  });
  document.getElementById('print').addEventListener('click', () => window.print());
  window.addEventListener('popstate', load);
  load();
}

init();
