// The command centre (/): the whole city live — areas by level, events and clusters,
// heat by category and time window, per-area statistics, case details, live changes.

import { api, ApiError, followStream, getToken, loadConfig, loadTaxonomy } from './api.js';
import { fmtNumber, fmtTime, isEn, localName, onLang, STATES, statusName, t } from './i18n.js';
import { areaId, areasStyle, CATEGORY_COLORS, createMap, refreshSourceTiles, selectedFilter, eventsStyle, heatStyle, liveStyle, OTHER_COLOR, OVERDUE_COLOR, setSourceTiles, setVisible, tilesAt, tilesUrl } from './mapkit.js';
import { areaHeading, categoryDot, errorText, h, setupHeader, showCase, signInNotice, statusBadge } from './ui.js';
import { trendChart } from './chart.js';

const mq = (window.mq = { liveIds: new Set(), ready: null, firstRenderMs: null, errors: [] });

const state = {
  category: '',
  status: 'open',
  heat: false,
  window: '30d',
  from: '',
  to: '',
  eventsOn: false,
  selectedArea: null,
};

const $ = (id) => document.getElementById(id);

const WINDOW_HOURS = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30, '365d': 24 * 365 };

/** `from`/`to` of the heat time window (RFC 3339), or nothing. */
function windowParams() {
  if (WINDOW_HOURS[state.window]) {
    return { from: new Date(Date.now() - WINDOW_HOURS[state.window] * 3600e3).toISOString() };
  }
  if (state.window === 'custom') {
    const p = {};
    if (state.from) p.from = new Date(state.from).toISOString();
    if (state.to) p.to = new Date(state.to).toISOString();
    return p;
  }
  return {};
}

const eventParams = () => ({ category: state.category, status: state.status });
const heatParams = () => ({ category: state.category, ...windowParams() });

let map;
let tj;
let taxonomy;
let stream = null;
const live = new Map();

async function main() {
  performance.mark('mq:modules');
  setupHeader({ onAuthChange: () => location.reload() });
  const taxonomyLoaded = loadTaxonomy();
  const config = await loadConfig();
  performance.mark('mq:config');
  const signedIn = !!getToken();
  const made = createMap('map', config, {
    parts: (t) => [
      areasStyle(t.areas),
      heatStyle(t.heat, heatParams(), { visible: state.heat }),
      ...(signedIn ? [eventsStyle(t.events, eventParams()), liveStyle()] : []),
    ],
    onCreate: (m) => {
      map = mq.map = m;
      m.on('idle', firstRender);
      m.on('error', onMapError);
    },
  });
  taxonomy = await taxonomyLoaded;
  fillFilters();
  renderLegend();
  ({ tj } = await made);
  performance.mark('mq:style-loaded');
  if (signedIn) enableEvents();
  else $('events-notice').replaceChildren(signInNotice(null));
  setLiveStatus(signedIn ? 'connecting' : 'idle');
  bindMap();
  onLang(() => {
    fillFilters();
    renderLegend();
    renderActivity();
    setLiveStatus(liveState);
    if (panelRerender) panelRerender();
  });
}

/** Records the first render: navigation start → map idle with areas drawn. */
function firstRender() {
  if (mq.firstRenderMs != null) return;
  if (!map.getLayer('areas-fill') || map.queryRenderedFeatures({ layers: ['areas-fill'] }).length === 0) return;
  mq.firstRenderMs = Math.round(performance.now());
  document.body.dataset.rendered = 'true';
  console.info(`minqing: first render ${mq.firstRenderMs} ms`);
}

function onMapError(e) {
  const status = e.error?.status;
  mq.errors.push({ source: e.sourceId, status, message: e.error?.message });
  if (e.sourceId === 'events' && (status === 401 || status === 403)) {
    disableEvents(new ApiError(status, 'denied', e.error.message));
  }
}

function enableEvents() {
  state.eventsOn = true;
  $('events-notice').replaceChildren();
  stream = followStream({
    onEvent: onChange,
    onReset: () => refreshAll(),
    onStatus: (s, err) => {
      if (s === 'denied') disableEvents(err);
      else setLiveStatus(s);
    },
  });
}

function disableEvents(err) {
  if (!state.eventsOn) return;
  state.eventsOn = false;
  stream?.close();
  for (const id of ['clusters', 'cluster-count', 'events-overdue', 'events', 'live']) setVisible(map, id, false);
  $('events-notice').replaceChildren(signInNotice(err));
  setLiveStatus('idle');
}

let liveState = 'idle';
function setLiveStatus(s) {
  liveState = s;
  const el = $('live-status');
  el.className = `live-status ${s}`;
  el.textContent = s === 'open' ? `● ${t('live.on')}` : s === 'retrying' ? t('live.off') : s === 'connecting' ? t('loading') : t('live.idle');
}

// ---- live changes -------------------------------------------------------------------

const pendingTiles = [];
let refreshTimer = null;

function onChange(type, f) {
  const p = f.properties;
  const top = (p.category || '').split('.')[0];
  live.set(f.id, { ...f, properties: { id: f.id, top, change: type, status: p.status, title: p.title, at: Date.now(), source: p } });
  while (live.size > 200) live.delete(live.keys().next().value);
  mq.liveIds.add(f.id);
  map.getSource('live')?.setData({ type: 'FeatureCollection', features: [...live.values()] });
  const [lon, lat] = f.geometry.coordinates;
  pendingTiles.push([lon, lat]);
  refreshTimer ??= setTimeout(flushRefresh, 150);
  renderActivity();
}

/** Reloads just the tiles that contain the changed events (the server invalidated them). */
function flushRefresh() {
  refreshTimer = null;
  const points = pendingTiles.splice(0);
  const ids = (minz, maxz) => points.flatMap(([lon, lat]) => tilesAt(lon, lat, minz, maxz));
  refreshSourceTiles(map, 'events', ids(0, 14));
  refreshSourceTiles(map, 'areas', ids(0, 16));
  refreshSourceTiles(map, 'heat', ids(0, 16));
}

function refreshAll() {
  for (const s of ['events', 'areas', 'heat']) if (map.getSource(s)) map.refreshTiles(s);
}

function renderActivity() {
  const items = [...live.values()].reverse().slice(0, 30);
  const list = $('activity');
  if (!items.length) {
    list.replaceChildren(h('li', { class: 'muted' }, state.eventsOn ? t('live.none') : ''));
    return;
  }
  list.replaceChildren(
    ...items.map((f) => {
      const p = f.properties.source;
      return h(
        'li',
        { dataset: { id: f.id } },
        h(
          'button',
          { type: 'button', class: 'link', onclick: () => { map.easeTo({ center: f.geometry.coordinates, zoom: Math.max(map.getZoom(), 15) }); openCase(f.id); } },
          h('span', { class: `change ${f.properties.change}` }, f.properties.change === 'created' ? t('live.created') : t('live.updated')),
          ' ',
          categoryDot(p.category),
          ` #${f.id} ${p.title} `,
          statusBadge(p.status, p.overdue),
          h('span', { class: 'muted' }, ` ${new Date(f.properties.at).toLocaleTimeString(isEn() ? 'en-GB' : 'zh-CN')}`),
        ),
      );
    }),
  );
}

// ---- filters ------------------------------------------------------------------------

function fillFilters() {
  const cat = $('category');
  const keep = cat.value;
  cat.replaceChildren(h('option', { value: '' }, t('filter.all')), ...taxonomy.categories.map((c) => h('option', { value: c.code }, localName(c))));
  cat.value = keep;
  const st = $('status');
  const keepS = st.value || state.status;
  st.replaceChildren(h('option', { value: 'open' }, t('status.open')), h('option', { value: 'all' }, t('status.all')), ...STATES.map((s) => h('option', { value: s }, statusName(s))));
  st.value = keepS;
}

function applyFilters() {
  setSourceTiles(map, 'events', tilesUrl(tj.events, eventParams()));
  setSourceTiles(map, 'heat', tilesUrl(tj.heat, heatParams()));
  if (map.getLayer('live')) map.setFilter('live', state.category ? ['==', ['get', 'top'], state.category] : null);
}

// A relative time window ("last 24 hours") moves on with the clock.
setInterval(() => {
  if (map && state.heat && WINDOW_HOURS[state.window]) setSourceTiles(map, 'heat', tilesUrl(tj.heat, heatParams()));
}, 10 * 60 * 1000);

function bindFilters() {
  $('category').addEventListener('change', (e) => {
    state.category = e.target.value;
    applyFilters();
  });
  $('status').addEventListener('change', (e) => {
    state.status = e.target.value;
    applyFilters();
  });
  $('heat-toggle').addEventListener('change', (e) => setHeat(e.target.checked));
  $('window').addEventListener('change', (e) => {
    state.window = e.target.value;
    $('custom-window').hidden = state.window !== 'custom';
    applyFilters();
  });
  for (const k of ['from', 'to']) {
    $(k).addEventListener('change', (e) => {
      state[k] = e.target.value;
      applyFilters();
    });
  }
}

/** Shows or hides the heatmap (events are dimmed under it). */
function setHeat(on) {
  state.heat = on;
  $('heat-toggle').checked = on;
  setVisible(map, 'heat', on);
  if (map.getLayer('clusters')) map.setPaintProperty('clusters', 'circle-opacity', on ? 0.35 : 0.8);
  if (on) map.refreshTiles('heat');
}
mq.setHeat = (on) => setHeat(on);

// ---- legend -------------------------------------------------------------------------

function renderLegend() {
  const swatch = (style, label) => h('li', {}, h('span', { class: 'swatch', style, 'aria-hidden': 'true' }), label);
  const open = $('legend').querySelector('details')?.open ?? true;
  $('legend').replaceChildren(
    h(
      'details',
      { open },
      h('summary', {}, h('h2', { id: 'legend-h' }, t('legend.title'))),
      h(
      'ul',
      {},
      taxonomy.categories.map((c) => swatch(`background:${CATEGORY_COLORS[c.code] || OTHER_COLOR};border-radius:50%`, localName(c))),
      swatch(`background:#607d8b;border-radius:50%;width:16px;height:16px`, t('legend.cluster')),
      swatch(`border:2.5px solid ${OVERDUE_COLOR};border-radius:50%`, t('legend.overdue')),
      swatch('border:3px solid #00b0ff;border-radius:50%', t('legend.live')),
      swatch('background:linear-gradient(90deg,#67a9cf,#fddbc7,#ef8a62,#b2182b)', t('legend.heat')),
      swatch('background:linear-gradient(90deg,#90a4ae,#ffcc80,#ef6c00,#d84315);opacity:.6', t('legend.areaOverdue')),
    ),
    h('p', { class: 'muted small' }, t('legend.levels')),
    h('p', { class: 'generated-note small' }, h('span', { class: 'badge generated' }, t('generated')), ' ', t('legend.generated')),
    ),
  );
}

// ---- clicks: clusters, events, areas -------------------------------------------------

let panelRerender = null;

function openPanel(render) {
  $('panel').hidden = false;
  panelRerender = render;
  render();
}

$('panel-close').addEventListener('click', () => {
  $('panel').hidden = true;
  panelRerender = null;
  if (map.getLayer('areas-selected')) map.setFilter('areas-selected', selectedFilter(-1));
});

function openCase(id) {
  openPanel(() => {
    const body = $('panel-body');
    body.replaceChildren(h('h2', {}, t('event.title')), h('div', { id: 'case' }));
    showCase(body.querySelector('#case'), id, { onChanged: (f) => onChange('updated', f) });
  });
}
mq.openCase = openCase;

function openArea(props) {
  map.setFilter('areas-selected', selectedFilter(props.id));
  state.selectedArea = props;
  let stats = null;
  const render = () => {
    const body = $('panel-body');
    body.replaceChildren(h('h2', {}, t('area.stats')), areaHeading(props), stats ? areaStats(props, stats) : h('p', { class: 'muted' }, t('loading')));
  };
  openPanel(render);
  api(`/api/v1/stats?area=${encodeURIComponent(props.code || props.id)}`, { auth: false })
    .then((s) => {
      stats = s;
      if (state.selectedArea === props) render();
    })
    .catch((e) => $('panel-body').append(h('p', { class: 'error', role: 'alert' }, errorText(e))));
}
mq.openArea = openArea;

function areaStats(props, s) {
  const resolved = (s.by_status.resolved || 0) + (s.by_status.closed || 0);
  const kpi = (label, value, cls = '') => h('div', { class: `kpi ${cls}` }, h('div', { class: 'kpi-value' }, value), h('div', { class: 'kpi-label' }, label));
  const cats = Object.entries(s.by_category).sort((a, b) => b[1].total - a[1].total);
  return h(
    'div',
    { class: 'area-stats' },
    h(
      'div',
      { class: 'kpis' },
      kpi(t('area.open'), fmtNumber(s.open)),
      kpi(t('area.overdue'), fmtNumber(s.overdue), s.overdue ? 'alert' : ''),
      kpi(t('area.escalated'), fmtNumber(s.escalated)),
      kpi(t('area.resolved'), fmtNumber(resolved)),
      kpi(t('area.total'), fmtNumber(s.total)),
      props.households != null ? kpi(t('area.households'), fmtNumber(props.households)) : null,
    ),
    h(
      'p',
      { class: 'muted small' },
      s.median_resolve_hours != null ? `${t('area.median')}: ${s.median_resolve_hours.toFixed(1)} ${t('area.hours')}` : '',
      s.satisfaction.rate != null ? ` · ${t('area.satisfaction')}: ${Math.round(s.satisfaction.rate * 100)}%` : '',
    ),
    h('h4', {}, t('area.byCategory')),
    h(
      'table',
      { class: 'by-category' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('area.category')), h('th', { scope: 'col' }, t('area.open')), h('th', { scope: 'col' }, t('area.overdue')), h('th', { scope: 'col' }, t('area.resolved')), h('th', { scope: 'col' }, t('area.total')))),
      h(
        'tbody',
        {},
        cats.map(([code, c]) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, categoryDot(code), ' ', localName(c) || code),
            h('td', {}, fmtNumber(c.open)),
            h('td', { class: c.overdue ? 'alert' : '' }, fmtNumber(c.overdue)),
            h('td', {}, fmtNumber((c.by_status.resolved || 0) + (c.by_status.closed || 0))),
            h('td', {}, fmtNumber(c.total)),
          ),
        ),
      ),
    ),
    h('h4', {}, t('area.trend')),
    trendChart(s.trend),
    h('p', { class: 'muted small' }, fmtTime(s.as_of)),
  );
}

function bindMap() {
  const eventLayers = () => ['clusters', 'events', 'live'].filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
  map.on('click', (e) => {
    const box = [
      [e.point.x - 6, e.point.y - 6],
      [e.point.x + 6, e.point.y + 6],
    ];
    const hit = eventLayers().length ? map.queryRenderedFeatures(box, { layers: eventLayers() }) : [];
    const f = hit[0];
    if (f && f.layer.id === 'clusters' && f.properties.point_count > 1) {
      map.easeTo({ center: f.geometry.coordinates, zoom: Math.min(map.getZoom() + 2.5, 16) });
      return;
    }
    if (f) {
      const id = f.layer.id === 'live' ? f.properties.id : f.id ?? f.properties.id;
      if (f.layer.id === 'clusters') {
        map.easeTo({ center: f.geometry.coordinates, zoom: 15 });
        return;
      }
      openCase(id);
      return;
    }
    const area = map.queryRenderedFeatures(e.point, { layers: ['areas-fill'] })[0];
    if (area) openArea({ ...area.properties, id: areaId(area) });
  });
  let hovered = null;
  map.on('mousemove', (e) => {
    const layers = [...eventLayers(), 'areas-fill'];
    const f = map.queryRenderedFeatures(e.point, { layers })[0];
    map.getCanvas().style.cursor = f ? 'pointer' : '';
    const area = f && f.layer.id === 'areas-fill' ? f : null;
    if (hovered && (!area || area.id !== hovered.id)) {
      map.setFeatureState({ source: 'areas', sourceLayer: 'areas', id: hovered.id }, { hover: false });
      hovered = null;
    }
    if (area && area.id != null && !hovered) {
      hovered = area;
      map.setFeatureState({ source: 'areas', sourceLayer: 'areas', id: area.id }, { hover: true });
    }
  });
  bindFilters();
}

mq.ready = main().catch((e) => {
  console.error(e);
  document.getElementById('map').append(h('p', { class: 'error fatal', role: 'alert' }, errorText(e)));
  throw e;
});
