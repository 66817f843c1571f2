// The report form (/report): category, location (tap or my position) with the grid it goes
// to, title, description, contact, photo; submitted once (Idempotency-Key) with clear errors;
// confirmed with the case id, possible duplicates and, for a signed-in reporter, a link to
// follow the case (/report?follow=<id>).

import { api, getToken, loadConfig, loadTaxonomy, uuid } from './api.js';
import { fmtDistance, levelName, localName, onLang, statusName, t } from './i18n.js';
import { areasStyle, createMap, pointsStyle, selectedFilter, setPoints } from './mapkit.js';
import { dataUrlOf, errorText, h, setupHeader, showCase, shrinkPhoto } from './ui.js';

const MAX_PHOTO = 5 * 1024 * 1024;
const mq = (window.mq = { ready: null, lastReport: null });
const $ = (id) => document.getElementById(id);

let map;
let taxonomy;
let point = null;
let photo = null; // {data: base64}
let key = uuid();
let located = null;

async function start() {
  setupHeader({ onAuthChange: renderAs });
  renderAs();
  const follow = new URLSearchParams(location.search).get('follow');
  if (follow && /^\d+$/.test(follow)) {
    showFollow(follow);
    return;
  }
  const [config, tax] = await Promise.all([loadConfig(), loadTaxonomy()]);
  taxonomy = tax;
  fillCategories();
  const made = await createMap('map', config, {
    layers: ['areas'],
    parts: (tj) => [
      areasStyle(tj.areas, { tint: false }),
      pointsStyle('pin', { 'circle-radius': 9, 'circle-color': '#d32f2f', 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 }),
    ],
  });
  map = made.map;
  mq.map = map;
  map.getCanvas().style.cursor = 'crosshair';
  map.on('click', (e) => setLocation(e.lngLat.lng, e.lngLat.lat));
  $('use-mine').addEventListener('click', useMine);
  $('photo').addEventListener('change', onPhoto);
  $('report-form').addEventListener('submit', submit);
  onLang(() => {
    fillCategories();
    renderAs();
    if (located !== null) renderGrid();
  });
}

function renderAs() {
  $('report-as').textContent = getToken() ? t('auth.signed') : t('report.anonymous');
}

function fillCategories() {
  const sel = $('category');
  const keep = sel.value;
  sel.replaceChildren(
    h('option', { value: '' }, t('report.choose')),
    ...taxonomy.categories.map((c) => h('optgroup', { label: localName(c) }, c.subcategories.map((s) => h('option', { value: `${c.code}.${s.code}` }, localName(s))))),
  );
  sel.value = keep;
}

function message(text, kind = '') {
  const el = $('report-msg');
  el.className = `form-msg ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.textContent = text || '';
}

function useMine() {
  if (!navigator.geolocation) {
    message(t('field.geoFailed'), 'error');
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      setLocation(pos.coords.longitude, pos.coords.latitude);
      map.easeTo({ center: [pos.coords.longitude, pos.coords.latitude], zoom: Math.max(map.getZoom(), 15) });
    },
    () => message(t('field.geoFailed'), 'error'),
    { enableHighAccuracy: true, timeout: 10000 },
  );
}

/** Places the report and shows the grid that will handle it. */
async function setLocation(lon, lat) {
  point = [lon, lat];
  setPoints(map, 'pin', [{ type: 'Feature', geometry: { type: 'Point', coordinates: point }, properties: {} }]);
  $('grid').textContent = t('loading');
  try {
    located = await api(`/api/v1/locate?lon=${lon.toFixed(7)}&lat=${lat.toFixed(7)}`, { auth: false });
    map.setFilter('areas-selected', selectedFilter(located.grid.id));
  } catch (e) {
    located = e.status === 404 ? false : null;
    if (located === null) {
      $('grid').textContent = errorText(e);
      return;
    }
  }
  renderGrid();
}
mq.setLocation = setLocation;

function renderGrid() {
  const el = $('grid');
  if (!located) {
    el.className = 'grid-info error';
    el.textContent = t('report.noGrid');
    return;
  }
  el.className = 'grid-info';
  el.replaceChildren(
    h('strong', {}, `${t('report.grid')}: `),
    h('span', { class: 'grid-name', dataset: { code: located.grid.code } }, localName(located.grid)),
    ` (${located.grid.code})`,
    h('br'),
    h('span', { class: 'small muted' }, located.ancestors.map((a) => `${localName(a)}（${levelName(a.level)}）`).join(' › ')),
  );
}

// ---- photo ---------------------------------------------------------------------------

async function onPhoto(e) {
  photo = null;
  $('photo-preview').replaceChildren();
  const file = e.target.files[0];
  if (!file) return;
  if (!['image/jpeg', 'image/png', 'image/webp'].includes(file.type)) {
    message(t('report.photoType'), 'error');
    e.target.value = '';
    return;
  }
  message('');
  try {
    const blob = await shrinkPhoto(file);
    if (blob.size > MAX_PHOTO) {
      message(t('report.photoTooBig'), 'error');
      e.target.value = '';
      return;
    }
    const dataUrl = await dataUrlOf(blob);
    photo = { data: dataUrl.slice(dataUrl.indexOf(',') + 1) };
    $('photo-preview').append(h('img', { src: dataUrl, alt: t('event.photo') }));
  } catch (err) {
    message(errorText(err), 'error');
  }
}

// ---- submit --------------------------------------------------------------------------

async function submit(e) {
  e.preventDefault();
  const category = $('category').value;
  const title = $('title').value.trim();
  if (!category) return invalid('category', 'report.needCategory');
  if (!point) return invalid('map', 'report.needLocation');
  if (!title) return invalid('title', 'report.needTitle');
  const body = {
    type: 'Feature',
    geometry: { type: 'Point', coordinates: point },
    properties: {
      category,
      title,
      description: $('description').value.trim() || undefined,
      reporter: $('contact').value.trim() || undefined,
      photo: photo || undefined,
    },
  };
  const btn = $('submit');
  btn.disabled = true;
  btn.textContent = t('report.submitting');
  message('');
  try {
    // The same key for every retry of this form: the server records the report once.
    const f = await api('/api/v1/events', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
    mq.lastReport = f;
    done(f);
  } catch (err) {
    message(errorText(err), 'error');
  } finally {
    btn.disabled = false;
    btn.textContent = t('report.submit');
  }
}

function invalid(id, messageKey) {
  message(t(messageKey), 'error');
  $(id).focus?.();
  return false;
}

function done(f) {
  const dups = f.properties.possible_duplicates || [];
  $('report-form').hidden = true;
  const box = $('report-done');
  box.hidden = false;
  box.replaceChildren(
    h(
      'div',
      { class: 'card success', role: 'status' },
      h('h2', {}, t('report.ok')),
      h('p', {}, `${t('report.caseId')}: `, h('strong', { class: 'case-id', dataset: { id: f.id } }, `#${f.id}`)),
      getToken() ? h('p', {}, h('a', { href: `/report?follow=${f.id}`, class: 'follow-link' }, t('report.follow'))) : h('p', { class: 'muted' }, t('report.keepId')),
      dups.length
        ? h(
            'section',
            {},
            h('h3', {}, t('report.duplicates')),
            h('ul', { class: 'duplicates' }, dups.map((d) => h('li', {}, `#${d.id} ${d.title} · ${statusName(d.status)} · ${fmtDistance(d.distance_m)}`))),
          )
        : null,
      h('button', { type: 'button', class: 'primary', onclick: reset }, t('report.another')),
    ),
  );
}

function reset() {
  key = uuid();
  photo = null;
  $('report-form').reset();
  $('photo-preview').replaceChildren();
  $('report-form').hidden = false;
  $('report-done').hidden = true;
  message('');
}

let following = false;
function showFollow(id) {
  $('report-form').hidden = true;
  const box = $('follow');
  box.hidden = false;
  box.replaceChildren(h('h2', {}, t('report.following')), h('div', { id: 'case' }));
  showCase(box.querySelector('#case'), id);
  if (!following) onLang(() => showFollow(id));
  following = true;
}

mq.ready = start().catch((e) => {
  console.error(e);
  message(errorText(e), 'error');
  throw e;
});
