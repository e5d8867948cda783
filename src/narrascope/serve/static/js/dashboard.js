// The corpus dashboard: narratives over time (Chart.js, by day/week/month, lines or
// stacked), language mix, top sources per narrative, and a filterable, server-side
// paginated document table that drills down to the document view. The filters live in
// the URL hash (#/dashboard?language=ru&...), so reload and back keep them.
//
// The charts must not mislead (issue 23): the time axis is linear in time (a point sits at
// its bucket's date, gaps included, and an empty bucket next to a counted one is drawn as 0
// so a line never bridges a gap), segments are straight (a curve would overshoot its
// points), and only labels scored at least the threshold shown on the chart are counted.
// Issue 25: a count of the documents repeating known debunks (linking to them; those
// repeating one in a reader comment counted too, and said), the most repeated debunks,
// and a filter by debunk (any, or one debunk's id).

import { api, query } from "./api.js";
import { OTHER, colourClass, hsl, parentOf, seed } from "./colors.js";
import { bdi, cut, el, fmt, visible } from "./docview.js";

export const FILTERS = ["q", "narrative", "language", "source", "debunk", "date_from", "date_to", "min_score"];
const TOP_DEBUNKS = 5;
const CLAIM_CHARS = 70; // a debunked claim is cut to this in the filter's choices
const PAGE = 25;
const TOP_NARRATIVES = 10;
const TOP_SOURCES = 3;
const DEBOUNCE_MS = 300;
/** Labels scored below this are not counted by the charts unless the user lowers it. */
export const DEFAULT_THRESHOLD = 0.5;
const NO_SOURCE = "(no source)";
const DAY_MS = 86_400_000;
const COUNT_POLL_MS = 1000;

const state = { by: "day", mode: "line", offset: 0, threshold: DEFAULT_THRESHOLD };
for (const f of FILTERS) state[f] = "";

const charts = { time: null, language: null };
const inflight = { table: null, charts: null };
let wired = false;
let facetsLoaded = false;
let lastFacets = null;
let debounceTimer = null;
let thresholdTimer = null;

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
  if (state.threshold !== DEFAULT_THRESHOLD) params.threshold = state.threshold;
  if (state.offset) params.offset = state.offset;
  history.replaceState(null, "", `#/dashboard${query(params)}`);
}

function readHash(params) {
  for (const f of FILTERS) state[f] = params.get(f) || "";
  state.by = ["day", "week", "month"].includes(params.get("by")) ? params.get("by") : "day";
  state.mode = params.get("mode") === "stacked" ? "stacked" : "line";
  state.offset = Math.max(0, parseInt(params.get("offset") || "0", 10) || 0);
  state.threshold = parseThreshold(params.get("threshold"));
}

function parseThreshold(raw) {
  const t = raw === null || raw === "" ? NaN : Number(raw);
  return Number.isFinite(t) && t >= 0 && t <= 1 ? t : DEFAULT_THRESHOLD;
}

/** The score a label needs to be counted by the charts: the threshold, or the Min score
 * filter where that asks for more. */
function countedFrom() {
  const filter = state.min_score === "" ? NaN : Number(state.min_score);
  return Number.isFinite(filter) ? Math.max(state.threshold, filter) : state.threshold;
}

function thresholdNote() {
  const t = countedFrom();
  const byFilter = t > state.threshold;
  return `Counting labels with score ≥ ${t.toFixed(2)}${byFilter ? " (the Min score filter)" : ""}`;
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
  $("threshold").value = String(state.threshold);
  $("threshold-value").textContent = state.threshold.toFixed(2);
  $("threshold-note").textContent = thresholdNote();
  $("top-sources-note").textContent = `Documents per source, ${thresholdNote().toLowerCase()}`;
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

let countAsked = 0; // answers to count requests show in the order they were asked
let countShown = 0;

async function fetchCount(path, pick) {
  const asked = ++countAsked;
  const res = await api(path);
  if (asked > countShown) {
    countShown = asked;
    showCount(pick(res));
  }
  return res;
}

function showCount(n) {
  const count = Number(n) || 0;
  $("corpus-count").textContent = `${count} document${count === 1 ? "" : "s"} in the corpus`;
}

async function loadFacets() {
  const f = await fetchCount("/api/facets", (res) => res.documents);
  lastFacets = f;
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
  fill("f-language", f.language, "All languages", visible);
  fill("f-source", f.source, "All sources", visible);
  debunkFacets(f);
  facetsLoaded = true;
  return f;
}

function short(text, n = CLAIM_CHARS) {
  return cut(visible(text), n);
}

/** The debunk filter's choices (any, then each debunk repeated in the corpus) and the
 * dashboard's count of documents repeating known debunks, with the most repeated ones. */
function debunkFacets(f) {
  const debunked = Number(f.debunked) || 0;
  const debunks = Array.isArray(f.debunks) ? f.debunks : [];
  const select = $("f-debunk");
  const keep = select.value;
  select.replaceChildren(new Option("Any or no debunk", ""), new Option(`Repeating any known debunk (${debunked})`, "any"));
  for (const d of debunks.slice(0, 1000)) {
    if (d.id === null || d.id === undefined || d.id === "") continue;
    const option = new Option(`${short(d.claim || d.id)} (${Number(d.documents) || 0})`, String(d.id));
    option.title = `${visible(d.id)}: ${visible(d.claim ?? "")}${d.verdict ? ` (${visible(d.verdict)})` : ""}`;
    select.append(option);
  }
  select.value = keep;
  $("debunked-count").textContent = String(debunked);
  // a document counts when its article or one of its reader comments repeats a debunk
  const inComments = Number(f.debunked_in_comments) || 0;
  $("debunked-label").textContent = `document${debunked === 1 ? "" : "s"} repeating known debunks`
    + (inComments ? ` (${inComments} in a comment)` : "");
  const list = $("top-debunks");
  list.replaceChildren(...debunks.slice(0, TOP_DEBUNKS).map((d) => {
    const a = el("a", null, short(d.claim || d.id));
    a.href = `#/dashboard${query({ debunk: String(d.id) })}`;
    a.title = String(d.claim ?? d.id);
    const n = Number(d.documents) || 0;
    const k = Number(d.in_comments) || 0;
    return el("li", null, a, d.verdict ? el("span", "muted", ` (${visible(d.verdict)})`) : null,
      el("span", "muted", ` · ${n} doc${n === 1 ? "" : "s"}${k ? ` (${k} in a comment)` : ""}`));
  }));
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
    const a = el("a", null, bdi(id));
    a.href = `#/doc/${encodeURIComponent(id)}`;
    const chips = el("div", "chips");
    const narratives = [...(d.narratives || [])].sort((x, y) => (Number(y.score) || 0) - (Number(x.score) || 0));
    for (const n of narratives.slice(0, 4)) {
      const label = String(n.label ?? "");
      // a label the charts do not count (below the threshold) looks faint here too
      const low = (Number(n.score) || 0) < countedFrom() ? " low" : "";
      const chip = el("span", `chip ${colourClass(label)}${low}`, label, el("b", null, fmt(n.score)));
      chips.append(chip);
    }
    if (narratives.length > 4) chips.append(el("span", "muted", `+${narratives.length - 4}`));
    const tr = el("tr", null, el("td", "id", a), el("td", "nowrap", String(d.date ?? "")), el("td", "nowrap", d.source ? bdi(d.source) : ""),
      el("td", "nowrap", visible(d.language)), el("td", null, chips));
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

/** A UTC day as ms; unlike Date.UTC, years 0-99 are themselves (not 1900-1999). */
function utc(year, month, day) {
  const d = new Date(0);
  d.setUTCFullYear(year, month, day);
  return d.getTime();
}

/** A bucket's start as a UTC time (ms): "2024-03-02", "2024-W09" (its Monday), "2024-03". */
export function bucketTime(bucket) {
  const b = String(bucket ?? "");
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(b);
  if (m) return utc(+m[1], +m[2] - 1, +m[3]);
  m = /^(\d{4})-W(\d{2})$/.exec(b);
  if (m) {
    const jan4 = utc(+m[1], 0, 4); // in ISO week 1 by definition
    const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
    return monday + (+m[2] - 1) * 7 * DAY_MS;
  }
  m = /^(\d{4})-(\d{2})$/.exec(b);
  if (m) return utc(+m[1], +m[2] - 1, 1);
  return null;
}

/** The start of the bucket `k` buckets after the one starting at `t`. */
function stepBucket(t, by, k) {
  if (by === "month") {
    const d = new Date(t);
    return utc(d.getUTCFullYear(), d.getUTCMonth() + k, 1);
  }
  return t + k * (by === "week" ? 7 : 1) * DAY_MS;
}

const pad = (n) => String(n).padStart(2, "0");
const year4 = (y) => String(y).padStart(4, "0");

/** The name the server gives the bucket starting at `t` (for the zeros the page adds). */
export function bucketName(t, by) {
  const d = new Date(t);
  const ymd = `${year4(d.getUTCFullYear())}-${pad(d.getUTCMonth() + 1)}`;
  if (by === "month") return ymd;
  if (by === "week") {
    const thursday = new Date(t + 3 * DAY_MS); // an ISO week belongs to the year of its Thursday
    const year = thursday.getUTCFullYear();
    const week = Math.floor((thursday - utc(year, 0, 1)) / DAY_MS / 7) + 1;
    return `${year4(year)}-W${pad(week)}`;
  }
  return `${ymd}-${pad(d.getUTCDate())}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Tick positions for a time axis from `min` to `max` (ms), at most about `most` of them:
 * every 1 or 2 days, every Monday or other Monday, every 1, 3 or 6 months, or every 1, 2,
 * 5, 10… years, never finer than the buckets. Returns {unit, values}. */
export function timeTicks(min, max, by, most) {
  const units = [
    ["day", 1], ["day", 2], ["week", 1], ["week", 2], ["month", 1], ["month", 3], ["month", 6],
    ["year", 1], ["year", 2], ["year", 5], ["year", 10], ["year", 25], ["year", 50], ["year", 100], ["year", 250], ["year", 500], ["year", 1000],
  ].filter(([u]) => !(by === "week" && u === "day") && !(by === "month" && (u === "day" || u === "week")));
  for (const [unit, k] of units) {
    const values = [];
    let t;
    const first = new Date(min);
    if (unit === "day") t = utc(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());
    else if (unit === "week") t = utc(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate() + ((8 - first.getUTCDay()) % 7)); // the first Monday
    else if (unit === "month") t = utc(first.getUTCFullYear(), Math.floor(first.getUTCMonth() / k) * k, 1);
    else t = utc(Math.floor(first.getUTCFullYear() / k) * k, 0, 1);
    while (t <= max && values.length <= most) {
      if (t >= min) values.push(t);
      const d = new Date(t);
      if (unit === "day" || unit === "week") t += k * (unit === "week" ? 7 : 1) * DAY_MS;
      else if (unit === "month") t = utc(d.getUTCFullYear(), d.getUTCMonth() + k, 1);
      else t = utc(d.getUTCFullYear() + k, 0, 1);
    }
    if (values.length <= most) return { unit, values };
  }
  return { unit: "year", values: [min, max] };
}

/** A tick's label: "4 Mar" (with the year on the first tick and at each new year),
 * "Mar 2024" or "2024". */
function tickLabel(t, unit, previous) {
  const d = new Date(t);
  const year = d.getUTCFullYear();
  const newYear = previous === null || new Date(previous).getUTCFullYear() !== year;
  if (unit === "year") return String(year);
  if (unit === "month") return newYear || d.getUTCMonth() === 0 ? `${MONTHS[d.getUTCMonth()]} ${year}` : MONTHS[d.getUTCMonth()];
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}${newYear ? ` ${year}` : ""}`;
}

function bucketTitle(name, by) {
  const t = bucketTime(name);
  if (t === null) return String(name);
  const d = new Date(t);
  if (by === "month") return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  const day = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return by === "week" ? `${name} (week of ${day})` : day;
}

/** Stats rows as series over time: the points (bucket starts, ms, sorted) are the counted
 * buckets plus, where absent, the bucket before and after each one (a count of 0), so a
 * line falls to 0 across a gap instead of bridging it. */
export function pivot(rows, by) {
  const present = new Map(); // time -> bucket name
  const totals = new Map();
  const counts = new Map();
  for (const r of rows) {
    const t = bucketTime(r.bucket);
    if (t === null) continue; // undated (counted in the note under the chart)
    present.set(t, String(r.bucket));
    const n = String(r.narrative ?? OTHER);
    const c = Number(r.documents) || 0;
    totals.set(n, (totals.get(n) || 0) + c);
    counts.set(`${n}\u0000${t}`, (counts.get(`${n}\u0000${t}`) || 0) + c);
  }
  const names = new Map(present);
  for (const t of present.keys()) {
    for (const k of [-1, 1]) {
      const u = stepBucket(t, by, k);
      if (!names.has(u)) names.set(u, bucketName(u, by));
    }
  }
  const times = [...names.keys()].sort((a, b) => a - b);
  const narratives = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
  return { times, labels: times.map((t) => names.get(t)), narratives, counts, present: present.size };
}

function timeChart(rows) {
  const by = state.by;
  const { times, labels, narratives, counts, present } = pivot(rows, by);
  const shown = narratives.slice(0, TOP_NARRATIVES);
  const stacked = state.mode === "stacked";
  const radius = (ctx) => (present > 120 || !ctx.raw || !ctx.raw.y ? 0 : 3);
  const series = (label, colour, fillColour, count) => ({
    label,
    data: times.map((t) => ({ x: t, y: count(t) })),
    borderColor: colour,
    backgroundColor: stacked ? fillColour : colour,
    fill: stacked,
    tension: 0, // straight segments: a curve through 0, 1, 1, 0 would rise above 1
    borderWidth: 2,
    pointRadius: radius,
    pointHoverRadius: 4,
  });
  const datasets = shown.map((n) => series(n, hsl(n), hsl(n, 60, 60, 0.55), (t) => counts.get(`${n}\u0000${t}`) || 0));
  if (narratives.length > shown.length) {
    const rest = narratives.slice(TOP_NARRATIVES);
    datasets.push(series(`${rest.length} more narratives`, "#999", "rgba(150,150,150,.45)",
      (t) => rest.reduce((s, n) => s + (counts.get(`${n}\u0000${t}`) || 0), 0)));
  }
  $("chart-time-empty").hidden = present > 0;
  const data = { labels, datasets };
  const yTitle = `documents (score ≥ ${countedFrom().toFixed(2)})`;
  const span = times.length ? [times[0], times.at(-1)] : [0, DAY_MS];
  if (charts.time && charts.time.$stacked === stacked) {
    charts.time.data = data;
    Object.assign(charts.time.options.scales.x, { min: span[0], max: span[1] });
    charts.time.options.scales.y.title.text = yTitle;
    charts.time.$by = by;
    charts.time.update("none");
    return;
  }
  charts.time?.destroy();
  charts.time = null;
  let tickUnit = "day";
  const chart = new window.Chart($("chart-time"), {
    type: "line",
    data,
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: {
          type: "linear",
          min: span[0],
          max: span[1],
          // positions proportional to time; the ticks fall on days, Mondays, months or years
          afterBuildTicks: (axis) => {
            const most = Math.max(2, Math.floor((axis.width || axis.maxWidth || 600) / 80));
            const { unit, values } = timeTicks(axis.min, axis.max, axis.chart.$by || by, most);
            tickUnit = unit;
            axis.ticks = values.map((value) => ({ value }));
          },
          ticks: {
            autoSkip: false,
            maxRotation: 0,
            callback: (value, i, ticks) => tickLabel(value, tickUnit, i > 0 ? ticks[i - 1].value : null),
          },
        },
        // a little room above the highest count, so its point is drawn whole
        y: { stacked, beginAtZero: true, grace: "5%", ticks: { precision: 0 }, title: { display: true, text: yTitle } },
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12, font: { size: 11 } } },
        tooltip: {
          callbacks: {
            title: (items) => (items.length ? bucketTitle(chart.data.labels[items[0].dataIndex], chart.$by) : ""),
            label: (item) => `${item.dataset.label}: ${item.parsed.y}`,
          },
        },
      },
    },
  });
  chart.$stacked = stacked;
  chart.$by = by;
  charts.time = chart;
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
  const counts = values.map((v) => Number(v.count) || 0);
  const data = {
    labels: values.map((v) => visible(v.value)),
    datasets: [{ data: counts, backgroundColor: values.map((_, i) => palette[i % palette.length]) }],
  };
  const total = counts.reduce((a, b) => a + b, 0);
  $("chart-language-total").textContent = total ? `${total} document${total === 1 ? "" : "s"}` : "";
  if (charts.language) {
    charts.language.data = data;
    charts.language.update("none");
    return;
  }
  charts.language = new window.Chart($("chart-language"), {
    type: "doughnut",
    data,
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: {
        legend: {
          position: "right",
          labels: {
            // each language with its number of documents: "ru (12)"
            generateLabels: (chart) => window.Chart.overrides.doughnut.plugins.legend.labels.generateLabels(chart)
              .map((item) => ({ ...item, text: `${item.text} (${chart.data.datasets[0].data[item.index] ?? 0})` })),
          },
        },
        tooltip: { callbacks: { label: (item) => ` ${item.label}: ${item.parsed} document${item.parsed === 1 ? "" : "s"}` } },
      },
    },
  });
}

/** Sources of one narrative for the list: the most frequent named ones, then the
 * documents without a source as one last entry (whatever their number). */
export function sourceList(rows, most = TOP_SOURCES) {
  const named = [];
  let unnamed = 0;
  for (const r of rows) {
    const c = Number(r.documents) || 0;
    if (r.bucket === null || r.bucket === undefined || r.bucket === "") unnamed += c;
    else named.push([String(r.bucket), c]);
  }
  named.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out = named.slice(0, most).map(([s, c]) => ({ source: s, count: c }));
  if (unnamed) out.push({ source: null, count: unnamed });
  return out;
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
    const ol = el("ol");
    for (const { source, count } of sourceList(rows.filter((r) => String(r.narrative ?? OTHER) === n))) {
      const name = source === null ? el("span", "no-source", NO_SOURCE) : bdi(source);
      ol.append(el("li", source === null ? "unnamed" : null, name, " ", el("span", "muted", `(${count})`)));
    }
    box.append(el("div", "ts-narr", el("div", "ts-label", el("span", `swatch ${colourClass(n)}`), n), ol));
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
  // the charts count labels scored at least the threshold (or the Min score filter, if higher)
  const counted = { ...f, min_score: countedFrom() };
  const [time, sources, ...totals] = await Promise.all([
    api(`/api/stats${query({ by: state.by, ...counted })}`, { signal: ctl.signal }),
    api(`/api/stats${query({ by: "source", ...counted })}`, { signal: ctl.signal }),
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
    state.threshold = DEFAULT_THRESHOLD;
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
  // the search help closes like a menu: a click elsewhere or Escape
  const help = $("search-help");
  document.addEventListener("click", (e) => {
    if (help.open && !help.contains(e.target)) help.open = false;
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && help.open) help.open = false;
  });
  const threshold = $("threshold");
  threshold.addEventListener("input", () => {
    // the number follows the slider at once; the charts after a pause
    $("threshold-value").textContent = Number(threshold.value).toFixed(2);
    clearTimeout(thresholdTimer);
    thresholdTimer = setTimeout(applyThreshold, DEBOUNCE_MS);
  });
  const applyThreshold = () => {
    const t = parseThreshold(threshold.value);
    if (t === state.threshold) return;
    state.threshold = t;
    refresh(); // the table too: its chips below the threshold are faint
  };
  threshold.addEventListener("change", applyThreshold);
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

// While a job runs, the header's document count follows what it has stored so far.
let countTimer = null;
document.addEventListener("narrascope:job-progress", () => {
  if (countTimer) return;
  countTimer = setTimeout(() => {
    fetchCount("/api/health", (res) => res.documents)
      .catch(() => {})
      .finally(() => {
        countTimer = null;
      });
  }, COUNT_POLL_MS);
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
