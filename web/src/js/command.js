// The command centre (/): the whole city live — areas by level, events and clusters,
// heat by category and time window, per-area statistics, case details, live changes; and
// the registers: buildings, places and service coverage as layers, a building's linked
// view, an area's profile and the coverage figures per area.

import { api, ApiError, followStream, getToken, loadConfig, loadTaxonomy } from './api.js';
import { BUILDING_KINDS, CARE_TAGS, codeName, fmtNumber, fmtTime, isEn, localName, onLang, PLACE_CLASSES, PLACE_TYPES, placeClass, STATES, statusName, t, THING_STATES } from './i18n.js';
import { addPart, areaId, areasStyle, pointsStyle, setPoints, BUILDING_COLORS, CATEGORY_COLORS, COVERED_COLOR, coverageStyle, createMap, buildingsStyle, placesStyle, PLACE_COLORS, refreshSourceTiles, RISK_COLORS, selectedFilter, eventsStyle, heatStyle, liveStyle, OTHER_COLOR, OVERDUE_COLOR, setSourceTiles, setVisible, tileJson, tilesAt, tilesUrl, UNCOVERED_COLOR } from './mapkit.js';
import { areaHeading, categoryDot, errorText, h, setupHeader, showCase, signInNotice, statusBadge } from './ui.js';
import { trendChart } from './chart.js';
import { count, generatedBadge, placeColor, profileView, showBuilding } from './registers.js';

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
  areaTab: 'stats',
  // register layers
  buildings: false,
  places: false,
  coverage: false,
  classes: { service: true, risk: true, thing: false },
  cov: { type: 'elder_canteen', within_m: '1000', tag: '' },
  selectedBuilding: null,
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
  fillLayerOptions();
  renderLegend();
  ({ tj } = await made);
  performance.mark('mq:style-loaded');
  if (signedIn) enableEvents();
  else $('events-notice').replaceChildren(signInNotice(null));
  setLiveStatus(signedIn ? 'connecting' : 'idle');
  bindMap();
  onLang(() => {
    fillFilters();
    fillLayerOptions();
    renderLegend();
    zoomHints();
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
    registerLegend(swatch),
    h('p', { class: 'muted small' }, t('legend.levels')),
    h('p', { class: 'generated-note small' }, h('span', { class: 'badge generated' }, t('generated')), ' ', t('legend.generated')),
    ),
  );
}

/** The legend of the register layers that are shown. */
function registerLegend(swatch) {
  const parts = [];
  if (state.buildings) {
    parts.push(h('h3', { class: 'legend-sub' }, t('layers.buildings')), h('ul', { class: 'three-col' }, Object.entries(BUILDING_COLORS).map(([k, c]) => swatch(`background:${c}`, codeName(BUILDING_KINDS, k)))));
  }
  if (state.places) {
    const items = [];
    if (state.classes.service) items.push(swatch(`background:${PLACE_COLORS.service};border-radius:50%`, codeName(PLACE_CLASSES, 'service')));
    if (state.classes.risk) {
      items.push(h('li', {}, RISK_COLORS.map((c) => h('span', { class: 'swatch', style: `background:${c};transform:rotate(45deg) scale(.75)`, 'aria-hidden': 'true' })), `${codeName(PLACE_CLASSES, 'risk')} 1–4`));
    }
    if (state.classes.thing) {
      items.push(h('li', {}, Object.keys(THING_STATES).map((k) => h('span', { class: 'swatch', style: `background:${placeColor({ class: 'thing', state: k })};border-radius:50%;width:8px;height:8px`, title: codeName(THING_STATES, k) })), `${codeName(PLACE_CLASSES, 'thing')}`));
    }
    parts.push(h('h3', { class: 'legend-sub' }, t('layers.places')), h('ul', {}, items));
  }
  if (state.coverage) {
    parts.push(
      h('h3', { class: 'legend-sub' }, `${t('layers.coverage')} · ${codeName(PLACE_TYPES, state.cov.type)} ${state.cov.within_m} ${t('m')}`),
      h(
        'ul',
        { class: 'one-col' },
        swatch(`background:${COVERED_COLOR};border:2px solid #fff;border-radius:50%`, codeName(PLACE_TYPES, state.cov.type)),
        swatch(`background:${COVERED_COLOR}22;border:1px solid ${COVERED_COLOR};border-radius:50%`, `${t('cov.within')} ${state.cov.within_m} ${t('m')}`),
        swatch(`background:${COVERED_COLOR};border-radius:50%`, t('cov.covered')),
        swatch(`background:${UNCOVERED_COLOR};border-radius:50%`, t('cov.notCovered')),
      ),
    );
  }
  return parts;
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
  if (state.selectedBuilding != null && map.getSource('buildings')) {
    map.setFeatureState({ source: 'buildings', sourceLayer: 'buildings', id: state.selectedBuilding }, { selected: false });
  }
  state.selectedBuilding = null;
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

/**
 * The panel of a selected area: its case statistics (事件统计) or its profile (区域概况:
 * households, people by age and care tag, buildings, places, organisations), one tab each.
 */
function openArea(props, tab = state.areaTab) {
  map.setFilter('areas-selected', selectedFilter(props.id));
  state.selectedArea = props;
  if (state.patrols) setPatrols(true);
  state.areaTab = tab;
  const view = { stats: null, profile: null, error: null };
  const loaders = {
    stats: () => api(`/api/v1/stats?area=${encodeURIComponent(props.code || props.id)}`, { auth: false }),
    profile: () => api(`/api/v1/areas/${props.id}/profile`),
  };
  const load = (which) => {
    if (view[which] || view[`${which}Loading`]) return;
    view[`${which}Loading`] = true;
    loaders[which]()
      .then((r) => {
        view[which] = r;
        if (state.selectedArea === props) render();
      })
      .catch((e) => {
        view.error = e;
        if (state.selectedArea === props) render();
      });
  };
  const tabButton = (name, label) =>
    h('button', { type: 'button', role: 'tab', class: `tab${state.areaTab === name ? ' active' : ''}`, 'aria-selected': String(state.areaTab === name), dataset: { tab: name }, onclick: () => { state.areaTab = name; view.error = null; render(); } }, label);
  const render = () => {
    const body = $('panel-body');
    const tabNow = state.areaTab;
    load(tabNow);
    const loading = h('p', { class: 'muted' }, t('loading'));
    const content =
      tabNow === 'profile'
        ? view.profile
          ? profileView(view.profile, { generated: !!props.generated, onCoverage: () => openCoverage(props) })
          : loading
        : view.stats
          ? areaStats(props, view.stats)
          : loading;
    body.replaceChildren(
      h('h2', {}, tabNow === 'profile' ? t('prof.title') : t('area.stats')),
      areaHeading(props),
      h('div', { class: 'tabs', role: 'tablist' }, tabButton('stats', t('prof.tabStats')), tabButton('profile', t('prof.tabProfile'))),
      view.error ? h('p', { class: 'error', role: 'alert' }, errorText(view.error)) : content,
    );
  };
  openPanel(render);
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

// ---- registers: layers (buildings, places, coverage), linked view, coverage figures ----

/** The service types a coverage may be asked for (service places only). */
const COVERAGE_TYPES = Object.keys(PLACE_TYPES).filter((k) => placeClass(k) === 'service');
/** Care tags offered for coverage (the sensitive ones are for admins only; left out here). */
const COVERAGE_TAGS = ['very_old', 'elderly_alone', 'disabled', 'left_behind_child', 'low_income', 'veteran'];
/** Lowest zoom of each register tile layer (the server sends empty tiles below). */
const MIN_ZOOM = { buildings: 14, places: 12, coverage: 12 };

/** Register layers shown now (for clicks and the cursor). */
function registerLayers() {
  return ['places', 'coverage', 'buildings-point', 'buildings-fill'].filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
}

function fillLayerOptions() {
  const type = $('cov-type');
  type.replaceChildren(...COVERAGE_TYPES.map((k) => h('option', { value: k }, codeName(PLACE_TYPES, k))));
  type.value = state.cov.type;
  const tag = $('cov-tag');
  tag.replaceChildren(h('option', { value: '' }, t('cov.tagAll')), ...COVERAGE_TAGS.map((k) => h('option', { value: k }, codeName(CARE_TAGS, k))));
  tag.value = state.cov.tag;
  const signedIn = !!getToken();
  $('layer-coverage').disabled = !signedIn;
  $('layer-coverage').title = signedIn ? '' : t('layers.signIn');
  $('coverage-opts').hidden = !state.coverage;
  $('place-classes').hidden = !state.places;
}

/** The TileJSONs of the register layers, fetched when first shown. */
const regTj = {};
async function registerTj(layer) {
  // The coverage TileJSON needs a place type (any: the tiles are asked with their own).
  regTj[layer] ??= tileJson(layer, layer === 'coverage' ? `?type=${encodeURIComponent(state.cov.type)}` : '');
  try {
    return await regTj[layer];
  } catch (e) {
    delete regTj[layer];
    throw e;
  }
}

function layersMessage(e) {
  const el = $('layers-msg');
  el.className = e ? 'small error' : 'small';
  el.textContent = e ? errorText(e) : '';
}

/** "Shown from zoom N" beside each layer that is on while the map is further out. */
function zoomHints() {
  const z = map?.getZoom() ?? 0;
  for (const name of ['buildings', 'places', 'coverage']) {
    const el = $(`${name}-hint`);
    const show = state[name] && z < MIN_ZOOM[name] - 0.01;
    el.hidden = !show;
    if (show) {
      el.replaceChildren(
        t('layers.zoomFrom', { z: MIN_ZOOM[name] }),
        ' ',
        h('button', { type: 'button', class: 'link', onclick: () => map.easeTo({ zoom: MIN_ZOOM[name] + 0.5 }) }, t('layers.zoomTo')),
      );
    }
  }
}

async function setBuildings(on) {
  state.buildings = on;
  $('layer-buildings').checked = on;
  layersMessage(null);
  try {
    if (on) addPart(map, buildingsStyle(await registerTj('buildings')));
    for (const l of ['buildings-fill', 'buildings-line', 'buildings-point']) setVisible(map, l, state.buildings);
  } catch (e) {
    layersMessage(e);
  }
  renderLegend();
  zoomHints();
}

const classFilter = () => ['in', ['get', 'class'], ['literal', Object.keys(state.classes).filter((c) => state.classes[c])]];

async function setPlaces(on) {
  state.places = on;
  $('layer-places').checked = on;
  $('place-classes').hidden = !on;
  layersMessage(null);
  try {
    if (on) addPart(map, placesStyle(await registerTj('places')));
    for (const l of ['places', 'places-label']) {
      setVisible(map, l, state.places);
      if (map.getLayer(l)) map.setFilter(l, l === 'places-label' ? ['all', classFilter(), ['!=', ['get', 'class'], 'thing']] : classFilter());
    }
  } catch (e) {
    layersMessage(e);
  }
  renderLegend();
  zoomHints();
}

const COVERAGE_LAYERS = ['coverage-reach', 'coverage', 'coverage-uncovered', 'coverage-places'];
const coverageParams = () => ({ type: state.cov.type, within_m: state.cov.within_m, tag: state.cov.tag });

/** Shows the coverage map of the chosen type, distance and tag (re-made when they change). */
async function setCoverage(on) {
  state.coverage = on;
  $('layer-coverage').checked = on;
  $('coverage-opts').hidden = !on;
  layersMessage(null);
  try {
    for (const l of COVERAGE_LAYERS) if (map.getLayer(l)) map.removeLayer(l);
    for (const s of ['coverage', 'coverage-uncovered']) if (map.getSource(s)) map.removeSource(s);
    if (on) {
      const [places, coverage] = await Promise.all([registerTj('places'), registerTj('coverage')]);
      const part = placesStyle(places);
      // The places source feeds the reach discs; its own layers stay as the toggle says.
      addPart(map, part);
      for (const l of ['places', 'places-label']) setVisible(map, l, state.places);
      addPart(map, coverageStyle(coverage, coverageParams(), { lat: map.getCenter().lat }));
      openCoverage(state.selectedArea);
    }
  } catch (e) {
    layersMessage(e);
  }
  renderLegend();
  zoomHints();
}

/** Zoom from which the patrol tracks are drawn as lines; further out (where the tracks of the
 * city are too many to fetch and draw) the density of every track point of the 30 days is
 * drawn from the `patrols` tiles, fading out up to `PATROL_LINES_FROM + 2`. */
const PATROL_LINES_FROM = 12;

/** The source of the density of patrol track points (`patrols` tiles: 64 × 64 cells a
 * tile, `n` points each; the last 30 days, in the token's scope). */
function patrolDensitySource(tj) {
  return { type: 'vector', tiles: [tilesUrl(tj)], minzoom: 0, maxzoom: PATROL_LINES_FROM + 2, bounds: tj.bounds };
}

/** Shows the density of patrol track points as a heat map beneath the track lines. */
async function showPatrolDensity() {
  if (map.getSource('patrols-density')) {
    // Not cached by the server: fetched again, the tiles hold the points sent since.
    map.refreshTiles('patrols-density');
  } else {
    const tj = await registerTj('patrols');
    if (!map.getSource('patrols-density')) map.addSource('patrols-density', patrolDensitySource(tj));
    if (!map.getLayer('patrols-density')) {
      map.addLayer(
        {
          id: 'patrols-density',
          type: 'heatmap',
          source: 'patrols-density',
          'source-layer': 'patrols',
          maxzoom: PATROL_LINES_FROM + 2,
          paint: {
            // A cell far out holds the points of many walks: the weight is the log of its
            // count against a scale that shrinks with the zoom (as the events' heat).
            'heatmap-weight': ['interpolate', ['linear'], ['zoom'], ...[[6, 8], [10, 6], [14, 3]].flatMap(([z, scale]) => [z, ['min', 1, ['/', ['ln', ['+', 1, ['get', 'n']]], scale]]])],
            'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 6, 0.6, 14, 1.2],
            'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 6, 6, 12, 14, 14, 20],
            'heatmap-opacity': ['interpolate', ['linear'], ['zoom'], PATROL_LINES_FROM, 0.85, PATROL_LINES_FROM + 2, 0],
            'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'], 0, 'rgba(106,27,154,0)', 0.25, '#ce93d8', 0.5, '#ab47bc', 0.75, '#7b1fa2', 1, '#4a148c'],
          },
        },
        'patrols',
      );
    }
  }
  setVisible(map, 'patrols-density', state.patrols);
  // For tests: the density layer is on the map.
  mq.patrolDensity = true;
}

/** The patrol tracks of the last 30 days (of the selected area, else the city): translucent
 * lines, darker where walked more, from zoom `PATROL_LINES_FROM`; further out the density of
 * all their points; staff only. */
async function setPatrols(on) {
  state.patrols = on;
  $('layer-patrols').checked = on;
  const note = $('patrols-note');
  note.hidden = !on;
  layersMessage(null);
  if (!map.getSource('patrols')) {
    addPart(map, {
      sources: { patrols: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } } },
      layers: [{ id: 'patrols', type: 'line', source: 'patrols', minzoom: PATROL_LINES_FROM, paint: { 'line-color': '#6a1b9a', 'line-opacity': 0.25, 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 1, 16, 3] } }],
    });
    // A selected grid's buildings that no patrol passed within 30 m and no visit reached.
    addPart(map, pointsStyle('patrols-missed', { 'circle-radius': 7, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#d32f2f', 'circle-stroke-width': 2 }));
    // Visits overdue in a selected community or grid, shown as overdue cases are (red).
    addPart(map, pointsStyle('visits-overdue', { 'circle-radius': 5, 'circle-color': '#ff8f00', 'circle-stroke-color': OVERDUE_COLOR, 'circle-stroke-width': 2.5 }));
  }
  setVisible(map, 'patrols', on);
  setVisible(map, 'patrols-density', on);
  setVisible(map, 'patrols-missed', on);
  setVisible(map, 'visits-overdue', on);
  if (!on) return;
  const q = new URLSearchParams({ from: new Date(Date.now() - 30 * 86_400_000).toISOString(), limit: '500' });
  if (state.selectedArea?.code) q.set('area', state.selectedArea.code);
  try {
    const fc = await api(`/api/v1/patrols?${q}`);
    const lines = fc.features.filter((f) => f.geometry);
    setPoints(map, 'patrols', lines);
    mq.patrols = lines;
    note.textContent = t('layers.patrolsNote', { n: lines.length });
    // The list answered, so the token may read patrols: their density, zoomed out.
    await showPatrolDensity();
    // For a community or a grid: the visits overdue (roles that read people; others see none).
    setPoints(map, 'visits-overdue', []);
    mq.visitsOverdue = null;
    if (['community', 'grid'].includes(state.selectedArea?.level)) {
      try {
        const due = await api(`/api/v1/visits/due?area=${state.selectedArea.code}&within_days=0&limit=5000`);
        const late = due.subjects.filter((s) => s.overdue);
        setPoints(map, 'visits-overdue', late.map((s) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [s.lon, s.lat] }, properties: { label: s.label } })));
        mq.visitsOverdue = late.length;
        note.textContent += ' · ' + t('layers.visitsOverdue', { n: late.length });
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 403)) throw e;
      }
    }
    // For a grid: its patrol coverage of the 30 days, the buildings missed ringed in red.
    setPoints(map, 'patrols-missed', []);
    mq.patrolCoverage = null;
    if (state.selectedArea?.level === 'grid') {
      const c = await api(`/api/v1/patrols/coverage?grid=${state.selectedArea.code}&limit=2000`);
      setPoints(map, 'patrols-missed', c.uncovered.features);
      mq.patrolCoverage = c;
      note.textContent += ' · ' + t('layers.patrolCoverage', { share: c.share == null ? '—' : `${(c.share * 100).toFixed(0)}%`, covered: c.covered, buildings: c.buildings });
    }
  } catch (e) {
    setPoints(map, 'patrols', []);
    layersMessage(e);
  }
}

mq.setLayer = (name, on) => ({ buildings: setBuildings, places: setPlaces, coverage: setCoverage, patrols: setPatrols })[name](on);

function bindLayers() {
  $('layer-buildings').addEventListener('change', (e) => setBuildings(e.target.checked));
  $('layer-places').addEventListener('change', (e) => setPlaces(e.target.checked));
  for (const c of Object.keys(state.classes)) {
    $(`class-${c}`).addEventListener('change', (e) => {
      state.classes[c] = e.target.checked;
      if (state.places) setPlaces(true);
    });
  }
  $('layer-coverage').addEventListener('change', (e) => setCoverage(e.target.checked));
  $('layer-patrols').addEventListener('change', (e) => setPatrols(e.target.checked));
  for (const [id, key] of [['cov-type', 'type'], ['cov-within', 'within_m'], ['cov-tag', 'tag']]) {
    $(id).addEventListener('change', (e) => {
      state.cov[key] = e.target.value;
      if (state.coverage) setCoverage(true);
    });
  }
  $('cov-summary').addEventListener('click', () => openCoverage(state.selectedArea));
  map.on('zoomend', zoomHints);
}

/** The coverage figures of `area` (or the whole city) per sub-area, in the panel. */
function openCoverage(area) {
  const params = new URLSearchParams({ type: state.cov.type, within_m: state.cov.within_m, limit: '5000' });
  if (state.cov.tag) params.set('tag', state.cov.tag);
  if (area) params.set('area', area.id);
  let answer = null;
  let error = null;
  const render = () => {
    const body = $('panel-body');
    body.replaceChildren(
      h('h2', {}, t('cov.title')),
      answer ? coverageView(answer) : error ? h('p', { class: 'error', role: 'alert' }, errorText(error)) : h('p', { class: 'muted' }, t('loading')),
    );
  };
  openPanel(render);
  api(`/api/v1/coverage?${params}`)
    .then((r) => {
      answer = mq.coverage = r;
      map.getSource('coverage-uncovered')?.setData(r.uncovered);
      render();
    })
    .catch((e) => {
      error = e;
      render();
    });
}
mq.openCoverage = openCoverage;

function coverageView(c) {
  const tag = c.tag;
  const num = (v) => (typeof v === 'number' ? v : null);
  const rate = (a, b) => (num(a) != null && num(b) != null && a + b > 0 ? a / (a + b) : null);
  const sum = (key) => c.rows.reduce((s, r) => s + (num(r[key]) ?? 0), 0);
  const exactSums = c.rows.every((r) => num(r.households_within) != null && num(r.households_beyond) != null);
  const rateCell = (within, beyond) => {
    const x = rate(within, beyond);
    return h('td', { class: 'rate' }, x == null ? '—' : h('span', { class: 'rate-bar', style: `--p:${(x * 100).toFixed(1)}%` }, `${Math.round(x * 100)}%`));
  };
  const cols = tag ? ['tagged_within', 'tagged_beyond'] : ['households_within', 'households_beyond'];
  const rows = [...c.rows].sort((a, b) => (rate(a[cols[0]], a[cols[1]]) ?? 2) - (rate(b[cols[0]], b[cols[1]]) ?? 2));
  const areaName = c.area ? c.area.name : t('cov.city');
  return h(
    'div',
    { class: 'coverage-view', dataset: { type: c.type, within: c.within_m } },
    h('p', {}, h('strong', {}, areaName), ' · ', codeName(PLACE_TYPES, c.type), ` · ${c.within_m} ${t('m')}`, tag ? ` · ${codeName(CARE_TAGS, tag)}` : ''),
    h('p', { class: 'muted small' }, t('cov.explain', { type: codeName(PLACE_TYPES, c.type), m: c.within_m, area: areaName })),
    c.exact ? null : h('p', { class: 'notice small' }, t('bld.small')),
    h(
      'table',
      { class: 'coverage-table' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col', rowspan: 2 }, t('cov.area')), h('th', { scope: 'colgroup', colspan: 2 }, t('cov.households')), h('th', { scope: 'colgroup', colspan: 2 }, tag ? codeName(CARE_TAGS, tag) : t('cov.residents')), h('th', { scope: 'col', rowspan: 2 }, t('cov.rate'))),
        h('tr', {}, ...[1, 2].flatMap(() => [h('th', { scope: 'col' }, t('cov.within_')), h('th', { scope: 'col' }, t('cov.beyond'))])),
      ),
      h(
        'tbody',
        {},
        rows.map((r) => {
          const people = tag ? ['tagged_within', 'tagged_beyond'] : ['residents_within', 'residents_beyond'];
          return h(
            'tr',
            { dataset: { area: r.area.id } },
            h('th', { scope: 'row' }, r.area.name || r.area.code),
            h('td', {}, count(r.households_within)),
            h('td', { class: num(r.households_beyond) ? 'beyond' : '' }, count(r.households_beyond)),
            h('td', {}, count(r[people[0]])),
            h('td', { class: num(r[people[1]]) ? 'beyond' : '' }, count(r[people[1]])),
            rateCell(r[cols[0]], r[cols[1]]),
          );
        }),
      ),
      exactSums
        ? h(
            'tfoot',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, t('cov.total')),
              h('td', {}, fmtNumber(sum('households_within'))),
              h('td', {}, fmtNumber(sum('households_beyond'))),
              h('td', {}, fmtNumber(sum(tag ? 'tagged_within' : 'residents_within'))),
              h('td', {}, fmtNumber(sum(tag ? 'tagged_beyond' : 'residents_beyond'))),
              rateCell(sum(cols[0]), sum(cols[1])),
            ),
          )
        : null,
    ),
    h('p', { class: 'small' }, h('span', { class: 'swatch ring', style: `border-color:${UNCOVERED_COLOR}` }), ' ', t('cov.uncovered', { n: fmtNumber(c.uncovered_total) })),
    h('p', { class: 'muted small' }, t('cov.took', { ms: c.took_ms.toFixed(1) }), ' · ', h('span', { class: 'badge generated' }, t('generated'))),
  );
}

/** The linked view of building `id` in the panel (and the building outlined on the map). */
function openBuilding(id) {
  if (state.selectedBuilding != null && map.getSource('buildings')) {
    map.setFeatureState({ source: 'buildings', sourceLayer: 'buildings', id: state.selectedBuilding }, { selected: false });
  }
  state.selectedBuilding = id;
  if (map.getSource('buildings')) map.setFeatureState({ source: 'buildings', sourceLayer: 'buildings', id }, { selected: true });
  openPanel(() => {
    const body = $('panel-body');
    body.replaceChildren(h('h2', {}, t('bld.title')), h('div', { id: 'building' }));
    showBuilding(body.querySelector('#building'), id, { onCase: openCase }).then((f) => {
      if (f) mq.building = f;
    });
  });
}
mq.openBuilding = openBuilding;

/** A place clicked on the map: what the tile says of it. */
function openPlace(f) {
  const p = { ...f.properties, id: f.id };
  openPanel(() => {
    const cls = p.class || placeClass(p.type);
    $('panel-body').replaceChildren(
      h('h2', {}, codeName(PLACE_CLASSES, cls)),
      h('h3', { class: 'place-title' }, p.name, generatedBadge(p.generated)),
      h(
        'dl',
        { class: 'props' },
        h('dt', {}, t('bld.kind')),
        h('dd', {}, h('span', { class: 'dot', style: `background:${placeColor(p)}` }), ' ', codeName(PLACE_TYPES, p.type)),
        p.risk_level ? [h('dt', {}, codeName(PLACE_CLASSES, 'risk')), h('dd', {}, h('span', { class: `badge risk risk-${p.risk_level}` }, t('bld.riskLevel', { n: p.risk_level })))] : null,
        p.state ? [h('dt', {}, t('bld.state')), h('dd', {}, codeName(THING_STATES, p.state))] : null,
      ),
    );
  });
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
    const reg = registerLayers();
    const r = reg.length ? map.queryRenderedFeatures(box, { layers: reg })[0] : null;
    if (r && r.layer.id === 'places') {
      openPlace(r);
      return;
    }
    if (r && (r.layer.id.startsWith('buildings') || r.layer.id === 'coverage')) {
      openBuilding(r.id ?? r.properties.id);
      return;
    }
    const area = map.queryRenderedFeatures(e.point, { layers: ['areas-fill'] })[0];
    if (area) openArea({ ...area.properties, id: areaId(area) });
  });
  let hovered = null;
  map.on('mousemove', (e) => {
    const layers = [...eventLayers(), ...registerLayers(), 'areas-fill'];
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
  bindLayers();
}

mq.ready = main().catch((e) => {
  console.error(e);
  document.getElementById('map').append(h('p', { class: 'error fatal', role: 'alert' }, errorText(e)));
  throw e;
});
