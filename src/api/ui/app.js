// The nds dashboard: polls GET /ui/data and GET /cluster/members once a second on the node
// that served it, and shows what is wrong first. Writes the DOM only through textContent (no
// markup from the server or from key names is ever parsed). docs/dashboard.md describes it.
'use strict';

const POLL_MS = 1000;
const BEHIND_WARN = 1000;       // entries a member may lag before it is flagged
const DISK_WARN_FRACTION = 0.1; // free space below this share of the disk is flagged

let token = sessionStorage.getItem('nds-token') || '';
let previous = null;            // the last sample: {at, data}
let lastLeader = null;          // {term, leaderId}
const leaderChanges = [];

function $(id) { return document.getElementById(id); }

function set(id, text) { $(id).textContent = text; }

async function getJson(path) {
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const r = await fetch(path, { headers, cache: 'no-store' });
  if (r.status === 401 || r.status === 403) {
    const e = new Error('token needed');
    e.auth = true;
    throw e;
  }
  if (!r.ok) throw new Error(path + ' answered ' + r.status);
  return r.json();
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + units[i];
}

function rate(now, then, field, seconds) {
  if (!then || seconds <= 0) return '–';
  return ((field(now) - field(then)) / seconds).toFixed(1);
}

function alert(kind, text) {
  const div = document.createElement('div');
  div.className = kind;
  div.textContent = text;
  return div;
}

function render(data, members) {
  const s = data.status;
  const byId = new Map(members.map(m => [m.id, m]));
  const leader = byId.get(s.leader_id);
  set('node-line', 'node ' + s.name + ' (id ' + s.id + ', ' + s.role + ') · cluster ' +
      s.cluster_id + ' · ' + s.engine + ' · v' + s.version);
  set('updated', 'updated ' + new Date().toLocaleTimeString());
  set('f-leader', leader ? leader.name : (s.leader_id ? 'id ' + s.leader_id : 'none'));
  set('f-term', s.term);
  set('f-commit', s.commit_index);
  set('f-applied', s.applied_index);
  const now = Date.now();
  const seconds = previous ? (now - previous.at) / 1000 : 0;
  const then = previous && previous.data;
  set('f-commit-rate', rate(data, then, d => d.status.commit_index, seconds));
  set('f-request-rate', rate(data, then, d => d.requests_total, seconds));
  set('f-keys', data.keys_estimate);
  const diskKnown = data.disk_total_bytes > 0;
  const freeShare = diskKnown ? data.disk_free_bytes / data.disk_total_bytes : 1;
  set('f-disk', diskKnown ? bytes(data.disk_free_bytes) + ' (' + (freeShare * 100).toFixed(0) +
      '%)' : '–');
  previous = { at: now, data };

  if (!lastLeader || lastLeader.term !== s.term || lastLeader.leaderId !== s.leader_id) {
    if (lastLeader) {
      leaderChanges.unshift({ at: new Date(), term: s.term,
                              name: leader ? leader.name : (s.leader_id ? 'id ' + s.leader_id
                                                                        : 'no leader') });
      leaderChanges.length = Math.min(leaderChanges.length, 20);
    }
    lastLeader = { term: s.term, leaderId: s.leader_id };
  }
  const ol = $('leader-changes');
  ol.replaceChildren(...leaderChanges.map(c => {
    const li = document.createElement('li');
    li.textContent = c.at.toLocaleTimeString() + ': term ' + c.term + ', leader ' + c.name;
    return li;
  }));

  const tbody = $('members').querySelector('tbody');
  tbody.replaceChildren(...members.map(m => {
    const tr = document.createElement('tr');
    const role = m.id === s.leader_id ? 'leader' : (m.voter ? 'follower' : 'learner');
    const state = m.reachable ? 'up' : 'down';
    tr.dataset.member = m.name;
    tr.dataset.state = state;
    tr.dataset.role = role;
    for (const text of [m.name, m.id, role, state, m.behind, m.api_address]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));

  const problems = [];
  if (!s.leader_id) problems.push(alert('bad', 'No leader: writes and reads are refused.'));
  for (const m of members) {
    if (!m.reachable) problems.push(alert('bad', 'Member ' + m.name + ' is down (unreachable).'));
    else if (m.behind > BEHIND_WARN) {
      problems.push(alert('warn', 'Member ' + m.name + ' is ' + m.behind + ' entries behind.'));
    }
  }
  if (diskKnown && freeShare < DISK_WARN_FRACTION) {
    problems.push(alert('bad', 'Disk nearly full on ' + s.name + ': ' +
                               bytes(data.disk_free_bytes) + ' free.'));
  }
  if (problems.length === 0) problems.push(alert('good', 'All members up; leader ' +
                                                         (leader ? leader.name : '?') + '.'));
  $('alerts').replaceChildren(...problems);
}

async function poll() {
  try {
    const [data, members] = await Promise.all([getJson('/ui/data'), getJson('/cluster/members')]);
    $('token-form').hidden = true;
    render(data, members);
  } catch (e) {
    if (e.auth) {
      $('token-form').hidden = false;
      $('alerts').replaceChildren(alert('warn', 'Enter a token to see this cluster.'));
    } else {
      $('alerts').replaceChildren(alert('bad', 'This node does not answer: ' + e.message));
    }
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function browse(prefix) {
  const list = $('key-list');
  try {
    const answer = await getJson('/keys?limit=100&prefix=' + encodeURIComponent(prefix));
    list.replaceChildren(...answer.keys.map(k => {
      const li = document.createElement('li');
      li.textContent = k;
      li.addEventListener('click', () => show(k));
      return li;
    }));
    if (answer.keys.length === 0) list.replaceChildren(Object.assign(
        document.createElement('li'), { textContent: '(no keys with this prefix)' }));
  } catch (e) {
    list.replaceChildren(Object.assign(document.createElement('li'),
                                       { textContent: 'listing failed: ' + e.message }));
  }
}

async function show(key) {
  const pre = $('key-value');
  pre.hidden = false;
  const headers = token ? { Authorization: 'Bearer ' + token } : {};
  const path = '/store/' + key.split('/').map(encodeURIComponent).join('/');
  try {
    const r = await fetch(path, { headers, cache: 'no-store' });
    const text = await r.text();
    pre.textContent = key + ' (' + r.status + ', ' + (r.headers.get('Content-Type') || '?') +
                      ')\n\n' + (text.length > 4096 ? text.slice(0, 4096) + '\n…' : text);
  } catch (e) {
    pre.textContent = 'reading ' + key + ' failed: ' + e.message;
  }
}

$('token-form').addEventListener('submit', ev => {
  ev.preventDefault();
  token = $('token-input').value.trim();
  sessionStorage.setItem('nds-token', token);
  $('token-input').value = '';
});
$('browse-form').addEventListener('submit', ev => {
  ev.preventDefault();
  browse($('prefix-input').value);
});
poll();
