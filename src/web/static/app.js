/*
 * app.js - the patchgap triage screen: plain JavaScript, no framework, no
 * network besides this server's /api/v1.  Every text from commits, records
 * and branch names goes into the page through textContent or attribute
 * setters, never as HTML, so a subject holding <script> stays text.
 * Views (location.hash): #/ matrix, #/fix/<id>, #/report.
 */
'use strict';

const API = '/api/v1';
const tokenBox = () => document.getElementById('token');

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) {
    if (k === null || k === undefined) continue;
    e.appendChild(typeof k === 'string' || typeof k === 'number' ? document.createTextNode(String(k)) : k);
  }
  return e;
}

function svg(tag, attrs, ...kids) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.appendChild(typeof k === 'string' ? document.createTextNode(k) : k);
  return e;
}

async function api(path, opts) {
  const headers = { 'Accept': 'application/json' };
  const t = tokenBox().value.trim();
  if (t) headers['Authorization'] = 'Bearer ' + t;
  if (opts && opts.body) headers['Content-Type'] = 'application/json';
  const r = await fetch(API + path, Object.assign({ headers }, opts || {}));
  const body = await r.json().catch(() => ({ error: 'not JSON' }));
  if (!r.ok) {
    const err = new Error(body.error || ('HTTP ' + r.status));
    err.field = body.field;
    err.status = r.status;
    throw err;
  }
  return body;
}

function show(...nodes) {
  const m = document.getElementById('main');
  m.replaceChildren(...nodes);
}

function failed(e) {
  show(el('p', { class: 'error', id: 'error' }, 'Error: ' + e.message +
    (e.status === 401 ? ' (enter an API token above)' : '')));
}

/* ---------------- matrix ---------------- */

const LISTS = { unfixed: 'open', possibly_affected: 'possibly_affected', unknown: 'unknown',
                fixed: 'fixed', not_affected_by_config: 'not_built', decided: null };
const PRIO = { low: 1, medium: 2, high: 3, urgent: 4, critical: 4 };
let matrix = { rows: [], branches: [], sel: 0 };

function subsystem(subject) {
  const i = (subject || '').indexOf(':');
  return i > 0 ? subject.slice(0, i) : '';
}

async function loadMatrix() {
  const branches = await api('/branches');
  const rows = new Map();
  const open = {};
  for (const b of branches) {
    const st = await api('/branches/' + encodeURIComponent(b.name) + '/status?all=1');
    open[b.name] = (st.unfixed || []).length;
    for (const [list, label] of Object.entries(LISTS)) {
      for (const e of st[list] || []) {
        const key = e.id;
        if (!rows.has(key)) {
          rows.set(key, { id: e.id, fix: e.fix, subject: e.subject || '', cells: {}, decided: false,
                          prio: (e.priority_level || e.severity || '').toLowerCase(), bug_class: e.bug_class || '',
                          age: e.age_days || 0, subsystem: subsystem(e.subject) });
        }
        const r = rows.get(key);
        const state = e.decision ? e.decision.state : label;
        r.cells[b.name] = { state, decided: !!e.decision, engine: e.engine || list, text: e.decided || e.reason || '' };
        if (e.decision) r.decided = true;
        if (e.bug_class) r.bug_class = e.bug_class;
      }
    }
  }
    /* most open branches first, then CVEs before silent fixes, then by id */
  const nopen = r => Object.values(r.cells).filter(c => c.state === 'open' || c.state === 'affected').length;
  const key = r => [-nopen(r), r.id.startsWith('CVE-') ? 0 : 1, r.id];
  const cmp = (a, b) => { const x = key(a), y = key(b); for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1; return 0; };
  matrix = { rows: [...rows.values()].sort(cmp), branches, open, sel: 0 };
}

function filtered() {
  const v = id => document.getElementById(id) ? document.getElementById(id).value.trim().toLowerCase() : '';
  const q = v('f-q'), prio = v('f-prio'), bc = v('f-class'), sub = v('f-sub'), age = parseInt(v('f-age') || '0', 10);
  const dec = v('f-decided');
  return matrix.rows.filter(r =>
    (!q || r.id.toLowerCase().includes(q) || r.subject.toLowerCase().includes(q)) &&
    (!prio || (PRIO[r.prio] || 0) >= PRIO[prio]) &&
    (!bc || r.bug_class.toLowerCase().includes(bc)) &&
    (!sub || r.subsystem.toLowerCase().includes(sub)) &&
    (!age || r.age >= age) &&
    (!dec || (dec === 'decided') === r.decided));
}

function renderRows() {
  const tbody = document.getElementById('rows');
  const rows = filtered();
  if (matrix.sel >= rows.length) matrix.sel = Math.max(0, rows.length - 1);
  tbody.replaceChildren(...rows.map((r, i) => {
    const tr = el('tr', { class: 'row' + (i === matrix.sel ? ' sel' : ''), 'data-id': r.id,
                          onclick: () => { location.hash = '#/fix/' + encodeURIComponent(r.id); } },
      el('td', null, el('a', { href: '#/fix/' + encodeURIComponent(r.id), class: r.id.startsWith('CVE-') ? null : 'sha' },
        r.id.startsWith('CVE-') ? r.id : r.id.slice(0, 12))),
      el('td', null, r.subject),
      el('td', null, r.prio || '-'),
      ...matrix.branches.map(b => {
        const c = r.cells[b.name];
        const state = c ? c.state : 'not_affected';
        return el('td', { class: 'cell st-' + state + (c && c.decided ? ' decided' : ''), title: c ? c.text : '' },
                  state.replace(/_/g, ' '));
      }));
    return tr;
  }));
  document.getElementById('count').textContent = rows.length + ' of ' + matrix.rows.length + ' fixes';
}

function moveSel(d) {
  const n = filtered().length;
  if (!n) return;
  matrix.sel = Math.min(n - 1, Math.max(0, matrix.sel + d));
  renderRows();
  const s = document.querySelector('tr.sel');
  if (s && s.scrollIntoView) s.scrollIntoView({ block: 'nearest' });
}

async function viewMatrix() {
  await loadMatrix();
  const input = (id, label, attrs) => el('label', null, label, el('input', Object.assign({ id, oninput: renderRows }, attrs || {})));
  const filters = el('div', { class: 'filters' },
    input('f-q', 'Search (/)', { type: 'search', placeholder: 'CVE or subject' }),
    el('label', null, 'Priority at least', el('select', { id: 'f-prio', onchange: renderRows },
      el('option', { value: '' }, 'any'), ...['low', 'medium', 'high', 'critical'].map(p => el('option', { value: p }, p)))),
    input('f-class', 'Bug class'),
    input('f-sub', 'Subsystem'),
    input('f-age', 'Age ≥ days', { type: 'number', min: '0' }),
    el('label', null, 'Decided', el('select', { id: 'f-decided', onchange: renderRows },
      el('option', { value: '' }, 'all'), el('option', { value: 'decided' }, 'decided'),
      el('option', { value: 'undecided' }, 'undecided'))),
    el('span', { id: 'count', class: 'muted' }));
  const head = el('tr', null, el('th', null, 'Fix'), el('th', null, 'Subject'), el('th', null, 'Priority'),
    ...matrix.branches.map(b => el('th', { class: 'branch' }, b.name, el('br'),
      el('span', { class: 'muted open-count' }, matrix.open[b.name] + ' open'))));
  show(el('h2', null, 'Fixes × branches'), filters,
       el('table', { id: 'matrix' }, el('thead', null, head), el('tbody', { id: 'rows' })));
  renderRows();
}

/* ---------------- fix page ---------------- */

const STATES = ['affected', 'not_affected', 'fixed', 'under_investigation', 'will_not_fix'];
const JUSTIFICATIONS = ['component_not_present', 'vulnerable_code_not_present', 'vulnerable_code_not_in_execute_path',
                        'vulnerable_code_cannot_be_controlled_by_adversary', 'inline_mitigations_already_exist'];

async function viewFix(id) {
  const f = await api('/cves/' + encodeURIComponent(id));
  const rec = f.record || {};
  const fixSha = (f.fixes || [])[0];
  let commit = null;
  if (fixSha) commit = await api('/commits/' + fixSha).catch(() => null);
  const title = rec.title || rec.subject || (commit && commit.subject) || f.id;

  const tl = el('ol', { class: 'timeline', id: 'timeline' });
  if (commit) tl.appendChild(el('li', null, 'upstream ', el('span', { class: 'sha' }, commit.sha.slice(0, 12)), ' ' + (commit.commit_date || '')));
  if (commit && commit.mainline_release) tl.appendChild(el('li', null, 'mainline ' + commit.mainline_release));
  for (const [name, b] of Object.entries(f.branches || {})) {
    if (b.fix_version && b.fix_version !== '0')
      tl.appendChild(el('li', { class: 'st-' + b.state }, name + ': ' + b.fix_version));
  }

  const verdicts = el('table', { id: 'verdicts' },
    el('tr', null, el('th', null, 'Branch'), el('th', null, 'State'), el('th', null, 'Engine'), el('th', null, 'Reason'),
       el('th', null, 'Decision')),
    ...Object.entries(f.branches || {}).map(([name, b]) => el('tr', null,
      el('td', null, name), el('td', { class: 'st-' + b.state }, b.state),
      el('td', null, b.engine + (b.vuln_version ? ' (from ' + b.vuln_version + ')' : '')),
      el('td', null, b.reason || ''),
      el('td', { class: 'decision' }, b.decision ? b.decision.decided : ''))));

  const dyad = el('pre', { id: 'dyad' }, (f.dyad || []).join('\n') || '(none)');
  const history = el('ol', { id: 'history' }, ...(f.decisions || []).map(d =>
    el('li', null, d.branch + (d.config ? '+' + d.config : '') + ': ' + d.decided)));

  const msg = el('p', { id: 'form-msg' });
  const form = el('form', { class: 'decide', id: 'decide' },
    el('label', { for: 'd-branch' }, 'Branch'),
    el('select', { id: 'd-branch' }, ...Object.keys(f.branches || {}).map(n => el('option', { value: n }, n))),
    el('label', { for: 'd-state' }, 'State'),
    el('select', { id: 'd-state' }, ...STATES.map(s => el('option', { value: s }, s))),
    el('label', { for: 'd-just' }, 'Justification'),
    el('select', { id: 'd-just' }, el('option', { value: '' }, '(only for not_affected)'),
       ...JUSTIFICATIONS.map(s => el('option', { value: s }, s))),
    el('label', { for: 'd-note' }, 'Reason'),
    el('textarea', { id: 'd-note', required: 'required' }),
    el('span'), el('button', { type: 'submit', id: 'd-submit' }, 'Record decision'));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    const body = { target: f.id, branch: form.querySelector('#d-branch').value,
                   state: form.querySelector('#d-state').value, note: form.querySelector('#d-note').value };
    const j = form.querySelector('#d-just').value;
    if (j) body.justification = j;
    try {
      await api('/decisions', { method: 'POST', body: JSON.stringify(body) });
      await viewFix(id);
      document.getElementById('form-msg').textContent = 'Decision recorded.';
      document.getElementById('form-msg').className = 'ok';
    } catch (e) {
      msg.textContent = 'Not recorded: ' + e.message + (e.field ? ' (field ' + e.field + ')' : '');
      msg.className = 'error';
    }
  });

  const backports = el('table', { id: 'backports' },
    el('tr', null, el('th', null, 'Onto'), el('th', null, 'Result'), el('th', null, 'Conflicting files'),
       el('th', null, 'Live patch'), el('th', null, 'Test'), el('th', null, 'When')),
    ...(f.backports || []).map(b => el('tr', null, el('td', null, b.onto_ref), el('td', null, b.status),
      el('td', null, String(b.conflicts)), el('td', null, b.livepatch || '-'),
      el('td', null, b.test_result || '-'), el('td', null, b.created))));
  const files = commit ? el('ul', null, ...(commit.files || []).map(x => el('li', { class: 'sha' }, x.path))) : null;
  /* the conflicts a recorded backport run left, hunk by hunk (text nodes: never markup) */
  const side = (name, x) => name + ' lines ' + x.start + '+' + x.lines + ':\n' + (x.text || '');
  const hunks = el('div', { id: 'conflict-hunks' },
    ...(f.backports || []).filter(b => (b.conflict_hunks || []).length).flatMap(b => [
      el('h4', null, 'onto ' + b.onto_ref + ' (' + b.status + ', ' + b.created + ')'),
      ...b.conflict_hunks.flatMap(c => [
        el('p', null, el('span', { class: 'sha' }, c.path), ' ' + c.kind + (c.upstream_path && c.upstream_path !== c.path ? ' (upstream ' + c.upstream_path + ')' : '')),
        ...(c.hunks || []).map(h => el('pre', { class: 'hunk' },
          side('branch (ours)', h.ours) + '\n' + side('parent (base)', h.base) + '\n' + side('fix (theirs)', h.theirs)))])]));
  /* why the classifier flagged (or did not flag) the fix: patchgap explain */
  const x = commit && commit.explanation;
  const explain = x ? el('div', { id: 'explanation' },
    el('p', null, 'P(security) ' + x.p_security.toFixed(3) + ', ' + (x.label ? 'flagged' : 'not flagged') +
       ', bug class ' + x.bug_class + ', priority ' + x.priority.toFixed(1) + ' (' + x.level + '); logit ' +
       x.logit.toFixed(3) + ' = intercept ' + x.intercept.toFixed(3) + ' + features (model ' + x.model + ')'),
    el('table', { id: 'features' },
      el('tr', null, el('th', null, 'Stage'), el('th', null, 'Weight'), el('th', null, 'Contribution'), el('th', null, 'Feature')),
      ...(x.features || []).map(ft => el('tr', null, el('td', null, String(ft.stage)), el('td', null, ft.weight.toFixed(3)),
        el('td', null, ft.contribution.toFixed(3)), el('td', { class: 'sha' }, ft.feature)))),
    el('ul', { id: 'priority-reasons' }, ...(x.reasons || []).map(rs =>
      el('li', null, (rs.points >= 0 ? '+' : '') + Number(rs.points).toFixed(1) + '  ' + rs.why)))) : null;
  show(el('p', null, el('a', { href: '#/' }, '← matrix')),
       el('h2', { id: 'fix-title' }, f.id + ': ' + title),
       el('div', { class: 'card' }, el('h3', null, 'Timeline'), tl),
       el('div', { class: 'card' }, el('h3', null, 'Per branch'), verdicts),
       el('div', { class: 'card' }, el('h3', null, 'Dyad lines'), dyad),
       el('div', { class: 'card' }, el('h3', null, 'Backports (patchgap backport)'), backports, hunks),
       explain ? el('div', { class: 'card' }, el('h3', null, 'Classifier explanation (patchgap explain)'), explain) : null,
       commit ? el('div', { class: 'card' }, el('h3', null, 'Fix commit'), el('pre', { id: 'message' }, commit.message || ''), files) : null,
       el('div', { class: 'card' }, el('h3', null, 'Decide'), form, msg),
       el('div', { class: 'card' }, el('h3', null, 'Decision history'), history));
}

/* ---------------- report ---------------- */

async function viewReport() {
  const r = await api('/report');
  const groups = (r.groups && r.groups.branch) || {};
  const names = Object.keys(groups);
  const w = 640, bar = 22, left = 160;
  const max = Math.max(1, ...names.map(n => (groups[n].window_days && groups[n].window_days.median) || 0));
  const chart = svg('svg', { width: w, height: 30 + bar * names.length, id: 'report-chart', role: 'img' },
    svg('text', { x: 0, y: 14 }, 'median exposure window (days) per branch'),
    ...names.flatMap((n, i) => {
      const med = (groups[n].window_days && groups[n].window_days.median) || 0;
      const y = 24 + i * bar;
      return [svg('text', { x: 0, y: y + 14 }, n),
              svg('rect', { x: left, y, width: Math.max(1, (w - left - 80) * med / max), height: bar - 6, fill: '#4a7fc1' }),
              svg('text', { x: left + (w - left - 80) * med / max + 6, y: y + 14 }, med.toFixed(1) + ' d, ' + groups[n].open + ' open')];
    }));
  const rows = (r.fixes || []).map(x => el('tr', null, el('td', null, x.id), el('td', null, x.branch),
    el('td', null, x.subject || ''), el('td', null, x.open ? 'open' : 'closed'),
    el('td', null, x.open ? String(Math.round(x.open_age_days || 0)) : String(Math.round(x.window_days || 0)))));
  show(el('h2', null, 'Patch-gap report'),
       el('p', null, (r.fixes_total || 0) + ' fixes, ' + (r.fixes_open || 0) + ' open'),
       el('div', { class: 'card' }, chart),
       el('table', { id: 'report-fixes' }, el('tr', null, el('th', null, 'Fix'), el('th', null, 'Branch'),
         el('th', null, 'Subject'), el('th', null, 'State'), el('th', null, 'Days')), ...rows));
}

/* ---------------- routing and keys ---------------- */

async function route() {
  const h = location.hash || '#/';
  try {
    if (h.startsWith('#/fix/')) await viewFix(decodeURIComponent(h.slice(6)));
    else if (h === '#/report') await viewReport();
    else await viewMatrix();
    document.body.setAttribute('data-view', h.startsWith('#/fix/') ? 'fix' : h === '#/report' ? 'report' : 'matrix');
  } catch (e) {
    failed(e);
  }
}

document.addEventListener('keydown', ev => {
  const t = ev.target;
  const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
  if (ev.key === 'Escape' && typing) { t.blur(); return; }
  if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === '/') {
    const q = document.getElementById('f-q');
    if (q) { ev.preventDefault(); q.focus(); }
  } else if (ev.key === 'j' && document.getElementById('rows')) {
    moveSel(1);
  } else if (ev.key === 'k' && document.getElementById('rows')) {
    moveSel(-1);
  } else if (ev.key === 'Enter' && document.getElementById('rows')) {
    const r = filtered()[matrix.sel];
    if (r) location.hash = '#/fix/' + encodeURIComponent(r.id);
  }
});

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => {
  tokenBox().value = sessionStorage.getItem('patchgap-token') || '';
  tokenBox().addEventListener('change', () => { sessionStorage.setItem('patchgap-token', tokenBox().value.trim()); route(); });
  route();
});
