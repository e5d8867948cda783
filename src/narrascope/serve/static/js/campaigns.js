// The Campaigns view (issue 26): the near-duplicate clusters `narrascope campaigns --db`
// stored, by size or by coordination score, and one cluster's panel: its shared passage, a
// timeline of its posts (one row per source, a dot per post at its date) and its members,
// each linking to the document view. The state lives in the hash
// (#/campaigns?order=coordination&id=C...), so reload and back keep it.
// Everything from the API is untrusted: text goes in with textContent / text nodes only.

import { api, query } from "./api.js";
import { colourClass } from "./colors.js";
import { bdi, cut, el, fmt, visible } from "./docview.js";

const PAGE = 25;
const PASSAGE_CHARS = 140; // the table's excerpt of the shared passage
const UNKNOWN = "unknown";
const SVG = "http://www.w3.org/2000/svg";
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const state = { order: "size", min_size: "", source: "", offset: 0, id: "" };
let wired = false;
let sourcesLoaded = false;
let listCall = null;
let panelCall = null;

const $ = (id) => document.getElementById(id);

function fail(err) {
  if (err && err.name === "AbortError") return;
  const s = $("status");
  s.className = "status";
  s.textContent = `Error: ${err && err.message ? err.message : err}`;
  s.hidden = false;
}

function params({ withId = true } = {}) {
  const out = {};
  if (state.order !== "size") out.order = state.order;
  if (state.min_size) out.min_size = state.min_size;
  if (state.source) out.source = state.source;
  if (state.offset) out.offset = state.offset;
  if (withId && state.id) out.id = state.id;
  return out;
}

function writeHash() {
  history.replaceState(null, "", `#/campaigns${query(params())}`);
}

function readHash(p) {
  state.order = p.get("order") === "coordination" ? "coordination" : "size";
  const size = Number.parseInt(p.get("min_size") || "", 10);
  state.min_size = Number.isFinite(size) && size >= 2 ? String(size) : "";
  state.source = p.get("source") || "";
  const offset = Number.parseInt(p.get("offset") || "", 10);
  state.offset = Number.isFinite(offset) && offset > 0 ? offset : 0;
  state.id = p.get("id") || "";
}

/** A stored date ("2025-03-03", "2025-03-03T08:00:00", with or without a zone) as ms, UTC
 * when it has no zone (as the clustering reads it), or epoch seconds; null for "unknown" or
 * unreadable (drawn as undated). */
export function dateMs(value) {
  const s = String(value ?? "");
  if (!s || s === UNKNOWN) return null;
  if (/^\d{9,11}(\.\d+)?$/.test(s)) return Number(s) * 1000; // epoch seconds, as read
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", sec = "0", zone] = m;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return Number.isFinite(t) ? t : null;
}

/** A member's time as ms: the API's `timestamp` (its date as the clustering read it,
 * "05.03.2024" included; null when undated), else its date as given (an older server). */
export function memberMs(member) {
  if (member && Object.hasOwn(member, "timestamp")) return member.timestamp ? dateMs(member.timestamp) : null;
  return dateMs(member && member.date);
}

/** "3 h", "2.5 days", "9 min": a time span for people. */
export function span(hours) {
  if (hours === null || hours === undefined || !Number.isFinite(Number(hours))) return "—";
  const h = Number(hours);
  if (h < 1) return `${Math.round(h * 60)} min`;
  if (h < 48) return `${Number(h.toFixed(1))} h`;
  return `${Number((h / 24).toFixed(1))} days`;
}

export function plural(n, word) {
  const k = Number(n) || 0;
  return `${k} ${word}${k === 1 ? "" : "s"}`;
}

function excerpt(text, most = PASSAGE_CHARS) {
  return cut(String(text ?? "").replace(/\s+/g, " ").trim(), most);
}

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function docLink(member) {
  const id = String(member.id ?? "");
  if (!member.in_corpus) return el("span", null, bdi(id), el("span", "muted", " (not in this corpus)"));
  const a = el("a", null, bdi(id));
  a.href = `#/doc/${encodeURIComponent(id)}`;
  return a;
}

function when(value) {
  const s = String(value ?? "");
  return s === UNKNOWN ? el("span", "muted", UNKNOWN) : s.replace("T", " ");
}

function sourceCell(sources) {
  const list = (sources || []).map(String);
  const shown = list.slice(0, 3).map((s, i) => [i ? ", " : "", s === UNKNOWN ? el("span", "muted", UNKNOWN) : bdi(s)]).flat();
  return el("td", "sources", `${list.length}: `, ...shown, list.length > 3 ? ` +${list.length - 3}` : "");
}

// -- the list ----------------------------------------------------------------------------

async function loadList() {
  listCall?.abort();
  const ctl = new AbortController();
  listCall = ctl;
  const table = $("campaign-table");
  table.setAttribute("aria-busy", "true");
  table.classList.add("loading");
  const res = await api(`/api/campaigns${query({ ...params({ withId: false }), limit: PAGE })}`, { signal: ctl.signal });
  if (ctl.signal.aborted) return;
  const note = $("campaign-run");
  if (!res.stored) {
    note.replaceChildren(
      "No campaigns are stored in this corpus yet. Find them with ",
      el("code", null, "narrascope campaigns --db CORPUS.db"),
      " (the clustering is a command-line job); this view shows the latest run.",
    );
  } else if (res.run) {
    const r = res.run;
    note.textContent = `Latest run ${String(r.created ?? "").replace("T", " ")}: ${plural(r.clusters, "cluster")} of ${plural(r.documents, "document")}.`;
  }
  const items = Array.isArray(res.items) ? res.items : [];
  const rows = items.map((c) => {
    const id = String(c.id ?? "");
    const a = el("a", null, `${Number(c.size) || 0} documents`);
    a.href = `#/campaigns${query({ ...params({ withId: false }), id })}`;
    const tr = el(
      "tr",
      id === state.id ? "on" : null,
      el("td", "nowrap", a),
      sourceCell(c.sources),
      el("td", "nowrap", when(c.first_seen)),
      el("td", "nowrap num", span(c.time_span_hours)),
      el("td", "num", el("b", null, fmt(c.coordination)), el("div", "muted small", `${Number(c.coordinated_sources) || 0} sources in ${span(c.coordination_window_hours)}`)),
      el("td", "passage", excerpt(c.shared_passage)),
    );
    tr.dataset.id = id;
    return tr;
  });
  const body = table.tBodies[0];
  body.replaceChildren(...rows);
  if (!rows.length) {
    const td = el("td", "empty", res.stored ? "No cluster matches." : "No campaigns stored.");
    td.colSpan = 6;
    body.append(el("tr", null, td));
  }
  $("campaign-page-info").textContent = items.length ? `${state.offset + 1}–${state.offset + items.length}` : "";
  $("campaign-prev").disabled = state.offset <= 0;
  $("campaign-next").disabled = !res.more;
  for (const b of $("campaign-order").querySelectorAll("button")) b.classList.toggle("on", b.dataset.order === state.order);
  table.classList.remove("loading");
  table.setAttribute("aria-busy", "false");
}

async function loadSources() {
  if (sourcesLoaded) return;
  const facets = await api("/api/facets");
  const select = $("campaign-source");
  for (const v of facets.source || []) {
    if (v.value === null || v.value === "") continue;
    select.append(new Option(visible(v.value), String(v.value)));
  }
  sourcesLoaded = true;
}

// -- one cluster -----------------------------------------------------------------------------

/** Time ticks across [min, max]: up to `most` evenly spaced, labelled by day or by time. */
function ticks(min, max, most = 5) {
  if (max <= min) return [min];
  const out = [];
  for (let i = 0; i < most; i += 1) out.push(min + ((max - min) * i) / (most - 1));
  return out;
}

function tickLabel(t, range) {
  const iso = new Date(t).toISOString();
  return range < 2 * DAY_MS ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}

/** The cluster's posts per source: one row per source (in order of first post, unknown
 * last), a dot per post at its date; undated posts in a column of their own. */
export function timeline(members) {
  const rows = [];
  const rowOf = new Map();
  const ordered = [...members].sort((a, b) => (String(a.source) === UNKNOWN) - (String(b.source) === UNKNOWN));
  for (const m of ordered) {
    const s = String(m.source ?? UNKNOWN);
    if (!rowOf.has(s)) {
      rowOf.set(s, rows.length);
      rows.push(s);
    }
  }
  const times = members.map(memberMs);
  const known = times.filter((t) => t !== null);
  const undated = times.some((t) => t === null);
  const W = 760;
  const ROW = 24;
  const LEFT = 170;
  const RIGHT = undated ? 90 : 20;
  const TOP = 8;
  const AXIS = 30;
  const H = TOP + rows.length * ROW + AXIS;
  const x0 = LEFT + 10;
  const x1 = W - RIGHT - 10;
  const min = known.length ? Math.min(...known) : 0;
  const max = known.length ? Math.max(...known) : 0;
  const x = (t) => (max > min ? x0 + ((t - min) / (max - min)) * (x1 - x0) : (x0 + x1) / 2);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img", "aria-label": `Timeline of ${members.length} posts by ${rows.length} sources` });
  rows.forEach((s, i) => {
    const y = TOP + i * ROW + ROW / 2;
    chart.append(svg("line", { x1: LEFT, x2: W - 4, y1: y, y2: y, class: "tl-row" }));
    const label = cut(s, 24);
    const name = svg("text", { x: LEFT - 8, y: y + 4, class: s === UNKNOWN ? "tl-source unknown" : "tl-source" }, visible(label), svg("title", {}, visible(s)));
    name.dataset.source = s;
    chart.append(name);
  });
  const axisY = TOP + rows.length * ROW + 4;
  chart.append(svg("line", { x1: LEFT, x2: W - RIGHT, y1: axisY, y2: axisY, class: "tl-axis" }));
  if (known.length) {
    const marks = max > min ? ticks(min, max) : [min];
    marks.forEach((t, i) => {
      const anchor = marks.length > 1 && i === 0 ? "start" : marks.length > 1 && i === marks.length - 1 ? "end" : "middle";
      chart.append(svg("line", { x1: x(t), x2: x(t), y1: axisY, y2: axisY + 4, class: "tl-axis" }));
      chart.append(svg("text", { x: x(t), y: axisY + 17, "text-anchor": anchor, class: "tl-tick" }, tickLabel(t, max - min)));
    });
  }
  if (undated) {
    const ux = W - RIGHT / 2;
    chart.append(svg("text", { x: ux, y: axisY + 17, "text-anchor": "middle", class: "tl-tick" }, "undated"));
  }
  // posts at the same time and source are spread a little, so each dot stays clickable
  const seen = new Map();
  members.forEach((m, i) => {
    const s = String(m.source ?? UNKNOWN);
    const t = times[i];
    const cx0 = t === null ? W - RIGHT / 2 : x(t);
    const key = `${rowOf.get(s)}:${Math.round(cx0)}`;
    const n = seen.get(key) || 0;
    seen.set(key, n + 1);
    const cx = cx0 + (n ? (n % 2 ? 1 : -1) * Math.ceil(n / 2) * 7 : 0);
    const cy = TOP + rowOf.get(s) * ROW + ROW / 2;
    const title = `${visible(m.id)} · ${visible(s)} · ${String(m.date ?? "")} · similarity ${fmt(m.similarity)}`;
    const dot = svg("circle", { cx, cy, r: 5.5, class: i === 0 ? "tl-dot first" : "tl-dot" }, svg("title", {}, title));
    dot.dataset.id = String(m.id ?? "");
    if (m.in_corpus) {
      const a = svg("a", { href: `#/doc/${encodeURIComponent(String(m.id ?? ""))}` }, dot);
      chart.append(a);
    } else {
      chart.append(dot);
    }
  });
  return chart;
}

function memberTable(members) {
  const head = el("tr", null, ...["Document", "Date", "Source", "Similarity", "Contained", "Narratives"].map((h) => el("th", null, h)));
  const rows = members.map((m, i) => {
    const chips = el("div", "chips");
    for (const label of m.narratives || []) chips.append(el("span", `chip ${colourClass(String(label))}`, String(label)));
    const tr = el(
      "tr",
      null,
      el("td", "id", docLink(m), i === 0 ? el("span", "muted", " (earliest)") : null),
      el("td", "nowrap", when(m.date)),
      el("td", "nowrap", String(m.source) === UNKNOWN ? el("span", "muted", UNKNOWN) : bdi(m.source)),
      el("td", "num", fmt(m.similarity)),
      el("td", "num", fmt(m.containment)),
      el("td", null, chips),
    );
    tr.dataset.id = String(m.id ?? "");
    return tr;
  });
  return el("table", "member-table", el("thead", null, head), el("tbody", null, ...rows));
}

function labelChips(pairs) {
  const box = el("div", "chips");
  for (const p of pairs || []) box.append(el("span", `chip ${colourClass(String(p.label))}`, String(p.label), el("b", null, String(p.count))));
  return box;
}

async function loadPanel() {
  panelCall?.abort();
  const box = $("campaign-panel");
  if (!state.id) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const ctl = new AbortController();
  panelCall = ctl;
  box.hidden = false;
  box.setAttribute("aria-busy", "true");
  box.replaceChildren(el("p", "muted", "Loading…"));
  let c;
  try {
    c = await api(`/api/campaigns/${encodeURIComponent(state.id)}`, { signal: ctl.signal });
  } catch (err) {
    if (err.name === "AbortError") return;
    box.replaceChildren(el("p", "empty", err.status === 404 ? `No stored campaign “${visible(state.id)}” (a newer run may have replaced it).` : `Error: ${err.message}`));
    box.setAttribute("aria-busy", "false");
    return;
  }
  if (ctl.signal.aborted) return;
  const members = Array.isArray(c.members) ? c.members : [];
  const close = el("button", "close", "Close");
  close.type = "button";
  close.addEventListener("click", () => {
    state.id = "";
    writeHash();
    loadPanel().catch(fail);
    for (const tr of $("campaign-table").tBodies[0].rows) tr.classList.remove("on");
  });
  const facts = el(
    "p",
    "facts",
    `${members.length} documents from ${(c.sources || []).length} sources, first seen ${String(c.first_seen).replace("T", " ")}, `,
    `last seen ${String(c.last_seen).replace("T", " ")} (span ${span(c.time_span_hours)}). Coordination ${fmt(c.coordination)}: `,
    `${Number(c.coordinated_sources) || 0} sources within ${span(c.coordination_window_hours)}.`,
  );
  const parts = [
    el("div", "card-head", el("h2", null, "Cluster ", bdi(c.id)), close),
    facts,
    el("h3", null, "Posts over time, per source"),
    el("div", "timeline-box", timeline(members)),
    el("h3", null, `Shared passage (in ${Number(c.shared_by) || 0} of ${members.length})`),
    el("blockquote", "passage-full", String(c.shared_passage ?? "")),
  ];
  if ((c.narratives || []).length) parts.push(el("h3", null, "Narratives of its members"), labelChips(c.narratives));
  if ((c.techniques || []).length) parts.push(el("h3", null, "Techniques"), labelChips(c.techniques));
  parts.push(el("h3", null, "Members, earliest first"), memberTable(members));
  box.replaceChildren(...parts);
  box.setAttribute("aria-busy", "false");
}

function refresh() {
  writeHash();
  loadList().catch(fail);
  loadPanel().catch(fail);
}

function wire() {
  $("campaign-order").addEventListener("click", (e) => {
    const order = e.target.closest("button")?.dataset.order;
    if (order && order !== state.order) {
      state.order = order;
      state.offset = 0;
      refresh();
    }
  });
  $("campaign-min-size").addEventListener("change", (e) => {
    const n = Number.parseInt(e.target.value, 10);
    state.min_size = Number.isFinite(n) && n >= 2 ? String(n) : "";
    state.offset = 0;
    refresh();
  });
  $("campaign-source").addEventListener("change", (e) => {
    state.source = e.target.value;
    state.offset = 0;
    refresh();
  });
  $("campaign-prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE);
    refresh();
  });
  $("campaign-next").addEventListener("click", () => {
    state.offset += PAGE;
    refresh();
  });
  $("campaign-table").addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-id]");
    if (!tr || e.target.closest("a")) return;
    location.hash = `#/campaigns${query({ ...params({ withId: false }), id: tr.dataset.id })}`;
  });
}

/** Show the Campaigns view for the hash's query string (order, min_size, source, id). */
export async function showCampaigns(p) {
  if (!wired) {
    wire();
    wired = true;
  }
  readHash(p);
  $("campaign-min-size").value = state.min_size;
  try {
    await loadSources();
  } catch (err) {
    fail(err);
  }
  const select = $("campaign-source");
  if (state.source && ![...select.options].some((o) => o.value === state.source)) select.append(new Option(visible(state.source), state.source));
  select.value = state.source;
  await Promise.all([loadList(), loadPanel()]);
  for (const tr of $("campaign-table").tBodies[0].rows) tr.classList.toggle("on", tr.dataset.id === state.id);
}
