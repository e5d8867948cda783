// The corpus dashboard: narratives over time (Chart.js, by day/week/month, lines or
// stacked), language mix, top sources per narrative, and a filterable, server-side
// paginated document table that drills down to the document view. The filters live in
// the URL hash (#/dashboard?language=ru&...), so reload and back keep them.

import { api, query } from "./api.js";
import { OTHER, colourClass, hsl, parentOf, seed } from "./colors.js";
import { el, fmt } from "./docview.js";

export const FILTERS = ["q", "narrative", "language", "source", "date_from", "date_to", "min_score"];
const PAGE = 25;
const TOP_NARRATIVES = 10;
const TOP_SOURCES = 3;
const DEBOUNCE_MS = 300;

const state = { by: "day", mode: "line", offset: 0 };
for (const f of FILTERS) state[f] = "";

const charts = { time: null, language: null };
const inflight = { table: null, charts: null };
let wired = false;
let facetsLoaded = false;
let lastFacets = null;
let debounceTimer = null;

const $ = (id) => document.getElementById(id);

function filters() {
  const out = {};
  for (const f of FILTERS) if (state[f] !== "") out[f] = state[f];
  return out;
}

function writeHash() {
  const params = { ...filters() };
  if (state.by !== "day") params.by = state.by;
  if (state.mode !== "line") params.mode = state.mode;
  if (state.offset) params.offset = state.offset;
  history.replaceState(null, "", `#/dashboard${query(params)}`);
}

function readHash(params) {
  for (const f of FILTERS) state[f] = params.get(f) || "";
  state.by = ["day", "week", "month"].includes(params.get("by")) ? params.get("by") : "day";
  state.mode = params.get("mode") === "stacked" ? "stacked" : "line";
  state.offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
}

function syncControls() {
  for (const f of FILTERS) {
    const input = $(`f-${f}`);
    if (input.tagName === "SELECT" && state[f] && ![...input.options].some((o) => o.value === state[f])) {
      input.append(new Option(state[f], state[f])); // a value from the URL not in the facets (yet)
    }
    input.value = state[f];
  }
  for (const b of $("by-switch").querySelectorAll("button")) b.classList.toggle("on", b.dataset.by === state.by);
  for (const b of $("mode-switch").querySelectorAll("button")) b.classList.toggle("on", b.dataset.mode === state.mode);
  const q = query(filters());
  $("export-jsonl").href = `/api/export${query({ format: "jsonl", ...filters() })}`;
  $("export-csv").href = `/api/export${query({ format: "csv", ...filters() })}`;
  return q;
}

function fail(err) {
  if (err && err.name === "AbortError") return;
  const s = $("status");
  s.className = "status";
  s.textContent = `Error: ${err && err.message ? err.message : err}`;
  s.hidden = false;
}

async function loadFacets() {
  const f = await api("/api/facets");
  lastFacets = f;
  $("corpus-count").textContent = `${Number(f.documents) || 0} documents in the corpus`;
  const fill = (id, values, all, fmtLabel) => {
    const select = $(id);
    const keep = select.value;
    select.replaceChildren(new Option(all, ""));
    for (const v of (values || []).slice(0, 1000)) {
      if (v.value === null || v.value === undefined || v.value === "") continue;
      select.append(new Option(`${fmtLabel(String(v.value))} (${v.count})`, String(v.value)));
    }
    select.value = keep;
  };
  seed((f.narrative || []).map((v) => String(v.value)));
  fill("f-narrative", f.narrative, "All narratives", (v) => v);
  // sub-narratives filter too: each listed under its narrative
  const select = $("f-narrative");
  const keep = select.value;
  for (const v of (f.subnarrative || []).slice(0, 1000)) {
    const label = String(v.value ?? "");
    const parent = parentOf({ label });
    if (!label || label === OTHER || label.endsWith(`: ${OTHER}`)) continue;
    const option = new Option(`\u2003${label.slice((parent || "").length + 2)} (${v.count})`, label);
    option.title = label;
    const after = [...select.options].findLast((o) => o.value === parent || (parent && o.value.startsWith(`${parent}: `)));
    if (after) after.after(option);
    else select.append(option);
  }
  select.value = keep;
  fill("f-language", f.language, "All languages", (v) => v);
  fill("f-source", f.source, "All sources", (v) => v);
  facetsLoaded = true;
  return f;
}

async function loadTable() {
  inflight.table?.abort();
  const ctl = new AbortController();
  inflight.table = ctl;
  const table = $("doc-table");
  table.classList.add("loading");
  table.setAttribute("aria-busy", "true");
  const res = await api(`/api/documents${query({ ...filters(), limit: PAGE, offset: state.offset })}`, { signal: ctl.signal });
  if (ctl.signal.aborted) return;
  const total = Number(res.total) || 0;
  const items = Array.isArray(res.items) ? res.items.slice(0, PAGE) : [];
  const body = table.tBodies[0];
  const rows = items.map((d) => {
    const id = String(d.id ?? "");
    const a = el("a", null, id);
    a.href = `#/doc/${encodeURIComponent(id)}`;
    const chips = el("div", "chips");
    const narratives = [...(d.narratives || [])].sort((x, y) => (Number(y.score) || 0) - (Number(x.score) || 0));
    for (const n of narratives.slice(0, 4)) {
      const label = String(n.label ?? "");
      const chip = el("span", `chip ${colourClass(label)}`, label, el("b", null, fmt(n.score)));
      chips.append(chip);
    }
    if (narratives.length > 4) chips.append(el("span", "muted", `+${narratives.length - 4}`));
    const tr = el("tr", null, el("td", "id", a), el("td", "nowrap", String(d.date ?? "")), el("td", "nowrap", String(d.source ?? "")),
      el("td", "nowrap", String(d.language ?? "")), el("td", null, chips));
    tr.dataset.id = id;
    return tr;
  });
  body.replaceChildren(...rows);
  if (!rows.length) {
    const td = el("td", "empty", "No document matches.");
    td.colSpan = 5;
    body.append(el("tr", null, td));
  }
  const from = total ? state.offset + 1 : 0;
  $("page-info").textContent = `${from}–${state.offset + items.length} of ${total}`;
  $("table-summary").textContent = `${total} match${total === 1 ? "" : "es"}`;
  $("page-prev").disabled = state.offset <= 0;
  $("page-next").disabled = state.offset + PAGE >= total;
  table.classList.remove("loading");
  table.setAttribute("aria-busy", "false");
}

function pivot(rows) {
  // rows: [{bucket, narrative, documents}] -> buckets (sorted), narratives by total, counts
  const buckets = [...new Set(rows.map((r) => r.bucket).filter((b) => b !== null && b !== undefined && b !== ""))].map(String).sort();
  const totals = new Map();
  const counts = new Map();
  for (const r of rows) {
    if (r.bucket === null || r.bucket === undefined || r.bucket === "") continue;
    const n = String(r.narrative ?? OTHER);
    const c = Number(r.documents) || 0;
    totals.set(n, (totals.get(n) || 0) + c);
    counts.set(`${n}\u0000${r.bucket}`, (counts.get(`${n}\u0000${r.bucket}`) || 0) + c);
  }
  const narratives = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
  return { buckets, narratives, counts, totals };
}

function timeChart(rows) {
  const { buckets, narratives, counts } = pivot(rows);
  const shown = narratives.slice(0, TOP_NARRATIVES);
  const stacked = state.mode === "stacked";
  const datasets = shown.map((n) => ({
    label: n,
    data: buckets.map((b) => counts.get(`${n}\u0000${b}`) || 0),
    borderColor: hsl(n),
    backgroundColor: stacked ? hsl(n, 60, 60, 0.55) : hsl(n),
    fill: stacked,
    tension: 0.25,
    pointRadius: buckets.length > 60 ? 0 : 3,
  }));
  if (narratives.length > shown.length) {
    const rest = narratives.slice(TOP_NARRATIVES);
    datasets.push({
      label: `${rest.length} more narratives`,
      data: buckets.map((b) => rest.reduce((s, n) => s + (counts.get(`${n}\u0000${b}`) || 0), 0)),
      borderColor: "#999", backgroundColor: stacked ? "rgba(150,150,150,.45)" : "#999", fill: stacked, tension: 0.25,
      pointRadius: buckets.length > 60 ? 0 : 3,
    });
  }
  $("chart-time-empty").hidden = buckets.length > 0;
  const data = { labels: buckets, datasets };
  if (charts.time && charts.time.$stacked === stacked) {
    charts.time.data = data;
    charts.time.update("none");
    return;
  }
  charts.time?.destroy();
  charts.time = new window.Chart($("chart-time"), {
    type: "line",
    data,
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked },
        y: { stacked, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "documents" } },
      },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12, font: { size: 11 } } } },
    },
  });
  charts.time.$stacked = stacked;
}

function undatedNote(undated) {
  // the chart can only place dated documents: say how many of the selection it leaves out
  const n = Number(undated) || 0;
  const note = $("chart-time-undated");
  note.hidden = n === 0;
  note.textContent = n === 1
    ? "1 document without a date is not in this chart."
    : `${n} documents without a date are not in this chart.`;
}

function languageChart(facets) {
  const values = (facets.language || []).filter((v) => v.value !== null && v.value !== "");
  const palette = ["#3b6fb6", "#c94c4c", "#4f9a55", "#e0913a", "#8a5cb8", "#2a9d9d", "#c1588f", "#a3a33a", "#777"];
  const data = {
    labels: values.map((v) => String(v.value)),
    datasets: [{ data: values.map((v) => Number(v.count) || 0), backgroundColor: values.map((_, i) => palette[i % palette.length]) }],
  };
  if (charts.language) {
    charts.language.data = data;
    charts.language.update("none");
    return;
  }
  charts.language = new window.Chart($("chart-language"), {
    type: "doughnut",
    data,
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { position: "right" } } },
  });
}

function topSources(rows) {
  const totals = new Map();
  for (const r of rows) {
    const n = String(r.narrative ?? OTHER);
    totals.set(n, (totals.get(n) || 0) + (Number(r.documents) || 0));
  }
  const narratives = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
  const box = $("top-sources");
  box.replaceChildren();
  if (!narratives.length) {
    box.append(el("p", "empty", "No document matches."));
    return;
  }
  for (const n of narratives.slice(0, TOP_NARRATIVES)) {
    const sources = rows.filter((r) => String(r.narrative ?? OTHER) === n)
      .map((r) => [r.bucket === null || r.bucket === undefined || r.bucket === "" ? "(no source)" : String(r.bucket), Number(r.documents) || 0])
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_SOURCES);
    const ol = el("ol");
    for (const [s, c] of sources) ol.append(el("li", null, `${s} `, el("span", "muted", `(${c})`)));
    box.append(el("div", "ts-narr", el("div", null, el("span", `swatch ${colourClass(n)}`), n), ol));
  }
}

async function loadCharts() {
  inflight.charts?.abort();
  const ctl = new AbortController();
  inflight.charts = ctl;
  const f = filters();
  // the language mix under the current filters: one count per language of the corpus
  const languages = (lastFacets?.language || []).map((v) => String(v.value ?? "")).filter(Boolean);
  const counts = languages.map((language) =>
    state.language && state.language !== language
      ? Promise.resolve({ total: 0 })
      : api(`/api/documents${query({ ...f, language, limit: 1 })}`, { signal: ctl.signal }));
  const [time, sources, ...totals] = await Promise.all([
    api(`/api/stats${query({ by: state.by, ...f })}`, { signal: ctl.signal }),
    api(`/api/stats${query({ by: "source", ...f })}`, { signal: ctl.signal }),
    ...counts,
  ]);
  if (ctl.signal.aborted) return;
  if (!window.Chart) throw new Error("the chart library did not load");
  timeChart(time.rows || []);
  undatedNote(time.undated);
  topSources(sources.rows || []);
  languageChart({ language: languages.map((value, i) => ({ value, count: Number(totals[i].total) || 0 })).filter((v) => v.count > 0) });
}

function refresh({ table = true, charts: withCharts = true } = {}) {
  syncControls();
  writeHash();
  if (table) loadTable().catch(fail);
  if (withCharts) loadCharts().catch(fail);
}

function wire() {
  const form = $("filters");
  form.addEventListener("submit", (e) => e.preventDefault());
  for (const f of FILTERS) {
    const input = $(`f-${f}`);
    const apply = () => {
      if (state[f] === input.value) return;
      state[f] = input.value;
      state.offset = 0;
      refresh();
    };
    if (f === "q" || f === "min_score") {
      input.addEventListener("input", () => {
        clearTimeout(debounceTimer);
        debounceTimer = setTimeout(apply, DEBOUNCE_MS);
      });
      input.addEventListener("change", apply);
    } else {
      input.addEventListener("change", apply);
    }
  }
  $("f-reset").addEventListener("click", () => {
    for (const f of FILTERS) state[f] = "";
    state.offset = 0;
    refresh();
  });
  $("by-switch").addEventListener("click", (e) => {
    const by = e.target.closest("button")?.dataset.by;
    if (by && by !== state.by) {
      state.by = by;
      refresh({ table: false });
    }
  });
  $("mode-switch").addEventListener("click", (e) => {
    const mode = e.target.closest("button")?.dataset.mode;
    if (mode && mode !== state.mode) {
      state.mode = mode;
      refresh({ table: false });
    }
  });
  $("page-prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE);
    refresh({ charts: false });
  });
  $("page-next").addEventListener("click", () => {
    state.offset += PAGE;
    refresh({ charts: false });
  });
  $("doc-table").addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-id]");
    if (tr && !e.target.closest("a")) location.hash = `#/doc/${encodeURIComponent(tr.dataset.id)}`;
  });
}

document.addEventListener("narrascope:job-finished", () => {
  // new documents: new filter values, a new count, and (when shown) new charts and rows
  loadFacets()
    .then(() => {
      if (wired && !$("view-dashboard").hidden) refresh();
    })
    .catch(fail);
});

/** Show the dashboard for the filters in the hash's query string. */
export async function showDashboard(params) {
  if (!wired) {
    wire();
    wired = true;
  }
  readHash(params);
  try {
    if (!facetsLoaded) await loadFacets();
  } catch (err) {
    fail(err);
  }
  refresh();
}

/** Facets also seed the narrative colours and the header count: load them once at start. */
export function preload() {
  return loadFacets().catch(() => {});
}
