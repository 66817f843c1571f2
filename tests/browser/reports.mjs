// Browser test of the review reports (issue 18): headless Chromium against a real minqing
// server whose database holds the demo with generated registers, workers, visits and
// patrols. Run by tests/browser.rs, which sets:
//
//   BASE           the server
//   ADMIN_TOKEN    an admin's token
//   REPORT_AREA    a root area's code, REPORT_AT a day of the demo's last month
//   WORKER_TOKEN   a grid worker's token (WORKER_ID), WORKER_LON/LAT a point in their grid
//                  (WORKER_GRID, id WORKER_GRID_ID)
//   ARTIFACTS      where screenshots and the PDF go (reports-*.png, reports-*.pdf, …)
//   CHROMIUM       the browser (default /usr/bin/chromium)
//
// It asserts: the monthly report of the whole city and of one area renders (title, the key
// figures with their previous values, the daily chart with a bar a day, the map with its
// outlines and cases, the ranking with red and black lists, workers, overdue cases, visits
// owed); a figure opens the cases behind it; a CSV table downloads; the report prints to an
// A4 PDF in Chromium without error; English shows English; a phone-sized page does not
// scroll sideways; nothing is fetched from outside the server. And the grid worker's side of
// the record on the phone: a patrol recorded from the phone's positions (points sent once,
// in order), the visits due this week nearest first, one recorded with a tap; the track drawn in the
// command centre's patrols layer.

import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
const AREA = env('REPORT_AREA');
const AT = env('REPORT_AT');
const WORKER = env('WORKER_TOKEN');
const WORKER_ID = Number(env('WORKER_ID'));
const W_LON = Number(env('WORKER_LON'));
const W_LAT = Number(env('WORKER_LAT'));
const W_GRID = env('WORKER_GRID');
const W_GRID_ID = Number(env('WORKER_GRID_ID'));
const ARTIFACTS = env('ARTIFACTS', join(process.cwd(), '..', 'target', 'browser-artifacts'));
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');

mkdirSync(ARTIFACTS, { recursive: true });
for (const f of readdirSync(ARTIFACTS)) if (/^reports-.*\.(png|json|txt|pdf)$/.test(f)) rmSync(join(ARTIFACTS, f));
const serverHost = new URL(BASE).host;
const requests = [];
const problems = [];
const results = {};
const log = (...a) => console.log('[reports]', ...a);

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

async function page(browser, { lang, token = ADMIN, ...options } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', acceptDownloads: true, ...options });
  await ctx.addInitScript(
    ([tok, l]) => {
      if (sessionStorage.getItem('minqing.test.init')) return;
      sessionStorage.setItem('minqing.test.init', '1');
      localStorage.setItem('minqing.token', tok);
      if (l) localStorage.setItem('minqing.lang', l);
      else localStorage.removeItem('minqing.lang');
    },
    [token, lang || null],
  );
  ctx.on('request', (r) => requests.push(r.url()));
  const p = await ctx.newPage();
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  return p;
}

async function ready(p) {
  await p.waitForSelector('#report[data-ready="true"]', { timeout: 60_000 });
}

let browser;
let failed = null;
try {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });

  // The whole city's month.
  const p = await page(browser);
  const t0 = Date.now();
  await p.goto(`${BASE}/reports?period=month&at=${AT}`);
  await ready(p);
  results.cityMs = Date.now() - t0;
  const title = await p.textContent('.report-head h1');
  assert(/全市 \d{4}年\d{1,2}月月报/.test(title), `title ${title}`);
  const kpis = await p.$$eval('.kpi', (els) => els.map((e) => [e.querySelector('.kpi-label').textContent, e.querySelector('.kpi-value').textContent]));
  assert(kpis.length === 8, `${kpis.length} key figures`);
  assert(kpis.some(([l, v]) => l === '上报事件' && Number(v.replace(/,/g, '')) > 0), `cases figure: ${JSON.stringify(kpis)}`);
  const bars = await p.$$eval('.chart rect.bar', (els) => els.length);
  const days = new Date(Number(AT.slice(0, 4)), Number(AT.slice(5, 7)), 0).getDate();
  assert(bars === days, `${bars} bars for ${days} days`);
  const outlines = await p.$$eval('.report-map path.outline', (els) => els.length);
  const points = await p.$$eval('.report-map circle.pt', (els) => els.length);
  assert(outlines >= 4 && points > 100, `map: ${outlines} outlines, ${points} points`);
  const rankRows = await p.$$eval('[data-part=ranking] tbody tr', (els) => els.length);
  assert(rankRows >= 4, `${rankRows} ranked areas`);
  const red = await p.$$eval('.lists .red li', (els) => els.length);
  const black = await p.$$eval('.lists .black li', (els) => els.length);
  assert(red > 0 && black > 0, `red ${red}, black ${black}`);
  const text = await p.textContent('#report');
  for (const s of ['红榜', '黑榜', '网格员考核', '超期未办结事件', '走访欠账', '主要问题', '生成数据']) assert(text.includes(s), `no ${s}`);
  await p.screenshot({ path: join(ARTIFACTS, 'reports-city.png'), fullPage: true });
  await p.screenshot({ path: join(ARTIFACTS, 'reports-city-top.png') });
  results.city = { kpis, bars, outlines, points, rankRows, red, black };

  // A figure opens the cases behind it; their number is the figure's.
  const drill = p.locator('[data-part=ranking] tbody tr:first-child button.drill').first();
  const shown = (await drill.textContent()).replace(/,/g, '');
  await drill.click();
  await p.waitForSelector('dialog.explain[open] .explain-body', { timeout: 30_000 });
  const head = await p.textContent('dialog.explain h3');
  assert(head.endsWith(` · ${Number(shown).toLocaleString('zh-CN')}`), `drill-down ${head} for ${shown}`);
  const listed = await p.$$eval('dialog.explain tbody tr', (els) => els.length);
  assert(listed === Math.min(500, Number(shown)), `${listed} cases listed for ${shown}`);
  await p.click('dialog.explain button');

  // A CSV table downloads, with the token.
  const [download] = await Promise.all([p.waitForEvent('download'), p.click('button.csv[data-table="children"]')]);
  const csvPath = join(ARTIFACTS, 'reports-children.csv');
  await download.saveAs(csvPath);
  const csv = readFileSync(csvPath, 'utf8');
  assert(csv.startsWith('\ufeffrank,id,code,name'), `csv head ${csv.slice(0, 40)}`);
  assert(csv.trim().split('\n').length === rankRows + 1, `csv rows ${csv.trim().split('\n').length}`);

  // Printed to an A4 PDF: the print stylesheet hides the controls.
  await p.emulateMedia({ media: 'print' });
  const hidden = await p.$eval('.report-controls', (e) => getComputedStyle(e).display);
  assert(hidden === 'none', `controls in print: ${hidden}`);
  const pdfPath = join(ARTIFACTS, 'reports-city.pdf');
  await p.pdf({ path: pdfPath, format: 'A4', printBackground: true, preferCSSPageSize: true });
  const pdf = readFileSync(pdfPath);
  assert(pdf.subarray(0, 5).toString() === '%PDF-', 'not a PDF');
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  assert(pages >= 2 && statSync(pdfPath).size > 20_000, `PDF: ${pages} pages, ${statSync(pdfPath).size} bytes`);
  results.pdf = { pages, bytes: statSync(pdfPath).size };
  await p.emulateMedia({ media: 'screen' });

  // One area's report, at its own address, in English.
  const e = await page(browser, { lang: 'en' });
  await e.goto(`${BASE}/reports/${AREA}/week/${AT}`);
  await ready(e);
  const etitle = await e.textContent('.report-head h1');
  const etext = await e.textContent('#report');
  assert(etitle.includes('周报') && etext.includes('Key figures') && etext.includes('Red list'), `English report: ${etitle}`);
  await e.screenshot({ path: join(ARTIFACTS, 'reports-area-en.png'), fullPage: true });

  // A phone: the page fits its width.
  const m = await page(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await m.goto(`${BASE}/reports?area=${AREA}&period=day&at=${AT}`);
  await ready(m);
  const [sw, cw] = await m.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert(sw <= cw + 1, `phone page ${sw} px wide in ${cw}`);
  await m.screenshot({ path: join(ARTIFACTS, 'reports-phone.png'), fullPage: true });

  // The grid worker on the phone: a patrol from the phone's positions, and a visit.
  const w = await page(browser, { token: WORKER, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, geolocation: { longitude: W_LON, latitude: W_LAT }, permissions: ['geolocation'] });
  await w.goto(`${BASE}/field`);
  await w.waitForFunction(() => window.mq && window.mq.map && window.mq.map.loaded(), null, { timeout: 60_000 });
  await w.click('#locate');
  await w.waitForSelector('body[data-located="true"]', { timeout: 30_000 });
  await w.click('#tab-work');
  await w.click('#patrol-toggle');
  await w.waitForFunction(() => window.mq.patrol.state() !== null, null, { timeout: 15_000 });
  const ctx = w.context();
  for (let i = 1; i <= 5; i += 1) {
    await ctx.setGeolocation({ longitude: W_LON + i * 0.0001, latitude: W_LAT + i * 0.00005 });
    await w.waitForFunction((n) => window.mq.patrol.state()?.seq >= n, i + 1, { timeout: 10_000 }).catch(() => {});
  }
  const recorded = await w.evaluate(() => window.mq.patrol.state().seq);
  assert(recorded >= 3, `${recorded} positions recorded`);
  const patrolId = await w.evaluate(() => window.mq.patrol.state().id);
  await w.click('#patrol-toggle');
  await w.waitForFunction(() => window.mq.patrol.state() === null, null, { timeout: 15_000 });
  const list = await (await fetch(`${BASE}/api/v1/patrols?worker=${WORKER_ID}&limit=500`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
  const mine = list.features.find((f) => f.id === patrolId);
  assert(mine && mine.properties.points === recorded, `patrol ${patrolId} stored ${mine?.properties.points} of ${recorded} points`);
  assert(mine.properties.ended_at, 'patrol not ended');
  results.patrol = { id: patrolId, points: recorded, length_m: mine.properties.length_m };
  await w.waitForSelector('.due-list li', { timeout: 30_000 });
  const due = await w.$$eval('.due-list li', (els) => els.length);
  const since = new Date(Date.now() - 60_000).toISOString();
  await w.click('.due-list li:first-child button.record-visit');
  await w.selectOption('.due-list li:first-child select[name=outcome]', 'normal');
  // With a photo taken on the phone (a 1×1 PNG here).
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c630001000005000 10d0a2db40000000049454e44ae426082'.replace(/ /g, ''), 'hex');
  await w.setInputFiles('.due-list li:first-child input[name=photo]', { name: 'visit.png', mimeType: 'image/png', buffer: png });
  await w.click('.due-list li:first-child button.save-visit');
  await w.waitForSelector('.due-list li:first-child.done', { timeout: 15_000 });
  const [kind, id] = await w.$eval('.due-list li:first-child', (el) => [el.dataset.kind, el.dataset.id]);
  const visits = await (await fetch(`${BASE}/api/v1/visits?target_kind=${kind}&target_id=${id}&worker=${WORKER_ID}&from=${encodeURIComponent(since)}`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
  assert(visits.visits.length === 1, `${visits.visits.length} visits stored now for ${kind} ${id}`);
  assert(visits.visits[0].photo, 'the visit has no photo');
  results.visits = { due, recorded: `${kind} ${id}` };
  const [pw, pcw] = await w.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  results.fieldWidth = [pw, pcw];
  await w.screenshot({ path: join(ARTIFACTS, 'reports-field-work.png'), fullPage: true });

  // The command centre draws the patrol tracks of the last 30 days, the new one among them.
  const c = await page(browser);
  await c.goto(`${BASE}/`);
  await c.waitForFunction(() => window.mq && window.mq.map && window.mq.map.loaded() && window.mq.setLayer, null, { timeout: 60_000 });
  await c.evaluate(() => window.mq.setLayer('patrols', true));
  await c.waitForFunction((id) => (window.mq.patrols || []).some((f) => f.id === id), patrolId, { timeout: 20_000 });
  const note = await c.textContent('#patrols-note');
  assert(/\d+ 条轨迹/.test(note), `patrols note: ${note}`);
  // A grid selected: its patrol coverage, the buildings missed ringed in red.
  await c.evaluate(([id, code]) => window.mq.openArea({ id, code, level: 'grid', name: code }), [W_GRID_ID, W_GRID]);
  await c.waitForFunction(() => window.mq.patrolCoverage, null, { timeout: 20_000 });
  const cov = await c.evaluate(() => window.mq.patrolCoverage);
  assert(cov.buildings > 0 && cov.covered >= 1 && cov.covered + cov.uncovered_total === cov.buildings, `coverage ${JSON.stringify({ b: cov.buildings, c: cov.covered, u: cov.uncovered_total })}`);
  const covNote = await c.textContent('#patrols-note');
  assert(covNote.includes('巡查覆盖'), `coverage note: ${covNote}`);
  // The visits overdue in that grid, drawn as overdue cases are; the same number as the due list.
  const overdue = await c.evaluate(() => window.mq.visitsOverdue);
  const dueList = await (await fetch(`${BASE}/api/v1/visits/due?area=${W_GRID}&within_days=0&limit=5000`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json();
  assert(overdue === dueList.overdue && overdue > 0, `overdue visits on the map ${overdue}, in the due list ${dueList.overdue}`);
  assert(covNote.includes(`超期未走访 ${overdue} 处`), `overdue note: ${covNote}`);
  results.coverage = { buildings: cov.buildings, covered: cov.covered, share: cov.share };
} catch (e) {
  failed = e;
  if (browser) await screenshotAll(browser, ARTIFACTS, 'reports-');
} finally {
  if (browser) await browser.close();
}
finish({ dir: ARTIFACTS, prefix: 'reports-', requests, results, problems, serverHost, failed, log });
