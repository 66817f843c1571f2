// Shared UI: the header (navigation, language, sign-in), small DOM helpers and the case
// view with its workflow actions (command centre and field view).

import { api, ApiError, authHeaders, getToken, setToken } from './api.js';
import { actionName, applyI18n, currentLang, fmtTime, isEn, levelName, localName, onLang, setLang, statusName, t } from './i18n.js';
import { categoryColor } from './mapkit.js';

/** Creates an element: `h('div', {class: 'x', onclick}, child, 'text', …)`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An error message for the user (API message, with its code). */
export function errorText(e) {
  if (e instanceof ApiError) {
    if (e.status === 401) return t('auth.bad');
    return `${t('error')}: ${e.message}${e.code && !e.code.startsWith('http_') ? ` (${e.code})` : ''}`;
  }
  return `${t('error')}: ${e?.message || e}`;
}

/** Fills the page header: nav links, language toggle, sign-in state. */
export function setupHeader({ onAuthChange = () => {} } = {}) {
  const langBtn = document.getElementById('lang');
  langBtn.addEventListener('click', () => setLang(currentLang() === 'en' ? 'zh-CN' : 'en'));
  const dialog = document.getElementById('signin-dialog');
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input[name=token]');
  const btn = document.getElementById('signin');
  const who = document.getElementById('who');
  const render = () => {
    const tok = getToken();
    who.textContent = tok ? `${t('auth.signed')} · ${tok.slice(0, 6)}…${tok.slice(-4)}` : t('auth.anonymous');
    btn.textContent = tok ? t('auth.signout') : t('auth.signin');
  };
  btn.addEventListener('click', () => {
    if (getToken()) {
      setToken('');
      render();
      onAuthChange();
    } else {
      openSignIn();
    }
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (ev.submitter?.value === 'cancel') {
      dialog.close();
      return;
    }
    setToken(input.value);
    input.value = '';
    dialog.close();
    render();
    onAuthChange();
  });
  onLang(render);
  applyI18n();
  render();
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
  }
}

/** Opens the sign-in dialog. */
export function openSignIn() {
  const dialog = document.getElementById('signin-dialog');
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('input[name=token]').focus();
}

/** A notice asking to sign in (with a button), or saying the role may not. */
export function signInNotice(e) {
  const denied = e instanceof ApiError && e.status === 403;
  const key = denied ? 'auth.forbidden' : e instanceof ApiError && e.status === 401 && getToken() ? 'auth.bad' : 'auth.needed';
  return h('div', { class: 'notice', role: 'status' }, h('p', {}, t(key)), denied ? null : h('button', { type: 'button', class: 'primary', onclick: openSignIn }, t('auth.signin')));
}

/** A small badge for a state. */
export function statusBadge(status, overdue) {
  return h('span', { class: `badge status-${status}${overdue ? ' overdue' : ''}` }, statusName(status), overdue ? ` · ${t('event.overdue')}` : '');
}

/** A coloured dot of a category. */
export function categoryDot(code) {
  return h('span', { class: 'dot', style: `background:${categoryColor(code)}`, 'aria-hidden': 'true' });
}

/** The category of a Feature's properties, in the current language. */
export function categoryLabel(p) {
  return (isEn() ? p.category_en : p.category_zh) || p.category;
}

/**
 * Renders case `id` into `container`: details, photo, history and the actions the signed-in
 * role may take (`properties.allowed_actions`). `onChanged(feature)` after a transition.
 */
export async function showCase(container, id, { onChanged = () => {} } = {}) {
  container.replaceChildren(h('p', { class: 'muted' }, t('loading')));
  let f;
  try {
    f = await api(`/api/v1/events/${id}`);
  } catch (e) {
    container.replaceChildren(e instanceof ApiError && (e.status === 401 || e.status === 403) ? signInNotice(e) : h('p', { class: 'error', role: 'alert' }, errorText(e)));
    return null;
  }
  renderCase(container, f, onChanged);
  return f;
}

function renderCase(container, f, onChanged) {
  const p = f.properties;
  const rows = [
    [t('event.id'), `#${f.id}`],
    [t('event.category'), h('span', {}, categoryDot(p.category), ' ', categoryLabel(p), ' ', h('code', {}, p.category))],
    [t('event.status'), statusBadge(p.status, p.overdue)],
    [t('event.priority'), String(p.priority)],
    [t('event.reported_at'), fmtTime(p.reported_at)],
    [t('event.due_at'), fmtTime(p.due_at)],
    [t('event.updated_at'), fmtTime(p.updated_at)],
    p.worker ? [t('event.worker'), p.worker.name] : null,
    p.assignee && (!p.worker || p.assignee !== p.worker.name) ? [t('event.assignee'), p.assignee] : null,
    p.escalation && p.escalation !== 'grid' ? [t('event.escalation'), levelName(p.escalation)] : null,
    p.merged_into ? ['→', `#${p.merged_into}`] : null,
    'reporter' in p ? [t('event.reporter'), p.reporter || '—'] : null,
  ].filter(Boolean);
  const photo = h('div', { class: 'photo' });
  if (p.photo) {
    // The photo needs the token, so it is fetched and shown from a blob URL.
    fetch(p.photo, { headers: authHeaders() })
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => b && photo.append(h('img', { src: URL.createObjectURL(b), alt: t('event.photo') })));
  }
  const history = h(
    'ol',
    { class: 'history' },
    (p.history || []).map((e) =>
      h(
        'li',
        {},
        h('time', { datetime: e.at }, fmtTime(e.at)),
        ' ',
        h('strong', {}, e.action ? actionName(e.action) : statusName(e.to)),
        e.from ? ` ${statusName(e.from)} → ${statusName(e.to)}` : ` → ${statusName(e.to)}`,
        e.actor ? h('span', { class: 'muted' }, ` · ${e.actor}`) : null,
        e.assignee ? h('span', {}, ` · ${t('event.assignee')}: ${e.assignee}`) : null,
        e.note ? h('div', { class: 'note' }, e.note) : null,
      ),
    ),
  );
  container.replaceChildren(
    h('h3', { class: 'case-title' }, p.title, p.generated ? h('span', { class: 'badge generated' }, t('event.generated')) : null),
    h('dl', { class: 'props' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    p.description ? h('section', {}, h('h4', {}, t('event.description')), h('p', { class: 'description' }, p.description)) : null,
    photo,
    h('section', {}, h('h4', {}, t('event.actions')), actionsForm(f, (nf) => {
      renderCase(container, nf, onChanged);
      onChanged(nf);
    })),
    h('section', {}, h('h4', {}, t('event.history')), history),
  );
}

function actionsForm(f, done) {
  const allowed = f.properties.allowed_actions || [];
  if (!getToken() || !allowed.length) return h('p', { class: 'muted' }, t('event.noActions'));
  const msg = h('p', { class: 'form-msg', role: 'status', 'aria-live': 'polite' });
  const note = h('input', { name: 'note', type: 'text', maxlength: 5000, placeholder: t('event.note'), 'aria-label': t('event.note') });
  // Assignment picks one of the grid's workers (by id); free text stays for a handler who
  // is not a grid worker (a department, say).
  const assignee = allowed.includes('assign') ? h('input', { name: 'assignee', type: 'text', maxlength: 200, placeholder: t('event.assigneeOther'), 'aria-label': t('event.assigneeOther') }) : null;
  const picker = allowed.includes('assign') ? h('select', { name: 'worker', 'aria-label': t('event.workerPick') }, h('option', { value: '' }, t('event.workerPick'))) : null;
  if (picker && f.properties.grid_id != null) {
    api(`/api/v1/workers?grid=${f.properties.grid_id}&active=true`)
      .then((w) => {
        for (const x of w.workers || []) picker.append(h('option', { value: x.id }, `${x.name} · ${x.kind_label || x.kind}`));
        if (f.properties.worker) picker.value = String(f.properties.worker.id);
        if ((w.workers || []).length) assignee.hidden = true;
      })
      .catch(() => {});
    picker.addEventListener('change', () => {
      assignee.hidden = picker.value !== '' && picker.options.length > 1;
    });
  }
  const into = allowed.includes('merge') ? h('input', { name: 'into', type: 'number', min: 1, placeholder: t('event.into'), 'aria-label': t('event.into') }) : null;
  const send = async (action, extra = {}) => {
    const body = { action, note: note.value.trim() || undefined, ...extra };
    if (action === 'assign') {
      if (picker.value) body.worker = Number(picker.value);
      else body.assignee = assignee.value.trim();
    }
    if (action === 'merge') body.into = Number(into.value) || null;
    msg.className = 'form-msg';
    msg.textContent = t('loading');
    for (const b of buttons.querySelectorAll('button')) b.disabled = true;
    try {
      const nf = await api(`/api/v1/events/${f.id}/transitions`, { method: 'POST', body });
      done(nf);
    } catch (e) {
      msg.className = 'form-msg error';
      msg.setAttribute('role', 'alert');
      msg.textContent = errorText(e);
      for (const b of buttons.querySelectorAll('button')) b.disabled = false;
    }
  };
  const buttons = h(
    'div',
    { class: 'actions' },
    allowed.flatMap((a) =>
      a === 'close'
        ? [
            h('button', { type: 'button', class: 'primary', dataset: { action: 'close-yes' }, onclick: () => send('close', { satisfied: true }) }, `${actionName('close')} · ${t('event.satisfied')}`),
            h('button', { type: 'button', dataset: { action: 'close-no' }, onclick: () => send('close', { satisfied: false }) }, t('event.notSatisfied')),
          ]
        : [h('button', { type: 'button', class: a === 'reject' || a === 'merge' ? '' : 'primary', dataset: { action: a }, onclick: () => send(a) }, actionName(a))],
    ),
  );
  return h('div', { class: 'action-form' }, note, picker, assignee, into, buttons, msg);
}

/** Area properties as a heading line: name, level, code, generated. */
export function areaHeading(a) {
  return h(
    'div',
    { class: 'area-heading' },
    h('h3', {}, localName(a)),
    h('p', { class: 'muted' }, levelName(a.level), ' · ', t('area.code'), ' ', h('code', {}, a.code), a.generated ? h('span', { class: 'badge generated' }, t('area.generated')) : null),
  );
}

/** A photo no larger than 2048 px a side, re-encoded as JPEG when large (else as is). */
export async function shrinkPhoto(file) {
  if (file.size <= 1.5 * 1024 * 1024) return file;
  const bmp = await createImageBitmap(file);
  const scale = Math.min(1, 2048 / Math.max(bmp.width, bmp.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bmp.width * scale);
  canvas.height = Math.round(bmp.height * scale);
  canvas.getContext('2d').drawImage(bmp, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b || file), 'image/jpeg', 0.85));
}

/** A blob as a `data:` URL. */
export function dataUrlOf(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}
