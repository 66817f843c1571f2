// The grid worker's own work in the field view: recording a patrol (the phone's positions,
// sent in batches that survive a lost connection: every point keeps its sequence number and
// waits in localStorage until the server has it, and a batch sent twice is stored once) and
// the visits due this week, nearest first, each recorded with one tap.

import { api, ApiError } from './api.js';
import { CARE_TAGS, codeName, fmtDistance, fmtTime, isEn, PLACE_TYPES } from './i18n.js';
import { dataUrlOf, errorText, h, shrinkPhoto, signInNotice } from './ui.js';

const KEY = 'minqing.patrol';
/** Points sent together at most (the API takes up to 1,000). */
const BATCH = 200;
/** How often waiting points are sent, ms. */
const FLUSH_MS = 10_000;

const S = {
  patrol: ['巡查', 'Patrol'],
  start: ['开始巡查', 'Start patrol'],
  end: ['结束巡查', 'End patrol'],
  idle: ['未在巡查', 'Not patrolling'],
  on: ['巡查中 · 已记录 {n} 点 · 待发送 {w} 点', 'Patrolling · {n} points · {w} waiting to send'],
  ended: ['巡查已结束，共 {n} 点', 'Patrol ended: {n} points'],
  noWorker: ['只有网格员本人的令牌可以记录巡查和走访（minqing token create --worker）。', 'Only a grid worker’s own token records patrols and visits (minqing token create --worker).'],
  due: ['本周应走访（由近到远）', 'Visits due this week (nearest first)'],
  noneDue: ['本周没有应走访的对象', 'Nothing is due this week'],
  needLocate: ['先定位（或在地图上点选），再查看附近应走访的对象。', 'Locate yourself (or tap the map) to list the visits due near you.'],
  overdue: ['已超期', 'overdue'],
  dueAt: ['应访', 'due'],
  record: ['记录走访', 'Record visit'],
  recorded: ['已走访', 'Visited'],
  normal: ['正常', 'Normal'],
  issue_found: ['发现问题', 'Issue found'],
  not_home: ['不在家', 'Not at home'],
  refused: ['拒绝', 'Refused'],
  note: ['备注', 'Note'],
  save: ['保存', 'Save'],
  photo: ['照片', 'Photo'],
  photoTooBig: ['照片超过 5 MB', 'The photo is over 5 MB'],
  geo: ['无法获取位置：巡查需要允许定位。', 'No position: a patrol needs location access.'],
};
const r = (k, vars = {}) => (S[k] ? S[k][isEn() ? 1 : 0] : k).replace(/\{(\w+)\}/g, (_, v) => String(vars[v] ?? ''));

/** An id the phone makes for what it records (a resend carries the same). */
function clientId() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

const load = () => {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || null;
  } catch {
    return null;
  }
};
const save = (p) => (p ? localStorage.setItem(KEY, JSON.stringify(p)) : localStorage.removeItem(KEY));

let patrol = load();
let watch = null;
let timer = null;
let status = null;
let sending = false;

function render() {
  if (!status) return;
  status.textContent = patrol ? r('on', { n: patrol.seq, w: patrol.queue.length }) : status.dataset.ended || r('idle');
  const btn = document.getElementById('patrol-toggle');
  if (btn) {
    btn.textContent = patrol ? r('end') : r('start');
    btn.classList.toggle('primary', !patrol);
  }
}

/** Records a position into the patrol (kept until sent). */
function addPoint(lon, lat, accuracy) {
  if (!patrol) return;
  patrol.queue.push({ seq: patrol.seq, at: new Date().toISOString(), lon, lat, accuracy_m: accuracy == null ? undefined : Math.round(accuracy) });
  patrol.seq += 1;
  save(patrol);
  render();
  if (patrol.queue.length >= BATCH) flush();
}

/** Sends the waiting points, a batch at a time; what fails stays and goes next time. */
async function flush() {
  if (!patrol || sending || !patrol.queue.length) return;
  sending = true;
  try {
    while (patrol && patrol.queue.length) {
      const batch = patrol.queue.slice(0, BATCH);
      await api(`/api/v1/patrols/${patrol.id}/points`, { method: 'POST', body: { points: batch } });
      const sent = new Set(batch.map((p) => p.seq));
      patrol.queue = patrol.queue.filter((p) => !sent.has(p.seq));
      save(patrol);
      render();
    }
  } catch {
    // Offline or refused for now: the points wait for the next flush.
  } finally {
    sending = false;
  }
}

function follow() {
  if (watch != null || !navigator.geolocation) return;
  watch = navigator.geolocation.watchPosition(
    (pos) => addPoint(pos.coords.longitude, pos.coords.latitude, pos.coords.accuracy),
    () => {
      status.textContent = r('geo');
    },
    { enableHighAccuracy: true, maximumAge: 5000, timeout: 20000 },
  );
  timer = setInterval(flush, FLUSH_MS);
  window.addEventListener('online', flush);
}

async function startPatrol(msg) {
  const id = clientId();
  try {
    const p = await api('/api/v1/patrols', { method: 'POST', body: { client_id: id, started_at: new Date().toISOString() } });
    patrol = { id: p.id, client_id: id, seq: 0, queue: [] };
    save(patrol);
    delete status.dataset.ended;
    follow();
    render();
  } catch (e) {
    msg.textContent = e instanceof ApiError && e.status === 403 ? r('noWorker') : errorText(e);
  }
}

async function endPatrol(msg) {
  await flush();
  if (!patrol) return;
  try {
    await api(`/api/v1/patrols/${patrol.id}/end`, { method: 'POST', body: { ended_at: new Date().toISOString() } });
  } catch (e) {
    if (patrol.queue.length) {
      msg.textContent = errorText(e);
      return;
    }
  }
  status.dataset.ended = r('ended', { n: patrol.seq });
  patrol = null;
  save(null);
  if (watch != null) navigator.geolocation.clearWatch(watch);
  watch = null;
  clearInterval(timer);
  render();
}

/** The patrol bar: start or end, and how many points are recorded and waiting. */
export function patrolBar() {
  const msg = h('p', { class: 'form-msg', role: 'status' });
  status = h('span', { class: 'patrol-status', id: 'patrol-status' });
  const btn = h('button', { type: 'button', id: 'patrol-toggle' });
  btn.addEventListener('click', () => {
    msg.textContent = '';
    if (patrol) endPatrol(msg);
    else startPatrol(msg);
  });
  const bar = h('div', { class: 'patrol-bar' }, btn, status, msg);
  render();
  // A patrol left running (the page reloaded, the phone restarted) goes on.
  if (patrol) follow();
  return bar;
}

/** For tests and the map: the patrol going on, and adding a position by hand. */
export const patrolState = () => (patrol ? { ...patrol, queue: [...patrol.queue] } : null);
export { addPoint, flush };

/** The visits due this week around `here` (lon, lat), nearest first, into `container`. */
export async function loadDue(container, here, gridCode) {
  if (!here) {
    container.replaceChildren(h('p', { class: 'muted' }, r('needLocate')));
    return;
  }
  container.replaceChildren(h('p', { class: 'muted' }, '…'));
  const q = new URLSearchParams({ within_days: '7', near: `${here[0].toFixed(6)},${here[1].toFixed(6)}`, limit: '50' });
  if (gridCode) q.set('area', gridCode);
  let due;
  try {
    due = await api(`/api/v1/visits/due?${q}`);
  } catch (e) {
    container.replaceChildren(e instanceof ApiError && (e.status === 401 || e.status === 403) ? signInNotice(e) : h('p', { class: 'error' }, errorText(e)));
    return;
  }
  const reason = (c) => (codeName(CARE_TAGS, c) !== c ? codeName(CARE_TAGS, c) : codeName(PLACE_TYPES, c));
  const items = due.subjects.map((s) => {
    const li = h(
      'li',
      { class: `due${s.overdue ? ' overdue' : ''}`, dataset: { kind: s.target.kind, id: s.target.id } },
      h('div', {}, h('strong', {}, s.label), ' ', s.overdue ? h('span', { class: 'badge overdue' }, r('overdue')) : null),
      h('div', { class: 'muted' }, s.reasons.map(reason).join('、'), ` · ${r('dueAt')} ${fmtTime(s.due_at)}`, s.distance_m != null ? ` · ${fmtDistance(s.distance_m)}` : ''),
    );
    const form = h('div', { class: 'visit-form' });
    const open = h('button', { type: 'button', class: 'primary record-visit' }, r('record'));
    open.addEventListener('click', () => {
      const outcome = h('select', { name: 'outcome' }, ['normal', 'issue_found', 'not_home', 'refused'].map((o) => h('option', { value: o }, r(o))));
      const note = h('input', { name: 'note', maxlength: 2000, placeholder: r('note') });
      const file = h('input', { name: 'photo', type: 'file', accept: 'image/jpeg,image/png,image/webp', capture: 'environment', 'aria-label': r('photo') });
      const msg = h('span', { class: 'form-msg', role: 'status' });
      const id = clientId();
      const send = h('button', { type: 'button', class: 'primary save-visit' }, r('save'));
      send.addEventListener('click', async () => {
        send.disabled = true;
        try {
          let photo;
          if (file.files[0]) {
            const blob = await shrinkPhoto(file.files[0]);
            if (blob.size > 5 * 1024 * 1024) throw new Error(r('photoTooBig'));
            photo = { data: await dataUrlOf(blob) };
          }
          await api('/api/v1/visits', { method: 'POST', body: { client_id: id, target: s.target, outcome: outcome.value, note: note.value.trim() || undefined, photo } });
          li.classList.add('done');
          form.replaceChildren(h('span', { class: 'badge ok' }, r('recorded')));
        } catch (e) {
          send.disabled = false;
          msg.textContent = e instanceof ApiError && e.status === 403 ? r('noWorker') : errorText(e);
        }
      });
      form.replaceChildren(outcome, note, file, send, msg);
    });
    form.append(open);
    li.append(form);
    return li;
  });
  container.replaceChildren(
    h('h2', {}, r('due'), ` (${due.total})`),
    items.length ? h('ol', { class: 'due-list' }, items) : h('p', { class: 'muted' }, r('noneDue')),
  );
}
