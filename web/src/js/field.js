// The field view (/field, phone-sized): where am I (grid, parents, grid workers), the
// nearest open cases (list and map, with distances), a case and its workflow actions, and
// "my grid" (我的网格): the registers of the grid I am in — its figures, the people in care
// (masked, as the API gives them), risk sites and service places nearby.

import { api, ApiError, loadConfig } from './api.js';
import { CARE_TAGS, codeName, fmtDistance, fmtNumber, levelName, localName, onLang, t } from './i18n.js';
import { areasStyle, categoryColorExpr, createMap, PLACE_COLORS, pointsStyle, RISK_COLORS, selectedFilter, setPoints } from './mapkit.js';
import { areaHeading, categoryDot, categoryLabel, errorText, h, setupHeader, showCase, signInNotice, statusBadge } from './ui.js';
import { count, distanceM, placeLine, residentLine, tagChips, total } from './registers.js';
import { addPoint, flush, loadDue, patrolBar, patrolState } from './work.js';

const mq = (window.mq = { located: null, nearby: null, ready: null, mine: null, patrol: { state: patrolState, addPoint, flush } });
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
      pointsStyle('mine-places', {
        'circle-radius': 6,
        'circle-color': ['match', ['get', 'class'], 'risk', ['match', ['number', ['get', 'risk_level'], 1], 1, RISK_COLORS[0], 2, RISK_COLORS[1], 3, RISK_COLORS[2], RISK_COLORS[3]], PLACE_COLORS.service],
        'circle-stroke-color': '#ffffff',
        'circle-stroke-width': 1.5,
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
  $('patrol').replaceChildren(patrolBar());
  for (const name of ['nearby', 'mine', 'work']) {
    $(`tab-${name}`).addEventListener('click', () => {
      showTab(name);
      document.querySelector('.field-tabs').scrollIntoView({ block: 'start' });
    });
  }
  onLang(() => {
    if (mq.located) renderWhere(mq.located);
    if (mq.nearby) renderNearby(mq.nearby);
    if (openId) openCase(openId);
    renderMine();
  });
  renderMine();
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
  if (tab === 'mine') loadMine();
  else mine = null;
  if (tab === 'work') loadDue($('due'), here, mq.located?.grid?.code);
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
  $('mine-wrap').hidden = true;
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
  showTab(tab);
}

// ---- my grid (我的网格): the registers of the grid I am in ------------------------------

let tab = 'nearby';
/** What the "my grid" tab shows: `{grid, profile, residents, places, error}`, or null. */
let mine = null;
let mineFilter = 'tagged';
/** Nearby places are those within this distance of where I am. */
const NEAR_M = 1000;

function showTab(which) {
  tab = which;
  for (const [name, panel] of [['nearby', 'nearby-wrap'], ['mine', 'mine-wrap'], ['work', 'work-wrap']]) {
    const on = name === which;
    $(`tab-${name}`).classList.toggle('active', on);
    $(`tab-${name}`).setAttribute('aria-selected', String(on));
    $(panel).hidden = !on || openId != null;
  }
  if (openId != null) return;
  if (which === 'work') loadDue($('due'), here, mq.located?.grid?.code);
  setPoints(map, 'mine-places', which === 'mine' && mine?.places ? mine.places.filter((p) => p.d <= NEAR_M) : []);
  if (which === 'mine' && mq.located && (!mine || mine.grid.id !== mq.located.grid.id)) loadMine();
  else renderMine();
}
mq.showTab = showTab;

/** Loads the registers of the located grid: its profile, residents (masked) and places nearby. */
async function loadMine() {
  const loc = mq.located;
  if (!loc) {
    mine = null;
    renderMine();
    return;
  }
  const grid = loc.grid;
  const current = { grid, profile: null, residents: null, places: null, errors: {} };
  mine = current;
  renderMine();
  const [lon, lat] = here;
  const d = 0.011;
  const bbox = [lon - d, lat - d, lon + d, lat + d].map((v) => v.toFixed(5)).join(',');
  const take = (key, promise) =>
    promise
      .then((v) => {
        current[key] = v;
      })
      .catch((e) => {
        current.errors[key] = e;
      });
  await Promise.all([
    take('profile', api(`/api/v1/areas/${grid.id}/profile`)),
    take('residents', api(`/api/v1/residents?grid=${encodeURIComponent(grid.code)}&limit=1000`).then((r) => r.residents)),
    take(
      'places',
      api(`/api/v1/places?bbox=${bbox}&limit=1000`).then((fc) =>
        fc.features
          .filter((f) => f.properties.class !== 'thing')
          .map((f) => ({ ...f, properties: { ...f.properties }, d: distanceM(here, f.geometry.coordinates) }))
          .sort((a, b) => a.d - b.d),
      ),
    ),
  ]);
  if (mine !== current) return;
  mq.mine = current;
  if (tab === 'mine') setPoints(map, 'mine-places', (current.places || []).filter((p) => p.d <= NEAR_M));
  renderMine();
}

function renderMine() {
  const wrap = $('mine-wrap');
  if (!mq.located || !mine) {
    wrap.replaceChildren(h('p', { class: 'notice' }, t('mine.needLocate')));
    return;
  }
  const { grid, profile, residents, places, errors } = mine;
  const problem = (e) =>
    e instanceof ApiError && e.status === 404
      ? h('p', { class: 'notice out-of-scope' }, t('mine.outOfScope'))
      : e instanceof ApiError && e.status === 403
        ? h('p', { class: 'notice' }, t('mine.people'))
        : e instanceof ApiError && e.status === 401
          ? signInNotice(e)
          : h('p', { class: 'error', role: 'alert' }, errorText(e));
  const loading = () => h('p', { class: 'muted' }, t('loading'));
  const glance = profile
    ? [
        h(
          'div',
          { class: 'kpis' },
          [
            [t('prof.households'), count(profile.households)],
            [t('prof.residents'), count(profile.residents)],
            [t('prof.buildings'), fmtNumber(total(profile.buildings))],
          ].map(([k, v]) => h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, v), h('div', { class: 'kpi-label' }, k))),
        ),
        tagChips(
          Object.keys(profile.tags).filter((c) => profile.tags[c] !== 0),
          profile.tags,
        ),
      ]
    : errors.profile
      ? problem(errors.profile)
      : loading();
  let people;
  if (residents) {
    const shown = residents.filter((r) => (mineFilter === 'all' ? true : mineFilter === 'tagged' ? r.tags.length > 0 : r.tags.includes(mineFilter)));
    // Everyone in care first: the eldest first.
    shown.sort((a, b) => b.tags.length - a.tags.length || b.age - a.age);
    const max = 200;
    const select = h(
      'select',
      { id: 'mine-filter', 'aria-label': t('mine.show') },
      h('option', { value: 'tagged' }, t('mine.anyTag')),
      Object.keys(CARE_TAGS)
        .filter((c) => residents.some((r) => r.tags.includes(c)))
        .map((c) => h('option', { value: c }, `${codeName(CARE_TAGS, c)} (${residents.filter((r) => r.tags.includes(c)).length})`)),
      h('option', { value: 'all' }, t('mine.everyone')),
    );
    select.value = mineFilter;
    select.addEventListener('change', () => {
      mineFilter = select.value;
      renderMine();
    });
    people = [
      h('div', { class: 'filter' }, h('label', {}, h('span', {}, t('mine.show')), select)),
      h('p', { class: 'muted small mine-count' }, t('mine.count', { shown: fmtNumber(shown.length), total: fmtNumber(residents.length) })),
      shown.length ? h('ul', { class: 'mine-residents' }, shown.slice(0, max).map(residentLine)) : h('p', { class: 'muted' }, t('mine.noneTagged')),
      shown.length > max ? h('p', { class: 'muted small' }, t('mine.more', { n: shown.length - max })) : null,
    ];
  } else {
    people = errors.residents ? problem(errors.residents) : loading();
  }
  const placeList = (cls) => {
    if (!places) return errors.places ? problem(errors.places) : loading();
    const near = places.filter((p) => p.properties.class === cls && p.d <= NEAR_M).slice(0, 12);
    return near.length ? h('ul', { class: `plain places ${cls}` }, near.map((p) => placeLine({ ...p.properties, id: p.id }, p.d))) : h('p', { class: 'muted small' }, t('bld.none'));
  };
  wrap.replaceChildren(
    h('div', { class: 'mine-head', dataset: { grid: grid.code, gridId: grid.id } }, h('h2', {}, `${t('mine.tab')} · ${localName(grid)}`)),
    h('h3', {}, t('mine.glance')),
    h('div', { class: 'mine-glance' }, glance),
    h('h3', {}, t('mine.residents')),
    h('div', { class: 'mine-people' }, people),
    h('h3', {}, t('mine.risks'), ' ', h('span', { class: 'muted small' }, t('mine.radius'))),
    placeList('risk'),
    h('h3', {}, t('mine.services'), ' ', h('span', { class: 'muted small' }, t('mine.radius'))),
    placeList('service'),
  );
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
