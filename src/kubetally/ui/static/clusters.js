/* The Clusters page: every cluster's cost, idle share, efficiency and freshness from /clusters, with a chart. */
"use strict";

const DEFAULTS = { window: "7d" };
const COLUMNS = [
  { key: "cluster", label: "Cluster" }, { key: "allocatedCost", label: "Allocated", money: true },
  { key: "idleCost", label: "Idle", money: true }, { key: "idle", label: "Idle %", percent: true },
  { key: "efficiency", label: "Efficiency", percent: true }, { key: "totalCost", label: "Total", money: true },
  { key: "lastHourEnd", label: "Data until" }, { key: "lastPublished", label: "Last publication" }, { key: "freshness", label: "Status" },
];

let state = KT.readState(DEFAULTS);
const sort = { key: "totalCost", dir: "desc" };

async function chart(rows) {
  const Plotly = await KT.loadPlotly();
  const x = rows.map((r) => r.cluster);
  const traces = [
    { type: "bar", name: "Allocated", x, y: rows.map((r) => r.allocatedCost) },
    { type: "bar", name: "Idle", x, y: rows.map((r) => r.idleCost) },
  ];
  const layout = { barmode: "stack", margin: { t: 10, r: 10, b: 40, l: 60 }, legend: { orientation: "h" }, yaxis: { tickprefix: "$" } };
  Plotly.react("chart", traces, layout, { displayModeBar: false, responsive: true });
}

async function refresh() {
  document.body.dataset.ready = "false";
  KT.status("Loading clusters…", "loading");
  try {
    const data = await KT.api("/clusters", { window: state.window });
    const rows = data.map((r) => ({
      ...r, idle: r.idlePercent === null ? null : r.idlePercent / 100,
      lastPublished: r.lastPublished || "—", lastHourEnd: r.lastHourEnd || "—", freshness: r.stale ? "stale" : "current",
    }));
    const total = rows.reduce((s, r) => s + r.totalCost, 0);
    const idle = rows.reduce((s, r) => s + r.idleCost, 0);
    KT.cards([
      { id: "clusters", title: "Clusters", value: String(rows.length) },
      { id: "total", title: "Total cost", value: KT.money.format(total) },
      { id: "idle", title: "Idle", value: total ? (idle / total * 100).toFixed(1) + " %" : "—" },
      { id: "stale", title: "Stale clusters", value: String(rows.filter((r) => r.stale).length) },
    ]);
    const table = document.getElementById("table-clusters");
    const footer = { cluster: "Total", totalCost: total, idleCost: idle, allocatedCost: total - idle };
    const draw = () => {
      KT.renderTable(table, COLUMNS, rows, {
        sortKey: sort.key, sortDir: sort.dir, footer,
        onSort: (key) => { sort.dir = sort.key === key && sort.dir === "desc" ? "asc" : "desc"; sort.key = key; draw(); },
      });
      for (const [index, row] of [...table.tBodies[0].rows].entries()) row.classList.toggle("stale", table.tBodies[0].rows[index].textContent.includes("stale"));
    };
    draw();
    if (!rows.length) KT.status("No cluster has costs in this window. Choose a longer window.", "empty");
    else KT.status("");
    document.body.dataset.ready = "true";
    if (rows.length) await chart(rows);
  } catch (error) {
    document.body.dataset.ready = "error";
    KT.status("Could not load clusters: " + error.message + ".", "error");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("window").value = state.window;
  const apply = () => { state.window = document.getElementById("window").value; KT.writeState(state, DEFAULTS); refresh(); };
  document.getElementById("controls").onsubmit = (event) => { event.preventDefault(); apply(); };
  document.getElementById("window").addEventListener("change", apply);
  refresh();
});
