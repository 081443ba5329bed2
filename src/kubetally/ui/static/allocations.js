/* The Allocations page: reads its state from the URL, asks /allocation, draws cards, charts and the table. */
"use strict";

const DEFAULTS = {
  window: "7d", from: "", to: "", aggregate: "namespace", cluster: "", idle: "separate", step: "1d", top: "8",
  shared: "", filter: "", chips: "", drill: "", sort: "totalCost", dir: "desc",
};
const AGGREGATES = [
  ["cluster", "Cluster"], ["node", "Node"], ["namespace", "Namespace"], ["controllerKind", "Controller kind"],
  ["controller", "Controller"], ["deployment", "Deployment"], ["statefulset", "StatefulSet"], ["daemonset", "DaemonSet"],
  ["job", "Job"], ["cronjob", "CronJob"], ["service", "Service"], ["pod", "Pod"], ["container", "Container"],
];
const DRILL_NEXT = { namespace: "controller", controller: "pod", pod: "container" };
const COLUMNS = [
  { key: "name", label: "Name" },
  { key: "cpuCost", label: "CPU", money: true },
  { key: "gpuCost", label: "GPU", money: true },
  { key: "ramCost", label: "RAM", money: true },
  { key: "pvCost", label: "PV", money: true },
  { key: "networkCost", label: "Network", money: true },
  { key: "loadBalancerCost", label: "Load balancer", money: true },
  { key: "sharedCost", label: "Shared", money: true },
  { key: "totalEfficiency", label: "Efficiency", percent: true },
  { key: "totalCost", label: "Total", money: true },
];

let state = KT.readState(DEFAULTS);
let discovered = null;

function chipsOf(s) { return s.chips ? JSON.parse(s.chips) : []; }
function drillOf(s) { return s.drill ? JSON.parse(s.drill) : []; }
function isIdle(name) { return name.endsWith("__idle__"); }

function windowParam(s) {
  if (s.window !== "custom") return s.window;
  if (!s.from || !s.to) return "7d";
  const end = new Date(s.to + "T00:00:00Z");
  end.setUTCDate(end.getUTCDate() + 1);
  return s.from + "T00:00:00Z," + end.toISOString().replace(".000Z", "Z");
}

function filterParam(s) {
  const clauses = chipsOf(s).map((c) => c.clause);
  for (const d of drillOf(s)) clauses.push(d.clause);
  if (s.cluster) clauses.push("cluster:" + KT.quote(s.cluster));
  clauses.push(s.filter);
  return KT.andFilters(clauses);
}

function queryParams(s) {
  return { window: windowParam(s), aggregate: s.aggregate, filter: filterParam(s), idle: s.idle, shareNamespaces: s.shared };
}

function syncControls() {
  for (const id of ["window", "idle", "step", "top", "shared", "filter"]) document.getElementById(id).value = state[id];
  document.getElementById("from").value = state.from;
  document.getElementById("to").value = state.to;
  document.getElementById("custom-range").hidden = state.window !== "custom";
  const options = [...AGGREGATES];
  if (discovered) {
    for (const key of [...discovered.labels.keys()].sort()) options.push(["label:" + key, "Label: " + key]);
    for (const key of [...discovered.annotations.keys()].sort()) options.push(["annotation:" + key, "Annotation: " + key]);
  }
  KT.fillSelect(document.getElementById("aggregate"), options, state.aggregate);
  const clusters = discovered ? [...discovered.clusters].sort().map((c) => [c, c]) : [];
  KT.fillSelect(document.getElementById("cluster"), clusters, state.cluster);
  renderChips();
  renderCrumbs();
}

function readControls() {
  const next = { ...state };
  for (const id of ["window", "aggregate", "cluster", "idle", "step", "top", "shared", "filter", "from", "to"]) {
    next[id] = document.getElementById(id).value.trim();
  }
  return next;
}

function setState(next) {
  state = next;
  KT.writeState(state, DEFAULTS);
  syncControls();
  refresh();
}

function renderChips() {
  const list = document.getElementById("chips");
  list.innerHTML = "";
  chipsOf(state).forEach((chip, index) => {
    const item = document.createElement("li");
    item.textContent = chip.clause + " ";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", "Remove filter " + chip.clause);
    remove.onclick = () => {
      const chips = chipsOf(state);
      chips.splice(index, 1);
      setState({ ...readControls(), chips: chips.length ? JSON.stringify(chips) : "" });
    };
    item.appendChild(remove);
    list.appendChild(item);
  });
}

function renderCrumbs() {
  const nav = document.getElementById("crumbs");
  nav.innerHTML = "";
  const drill = drillOf(state);
  if (!drill.length) return;
  const root = document.createElement("button");
  root.type = "button";
  root.textContent = "All " + drill[0].by + "s";
  root.onclick = () => setState({ ...readControls(), drill: "", aggregate: drill[0].by });
  nav.appendChild(root);
  drill.forEach((entry, index) => {
    nav.appendChild(document.createTextNode(" › "));
    const crumb = document.createElement("button");
    crumb.type = "button";
    crumb.textContent = entry.by + ": " + entry.label;
    if (index === drill.length - 1) crumb.setAttribute("aria-current", "location");
    crumb.onclick = () => setState({ ...readControls(), drill: JSON.stringify(drill.slice(0, index + 1)), aggregate: entry.next });
    nav.appendChild(crumb);
  });
}

function drillClause(by, row) {
  if (by === "controller") {
    const cut = row.name.indexOf(":");
    const kind = cut < 0 ? "" : row.name.slice(0, cut);
    return "controllerKind:" + KT.quote(kind) + "+controllerName:" + KT.quote(row.name.slice(cut + 1));
  }
  return by + ":" + KT.quote(row.name);
}

function canDrill(row) {
  return Boolean(DRILL_NEXT[state.aggregate]) && !row.name.startsWith("__") && !isIdle(row.name);
}

function drillInto(row) {
  const by = state.aggregate;
  const drill = drillOf(state);
  drill.push({ by, label: row.name, clause: drillClause(by, row), next: DRILL_NEXT[by] });
  setState({ ...readControls(), drill: JSON.stringify(drill), aggregate: DRILL_NEXT[by], sort: "totalCost", dir: "desc" });
}

function rowsOf(set) {
  return Object.values(set || {}).map((a) => ({ ...a, name: a.name }));
}

function totals(rows) {
  const footer = { name: "Total" };
  for (const column of COLUMNS) if (column.money) footer[column.key] = rows.reduce((sum, r) => sum + (r[column.key] || 0), 0);
  const working = rows.filter((r) => !isIdle(r.name));
  const weight = working.reduce((sum, r) => sum + r.totalCost, 0);
  footer.totalEfficiency = weight > 0 ? working.reduce((sum, r) => sum + r.totalEfficiency * r.totalCost, 0) / weight : null;
  return footer;
}

function drawTable(rows) {
  const table = document.getElementById("table");
  document.getElementById("table-title").textContent = "Cost by " + document.getElementById("aggregate").selectedOptions[0].textContent.toLowerCase();
  KT.renderTable(table, COLUMNS, rows, {
    sortKey: state.sort, sortDir: state.dir, footer: rows.length ? totals(rows) : null, canDrill, onRow: drillInto,
    onSort: (key) => {
      const dir = state.sort === key && state.dir === "desc" ? "asc" : "desc";
      state = { ...state, sort: key, dir };
      KT.writeState(state, DEFAULTS);
      drawTable(rows);
    },
  });
}

function topNames(rows, n) {
  return rows.filter((r) => !isIdle(r.name)).sort((a, b) => b.totalCost - a.totalCost).slice(0, n).map((r) => r.name);
}

async function drawCharts(rows, series) {
  const Plotly = await KT.loadPlotly();
  const n = Math.max(1, parseInt(state.top, 10) || 8);
  const top = topNames(rows, n);
  const names = [...top];
  if (rows.some((r) => isIdle(r.name))) names.push("__idle__");
  const layout = { barmode: "stack", margin: { t: 10, r: 10, b: 40, l: 60 }, legend: { orientation: "h" }, yaxis: { tickprefix: "$" } };
  const x = series.map((set) => { const any = Object.values(set)[0]; return any ? any.window.start : null; });
  const bucket = (set, name) => Object.values(set).filter((a) => (name === "__idle__" ? isIdle(a.name) : a.name === name)).reduce((s, a) => s + a.totalCost, 0);
  const traces = names.map((name) => ({ type: "bar", name, x, y: series.map((set) => bucket(set, name)) }));
  const other = series.map((set) => Object.values(set).filter((a) => !top.includes(a.name) && !isIdle(a.name)).reduce((s, a) => s + a.totalCost, 0));
  if (other.some((v) => v > 0)) traces.push({ type: "bar", name: "other", x, y: other });
  Plotly.react("chart-time", traces, layout, { responsive: true, displayModeBar: false });
  const pieNames = [...names];
  const pieValues = names.map((name) => rows.filter((r) => (name === "__idle__" ? isIdle(r.name) : r.name === name)).reduce((s, r) => s + r.totalCost, 0));
  const rest = rows.filter((r) => !top.includes(r.name) && !isIdle(r.name)).reduce((s, r) => s + r.totalCost, 0);
  if (rest > 0) { pieNames.push("other"); pieValues.push(rest); }
  Plotly.react("chart-breakdown", [{ type: "pie", hole: 0.5, labels: pieNames, values: pieValues, sort: false }],
    { margin: { t: 10, r: 10, b: 10, l: 10 }, showlegend: false }, { responsive: true, displayModeBar: false });
}

function previousWindow(summary) {
  const any = Object.values(summary)[0];
  if (!any) return null;
  const start = new Date(any.window.start), end = new Date(any.window.end);
  const before = new Date(start.getTime() - (end.getTime() - start.getTime()));
  const iso = (d) => d.toISOString().replace(".000Z", "Z");
  return iso(before) + "," + iso(start);
}

async function drawCards(rows, params) {
  const summaryParams = { window: params.window, aggregate: "cluster", filter: params.filter, idle: "separate", accumulate: "true" };
  const [summary] = await KT.api("/allocation", summaryParams);
  const all = Object.values(summary);
  const total = all.reduce((s, a) => s + a.totalCost, 0);
  const idle = all.filter((a) => isIdle(a.name)).reduce((s, a) => s + a.totalCost, 0);
  const working = rows.filter((r) => !isIdle(r.name));
  const weight = working.reduce((s, r) => s + r.totalCost, 0);
  const efficiency = weight > 0 ? working.reduce((s, r) => s + r.totalEfficiency * r.totalCost, 0) / weight : null;
  const shown = rows.reduce((s, r) => s + r.totalCost, 0);
  const top = [...working].sort((a, b) => b.totalCost - a.totalCost).slice(0, 3);
  const items = [
    { id: "total", title: "Total cost", value: KT.money.format(shown) },
    { id: "idle", title: "Idle (not allocated)", value: total > 0 ? ((idle / total) * 100).toFixed(1) + "%" : "–", note: KT.money.format(idle) + " of " + KT.money.format(total) },
    { id: "efficiency", title: "Efficiency", value: efficiency === null ? "–" : (efficiency * 100).toFixed(1) + "%" },
    { id: "change", title: "Change vs previous period", value: "…", note: "same length, just before" },
    { id: "top", title: "Top spenders", value: top.map((r) => r.name + " " + KT.money.format(r.totalCost)).join(" · ") || "–" },
  ];
  KT.cards(items);
  const before = previousWindow(summary);
  let change = "no earlier data";
  if (before) {
    const [previous] = await KT.api("/allocation", { ...summaryParams, window: before });
    const earlierRows = Object.values(previous);
    const earlier = earlierRows.reduce((s, a) => s + a.totalCost, 0);
    // Compare only with a previous period the ledger covers from its start: a partly ingested one would mislead.
    const covered = Math.min(...earlierRows.map((a) => new Date(a.start).getTime()));
    const partial = earlierRows.length > 0 && covered > new Date(before.split(",")[0]).getTime() + 3600 * 1000;
    const note = document.querySelector('[data-card="change"] .note');
    if (partial) {
      change = "n/a";
      note.textContent = "the previous period is only partly in the ledger (from " + new Date(covered).toISOString().slice(0, 16).replace("T", " ") + " UTC)";
    } else {
      if (earlier > 0) change = (total >= earlier ? "+" : "") + (((total - earlier) / earlier) * 100).toFixed(1) + "%";
      note.textContent = KT.money.format(total) + " vs " + KT.money.format(earlier);
    }
  }
  document.querySelector('[data-card="change"] .value').textContent = change;
}

async function discover(params) {
  const [set] = await KT.api("/allocation", { window: params.window, accumulate: "true", idle: "hide" });
  const labels = new Map(), annotations = new Map(), clusters = new Set();
  for (const a of Object.values(set)) {
    const p = a.properties || {};
    if (p.cluster) clusters.add(p.cluster);
    for (const [k, v] of Object.entries(p.labels || {})) (labels.get(k) || labels.set(k, new Set()).get(k)).add(v);
    for (const [k, v] of Object.entries(p.annotations || {})) (annotations.get(k) || annotations.set(k, new Set()).get(k)).add(v);
  }
  discovered = { labels, annotations, clusters };
  const field = document.getElementById("chip-field");
  for (const [prefix, map] of [["label", labels], ["annotation", annotations]]) {
    for (const key of [...map.keys()].sort()) {
      const option = document.createElement("option");
      option.value = prefix + "[" + key + "]"; option.textContent = prefix + "[" + key + "]";
      field.appendChild(option);
    }
  }
  syncControls();
  suggestValues();
}

function suggestValues() {
  const field = document.getElementById("chip-field").value;
  const list = document.getElementById("chip-values") || Object.assign(document.createElement("datalist"), { id: "chip-values" });
  document.body.appendChild(list);
  document.getElementById("chip-value").setAttribute("list", "chip-values");
  list.innerHTML = "";
  const match = /^(label|annotation)\[(.*)\]$/.exec(field);
  if (!discovered || !match) return;
  const values = (match[1] === "label" ? discovered.labels : discovered.annotations).get(match[2]) || new Set();
  for (const value of [...values].sort()) list.appendChild(Object.assign(document.createElement("option"), { value }));
}

let generation = 0;
async function refresh() {
  const mine = ++generation;
  const params = queryParams(state);
  document.body.dataset.ready = "false";
  KT.status("Loading allocations…", "loading");
  try {
    const [set] = await KT.api("/allocation", { ...params, accumulate: "true" });
    if (mine !== generation) return;
    const rows = rowsOf(set);
    drawTable(rows);
    if (!rows.length) {
      KT.status("No allocations match this window and filter. Choose a longer window or remove filters.", "empty");
      KT.cards([]);
      document.body.dataset.ready = "true";
      return;
    }
    KT.status("");
    performance.mark("kt-allocations-table");
    const cardsDone = drawCards(rows, params);
    const series = await KT.api("/allocation", { ...params, step: state.step });
    if (mine !== generation) return;
    await Promise.all([drawCharts(rows, series), cardsDone]);
    if (!discovered) await discover(params);
    document.body.dataset.ready = "true";
  } catch (error) {
    if (mine !== generation) return;
    document.body.dataset.ready = "error";
    KT.status("Could not load allocations: " + error.message + ". Check the filter text or choose another window.", "error");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  syncControls();
  const form = document.getElementById("controls");
  form.onsubmit = (event) => { event.preventDefault(); setState(readControls()); };
  for (const id of ["window", "aggregate", "cluster", "idle", "step"]) {
    document.getElementById(id).addEventListener("change", () => {
      document.getElementById("custom-range").hidden = document.getElementById("window").value !== "custom";
      if (id === "window" && document.getElementById("window").value === "custom") return;
      const next = readControls();
      if (id === "aggregate") { next.drill = ""; next.sort = "totalCost"; next.dir = "desc"; }
      setState(next);
    });
  }
  document.getElementById("chip-field").addEventListener("change", suggestValues);
  document.getElementById("chip-add").onclick = () => {
    const field = document.getElementById("chip-field").value;
    const value = document.getElementById("chip-value").value.trim();
    if (!value) return;
    const chips = chipsOf(state);
    chips.push({ clause: field + ":" + KT.quote(value) });
    document.getElementById("chip-value").value = "";
    setState({ ...readControls(), chips: JSON.stringify(chips) });
  };
  document.getElementById("csv").onclick = () => {
    KT.download("allocations-" + state.aggregate.replace(/[^A-Za-z0-9_-]/g, "_") + ".csv", KT.tableCsv(document.getElementById("table")));
  };
  refresh();
});
