// The field view (/field, phone-sized): where am I (grid, parents, grid workers), the
// nearest open cases (list and map, with distances), a case and its workflow actions.

import { api, ApiError, loadConfig } from './api.js';
import { fmtDistance, fmtNumber, levelName, localName, onLang, t } from './i18n.js';
import { areasStyle, categoryColorExpr, createMap, pointsStyle, selectedFilter, setPoints } from './mapkit.js';
import { areaHeading, categoryDot, categoryLabel, errorText, h, setupHeader, showCase, signInNotice, statusBadge } from './ui.js';

const mq = (window.mq = { located: null, nearby: null, ready: null });
const $ = (id) => document.getElementById(id);

let map;
let here = null;
let openId = null;

async function start() {
  setupHeader({ onAuthChange: () => here && locateAt(...here) });
  const config = await loadConfig();
  const made = await createMap('map', config, {
    layers: ['areas'],
    parts: (tj) => [
      areasStyle(tj.areas, { tint: false }),
      pointsStyle('nearby', {
        'circle-radius': 8,
        'circle-color': categoryColorExpr('top'),
        'circle-stroke-color': ['case', ['get', 'overdue'], '#e53935', '#ffffff'],
        'circle-stroke-width': ['case', ['get', 'overdue'], 3, 1.5],
      }),
      pointsStyle('me', { 'circle-radius': 9, 'circle-color': '#1e88e5', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 }),
    ],
  });
  map = made.map;
  mq.map = map;
  map.on('click', (e) => {
    const f = map.queryRenderedFeatures(e.point, { layers: ['nearby'] })[0];
    if (f) {
      openCase(f.properties.id);
      return;
    }
    locateAt(e.lngLat.lng, e.lngLat.lat);
  });
  map.on('mousemove', (e) => {
    map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers: ['nearby'] }).length ? 'pointer' : 'crosshair';
  });
  $('locate').addEventListener('click', locateMe);
  $('back').addEventListener('click', closeCase);
  onLang(() => {
    if (mq.located) renderWhere(mq.located);
    if (mq.nearby) renderNearby(mq.nearby);
    if (openId) openCase(openId);
  });
}

function message(text, error = false) {
  const el = $('field-msg');
  el.className = `form-msg${error ? ' error' : ''}`;
  el.setAttribute('role', error ? 'alert' : 'status');
  el.textContent = text || '';
}

function locateMe() {
  if (!navigator.geolocation) {
    message(t('field.geoFailed'), true);
    return;
  }
  message(t('loading'));
  navigator.geolocation.getCurrentPosition(
    (pos) => locateAt(pos.coords.longitude, pos.coords.latitude),
    () => message(t('field.geoFailed'), true),
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 },
  );
}

/** Finds the grid at a point and the nearest open cases around it. */
async function locateAt(lon, lat) {
  here = [lon, lat];
  message('');
  setPoints(map, 'me', [{ type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: {} }]);
  map.easeTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 15) });
  const q = `lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}`;
  const where = api(`/api/v1/locate?${q}`, { auth: false })
    .then((loc) => {
      mq.located = loc;
      renderWhere(loc);
      map.setFilter('areas-selected', selectedFilter(loc.grid.id));
    })
    .catch((e) => {
      mq.located = null;
      map.setFilter('areas-selected', selectedFilter(-1));
      $('where').replaceChildren(h('p', { class: 'notice' }, e instanceof ApiError && e.status === 404 ? t('field.noGrid') : errorText(e)));
    });
  const near = api(`/api/v1/events/nearby?${q}&limit=20`)
    .then((fc) => {
      mq.nearby = fc.features;
      renderNearby(fc.features);
    })
    .catch((e) => {
      mq.nearby = null;
      setPoints(map, 'nearby', []);
      $('nearby').replaceChildren(h('li', {}, e instanceof ApiError && (e.status === 401 || e.status === 403) ? signInNotice(e) : h('p', { class: 'error', role: 'alert' }, errorText(e))));
    });
  await Promise.all([where, near]);
  document.body.dataset.located = 'true';
}
mq.locateAt = locateAt;

function renderWhere(loc) {
  const g = loc.grid;
  const workers = g.workers && g.workers.length ? g.workers.join('、') : t('field.noWorkers');
  $('where').replaceChildren(
    h(
      'div',
      { class: 'where card', dataset: { grid: g.code } },
      h('p', { class: 'muted small' }, t('field.myGrid')),
      areaHeading(g),
      h('p', {}, h('strong', {}, `${t('field.workers')}: `), h('span', { class: 'workers' }, workers)),
      h('p', { class: 'small' }, `${levelName('grid')} · ${fmtNumber(g.households)} ${t('area.households')}`),
      h('p', { class: 'small parents' }, h('strong', {}, `${t('field.parents')}: `), loc.ancestors.map((a) => `${localName(a)}（${levelName(a.level)}）`).join(' › ')),
    ),
  );
}

function renderNearby(features) {
  setPoints(
    map,
    'nearby',
    features.map((f) => ({ ...f, properties: { id: f.id, top: f.properties.category.split('.')[0], overdue: f.properties.overdue } })),
  );
  if (!features.length) {
    $('nearby').replaceChildren(h('li', { class: 'muted' }, t('field.none')));
    return;
  }
  $('nearby').replaceChildren(
    ...features.map((f) => {
      const p = f.properties;
      return h(
        'li',
        { dataset: { id: f.id } },
        h(
          'button',
          { type: 'button', class: 'case-item', onclick: () => openCase(f.id) },
          h('span', { class: 'distance' }, fmtDistance(p.distance_m)),
          h('span', { class: 'case-main' }, categoryDot(p.category), ' ', h('strong', {}, p.title), h('br'), h('span', { class: 'small muted' }, `#${f.id} · ${categoryLabel(p)} `), statusBadge(p.status, p.overdue)),
        ),
      );
    }),
  );
}

function openCase(id) {
  openId = id;
  $('nearby-wrap').hidden = true;
  $('case-wrap').hidden = false;
  showCase($('case'), id, {
    onChanged: () => {
      if (here) refreshNearby();
    },
  });
  $('case-wrap').scrollIntoView({ block: 'start' });
}

function closeCase() {
  openId = null;
  $('case-wrap').hidden = true;
  $('nearby-wrap').hidden = false;
}

async function refreshNearby() {
  const [lon, lat] = here;
  try {
    const fc = await api(`/api/v1/events/nearby?lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}&limit=20`);
    mq.nearby = fc.features;
    renderNearby(fc.features);
  } catch {
    // the list stays as it was; the case view shows the error of its own request
  }
}

mq.ready = start().catch((e) => {
  console.error(e);
  message(errorText(e), true);
  throw e;
});
