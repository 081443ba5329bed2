/* The Assets page: nodes, disks, load balancers and cluster management from /assets, node idle from /allocation. */
"use strict";

const DEFAULTS = { window: "7d", aggregate: "", cluster: "", filter: "" };
const SECTIONS = [
  {
    type: "Node", title: "Nodes",
    columns: [
      { key: "name", label: "Node" }, { key: "cluster", label: "Cluster" }, { key: "nodeType", label: "Type" },
      { key: "spot", label: "Spot" }, { key: "cpuCost", label: "CPU", money: true }, { key: "ramCost", label: "RAM", money: true },
      { key: "gpuCost", label: "GPU", money: true }, { key: "idle", label: "Idle", percent: true }, { key: "totalCost", label: "Total", money: true },
    ],
  },
  {
    type: "Disk", title: "Disks",
    columns: [
      { key: "name", label: "Volume" }, { key: "cluster", label: "Cluster" }, { key: "claimName", label: "Claim" },
      { key: "claimNamespace", label: "Namespace" }, { key: "storageClass", label: "Class" }, { key: "unmounted", label: "Unmounted" },
      { key: "totalCost", label: "Total", money: true },
    ],
  },
  {
    type: "LoadBalancer", title: "Load balancers",
    columns: [{ key: "name", label: "Service" }, { key: "cluster", label: "Cluster" }, { key: "ip", label: "IP" }, { key: "totalCost", label: "Total", money: true }],
  },
  {
    type: "ClusterManagement", title: "Cluster management",
    columns: [{ key: "name", label: "Cluster" }, { key: "totalCost", label: "Total", money: true }],
  },
  {
    type: "Network", title: "Network",
    columns: [{ key: "name", label: "Cluster" }, { key: "totalCost", label: "Total", money: true }],
  },
];

let state = KT.readState(DEFAULTS);
const sorts = {};

function filterParam() {
  return KT.andFilters([state.cluster ? "cluster:" + KT.quote(state.cluster) : "", state.filter]);
}

function nodeIdle(allocations) {
  const idle = new Map();
  for (const a of Object.values(allocations)) {
    const parts = a.name.split("/");
    if (parts.length === 3 && parts[2] === "__idle__") idle.set(parts[0] + "/" + parts[1], a.totalCost);
  }
  return idle;
}

function unmountedVolumes(allocations) {
  const names = new Set();
  const unmounted = allocations.__unmounted__;
  for (const key of Object.keys((unmounted && unmounted.pvs) || {})) {
    const match = /name=([^:]+)$/.exec(key);
    if (match) names.add(match[1]);
  }
  return names;
}

function section(title, columns, rows, id) {
  const wrap = document.createElement("section");
  wrap.className = "asset-section";
  const heading = document.createElement("h2");
  heading.id = "title-" + id;
  heading.textContent = title + " (" + rows.length + ")";
  const scroller = document.createElement("div");
  scroller.className = "table-wrap";
  const table = document.createElement("table");
  table.id = "table-" + id;
  table.setAttribute("aria-labelledby", heading.id);
  table.append(document.createElement("thead"), document.createElement("tbody"), document.createElement("tfoot"));
  scroller.appendChild(table);
  wrap.append(heading, scroller);
  document.getElementById("tables").appendChild(wrap);
  const sort = sorts[id] || (sorts[id] = { key: "totalCost", dir: "desc" });
  const footer = { [columns[0].key]: "Total", totalCost: rows.reduce((s, r) => s + r.totalCost, 0) };
  for (const c of columns) if (c.money && c.key !== "totalCost") footer[c.key] = rows.reduce((s, r) => s + (r[c.key] || 0), 0);
  const draw = () => KT.renderTable(table, columns, rows, {
    sortKey: sort.key, sortDir: sort.dir, footer,
    onSort: (key) => { sort.dir = sort.key === key && sort.dir === "desc" ? "asc" : "desc"; sort.key = key; draw(); },
  });
  draw();
}

async function refresh() {
  document.body.dataset.ready = "false";
  KT.status("Loading assets…", "loading");
  document.getElementById("tables").innerHTML = "";
  try {
    const params = { window: state.window, accumulate: "true", filter: filterParam(), aggregate: state.aggregate };
    const assets = await KT.api("/assets", params);
    const rows = Object.entries(assets).map(([key, a]) => ({ key, ...a, ...(a.properties || {}) }));
    const clusters = new Set(rows.map((r) => r.cluster).filter(Boolean));
    KT.fillSelect(document.getElementById("cluster"), [...clusters].sort().map((c) => [c, c]), state.cluster);
    const total = rows.reduce((s, r) => s + r.totalCost, 0);
    const byType = (type) => rows.filter((r) => r.type === type).reduce((s, r) => s + r.totalCost, 0);
    KT.cards([
      { id: "total", title: "Total asset cost", value: KT.money.format(total) },
      { id: "nodes", title: "Nodes", value: KT.money.format(byType("Node")) },
      { id: "disks", title: "Disks", value: KT.money.format(byType("Disk")) },
      { id: "network", title: "Load balancers and network", value: KT.money.format(byType("LoadBalancer") + byType("Network")) },
    ]);
    if (!rows.length) {
      KT.status("No assets in this window. Choose a longer window or remove filters.", "empty");
      document.body.dataset.ready = "true";
      return;
    }
    if (state.aggregate) {
      for (const r of rows) r.name = r.key;
      section("Cost by " + state.aggregate, [{ key: "name", label: state.aggregate }, { key: "totalCost", label: "Total", money: true }], rows, "aggregate");
    } else {
      const alloc = { window: state.window, accumulate: "true", aggregate: "node", idle: "separate", idleByNode: "true", splitIdle: "true", filter: state.cluster ? "cluster:" + KT.quote(state.cluster) : "" };
      const [allocations] = await KT.api("/allocation", alloc);
      const idle = nodeIdle(allocations);
      const unmounted = unmountedVolumes(allocations);
      for (const r of rows) {
        if (r.type === "Node") {
          const capacity = (r.labels || {})["eks.amazonaws.com/capacityType"] || (r.labels || {})["karpenter.sh/capacity-type"] || "";
          r.spot = r.preemptible > 0 || /spot/i.test(capacity) ? "yes" : "no";
          r.idle = r.totalCost > 0 && idle.has(r.cluster + "/" + r.name) ? idle.get(r.cluster + "/" + r.name) / r.totalCost : null;
        }
        if (r.type === "Disk") r.unmounted = unmounted.has(r.name) ? "yes" : "no";
      }
      for (const s of SECTIONS) section(s.title, s.columns, rows.filter((r) => r.type === s.type), s.type.toLowerCase());
    }
    KT.status("");
    document.body.dataset.ready = "true";
  } catch (error) {
    document.body.dataset.ready = "error";
    KT.status("Could not load assets: " + error.message + ". Check the filter text or choose another window.", "error");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const id of Object.keys(DEFAULTS)) document.getElementById(id).value = state[id];
  const apply = () => { for (const id of Object.keys(DEFAULTS)) state[id] = document.getElementById(id).value.trim(); KT.writeState(state, DEFAULTS); refresh(); };
  document.getElementById("controls").onsubmit = (event) => { event.preventDefault(); apply(); };
  for (const id of ["window", "aggregate", "cluster"]) document.getElementById(id).addEventListener("change", apply);
  refresh();
});
