/* Shared by every page: signing in, calling the JSON API, URL state, money, sortable tables and CSV. */
"use strict";

const KT = (() => {
  /* Signing in trades the user name and password for a short-lived session token (POST /session) that the
     browser keeps in an HttpOnly cookie: no script, and nothing in this tab's storage, ever holds the
     credentials or the token. Only the signed-in user's name is kept, to show it. */
  const USER_KEY = "kubetally.user";
  /* Marks the UI's calls so that a 401 challenges with Bearer only: a Basic challenge would make the browser
     open its own password prompt (and remember the password) instead of the page's form. */
  const UI_HEADERS = { "X-Requested-With": "kubetally-ui" };
  const currency = document.body.dataset.currency || "USD";
  const money = new Intl.NumberFormat("en-US", { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 2 });
  let pendingLogin = null;

  function showUser() {
    const who = document.getElementById("who");
    const out = document.getElementById("signout");
    const user = sessionStorage.getItem(USER_KEY);
    if (user) {
      who.textContent = "Signed in as " + user;
      out.hidden = false;
    } else { who.textContent = ""; out.hidden = true; }
  }

  /** POST /session with the typed credentials (kept in this function only); the user name on success. */
  async function signIn(user, password) {
    const bytes = new TextEncoder().encode(user + ":" + password);
    const response = await fetch("/session", {
      method: "POST",
      headers: { Authorization: "Basic " + btoa(String.fromCharCode(...bytes)), ...UI_HEADERS },
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(response.status === 401 ? "Wrong user name or password." : (body.message || ("the API answered " + response.status)));
    return body.data.name;
  }

  async function signOut() {
    sessionStorage.removeItem(USER_KEY);
    await fetch("/session", { method: "DELETE", headers: UI_HEADERS, credentials: "same-origin" }).catch(() => null);
    location.reload();
  }

  function login(message) {
    if (pendingLogin) return pendingLogin;
    const box = document.getElementById("login");
    const form = document.getElementById("login-form");
    document.getElementById("login-error").textContent = message || "";
    box.hidden = false;
    document.getElementById("login-user").focus();
    pendingLogin = new Promise((resolve) => {
      form.onsubmit = async (event) => {
        event.preventDefault();
        const passwordInput = document.getElementById("login-password");
        try {
          const name = await signIn(document.getElementById("login-user").value, passwordInput.value);
          sessionStorage.setItem(USER_KEY, name);
        } catch (error) {
          document.getElementById("login-error").textContent = error.message;
          return;
        } finally { passwordInput.value = ""; }
        box.hidden = true;
        pendingLogin = null;
        showUser();
        resolve();
      };
    });
    return pendingLogin;
  }

  /** GET a JSON API path; asks for credentials on 401; throws an Error carrying the API's message otherwise. */
  async function api(path, params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) if (value !== undefined && value !== null && value !== "") query.set(key, value);
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await fetch(path + "?" + query.toString(), { headers: UI_HEADERS, credentials: "same-origin" });
      if (response.status === 401) {
        const hadSession = Boolean(sessionStorage.getItem(USER_KEY));
        sessionStorage.removeItem(USER_KEY);
        showUser();
        await login(hadSession ? "Your session expired: sign in again." : "");
        continue;
      }
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.message || ("the API answered " + response.status));
      return body.data;
    }
    throw new Error("not signed in");
  }

  function status(text, kind) {
    const element = document.getElementById("status");
    element.textContent = text;
    element.className = "status " + (kind || "");
  }

  function readState(defaults) {
    const params = new URLSearchParams(location.search);
    const state = { ...defaults };
    for (const key of Object.keys(defaults)) if (params.has(key)) state[key] = params.get(key);
    return state;
  }

  function writeState(state, defaults) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(state)) if (value !== "" && value !== defaults[key]) params.set(key, value);
    const search = params.toString();
    history.replaceState(null, "", location.pathname + (search ? "?" + search : ""));
  }

  /** Joins v2 filter clauses with AND, each in parentheses. */
  function andFilters(clauses) {
    const parts = clauses.filter((c) => c && c.trim());
    if (parts.length <= 1) return parts[0] || "";
    return parts.map((c) => "(" + c + ")").join("+");
  }

  function quote(value) { return '"' + String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"'; }

  /**
   * Renders rows into a table. columns: [{key, label, money?, percent?}]; rows: objects; options: {sortKey, sortDir,
   * onSort(key), onRow(row), footer: object}. Returns the rows in the order shown.
   */
  function renderTable(table, columns, rows, options) {
    const sorted = [...rows];
    const { sortKey, sortDir } = options;
    if (sortKey) {
      const sign = sortDir === "asc" ? 1 : -1;
      sorted.sort((a, b) => {
        const x = a[sortKey], y = b[sortKey];
        if (typeof x === "number" && typeof y === "number") return sign * (x - y);
        return sign * String(x).localeCompare(String(y));
      });
    }
    const head = table.tHead, body = table.tBodies[0], foot = table.tFoot;
    head.innerHTML = ""; body.innerHTML = ""; foot.innerHTML = "";
    const headRow = head.insertRow();
    for (const column of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      if (options.onSort) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = column.label;
        button.dataset.key = column.key;
        button.onclick = () => options.onSort(column.key);
        th.appendChild(button);
      } else th.textContent = column.label;
      if (column.key === sortKey) th.setAttribute("aria-sort", sortDir === "asc" ? "ascending" : "descending");
      headRow.appendChild(th);
    }
    for (const row of sorted) {
      const tr = body.insertRow();
      for (const column of columns) {
        const td = tr.insertCell();
        td.textContent = display(column, row[column.key]);
        if (column.money || column.percent) td.className = "num";
      }
      if (options.onRow && options.canDrill && options.canDrill(row)) {
        tr.tabIndex = 0;
        tr.className = "drill";
        tr.setAttribute("aria-label", "Drill into " + row.name);
        tr.onclick = () => options.onRow(row);
        tr.onkeydown = (event) => { if (event.key === "Enter") options.onRow(row); };
      }
    }
    if (options.footer) {
      const tr = foot.insertRow();
      for (const column of columns) {
        const td = tr.insertCell();
        td.textContent = display(column, options.footer[column.key]);
        if (column.money || column.percent) td.className = "num";
      }
    }
    return sorted;
  }

  function display(column, value) {
    if (value === undefined || value === null) return "";
    if (column.money) return money.format(value);
    if (column.percent) return (value * 100).toFixed(1) + "%";
    return String(value);
  }

  /** The text of a CSV file holding exactly the cells of a rendered table (header, body and footer rows). */
  function tableCsv(table) {
    const lines = [];
    for (const row of table.rows) {
      lines.push([...row.cells].map((cell) => {
        const text = cell.textContent;
        return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
      }).join(","));
    }
    return lines.join("\n") + "\n";
  }

  function download(name, text) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function cards(items) {
    const section = document.getElementById("cards");
    section.innerHTML = "";
    for (const item of items) {
      const card = document.createElement("div");
      card.className = "card";
      card.dataset.card = item.id;
      const title = document.createElement("h3");
      title.textContent = item.title;
      const value = document.createElement("p");
      value.className = "value";
      value.textContent = item.value;
      card.append(title, value);
      if (item.note) { const note = document.createElement("p"); note.className = "note"; note.textContent = item.note; card.appendChild(note); }
      section.appendChild(card);
    }
  }

  function fillSelect(select, options, selected) {
    const keep = [...select.options].filter((o) => o.dataset.fixed === "1" || o.value === "");
    select.innerHTML = "";
    for (const o of keep) select.appendChild(o);
    for (const [value, label] of options) {
      const option = document.createElement("option");
      option.value = value; option.textContent = label;
      select.appendChild(option);
    }
    select.value = selected;
    if (select.value !== selected) {
      const option = document.createElement("option");
      option.value = selected; option.textContent = selected;
      select.appendChild(option);
      select.value = selected;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    showUser();
    document.getElementById("signout").onclick = signOut;
  });

  let plotly = null;

  /** plotly.js, loaded on first use (after the page's table is drawn, so that it does not delay the first paint). */
  function loadPlotly() {
    if (!plotly) plotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "/ui/static/plotly.min.js";
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error("the chart library did not load"));
      document.head.appendChild(script);
    });
    return plotly;
  }

  return { api, status, readState, writeState, andFilters, quote, renderTable, tableCsv, download, cards, fillSelect, money, loadPlotly };
})();
