/* The Cloud costs page: asks /cloudCost/status, then the totals, table and graph views; draws cards, charts, table.
   Its last section compares kubetally's estimate of each billed node and disk with the bill (/reconciliation). */
"use strict";

const DEFAULTS = {
  window: "30d", aggregate: "service", costMetric: "AmortizedNetCost", chart: "day", filter: "", sort: "cost", dir: "desc",
  rsort: "difference", rdir: "desc",
};
const COLUMNS = [
  { key: "name", label: "Name" },
  { key: "labelText", label: "Tags" },
  { key: "kubernetesPercent", label: "Kubernetes", percent: true },
  { key: "cost", label: "Cost", money: true },
];
const PIE_ITEMS = 8;
const RECON_COLUMNS = [
  { key: "cluster", label: "Cluster" },
  { key: "type", label: "Type" },
  { key: "name", label: "Name" },
  { key: "hours", label: "Hours" },
  { key: "estimate", label: "Estimate", money: true },
  { key: "bill", label: "Bill", money: true },
  { key: "difference", label: "Difference", money: true },
  { key: "differenceShare", label: "Difference %", percent: true },
];
const RECON_BARS = 12;

let state = KT.readState(DEFAULTS);

function queryParams() {
  return { window: state.window, aggregate: state.aggregate, costMetric: state.costMetric, filter: state.filter };
}

function syncControls() {
  for (const id of ["window", "costMetric", "chart", "filter"]) document.getElementById(id).value = state[id];
  const aggregate = document.getElementById("aggregate");
  if (![...aggregate.options].some((o) => o.value === state.aggregate)) aggregate.appendChild(new Option(state.aggregate, state.aggregate));
  aggregate.value = state.aggregate;
}

function readControls() {
  const next = { ...state };
  for (const id of ["window", "aggregate", "costMetric", "chart", "filter"]) next[id] = document.getElementById(id).value.trim();
  return next;
}

function setState(next) {
  state = next;
  KT.writeState(state, DEFAULTS);
  syncControls();
  refresh();
}

function labelText(labels) {
  return Object.entries(labels || {}).sort().map(([k, v]) => k + "=" + v).join(", ");
}

function drawTable(rows) {
  const table = document.getElementById("table");
  const by = document.getElementById("aggregate").selectedOptions[0];
  document.getElementById("table-title").textContent = "Cloud cost by " + (by ? by.textContent.toLowerCase() : state.aggregate);
  const cost = rows.reduce((s, r) => s + r.cost, 0);
  const kubernetes = rows.reduce((s, r) => s + r.cost * r.kubernetesPercent, 0);
  const footer = rows.length ? { name: "Total", cost, kubernetesPercent: cost ? kubernetes / cost : null } : null;
  KT.renderTable(table, COLUMNS, rows, {
    sortKey: state.sort, sortDir: state.dir, footer,
    onSort: (key) => {
      state = { ...state, sort: key, dir: state.sort === key && state.dir === "desc" ? "asc" : "desc" };
      KT.writeState(state, DEFAULTS);
      drawTable(rows);
    },
  });
}

function drawCards(totals, rows) {
  const combined = totals.combined;
  const top = rows.slice(0, 3).map((r) => r.name + " " + KT.money.format(r.cost)).join(" · ");
  KT.cards([
    { id: "total", title: "Total cloud cost", value: KT.money.format(combined.cost), note: document.getElementById("costMetric").selectedOptions[0].textContent },
    { id: "kubernetes", title: "Kubernetes share", value: (combined.kubernetesPercent * 100).toFixed(1) + "%", note: KT.money.format(combined.cost * combined.kubernetesPercent) + " on nodes and disks" },
    { id: "items", title: "Items", value: String(totals.numResults) },
    { id: "top", title: "Top items", value: top || "–" },
  ]);
}

async function drawCharts(graph, rows) {
  const Plotly = await KT.loadPlotly();
  const names = [];
  for (const set of graph) for (const item of set.items) if (!names.includes(item.name)) names.push(item.name);
  const x = graph.map((set) => set.start);
  const traces = names.map((name) => ({
    type: "bar", name, x, y: graph.map((set) => (set.items.find((i) => i.name === name) || { value: 0 }).value),
  }));
  const layout = { barmode: "stack", margin: { t: 10, r: 10, b: 40, l: 60 }, legend: { orientation: "h" }, yaxis: { tickprefix: "$" } };
  Plotly.react("chart-time", traces, layout, { responsive: true, displayModeBar: false });
  const sorted = [...rows].sort((a, b) => b.cost - a.cost);
  const shown = sorted.slice(0, PIE_ITEMS);
  const labels = shown.map((r) => r.name), values = shown.map((r) => r.cost);
  const rest = sorted.slice(PIE_ITEMS).reduce((s, r) => s + r.cost, 0);
  if (rest > 0) { labels.push("Other"); values.push(rest); }
  Plotly.react("chart-breakdown", [{ type: "pie", hole: 0.5, labels, values, sort: false }],
    { margin: { t: 10, r: 10, b: 10, l: 10 }, showlegend: false }, { responsive: true, displayModeBar: false });
}

function clearCharts() {
  for (const id of ["chart-time", "chart-breakdown"]) {
    const element = document.getElementById(id);
    if (window.Plotly) window.Plotly.purge(element);
    element.innerHTML = "";
  }
}

function drawReconTable(assets, totals) {
  const hours = assets.reduce((s, r) => s + r.hours, 0);
  const footer = { cluster: "Total", hours, estimate: totals.estimate, bill: totals.bill, difference: totals.difference,
    differenceShare: totals.estimate ? totals.difference / totals.estimate : null };
  KT.renderTable(document.getElementById("recon-table"), RECON_COLUMNS, assets, {
    sortKey: state.rsort, sortDir: state.rdir, footer,
    onSort: (key) => {
      state = { ...state, rsort: key, rdir: state.rsort === key && state.rdir === "desc" ? "asc" : "desc" };
      KT.writeState(state, DEFAULTS);
      drawReconTable(assets, totals);
    },
  });
}

function reconNote(report) {
  const basis = report.basis === "billed" ? "billed cost" : "effective (amortised) cost";
  const range = report.window.start.slice(0, 16).replace("T", " ") + " – " + report.window.end.slice(0, 16).replace("T", " ") + " UTC";
  const parts = ["Bill " + basis + " per node and disk against kubetally's estimate of the same hours, " + range + "."];
  if (report.unmatched.length) {
    parts.push(report.unmatched.length + " compute or storage resources of the bill (" + KT.money.format(report.totals.unmatchedCost) + ") match no node or disk.");
  }
  return parts.join(" ");
}

/** Draws the estimate-vs-bill section from a /reconciliation report: a bar chart of the largest differences and a table. */
async function drawReconciliation(report) {
  const section = document.getElementById("recon");
  const chart = document.getElementById("recon-chart");
  const assets = report.assets.map((r) => {
    const noise = Math.abs(r.difference) < 1e-9;  // floating-point residue of an exact match, shown as 0
    const share = r.differencePercent === null ? null : r.differencePercent / 100;
    return { ...r, difference: noise ? 0 : r.difference, differenceShare: noise && share !== null ? 0 : share };
  });
  const empty = assets.length === 0;
  section.hidden = false;
  document.getElementById("recon-empty").hidden = !empty;
  document.getElementById("recon-body").hidden = empty;
  document.getElementById("recon-csv").hidden = empty;
  document.getElementById("recon-note").textContent = empty ? "" : reconNote(report);
  drawReconTable(assets, report.totals);
  if (empty) {
    if (window.Plotly) window.Plotly.purge(chart);
    chart.innerHTML = "";
    return;
  }
  const Plotly = await KT.loadPlotly();
  const largest = [...assets].sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference)).slice(0, RECON_BARS);
  const trace = {
    type: "bar", orientation: "h",
    y: largest.map((r) => r.cluster + " / " + r.name), x: largest.map((r) => r.difference),
    text: largest.map((r) => KT.money.format(r.difference)), textposition: "auto",
    customdata: largest.map((r) => [KT.money.format(r.estimate), KT.money.format(r.bill), r.type]),
    hovertemplate: "%{y} (%{customdata[2]})<br>estimate %{customdata[0]}<br>bill %{customdata[1]}<br>difference %{text}<extra></extra>",
    marker: { color: largest.map((r) => (r.difference >= 0 ? "#b42318" : "#2f5fd0")) },
  };
  const layout = { margin: { t: 10, r: 10, b: 40, l: 180 }, yaxis: { autorange: "reversed", automargin: true }, xaxis: { tickformat: "$,", zeroline: true } };
  Plotly.react(chart, [trace], layout, { responsive: true, displayModeBar: false });
}

let generation = 0;
async function refresh() {
  const mine = ++generation;
  document.body.dataset.ready = "false";
  KT.status("Loading cloud costs…", "loading");
  try {
    const sources = await KT.api("/cloudCost/status", {});
    if (mine !== generation) return;
    const empty = !sources || sources.length === 0;
    document.getElementById("cloud-empty").hidden = !empty;
    document.getElementById("cloud-content").hidden = empty;
    if (empty) {
      const report = await KT.api("/reconciliation", { window: state.window });
      if (mine !== generation) return;
      await drawReconciliation(report);
      document.body.dataset.ready = "true";
      return;
    }
    const params = queryParams();
    const [totals, rows, report] = await Promise.all([
      KT.api("/cloudCost/view/totals", params), KT.api("/cloudCost/view/table", params), KT.api("/reconciliation", { window: state.window }),
    ]);
    if (mine !== generation) return;
    await drawReconciliation(report);
    if (mine !== generation) return;
    for (const row of rows) row.labelText = labelText(row.labels);
    drawTable(rows);
    if (!totals) {
      KT.cards([]);
      clearCharts();
      KT.status("No cloud bill rows match this window and filter. Choose a longer window or remove filters.", "empty");
      document.body.dataset.ready = "true";
      return;
    }
    KT.status("");
    drawCards(totals, rows);
    const graph = await KT.api("/cloudCost/view/graph", { ...params, accumulate: state.chart });
    if (mine !== generation) return;
    await drawCharts(graph, rows);
    document.body.dataset.ready = "true";
  } catch (error) {
    if (mine !== generation) return;
    document.body.dataset.ready = "error";
    KT.status("Could not load cloud costs: " + error.message + ". Check the filter text or choose another window.", "error");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  syncControls();
  document.getElementById("controls").onsubmit = (event) => { event.preventDefault(); setState(readControls()); };
  for (const id of ["window", "aggregate", "costMetric", "chart"]) document.getElementById(id).addEventListener("change", () => setState(readControls()));
  document.getElementById("csv").onclick = () => {
    KT.download("cloud-costs-" + state.aggregate.replace(/[^A-Za-z0-9_-]/g, "_") + ".csv", KT.tableCsv(document.getElementById("table")));
  };
  document.getElementById("recon-csv").onclick = () => {
    KT.download("estimate-vs-bill-" + state.window.replace(/[^A-Za-z0-9_-]/g, "_") + ".csv", KT.tableCsv(document.getElementById("recon-table")));
  };
  refresh();
});
