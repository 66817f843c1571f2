// Browser test of the registers in the web app (issue 17): headless Chromium against a real
// minqing server whose database holds the demo with generated registers. Run by
// tests/browser.rs after run.mjs, which sets:
//
//   BASE                          the server
//   ADMIN_TOKEN                   an admin's token
//   FIELD_TOKEN                   a field worker's token, scoped to the community of FIELD_*
//   FIELD_LON, FIELD_LAT          a point in that community, in grid FIELD_GRID (id FIELD_GRID_ID)
//   BUILDING, BUILDING_LON/LAT    a residential building with people in care and a risk site
//                                 within 200 m
//   ARTIFACTS                     where screenshots go (registers-*.png, -requests.txt, -results.json)
//   CHROMIUM                      the browser (default /usr/bin/chromium)
//
// It asserts, reading the page and the map object (window.mq.map): the buildings, places and
// coverage layers load their tiles and draw features; a click on a building shows its linked
// view with masked names and no ID number or phone anywhere in the page; an area's profile
// shows numbers and bar charts; the coverage figures list areas with numbers; an anonymous
// visitor sees no person; the field worker's "我的网格" lists residents of that grid only.
// Desktop and phone sizes.

import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { finish, screenshotAll } from './common.mjs';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined) throw new Error(`missing environment variable ${k}`);
  return v;
};
const BASE = env('BASE');
const ADMIN = env('ADMIN_TOKEN');
const FIELD = env('FIELD_TOKEN');
const FIELD_LON = Number(env('FIELD_LON'));
const FIELD_LAT = Number(env('FIELD_LAT'));
const FIELD_GRID = env('FIELD_GRID');
const FIELD_GRID_ID = Number(env('FIELD_GRID_ID'));
const BUILDING = Number(env('BUILDING'));
const B_LON = Number(env('BUILDING_LON'));
const B_LAT = Number(env('BUILDING_LAT'));
const ARTIFACTS = env('ARTIFACTS', join(process.cwd(), '..', 'target', 'browser-artifacts'));
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');

mkdirSync(ARTIFACTS, { recursive: true });
for (const f of readdirSync(ARTIFACTS)) if (/^registers-.*\.(png|json|txt)$/.test(f)) rmSync(join(ARTIFACTS, f));
const serverHost = new URL(BASE).host;
const requests = [];
const problems = [];
const results = {};
/** Tile responses by layer: `{layer: {status: count}}`. */
const tiles = {};
const log = (...a) => console.log('[registers]', ...a);

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

async function context(browser, { token, lang, allow401 = false, ...options } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'zh-CN', ...options });
  await ctx.addInitScript(
    ([tok, l]) => {
      if (location.protocol !== 'http:') return;
      if (sessionStorage.getItem('minqing.test.init')) return;
      sessionStorage.setItem('minqing.test.init', '1');
      if (tok) localStorage.setItem('minqing.token', tok);
      else localStorage.removeItem('minqing.token');
      if (l) localStorage.setItem('minqing.lang', l);
    },
    [token || null, lang || null],
  );
  ctx.on('request', (r) => requests.push(r.url()));
  ctx.on('response', (r) => {
    const m = r.url().match(/\/tiles\/(buildings|places|coverage)\/\d+\/\d+\/\d+/);
    if (!m) return;
    tiles[m[1]] ??= {};
    tiles[m[1]][r.status()] = (tiles[m[1]][r.status()] || 0) + 1;
  });
  ctx.on('page', (page) => {
    page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      log(`console error (${page.url()}): ${m.text()}`);
      // Anonymous visitors' requests for people are refused on purpose (401) where asked.
      if (!(allow401 && m.text().includes('status of 401'))) problems.push(`console error on ${page.url()}: ${m.text()}`);
    });
  });
  return ctx;
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `registers-${name}.png`) });

const idle = (page) =>
  page.waitForFunction(() => {
    const m = window.mq && window.mq.map;
    return m && m.loaded() && m.areTilesLoaded() && !m.isMoving();
  }, null, { timeout: 20000, polling: 100 });

/** Turns a layer toggle on and waits for its map layer to be added and its tiles loaded. */
async function layerOn(page, toggle, layer) {
  await page.check(toggle);
  await page.waitForFunction((l) => !!window.mq.map.getLayer(l), layer, { timeout: 10000 });
  await idle(page);
}

const rendered = (page, layers) =>
  page.evaluate((ls) => window.mq.map.queryRenderedFeatures({ layers: ls.filter((l) => window.mq.map.getLayer(l)) }), layers).then((fs) => fs.length);

/** No full ID number (18 characters, 17 digits first) and no mobile number in the page text. */
async function noPersonalNumbers(page, where) {
  const text = await page.evaluate(() => document.body.innerText);
  const id = text.match(/(?<![\dA-Za-z-])\d{17}[\dXx](?![\dA-Za-z-])/);
  const phone = text.match(/(?<![\d-])1[3-9]\d{9}(?!\d)/);
  assert(!id, `${where}: no ID number in the page, found ${id && id[0]}`);
  assert(!phone, `${where}: no phone number in the page, found ${phone && phone[0]}`);
}

/** Tiles of `layer` were asked for and answered 200 (or 204, empty), none refused. */
function tilesOk(layer) {
  const by = tiles[layer] || {};
  const bad = Object.keys(by).filter((s) => s !== '200' && s !== '204' && s !== '304');
  assert(by['200'] > 0, `${layer} tiles were loaded: ${JSON.stringify(by)}`);
  assert(bad.length === 0, `no ${layer} tile was refused: ${JSON.stringify(by)}`);
}

async function commandCentre(browser) {
  const ctx = await context(browser, { token: ADMIN });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
  await page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 16.5 }), [B_LON, B_LAT]);

  // ---- buildings: the layer on, its tiles loaded, the building drawn; a click → linked view ----
  await layerOn(page, '#layer-buildings', 'buildings-point');
  tilesOk('buildings');
  const nBuildings = await rendered(page, ['buildings-fill', 'buildings-point']);
  log(`buildings drawn: ${nBuildings}`);
  assert(nBuildings > 0, 'buildings are drawn close in');
  const kinds = await page.evaluate(() => [...new Set(window.mq.map.queryRenderedFeatures({ layers: ['buildings-fill', 'buildings-point'].filter((l) => window.mq.map.getLayer(l)) }).map((f) => f.properties.kind))]);
  assert(kinds.includes('residential'), `buildings carry their kind: ${kinds}`);
  const at = await page.evaluate((id) => {
    const m = window.mq.map;
    const f = m.queryRenderedFeatures({ layers: ['buildings-point', 'buildings-fill'].filter((l) => m.getLayer(l)) }).find((x) => x.id === id);
    if (!f) return null;
    if (f.geometry.type === 'Point') return m.project(f.geometry.coordinates);
    const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
    const c = ring.reduce((s, p) => [s[0] + p[0] / ring.length, s[1] + p[1] / ring.length], [0, 0]);
    return m.project(c);
  }, BUILDING);
  assert(at, `building ${BUILDING} is drawn`);
  // The cases stay drawn above the registers; they are hidden here so that the click
  // reaches the building whatever case lies on it.
  await page.evaluate(() => ['clusters', 'cluster-count', 'events-overdue', 'events', 'live'].forEach((l) => window.mq.map.setLayoutProperty(l, 'visibility', 'none')));
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await page.waitForSelector('#panel .building-view li.resident', { timeout: 10000 });
  assert(Number(await page.locator('#panel .building-view').getAttribute('data-id')) === BUILDING, 'the clicked building is shown');
  const view = await page.locator('#panel').innerText();
  for (const s of ['建筑 · 关联信息', '户数', '居民', '关爱对象', '住户（已脱敏）', '楼内场所', '楼内单位组织', '200 米内危险源', '所属网格', '网格员', '生成数据']) {
    assert(view.includes(s), `the linked view shows ${s}`);
  }
  const names = await page.locator('#panel .person-name').allInnerTexts();
  assert(names.length > 0 && names.every((n) => n.includes('*') || [...n].length === 1), `residents' names are masked: ${names.slice(0, 5)}`);
  const risks = await page.locator('#panel .risks li.place .distance').allInnerTexts();
  assert(risks.length > 0 && risks.every((d) => /\d+ 米/.test(d) && Number(d.match(/\d+/)[0]) <= 200), `risk sites within 200 m with distances: ${risks}`);
  assert((await page.locator('#panel .tags .tag').count()) > 0, 'care tags are counted');
  await noPersonalNumbers(page, 'the linked view (admin)');
  results.building = { id: BUILDING, residents: names.length, risks: risks.length };
  await shot(page, 'building');

  // ---- places: service places and risk sites by level ----
  await layerOn(page, '#layer-places', 'places');
  await page.check('#class-thing');
  await page.evaluate(() => window.mq.map.jumpTo({ zoom: 15 }));
  await idle(page);
  tilesOk('places');
  const classes = await page.evaluate(() => [...new Set(window.mq.map.queryRenderedFeatures({ layers: ['places'] }).map((f) => f.properties.class))]);
  log(`place classes drawn: ${classes}`);
  assert(classes.length > 0, 'places are drawn');
  assert(classes.every((c) => ['service', 'risk', 'thing'].includes(c)), `places carry their class: ${classes}`);
  const legend = await page.locator('#legend').innerText();
  assert(legend.includes('危险源') && legend.includes('住宅'), 'the legend explains buildings and places');
  await page.click('#panel-close');
  await shot(page, 'layers');

  // ---- coverage: the map of homes within/beyond reach and the figures per area ----
  await page.uncheck('#class-thing');
  await page.uncheck('#layer-places');
  await page.uncheck('#layer-buildings');
  await layerOn(page, '#layer-coverage', 'coverage');
  await page.evaluate(() => window.mq.map.jumpTo({ zoom: 13.5 }));
  await idle(page);
  tilesOk('coverage');
  await page.waitForSelector('#panel .coverage-view tbody tr', { timeout: 15000 });
  const covered = await page.evaluate(() => window.mq.map.queryRenderedFeatures({ layers: ['coverage'] }).map((f) => f.properties.covered));
  log(`coverage points drawn: ${covered.length} (${covered.filter(Boolean).length} covered)`);
  assert(covered.length > 0, 'homes are drawn on the coverage map');
  assert(covered.every((c) => typeof c === 'boolean'), 'coverage points say whether they are covered');
  const cov = await page.locator('#panel').innerText();
  for (const s of ['服务覆盖', '长者饭堂', '范围内', '范围外', '覆盖率', '合计']) assert(cov.includes(s), `the coverage figures show ${s}`);
  const rows = await page.locator('#panel .coverage-view tbody tr').count();
  const firstRow = await page.locator('#panel .coverage-view tbody tr').first().innerText();
  assert(rows > 1 && /\d/.test(firstRow), `coverage lists areas with numbers: ${rows} rows, ${firstRow}`);
  results.coverage = { rows, drawn: covered.length, covered: covered.filter(Boolean).length };
  await shot(page, 'coverage');
  // The uncovered homes of the figures are drawn further out (rings), at every zoom.
  await page.evaluate(() => window.mq.map.jumpTo({ zoom: 10.5 }));
  await idle(page);
  const rings = await page.evaluate(() => window.mq.map.querySourceFeatures('coverage-uncovered').length);
  assert(rings > 0, 'homes beyond reach are ringed further out');
  await shot(page, 'coverage-city');
  await page.uncheck('#layer-coverage');

  // ---- area profile: click an area, the 区域概况 tab: counts and bar charts ----
  await page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 11 }), [B_LON, B_LAT]);
  await idle(page);
  const c = await page.evaluate(([lon, lat]) => window.mq.map.project([lon, lat]), [B_LON, B_LAT]);
  await page.mouse.click(box.x + c.x, box.y + c.y);
  await page.waitForSelector('#panel .tabs [data-tab=profile]', { timeout: 10000 });
  await page.click('#panel .tabs [data-tab=profile]');
  await page.waitForSelector('#panel .profile .bars', { timeout: 10000 });
  const prof = await page.locator('#panel').innerText();
  for (const s of ['区域概况', '户数', '居民', '年龄结构', '户籍与流动人口', '关爱对象', '建筑用途', '场所类型', '单位组织类型']) assert(prof.includes(s), `the profile shows ${s}`);
  const kpis = await page.locator('#panel .profile .kpi-value').allInnerTexts();
  assert(kpis.length >= 5 && kpis.slice(0, 3).every((k) => /^[\d,]+$/.test(k) && Number(k.replace(/,/g, '')) > 0), `the profile counts households, residents, buildings: ${kpis}`);
  assert((await page.locator('#panel .profile').getAttribute('data-exact')) === 'true', 'an admin sees exact counts');
  assert((await page.locator('#panel .profile .bar-row').count()) >= 10, 'the profile draws bars');
  await noPersonalNumbers(page, 'the profile');
  await shot(page, 'profile');
  results.profile = kpis;

  // ---- English ----
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('#panel').innerText.includes('Area profile'));
  const en = await page.locator('#panel').innerText();
  for (const s of ['Age', 'People in care', 'Buildings by use']) assert(en.includes(s), `the profile in English shows ${s}`);
  const side = await page.locator('.sidebar').innerText();
  for (const s of ['Layers', 'Buildings (by use)', 'Service coverage']) assert(side.includes(s), `the layers control in English shows ${s}`);
  await page.evaluate((id) => window.mq.openBuilding(id), BUILDING);
  await page.waitForSelector('#panel .building-view li.resident', { timeout: 10000 });
  const ben = await page.locator('#panel').innerText();
  for (const s of ['Households (masked)', 'Risk sites within 200 m', 'generated data']) assert(ben.includes(s), `the linked view in English shows ${s}`);
  await shot(page, 'building-en');
  await page.click('#lang');
  assert((await page.evaluate(() => window.mq.errors.length)) === 0, `no map errors: ${JSON.stringify(await page.evaluate(() => window.mq.errors))}`);
  await ctx.close();
}

/** The command centre on a phone: the linked view below the map. */
async function commandPhone(browser) {
  const ctx = await context(browser, { token: ADMIN, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
  await page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 16.5 }), [B_LON, B_LAT]);
  await layerOn(page, '#layer-buildings', 'buildings-point');
  await page.evaluate((id) => window.mq.openBuilding(id), BUILDING);
  await page.waitForSelector('#panel .building-view li.resident', { timeout: 10000 });
  await noPersonalNumbers(page, 'the linked view on a phone');
  await page.locator('#panel').scrollIntoViewIfNeeded();
  await shot(page, 'command-phone');
  await ctx.close();
}

async function anonymous(browser) {
  const ctx = await context(browser, {});
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
  assert(await page.locator('#layer-coverage').isDisabled(), 'the coverage map needs a sign-in');
  await page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 16.5 }), [B_LON, B_LAT]);
  await layerOn(page, '#layer-buildings', 'buildings-point');
  const counts = await page.evaluate(() => window.mq.map.queryRenderedFeatures({ layers: ['buildings-fill', 'buildings-point'].filter((l) => window.mq.map.getLayer(l)) }).map((f) => f.properties.households).filter((n) => n != null));
  assert(counts.every((n) => n === 0 || n >= 5 || typeof n === 'string'), `anonymous building tiles show no household count below 5: ${counts}`);
  await page.evaluate((id) => window.mq.openBuilding(id), BUILDING);
  await page.waitForSelector('#panel .building-view', { timeout: 10000 });
  const view = await page.locator('#panel').innerText();
  assert((await page.locator('#panel li.resident').count()) === 0, 'anonymous: no resident is listed');
  assert((await page.locator('#panel .no-people').count()) === 1, 'anonymous: the households are said to need a sign-in');
  assert(!/[\u4e00-\u9fff]\*/.test(view), 'anonymous: no masked name either');
  await noPersonalNumbers(page, 'the anonymous linked view');
  await shot(page, 'anonymous');
  // The profile: counts of people below 5 read "<5"; no person.
  await page.evaluate(() => window.mq.map.jumpTo({ zoom: 11 }));
  await idle(page);
  const box = await page.locator('#map canvas').boundingBox();
  const c = await page.evaluate(([lon, lat]) => window.mq.map.project([lon, lat]), [B_LON, B_LAT]);
  await page.mouse.click(box.x + c.x, box.y + c.y);
  await page.waitForSelector('#panel .tabs [data-tab=profile]', { timeout: 10000 });
  await page.click('#panel .tabs [data-tab=profile]');
  await page.waitForSelector('#panel .profile', { timeout: 10000 });
  assert((await page.locator('#panel .profile').getAttribute('data-exact')) === 'false', 'anonymous: the profile is not exact');
  await ctx.close();
  // The field view's "my grid" asks anonymous visitors to sign in.
  const fctx = await context(browser, { allow401: true, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, geolocation: { longitude: FIELD_LON, latitude: FIELD_LAT, accuracy: 10 }, permissions: ['geolocation'] });
  const f = await fctx.newPage();
  await f.goto(`${BASE}/field`);
  await f.waitForFunction(() => window.mq && window.mq.map && window.mq.map.loaded(), null, { timeout: 15000 });
  await f.click('#locate');
  await f.waitForSelector('.where[data-grid]', { timeout: 10000 });
  await f.click('#tab-mine');
  await f.waitForSelector('#mine-wrap .notice button.primary', { timeout: 10000 });
  assert((await f.locator('#mine-wrap li.resident').count()) === 0, 'anonymous: no resident in my grid');
  await fctx.close();
}

async function field(browser) {
  const ctx = await context(browser, {
    token: FIELD,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    geolocation: { longitude: FIELD_LON, latitude: FIELD_LAT, accuracy: 10 },
    permissions: ['geolocation'],
  });
  const page = await ctx.newPage();
  const asked = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/residents')) asked.push(r.url());
  });
  await page.goto(`${BASE}/field`);
  await page.waitForFunction(() => window.mq && window.mq.map && window.mq.map.loaded(), null, { timeout: 15000 });
  await page.click('#tab-mine');
  assert((await page.locator('#mine-wrap').innerText()).includes('请先定位'), 'my grid asks to locate first');
  await page.click('#locate');
  await page.waitForSelector('.mine-head[data-grid]', { timeout: 10000 });
  assert((await page.locator('.mine-head').getAttribute('data-grid')) === FIELD_GRID, 'my grid is the located grid');
  await page.waitForSelector('#mine-filter', { timeout: 10000 });
  await page.selectOption('#mine-filter', 'all');
  await page.waitForSelector('ul.mine-residents li.resident');
  const grids = await page.locator('ul.mine-residents li.resident').evaluateAll((els) => els.map((e) => Number(e.dataset.grid)));
  log(`my grid lists ${grids.length} residents`);
  assert(grids.length > 0, 'my grid lists its residents');
  assert(grids.every((g) => g === FIELD_GRID_ID), `only residents of grid ${FIELD_GRID_ID} are listed: ${[...new Set(grids)]}`);
  assert(asked.length > 0 && asked.every((u) => new URL(u).searchParams.get('grid') === FIELD_GRID), `residents are asked for the grid: ${asked}`);
  const names = await page.locator('ul.mine-residents .person-name').allInnerTexts();
  assert(names.every((n) => n.includes('*') || [...n].length === 1), `names are masked: ${names.slice(0, 5)}`);
  const text = await page.locator('#mine-wrap').innerText();
  for (const s of ['网格概况', '关爱对象（已脱敏）', '附近危险源', '附近服务场所']) assert(text.includes(s), `my grid shows ${s}`);
  const kpis = await page.locator('#mine-wrap .kpi-value').allInnerTexts();
  assert(kpis.length === 3 && kpis.every((k) => /^[\d,]+$/.test(k)), `my grid counts households, residents, buildings: ${kpis}`);
  await noPersonalNumbers(page, 'my grid');
  // Those in care (the default filter) have care tags.
  await page.selectOption('#mine-filter', 'tagged');
  const tagged = await page.locator('ul.mine-residents li.resident').count();
  const withTags = await page.locator('ul.mine-residents li.resident:has(.tag)').count();
  assert(tagged === withTags, `"everyone in care" lists people with care tags only: ${withTags}/${tagged}`);
  const services = await page.locator('#mine-wrap ul.places.service li').count();
  const riskSites = await page.locator('#mine-wrap ul.places.risk li').count();
  results.field = { residents: grids.length, tagged, services, riskSites };
  await idle(page);
  await shot(page, 'field-mine');
  await page.locator('#mine-wrap h3').nth(2).scrollIntoViewIfNeeded();
  await shot(page, 'field-mine-places');
  await ctx.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-gpu-compositing', '--lang=zh-CN'],
  });
  let failed = null;
  try {
    await commandCentre(browser);
    await commandPhone(browser);
    await field(browser);
    await anonymous(browser);
    results.tiles = tiles;
  } catch (e) {
    failed = e;
    await screenshotAll(browser, ARTIFACTS, 'registers-');
  } finally {
    await browser.close();
  }
  finish({ dir: ARTIFACTS, prefix: 'registers-', requests, results, problems, serverHost, failed, log });
}

main().catch((e) => {
  console.error('[registers] FAILED:', e.stack || e);
  process.exit(1);
});
