/**
 * The live status page served at `GET /` to browsers: one static HTML document whose inline script
 * polls `/_ccr/stats` and `/_ccr/auto_follow` every 2 s and redraws. Throughput (operations written
 * per second) is derived in the page from successive stats and drawn as an inline SVG sparkline of
 * the last 5 minutes. No build step, no external resources.
 *
 * With a control token configured, the HTML itself is served to anyone (it holds no data) and the
 * page authenticates its fetches: open `http://<control address>/#token=<token>`. The token is
 * taken from the URL fragment, which browsers never send to a server (so it reaches no access log
 * or Referer), kept in this tab's sessionStorage, and removed from the address bar at once; the
 * page then sends it as `Authorization: Bearer` on each fetch. Without it, or when it is refused,
 * the page asks for it in a password field.
 *
 * A follower's status (active, paused, failed) is `followerStatus` itself, its source written into
 * the page's script, so the page and the metrics cannot derive it differently.
 */
import { followerStatus } from '../follow/follower-status.js';

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ccr-follow</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.5em 0 .5em}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid #ddd;vertical-align:middle}
th{background:#f4f4f4;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.active{color:#137333}.paused{color:#8a6d00}.failed{color:#b3261e}
.bar{background:#eee;width:8em;height:.7em;display:inline-block}.bar>span{background:#1a73e8;height:100%;display:block}
.err{color:#b3261e;font-size:.9em}#updated{color:#777;font-size:.9em}svg{vertical-align:middle}
#login{margin:1em 0;padding:.8em;border:1px solid #ddd;background:#fafafa}#login[hidden]{display:none}
</style></head><body>
<h1>ccr-follow</h1><div id="updated">loading…</div>
<form id="login" hidden><label>This daemon needs its control token (daemon.control.token):
<input id="token" type="password" autocomplete="off" size="40"></label> <button type="submit">show status</button></form>
<h2>Follower indices</h2>
<table id="followers"><thead><tr><th>follower</th><th>leader</th><th>status</th><th>lag ops</th><th>lag</th><th>progress</th><th>written/s (5 min)</th><th>last error</th></tr></thead><tbody></tbody></table>
<h2>Auto-follow patterns</h2>
<table id="patterns"><thead><tr><th>pattern</th><th>remote</th><th>leader patterns</th><th>active</th><th>followed</th><th>recent errors</th></tr></thead><tbody></tbody></table>
<script>
const HISTORY = 150, history = new Map(), TOKEN_KEY = 'ccr-follow-control-token';
// #token=<token>: kept for this tab only, and taken out of the address bar so it is not bookmarked,
// shared or shown on screen.
(function takeToken() {
  const m = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!m) return;
  try { sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1])); } catch (e) { /* storage disabled: the form asks */ }
  window.history.replaceState(null, '', location.pathname + location.search);
})();
function authHeaders() {
  let token = null;
  try { token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { /* storage disabled: no token */ }
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
document.getElementById('login').addEventListener('submit', (e) => {
  e.preventDefault();
  try { sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim()); } catch (err) { /* storage disabled */ }
  document.getElementById('token').value = '';
  waitingForToken = false;
  refresh();
});
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const dur = (ms) => ms < 1000 ? ms + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : Math.floor(ms / 60000) + ' min ' + Math.round(ms % 60000 / 1000) + ' s';
${followerStatus.toString()}
function spark(points) {
  if (points.length < 2) return '';
  const max = Math.max(1, ...points), w = 120, h = 24;
  const d = points.map((p, i) => (i ? 'L' : 'M') + (i * w / (HISTORY - 1)).toFixed(1) + ',' + (h - p / max * h).toFixed(1)).join('');
  return '<svg width="' + w + '" height="' + h + '"><path d="' + d + '" fill="none" stroke="#1a73e8" stroke-width="1.5"/></svg> ' + Math.round(points[points.length - 1]);
}
function row(f, now) {
  const key = f.follower_cluster + '/' + f.index;
  const h = history.get(key) || { last: undefined, rates: [] };
  if (h.last && now > h.last.at) h.rates.push(Math.max(0, (f.operations_written - h.last.written) * 1000 / (now - h.last.at)));
  h.rates = h.rates.slice(-HISTORY); h.last = { at: now, written: f.operations_written }; history.set(key, h);
  let copied = 0, total = 0, lagMs = 0;
  for (const s of f.shards) { copied += Math.max(0, s.follower_global_checkpoint + 1); total += Math.max(0, s.leader_global_checkpoint + 1); lagMs = Math.max(lagMs, s.lag_millis); }
  const pct = total === 0 ? 100 : Math.min(100, copied * 100 / total);
  const st = followerStatus(f);
  const err = f.fatal_exception ? f.fatal_exception.type + ': ' + f.fatal_exception.reason : '';
  return '<tr data-follower="' + esc(key) + '"><td>' + esc(key) + '</td><td>' + esc(f.remote_cluster + '/' + f.leader_index) + '</td><td class="' + st + '">' + st +
    '</td><td class="num lag-ops">' + f.total_global_checkpoint_lag + '</td><td class="num lag-time">' + dur(lagMs) +
    '</td><td><span class="bar"><span style="width:' + pct.toFixed(1) + '%"></span></span> ' + pct.toFixed(1) + '%</td><td>' + spark(h.rates) +
    '</td><td class="err">' + esc(err) + '</td></tr>';
}
async function refresh() {
  try {
    const [stats, af] = await Promise.all([getJson('/_ccr/stats'), getJson('/_ccr/auto_follow')]);
    document.getElementById('login').hidden = true;
    const now = Date.now(), followers = stats.follow_stats.indices;
    document.querySelector('#followers tbody').innerHTML = followers.length ? followers.map((f) => row(f, now)).join('') : '<tr><td colspan="8">no follower indices</td></tr>';
    document.querySelector('#patterns tbody').innerHTML = af.patterns.length ? af.patterns.map((p) => {
      const errs = p.stats.recent_auto_follow_errors || [];
      const followed = p.stats.followed_indices.length;
      return '<tr><td>' + esc(p.name) + '</td><td>' + esc(p.pattern.remote_cluster) + '</td><td>' + esc((p.pattern.leader_index_patterns || []).join(', ')) +
        '</td><td>' + esc(p.pattern.active) + '</td><td class="num">' + followed + '</td><td class="err">' +
        errs.map((e) => esc(e.leader_index + ': ' + (e.auto_follow_exception ? e.auto_follow_exception.reason : JSON.stringify(e)))).join('<br>') + '</td></tr>';
    }).join('') : '<tr><td colspan="6">no auto-follow patterns</td></tr>';
    document.getElementById('updated').textContent = 'updated ' + new Date(now).toLocaleTimeString() + ' · refreshes every 2 s';
  } catch (err) {
    if (err instanceof NeedToken) {
      waitingForToken = true;
      document.getElementById('login').hidden = false;
      document.getElementById('updated').textContent = 'the daemon refused the request: it needs its control token';
      return;
    }
    document.getElementById('updated').textContent = 'cannot reach the daemon: ' + err;
  }
}
refresh(); setInterval(() => { if (!waitingForToken) refresh(); }, 2000);
</script></body></html>
`;
