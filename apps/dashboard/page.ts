import { niceCeiling, pushSample, seriesPoints } from './chart';

/**
 * The dashboard page: one self-contained document (inline CSS and JS, no CDN, no framework) so it
 * works offline. Live data arrives over Server-Sent Events from /api/dashboard/events; the charts
 * are drawn on canvases by hand (the flow chart's arithmetic is chart.ts's, inlined). Elements
 * carry ids the browser tests rely on.
 */
export const DASHBOARD_HTML = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dasy dashboard</title>
<style>
  :root { --bg:#0f1419; --panel:#171e26; --line:#26313d; --text:#dbe2ea; --muted:#8a97a6; --accent:#4fb3ff; --good:#5fd38d; --bad:#ff7b72; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  #live { font-size:12px; color:var(--muted); }
  #live.on::before { content:"●"; color:var(--good); margin-right:6px; }
  #live.off::before { content:"●"; color:var(--bad); margin-right:6px; }
  main { display:grid; grid-template-columns:repeat(auto-fit, minmax(420px, 1fr)); gap:16px; padding:16px 20px; }
  section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
  section h2 { font-size:15px; margin:0 0 10px; color:var(--accent); }
  .kpis { display:flex; gap:18px; flex-wrap:wrap; margin-bottom:10px; }
  .kpi b { display:block; font-size:22px; }
  .kpi span { color:var(--muted); font-size:12px; }
  table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
  th, td { text-align:left; padding:3px 6px; border-bottom:1px solid var(--line); }
  th { color:var(--muted); font-weight:500; }
  td.n, th.n { text-align:right; }
  input, button { font:inherit; padding:5px 8px; border-radius:5px; border:1px solid var(--line); background:#0d1217; color:var(--text); }
  button { background:var(--accent); color:#041018; border:0; cursor:pointer; }
  button.secondary { background:#2a3541; color:var(--text); }
  button:disabled { opacity:.4; cursor:default; }
  form, .row { display:flex; gap:8px; flex-wrap:wrap; align-items:center; margin:8px 0; }
  canvas { width:100%; height:200px; background:#0d1217; border:1px solid var(--line); border-radius:6px; }
  a { color:var(--accent); text-decoration:none; }
  a:hover { text-decoration:underline; }
  .muted { color:var(--muted); }
  .error { color:var(--bad); }
  .ok { color:var(--good); }
  pre { white-space:pre-wrap; word-break:break-all; margin:0; font-size:12px; }
  #flow-chart { margin:8px 0; }
  #datasets { grid-column:1 / -1; }
  .scroll { overflow-x:auto; }
  table.aggregate { width:auto; min-width:50%; }
  table.aggregate th, table.aggregate td { padding-right:18px; }
  table.aggregate td, #groups-table td:last-child { white-space:nowrap; }
  #groups-table td:first-child { overflow-wrap:anywhere; }
  .dataset h3 { font-size:14px; margin:12px 0 6px; }
  .dataset h4 { font-size:13px; font-weight:500; margin:10px 0 4px; }
</style>
</head>
<body>
<header><h1>dasy</h1><span id="namespace" class="muted"></span><span id="live" class="off">connecting</span></header>
<main>
  <section id="ingest">
    <h2>Ingest</h2>
    <div class="kpis">
      <div class="kpi"><b id="products-count">–</b><span>products</span></div>
      <div class="kpi"><b id="names-count">–</b><span>names</span></div>
      <div class="kpi"><b id="outbox-count">–</b><span>names to recount</span></div>
      <div class="kpi"><b id="rate">–</b><span>rows/s applied</span></div>
    </div>
    <table id="groups-table"><thead><tr><th>consumer group</th><th class="n">lag</th><th class="n">applied/s</th><th>verdict</th></tr></thead><tbody></tbody></table>
    <canvas id="flow-chart" width="800" height="200" data-samples="0"></canvas>
    <p id="dead-letters" class="muted"></p>
    <h2>Recent rejects</h2>
    <table id="rejects"><thead><tr><th>file</th><th class="n">line</th><th>reason</th></tr></thead><tbody></tbody></table>
  </section>

  <section id="names">
    <h2>Top names by number of products</h2>
    <form id="search-form"><input id="name-search" placeholder="search a name" autocomplete="off"><button>search</button></form>
    <table id="search-results" hidden><thead><tr><th>name</th><th class="n">products</th></tr></thead><tbody></tbody></table>
    <table id="top-table"><thead><tr><th>name</th><th class="n">products</th></tr></thead><tbody></tbody></table>
  </section>

  <section id="name-products" hidden>
    <h2 id="name-products-title">Products</h2>
    <div class="row"><span id="name-products-page" class="muted"></span>
      <button id="name-products-prev" type="button" class="secondary">previous</button>
      <button id="name-products-next" type="button" class="secondary">next</button></div>
    <table id="name-products-table"><thead><tr><th>sku</th><th>description</th></tr></thead><tbody></tbody></table>
  </section>

  <section id="scores">
    <h2>Scores</h2>
    <form id="product-form"><input id="product-name" placeholder="product name" required><button>show</button></form>
    <div class="kpis" id="stats">
      <div class="kpi"><b id="stat-count">–</b><span>count</span></div>
      <div class="kpi"><b id="stat-mean">–</b><span>mean</span></div>
      <div class="kpi"><b id="stat-stddev">–</b><span>stddev</span></div>
      <div class="kpi"><b id="stat-min">–</b><span>min</span></div>
      <div class="kpi"><b id="stat-max">–</b><span>max</span></div>
    </div>
    <div class="row"><span class="muted">mean over time, per</span>
      <select id="interval"><option>minute</option><option>hour</option><option>day</option></select></div>
    <canvas id="chart" width="800" height="200" data-series="[]"></canvas>
    <form id="push-form">
      <input id="push-score" type="number" min="0" max="5" step="any" placeholder="score 0-5" required>
      <input id="push-username" placeholder="username (optional)">
      <button id="push-submit">push score</button>
      <button id="reset" type="button" class="secondary">new session</button>
      <span id="push-result" class="muted"></span>
    </form>
    <table id="sessions"><thead><tr><th class="n">session</th><th class="n">count</th><th class="n">mean</th><th class="n">stddev</th><th>reset by</th><th>ended</th></tr></thead><tbody></tbody></table>
  </section>

  <section id="ads">
    <h2>Ad requests per username</h2>
    <table id="ads-users"><thead><tr><th>username</th><th class="n">ad requests</th><th class="n">impressions</th><th class="n">fill rate</th></tr></thead><tbody></tbody></table>
    <h2 style="margin-top:14px">Ad requests per SDK version</h2>
    <table id="ads-sdks"><thead><tr><th>sdk version</th><th class="n">ad requests</th><th class="n">impressions</th><th class="n">fill rate</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="datasets">
    <h2>Datasets</h2>
    <div id="datasets-list"></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (n) => (n === null || n === undefined ? "–" : typeof n === "number" ? (Number.isInteger(n) ? n.toLocaleString("en-US") : n.toFixed(3)) : String(n));
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const pct = (r) => (r === null ? "–" : (r * 100).toFixed(1) + "%");
function fillRows(table, rows) { table.querySelector("tbody").innerHTML = rows.join(""); }
const token = new URLSearchParams(location.search).get("token");
const authHeaders = token ? { authorization: "Bearer " + token } : {};

function render(s) {
  $("namespace").textContent = "namespace " + s.pipeline.namespace;
  $("live").dataset.at = s.at; // which snapshot the page shows (the browser tests wait on it)
  $("products-count").textContent = fmt(s.pipeline.tables.products);
  $("names-count").textContent = fmt(s.pipeline.tables.product_count);
  $("outbox-count").textContent = fmt(s.pipeline.outbox);
  const rates = Object.entries(s.pipeline.appliedPerSecond || {}).filter(([g]) => g.endsWith(".products-consumer")).map(([, v]) => v);
  $("rate").textContent = rates.length ? fmt(rates[0]) : "–";
  const perSecond = s.pipeline.appliedPerSecond || {};
  fillRows($("groups-table"), s.pipeline.groups.map((g) => "<tr><td>" + esc(g.group.slice(s.pipeline.namespace.length + 1)) + '</td><td class="n">' + fmt(Number(g.lag)) + '</td><td class="n">' + fmt(perSecond[g.group]) + "</td><td>" + esc(g.verdict) + "</td></tr>"));
  recordFlow(s);
  renderDatasets(s.datasets || []);
  const dl = Object.entries(s.pipeline.deadLetters).filter(([, d]) => d.messages !== "0").map(([t, d]) => t + ": " + d.messages + (d.lastReason ? " (last: " + d.lastReason + ")" : ""));
  $("dead-letters").textContent = dl.length ? "dead letters: " + dl.join(", ") : "no dead letters";
  fillRows($("rejects"), s.rejects.map((r) => "<tr><td>" + esc(r.file) + '</td><td class="n">' + r.line + "</td><td>" + esc(r.reason) + "</td></tr>"));
  fillRows($("top-table"), s.top.map((t) => '<tr><td><a href="#" data-name="' + esc(t.name) + '">' + esc(t.name) + '</a></td><td class="n">' + fmt(t.no_of_products) + "</td></tr>"));
  const adRow = (r) => "<tr><td>" + esc(r.value) + '</td><td class="n">' + fmt(r.ad_requests) + '</td><td class="n">' + fmt(r.impressions) + '</td><td class="n">' + pct(r.fill_rate) + "</td></tr>";
  fillRows($("ads-users"), s.ads.usernames.map(adRow));
  fillRows($("ads-sdks"), s.ads.sdkVersions.map(adRow));
}

// Each dataset: its progress, and per aggregate its top groups (group_by columns, then measures).
function renderDatasets(list) {
  if (!list.length) { $("datasets-list").innerHTML = '<p id="no-datasets" class="muted">no datasets declared (dasy ingest --file F --dataset datasets/NAME.yaml)</p>'; return; }
  const kpi = (cls, value, label) => '<div class="kpi"><b class="' + cls + '">' + value + "</b><span>" + label + "</span></div>";
  $("datasets-list").innerHTML = list.map((d) => '<div class="dataset" data-dataset="' + esc(d.name) + '"><h3>' + esc(d.name) + '</h3><div class="kpis">'
    + kpi("ds-rows", fmt(d.rows), "rows") + kpi("ds-lag", fmt(Number(d.lag)), "lag") + kpi("ds-rate", fmt(d.appliedPerSecond), "rows/s applied")
    + "</div>" + d.aggregates.map(aggregateTable).join("") + "</div>").join("");
}
function aggregateTable(a) {
  const cols = [...a.groupBy, ...a.measures];
  const cell = (tag, c, i, text) => "<" + tag + (i >= a.groupBy.length ? ' class="n"' : "") + ">" + esc(text) + "</" + tag + ">";
  const head = cols.map((c, i) => cell("th", c, i, c)).join("");
  const body = a.top.map((r) => "<tr>" + cols.map((c, i) => cell("td", c, i, r[c] === null ? "–" : String(r[c]))).join("") + "</tr>").join("");
  const caption = a.top.length ? "top " + a.top.length + " by " + a.measures[0] : "no groups yet";
  return "<h4>" + esc(a.name) + ' <span class="muted">' + esc(caption) + '</span></h4><div class="scroll"><table class="aggregate" data-aggregate="' + esc(a.name) + '"><thead><tr>' + head + "</tr></thead><tbody>" + body + "</tbody></table></div>";
}

// Applied rows/s and total lag (all consumer groups) over the last minutes: a ring of the snapshots received.
${pushSample.toString()}
${niceCeiling.toString()}
${seriesPoints.toString()}
const FLOW_WINDOW_MS = 5 * 60 * 1000, FLOW_CAPACITY = 600;
const FLOW_SERIES = [{ key: "applied", label: "applied/s, all groups", color: "#5fd38d" }, { key: "lag", label: "lag, all groups", color: "#ffb454" }];
const flow = [];
function recordFlow(s) {
  const applied = Object.values(s.pipeline.appliedPerSecond || {}).reduce((a, v) => a + v, 0);
  const lag = s.pipeline.groups.reduce((a, g) => a + Number(g.lag), 0);
  pushSample(flow, { t: Date.parse(s.at), applied, lag }, FLOW_CAPACITY);
  drawFlow();
}
// Two panels, one above the other, each with its own scale: rows/s and lag differ by orders of magnitude.
function drawFlow() {
  const c = $("flow-chart");
  const ratio = window.devicePixelRatio || 1;
  const W = Math.max(300, c.clientWidth), H = 200;
  c.width = W * ratio; c.height = H * ratio;
  const ctx = c.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = "11px system-ui";
  const to = flow.length ? flow[flow.length - 1].t : Date.now(), from = to - FLOW_WINDOW_MS;
  const plots = {};
  FLOW_SERIES.forEach((series, i) => {
    const box = { left: 56, right: W - 12, top: 18 + i * 92, bottom: 86 + i * 92 };
    plots[series.key] = box;
    const max = niceCeiling(Math.max(0, ...flow.map((p) => p[series.key])));
    ctx.strokeStyle = "#26313d"; ctx.lineWidth = 1; ctx.fillStyle = "#8a97a6";
    for (const f of [0, 0.5, 1]) {
      const y = box.bottom - f * (box.bottom - box.top);
      ctx.beginPath(); ctx.moveTo(box.left, y); ctx.lineTo(box.right, y); ctx.stroke();
      ctx.fillText((max * f).toLocaleString("en-US"), 6, y + 4);
    }
    const last = flow.length ? flow[flow.length - 1][series.key] : null;
    ctx.fillText(series.label + (last === null ? "" : ": " + fmt(last)), box.left, box.top - 5);
    const points = seriesPoints(flow, series.key, box, from, to, max);
    ctx.strokeStyle = series.color; ctx.fillStyle = series.color; ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach((p, j) => (j ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
    ctx.stroke();
    if (points.length) { const p = points[points.length - 1]; ctx.beginPath(); ctx.arc(p.x, p.y, 3, 0, 7); ctx.fill(); }
  });
  ctx.fillStyle = "#8a97a6";
  ctx.fillText("−5 min", 56, H - 2);
  ctx.fillText("now", W - 34, H - 2);
  c.dataset.samples = String(flow.length);
  c.dataset.last = JSON.stringify(flow.length ? flow[flow.length - 1] : null);
  c.dataset.plots = JSON.stringify(plots);
}

let product = null;
async function loadProduct() {
  if (!product) return;
  const base = "/api/products/" + encodeURIComponent(product);
  const [stats, hist, sess] = await Promise.all([
    fetch(base + "/stats").then((r) => r.json()),
    fetch(base + "/history?interval=" + $("interval").value).then((r) => r.json()),
    fetch(base + "/sessions").then((r) => r.json()),
  ]);
  if (stats.error) {
    for (const k of ["count", "mean", "stddev", "min", "max"]) $("stat-" + k).textContent = "–";
    $("push-result").textContent = stats.error.message;
    drawChart([]);
    fillRows($("sessions"), []);
    return;
  }
  for (const k of ["count", "mean", "stddev", "min", "max"]) $("stat-" + k).textContent = fmt(stats[k]);
  drawChart((hist.buckets || []).map((b) => ({ t: Date.parse(b.start), mean: b.mean, count: b.count })));
  fillRows($("sessions"), (sess.sessions || []).map((x) => '<tr><td class="n">' + x.session + '</td><td class="n">' + fmt(x.count) + '</td><td class="n">' + fmt(x.mean) + '</td><td class="n">' + fmt(x.stddev) + "</td><td>" + esc(x.reset_by || "") + "</td><td>" + esc(x.ended_at || "current") + "</td></tr>"));
}

function drawChart(points) {
  const c = $("chart");
  c.dataset.series = JSON.stringify(points);
  // Draw at the element's real size (and the screen's pixel ratio) so text stays legible.
  const ratio = window.devicePixelRatio || 1;
  const W = Math.max(300, c.clientWidth), H = 200, pad = 34;
  c.width = W * ratio; c.height = H * ratio;
  const ctx = c.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.strokeStyle = "#26313d"; ctx.fillStyle = "#8a97a6"; ctx.font = "12px system-ui";
  for (let v = 0; v <= 5; v++) {
    const y = H - pad / 2 - (v / 5) * (H - pad);
    ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(W - 8, y); ctx.stroke(); ctx.fillText(String(v), 8, y + 4);
  }
  if (!points.length) { ctx.fillText("no scores yet", W / 2 - 30, H / 2); return; }
  const t0 = points[0].t, t1 = points[points.length - 1].t, span = Math.max(1, t1 - t0);
  const x = (t) => (points.length === 1 ? (W + pad) / 2 : pad + ((t - t0) / span) * (W - pad - 16));
  const y = (m) => H - pad / 2 - (m / 5) * (H - pad);
  ctx.strokeStyle = "#4fb3ff"; ctx.lineWidth = 2; ctx.beginPath();
  points.forEach((p, i) => (i ? ctx.lineTo(x(p.t), y(p.mean)) : ctx.moveTo(x(p.t), y(p.mean))));
  ctx.stroke(); ctx.fillStyle = "#4fb3ff";
  for (const p of points) { ctx.beginPath(); ctx.arc(x(p.t), y(p.mean), 4, 0, 7); ctx.fill(); }
  const last = points[points.length - 1];
  ctx.fillText("mean " + last.mean.toFixed(3) + " (" + last.count + ")", Math.min(x(last.t) + 8, W - 110), y(last.mean) - 8);
}

$("product-form").addEventListener("submit", (e) => { e.preventDefault(); product = $("product-name").value.trim(); $("push-result").textContent = ""; loadProduct(); });
$("interval").addEventListener("change", loadProduct);
// A name's products from the catalogue api, a page at a time (keyset pages: cursors[k] starts page k).
const PRODUCTS_PAGE = 20;
const listing = { name: null, page: 0, cursors: [""] };
async function loadNameProducts() {
  const { name, page } = listing;
  const after = listing.cursors[page];
  const url = "/api/catalog/products?limit=" + PRODUCTS_PAGE + "&name=" + encodeURIComponent(name) + (after ? "&after=" + encodeURIComponent(after) : "");
  const [list, count] = await Promise.all([fetch(url).then((r) => r.json()), fetch("/api/catalog/names/" + encodeURIComponent(name)).then((r) => r.json())]);
  if (name !== listing.name || page !== listing.page) return; // another name or page was asked for meanwhile
  $("name-products").hidden = false;
  $("name-products-title").textContent = "Products of " + name;
  if (list.error) { $("name-products-page").textContent = list.error.message; fillRows($("name-products-table"), []); return; }
  if (list.next) listing.cursors[page + 1] = list.next;
  const total = count.error ? 0 : count.no_of_products;
  $("name-products-page").textContent = "page " + (page + 1) + " of " + Math.max(1, Math.ceil(total / PRODUCTS_PAGE)) + " (" + fmt(total) + " products)";
  $("name-products-prev").disabled = page === 0;
  $("name-products-next").disabled = !list.next;
  fillRows($("name-products-table"), list.products.map((p) => "<tr><td>" + esc(p.sku) + "</td><td><pre>" + esc(p.description) + "</pre></td></tr>"));
}
function openName(name) { listing.name = name; listing.page = 0; listing.cursors = [""]; loadNameProducts(); }
$("name-products-prev").addEventListener("click", () => { if (listing.page > 0) { listing.page--; loadNameProducts(); } });
$("name-products-next").addEventListener("click", () => { if (listing.cursors[listing.page + 1] !== undefined) { listing.page++; loadNameProducts(); } });

$("top-table").addEventListener("click", (e) => {
  const a = e.target.closest("a[data-name]"); if (!a) return; e.preventDefault();
  $("product-name").value = a.dataset.name; product = a.dataset.name; loadProduct();
  openName(a.dataset.name);
});
$("search-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("name-search").value.trim();
  const r = await fetch("/api/dashboard/names?q=" + encodeURIComponent(q)).then((r) => r.json());
  $("search-results").hidden = false;
  fillRows($("search-results"), r.names.map((t) => "<tr><td>" + esc(t.name) + '</td><td class="n">' + fmt(t.no_of_products) + "</td></tr>"));
});
$("push-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = $("product-name").value.trim();
  if (!name) { $("push-result").textContent = "enter a product name first"; return; }
  product = name;
  const body = { name, score: Number($("push-score").value) };
  const username = $("push-username").value.trim();
  if (username) body.username = username;
  const r = await fetch("/api/push", { method: "POST", headers: { "content-type": "application/json", ...authHeaders }, body: JSON.stringify(body) });
  const j = await r.json();
  $("push-result").className = r.ok ? "ok" : "error";
  $("push-result").textContent = r.ok ? "pushed: count " + j.count + ", mean " + fmt(j.mean) : j.error.message;
  loadProduct();
});
$("reset").addEventListener("click", async () => {
  if (!product) return;
  const username = $("push-username").value.trim();
  const r = await fetch("/api/products/" + encodeURIComponent(product) + "/reset", { method: "POST", headers: { "content-type": "application/json", ...authHeaders }, body: JSON.stringify(username ? { username } : {}) });
  const j = await r.json();
  $("push-result").className = r.ok ? "ok" : "error";
  $("push-result").textContent = r.ok ? "new session " + j.session : j.error.message;
  loadProduct();
});

function connect() {
  const es = new EventSource("/api/dashboard/events");
  es.addEventListener("snapshot", (e) => { $("live").className = "on"; $("live").textContent = "live"; render(JSON.parse(e.data)); loadProduct(); });
  es.addEventListener("unavailable", () => { $("live").className = "off"; $("live").textContent = "database or Kafka unavailable"; });
  es.onerror = () => { $("live").className = "off"; $("live").textContent = "reconnecting"; };
}
drawChart([]);
drawFlow();
connect();
</script>
</body>
</html>`;
