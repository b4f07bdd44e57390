// The fabric console's page: plain JavaScript, no library, no network but this console's own server.
// The server holds the fabric keys and signs every request to the fabric; this page only ever talks
// to it, with its session cookie (HttpOnly) and, for actions, the session's action header.
'use strict';

const STATES = ['PENDING', 'BOOTSTRAPPING', 'RUNNING', 'SUSPECT', 'DEAD', 'FAILED', 'LOST', 'STOPPED'];
const MAX_CHANGES = 30;
const MAX_SAMPLES = 300; // 10 minutes at one sample per 2 s

const fabric = {
  members: new Map(),      // id -> instance (with sessions)
  registry: {up: null, url: '', problem: ''},
  connected: false,
  clockSkew: 0,            // console server's clock minus this browser's, in ms
  changes: [],
  samples: [],
};
let actionToken = null;
let renderQueued = false;
let memberTimer = null;

// ---- small helpers

function h(tag, attrs, ...children) {
  const svg = ['svg', 'rect', 'line', 'polyline', 'text', 'title', 'g', 'path'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function $(id) { return document.getElementById(id); }

function age(iso) {
  if (!iso) return '–';
  const ms = Date.now() + fabric.clockSkew - Date.parse(iso);
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return s + ' s ago';
  if (s < 7200) return Math.round(s / 60) + ' min ago';
  return Math.round(s / 3600) + ' h ago';
}

function time(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function hostOf(member) {
  for (const url of Object.values(member.endpoints || {})) {
    try { return new URL(url).hostname; } catch (e) { /* not a URL */ }
  }
  return (member.metadata || {}).host || '–';
}

function reachedOf(member) {
  const mode = (member.connectivity || 'DIRECT').toLowerCase().replaceAll('_', ' ');
  const via = (member.metadata || {}).via;  // the bridge it is reached through (docs/connectivity.md)
  return via ? mode + ' via ' + via : mode;
}

function stateBadge(state) {
  return h('span', {class: 'state state-' + state, 'data-state': state, text: state});
}

function toast(text, error) {
  const el = $('action-result');
  el.textContent = text;
  el.classList.toggle('error', !!error);
}

// ---- the live feed from the console server

function connect() {
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => { fabric.connected = true; showRegistry(); });
  source.addEventListener('error', () => { fabric.connected = false; showRegistry(); });
  source.addEventListener('snapshot', e => {
    const data = JSON.parse(e.data);
    fabric.clockSkew = Date.parse(data.at) - Date.now();
    fabric.members = new Map(data.members.map(m => [m.id, m]));
    fabric.registry = data.registry;
    showRegistry();
    queueRender();
  });
  source.addEventListener('member', e => {
    const m = JSON.parse(e.data);
    fabric.members.set(m.id, m);
    queueRender();
    memberChanged(m.id);
  });
  source.addEventListener('removed', e => {
    const {id} = JSON.parse(e.data);
    fabric.members.delete(id);
    queueRender();
    memberChanged(id);
  });
  source.addEventListener('change', e => {
    fabric.changes.unshift(JSON.parse(e.data));
    fabric.changes.length = Math.min(fabric.changes.length, MAX_CHANGES);
    renderChanges();
  });
  source.addEventListener('registry', e => {
    fabric.registry = JSON.parse(e.data);
    showRegistry();
  });
  source.addEventListener('sample', e => {
    const sample = JSON.parse(e.data);
    for (const [id, beat] of Object.entries(sample.lastHeartbeats || {})) {
      const m = fabric.members.get(id);
      if (m) m.lastHeartbeatAt = beat;
    }
    fabric.samples.push(sample);
    if (fabric.samples.length > MAX_SAMPLES) fabric.samples.shift();
    if (!$('view-charts').hidden) renderCharts();
  });
}

function showRegistry() {
  const el = $('registry-status');
  if (!fabric.connected) {
    el.dataset.up = 'false';
    el.textContent = 'Console unreachable: reconnecting to fabric console…';
  } else if (fabric.registry.up) {
    el.dataset.up = 'true';
    el.textContent = 'Live: registry at ' + fabric.registry.url;
  } else if (fabric.registry.up === false) {
    el.dataset.up = 'false';
    el.textContent = 'Registry unreachable: ' + (fabric.registry.problem || fabric.registry.url) + '. Retrying…';
  }
}

// ---- views

function route() {
  const hash = location.hash || '#/';
  const member = hash.match(/^#\/member\/(.+)$/);
  const view = member ? 'member' : hash === '#/sessions' ? 'sessions' : hash === '#/charts' ? 'charts' : 'tree';
  for (const name of ['tree', 'member', 'sessions', 'charts']) $('view-' + name).hidden = name !== view;
  for (const a of document.querySelectorAll('.top nav a')) {
    if (a.id === 'nav-' + view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (member && $('view-member').dataset.id !== decodeURIComponent(member[1])) {
    // Another member: never show the previous one's page (or its buttons) while this one loads.
    delete $('view-member').dataset.id;
    $('view-member').replaceChildren(h('h2', {text: decodeURIComponent(member[1])}), h('p', {class: 'muted', text: 'loading…'}));
  }
  if (member) loadMember(decodeURIComponent(member[1]));
  else render();
  document.title = 'fabric console: ' + (member ? decodeURIComponent(member[1]) : view);
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => { renderQueued = false; render(); });
}

function render() {
  if (!$('view-tree').hidden) renderTree();
  if (!$('view-sessions').hidden) renderSessions();
  if (!$('view-charts').hidden) renderCharts();
  if (!$('view-member').hidden) renderMemberLive();
}

function options(select, values) {
  const current = select.value;
  const wanted = ['', ...values];
  const have = [...select.options].map(o => o.value);
  if (wanted.join('\n') !== have.join('\n')) {
    select.replaceChildren(...wanted.map(v => h('option', {value: v, text: v || 'any'})));
    select.value = wanted.includes(current) ? current : '';
  }
}

function renderTree() {
  const members = [...fabric.members.values()];
  options($('filter-role'), [...new Set(members.map(m => m.type))].sort());
  options($('filter-state'), STATES);
  options($('filter-session'), [...new Set(members.flatMap(m => m.sessions || []))].sort());
  const role = $('filter-role').value, state = $('filter-state').value, session = $('filter-session').value;
  const matches = m => (!role || m.type === role) && (!state || m.state === state) && (!session || (m.sessions || []).includes(session));

  const children = new Map();
  const roots = [];
  for (const m of members) {
    if (m.parentId && fabric.members.has(m.parentId) && m.parentId !== m.id) {
      if (!children.has(m.parentId)) children.set(m.parentId, []);
      children.get(m.parentId).push(m);
    } else {
      roots.push(m);
    }
  }
  const byId = (a, b) => a.id.localeCompare(b.id);
  const shown = new Set();
  const visit = m => {
    let any = matches(m);
    for (const c of children.get(m.id) || []) any = visit(c) || any;
    if (any) shown.add(m.id);
    return any;
  };
  roots.forEach(visit);

  const focused = document.activeElement && document.activeElement.closest('#tree li') ? document.activeElement.closest('li').dataset.id : null;
  const item = (m, level) => {
    const kids = (children.get(m.id) || []).filter(c => shown.has(c.id)).sort(byId);
    const row = h('div', {class: 'row' + (matches(m) ? '' : ' context')},
      h('span', {class: 'member-cell'}, level > 1 ? h('span', {class: 'branch', 'aria-hidden': 'true', text: '└ '}) : null,
        h('a', {href: '#/member/' + encodeURIComponent(m.id), class: 'member-link', title: m.name || m.id, text: m.id})),
      h('span', {class: 'role', text: m.type}),
      stateBadge(m.state),
      h('span', {class: 'incarnation', title: 'incarnation', text: '#' + m.incarnation}),
      h('span', {class: 'host', text: hostOf(m)}),
      h('span', {class: 'reached', title: Object.keys(m.endpoints || {}).join(', '), text: reachedOf(m)}),
      h('span', {class: 'beat', 'data-beat': m.lastHeartbeatAt || '', text: age(m.lastHeartbeatAt)}));
    // Indent inside the first column only, so every row's columns line up whatever its depth (CSSOM: allowed by the CSP).
    row.firstChild.style.paddingLeft = (level - 1) * 1.5 + 'rem';
    return h('li', {'data-id': m.id, 'data-state': m.state, 'data-incarnation': m.incarnation, 'aria-level': level},
      row, kids.length ? h('ul', {}, kids.map(k => item(k, level + 1))) : null);
  };
  $('tree').replaceChildren(...roots.filter(m => shown.has(m.id)).sort(byId).map(m => item(m, 1)));
  $('tree-empty').hidden = fabric.members.size > 0;
  $('count').textContent = shown.size + ' of ' + fabric.members.size + ' members shown';
  const known = new Set(['queue', ...members.map(m => m.type).filter(t => t !== 'spawner')]);
  options($('known-roles'), [...known].sort());
  if (focused) {
    const link = document.querySelector('#tree li[data-id="' + CSS.escape(focused) + '"] > .row .member-link');
    if (link) link.focus({preventScroll: true});
  }
  renderChanges();
}

function renderChanges() {
  if ($('view-tree').hidden) return;
  $('changes').replaceChildren(...fabric.changes.map(c => h('li', {'data-id': c.id, 'data-to': c.to || ''},
    time(c.at).slice(11) + '  ' + c.id + '  ' + c.kind
    + (c.to ? '  ' + (c.from || '–') + ' → ' + c.to : '')
    + (c.session ? '  session ' + c.session : '')
    + (c.to ? '  #' + c.incarnation : '')
    + (c.reason ? '  ' + c.reason : ''))));
}

function renderSessions() {
  const bySession = new Map();
  for (const m of fabric.members.values()) for (const s of m.sessions || []) {
    if (!bySession.has(s)) bySession.set(s, []);
    bySession.get(s).push(m);
  }
  const rows = [...bySession.keys()].sort().map(s => h('tr', {'data-session': s},
    h('th', {scope: 'row', text: s}),
    h('td', {}, bySession.get(s).sort((a, b) => a.id.localeCompare(b.id)).map((m, i) =>
      [i ? ', ' : '', h('a', {href: '#/member/' + encodeURIComponent(m.id), text: m.id}), ' (', stateBadge(m.state), ')']))));
  $('sessions').tBodies[0].replaceChildren(...rows);
  $('sessions-empty').hidden = rows.length > 0;
}

// ---- a member's page

let memberId = null;
let memberDetails = null;

async function loadMember(id) {
  memberId = id;
  const view = $('view-member');
  let answer;
  try {
    answer = await fetch('/api/members/' + encodeURIComponent(id), {headers: {Accept: 'application/json'}});
  } catch (e) {
    view.replaceChildren(h('h2', {text: id}), h('p', {class: 'muted', text: 'The console does not answer; retrying when it is back.'}));
    return;
  }
  if (memberId !== id) return;
  const body = await answer.json();
  if (answer.status === 404) {
    memberDetails = null;
    delete view.dataset.id;
    view.replaceChildren(h('h2', {id: 'no-such-member', text: 'No such member'}),
      h('p', {text: 'No member with the id “' + id + '” is registered in the registry at ' + fabric.registry.url + '. '
        + 'It may have been removed, or the link is wrong.'}),
      h('p', {}, h('a', {href: '#/', text: 'Back to the tree'})));
    view.querySelector('h2').focus && view.querySelector('h2').setAttribute('tabindex', '-1');
    return;
  }
  if (!answer.ok) {
    view.replaceChildren(h('h2', {text: id}), h('p', {class: 'banner', 'data-up': 'false', text: body.error}));
    return;
  }
  memberDetails = body;
  renderMember();
  loadStatus(id);
  loadLog(id);
}

function memberChanged(id) {
  if (id !== memberId || $('view-member').hidden) return;
  clearTimeout(memberTimer);
  memberTimer = setTimeout(() => loadMember(id), 250);
}

function renderMemberLive() {
  const m = memberDetails && fabric.members.get(memberDetails.instance.id);
  const beat = document.getElementById('member-beat');
  if (m && beat) beat.textContent = time(m.lastHeartbeatAt) + ' (' + age(m.lastHeartbeatAt) + ')';
}

function renderMember() {
  const d = memberDetails, m = d.instance;
  const view = $('view-member');
  // The same member again (it changed): keep its role status until the new one comes, and the focus where it was.
  const sameMember = view.dataset.id === m.id;
  const oldStatus = sameMember ? $('status-body') : null;
  const oldLog = sameMember ? $('log-body') : null;
  const focusedId = sameMember && document.activeElement && view.contains(document.activeElement) ? document.activeElement.id : null;
  view.dataset.id = m.id;
  const field = (name, value) => [h('dt', {text: name}), h('dd', {}, value)];
  const endpoints = Object.entries(m.endpoints || {});
  const sessions = d.sessions || [];
  view.replaceChildren(
    h('p', {}, h('a', {href: '#/', text: '← the tree'})),
    h('h2', {id: 'member-title', tabindex: '-1'}, m.id, ' ', stateBadge(m.state)),
    h('div', {class: 'cards'},
      h('section', {'aria-labelledby': 'member-fields'},
        h('h3', {id: 'member-fields', text: 'Member'}),
        h('dl', {class: 'fields'},
          field('role', m.type), field('name', m.name || '–'),
          field('state', [stateBadge(m.state), ' ', m.stateReason || '']),
          field('incarnation', h('span', {id: 'member-incarnation', text: String(m.incarnation)})),
          field('parent', m.parentId ? h('a', {href: '#/member/' + encodeURIComponent(m.parentId), text: m.parentId}) : '–'),
          field('host', hostOf(m)), field('reached', reachedOf(m)),
          field('registered', time(m.registeredAt)),
          field('last heartbeat', h('span', {id: 'member-beat', text: time(m.lastHeartbeatAt) + ' (' + age(m.lastHeartbeatAt) + ')'})))),
      h('section', {'aria-labelledby': 'member-endpoints'},
        h('h3', {id: 'member-endpoints', text: 'Endpoints'}),
        endpoints.length ? h('dl', {class: 'fields'}, endpoints.map(([k, v]) => field(k, v))) : h('p', {class: 'muted', text: 'none published'}),
        h('h3', {text: 'Actions'}),
        h('div', {class: 'bar'},
          h('button', {id: 'action-restart', type: 'button', on: {click: () => act('restart', m.id)}}, 'Restart…'),
          h('button', {id: 'action-stop', type: 'button', on: {click: () => act('stop', m.id)}}, 'Stop…')))),
    h('section', {'aria-labelledby': 'member-sessions'},
      h('h3', {id: 'member-sessions', text: 'Sessions'}),
      sessions.length ? h('ul', {id: 'session-list'}, sessions.map(s => h('li', {'data-session': s}, s, ' ',
          h('button', {type: 'button', class: 'remove-session', on: {click: () => session(m.id, s, false)}}, 'Remove…'))))
        : h('p', {class: 'muted', text: 'This member serves no session.'}),
      h('form', {id: 'session-form', class: 'bar', on: {submit: e => { e.preventDefault(); session(m.id, $('session-id').value.trim(), true); }}},
        h('label', {}, 'Session id ', h('input', {id: 'session-id', required: true, autocomplete: 'off', size: 20})),
        h('button', {type: 'submit', id: 'session-add'}, 'Add…'))),
    h('section', {'aria-labelledby': 'member-status'},
      h('h3', {id: 'member-status', text: 'Role status'}),
      h('div', {id: 'status-body'}, h('p', {class: 'muted', text: 'asking the member…'}))),
    h('section', {'aria-labelledby': 'member-history'},
      h('h3', {id: 'member-history', text: 'State history'}),
      timelineBar(d.history || []),
      h('table', {class: 'grid', id: 'history'},
        h('thead', {}, h('tr', {}, ['time', 'incarnation', 'from', 'to', 'reason'].map(t => h('th', {scope: 'col', text: t})))),
        h('tbody', {}, (d.history || []).map(t => h('tr', {'data-to': t.to, 'data-incarnation': t.incarnation},
          h('td', {text: time(t.at)}), h('td', {text: String(t.incarnation)}),
          h('td', {}, t.from ? stateBadge(t.from) : '–'), h('td', {}, stateBadge(t.to)), h('td', {text: t.reason || ''})))))),
    h('section', {'aria-labelledby': 'member-log'},
      h('h3', {id: 'member-log', text: 'Log'}),
      h('div', {id: 'log-body'}, h('p', {class: 'muted', text: 'asking its spawner…'}))));
  if (oldStatus) $('status-body').replaceWith(oldStatus);
  if (oldLog) $('log-body').replaceWith(oldLog);
  if (focusedId && $(focusedId)) $(focusedId).focus({preventScroll: true});
}

function timelineBar(history) {
  if (!history.length) return h('p', {class: 'muted', text: 'no history'});
  const start = Date.parse(history[0].at);
  const end = Math.max(Date.now() + fabric.clockSkew, start + 1000);
  const x = t => 600 * (Date.parse(t) - start) / (end - start);
  const colours = getComputedStyle(document.documentElement);
  const svg = h('svg', {class: 'timeline-bar', viewBox: '0 0 600 40', role: 'img', 'aria-label': 'states over time, from '
    + time(history[0].at) + ' to now; the table below lists every step'});
  history.forEach((t, i) => {
    const x0 = x(t.at), x1 = i + 1 < history.length ? x(history[i + 1].at) : 600;
    svg.append(h('rect', {x: x0.toFixed(1), y: 4, width: Math.max(1, x1 - x0).toFixed(1), height: 32,
      fill: colours.getPropertyValue('--' + t.to.toLowerCase()).trim() || '#888'}, h('title', {text: t.to + ' from ' + time(t.at)})));
  });
  return svg;
}

async function loadStatus(id) {
  const answer = await fetch('/api/members/' + encodeURIComponent(id) + '/status', {headers: {Accept: 'application/json'}});
  const body = await answer.json();
  const target = $('status-body');
  if (!target || memberId !== id) return;
  if (!answer.ok) {
    target.replaceChildren(h('p', {class: 'muted', text: body.error}));
    return;
  }
  const roleStatus = body.roleStatus || {};
  const rows = Object.entries(roleStatus).map(([k, v]) => [h('dt', {text: k}), h('dd', {text: typeof v === 'object' ? JSON.stringify(v) : String(v)})]);
  target.replaceChildren(h('dl', {class: 'fields', id: 'role-status'},
    h('dt', {text: 'role'}), h('dd', {text: body.role || '–'}),
    h('dt', {text: 'phase'}), h('dd', {text: body.phase || '–'}),
    rows.length ? rows : [h('dt', {text: 'status'}), h('dd', {text: 'this role reports nothing more'})]));
}

async function loadLog(id) {
  let answer, body;
  try {
    answer = await fetch('/api/members/' + encodeURIComponent(id) + '/log', {headers: {Accept: 'application/json'}});
    body = await answer.json();
  } catch (e) {
    return;
  }
  const target = $('log-body');
  if (!target || memberId !== id) return;
  if (!answer.ok) {
    target.replaceChildren(h('p', {class: 'muted', id: 'log-refused', text: body.error}));
    return;
  }
  const pre = h('pre', {id: 'log-text', class: 'log', tabindex: '0', text: body.text || ''});
  target.replaceChildren(
    h('p', {class: 'muted', text: (body.truncated ? 'The last ' + (body.text || '').length + ' characters of ' : 'All of ')
      + body.size + ' bytes in ' + body.file}),
    pre);
  pre.scrollTop = pre.scrollHeight;
}

// ---- actions: confirmed here, signed by the console server

function confirmAction(text) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  return new Promise(resolve => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), {once: true});
    dialog.returnValue = '';
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

async function post(path, body) {
  if (!actionToken) {
    const session = await (await fetch('/api/session')).json();
    actionToken = session.actionToken;
  }
  const answer = await fetch(path, {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Fabric-Console': actionToken},
    body: JSON.stringify(body || {})});
  const result = await answer.json();
  if (!answer.ok) throw new Error(result.error + (result.hints && result.hints.length ? ' ' + result.hints.join(' ') : ''));
  return result;
}

async function act(what, id) {
  const text = what === 'stop' ? 'Stop ' + id + '? Its spawner stops it; it stays STOPPED.'
    : 'Restart ' + id + '? Its spawner stops it and starts a new incarnation under the same id.';
  if (!await confirmAction(text)) return;
  try {
    await post('/api/members/' + encodeURIComponent(id) + '/' + what);
    toast((what === 'stop' ? 'Stopped ' : 'Restarting ') + id);
  } catch (e) {
    toast(e.message, true);
  }
}

async function session(id, s, add) {
  if (!s) return;
  if (!await confirmAction((add ? 'Add session ' + s + ' to ' : 'Remove session ' + s + ' from ') + id + '?')) return;
  try {
    await post('/api/members/' + encodeURIComponent(id) + '/sessions', {session: s, add});
    toast((add ? 'Added session ' + s + ' to ' : 'Removed session ' + s + ' from ') + id);
    memberChanged(id);
  } catch (e) {
    toast(e.message, true);
  }
}

async function spawn(e) {
  e.preventDefault();
  const type = $('spawn-type').value.trim(), name = $('spawn-name').value.trim();
  if (!await confirmAction('Spawn a new member of the role ' + type + (name ? ' named ' + name : '') + '?')) return;
  try {
    const result = await post('/api/spawn', {type, name});
    toast('Spawning ' + result.id);
  } catch (err) {
    toast(err.message, true);
  }
}

// ---- charts: plain SVG

function renderCharts() {
  const samples = fabric.samples;
  const states = STATES.filter(s => samples.some(x => (x.byState || {})[s]));
  const maxCount = Math.max(1, ...samples.map(x => Object.values(x.byState || {}).reduce((a, b) => Math.max(a, b), 0)));
  lineChart($('chart-states'), states.map(s => ({name: s, values: samples.map(x => (x.byState || {})[s] || 0)})), maxCount);
  const last = samples[samples.length - 1] || {byState: {}};
  $('chart-states-text').textContent = states.length
    ? 'Now: ' + states.map(s => s + ' ' + ((last.byState || {})[s] || 0)).join(', ') + '.'
    : 'No sample yet.';
  const beats = samples.map(x => x.heartbeatsPerSecond || 0);
  lineChart($('chart-beats'), [{name: 'RUNNING', values: beats}], Math.max(1, ...beats));
  $('chart-beats-text').textContent = beats.length ? 'Now: ' + beats[beats.length - 1] + ' heartbeats per second.' : 'No sample yet.';
}

function lineChart(svg, series, max) {
  const colours = getComputedStyle(document.documentElement);
  const width = 600, height = 200, pad = 24;
  const parts = [h('line', {x1: pad, y1: height - pad, x2: width, y2: height - pad, stroke: '#999'}),
    h('text', {x: 2, y: 14, 'font-size': 12, text: String(Math.round(max * 10) / 10)}),
    h('text', {x: 2, y: height - pad, 'font-size': 12, text: '0'})];
  for (const s of series) {
    const n = s.values.length;
    if (!n) continue;
    const points = s.values.map((v, i) => {
      const x = pad + (width - pad) * (n === 1 ? 1 : i / (MAX_SAMPLES - 1)) ;
      const y = height - pad - (height - 2 * pad) * v / max;
      return x.toFixed(1) + ',' + y.toFixed(1);
    }).join(' ');
    parts.push(h('polyline', {points, fill: 'none', 'stroke-width': 2,
      stroke: colours.getPropertyValue('--' + s.name.toLowerCase()).trim() || '#333'}, h('title', {text: s.name})));
  }
  svg.replaceChildren(...parts);
}

// ---- keyboard: j/k or arrow keys move along the tree's rows; "/" goes to the filters

document.addEventListener('keydown', e => {
  if (e.target.matches('input, select, textarea') || e.altKey || e.ctrlKey || e.metaKey) return;
  const links = [...document.querySelectorAll('#view-tree:not([hidden]) .member-link')];
  const i = links.indexOf(document.activeElement);
  if ((e.key === 'ArrowDown' || e.key === 'j') && links.length) {
    links[Math.min(links.length - 1, i + 1)].focus(); e.preventDefault();
  } else if ((e.key === 'ArrowUp' || e.key === 'k') && links.length) {
    links[Math.max(0, i - 1)].focus(); e.preventDefault();
  } else if (e.key === '/') {
    $('filter-role').focus(); e.preventDefault();
  }
});

for (const id of ['filter-role', 'filter-state', 'filter-session']) $(id).addEventListener('change', render);
$('spawn').addEventListener('submit', spawn);
window.addEventListener('hashchange', route);
setInterval(() => {
  for (const el of document.querySelectorAll('#tree .beat')) el.textContent = age(el.dataset.beat);
  renderMemberLive();
}, 1000);
connect();
route();
