// Browser test of the planning view (/plan): headless Chromium against a real minqing server,
// run by tests/browser.rs after run.mjs, which sets:
//
//   BASE                 the server
//   PLANNER_TOKEN        a planner's token (no scope)
//   PLAN_LON, PLAN_LAT   a point inside the community to plan
//   PLAN_COMMUNITY       that community's code
//   ARTIFACTS            where screenshots go (files plan-*.png, plan-requests.txt, plan-results.json)
//   CHROMIUM             the browser (default /usr/bin/chromium)
//
// Every edit is made with real mouse clicks on the map canvas (screen points computed from
// the grids with map.project / rendered features); every assertion reads the page, the map
// object (window.mq.map) or the API, not screenshots.

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
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
const PLANNER = env('PLANNER_TOKEN');
const PLAN_LON = Number(env('PLAN_LON'));
const PLAN_LAT = Number(env('PLAN_LAT'));
const PLAN_COMMUNITY = env('PLAN_COMMUNITY');
const ARTIFACTS = env('ARTIFACTS', join(process.cwd(), '..', 'target', 'browser-artifacts'));
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');

mkdirSync(ARTIFACTS, { recursive: true });
const serverHost = new URL(BASE).host;
const requests = [];
const problems = [];
const results = {};
const log = (...a) => console.log('[plan]', ...a);
// Refusals the test provokes on purpose (an invalid draft's forced publish, a conflict).
const expected = [];

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

async function context(browser, { token, lang, ...options } = {}) {
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
  ctx.on('page', (page) => {
    page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      log(`console error (${page.url()}): ${m.text()}`);
      if (!expected.some((s) => m.text().includes(s))) problems.push(`console error on ${page.url()}: ${m.text()}`);
    });
  });
  return ctx;
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `plan-${name}.png`) });

const idle = (page) =>
  page.waitForFunction(() => {
    const m = window.mq && window.mq.map;
    return m && m.loaded() && m.areTilesLoaded() && !m.isMoving();
  }, null, { timeout: 15000, polling: 100 });

/** Waits for the operation after `ops` to be answered (and rendered). */
const opDone = (page, ops) => page.waitForFunction((n) => window.mq.ops > n && !window.mq.busy, ops, { timeout: 20000, polling: 50 });

/** Brings draft grid `key` into view and finds a horizontal chord across it on screen. */
async function chordOf(page, key) {
  await page.evaluate((k) => {
    const f = window.mq.draft.features.find((x) => x.id === k);
    const xs = [];
    const ys = [];
    const visit = (c) => (typeof c[0] === 'number' ? (xs.push(c[0]), ys.push(c[1])) : c.forEach(visit));
    visit(f.geometry.coordinates);
    window.mq.map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { padding: 160, animate: false });
  }, key);
  await idle(page);
  const chord = await page.evaluate((k) => {
    const m = window.mq.map;
    const W = m.getCanvas().clientWidth;
    const H = m.getCanvas().clientHeight;
    const inside = (x, y) => m.queryRenderedFeatures([x, y], { layers: ['draft-fill'] }).some((f) => f.id === k);
    for (const dy of [0, 12, -12, 25, -25, 45, -45, 70, -70]) {
      const y = Math.round(H / 2 + dy);
      let x0 = null;
      for (let d = 0; d < W / 2 && x0 == null; d += 3) {
        for (const x of [Math.round(W / 2 + d), Math.round(W / 2 - d)]) {
          if (inside(x, y)) {
            x0 = x;
            break;
          }
        }
      }
      if (x0 == null) continue;
      let l = x0;
      while (l > 30 && inside(l - 1, y)) l -= 1;
      let r = x0;
      while (r < W - 30 && inside(r + 1, y)) r += 1;
      if (r - l < 40) continue;
      return { y, left: l - 14, right: r + 14, mid: Math.round((l + r) / 2) };
    }
    return null;
  }, key);
  assert(chord, `grid ${key} shows a chord on screen`);
  return chord;
}

/** Clicks draft grid `key` on the map until it is selected (alone or added). */
async function selectGrid(page, box, key) {
  const c = await chordOf(page, key);
  await page.mouse.click(box.x + c.mid, box.y + c.y);
  await page.waitForFunction((k) => window.mq.selected.includes(k), key, { timeout: 5000 });
  return c;
}

/** Splits the grid with the most households by a line drawn across it with mouse clicks. */
async function splitBiggest(page, box) {
  const before = await page.evaluate(() => window.mq.draft.features.length);
  const key = await page.evaluate(() => window.mq.draft.features.reduce((a, b) => (b.properties.households > a.properties.households ? b : a)).id);
  const c = await selectGrid(page, box, key);
  const ops = await page.evaluate(() => window.mq.ops);
  await page.click('[data-tool=split]');
  assert((await page.evaluate(() => document.body.dataset.drawing)) === 'split', 'the split tool draws');
  await page.mouse.click(box.x + c.left, box.y + c.y);
  await page.mouse.move(box.x + (c.left + c.right) / 2, box.y + c.y + 3, { steps: 4 });
  assert((await page.evaluate(() => window.mq.map.querySourceFeatures('sketch').length)) > 0, 'the line being drawn is shown');
  await page.mouse.dblclick(box.x + c.right, box.y + c.y);
  await opDone(page, ops);
  const after = await page.evaluate(() => ({
    n: window.mq.draft.features.length,
    valid: window.mq.validation.valid,
    faults: window.mq.validation.faults,
    added: window.mq.draft.features.filter((f) => f.properties.state === 'new').map((f) => ({ key: f.id, code: f.properties.code })),
  }));
  log(`split grid ${key}: ${before} → ${after.n} grids, valid ${after.valid}`);
  assert(after.n === before + 1, `the split adds one grid: ${before} → ${after.n}`);
  assert(after.valid, `the split draft is valid: ${JSON.stringify(after.faults)}`);
  assert(after.added.length === 1, 'one new grid');
  return { key, added: after.added[0] };
}

async function plan(browser) {
  const ctx = await context(browser, { token: PLANNER });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/plan`);
  await page.waitForFunction(() => window.mq && window.mq.map && window.mq.map.loaded(), null, { timeout: 20000 });
  const zh = await page.evaluate(() => document.body.innerText);
  for (const s of ['网格规划', '选择社区', '未完成的草案', '打开草案']) assert(zh.includes(s), `the planning page shows ${s}`);
  assert((await page.locator('nav a[href="/plan"][aria-current=page]').count()) === 1, 'the nav marks 网格规划');
  const box = await page.locator('#map canvas').boundingBox();

  // ---- choose the community by clicking the map ----
  await page.evaluate(([lon, lat]) => window.mq.map.jumpTo({ center: [lon, lat], zoom: 14 }), [PLAN_LON, PLAN_LAT]);
  await idle(page);
  const p = await page.evaluate(([lon, lat]) => window.mq.map.project([lon, lat]), [PLAN_LON, PLAN_LAT]);
  await page.mouse.click(box.x + p.x, box.y + p.y);
  await page.waitForFunction((code) => window.mq.community && window.mq.community.code === code, PLAN_COMMUNITY, { timeout: 10000 });
  const communityId = await page.evaluate(() => window.mq.community.id);
  assert((await page.locator('#community').inputValue()) === String(communityId), 'the list shows the clicked community');
  assert(!(await page.locator('#open').isDisabled()), 'a draft can be opened');
  await idle(page);
  await shot(page, 'choose');

  // ---- draft 1: open, split (valid, +1 grid), then faults ----
  await page.fill('#hmin', '0');
  await page.fill('#hmax', '100000');
  const openDraft = async () => {
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/plans') && r.request().method() === 'POST'),
      page.click('#open'),
    ]);
    assert(resp.status() === 201, `a draft is opened: ${resp.status()}`);
    await page.waitForFunction(() => window.mq.draft && !document.getElementById('draft').hidden, null, { timeout: 10000 });
    await idle(page);
    const d = await page.evaluate(() => ({ id: window.mq.draft.plan.id, n: window.mq.draft.features.length, valid: window.mq.validation && window.mq.validation.valid, faults: window.mq.validation && window.mq.validation.faults }));
    assert(d.n > 1, `the draft holds the community's grids: ${d.n}`);
    assert(d.valid, `the fresh draft is valid: ${JSON.stringify(d.faults)}`);
    assert((await page.evaluate(() => window.mq.map.queryRenderedFeatures({ layers: ['draft-fill'] }).length)) > 0, 'the draft grids are drawn');
    assert((await page.evaluate(() => window.mq.map.queryRenderedFeatures({ layers: ['areas-line'] }).length)) > 0, 'the current grids are drawn under it');
    return d;
  };
  const d1 = await openDraft();
  log(`draft #${d1.id}: ${d1.n} grids`);
  results.grids = d1.n;
  assert(await page.locator('#publish').isEnabled(), 'a valid draft may be published');
  await shot(page, 'draft');

  const split1 = await splitBiggest(page, box);
  const v1 = await page.locator('#validation').innerText();
  assert(v1.includes('校验通过'), 'the validation says valid');
  assert(v1.includes('发布影响') && v1.includes('改变网格的户数'), 'the impact list is shown');
  assert((await page.locator('#validation .household-moves li').count()) > 0, 'households moving to the new grid are listed');
  assert((await page.locator(`#validation tr[data-code="${split1.added.code}"]`).count()) === 1, 'the new grid is in the grid table');
  assert(await page.locator('#publish').isEnabled(), 'the split draft may be published');
  await idle(page);
  await shot(page, 'split');

  // A bad edit: a grid retired leaves a gap — red on the map, publish refused.
  const retired = await page.evaluate((skip) => window.mq.draft.features.find((f) => f.properties.state === 'unchanged' && f.id !== skip).id, split1.key);
  await selectGrid(page, box, retired);
  let ops = await page.evaluate(() => window.mq.ops);
  await page.click('[data-tool=retire]');
  await opDone(page, ops);
  await idle(page);
  const gap = await page.evaluate(() => ({
    valid: window.mq.validation.valid,
    kinds: window.mq.validation.faults.map((f) => f.kind),
    red: window.mq.map.queryRenderedFeatures({ layers: ['faults-piece', 'faults-point', 'faults-line'] }).map((f) => ({ layer: f.layer.id, kind: f.properties.kind, severity: f.properties.severity })),
    color: window.mq.map.getPaintProperty('faults-point', 'circle-color'),
  }));
  log(`after retiring grid ${retired}: faults ${gap.kinds}, ${gap.red.length} red features rendered`);
  assert(!gap.valid && gap.kinds.includes('gap'), `retiring a grid leaves a gap: ${gap.kinds}`);
  assert(gap.red.some((f) => f.layer === 'faults-point' && f.kind === 'gap'), `the gap is drawn on the map: ${JSON.stringify(gap.red)}`);
  assert(gap.red.some((f) => f.layer === 'faults-piece' && f.kind === 'gap'), `the hole itself is filled red: ${JSON.stringify(gap.red)}`);
  assert(gap.color === '#e53935', `faults are red: ${gap.color}`);
  assert(await page.locator('#publish').isDisabled(), 'publish is disabled while the draft is invalid');
  const gapItem = await page.locator('#validation li[data-kind=gap]').innerText();
  assert(gapItem.includes('空隙') && gapItem.includes('平方米'), `the fault list gives the gap and its area: ${gapItem}`);
  await shot(page, 'gap');

  // A second bad edit drawn as a polygon: a grid reshaped over its neighbours → overlaps.
  const reshaped = await page.evaluate((skip) => window.mq.draft.features.find((f) => f.properties.state === 'unchanged' && !skip.includes(f.id)).id, [split1.key, retired]);
  const r = await selectGrid(page, box, reshaped);
  ops = await page.evaluate(() => window.mq.ops);
  await page.click('[data-tool=reshape]');
  const corners = await page.evaluate((k) => {
    const m = window.mq.map;
    const f = window.mq.draft.features.find((x) => x.id === k);
    const pts = [];
    const visit = (c) => (typeof c[0] === 'number' ? pts.push(m.project(c)) : c.forEach(visit));
    visit(f.geometry.coordinates);
    const xs = pts.map((q) => q.x);
    const ys = pts.map((q) => q.y);
    const [l, t, rr, b] = [Math.min(...xs) - 30, Math.min(...ys) - 30, Math.max(...xs) + 30, Math.max(...ys) + 30];
    return [[l, t], [rr, t], [rr, b], [l, b]];
  }, reshaped);
  void r;
  for (const [x, y] of corners.slice(0, 3)) await page.mouse.click(box.x + x, box.y + y);
  await page.mouse.click(box.x + corners[3][0], box.y + corners[3][1]);
  // closing the ring on its first vertex finishes the polygon
  await page.mouse.click(box.x + corners[0][0], box.y + corners[0][1]);
  await opDone(page, ops);
  await idle(page);
  const overlap = await page.evaluate(() => ({
    kinds: window.mq.validation.faults.map((f) => f.kind),
    red: window.mq.map.queryRenderedFeatures({ layers: ['faults-point', 'faults-line'] }).filter((f) => f.properties.kind === 'overlap').length,
    pieces: window.mq.map.queryRenderedFeatures({ layers: ['faults-piece'] }).filter((f) => f.properties.kind === 'overlap').length,
  }));
  log(`after reshaping grid ${reshaped} over its neighbours: faults ${overlap.kinds}`);
  assert(overlap.kinds.includes('overlap'), `the reshaped grid overlaps its neighbours: ${overlap.kinds}`);
  assert(overlap.red > 0, 'overlaps are drawn red on the map');
  assert(overlap.pieces > 0, 'the overlapping pieces themselves are filled red');
  assert((await page.locator('#validation li[data-kind=overlap]').count()) > 0, 'overlaps are listed');

  // Publishing anyway is refused (422) with a clear message.
  expected.push('status of 422');
  const [refused] = await Promise.all([
    page.waitForResponse((x) => x.url().endsWith('/publish')),
    page.evaluate(() => window.mq.publish()),
  ]);
  assert(refused.status() === 422, `publishing an invalid draft is refused: ${refused.status()}`);
  const msg = await planMessage(page, '不能发布');
  assert(msg.includes('不能发布') && msg.includes('invalid_plan'), `the refusal is shown: ${msg}`);
  await shot(page, 'refused');

  // Undo: abandon the draft.
  const [ab] = await Promise.all([page.waitForResponse((x) => x.url().endsWith('/abandon')), page.click('#abandon')]);
  assert(ab.status() === 200, 'the draft is abandoned');
  await page.waitForFunction(() => !document.getElementById('choose').hidden && window.mq.draft === null, null, { timeout: 5000 });
  assert((await page.locator('#auth-notice').innerText()).includes('已放弃'), 'abandoning is confirmed');
  await page.waitForFunction((id) => !document.querySelector(`#drafts li[data-plan="${id}"]`), d1.id, { timeout: 5000 });

  // ---- draft 2: split again and publish ----
  // Meanwhile another draft over the same community is opened (through the API): the
  // publish below makes it conflict.
  const other = await page.evaluate(async (id) => {
    const r = await fetch('/api/v1/plans', { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${localStorage.getItem('minqing.token')}` }, body: JSON.stringify({ area: id, households_min: 0, households_max: 100000 }) });
    return (await r.json()).plan.id;
  }, communityId);
  const d2 = await openDraft();
  assert(d2.id !== d1.id, 'a new draft');
  const split2 = await splitBiggest(page, box);
  const newGrid = split2.added;
  const baseIds = await page.evaluate(() => window.mq.draft.features.map((f) => f.properties.source_id).filter((x) => x != null));
  // A point inside the new grid, from the map.
  const c = await chordOf(page, newGrid.key);
  const at = await page.evaluate(([x, y]) => window.mq.map.unproject([x, y]), [c.mid, c.y]);
  await shot(page, 'before-publish');
  assert(await page.locator('#publish').isEnabled(), 'publish is enabled for a valid draft');
  const [pub] = await Promise.all([page.waitForResponse((x) => x.url().endsWith('/publish')), page.click('#publish')]);
  assert(pub.status() === 200, `the draft is published: ${pub.status()}`);
  await page.waitForFunction((id) => document.body.dataset.published === String(id), d2.id, { timeout: 10000 });
  const done = await page.locator('#plan-msg').innerText();
  assert(done.includes('已发布'), `publishing is confirmed: ${done}`);
  assert(await page.locator('[data-tool=split]').isDisabled(), 'a published plan is not editable');
  const published = await page.evaluate(() => window.mq.published.published);
  const loc = await page.evaluate(async ([lon, lat]) => (await fetch(`/api/v1/locate?lon=${lon}&lat=${lat}`)).json(), [at.lng, at.lat]);
  log(`locate (${at.lng.toFixed(6)}, ${at.lat.toFixed(6)}) → ${loc.grid && loc.grid.code} #${loc.grid && loc.grid.id}; new grid ${newGrid.code}`);
  assert(loc.grid.code === newGrid.code, `locate in the new grid answers it: ${loc.grid.code} vs ${newGrid.code}`);
  assert(published.created.some((x) => x.id === loc.grid.id), 'the located grid is a newly created row');
  assert(!baseIds.includes(loc.grid.id), 'the located grid is not an old one');
  results.published = { created: published.created.length, closed: published.closed.length, events: published.events_reassigned };
  await idle(page);
  await shot(page, 'published');

  // The other draft now conflicts: 409 shown with the way out (rebase), and rebasing works.
  await page.click('#close-draft');
  await page.waitForSelector(`#drafts li[data-plan="${other}"] button`, { timeout: 5000 });
  await page.click(`#drafts li[data-plan="${other}"] button`);
  await page.waitForFunction((id) => window.mq.draft && window.mq.draft.plan.id === id, other, { timeout: 10000 });
  expected.push('status of 409');
  const [conflict] = await Promise.all([page.waitForResponse((x) => x.url().endsWith('/publish')), page.click('#publish')]);
  assert(conflict.status() === 409, `publishing a draft whose grids changed since is refused: ${conflict.status()}`);
  const cmsg = await planMessage(page, '冲突');
  assert(cmsg.includes('冲突') && cmsg.includes('变基'), `the conflict is shown with the way out: ${cmsg}`);
  await shot(page, 'conflict');
  const [rb] = await Promise.all([page.waitForResponse((x) => x.url().endsWith('/rebase')), page.click('#rebase')]);
  assert(rb.status() === 200, `the draft is rebased: ${rb.status()}`);
  await page.waitForFunction((n) => window.mq.draft.features.length === n, d2.n + 1, { timeout: 10000 });
  assert((await page.locator('#plan-msg').innerText()).includes('已按现行网格更新'), 'rebasing is confirmed');
  assert((await page.evaluate(() => window.mq.validation.valid)), 'the rebased draft is valid');

  assert((await page.evaluate(() => window.mq.errors.length)) === 0, `no map errors: ${JSON.stringify(await page.evaluate(() => window.mq.errors))}`);

  // ---- English ----
  await page.click('#lang');
  const en = await page.evaluate(() => document.body.innerText);
  for (const s of ['Grid planning', 'Publish', 'Impact of publishing', 'Validation']) assert(en.includes(s), `the English planning page shows ${s}`);
  assert((await page.evaluate(() => document.documentElement.lang)) === 'en', 'html lang is en');
  await shot(page, 'en');
  await page.click('#lang');
  await page.click('#abandon');
  await page.waitForFunction(() => !document.getElementById('choose').hidden, null, { timeout: 5000 });
  assert((await page.evaluate(() => document.body.innerText)).includes('选择社区'), 'back to the list, in Chinese');
  await ctx.close();

  // Signed out: a prompt, not a broken page.
  const anon = await context(browser, {});
  const a = await anon.newPage();
  await a.goto(`${BASE}/plan`);
  await a.waitForSelector('#auth-notice .notice', { timeout: 10000 });
  assert((await a.locator('#auth-notice').innerText()).includes('登录'), 'anonymous visitors are asked to sign in');
  await anon.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-gpu-compositing', '--lang=zh-CN'],
  });
  let failed = null;
  try {
    await plan(browser);
  } catch (e) {
    failed = e;
    await screenshotAll(browser, ARTIFACTS, 'plan-');
  } finally {
    await browser.close();
  }
  // No request leaves the server (tests/browser/common.mjs).
  finish({ dir: ARTIFACTS, prefix: 'plan-', requests, results, problems, serverHost, failed, log });
}

main().catch((e) => {
  console.error('[plan] FAILED:', e.stack || e);
  process.exit(1);
});

/** The plan message once it holds `text` (a response is in before the page's handler has
 * shown it), or as it is after 5 s. */
async function planMessage(page, text) {
  await page.waitForFunction((t) => document.getElementById('plan-msg').innerText.includes(t), text, { timeout: 5000 }).catch(() => {});
  return page.locator('#plan-msg').innerText();
}
