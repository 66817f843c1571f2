// UI strings in Chinese (default) and English; the choice is kept in localStorage.
//
// Elements carry `data-i18n="key"` (text), `data-i18n-placeholder`, `data-i18n-title` and
// `data-i18n-aria` (aria-label); `applyI18n()` fills them in the current language.

const LANG_KEY = 'minqing.lang';

const STRINGS = {
  'zh-CN': {
    app: '民情地图',
    'nav.command': '指挥中心',
    'nav.field': '网格员',
    'nav.report': '事件上报',
    'nav.aria': '页面导航',
    'map.aria': '地图',
    'lang.toggle': 'English',
    'lang.toggle.aria': 'Switch to English',
    'auth.signin': '登录',
    'auth.signout': '退出',
    'auth.signed': '已登录',
    'auth.anonymous': '未登录（公众）',
    'auth.title': '使用令牌登录',
    'auth.help': '粘贴管理员为您签发的访问令牌（mq_…）。令牌只保存在本浏览器中。',
    'auth.token': '访问令牌',
    'auth.save': '保存',
    'auth.cancel': '取消',
    'auth.needed': '查看事件需要登录：公众只能看到热力图、区域和统计。',
    'auth.bad': '令牌无效或已吊销，请重新登录。',
    'auth.forbidden': '当前角色无权查看事件位置。',
    'cmd.title': '指挥中心',
    'filter.title': '筛选',
    'filter.category': '事件分类',
    'filter.all': '全部分类',
    'filter.status': '状态',
    'status.open': '未办结',
    'status.all': '全部状态',
    'heat.title': '热力图',
    'heat.show': '显示热力图',
    'heat.window': '时间范围',
    'window.24h': '近 24 小时',
    'window.7d': '近 7 天',
    'window.30d': '近 30 天',
    'window.365d': '近一年',
    'window.all': '全部时间',
    'window.custom': '自定义',
    'window.from': '从',
    'window.to': '到',
    'live.title': '实时动态',
    'live.on': '实时连接中',
    'live.off': '实时连接中断，正在重连…',
    'live.idle': '登录后接收实时事件',
    'live.none': '暂无新动态',
    'live.created': '新事件',
    'live.updated': '状态更新',
    'legend.title': '图例',
    'legend.cluster': '事件聚合（数字为件数）',
    'legend.overdue': '超期未办结',
    'legend.live': '刚刚上报或更新',
    'legend.heat': '热力：少 → 多',
    'legend.areaOverdue': '区域底色：超期件数',
    'legend.generated': '生成数据：网格边界与事件为演示生成，非真实数据',
    'legend.levels': '边界层级随缩放变化：区县 → 街道 → 社区 → 网格',
    'area.stats': '区域统计',
    'area.open': '未办结',
    'area.overdue': '超期',
    'area.escalated': '已升级',
    'area.total': '事件总数',
    'area.resolved': '已办结',
    'area.households': '户数',
    'area.median': '办结中位用时',
    'area.hours': '小时',
    'area.satisfaction': '回访满意率',
    'area.byCategory': '分类统计',
    'area.trend': '趋势',
    'area.trend.reported': '上报',
    'area.trend.resolved': '办结',
    'area.trend.day': '按日',
    'area.trend.week': '按周',
    'area.trend.month': '按月',
    'area.category': '分类',
    'area.generated': '生成数据',
    'area.code': '代码',
    'close': '关闭',
    'loading': '加载中…',
    'error': '出错了',
    'event.title': '事件详情',
    'event.category': '分类',
    'event.status': '状态',
    'event.priority': '优先级',
    'event.reported_at': '上报时间',
    'event.due_at': '办理期限',
    'event.updated_at': '更新时间',
    'event.assignee': '处置人',
    'event.escalation': '升级至',
    'event.description': '描述',
    'event.reporter': '上报人联系方式',
    'event.photo': '照片',
    'event.history': '处置经过',
    'event.actions': '可执行操作',
    'event.noActions': '当前角色无可执行操作',
    'event.note': '备注',
    'event.assigneeInput': '处置人（派遣时必填）',
    'event.satisfied': '群众满意',
    'event.notSatisfied': '不满意（重新办理）',
    'event.into': '合并到事件编号',
    'event.done': '已提交：',
    'event.overdue': '已超期',
    'event.generated': '生成数据',
    'event.id': '事件编号',
    'event.open': '打开',
    'field.title': '网格员',
    'field.locate': '定位我',
    'field.tapHint': '或在地图上点选位置',
    'field.myGrid': '我所在的网格',
    'field.parents': '上级',
    'field.workers': '网格员',
    'field.noWorkers': '暂无登记',
    'field.nearby': '附近未办结事件',
    'field.none': '附近没有未办结事件',
    'field.noGrid': '此处不在任何网格内',
    'field.geoFailed': '无法获取位置，请在地图上点选。',
    'field.back': '返回列表',
    'report.title': '事件上报',
    'report.category': '事件分类',
    'report.choose': '请选择分类',
    'report.location': '位置',
    'report.locHint': '在地图上点选事件位置，或',
    'report.useMine': '使用我的位置',
    'report.grid': '将由此网格受理',
    'report.noGrid': '该位置不在任何网格内，无法受理',
    'report.titleField': '标题',
    'report.titlePh': '一句话说明问题，如“路灯不亮”',
    'report.description': '详细描述',
    'report.descriptionPh': '时间、地点、情况……',
    'report.contact': '联系方式（选填，仅指挥中心可见）',
    'report.photo': '照片（选填，JPEG/PNG/WebP，≤ 5 MB）',
    'report.submit': '提交',
    'report.submitting': '提交中…',
    'report.needCategory': '请选择事件分类。',
    'report.needLocation': '请在地图上选择位置。',
    'report.needTitle': '请填写标题。',
    'report.photoTooBig': '照片太大（压缩后仍超过 5 MB）。',
    'report.photoType': '照片须为 JPEG、PNG 或 WebP 图片。',
    'report.ok': '已收到您的上报',
    'report.caseId': '事件编号',
    'report.follow': '跟进办理进度',
    'report.keepId': '请记下事件编号以便查询。',
    'report.duplicates': '附近可能已有相同事件',
    'report.another': '再报一件',
    'report.following': '办理进度',
    'report.as': '上报身份',
    'report.anonymous': '匿名上报（不能跟进进度）',
    'generated': '生成数据',
    'm': '米',
    'km': '公里',
  },
  en: {
    app: 'Minqing map',
    'nav.command': 'Command centre',
    'nav.field': 'Field',
    'nav.report': 'Report',
    'nav.aria': 'Pages',
    'map.aria': 'Map',
    'lang.toggle': '中文',
    'lang.toggle.aria': '切换到中文',
    'auth.signin': 'Sign in',
    'auth.signout': 'Sign out',
    'auth.signed': 'Signed in',
    'auth.anonymous': 'Not signed in (public)',
    'auth.title': 'Sign in with a token',
    'auth.help': 'Paste the access token (mq_…) an administrator issued to you. It is kept in this browser only.',
    'auth.token': 'Access token',
    'auth.save': 'Save',
    'auth.cancel': 'Cancel',
    'auth.needed': 'Events need a sign-in: the public sees heat, areas and statistics only.',
    'auth.bad': 'The token is invalid or revoked; please sign in again.',
    'auth.forbidden': 'Your role may not see where events are.',
    'cmd.title': 'Command centre',
    'filter.title': 'Filters',
    'filter.category': 'Category',
    'filter.all': 'All categories',
    'filter.status': 'Status',
    'status.open': 'Open',
    'status.all': 'Any status',
    'heat.title': 'Heatmap',
    'heat.show': 'Show heatmap',
    'heat.window': 'Time window',
    'window.24h': 'Last 24 hours',
    'window.7d': 'Last 7 days',
    'window.30d': 'Last 30 days',
    'window.365d': 'Last year',
    'window.all': 'All time',
    'window.custom': 'Custom',
    'window.from': 'From',
    'window.to': 'To',
    'live.title': 'Live',
    'live.on': 'Live',
    'live.off': 'Live connection lost, reconnecting…',
    'live.idle': 'Sign in to receive live events',
    'live.none': 'No changes yet',
    'live.created': 'New case',
    'live.updated': 'Updated',
    'legend.title': 'Legend',
    'legend.cluster': 'Cluster of cases (count)',
    'legend.overdue': 'Overdue',
    'legend.live': 'Just reported or changed',
    'legend.heat': 'Heat: few → many',
    'legend.areaOverdue': 'Area tint: overdue cases',
    'legend.generated': 'Generated data: grid boundaries and events are generated for the demo, not real',
    'legend.levels': 'Boundaries follow the zoom: district → street → community → grid',
    'area.stats': 'Area statistics',
    'area.open': 'Open',
    'area.overdue': 'Overdue',
    'area.escalated': 'Escalated',
    'area.total': 'All cases',
    'area.resolved': 'Resolved',
    'area.households': 'Households',
    'area.median': 'Median time to resolve',
    'area.hours': 'h',
    'area.satisfaction': 'Satisfaction',
    'area.byCategory': 'By category',
    'area.trend': 'Trend',
    'area.trend.reported': 'Reported',
    'area.trend.resolved': 'Resolved',
    'area.trend.day': 'per day',
    'area.trend.week': 'per week',
    'area.trend.month': 'per month',
    'area.category': 'Category',
    'area.generated': 'generated data',
    'area.code': 'Code',
    'close': 'Close',
    'loading': 'Loading…',
    'error': 'Error',
    'event.title': 'Case',
    'event.category': 'Category',
    'event.status': 'Status',
    'event.priority': 'Priority',
    'event.reported_at': 'Reported',
    'event.due_at': 'Due',
    'event.updated_at': 'Updated',
    'event.assignee': 'Assignee',
    'event.escalation': 'Escalated to',
    'event.description': 'Description',
    'event.reporter': 'Reporter contact',
    'event.photo': 'Photo',
    'event.history': 'History',
    'event.actions': 'Actions',
    'event.noActions': 'Your role may take no action now',
    'event.note': 'Note',
    'event.assigneeInput': 'Assignee (needed to assign)',
    'event.satisfied': 'Satisfied',
    'event.notSatisfied': 'Not satisfied (reopen)',
    'event.into': 'Merge into case id',
    'event.done': 'Done: ',
    'event.overdue': 'Overdue',
    'event.generated': 'generated data',
    'event.id': 'Case id',
    'event.open': 'Open',
    'field.title': 'Field',
    'field.locate': 'Locate me',
    'field.tapHint': 'or tap the map',
    'field.myGrid': 'My grid',
    'field.parents': 'Part of',
    'field.workers': 'Grid workers',
    'field.noWorkers': 'none registered',
    'field.nearby': 'Open cases nearby',
    'field.none': 'No open cases nearby',
    'field.noGrid': 'No grid covers this place',
    'field.geoFailed': 'Cannot get your position; tap the map instead.',
    'field.back': 'Back to the list',
    'report.title': 'Report a problem',
    'report.category': 'Category',
    'report.choose': 'Choose a category',
    'report.location': 'Location',
    'report.locHint': 'Tap the map where it is, or',
    'report.useMine': 'use my position',
    'report.grid': 'Goes to grid',
    'report.noGrid': 'No grid covers this place; it cannot be handled',
    'report.titleField': 'Title',
    'report.titlePh': 'In a few words, e.g. “street light out”',
    'report.description': 'Description',
    'report.descriptionPh': 'When, where, what…',
    'report.contact': 'Contact (optional, seen by the command centre only)',
    'report.photo': 'Photo (optional, JPEG/PNG/WebP, ≤ 5 MB)',
    'report.submit': 'Submit',
    'report.submitting': 'Submitting…',
    'report.needCategory': 'Please choose a category.',
    'report.needLocation': 'Please choose a location on the map.',
    'report.needTitle': 'Please give a title.',
    'report.photoTooBig': 'The photo is too large (over 5 MB even compressed).',
    'report.photoType': 'The photo must be a JPEG, PNG or WebP image.',
    'report.ok': 'Your report was received',
    'report.caseId': 'Case id',
    'report.follow': 'Follow its progress',
    'report.keepId': 'Keep the case id to ask about it.',
    'report.duplicates': 'Possibly already reported nearby',
    'report.another': 'Report another',
    'report.following': 'Progress',
    'report.as': 'Reporting as',
    'report.anonymous': 'Anonymous (cannot follow progress)',
    'generated': 'generated data',
    'm': 'm',
    'km': 'km',
  },
};

const STATUS = {
  reported: ['已上报', 'Reported'],
  accepted: ['已受理', 'Accepted'],
  assigned: ['已派遣', 'Assigned'],
  in_progress: ['处置中', 'In progress'],
  resolved: ['已办结', 'Resolved'],
  closed: ['已结案', 'Closed'],
  rejected: ['不予受理', 'Rejected'],
  reopened: ['重新办理', 'Reopened'],
};

const ACTIONS = {
  accept: ['受理', 'Accept'],
  reject: ['不予受理', 'Reject'],
  assign: ['派遣', 'Assign'],
  start: ['开始处置', 'Start'],
  resolve: ['办结', 'Resolve'],
  close: ['回访结案', 'Close (return visit)'],
  merge: ['合并重复', 'Merge duplicate'],
};

const LEVELS = {
  city: ['市', 'City'],
  district: ['区县', 'District'],
  street: ['街道/乡镇', 'Street/township'],
  community: ['社区/村', 'Community/village'],
  grid: ['网格', 'Grid'],
};

let lang = normalise(localStorage.getItem(LANG_KEY));
const listeners = [];

function normalise(l) {
  return l === 'en' ? 'en' : 'zh-CN';
}

/** The current language: `zh-CN` or `en`. */
export function currentLang() {
  return lang;
}

/** Whether the current language is English. */
export function isEn() {
  return lang === 'en';
}

/** A UI string; `{name}` in it is replaced from `vars`. */
export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS['zh-CN'][key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

const pick = (table, key) => (table[key] ? table[key][isEn() ? 1 : 0] : key);
/** A workflow state's name. */
export const statusName = (s) => pick(STATUS, s);
/** An action's name. */
export const actionName = (a) => pick(ACTIONS, a);
/** An area level's name. */
export const levelName = (l) => pick(LEVELS, l);
/** Every workflow state. */
export const STATES = Object.keys(STATUS);

/** A name from an object with `zh`/`en` (or `name`/`name_en`). */
export function localName(o) {
  if (!o) return '';
  if (isEn()) return o.en || o.name_en || o.zh || o.name || '';
  return o.zh || o.name || o.en || '';
}

/** Fills every `data-i18n*` element under `root`. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
}

/** Switches the language (persisted) and tells the listeners. */
export function setLang(l) {
  lang = normalise(l);
  localStorage.setItem(LANG_KEY, lang);
  applyI18n();
  for (const f of listeners) f(lang);
}

/** Calls `f` after every language change. */
export function onLang(f) {
  listeners.push(f);
}

/** A date and time in the current language. */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(isEn() ? 'en-GB' : 'zh-CN', { dateStyle: 'medium', timeStyle: 'short' });
}

/** A distance in metres, as m or km. */
export function fmtDistance(m) {
  if (m == null) return '';
  return m < 1000 ? `${Math.round(m)} ${t('m')}` : `${(m / 1000).toFixed(m < 10000 ? 2 : 1)} ${t('km')}`;
}

/** A number with grouping. */
export function fmtNumber(n) {
  return n == null ? '—' : Number(n).toLocaleString(isEn() ? 'en-GB' : 'zh-CN');
}
