// Browser tests of the web app: headless Chromium (Debian's, never a downloaded one) against
// a real minqing server. Run by tests/browser.rs, which sets:
//
//   BASE            the server, e.g. http://127.0.0.1:34567
//   ADMIN_TOKEN, FIELD_TOKEN (scoped to the community of FIELD_*), REPORTER_TOKEN
//   FIELD_LON, FIELD_LAT, FIELD_GRID, FIELD_CASE   a reported case, its place and grid
//   ARTIFACTS       where screenshots go (target/browser-artifacts)
//   CHROMIUM        the browser (default /usr/bin/chromium)
//
// Every assertion reads the page or the map object (window.mq.map), not only screenshots.

import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
const REPORTER = env('REPORTER_TOKEN');
const FIELD_LON = Number(env('FIELD_LON'));
const FIELD_LAT = Number(env('FIELD_LAT'));
const FIELD_GRID = env('FIELD_GRID');
const FIELD_CASE = Number(env('FIELD_CASE'));
const ARTIFACTS = env('ARTIFACTS', join(process.cwd(), '..', 'target', 'browser-artifacts'));
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
// The product's target is 2 s (measured on a quiet machine for BENCHMARKS.md: about 1.1 s).
// Here the page loads while `make test` runs other tests on the same two cores, which alone
// has taken the median from 1.1 s to 2.2 s; the test guards against a gross regression
// (a page twice as slow as the target), and the log prints the figure every run.
const FIRST_RENDER_BUDGET_MS = Number(env('FIRST_RENDER_BUDGET_MS', '4000'));
const LIVE_BUDGET_MS = 5000;

mkdirSync(ARTIFACTS, { recursive: true });
// Artefacts of this run only (screenshots of an earlier failure would mislead).
for (const f of readdirSync(ARTIFACTS)) if (/\.(png|json|txt)$/.test(f)) rmSync(join(ARTIFACTS, f));
const serverHost = new URL(BASE).host;
const requests = [];
const problems = [];
const results = {};
const log = (...a) => console.log('[browser]', ...a);

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** A context whose localStorage holds `token` and `lang` before any page script runs. */
async function context(browser, { token, lang, ...options } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', ...options });
  await ctx.addInitScript(
    ([tok, l]) => {
      if (location.protocol !== 'http:') return; // about:blank, data:
      if (sessionStorage.getItem('minqing.test.init')) return;
      sessionStorage.setItem('minqing.test.init', '1');
      if (tok) localStorage.setItem('minqing.token', tok);
      else localStorage.removeItem('minqing.token');
      if (l) localStorage.setItem('minqing.lang', l);
    },
    [token || null, lang || null],
  );
  ctx.on('request', (r) => requests.push(r.url()));
  ctx.on('page', watch);
  return ctx;
}

function watch(page) {
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    log(`console error (${page.url()}): ${m.text()}`);
    // The bad-token step expects its 401s; any other error (a style error, a failed tile…) fails.
    if (!m.text().includes('status of 401')) problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

/** Waits until the map is idle (no tiles loading, no transition). */
const idle = (page) =>
  page.waitForFunction(() => {
    const m = window.mq && window.mq.map;
    return m && m.loaded() && m.areTilesLoaded() && !m.isMoving();
  }, null, { timeout: 15000, polling: 100 });

const rendered = (page, layers) =>
  page.evaluate((ls) => window.mq.map.queryRenderedFeatures({ layers: ls.filter((l) => window.mq.map.getLayer(l)) }).length, layers);

async function commandCentre(browser) {
  // ---- first render: navigation start → map idle with areas drawn ----
  // Cold page (new context: empty HTTP cache, fresh server caches) in a running browser: a
  // blank WebGL page first starts the browser's GPU process, as on a wall display's browser.
  const warm = await browser.newPage();
  await warm.setContent('<canvas id="c"></canvas>');
  assert(await warm.evaluate(() => !!document.getElementById('c').getContext('webgl2')), 'WebGL2 is available');
  await warm.close();
  const ctx = await context(browser, { token: ADMIN });
  const page = await ctx.newPage();
  const finished = [];
  page.on('requestfinished', (r) => finished.push({ url: r.url().replace(BASE, ''), t: r.timing() }));
  if (process.env.TRACE) await browser.startTracing(page, { path: join(ARTIFACTS, 'first-render-trace.json') });
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
  if (process.env.TRACE) await browser.stopTracing();
  const first = await page.evaluate(() => window.mq.firstRenderMs);
  const origin = await page.evaluate(() => performance.timeOrigin);
  results.firstRenderMs = first;
  log(`first render of the command centre, first load (cold server and browser): ${first} ms`);
  const timeline = await page.evaluate(() => [
    ...performance.getEntriesByType('navigation').map((e) => ({ name: 'navigation', start: 0, end: Math.round(e.domContentLoadedEventEnd) })),
    ...performance.getEntriesByType('mark').map((e) => ({ name: e.name, start: Math.round(e.startTime) })),
  ]);
  for (const r of finished) {
    const start = Math.round(r.t.startTime - origin);
    timeline.push({ name: r.url, start, end: start + Math.round(r.t.responseEnd) });
  }
  timeline.sort((a, b) => a.start - b.start);
  writeFileSync(join(ARTIFACTS, 'first-render-timeline.json'), JSON.stringify(timeline, null, 1));
  await idle(page);
  const areas = await rendered(page, ['areas-fill']);
  const clusters = await rendered(page, ['clusters']);
  const labels = await rendered(page, ['areas-label']);
  log(`rendered: ${areas} area features, ${clusters} clusters, ${labels} labels`);
  assert(areas > 0, 'area boundaries are rendered');
  assert(clusters > 0, 'event clusters are rendered for an admin');
  const levels = await page.evaluate(() => [...new Set(window.mq.map.queryRenderedFeatures({ layers: ['areas-fill'] }).map((f) => f.properties.level))]);
  assert(levels.includes('district') || levels.includes('street'), `the city view shows districts or streets, not ${levels}`);
  const counts = await page.evaluate(() => window.mq.map.queryRenderedFeatures({ layers: ['clusters'] }).some((f) => f.properties.point_count > 1));
  assert(counts, 'clusters carry counts');
  const zh = await page.evaluate(() => document.body.innerText);
  for (const s of ['指挥中心', '图例', '热力图', '事件分类', '生成数据']) assert(zh.includes(s), `Chinese page shows ${s}`);
  assert((await page.evaluate(() => document.documentElement.lang)) === 'zh-CN', 'html lang is zh-CN by default');
  await shot(page, 'command-zh');

  // More cold pages (new contexts: empty browser caches; the server's caches are warm now).
  results.coldRenderMs = [first];
  for (let i = 0; i < Number(env('RENDER_REPEAT', '4')); i++) {
    // as the first: a new context is an empty browser cache
    const c = await context(browser, { token: ADMIN });
    const p = await c.newPage();
    await p.goto(`${BASE}/`);
    await p.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
    results.coldRenderMs.push(await p.evaluate(() => window.mq.firstRenderMs));
    await c.close();
  }
  // The budget holds for the median of the cold loads: one sample on a shared 2-core machine
  // swings by a few hundred milliseconds with what else runs.
  const sorted = [...results.coldRenderMs].sort((a, b) => a - b);
  results.firstRenderMedianMs = sorted[Math.floor(sorted.length / 2)];
  log(`FIRST RENDER of / (navigation start → map idle with areas drawn): median ${results.firstRenderMedianMs} ms of ${sorted.length} cold loads [${results.coldRenderMs.join(', ')}] (budget ${FIRST_RENDER_BUDGET_MS} ms)`);
  assert(results.firstRenderMedianMs < FIRST_RENDER_BUDGET_MS, `first render took ${results.firstRenderMedianMs} ms (median), over ${FIRST_RENDER_BUDGET_MS} ms`);

  // A warm second load, for the record.
  await page.reload();
  await page.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
  results.warmRenderMs = await page.evaluate(() => window.mq.firstRenderMs);
  log(`warm render: ${results.warmRenderMs} ms`);
  await idle(page);

  // ---- heatmap toggles ----
  const heatVisibility = () => page.evaluate(() => window.mq.map.getLayoutProperty('heat', 'visibility') || 'visible');
  assert((await heatVisibility()) === 'none', 'the heatmap starts hidden');
  await page.selectOption('#window', 'all');
  await page.check('#heat-toggle');
  assert((await heatVisibility()) === 'visible', 'the heatmap shows when toggled on');
  await idle(page);
  await page.waitForFunction(() => window.mq.map.querySourceFeatures('heat', { sourceLayer: 'heat' }).length > 0, null, { timeout: 10000 });
  const heat = await page.evaluate(() => window.mq.map.querySourceFeatures('heat', { sourceLayer: 'heat' }).length);
  log(`heat cells loaded: ${heat}`);
  await shot(page, 'command-heat');
  await page.selectOption('#window', '24h');
  await idle(page);
  const heat24 = await page.evaluate(() => window.mq.map.querySourceFeatures('heat', { sourceLayer: 'heat' }).length);
  log(`heat cells in the last 24 h: ${heat24}`);
  assert(heat24 <= heat, 'a shorter time window shows no more heat');
  await page.uncheck('#heat-toggle');
  assert((await heatVisibility()) === 'none', 'the heatmap hides when toggled off');

  // ---- status and category filters reach the tiles ----
  await page.selectOption('#category', 'hazard');
  await idle(page);
  const tilesUrl = await page.evaluate(() => window.mq.map.getSource('events').tiles[0]);
  assert(tilesUrl.includes('category=hazard') && tilesUrl.includes('status=open'), `events tiles are filtered: ${tilesUrl}`);
  await page.selectOption('#category', '');
  await idle(page);

  // ---- click an area → its statistics ----
  const areaPoint = await page.evaluate(() => {
    const m = window.mq.map;
    const c = m.getCanvas();
    for (let y = 60; y < c.clientHeight - 60; y += 23) {
      for (let x = 60; x < c.clientWidth - 60; x += 23) {
        const box = [[x - 8, y - 8], [x + 8, y + 8]];
        if (m.queryRenderedFeatures(box, { layers: ['clusters', 'events', 'live'].filter((l) => m.getLayer(l)) }).length) continue;
        if (m.queryRenderedFeatures([x, y], { layers: ['areas-fill'] }).length) return { x, y };
      }
    }
    return null;
  });
  assert(areaPoint, 'some area is clickable');
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + areaPoint.x, box.y + areaPoint.y);
  await page.waitForSelector('#panel .area-stats svg.trend', { timeout: 10000 });
  const panel = await page.locator('#panel').innerText();
  for (const s of ['区域统计', '未办结', '超期', '分类统计', '趋势']) assert(panel.includes(s), `area panel shows ${s}`);
  assert((await page.locator('#panel table.by-category tbody tr').count()) > 0, 'area statistics list categories');
  assert((await page.locator('#panel svg.trend path.series').count()) === 2, 'the trend chart draws reported and resolved');
  await shot(page, 'command-area');

  // ---- click an event → details and history (admin sees the reporter field) ----
  await page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 16 }), [FIELD_LON, FIELD_LAT]);
  await idle(page);
  const ev = await page.evaluate((id) => {
    const m = window.mq.map;
    const f = m.queryRenderedFeatures({ layers: ['events'] }).find((x) => x.id === id);
    return f ? m.project(f.geometry.coordinates) : null;
  }, FIELD_CASE);
  assert(ev, `case ${FIELD_CASE} is rendered as a single event close in`);
  await page.mouse.click(box.x + ev.x, box.y + ev.y);
  await page.waitForSelector('#panel .case-title', { timeout: 10000 });
  const detail = await page.locator('#panel').innerText();
  assert(detail.includes(`#${FIELD_CASE}`), 'the case panel shows its id');
  for (const s of ['处置经过', '上报人联系方式', '可执行操作']) assert(detail.includes(s), `admin's case panel shows ${s}`);
  await shot(page, 'command-case');
  await page.click('#panel-close');
  return { ctx, page };
}

async function liveReport(browser, command) {
  // The command centre watches the whole city while a resident reports on /report.
  await command.page.evaluate(() => window.mq.map.jumpTo({ center: window.mq.map.getCenter(), zoom: 9 }));
  await idle(command.page);
  const ctx = await context(browser, { token: REPORTER, viewport: { width: 800, height: 1000 } });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/report`);
  await page.waitForFunction(() => window.mq && window.mq.map && window.mq.map.loaded(), null, { timeout: 15000 });
  // A clear error before anything is filled in.
  await page.click('#submit');
  assert((await page.locator('#report-msg').innerText()).includes('请选择事件分类'), 'an incomplete report says what is missing');
  await page.selectOption('#category', 'hazard.fire');
  await page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 14 }), [FIELD_LON + 0.0004, FIELD_LAT + 0.0003]);
  await idle(page);
  const p = await page.evaluate(([lon, lat]) => window.mq.map.project([lon, lat]), [FIELD_LON + 0.0004, FIELD_LAT + 0.0003]);
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + p.x, box.y + p.y);
  await page.waitForSelector('#grid .grid-name', { timeout: 10000 });
  const gridText = await page.locator('#grid').innerText();
  assert(gridText.includes('将由此网格受理'), `the report shows its grid: ${gridText}`);
  await page.fill('#title', '浏览器测试：楼道堆放杂物');
  await page.fill('#description', '三楼楼道堆放纸箱，堵塞消防通道。');
  await page.fill('#contact', '138-0000-0000');
  // A tiny PNG as the photo (checked by the server).
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
  await page.setInputFiles('#photo', { name: 'p.png', mimeType: 'image/png', buffer: png });
  await page.waitForSelector('#photo-preview img');
  await shot(page, 'report-form');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/events') && r.request().method() === 'POST'),
    page.click('#submit'),
  ]);
  const submittedAt = Date.now();
  assert(response.status() === 201, `the report is accepted: ${response.status()}`);
  assert(response.request().headers()['idempotency-key'], 'the report carries an Idempotency-Key');
  await page.waitForSelector('.case-id');
  const id = Number(await page.locator('.case-id').getAttribute('data-id'));
  assert(id > 0, 'the confirmation shows the case id');
  assert(await page.locator('a.follow-link').count(), 'a signed-in reporter gets a link to follow the case');
  await shot(page, 'report-done');

  // Live: the new case is in the command centre's map data within a few seconds.
  await command.page.waitForFunction(
    (i) => window.mq.liveIds.has(i) && window.mq.map.querySourceFeatures('live').some((f) => f.properties.id === i),
    id,
    { timeout: LIVE_BUDGET_MS, polling: 50 },
  );
  results.liveMs = Date.now() - submittedAt;
  log(`report #${id} appeared on the command centre ${results.liveMs} ms after its 201`);
  const activity = await command.page.locator('#activity').innerText();
  assert(activity.includes(`#${id}`), 'the live activity list shows the new case');
  // …and in the refreshed event tiles, close in.
  await command.page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 16 }), [FIELD_LON + 0.0004, FIELD_LAT + 0.0003]);
  await idle(command.page);
  await command.page.waitForFunction((i) => window.mq.map.queryRenderedFeatures({ layers: ['events'] }).some((f) => f.id === i), id, { timeout: 5000 });
  await shot(command.page, 'command-live');
  assert((await command.page.evaluate(() => window.mq.errors.length)) === 0, `no map errors: ${JSON.stringify(await command.page.evaluate(() => window.mq.errors))}`);

  // The same again, here: the answer names the first as a possible duplicate.
  await page.click('#report-done button');
  await page.selectOption('#category', 'hazard.fire');
  await page.fill('#title', '浏览器测试：同一处杂物');
  const [again] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/events') && r.request().method() === 'POST'),
    page.click('#submit'),
  ]);
  assert(again.status() === 201, `the second report is accepted: ${again.status()}`);
  assert(again.request().headers()['idempotency-key'] !== response.request().headers()['idempotency-key'], 'a new form has a new Idempotency-Key');
  await page.waitForSelector('.duplicates li');
  assert((await page.locator('.duplicates').innerText()).includes(`#${id}`), 'possible duplicates list the first report');
  await shot(page, 'report-duplicates');

  // The reporter follows the first case.
  await page.goto(`${BASE}/report?follow=${id}`);
  await page.waitForSelector('#follow');
  await page.waitForSelector('#follow .case-title', { timeout: 10000 });
  const follow = await page.locator('#follow').innerText();
  assert(follow.includes('浏览器测试：楼道堆放杂物') && follow.includes('已上报'), 'the follow view shows the case and its state');
  assert(!follow.includes('138-0000-0000'), 'the reporter view shows no contact data');
  await ctx.close();
  return id;
}

async function fieldView(browser, command) {
  const ctx = await context(browser, {
    token: FIELD,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    geolocation: { longitude: FIELD_LON, latitude: FIELD_LAT, accuracy: 10 },
    permissions: ['geolocation'],
  });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/field`);
  await page.waitForFunction(() => window.mq && window.mq.map && window.mq.map.loaded(), null, { timeout: 15000 });
  await page.click('#locate');
  await page.waitForSelector('.where[data-grid]', { timeout: 10000 });
  const grid = await page.locator('.where').getAttribute('data-grid');
  assert(grid === FIELD_GRID, `located grid ${grid}, expected ${FIELD_GRID}`);
  const where = await page.locator('.where').innerText();
  assert(where.includes('网格员') && where.includes('上级'), 'the grid card names the workers and parents');
  await page.waitForSelector('#nearby li[data-id]', { timeout: 10000 });
  const items = await page.locator('#nearby li[data-id]').count();
  assert(items > 0, 'nearby open cases are listed');
  const firstDistance = await page.locator('#nearby li[data-id] .distance').first().innerText();
  assert(/\d/.test(firstDistance), `nearby cases show distances: ${firstDistance}`);
  const onMap = await page.evaluate(() => window.mq.map.querySourceFeatures('nearby').length);
  assert(onMap > 0, 'nearby cases are on the map');
  assert(await page.locator(`#nearby li[data-id="${FIELD_CASE}"]`).count(), `case ${FIELD_CASE} at this very place is listed`);
  await idle(page);
  await shot(page, 'field-nearby');

  // Open the case and move it along its workflow.
  await page.click(`#nearby li[data-id="${FIELD_CASE}"] button`);
  await page.waitForSelector('#case [data-action=accept]', { timeout: 10000 });
  assert(!(await page.locator('#case').innerText()).includes('上报人联系方式'), 'a field worker does not see reporter contacts');
  await page.fill('#case input[name=note]', '已到现场');
  await page.click('#case [data-action=accept]');
  await page.waitForFunction(() => document.querySelector('#case dl .badge')?.textContent.includes('已受理'), null, { timeout: 10000 });
  await page.waitForSelector('#case [data-action=assign]');
  await shot(page, 'field-case');
  // The command centre sees the change live.
  await command.page.waitForFunction(
    (i) => window.mq.map.querySourceFeatures('live').some((f) => f.properties.id === i && f.properties.status === 'accepted'),
    FIELD_CASE,
    { timeout: LIVE_BUDGET_MS, polling: 50 },
  );

  // Tapping the map locates too.
  await page.click('#back');
  const before = await page.evaluate(() => window.mq.located.grid.id);
  const mapBox = await page.locator('#map canvas').boundingBox();
  await page.evaluate(() => window.mq.map.jumpTo({ zoom: 11 }));
  await idle(page);
  await page.mouse.click(mapBox.x + mapBox.width * 0.8, mapBox.y + mapBox.height * 0.8);
  await page.waitForFunction((b) => window.mq.located === null || window.mq.located.grid.id !== b, before, { timeout: 10000 });
  await ctx.close();
}

async function english(browser, command) {
  const page = command.page;
  await page.click('#lang');
  const text = await page.evaluate(() => document.body.innerText);
  for (const s of ['Command centre', 'Legend', 'Heatmap', 'Category', 'Generated data']) assert(text.includes(s), `English page shows ${s}`);
  assert((await page.evaluate(() => document.documentElement.lang)) === 'en', 'html lang is en');
  await page.reload();
  await page.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
  const again = await page.evaluate(() => document.body.innerText);
  assert(again.includes('Command centre') && again.includes('Live'), 'English is kept after a reload');
  await shot(page, 'command-en');
  await page.click('#lang');
  assert((await page.evaluate(() => document.body.innerText)).includes('指挥中心'), 'back to Chinese');

  // The field and report pages in English too.
  const ctx = await context(browser, { lang: 'en', viewport: { width: 390, height: 844 } });
  const f = await ctx.newPage();
  await f.goto(`${BASE}/field`);
  await f.waitForFunction(() => window.mq && window.mq.map, null, { timeout: 15000 });
  const ft = await f.evaluate(() => document.body.innerText);
  assert(ft.includes('Locate me') && ft.includes('Open cases nearby'), 'the field view is in English');
  await f.goto(`${BASE}/report`);
  await f.waitForFunction(() => window.mq && window.mq.map, null, { timeout: 15000 });
  const rt = await f.evaluate(() => document.body.innerText);
  assert(rt.includes('Report a problem') && rt.includes('Submit'), 'the report form is in English');
  await shot(f, 'report-en');
  await ctx.close();
}

async function anonymous(browser) {
  const ctx = await context(browser, {});
  const page = await ctx.newPage();
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => window.mq && window.mq.firstRenderMs != null, null, { timeout: 20000 });
  const notice = await page.locator('#events-notice').innerText();
  assert(notice.includes('登录'), `anonymous users are asked to sign in for events: ${notice}`);
  assert(!(await page.evaluate(() => !!window.mq.map.getSource('events'))), 'no events layer without a token');
  // The window is changed while the first heat tiles (last 30 days) are still on their way:
  // the map must end up showing all time, not keep the tiles of the window it left.
  const heatTiles = [];
  page.on('request', (r) => {
    if (r.url().includes('/tiles/heat/')) heatTiles.push(r.url());
  });
  await page.check('#heat-toggle');
  await page.selectOption('#window', 'all');
  await idle(page);
  assert(
    await page.evaluate(() => window.mq.map.getSource('heat').tiles.every((u) => !u.includes('from='))),
    'the heat source follows the chosen window',
  );
  try {
    await page.waitForFunction(() => window.mq.map.querySourceFeatures('heat', { sourceLayer: 'heat' }).length > 0, null, { timeout: 10000 });
  } catch (e) {
    throw new Error(`no public heat shown for all time; heat tiles asked for:\n${heatTiles.join('\n')}\n${e.message}`);
  }
  assert(heatTiles.some((u) => !u.includes('from=')), `heat tiles for all time were fetched: ${heatTiles.join(' ')}`);
  await shot(page, 'command-anonymous');
  // A bad token is a clear prompt, not a broken map.
  await page.evaluate(() => localStorage.setItem('minqing.token', 'mq_not_a_token'));
  await page.reload();
  await page.waitForFunction(() => document.querySelector('#events-notice .notice'), null, { timeout: 10000 });
  const bad = await page.locator('#events-notice').innerText();
  assert(bad.includes('令牌无效') || bad.includes('登录'), `a bad token asks to sign in again: ${bad}`);
  await ctx.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // No GPU here: WebGL runs on SwiftShader, and the page is composited in software (as
    // Chromium does on machines without a GPU) rather than through SwiftShader as well.
    // CHROMIUM_ARGS adds flags (TRACE=1 writes a Chrome trace of the first load).
    args: [
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist',
      '--disable-gpu-compositing',
      '--lang=zh-CN',
      ...(process.env.CHROMIUM_ARGS ? process.env.CHROMIUM_ARGS.split(' ') : []),
    ],
  });
  let failed = null;
  try {
    const command = await commandCentre(browser);
    await liveReport(browser, command);
    await fieldView(browser, command);
    await english(browser, command);
    await anonymous(browser);
    await command.ctx.close();
  } catch (e) {
    failed = e;
    await screenshotAll(browser, ARTIFACTS, '');
  } finally {
    await browser.close();
  }
  // No request leaves the server (tests/browser/common.mjs).
  finish({ dir: ARTIFACTS, prefix: '', requests, results, problems, serverHost, failed, log });
}

main().catch((e) => {
  console.error('[browser] FAILED:', e.stack || e);
  process.exit(1);
});
