// The registers (人、地、事、物、组织) in the page: the linked view of a building, the profile
// of an area, residents (masked, as the API gives them) and places, shared by the command
// centre and the field view. Nothing here unmasks anything: names, ID numbers and phones are
// shown only as the API sends them, and generated records carry the 生成数据 badge.

import { api, ApiError } from './api.js';
import { BUILDING_KINDS, CARE_TAGS, codeName, fmtDistance, fmtNumber, levelName, ORG_KINDS, PLACE_CLASSES, PLACE_TYPES, placeClass, REGISTRATIONS, t, THING_STATES } from './i18n.js';
import { BUILDING_COLORS, PLACE_COLORS, RISK_COLORS, THING_STATE_COLORS } from './mapkit.js';
import { categoryDot, errorText, h, signInNotice, statusBadge } from './ui.js';
import { barChart, shareBar } from './chart.js';

/** A count as the API gives it: a number, or a string such as `"<5"` (people hidden). */
export const count = (v) => (typeof v === 'number' ? fmtNumber(v) : v == null ? '—' : String(v));

/** The sum of a `{code: count}` object's numbers (strings such as `"<5"` are left out). */
export const total = (o) => Object.values(o || {}).reduce((s, v) => s + (typeof v === 'number' ? v : 0), 0);

/** The 生成数据 badge of a generated record. */
export const generatedBadge = (generated) => (generated ? h('span', { class: 'badge generated' }, t('generated')) : null);

/** Care tags as small chips (`codes`: tag codes; `counts`: optional `{code: n}`). */
export function tagChips(codes, counts) {
  return h(
    'span',
    { class: 'tags' },
    codes.map((c) => h('span', { class: `tag tag-${c}` }, codeName(CARE_TAGS, c), counts ? h('b', {}, ` ${count(counts[c])}`) : null)),
  );
}

/** The colour of a place: service, risk site by level, public thing by state. */
export function placeColor(p) {
  const cls = p.class || placeClass(p.type);
  if (cls === 'risk') return RISK_COLORS[Math.min(4, Math.max(1, p.risk_level || 1)) - 1];
  if (cls === 'thing') return THING_STATE_COLORS[p.state] || PLACE_COLORS.thing;
  return PLACE_COLORS.service;
}

/** A place line: colour dot, name, type, level or state, distance. */
export function placeLine(p, distance) {
  const cls = p.class || placeClass(p.type);
  return h(
    'li',
    { class: `place place-${cls}`, dataset: { id: p.id, type: p.type } },
    distance != null ? h('span', { class: 'distance' }, fmtDistance(distance)) : null,
    h(
      'span',
      { class: 'place-main' },
      h('span', { class: `dot${cls === 'risk' ? ' diamond' : ''}`, style: `background:${placeColor(p)}`, 'aria-hidden': 'true' }),
      ' ',
      h('strong', {}, p.name),
      ' ',
      h('span', { class: 'muted small' }, codeName(PLACE_TYPES, p.type)),
      cls === 'risk' && p.risk_level ? h('span', { class: `badge risk risk-${p.risk_level}` }, t('bld.riskLevel', { n: p.risk_level })) : null,
      cls === 'thing' && p.state ? h('span', { class: `badge state-${p.state}` }, codeName(THING_STATES, p.state)) : null,
      generatedBadge(p.generated),
    ),
  );
}

/** A resident as the API lists them (masked): name, sex, age, registration, care tags. */
export function residentLine(r) {
  return h(
    'li',
    { class: 'resident', dataset: { id: r.id, grid: r.grid_id ?? '' } },
    h('span', { class: 'person-name' }, r.name),
    h('span', { class: 'muted small' }, ` ${r.sex === 'female' ? t('person.female') : r.sex === 'male' ? t('person.male') : ''} · ${t('person.age', { n: r.age })} · ${codeName(REGISTRATIONS, r.registration)}`),
    ' ',
    r.tags && r.tags.length ? tagChips(r.tags) : null,
    generatedBadge(r.generated),
  );
}

const kpi = (label, value, cls = '') => h('div', { class: `kpi ${cls}` }, h('div', { class: 'kpi-value' }, value), h('div', { class: 'kpi-label' }, label));

/**
 * Loads and renders the linked view of building `id` into `container`; resolves to the
 * feature. `onCase(id)` opens a case listed there.
 */
export async function showBuilding(container, id, { onCase } = {}) {
  container.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  try {
    const f = await api(`/api/v1/buildings/${id}`);
    container.replaceChildren(buildingView(f, { onCase }));
    return f;
  } catch (e) {
    container.replaceChildren(e instanceof ApiError && (e.status === 401 || e.status === 403) ? signInNotice(e) : h('p', { class: 'error', role: 'alert' }, errorText(e)));
    return null;
  }
}

/** The linked view of a building (`GET /api/v1/buildings/{id}`). */
export function buildingView(f, { onCase } = {}) {
  const p = f.properties;
  const tagCodes = Object.keys(p.tags || {});
  const shownTags = tagCodes.filter((c) => p.tags[c] !== 0);
  const small = [p.households, p.residents, ...Object.values(p.tags || {})].some((v) => typeof v === 'string');
  const list = (items, render) => (items && items.length ? h('ul', { class: 'plain' }, items.map(render)) : h('p', { class: 'muted small' }, t('bld.none')));
  return h(
    'div',
    { class: 'building-view', dataset: { id: f.id } },
    h('h3', { class: 'building-title' }, p.address, generatedBadge(p.generated)),
    h(
      'p',
      { class: 'muted' },
      h('span', { class: 'swatch', style: `background:${BUILDING_COLORS[p.kind] || BUILDING_COLORS.other}`, 'aria-hidden': 'true' }),
      ` ${codeName(BUILDING_KINDS, p.kind)} · ${p.floors != null ? `${t('bld.floorsN', { n: p.floors })} · ` : ''}${t('bld.code')} `,
      h('code', {}, p.code),
    ),
    h('div', { class: 'kpis' }, kpi(t('bld.households'), count(p.households)), kpi(t('bld.residents'), count(p.residents)), kpi(t('bld.floors'), count(p.floors))),
    h('h4', {}, t('bld.tags')),
    shownTags.length ? tagChips(shownTags, p.tags) : h('p', { class: 'muted small' }, t('bld.none')),
    small ? h('p', { class: 'muted small' }, t('bld.small')) : null,
    h('h4', {}, t('bld.householdList')),
    p.household_list
      ? p.household_list.length
        ? h(
            'ol',
            { class: 'households' },
            p.household_list.map((hh) =>
              h('li', { dataset: { id: hh.id } }, h('div', { class: 'door', title: hh.code }, h('strong', {}, hh.door ? t('bld.door', { door: hh.door }) : hh.code), ' ', h('span', { class: 'muted small' }, `${hh.residents.length} ${t('prof.people')}`)), h('ul', { class: 'residents plain' }, hh.residents.map(residentLine))),
            ),
          )
        : h('p', { class: 'muted small' }, t('bld.none'))
      : h('p', { class: 'notice small no-people' }, t('bld.noPeople')),
    h('h4', {}, t('bld.places')),
    list(p.places, (x) => placeLine(x)),
    h('h4', {}, t('bld.orgs')),
    list(p.organisations, (o) =>
      h(
        'li',
        { class: 'org' },
        h('strong', {}, o.name),
        ' ',
        h('span', { class: 'muted small' }, codeName(ORG_KINDS, o.kind)),
        o.contact_name ? h('span', { class: 'small' }, ` · ${t('bld.contact')}: ${o.contact_name}`) : null,
        generatedBadge(o.generated),
      ),
    ),
    h('h4', {}, t('bld.risks')),
    h('ul', { class: 'plain places risks' }, (p.risk_sites || []).map((x) => placeLine(x, x.distance_m))),
    p.risk_sites && p.risk_sites.length ? null : h('p', { class: 'muted small' }, t('bld.none')),
    // Cases naming the building (or its households, places, organisations) or within 30 m,
    // for roles that read cases.
    p.events
      ? [
          h('h4', {}, t('bld.events')),
          p.events.length
            ? h(
                'ul',
                { class: 'plain building-events' },
                p.events.map((e) =>
                  h(
                    'li',
                    { dataset: { id: e.id } },
                    h('button', { type: 'button', class: 'link', onclick: () => onCase?.(e.id) }, categoryDot(e.category), ` #${e.id} ${e.title} `),
                    statusBadge(e.status),
                    e.named ? h('span', { class: 'badge' }, t('bld.named')) : e.distance_m != null ? h('span', { class: 'muted small' }, ` ${fmtDistance(e.distance_m)}`) : null,
                  ),
                ),
              )
            : h('p', { class: 'muted small' }, t('bld.none')),
        ]
      : null,
    p.grid
      ? h(
          'div',
          { class: 'grid-card card' },
          h('h4', {}, t('bld.grid')),
          h('p', {}, h('strong', {}, p.grid.name), ' ', h('code', {}, p.grid.code)),
          h('p', { class: 'small' }, `${t('bld.workers')}: `, h('span', { class: 'workers' }, (p.grid.workers || []).join('、') || t('field.noWorkers'))),
        )
      : null,
  );
}

/** The profile of an area (`GET /api/v1/areas/{id}/profile`); `onCoverage` adds the coverage button. */
export function profileView(pr, { onCoverage, generated = false } = {}) {
  // In the order of the code tables (the API's objects come sorted by code).
  const rows = (obj, table, colors = {}) =>
    Object.keys(table)
      .filter((code) => obj && code in obj)
      .map((code) => ({ label: codeName(table, code), value: obj[code], color: colors[code] }));
  const nonzero = (rs) => rs.filter((r) => r.value !== 0);
  const placeRows = Object.keys(PLACE_TYPES)
    .filter((code) => pr.places && code in pr.places)
    .map((code) => [code, pr.places[code]])
    .filter(([, v]) => v !== 0)
    .sort((a, b) => ['service', 'risk', 'thing'].indexOf(placeClass(a[0])) - ['service', 'risk', 'thing'].indexOf(placeClass(b[0])))
    .map(([code, value]) => ({ label: `${codeName(PLACE_TYPES, code)}`, value, color: placeClass(code) === 'risk' ? RISK_COLORS[2] : placeClass(code) === 'thing' ? PLACE_COLORS.thing : PLACE_COLORS.service }));
  const bands = Object.entries(pr.age_bands || {}).map(([band, value]) => ({ label: band, value, color: '#5c6bc0' }));
  const tags = nonzero(rows(pr.tags, CARE_TAGS)).map((r) => ({ ...r, color: '#ad1457' }));
  const reg = pr.registration || {};
  const fmt = (v) => fmtNumber(v);
  return h(
    'div',
    { class: 'profile', dataset: { area: pr.area.id, exact: String(pr.exact) } },
    h(
      'div',
      { class: 'kpis' },
      kpi(t('prof.households'), count(pr.households)),
      kpi(t('prof.residents'), count(pr.residents)),
      kpi(t('prof.buildings'), fmtNumber(total(pr.buildings))),
      kpi(t('prof.places'), fmtNumber(total(pr.places))),
      kpi(t('prof.orgs'), fmtNumber(total(pr.organisations))),
      kpi(t('prof.openEvents'), count(pr.events?.open)),
    ),
    pr.events?.overdue ? h('p', { class: 'small' }, `${t('prof.overdue')}: `, h('span', { class: 'alert' }, count(pr.events.overdue))) : null,
    pr.exact ? null : h('p', { class: 'notice small' }, t('bld.small')),
    h('h4', {}, t('prof.age')),
    barChart(bands, { caption: t('prof.age'), format: fmt }),
    h('h4', {}, t('prof.registration')),
    shareBar(
      Object.entries(reg).map(([code, value]) => ({ label: codeName(REGISTRATIONS, code), value, color: code === 'registered' ? '#1565c0' : '#ff8f00' })),
      { format: fmt },
    ),
    h('h4', {}, t('prof.tags')),
    tags.length ? barChart(tags, { caption: t('prof.tags'), format: fmt }) : h('p', { class: 'muted small' }, t('bld.none')),
    h('h4', {}, t('prof.buildingKinds')),
    barChart(nonzero(rows(pr.buildings, BUILDING_KINDS, BUILDING_COLORS)), { caption: t('prof.buildingKinds'), format: fmt }),
    h('h4', {}, t('prof.placeTypes')),
    placeRows.length ? barChart(placeRows, { caption: t('prof.placeTypes'), format: fmt }) : h('p', { class: 'muted small' }, t('bld.none')),
    h('p', { class: 'small legend-line' }, Object.entries(PLACE_CLASSES).map(([c]) => h('span', { class: 'k' }, h('i', { class: 'swatch', style: `background:${c === 'risk' ? RISK_COLORS[2] : PLACE_COLORS[c]}` }), ` ${codeName(PLACE_CLASSES, c)} `))),
    h('h4', {}, t('prof.orgKinds')),
    nonzero(rows(pr.organisations, ORG_KINDS)).length ? barChart(nonzero(rows(pr.organisations, ORG_KINDS)).map((r) => ({ ...r, color: '#00838f' })), { caption: t('prof.orgKinds'), format: fmt }) : h('p', { class: 'muted small' }, t('bld.none')),
    onCoverage ? h('p', {}, h('button', { type: 'button', class: 'coverage-here', onclick: onCoverage }, t('prof.coverage'))) : null,
    h('p', { class: 'muted small' }, `${levelName(pr.area.level)} · ${t('prof.asOf')}: ${pr.as_of}`),
    generated ? h('p', { class: 'generated-note small' }, h('span', { class: 'badge generated' }, t('generated')), ' ', t('prof.generated')) : null,
  );
}

/** The great-circle distance in metres between two `[lon, lat]` points (for sorting nearby places). */
export function distanceM([lon1, lat1], [lon2, lat2]) {
  const r = (d) => (d * Math.PI) / 180;
  const a = Math.sin(r(lat2 - lat1) / 2) ** 2 + Math.cos(r(lat1)) * Math.cos(r(lat2)) * Math.sin(r(lon2 - lon1) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
}
