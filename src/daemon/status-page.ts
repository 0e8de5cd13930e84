/**
 * The live status page served at `GET /` to browsers: one static HTML document, no build step and
 * no external resources (it works offline). Its inline script polls `/_ccr/stats`, `/_ccr/info`,
 * `/_ccr/auto_follow` and `/_status/history` (the daemon's last hour of samples per follower,
 * follower-history.ts) every 2 s and redraws:
 * - a chart of the whole daemon (operations written per second, summed; the largest lag);
 * - the follower table, each row with its lag and throughput over the last hour as inline SVG,
 *   where a paused or failed stretch is a hatched band whose reason shows on hover (an SVG title);
 *   times are the viewer's own (toLocaleTimeString);
 * - a drill-down per follower (its button toggles it): every shard's checkpoints, lag, in-flight
 *   reads and writes, buffer and last error, the follower's parameters and metadata versions;
 * - pause, resume and unfollow buttons, each confirmed, which call the CCR API and show its answer.
 *
 * With a control token configured, the HTML itself is served to anyone (it holds no data) and the
 * page authenticates its fetches: open `http://<control address>/#token=<token>`, or type it into
 * the form the page shows when a request is refused. The token is taken from the URL fragment,
 * which browsers never send to a server (so it reaches no access log or Referer), kept in this
 * tab's sessionStorage only, and removed from the address bar at once; it is never written into
 * the page. An action refused for want of it says so and shows the form again.
 *
 * A follower's status (active, paused, failed) is `followerStatus` itself, its source written into
 * the page's script, so the page and the metrics cannot derive it differently.
 */
import { followerStatus } from '../follow/follower-status.js';
import { HISTORY_PATH } from './history-api.js';

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ccr-follow</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;max-width:110em}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.5em 0 .5em}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:middle}
th{background:#f4f4f4;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.active{color:#137333}.paused{color:#8a6d00}.failed{color:#b3261e}
.active::before{content:"\\25CF  "}.paused::before{content:"\\275A\\275A  "}.failed::before{content:"\\2716  "}
.bar{background:#eee;width:6em;height:.7em;display:inline-block}.bar>span{background:#1a73e8;height:100%;display:block}
.err{color:#b3261e;font-size:.9em}#updated{color:#777;font-size:.9em}svg{vertical-align:middle;max-width:100%;height:auto}
#login{margin:1em 0;padding:.8em;border:1px solid #ddd;background:#fafafa}#login[hidden]{display:none}
#answer{margin:.8em 0;padding:.5em .8em;border-left:4px solid #1a73e8;background:#f4f8fe;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.9em}#answer:empty{display:none}
#answer.refused{border-color:#b3261e;background:#fdf3f2}
button{font:inherit;padding:.15em .5em;margin:.1em}button.link{background:none;border:none;color:#1a73e8;text-decoration:underline;cursor:pointer;padding:0;text-align:left}
button:focus-visible{outline:2px solid #1a73e8;outline-offset:2px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(22em,1fr));gap:1em}
figure{margin:0;border:1px solid #ddd;padding:.5em}figcaption{font-weight:600;margin-bottom:.3em;word-break:break-all}
.legend{font-size:.85em;color:#555}.detail>td{background:#fafafa}.detail h3{font-size:1em;margin:.6em 0 .3em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;margin:0}dt{color:#555}dd{margin:0}
@media (max-width:40em){body{margin:.6em}th,td{padding:.3em}}
</style></head><body>
<h1>ccr-follow</h1><div id="updated" role="status">loading…</div>
<form id="login" hidden><label>This daemon needs its control token (daemon.control.token):
<input id="token" type="password" autocomplete="off" size="40"></label> <button type="submit">use this token</button></form>
<div id="answer" role="status" aria-live="polite"></div>
<h2>Whole daemon, last hour</h2>
<div class="charts" id="daemon-charts"></div>
<h2>Follower indices</h2>
<div class="scroll"><table id="followers"><caption class="legend">Select a follower to see its shards. Charts: the last hour; a hatched band is a paused or failed stretch (hover for the reason).</caption>
<thead><tr><th scope="col">follower</th><th scope="col">leader</th><th scope="col">status</th><th scope="col">owner</th><th scope="col">lag ops</th><th scope="col">lag</th><th scope="col">progress</th><th scope="col">written/s (1 min)</th><th scope="col">actions</th><th scope="col">last error</th></tr></thead><tbody></tbody></table></div>
<h2>Lag and throughput per follower, last hour</h2>
<div class="charts" id="follower-charts"></div>
<h2>Auto-follow patterns</h2>
<div class="scroll"><table id="patterns"><thead><tr><th scope="col">pattern</th><th scope="col">remote</th><th scope="col">leader patterns</th><th scope="col">active</th><th scope="col">followed</th><th scope="col">recent errors</th></tr></thead><tbody></tbody></table></div>
<h2>Cluster metadata: templates, pipelines, policies</h2>
<div class="scroll"><table id="cluster-metadata"><thead><tr><th scope="col">pattern</th><th scope="col">clusters</th><th scope="col">active</th><th scope="col">followed</th><th scope="col">put back</th><th scope="col">not expressible on the follower</th></tr></thead><tbody></tbody></table></div>
<script>
const TOKEN_KEY = 'ccr-follow-control-token', HISTORY_PATH = ${JSON.stringify(HISTORY_PATH)};
// Followers whose drill-down is open; kept across redraws.
const expanded = new Set();
// #token=<token>: kept for this tab only, and taken out of the address bar so it is not bookmarked,
// shared or shown on screen.
(function takeToken() {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!m) return;
  try { sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1])); } catch (e) { /* storage disabled: the form asks */ }
  window.history.replaceState(null, '', location.pathname + location.search);
})();
function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
}
function authHeaders() {
  const token = storedToken();
  return token ? { Authorization: 'Bearer ' + token } : {};
}
class NeedToken extends Error {}
// While the form is shown the page stops polling: each refused request is a warning in the daemon's log.
let waitingForToken = false;
async function getJson(path) {
  const r = await fetch(path, { headers: { Accept: 'application/json', ...authHeaders() }, cache: 'no-store' });
  if (r.status === 401) throw new NeedToken();
  if (!r.ok) throw new Error(path + ' answered HTTP ' + r.status);
  return r.json();
}
function askForToken(message) {
  waitingForToken = true;
  document.getElementById('login').hidden = false;
  document.getElementById('updated').textContent = message;
}
document.getElementById('login').addEventListener('submit', (e) => {
  e.preventDefault();
  try { sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim()); } catch (err) { /* storage disabled */ }
  document.getElementById('token').value = '';
  waitingForToken = false;
  refresh();
});
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const dur = (ms) => ms < 1000 ? ms + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : Math.floor(ms / 60000) + ' min ' + Math.round(ms % 60000 / 1000) + ' s';
const clock = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const num = (n) => Math.round(n * 10) / 10;
${followerStatus.toString()}
/**
 * A line chart of samples (oldest first) as inline SVG: value(s) per sample over time, with each
 * run of non-active samples drawn as a hatched band titled with its status and reason.
 */
function chart(samples, value, opts) {
  const W = 360, H = 110, L = 44, R = 8, T = 8, B = 22, w = W - L - R, h = H - T - B;
  if (samples.length === 0) return '<p class="legend">no samples yet</p>';
  const t0 = samples[0].at, t1 = Math.max(samples[samples.length - 1].at, t0 + 1);
  const max = Math.max(opts.floor, ...samples.map(value));
  const x = (t) => (L + (t - t0) * w / (t1 - t0)).toFixed(1), y = (v) => (T + h - v * h / max).toFixed(1);
  let bands = '';
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (s.status === 'active') continue;
    let j = i;
    while (j + 1 < samples.length && samples[j + 1].status === s.status && samples[j + 1].reason === s.reason) j++;
    // From halfway after the last sample before the run to halfway before the first one after it,
    // so a run of one sample (even the newest) is still a visible band.
    const start = i > 0 ? (samples[i - 1].at + s.at) / 2 : s.at, end = j + 1 < samples.length ? (samples[j].at + samples[j + 1].at) / 2 : t1;
    const x0 = +x(start), width = Math.max(3, +x(end) - x0);
    bands += '<rect class="band" data-status="' + s.status + '" x="' + x0 + '" y="' + T + '" width="' + width.toFixed(1) + '" height="' + h + '" fill="url(#hatch-' + s.status + ')">' +
      '<title>' + esc(s.status + ' from ' + clock(s.at) + ' to ' + clock(samples[j].at) + (s.reason ? ': ' + s.reason : '')) + '</title></rect>';
    i = j;
  }
  const d = samples.map((s, i) => (i ? 'L' : 'M') + x(s.at) + ',' + y(value(s))).join('');
  const last = value(samples[samples.length - 1]);
  const label = opts.label + ', ' + clock(t0) + ' to ' + clock(t1) + ': now ' + num(last) + ' ' + opts.unit + ', at most ' + num(max) + ' ' + opts.unit;
  return '<svg class="' + opts.cls + '" role="img" aria-label="' + esc(label) + '" viewBox="0 0 ' + W + ' ' + H + '" width="' + W + '" height="' + H + '">' +
    '<defs>' + ['paused', 'failed'].map((st) => '<pattern id="hatch-' + st + '" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="' +
      (st === 'failed' ? '#fbe3e1' : '#fdf3d0') + '"/><line x1="0" y1="0" x2="0" y2="6" stroke="' + (st === 'failed' ? '#b3261e' : '#8a6d00') + '" stroke-width="1.5"/></pattern>').join('') + '</defs>' +
    bands +
    '<line x1="' + L + '" y1="' + (T + h) + '" x2="' + (W - R) + '" y2="' + (T + h) + '" stroke="#999"/><line x1="' + L + '" y1="' + T + '" x2="' + L + '" y2="' + (T + h) + '" stroke="#999"/>' +
    '<text x="' + (L - 4) + '" y="' + (T + 8) + '" font-size="10" text-anchor="end">' + esc(num(max)) + '</text><text x="' + (L - 4) + '" y="' + (T + h) + '" font-size="10" text-anchor="end">0</text>' +
    '<text x="' + L + '" y="' + (H - 6) + '" font-size="10">' + esc(clock(t0)) + '</text><text x="' + (W - R) + '" y="' + (H - 6) + '" font-size="10" text-anchor="end">' + esc(clock(t1)) + '</text>' +
    '<path class="line" d="' + d + '" fill="none" stroke="' + opts.colour + '" stroke-width="1.5"/></svg>';
}
const lagChart = (samples) => chart(samples, (s) => s.lag_millis / 1000, { floor: 1, label: 'lag in seconds', unit: 's', cls: 'lag-chart', colour: '#b3261e' });
const rateChart = (samples) => chart(samples, (s) => s.operations_written_per_second, { floor: 1, label: 'operations written per second', unit: 'ops/s', cls: 'rate-chart', colour: '#1a73e8' });
/** The mean write rate over the samples of the last minute. */
function recentRate(samples) {
  if (samples.length === 0) return 0;
  const since = samples[samples.length - 1].at - 60000, recent = samples.filter((s) => s.at > since);
  return recent.reduce((a, s) => a + s.operations_written_per_second, 0) / recent.length;
}
/** The whole daemon as one series: rates summed and the largest lag, per sampling instant. */
function daemonSeries(followers) {
  const byAt = new Map();
  for (const f of followers) for (const s of f.samples) {
    const t = byAt.get(s.at) || { at: s.at, status: 'active', lag_millis: 0, operations_written_per_second: 0 };
    t.lag_millis = Math.max(t.lag_millis, s.lag_millis);
    t.operations_written_per_second += s.operations_written_per_second;
    byAt.set(s.at, t);
  }
  return [...byAt.values()].sort((a, b) => a.at - b.at);
}
function actionButtons(key, st) {
  const b = (action, text) => '<button type="button" data-action="' + action + '" data-follower="' + esc(key) + '" data-focus="' + action + ':' + esc(key) + '">' + text + '</button>';
  return (st === 'active' ? b('pause_follow', 'pause') : b('resume_follow', 'resume')) + b('unfollow', 'unfollow');
}
// With several daemons each row names the daemon that runs it, or how long nobody has.
function ownerText(owner) {
  if (!owner) return '';
  return owner.status === 'owned' ? owner.id.slice(0, 8) + ' on ' + owner.host : 'unowned for ' + dur(owner.for_ms);
}
function row(f, samples) {
  const key = f.follower_cluster + '/' + f.index;
  let copied = 0, total = 0, lagMs = 0;
  for (const s of f.shards) { copied += Math.max(0, s.follower_global_checkpoint + 1); total += Math.max(0, s.leader_global_checkpoint + 1); lagMs = Math.max(lagMs, s.lag_millis); }
  const pct = total === 0 ? 100 : Math.min(100, copied * 100 / total);
  const st = followerStatus(f);
  const err = f.fatal_exception ? f.fatal_exception.type + ': ' + f.fatal_exception.reason : '';
  const open = expanded.has(key);
  return '<tr data-follower="' + esc(key) + '"><th scope="row"><button type="button" class="link" data-toggle="' + esc(key) + '" data-focus="toggle:' + esc(key) + '" aria-expanded="' + open + '" aria-controls="detail-' + esc(key) + '">' + esc(key) + '</button></th><td>' +
    esc(f.remote_cluster + '/' + f.leader_index) + '</td><td class="' + st + '">' + st + '</td><td class="owner">' + esc(ownerText(f.owner)) +
    '</td><td class="num lag-ops">' + f.total_global_checkpoint_lag + '</td><td class="num lag-time">' + dur(lagMs) +
    '</td><td><span class="bar" aria-hidden="true"><span style="width:' + pct.toFixed(1) + '%"></span></span> ' + pct.toFixed(1) + '%</td><td class="num rate">' + num(recentRate(samples)) +
    '</td><td>' + actionButtons(key, st) + '</td><td class="err">' + esc(err) + '</td></tr>' + (open ? detail(f, key) : '');
}
function lastError(s) {
  if (s.fatal_exception) return s.fatal_exception.type + ': ' + s.fatal_exception.reason;
  const recent = [...(s.read_exceptions || []), ...(s.write_exceptions || []), ...(s.reconcile_exceptions || [])].pop();
  if (!recent) return '';
  const e = recent.exception || recent;
  return (e.type || 'error') + ': ' + (e.reason || JSON.stringify(e));
}
function detail(f, key) {
  const inf = info.get(key) || {};
  const params = inf.parameters || inf.paused_parameters || {};
  const s0 = f.shards[0] || {};
  const shards = f.shards.map((s) => '<tr data-shard="' + s.shard_id + '"><th scope="row">' + s.shard_id + '</th><td>' + esc(s.state) + '</td><td class="num leader-checkpoint">' + s.leader_global_checkpoint +
    '</td><td class="num checkpoint">' + s.follower_global_checkpoint + '</td><td class="num">' + s.lag_operations + '</td><td class="num">' + dur(s.lag_millis) +
    '</td><td class="num">' + s.outstanding_read_requests + '</td><td class="num">' + s.outstanding_write_requests + '</td><td class="num">' + s.write_buffer_operation_count + ' ops, ' +
    s.write_buffer_size_in_bytes + ' B</td><td class="err">' + esc(lastError(s)) + '</td></tr>').join('');
  return '<tr class="detail" id="detail-' + esc(key) + '"><td colspan="10"><h3>Shards of ' + esc(key) + '</h3><div class="scroll"><table class="shards"><thead><tr><th scope="col">shard</th><th scope="col">state</th>' +
    '<th scope="col">leader checkpoint</th><th scope="col">follower checkpoint</th><th scope="col">lag ops</th><th scope="col">lag</th><th scope="col">reads in flight</th><th scope="col">writes in flight</th>' +
    '<th scope="col">buffer</th><th scope="col">last error</th></tr></thead><tbody>' + shards + '</tbody></table></div>' +
    '<h3>Metadata versions</h3><dl><dt>mapping</dt><dd>' + esc(s0.follower_mapping_version ?? '?') + '</dd><dt>settings</dt><dd>' + esc(s0.follower_settings_version ?? '?') +
    '</dd><dt>aliases</dt><dd>' + esc(s0.follower_aliases_version ?? '?') + '</dd></dl>' +
    '<h3>Parameters</h3><dl class="params">' + Object.entries(params).map(([k, v]) => '<dt>' + esc(k) + '</dt><dd>' + esc(v) + '</dd>').join('') + '</dl></td></tr>';
}
let info = new Map();
async function refresh() {
  try {
    // A daemon without cluster-metadata patterns' API (none configured in) answers 404: an empty list then.
    const metadata = getJson('/_ccr/cluster_metadata').catch((err) => { if (err instanceof NeedToken) throw err; return { patterns: [] }; });
    const [stats, af, inf, hist, cm] = await Promise.all([getJson('/_ccr/stats'), getJson('/_ccr/auto_follow'), getJson('/_ccr/info'), getJson(HISTORY_PATH), metadata]);
    document.getElementById('login').hidden = true;
    info = new Map(inf.follower_indices.map((i) => [i.follower_cluster + '/' + i.follower_index, i]));
    const samplesOf = new Map(hist.followers.map((h) => [h.follower_cluster + '/' + h.index, h.samples]));
    const followers = stats.follow_stats.indices;
    // Redrawing replaces the buttons: keep the keyboard's place.
    const focused = document.activeElement && document.activeElement.getAttribute('data-focus');
    document.querySelector('#followers tbody').innerHTML = followers.length
      ? followers.map((f) => row(f, samplesOf.get(f.follower_cluster + '/' + f.index) || [])).join('') : '<tr><td colspan="10">no follower indices</td></tr>';
    if (focused) { const el = [...document.querySelectorAll('[data-focus]')].find((e) => e.getAttribute('data-focus') === focused); if (el) el.focus(); }
    const series = daemonSeries(hist.followers);
    document.getElementById('daemon-charts').innerHTML = '<figure><figcaption>lag (seconds, largest)</figcaption>' + lagChart(series) + '</figure><figure><figcaption>written/s (all followers)</figcaption>' + rateChart(series) + '</figure>';
    document.getElementById('follower-charts').innerHTML = followers.map((f) => {
      const key = f.follower_cluster + '/' + f.index, samples = samplesOf.get(key) || [];
      return '<figure data-chart="' + esc(key) + '"><figcaption>' + esc(key) + '</figcaption><div class="legend">lag (seconds)</div>' + lagChart(samples) + '<div class="legend">written/s</div>' + rateChart(samples) + '</figure>';
    }).join('');
    document.querySelector('#patterns tbody').innerHTML = af.patterns.length ? af.patterns.map((p) => {
      const errs = p.stats.recent_auto_follow_errors || [];
      const followed = p.stats.followed_indices.length;
      return '<tr><td>' + esc(p.name) + '</td><td>' + esc(p.pattern.remote_cluster) + '</td><td>' + esc((p.pattern.leader_index_patterns || []).join(', ')) +
        '</td><td>' + esc(p.pattern.active) + '</td><td class="num">' + followed + '</td><td class="err">' +
        errs.map((e) => esc(e.leader_index + ': ' + (e.auto_follow_exception ? e.auto_follow_exception.reason : JSON.stringify(e)))).join('<br>') + '</td></tr>';
    }).join('') : '<tr><td colspan="6">no auto-follow patterns</td></tr>';
    document.querySelector('#cluster-metadata tbody').innerHTML = cm.patterns.length ? cm.patterns.map((p) => {
      const problems = p.stats.not_expressible.map((u) => u.kind.replace('_', ' ') + ' ' + u.name + ': ' + u.reason);
      if (p.stats.last_error) problems.push('last round failed: ' + p.stats.last_error.type + ': ' + p.stats.last_error.reason);
      return '<tr data-metadata-pattern="' + esc(p.name) + '"><td>' + esc(p.name) + '</td><td>' + esc(p.pattern.remote_cluster + ' → ' + p.pattern.follower_cluster) + '</td><td>' + esc(p.pattern.active) +
        '</td><td class="num">' + p.stats.items_followed + '</td><td class="num">' + p.stats.items_put_back + '</td><td class="err">' + problems.map(esc).join('<br>') + '</td></tr>';
    }).join('') : '<tr><td colspan="6">no cluster-metadata patterns</td></tr>';
    document.getElementById('updated').textContent = 'updated ' + clock(Date.now()) + ' · refreshes every 2 s · history every ' + hist.interval_millis / 1000 + ' s';
  } catch (err) {
    if (err instanceof NeedToken) return askForToken('the daemon refused the request: it needs its control token');
    document.getElementById('updated').textContent = 'cannot reach the daemon: ' + err;
  }
}
const ACTION_WORDS = { pause_follow: 'Pause', resume_follow: 'Resume', unfollow: 'Unfollow (the follower index becomes a plain index and stops following; it must be paused first)' };
async function act(action, key) {
  if (!confirm(ACTION_WORDS[action] + ' ' + key + '?')) return;
  const answer = document.getElementById('answer');
  answer.className = '';
  const slash = key.indexOf('/');
  const path = '/' + encodeURIComponent(key.slice(0, slash)) + '/' + encodeURIComponent(key.slice(slash + 1)) + '/_ccr/' + action;
  try {
    const r = await fetch(path, { method: 'POST', headers: { Accept: 'application/json', ...authHeaders() }, cache: 'no-store' });
    const text = await r.text();
    if (r.status === 401) {
      answer.className = 'refused';
      answer.textContent = 'refused: ' + action + ' of ' + key + ' needs the control token, and ' + (storedToken() ? 'the one this tab holds was not accepted' : 'this tab holds none') + '. Enter it above. (HTTP 401: ' + text + ')';
      askForToken('actions need the daemon\\'s control token');
      return;
    }
    if (!r.ok) answer.className = 'refused';
    answer.textContent = (r.ok ? 'done: ' : 'failed: ') + 'POST ' + path + ' → HTTP ' + r.status + ' ' + text;
  } catch (err) {
    answer.className = 'refused';
    answer.textContent = 'cannot reach the daemon: ' + err;
  }
  refresh();
}
document.getElementById('followers').addEventListener('click', (e) => {
  const t = e.target.closest('button');
  if (!t) return;
  if (t.dataset.toggle) {
    if (expanded.has(t.dataset.toggle)) expanded.delete(t.dataset.toggle); else expanded.add(t.dataset.toggle);
    refresh();
  } else if (t.dataset.action) act(t.dataset.action, t.dataset.follower);
});
refresh(); setInterval(() => { if (!waitingForToken) refresh(); }, 2000);
</script></body></html>
`;
