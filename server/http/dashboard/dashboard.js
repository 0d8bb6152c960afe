// netpool's dashboard: reads netpoold's JSON API (/api/v1/) every POLL_MS
// with the token from the address's fragment (#token=..., which browsers
// never send) kept in this tab's sessionStorage. No data is in the page.
'use strict';

const POLL_MS = 1500;
const PAGE_SIZE = 50;
const MAX_SHOWN = 2000;  // characters of arguments and results shown
const TOKEN_KEY = 'netpool-token';

let token = null;
let timer = null;
let generation = 0;  // a new start() ends the polling of the one before
// A page of jobs holds the scheduler's lock while the store reads it (a few
// ms): the list refreshes at most once per JOBS_COST_FACTOR times its last
// fetch took, so that an open page never holds a busy scheduler for long.
const JOBS_COST_FACTOR = 20;
const jobs = {filter: {}, cursors: [null], page: 0, hasOlder: false, fetched: 0, took: 0};
let openJob = null;

const $ = (id) => document.getElementById(id);

function takeTokenFromAddress() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    const rest = location.hash.replace(/(^#|&)token=[^&]*/, '$1').replace(/^#&/, '#');
    history.replaceState(null, '', location.pathname + location.search + (rest === '#' ? '' : rest));
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// The JSON body of GET `path`; `withHeaders` also returns the response's
// headers, as {body, headers}.
async function api(path, withHeaders = false) {
  const response = await fetch(path, {headers: {Authorization: 'Bearer ' + token}, cache: 'no-store'});
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  if (!response.ok) {
    throw new ApiError(response.status, body && body.message ? body.message : response.statusText);
  }
  return withHeaders ? {body, headers: response.headers} : body;
}

function showLogin(message) {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  stopPolling();
  $('main').hidden = true;
  $('forget').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
}

function stopPolling() {
  ++generation;
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

function start() {
  stopPolling();
  $('login').hidden = true;
  $('main').hidden = false;
  $('forget').hidden = false;
  showJobFromAddress();
  poll(generation);
}

// Text helpers -------------------------------------------------------------

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (className) e.className = className;
  return e;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : el('td', cell));
  return tr;
}

function clock(time) {
  if (!time) return '';
  const date = new Date(time);
  return isNaN(date) ? String(time) : date.toLocaleTimeString();
}

function seconds(s) {
  if (s === null || s === undefined) return '';
  if (s < 60) return s.toFixed(1) + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + Math.floor(s % 60) + 's';
  return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
}

function labels(map) {
  return Object.entries(map || {}).map(([k, v]) => k + '=' + v).join(',');
}

function errorText(error) {
  return error ? error.code + ': ' + error.message : '';
}

function shortened(text) {
  return text.length > MAX_SHOWN ? text.slice(0, MAX_SHOWN) + '\u2026 (' + text.length + ' characters)' : text;
}

function jobLink(id) {
  const td = el('td', null, 'id');
  const a = el('a', id);
  a.href = '#job=' + encodeURIComponent(id);
  td.appendChild(a);
  return td;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// Overview ---------------------------------------------------------------

function drawChart(history) {
  const svg = $('chart');
  const ns = 'http://www.w3.org/2000/svg';
  const n = history.succeeded.length;
  let max = 1;
  for (let i = 0; i < n; ++i) {
    max = Math.max(max, history.succeeded[i] + history.failed[i] + history.cancelled[i]);
  }
  const width = 900, height = 160, w = width / n;
  const shapes = [];
  for (const y of [0.25, 0.5, 0.75]) {
    const line = document.createElementNS(ns, 'line');
    line.setAttribute('x1', 0); line.setAttribute('x2', width);
    line.setAttribute('y1', height * y); line.setAttribute('y2', height * y);
    line.setAttribute('class', 'grid');
    shapes.push(line);
  }
  for (let i = 0; i < n; ++i) {
    let base = height;
    for (const [key, cls] of [['succeeded', 'ok'], ['failed', 'bad'], ['cancelled', 'gone']]) {
      const count = history[key][i];
      if (!count) continue;
      const h = (count / max) * (height - 4);
      const rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('x', (i * w + 0.5).toFixed(1));
      rect.setAttribute('width', Math.max(1, w - 1).toFixed(1));
      rect.setAttribute('y', (base - h).toFixed(1));
      rect.setAttribute('height', h.toFixed(1));
      rect.setAttribute('class', cls);
      const title = document.createElementNS(ns, 'title');
      title.textContent = count + ' ' + key + ', ' + ((n - 1 - i) * history.interval_s) + ' s ago';
      rect.appendChild(title);
      shapes.push(rect);
      base -= h;
    }
  }
  svg.replaceChildren(...shapes);
  $('chart-max').textContent = max;
  $('interval').textContent = history.interval_s;
  $('span').textContent = Math.round((n * history.interval_s) / 60);
}

function showOverview(o) {
  $('version').textContent = o.version;
  $('ready').textContent = o.ready ? 'ready' : 'not ready: ' + (o.not_ready_reason || '');
  $('ready').className = 'badge ' + (o.ready ? 'ok' : 'bad');
  $('pending').textContent = o.pending;
  $('busy').textContent = o.running + ' / ' + o.slots;
  $('succeeded').textContent = o.succeeded;
  $('failed').textContent = o.failed;
  $('cancelled').textContent = o.cancelled;
  $('workers').textContent = o.workers;
  $('uptime').textContent = seconds(o.uptime_s);
  const h = o.history;
  if (h) {
    // The last interval is under way: the rate is over the full ones before it.
    const full = Math.max(1, Math.round(60 / h.interval_s));
    let finished = 0;
    for (let i = h.succeeded.length - 1 - full; i < h.succeeded.length - 1; ++i) {
      if (i >= 0) finished += h.succeeded[i] + h.failed[i] + h.cancelled[i];
    }
    $('rate').textContent = (finished / (full * h.interval_s)).toFixed(2);
    drawChart(h);
  }
}

// Workers ------------------------------------------------------------------

function showWorkers(workers) {
  $('workers-note').textContent = workers.length ? '' : 'No worker node is connected.';
  fill($('workers-table').tBodies[0], workers.map((w) => {
    const tr = row([w.name, w.id, labels(w.labels), w.slots, w.running,
                    w.processes !== undefined ? w.processes : w.slots, clock(w.connected),
                    clock(w.last_heartbeat), w.jobs_done, w.state || 'connected']);
    tr.className = 'worker-row';
    return tr;
  }));
}

// Jobs ---------------------------------------------------------------------

// The one place that knows how a page of jobs is asked for: `cursor` is
// what the previous page returned as `next` (null: the newest page).
// Answers {jobs, next}, next null on the last page.
async function fetchJobsPage(filter, cursor, size) {
  const params = new URLSearchParams({order: 'newest', limit: String(size)});
  if (filter.state) params.set('state', filter.state);
  if (filter.function) params.set('function', filter.function);
  if (filter.label) params.set('label', filter.label);
  if (cursor) params.set('before', cursor);
  // The store reads a page and no more; the header says where the next one
  // starts, when older jobs are left.
  const {body, headers} = await api('/api/v1/jobs?' + params, true);
  return {jobs: body, next: headers.get('X-Netpool-Next-Before')};
}

function jobsDue() {
  return Date.now() - jobs.fetched >= Math.max(POLL_MS, JOBS_COST_FACTOR * jobs.took);
}

async function refreshJobs() {
  const began = Date.now();
  const page = await fetchJobsPage(jobs.filter, jobs.cursors[jobs.page], PAGE_SIZE);
  jobs.fetched = Date.now();
  jobs.took = jobs.fetched - began;
  jobs.cursors[jobs.page + 1] = page.next;
  jobs.hasOlder = page.next !== null;
  $('older').disabled = !jobs.hasOlder;
  $('newer').disabled = jobs.page === 0;
  $('page').textContent = 'page ' + (jobs.page + 1);
  fill($('jobs-table').tBodies[0], page.jobs.map((j) => {
    const state = el('td', j.state, 'state-' + j.state);
    const tr = row([jobLink(j.id), state, j.function, j.attempts + '/' + j.max_attempts,
                    j.worker || '', clock(j.submitted), seconds(j.duration_s),
                    errorText(j.error)]);
    tr.className = 'job-row';
    return tr;
  }));
}

function pageTo(page) {
  jobs.page = page;
  jobs.cursors.length = page + 1;
  refreshJobs().catch(failed);
}

// One job ------------------------------------------------------------------

function showJobFromAddress() {
  const match = /(?:^#|&)job=([^&]*)/.exec(location.hash);
  openJob = match ? decodeURIComponent(match[1]) : null;
  $('job-view').hidden = openJob === null;
  if (openJob !== null) {
    $('job-id').textContent = openJob;
    // Nothing of the job shown before stays while this one loads.
    fill($('job-fields'), []);
    fill($('job-attempts').tBodies[0], []);
    $('job-args').textContent = '';
    $('job-result').textContent = '';
    $('job-view').scrollIntoView();
    refreshJob().catch(failed);
  }
}

async function refreshJob() {
  if (openJob === null) return;
  const id = openJob;
  let job;
  try {
    job = await api('/api/v1/jobs/' + encodeURIComponent(id));
  } catch (e) {
    if (e.status !== 404) throw e;
    $('job-error').textContent = 'No job ' + id + ' (or not yours).';
    fill($('job-fields'), []);
    return;
  }
  if (id !== openJob) return;
  $('job-error').textContent = '';
  const fields = [['state', job.state], ['function', job.function], ['command', job.command],
                  ['attempts', job.attempts + ' of ' + job.max_attempts], ['worker', job.worker],
                  ['owner', job.owner], ['priority', job.priority], ['labels', labels(job.labels)],
                  ['submitted', job.submitted], ['started', job.started],
                  ['finished', job.finished], ['duration', seconds(job.duration_s)],
                  ['waiting for', (job.waiting_for || []).join(', ')],
                  ['error', errorText(job.error)]];
  fill($('job-fields'), fields.filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => {
      const tr = row([el('th', k), el('td', v)]);
      if (k === 'state') tr.cells[1].id = 'job-state';
      return tr;
    }));
  fill($('job-attempts').tBodies[0], (job.history || []).map((a) =>
    row([a.attempt, a.worker || '', clock(a.started), clock(a.finished), errorText(a.error)])));
  $('job-args').textContent = job.args === null ? '(over 4 KiB: not shown)'
                                                 : shortened(JSON.stringify(job.args));
  const result = job.result;
  let text = '(not finished)';
  if (result && result.truncated) text = shortened(result.json) + ' \u2026 (truncated)';
  else if (result && 'value' in result) text = shortened(JSON.stringify(result.value, null, 1));
  else if (result && result.error) text = shortened(JSON.stringify(result.error, null, 1));
  $('job-result').textContent = text;
}

// Polling ------------------------------------------------------------------

function failed(e) {
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
    showLogin('The token was refused: ' + e.message);
    return;
  }
  $('error').textContent = 'Cannot reach netpoold: ' + e.message;
}

async function poll(polling) {
  timer = null;
  try {
    const overview = api('/api/v1/overview');
    const workers = api('/api/v1/workers').then(showWorkers, (e) => {
      if (!(e instanceof ApiError) || e.status !== 403) throw e;
      $('workers-note').textContent = 'The worker list needs an admin token.';
    });
    showOverview(await overview);
    await Promise.all([workers, jobsDue() ? refreshJobs() : null, refreshJob()]);
    $('error').textContent = '';
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    failed(e);
  }
  if (token !== null && polling === generation) timer = setTimeout(poll, POLL_MS, polling);
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token-input').value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token-input').value = '';
    start();
  });
  $('forget').addEventListener('click', () => showLogin(''));
  $('jobs-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    jobs.filter = {state: $('filter-state').value, function: $('filter-function').value.trim(),
                   label: $('filter-label').value.trim()};
    pageTo(0);
  });
  $('search-button').addEventListener('click', () => {
    const id = $('search-id').value.trim();
    if (id) location.hash = 'job=' + encodeURIComponent(id);
  });
  $('older').addEventListener('click', () => { if (jobs.hasOlder) pageTo(jobs.page + 1); });
  $('newer').addEventListener('click', () => { if (jobs.page > 0) pageTo(jobs.page - 1); });
  $('job-close').addEventListener('click', () => {
    history.replaceState(null, '', location.pathname + location.search);
    showJobFromAddress();
  });
  window.addEventListener('hashchange', () => {
    if (takeTokenFromAddress() !== token && sessionStorage.getItem(TOKEN_KEY)) {
      token = sessionStorage.getItem(TOKEN_KEY);
      start();
      return;
    }
    showJobFromAddress();
  });
  token = takeTokenFromAddress();
  if (token) start(); else showLogin('');
});
