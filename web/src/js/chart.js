// A small SVG line chart of cases reported and resolved over time (no chart library).

import { t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element: `svg('rect', {x: 1}, child, 'text', …)`. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Daily points summed into weeks when there are too many to read. */
function bucket(trend) {
  const pts = trend.points || [];
  if (trend.unit !== 'day' || pts.length <= 120) return { unit: trend.unit, points: pts };
  const out = [];
  for (let i = 0; i < pts.length; i += 7) {
    const chunk = pts.slice(i, i + 7);
    out.push({
      period: chunk[0].period,
      reported: chunk.reduce((s, p) => s + p.reported, 0),
      resolved: chunk.reduce((s, p) => s + p.resolved, 0),
    });
  }
  return { unit: 'week', points: out };
}

/** The trend chart of a stats answer's `trend` (`{unit, points: [{period, reported, resolved}]}`). */
export function trendChart(trend) {
  const { unit, points } = bucket(trend || { points: [] });
  const W = 340;
  const H = 150;
  const pad = { l: 34, r: 8, t: 10, b: 22 };
  const max = Math.max(1, ...points.flatMap((p) => [p.reported, p.resolved]));
  const x = (i) => pad.l + (points.length <= 1 ? 0 : (i * (W - pad.l - pad.r)) / (points.length - 1));
  const y = (v) => H - pad.b - (v * (H - pad.t - pad.b)) / max;
  const line = (key) => points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join('');
  const total = (key) => points.reduce((s, p) => s + p[key], 0);
  const label = `${t('area.trend')} (${t(`area.trend.${unit}`)}): ${t('area.trend.reported')} ${total('reported')}, ${t('area.trend.resolved')} ${total('resolved')}`;
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'trend', role: 'img', 'aria-label': label },
    svg('title', {}, label),
    svg('line', { x1: pad.l, y1: H - pad.b, x2: W - pad.r, y2: H - pad.b, class: 'axis' }),
    svg('line', { x1: pad.l, y1: pad.t, x2: pad.l, y2: H - pad.b, class: 'axis' }),
    svg('text', { x: pad.l - 4, y: pad.t + 8, 'text-anchor': 'end', class: 'tick' }, max),
    svg('text', { x: pad.l - 4, y: H - pad.b, 'text-anchor': 'end', class: 'tick' }, 0),
  );
  if (points.length) {
    chart.append(
      svg('text', { x: pad.l, y: H - 6, class: 'tick' }, points[0].period),
      svg('text', { x: W - pad.r, y: H - 6, 'text-anchor': 'end', class: 'tick' }, points[points.length - 1].period),
      svg('path', { d: line('reported'), class: 'series reported' }),
      svg('path', { d: line('resolved'), class: 'series resolved' }),
    );
  }
  const key = document.createElement('p');
  key.className = 'trend-key small';
  key.innerHTML = '';
  key.append(
    Object.assign(document.createElement('span'), { className: 'k reported', textContent: t('area.trend.reported') }),
    ' ',
    Object.assign(document.createElement('span'), { className: 'k resolved', textContent: t('area.trend.resolved') }),
    ` · ${t(`area.trend.${unit}`)}`,
  );
  const wrap = document.createElement('div');
  wrap.className = 'trend-wrap';
  wrap.append(chart, key);
  return wrap;
}

/**
 * Horizontal bars of counts (`rows`: `[{label, value, color?}]`; a value may be a string
 * such as `"<5"`, drawn as a short hatched bar), with the numbers written beside them.
 * `caption` names the chart for screen readers. Rows of 0 are kept (a 0 says something).
 */
export function barChart(rows, { caption = '', format = (v) => String(v), color = '#1565c0' } = {}) {
  const nums = rows.map((r) => (typeof r.value === 'number' ? r.value : 0));
  const max = Math.max(1, ...nums);
  const wrap = document.createElement('div');
  wrap.className = 'bars';
  wrap.setAttribute('role', 'list');
  if (caption) wrap.setAttribute('aria-label', caption);
  for (const r of rows) {
    const row = document.createElement('div');
    row.className = 'bar-row';
    row.setAttribute('role', 'listitem');
    const name = Object.assign(document.createElement('span'), { className: 'bar-label', textContent: r.label, title: r.label });
    const track = Object.assign(document.createElement('span'), { className: 'bar-track' });
    const fill = Object.assign(document.createElement('span'), { className: 'bar-fill' });
    const small = typeof r.value !== 'number';
    if (small) fill.classList.add('small');
    fill.style.width = small ? '3px' : `${Math.max(r.value > 0 ? 1.5 : 0, (100 * r.value) / max)}%`;
    fill.style.background = small ? '' : r.color || color;
    track.append(fill);
    const value = Object.assign(document.createElement('span'), { className: 'bar-value', textContent: small ? r.value : format(r.value) });
    row.append(name, track, value);
    wrap.append(row);
  }
  return wrap;
}

/** A bar of shares (`parts`: `[{label, value, color}]`), e.g. registered and floating. */
export function shareBar(parts, { format = (v) => String(v) } = {}) {
  const total = parts.reduce((s, p) => s + (typeof p.value === 'number' ? p.value : 0), 0);
  const wrap = document.createElement('div');
  wrap.className = 'share';
  const bar = Object.assign(document.createElement('div'), { className: 'share-bar' });
  bar.setAttribute('aria-hidden', 'true');
  const key = Object.assign(document.createElement('p'), { className: 'share-key small' });
  for (const p of parts) {
    const n = typeof p.value === 'number' ? p.value : 0;
    if (total > 0 && n > 0) {
      const seg = document.createElement('span');
      seg.style.width = `${(100 * n) / total}%`;
      seg.style.background = p.color;
      bar.append(seg);
    }
    const k = Object.assign(document.createElement('span'), { className: 'k' });
    const sw = Object.assign(document.createElement('i'), { className: 'swatch' });
    sw.style.background = p.color;
    const pct = total > 0 && typeof p.value === 'number' ? ` (${Math.round((100 * n) / total)}%)` : '';
    k.append(sw, ` ${p.label} ${typeof p.value === 'number' ? format(p.value) : p.value}${pct}`);
    key.append(k, ' ');
  }
  wrap.append(bar, key);
  return wrap;
}
