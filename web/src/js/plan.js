// The planning view (/plan, planner role): choose a community, open (or resume) a draft of
// its grids, edit it on the map — split, reshape, merge, move a boundary, create, retire,
// change figures — and after every operation see the validation (faults in red on the map
// and listed, households and population per grid, what publishing would move), then
// publish, rebase or abandon. API: src/http/plans.rs.
//
// Drawing is plain MapLibre: clicks add vertices of a line (split, new boundary line) or a
// polygon (reshape, a piece to give, a new grid); double-click, Enter or 完成 finishes (a
// click on a polygon's first vertex closes it), Escape cancels.

import { ApiError, authHeaders, getToken, loadConfig } from './api.js';
import { fmtNumber, fmtTime, localName, onLang, t } from './i18n.js';
import { areasStyle, createMap, FONT } from './mapkit.js';
import { errorText, h, setupHeader, signInNotice } from './ui.js';

const mq = (window.mq = { map: null, draft: null, community: null, selected: [], ops: 0, busy: false, errors: [], lastError: null, published: null, ready: null });
const $ = (id) => document.getElementById(id);

/** Colours of draft grids by state; faults. */
const COLORS = { unchanged: '#42a5f5', changed: '#ffa726', new: '#66bb6a', fault: '#e53935', bounds: '#fb8c00', selected: '#0d47a1', old: '#78909c' };
/** Faults about geometry (drawn red); the others are figures out of bounds. */
const GEOMETRY_FAULTS = ['overlap', 'gap', 'outside_parent', 'invalid_geometry'];
/** Tools that draw, and what they draw. */
const DRAWN = { split: 'line', line: 'line', reshape: 'polygon', give: 'polygon', create: 'polygon' };
/** How many selected grids each tool needs: [min, max]. */
const NEEDS = { split: [1, 1], reshape: [1, 1], merge: [2, 1000], line: [2, 2], give: [2, 2], create: [0, 1000], retire: [1, 1000], figures: [1, 1] };
const EMPTY = { type: 'FeatureCollection', features: [] };

let map;
let draft = null; // the open plan's FeatureCollection (with plan, validation, closed)
let selected = []; // draft keys, in the order clicked
let draw = null; // {tool, kind, pts, cursor}
let pendingCreate = null; // polygon drawn for a new grid, waiting for its figures
let figuresFor = null; // key whose figures are edited
let communities = []; // communities in view, for the list

/** A request keeping the whole `error` object (report, areas, location) on failure. */
async function call(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json', ...authHeaders() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', navigator.onLine === false ? 'offline' : `network error: ${e.message}`);
  }
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!r.ok) {
    const err = (data && data.error) || {};
    const e = new ApiError(r.status, err.code || `http_${r.status}`, err.message || `${r.status} ${r.statusText}`);
    e.detail = err;
    throw e;
  }
  return data;
}

const fmtArea = (m2) => (m2 == null ? '—' : `${m2 < 10 ? Number(m2.toPrecision(2)) : fmtNumber(Math.round(m2))} ${t('plan.m2')}`);
const shortCode = (code) => (code || '').slice(-3);
const planId = () => draft?.plan?.id;
const isDraft = () => draft?.plan?.status === 'draft';
const gridByKey = (k) => draft?.features.find((f) => f.id === k);
const gridLabel = (k) => {
  const g = gridByKey(k);
  return g ? g.properties.code : `#${k}`;
};

function message(text, kind = '') {
  const el = $('plan-msg');
  el.className = `form-msg${kind ? ` ${kind}` : ''}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.replaceChildren(...(Array.isArray(text) ? text : [text || '']));
}

function setBusy(b) {
  mq.busy = b;
  document.body.dataset.busy = b ? 'true' : 'false';
  updateTools();
}

// ---------------------------------------------------------------- map

function planStyle() {
  const geo = (id) => ({ [id]: { type: 'geojson', data: EMPTY } });
  const poly = ['==', ['geometry-type'], 'Polygon'];
  return {
    sources: { ...geo('community'), ...geo('draft'), ...geo('faults'), ...geo('sketch') },
    layers: [
      { id: 'community-line', type: 'line', source: 'community', paint: { 'line-color': '#b71c1c', 'line-width': 2.5, 'line-dasharray': [2, 1] } },
      {
        id: 'draft-fill',
        type: 'fill',
        source: 'draft',
        paint: { 'fill-color': ['match', ['get', 'state'], 'changed', COLORS.changed, 'new', COLORS.new, COLORS.unchanged], 'fill-opacity': 0.28 },
      },
      { id: 'draft-line', type: 'line', source: 'draft', paint: { 'line-color': '#1565c0', 'line-width': 1.4 } },
      { id: 'draft-selected', type: 'line', source: 'draft', filter: ['in', ['id'], ['literal', []]], paint: { 'line-color': COLORS.selected, 'line-width': 4 } },
      {
        id: 'faults-piece',
        type: 'fill',
        source: 'faults',
        filter: ['all', poly, ['has', 'piece']],
        paint: { 'fill-color': COLORS.fault, 'fill-opacity': 0.55, 'fill-outline-color': '#b71c1c' },
      },
      {
        id: 'faults-line',
        type: 'line',
        source: 'faults',
        filter: ['all', poly, ['!', ['has', 'piece']]],
        paint: {
          'line-color': ['match', ['get', 'severity'], 'fault', COLORS.fault, COLORS.bounds],
          'line-width': ['match', ['get', 'severity'], 'fault', 3.5, 2.5],
          'line-dasharray': ['match', ['get', 'severity'], 'fault', ['literal', [1, 0]], ['literal', [2, 1.5]]],
        },
      },
      {
        id: 'draft-label',
        type: 'symbol',
        source: 'draft',
        layout: { 'text-field': ['get', 'label'], 'text-font': [FONT], 'text-size': 11, 'text-max-width': 10, 'text-padding': 2 },
        paint: { 'text-color': '#0d2a4a', 'text-halo-color': 'rgba(255,255,255,0.9)', 'text-halo-width': 1.3 },
      },
      {
        id: 'faults-point',
        type: 'circle',
        source: 'faults',
        filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': 9, 'circle-color': COLORS.fault, 'circle-opacity': 0.85, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 },
      },
      {
        id: 'faults-label',
        type: 'symbol',
        source: 'faults',
        filter: ['==', ['geometry-type'], 'Point'],
        layout: { 'text-field': ['get', 'label'], 'text-font': [FONT], 'text-size': 11, 'text-offset': [0, 1.4], 'text-anchor': 'top', 'text-allow-overlap': true },
        paint: { 'text-color': '#b71c1c', 'text-halo-color': '#fff', 'text-halo-width': 1.5 },
      },
      { id: 'sketch-fill', type: 'fill', source: 'sketch', filter: poly, paint: { 'fill-color': '#311b92', 'fill-opacity': 0.15 } },
      { id: 'sketch-line', type: 'line', source: 'sketch', filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#311b92', 'line-width': 2.5, 'line-dasharray': [2, 1] } },
      { id: 'sketch-vertex', type: 'circle', source: 'sketch', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 4.5, 'circle-color': '#fff', 'circle-stroke-color': '#311b92', 'circle-stroke-width': 2 } },
    ],
  };
}

const setData = (id, features) => map.getSource(id)?.setData({ type: 'FeatureCollection', features });

function bboxOf(features) {
  let [w, s, e, n] = [180, 90, -180, -90];
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]);
      e = Math.max(e, c[0]);
      s = Math.min(s, c[1]);
      n = Math.max(n, c[1]);
    } else c.forEach(visit);
  };
  for (const f of features) if (f.geometry) visit(f.geometry.coordinates);
  return w <= e ? [[w, s], [e, n]] : null;
}

function fitTo(features, padding = 40) {
  const b = bboxOf(features);
  if (b) map.fitBounds(b, { padding, animate: false, maxZoom: 17 });
}

// ---------------------------------------------------------------- start

async function start() {
  setupHeader({ onAuthChange: () => location.reload() });
  const config = await loadConfig();
  const made = await createMap('map', config, {
    layers: ['areas'],
    parts: (tj) => [areasStyle(tj.areas, { tint: false }), planStyle()],
  });
  map = made.map;
  mq.map = map;
  map.on('error', (e) => mq.errors.push(String(e.error?.message || e.error || e)));
  // The current grids are the grey reference: dashed, over the draft's fill and under its
  // lines, so that a boundary the draft moved shows where it was.
  map.setPaintProperty('areas-line', 'line-color', COLORS.old);
  map.moveLayer('areas-line', 'draft-line');
  map.on('click', onClick);
  map.on('dblclick', (e) => {
    if (!draw) return;
    e.preventDefault();
    finishDraw();
  });
  map.on('mousemove', (e) => {
    if (draw) {
      draw.cursor = [e.lngLat.lng, e.lngLat.lat];
      renderSketch();
      return;
    }
    const layers = draft ? ['draft-fill'] : ['areas-fill'];
    map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers }).length ? 'pointer' : '';
  });
  map.on('moveend', () => {
    if (!draft) listCommunities();
  });
  document.addEventListener('keydown', (e) => {
    if (!draw || e.target.closest?.('input, textarea, select')) return;
    if (e.key === 'Escape') cancelDraw();
    else if (e.key === 'Enter') finishDraw();
    else if (e.key === 'Backspace') undoVertex();
  });
  wire();
  legend();
  onLang(() => {
    legend();
    renderCommunities();
    if (draft) renderDraft({ fit: false });
    else listDrafts();
    updateTools();
  });
  if (!getToken()) {
    $('auth-notice').replaceChildren(signInNotice(new ApiError(401, 'unauthorized', '')));
    return;
  }
  const q = new URLSearchParams(location.search);
  if (q.get('plan')) await resume(Number(q.get('plan')));
  else {
    await listDrafts();
    listCommunities();
  }
}

function wire() {
  $('community').addEventListener('change', () => {
    const id = Number($('community').value);
    if (id) chooseCommunity(id, { fit: true });
  });
  $('open').addEventListener('click', openDraft);
  for (const b of document.querySelectorAll('[data-tool]')) b.addEventListener('click', () => useTool(b.dataset.tool));
  $('finish').addEventListener('click', () => finishDraw());
  $('cancel').addEventListener('click', () => cancelDraw());
  $('undo-vertex').addEventListener('click', () => undoVertex());
  $('figures').addEventListener('submit', (e) => {
    e.preventDefault();
    saveFigures();
  });
  $('figures-cancel').addEventListener('click', closeFigures);
  $('publish').addEventListener('click', publish);
  $('rebase').addEventListener('click', rebase);
  $('abandon').addEventListener('click', abandon);
  $('close-draft').addEventListener('click', closeDraft);
}

function legend() {
  const sw = (style) => h('span', { class: 'swatch', style, 'aria-hidden': 'true' });
  $('plan-legend').replaceChildren(
    h('h2', {}, t('legend.title')),
    h(
      'ul',
      { class: 'one-col' },
      h('li', {}, sw(`border:2px solid ${COLORS.old}`), t('plan.legend.old')),
      h('li', {}, sw(`background:${COLORS.unchanged};opacity:.6`), t('plan.legend.unchanged')),
      h('li', {}, sw(`background:${COLORS.changed};opacity:.7`), t('plan.legend.changed')),
      h('li', {}, sw(`background:${COLORS.new};opacity:.7`), t('plan.legend.new')),
      h('li', {}, sw(`border:3px solid ${COLORS.selected}`), t('plan.legend.selected')),
      h('li', {}, h('span', { class: 'dot', style: `background:${COLORS.fault}` }), t('plan.legend.fault')),
      h('li', {}, sw(`border:2px dashed ${COLORS.bounds}`), t('plan.legend.bounds')),
    ),
  );
}

// ---------------------------------------------------------------- choosing a community

async function listCommunities() {
  if (!map || draft) return;
  if (map.getZoom() < 10) {
    communities = [];
    renderCommunities(t('plan.zoomIn'));
    return;
  }
  const b = map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(',');
  try {
    const fc = await call(`/api/v1/areas?level=community&bbox=${bbox}&limit=200`);
    communities = fc.features.map((f) => ({ id: f.id, ...f.properties }));
    communities.sort((a, b2) => a.code.localeCompare(b2.code));
  } catch (e) {
    communities = [];
  }
  renderCommunities();
}

function renderCommunities(empty) {
  const sel = $('community');
  const current = mq.community;
  const list = [...communities];
  if (current && !list.some((c) => c.id === current.id)) list.unshift(current);
  sel.replaceChildren(
    h('option', { value: '' }, empty || t('plan.pick')),
    ...list.map((c) => h('option', { value: c.id, selected: current && current.id === c.id }, `${localName(c)} · ${c.code}`)),
  );
}

/** Picks the community at a map point (through the grid there). */
async function communityAt(lngLat) {
  try {
    const loc = await call(`/api/v1/locate?lon=${lngLat.lng.toFixed(7)}&lat=${lngLat.lat.toFixed(7)}`);
    const c = [loc.grid, ...loc.ancestors].find((a) => a.level === 'community');
    if (c) await chooseCommunity(c.id, { fit: false });
  } catch (e) {
    message(e instanceof ApiError && e.status === 404 ? t('field.noGrid') : errorText(e), 'error');
  }
}

async function chooseCommunity(id, { fit }) {
  const f = await call(`/api/v1/areas/${id}`);
  mq.community = { id: f.id, ...f.properties };
  setData('community', [f]);
  renderCommunities();
  $('open').disabled = false;
  $('plan-name').placeholder = `${localName(mq.community)} ${t('plan.defaultName')}`;
  if (fit) fitTo([f]);
}

async function listDrafts() {
  const ol = $('drafts');
  try {
    const { plans } = await call('/api/v1/plans?status=draft');
    ol.replaceChildren(
      ...(plans.length
        ? plans.map((p) =>
            h(
              'li',
              { dataset: { plan: p.id } },
              h('button', { type: 'button', class: 'link', onclick: () => resume(p.id) }, `#${p.id} ${p.name || ''}`),
              h('div', { class: 'small muted' }, `${p.created_by} · ${fmtTime(p.updated_at)}`),
            ),
          )
        : [h('li', { class: 'muted' }, t('plan.noDrafts'))]),
    );
  } catch (e) {
    ol.replaceChildren();
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) $('auth-notice').replaceChildren(signInNotice(e), e.status === 403 ? h('p', { class: 'small muted' }, t('plan.needRole')) : null);
    else ol.replaceChildren(h('li', { class: 'error' }, errorText(e)));
  }
}

async function openDraft() {
  const c = mq.community;
  if (!c) return;
  const body = { area: c.id, name: $('plan-name').value.trim() || `${localName(c)} ${t('plan.defaultName')}` };
  const hmin = $('hmin').value;
  const hmax = $('hmax').value;
  if (hmin !== '') body.households_min = Number(hmin);
  if (hmax !== '') body.households_max = Number(hmax);
  $('open').disabled = true;
  message(t('loading'));
  try {
    showDraft(await call('/api/v1/plans', { method: 'POST', body }), { fit: true });
    message(t('plan.opened'), 'ok');
  } catch (e) {
    showChooseError(e);
  } finally {
    $('open').disabled = !mq.community;
  }
}

function showChooseError(e) {
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) $('auth-notice').replaceChildren(signInNotice(e), h('p', { class: 'small' }, errorText(e)));
  else $('auth-notice').replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(e)));
}

async function resume(id) {
  try {
    showDraft(await call(`/api/v1/plans/${id}`), { fit: true });
  } catch (e) {
    showChooseError(e);
    await listDrafts();
  }
}

function showDraft(d, { fit = false } = {}) {
  draft = d;
  mq.draft = d;
  mq.validation = d.validation;
  selected = selected.filter((k) => gridByKey(k));
  $('choose').hidden = true;
  $('draft').hidden = false;
  $('auth-notice').replaceChildren();
  history.replaceState(null, '', `/plan?plan=${d.plan.id}`);
  if (map.getLayer('areas-label')) map.setLayoutProperty('areas-label', 'visibility', 'none');
  map.setPaintProperty('areas-fill', 'fill-opacity', 0.05);
  map.setPaintProperty('areas-line', 'line-width', 3);
  map.setPaintProperty('areas-line', 'line-dasharray', [1.5, 1]);
  renderDraft({ fit });
}

function closeDraft() {
  cancelDraw();
  closeFigures();
  draft = null;
  mq.draft = null;
  mq.validation = null;
  selected = [];
  setData('draft', []);
  setData('faults', []);
  $('draft').hidden = true;
  $('choose').hidden = false;
  message('');
  history.replaceState(null, '', '/plan');
  map.setLayoutProperty('areas-label', 'visibility', 'visible');
  map.setPaintProperty('areas-fill', 'fill-opacity', 0.22);
  map.setPaintProperty('areas-line', 'line-width', ['match', ['get', 'level'], 'district', 1.8, 'street', 1.3, 'community', 1, 0.7]);
  map.setPaintProperty('areas-line', 'line-dasharray', undefined);
  listDrafts();
  listCommunities();
}

// ---------------------------------------------------------------- rendering a draft

function renderDraft({ fit }) {
  const d = draft;
  const v = d.validation;
  const flagged = flaggedKeys(v);
  setData(
    'draft',
    d.features.map((f) => ({
      ...f,
      properties: {
        ...f.properties,
        label: `${shortCode(f.properties.code)}\n${fmtNumber(f.properties.households)} ${t('plan.hh')}`,
        flagged: flagged.has(f.id),
      },
    })),
  );
  setData('faults', v ? faultFeatures(v) : []);
  renderSelection();
  if (fit) fitTo(d.features);
  const p = d.plan;
  $('draft-head').replaceChildren(
    h('h2', { class: 'plan-name' }, `#${p.id} ${p.name || ''}`, h('span', { class: `badge plan-${p.status}` }, t(`plan.status.${p.status}`))),
    h(
      'p',
      { class: 'small muted' },
      `${t('plan.by')} ${p.created_by} · ${fmtTime(p.created_at)} · ${t('plan.householdsRange')} ${p.households_min}–${p.households_max}`,
      p.population_min != null || p.population_max != null ? ` · ${t('plan.populationRange')} ${p.population_min ?? '—'}–${p.population_max ?? '—'}` : '',
    ),
  );
  renderValidation(v);
  updateTools();
}

/** Keys of grids with households or population out of bounds. */
function flaggedKeys(v) {
  return new Set((v?.faults || []).filter((f) => f.kind === 'households' || f.kind === 'population').map((f) => f.grid));
}

/** Faults for the map: the faulty pieces themselves (overlaps, holes, parts outside), a
 * labelled point in each, and the outlines of the grids they concern. */
function faultFeatures(v) {
  const out = [];
  v.faults.forEach((f, i) => {
    const severity = GEOMETRY_FAULTS.includes(f.kind) ? 'fault' : 'bounds';
    if (f.geometry) {
      // The overlapping piece, the hole or the part outside the parent itself.
      out.push({ type: 'Feature', geometry: f.geometry, properties: { i, kind: f.kind, severity, piece: true } });
    }
    if (f.location) {
      out.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: f.location },
        properties: { i, kind: f.kind, severity, label: f.area_m2 != null ? `${faultName(f.kind)} ${fmtArea(f.area_m2)}` : faultName(f.kind) },
      });
    }
    const keys = f.grids || (f.grid != null ? [f.grid] : []);
    for (const k of keys) {
      const g = gridByKey(k);
      if (g) out.push({ type: 'Feature', geometry: g.geometry, properties: { i, kind: f.kind, severity, grid: k } });
    }
  });
  return out;
}

const faultName = (kind) => t(`plan.fault.${kind}`);

function faultText(f) {
  switch (f.kind) {
    case 'overlap':
      return t('plan.faultText.overlap', { a: f.codes[0], b: f.codes[1], area: fmtArea(f.area_m2) });
    case 'gap':
      return t('plan.faultText.gap', { parent: f.parent_code, area: fmtArea(f.area_m2) });
    case 'outside_parent':
      return t('plan.faultText.outside_parent', { grid: f.code, area: fmtArea(f.area_m2) });
    case 'invalid_geometry':
      return t('plan.faultText.invalid_geometry', { grid: f.code, reason: f.reason });
    case 'households':
      return t('plan.faultText.households', { grid: f.code, n: fmtNumber(f.households), min: f.min, max: f.max });
    case 'population':
      return t('plan.faultText.population', { grid: f.code, n: fmtNumber(f.population), min: f.min ?? '—', max: f.max ?? '—' });
    default:
      return f.kind;
  }
}

function focusFault(f) {
  if (f.location) map.easeTo({ center: f.location, zoom: Math.max(map.getZoom(), 15) });
  else if (f.grid != null && gridByKey(f.grid)) fitTo([gridByKey(f.grid)], 80);
}

function renderValidation(v, target = $('validation')) {
  if (!v) {
    target.replaceChildren(h('p', { class: 'muted' }, t('plan.notValidated')));
    return;
  }
  const flagged = flaggedKeys(v);
  const closed = draft && draft.plan.status !== 'draft';
  const status = closed
    ? h('p', { class: 'valid-status ok', dataset: { valid: String(v.valid) } }, t(`plan.status.${draft.plan.status}`), draft.plan.published_at ? ` · ${fmtTime(draft.plan.published_at)}` : '')
    : v.valid
    ? h('p', { class: 'valid-status ok', dataset: { valid: 'true' } }, '✓ ', t('plan.valid'))
    : h('p', { class: 'valid-status bad', dataset: { valid: 'false' } }, '✗ ', t('plan.invalidN', { n: v.faults.length }));
  const c = v.changes || {};
  const sections = [
    h(
      'section',
      { class: 'v-summary' },
      h('h3', {}, t('plan.validation')),
      status,
      h('p', { class: 'small muted' }, t('plan.summary', { grids: v.grids, slivers: v.slivers, area: fmtArea(v.sliver_area_m2), limit: v.sliver_limit_m2, ms: Math.round(v.took_ms) }), ' · ', fmtTime(v.checked_at)),
    ),
  ];
  if (v.faults.length) {
    sections.push(
      h(
        'section',
        {},
        h('h3', {}, t('plan.faults')),
        h(
          'ol',
          { class: 'faults' },
          v.faults.map((f) =>
            h(
              'li',
              { dataset: { kind: f.kind }, class: GEOMETRY_FAULTS.includes(f.kind) ? 'fault' : 'bounds' },
              h('button', { type: 'button', class: 'link', onclick: () => focusFault(f) }, h('strong', {}, faultName(f.kind)), ' ', faultText(f)),
            ),
          ),
        ),
      ),
    );
  }
  if (draft && target === $('validation')) {
    const rows = [...draft.features].sort((a, b) => a.properties.code.localeCompare(b.properties.code));
    sections.push(
      h(
        'section',
        {},
        h('h3', {}, t('plan.grids'), ` (${rows.length})`),
        h(
          'table',
          { class: 'grids' },
          h('thead', {}, h('tr', {}, h('th', {}, t('area.code')), h('th', {}, t('plan.state')), h('th', {}, t('plan.households')), h('th', {}, t('plan.population')))),
          h(
            'tbody',
            {},
            rows.map((f) => {
              const p = f.properties;
              const out = flagged.has(f.id);
              return h(
                'tr',
                { class: `${out ? 'out' : ''} ${selected.includes(f.id) ? 'sel' : ''}`, dataset: { key: f.id, code: p.code }, onclick: () => toggleSelect(f.id) },
                h('td', { title: localName(p) }, h('code', {}, p.code)),
                h('td', {}, h('span', { class: `badge state-${p.state}` }, t(`plan.state.${p.state}`))),
                h('td', { class: 'num' }, fmtNumber(p.households), out ? h('span', { class: 'badge out', title: t('plan.outOfBounds') }, '!') : null),
                h('td', { class: 'num' }, fmtNumber(p.population)),
              );
            }),
          ),
        ),
      ),
    );
  }
  const moves = c.event_moves || [];
  const hh = c.household_moves || [];
  const keyCode = (k) => gridLabel(k);
  sections.push(
    h(
      'section',
      { class: 'impact' },
      h('h3', {}, t('plan.impact')),
      h(
        'dl',
        { class: 'props' },
        h('dt', {}, t('plan.changed')),
        h('dd', { dataset: { n: (c.changed || []).length } }, (c.changed || []).map(keyCode).join('、') || '—'),
        h('dt', {}, t('plan.new')),
        h('dd', { dataset: { n: (c.new || []).length } }, (c.new || []).map(keyCode).join('、') || '—'),
        h('dt', {}, t('plan.closedGrids')),
        h('dd', {}, String((c.closed || []).length)),
        h('dt', {}, t('plan.unchanged')),
        h('dd', {}, String(c.unchanged ?? '—')),
        h('dt', {}, t('plan.eventsRegridded')),
        h('dd', {}, fmtNumber(c.events_regridded)),
        h('dt', {}, t('plan.eventsMoving')),
        h('dd', { class: 'events-moving' }, fmtNumber(c.events_moving)),
      ),
      h('h4', {}, t('plan.eventMoves')),
      moves.length
        ? h(
            'ol',
            { class: 'moves event-moves' },
            moves.slice(0, 100).map((m) => h('li', { dataset: { id: m.id } }, `#${m.id} `, h('code', {}, m.from_code || '—'), ' → ', h('code', {}, m.to_code || t('plan.noGrid')))),
            moves.length > 100 || c.event_moves_truncated ? h('li', { class: 'muted' }, t('plan.more', { n: fmtNumber(c.events_moving - Math.min(100, moves.length)) })) : null,
          )
        : h('p', { class: 'muted small' }, t('plan.none')),
      h('h4', {}, t('plan.householdMoves')),
      hh.length
        ? h(
            'ol',
            { class: 'moves household-moves' },
            hh.map((m) => h('li', {}, h('code', {}, m.from_code), ' → ', h('code', {}, m.to_code), `: ${fmtNumber(m.households)} ${t('plan.hh')} (${fmtArea(m.area_m2)})`)),
          )
        : h('p', { class: 'muted small' }, t('plan.none')),
    ),
  );
  target.replaceChildren(...sections);
}

// ---------------------------------------------------------------- selection and tools

function onClick(e) {
  if (draw) {
    addVertex(e);
    return;
  }
  if (!draft) {
    communityAt(e.lngLat);
    return;
  }
  const f = map.queryRenderedFeatures(e.point, { layers: ['draft-fill'] })[0];
  if (f) toggleSelect(f.id);
  else if (selected.length) {
    selected = [];
    renderSelection();
    updateTools();
  }
}

function toggleSelect(key) {
  if (!isDraft() || draw) return;
  selected = selected.includes(key) ? selected.filter((k) => k !== key) : [...selected, key];
  renderSelection();
  updateTools();
}

function renderSelection() {
  mq.selected = selected;
  if (map.getLayer('draft-selected')) map.setFilter('draft-selected', ['in', ['id'], ['literal', selected]]);
  for (const tr of document.querySelectorAll('table.grids tr[data-key]')) tr.classList.toggle('sel', selected.includes(Number(tr.dataset.key)));
}

function updateTools() {
  const editable = isDraft() && !mq.busy;
  for (const b of document.querySelectorAll('[data-tool]')) {
    const [min, max] = NEEDS[b.dataset.tool];
    b.disabled = !editable || !!draw || selected.length < min || selected.length > max;
    b.classList.toggle('active', draw?.tool === b.dataset.tool);
  }
  const v = draft?.validation;
  $('publish').disabled = !editable || !v || !v.valid || !!draw;
  $('publish').title = v && !v.valid ? t('plan.fixFirst') : '';
  $('rebase').disabled = !editable;
  $('abandon').disabled = !editable;
  if (!draw) hint();
}

function hint() {
  const el = $('hint');
  if (!draft) return;
  if (!isDraft()) {
    el.textContent = t('plan.hint.closed');
    return;
  }
  const codes = selected.map(gridLabel).join('、');
  el.textContent = selected.length ? `${t('plan.selectedN', { n: selected.length })}：${codes}` : t('plan.hint.select');
}

function useTool(tool) {
  if (!isDraft() || mq.busy) return;
  if (DRAWN[tool]) return startDraw(tool);
  if (tool === 'merge') return operate({ op: 'merge', grids: [...selected] });
  if (tool === 'retire') return retire([...selected]);
  if (tool === 'figures') return openFigures(selected[0]);
}

async function retire(keys) {
  for (const k of keys) {
    if (!(await operate({ op: 'retire', grid: k }))) break;
  }
}

// ---------------------------------------------------------------- drawing

function startDraw(tool) {
  closeFigures();
  draw = { tool, kind: DRAWN[tool], pts: [], cursor: null };
  map.doubleClickZoom.disable();
  map.getCanvas().style.cursor = 'crosshair';
  document.body.dataset.drawing = tool;
  $('drawing').hidden = false;
  $('hint').textContent = t(`plan.hint.${tool}`, { a: gridLabel(selected[0]), b: gridLabel(selected[1]) });
  renderSketch();
  updateTools();
}

function endDraw() {
  draw = null;
  delete document.body.dataset.drawing;
  $('drawing').hidden = true;
  map.getCanvas().style.cursor = '';
  setData('sketch', []);
  // after the double-click that finished, so that it does not zoom
  setTimeout(() => !draw && map.doubleClickZoom.enable(), 400);
  updateTools();
}

function cancelDraw() {
  if (!draw) return;
  endDraw();
  message(t('plan.cancelled'));
}

function undoVertex() {
  if (!draw) return;
  draw.pts.pop();
  renderSketch();
}

const px = (a, b) => Math.hypot(a.x - b.x, a.y - b.y);

function addVertex(e) {
  const pts = draw.pts;
  if (draw.kind === 'polygon' && pts.length >= 3 && px(map.project(pts[0]), e.point) < 10) {
    finishDraw();
    return;
  }
  // the second click of a double-click lands on the last vertex
  if (pts.length && px(map.project(pts[pts.length - 1]), e.point) < 5) return;
  pts.push([+e.lngLat.lng.toFixed(7), +e.lngLat.lat.toFixed(7)]);
  renderSketch();
}

function renderSketch() {
  if (!draw) return;
  const pts = draw.pts;
  const live = draw.cursor ? [...pts, draw.cursor] : pts;
  const fs = pts.map((c) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} }));
  if (draw.kind === 'polygon' && live.length >= 3) {
    fs.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...live, live[0]]] }, properties: {} });
    fs.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: [...live, live[0]] }, properties: {} });
  } else if (live.length >= 2) {
    fs.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: live }, properties: {} });
  }
  setData('sketch', fs);
}

function finishDraw() {
  if (!draw) return;
  const { tool, kind, pts } = draw;
  if (pts.length < (kind === 'line' ? 2 : 3)) {
    message(t(kind === 'line' ? 'plan.needLine' : 'plan.needPolygon'), 'error');
    return;
  }
  endDraw();
  const line = { type: 'LineString', coordinates: pts };
  const polygon = { type: 'Polygon', coordinates: [[...pts, pts[0]]] };
  const [a, b] = selected;
  if (tool === 'split') operate({ op: 'split', grid: a, line });
  else if (tool === 'line') operate({ op: 'move_boundary', grids: [a, b], line });
  else if (tool === 'reshape') operate({ op: 'reshape', grid: a, geometry: polygon });
  else if (tool === 'give') operate({ op: 'move_boundary', from: a, to: b, piece: polygon });
  else if (tool === 'create') {
    pendingCreate = polygon;
    setData('sketch', [{ type: 'Feature', geometry: polygon, properties: {} }]);
    openFigures(null);
  }
}

// ---------------------------------------------------------------- figures (and a new grid's)

function openFigures(key) {
  figuresFor = key;
  const form = $('figures');
  const p = key != null ? gridByKey(key)?.properties : null;
  form.elements.households.value = p ? p.households : '';
  form.elements.population.value = p ? p.population : '';
  form.elements.name.value = p ? p.name : '';
  form.elements.households.required = key == null;
  form.elements.population.required = key == null;
  form.hidden = false;
  $('hint').textContent = key == null ? t('plan.hint.createFigures') : t('plan.hint.figures', { a: gridLabel(key) });
  form.elements.households.focus();
}

function closeFigures() {
  $('figures').hidden = true;
  figuresFor = null;
  if (pendingCreate) {
    pendingCreate = null;
    setData('sketch', []);
  }
}

async function saveFigures() {
  const form = $('figures');
  const num = (el) => (el.value === '' ? undefined : Number(el.value));
  const name = form.elements.name.value.trim() || undefined;
  let body;
  if (pendingCreate) body = { op: 'create', geometry: pendingCreate, households: num(form.elements.households), population: num(form.elements.population), name };
  else body = { op: 'reshape', grid: figuresFor, households: num(form.elements.households), population: num(form.elements.population), name };
  if (await operate(body)) closeFigures();
}

// ---------------------------------------------------------------- operations

/** Sends one operation; the answer is the draft with its new validation. */
async function operate(body) {
  setBusy(true);
  message(t('plan.working'));
  try {
    const d = await call(`/api/v1/plans/${planId()}/operations`, { method: 'POST', body });
    const before = draft.features.length;
    selected = [];
    showDraft(d);
    mq.ops += 1;
    const v = d.validation;
    message(
      `${t(`plan.done.${body.op}`)} · ${t('plan.gridsNow', { n: d.features.length, d: d.features.length - before >= 0 ? `+${d.features.length - before}` : d.features.length - before })} · ${v.valid ? t('plan.valid') : t('plan.invalidN', { n: v.faults.length })}`,
      v.valid ? 'ok' : 'error',
    );
    return true;
  } catch (e) {
    mq.lastError = e.detail || { code: e.code, message: e.message };
    message(errorText(e), 'error');
    if (e.detail?.location) {
      setData('faults', [...(draft.validation ? faultFeatures(draft.validation) : []), { type: 'Feature', geometry: { type: 'Point', coordinates: e.detail.location }, properties: { kind: 'input', severity: 'fault', label: e.detail.reason || '' } }]);
    }
    return false;
  } finally {
    setBusy(false);
  }
}

/** Publishes; 422 shows the faults, 409 the conflict (rebase or abandon). */
async function publish() {
  if (!draft || mq.busy) return;
  setBusy(true);
  message(t('plan.publishing'));
  try {
    const r = await call(`/api/v1/plans/${planId()}/publish`, { method: 'POST' });
    mq.published = r;
    const pub = r.published;
    draft = { ...draft, plan: r.plan, validation: r.validation };
    mq.draft = draft;
    renderDraft({ fit: false });
    message(
      [
        h('strong', {}, t('plan.published')),
        ' ',
        t('plan.publishedText', { created: pub.created.length, closed: pub.closed.length, events: fmtNumber(pub.events_reassigned) }),
        h('br'),
        h('span', { class: 'small' }, pub.created.map((c) => `${c.code} v${c.version}`).join('、')),
      ],
      'ok',
    );
    document.body.dataset.published = String(r.plan.id);
    map.refreshTiles('areas');
  } catch (e) {
    mq.lastError = e.detail || { code: e.code, message: e.message };
    if (e.status === 422 && e.code === 'invalid_plan') {
      const report = e.detail.report;
      if (report) {
        draft = { ...draft, validation: report };
        mq.draft = draft;
        renderDraft({ fit: false });
      }
      message([h('strong', {}, t('plan.refused422')), ' ', e.message, ` (${e.code})`], 'error');
    } else if (e.status === 409) {
      const areas = e.detail.areas || [];
      message([h('strong', {}, t('plan.refused409')), ' ', e.message, areas.length ? ` [${areas.join(', ')}]` : '', h('br'), t('plan.rebaseHint')], 'error');
    } else message(errorText(e), 'error');
  } finally {
    setBusy(false);
  }
}
mq.publish = publish;

async function rebase() {
  if (!draft || mq.busy) return;
  setBusy(true);
  message(t('plan.working'));
  try {
    selected = [];
    showDraft(await call(`/api/v1/plans/${planId()}/rebase`, { method: 'POST' }));
    mq.ops += 1;
    message(t('plan.rebased'), 'ok');
  } catch (e) {
    message(errorText(e), 'error');
  } finally {
    setBusy(false);
  }
}

async function abandon() {
  if (!draft || mq.busy) return;
  setBusy(true);
  try {
    const r = await call(`/api/v1/plans/${planId()}/abandon`, { method: 'POST' });
    draft = { ...draft, plan: r.plan };
    mq.draft = draft;
    setBusy(false);
    closeDraft();
    $('auth-notice').replaceChildren(h('p', { class: 'notice', role: 'status' }, t('plan.abandoned', { id: r.plan.id })));
  } catch (e) {
    message(errorText(e), 'error');
    setBusy(false);
  }
}

mq.ready = start().catch((e) => {
  console.error(e);
  $('auth-notice').replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(e)));
  throw e;
});
