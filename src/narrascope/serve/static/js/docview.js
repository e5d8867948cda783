// The document view: the text with every evidence span highlighted in the colour of its
// narrative, technique spans underlined by family, framed entities' mentions with a role
// chip, and a side panel (narratives and sub-narratives with score bars, explanation,
// entity roles, techniques). Everything from the record is untrusted: it is only ever put
// in the page with textContent / createTextNode / setAttribute of a plain attribute.

import { OTHER, colourClass, parentOf } from "./colors.js";

const RESERVED = new Set([
  "id", "language", "text", "sentences", "explanation", "content_hash", "entities",
  "techniques", "persuasion_profile",
]);
const ROLES = ["Protagonist", "Antagonist", "Innocent"];
const ROLE_NAMES = { Protagonist: "Heroes", Antagonist: "Villains", Innocent: "Victims" };
const FAMILIES = {
  attack_on_reputation: "attack on reputation",
  justification: "justification",
  simplification: "simplification",
  distraction: "distraction",
  call: "call",
  manipulative_wording: "manipulative wording",
};

/** Create an element with classes and (text) children; strings become text nodes. */
export function el(tag, cls, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// Bidi controls (embeddings, overrides, isolates, marks): in an id, source or title they
// would reorder what is shown ("rtl-\u202eabc" as "rtl-cba"), so there they are shown as
// a visible "⟨U+202E⟩" instead; a document's text keeps them, isolated in its own box.
const BIDI_CONTROLS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** A user-given short string (id, source, title) with its bidi controls made visible. */
export function visible(s) {
  return String(s ?? "").replace(BIDI_CONTROLS, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase()}⟩`);
}

/** `visible(s)` in a <bdi>, so a right-to-left string cannot reorder what is around it. */
export function bdi(s, cls) {
  return el("bdi", cls, visible(s));
}

const num = (x) => (typeof x === "number" && Number.isFinite(x) ? x : Number(x) || 0);
export const fmt = (x) => num(x).toFixed(2);

/** Annotation groups of a record, narratives first, then sub-narratives, then any other. */
export function annotationGroups(record) {
  const groups = [];
  for (const [name, value] of Object.entries(record)) {
    if (RESERVED.has(name) || !Array.isArray(value)) continue;
    if (!value.every((a) => a && typeof a === "object" && "label" in a)) continue;
    groups.push([name, value]);
  }
  const rank = (n) => (n === "narratives" ? 0 : n === "subnarratives" ? 1 : 2);
  return groups.sort((a, b) => rank(a[0]) - rank(b[0]));
}

/** Offsets in records count code points (Python); JS strings count UTF-16 units. */
function offsetMapper(text) {
  if (!/[\uD800-\uDFFF]/.test(text)) return { len: text.length, at: (i) => i };
  const units = [0];
  for (const ch of text) units.push(units[units.length - 1] + ch.length);
  return { len: units.length - 1, at: (i) => units[i] };
}

function fits(text, map, span) {
  const s = Number(span.start);
  const e = Number(span.end);
  if (!Number.isInteger(s) || !Number.isInteger(e) || !(s >= 0 && s < e && e <= map.len)) return false;
  return typeof span.text !== "string" || text.slice(map.at(s), map.at(e)) === span.text;
}

function narrativeOf(group, a) {
  return group === "subnarratives" ? parentOf(a) || String(a.label) : String(a.label);
}

function techniqueName(label) {
  return String(label || "").replaceAll("_", " ").toLowerCase();
}

function familyClass(f) {
  return Object.hasOwn(FAMILIES, f) ? f : "other";
}

function roleText(e) {
  const fine = (e.fine_roles || []).map((a) => String(a.label || ""));
  return String(e.main_role) + (fine.length ? ` · ${fine.join(", ")}` : "");
}

/** The highlighted text as a DocumentFragment; marks get `narratives` (a Set) for focus. */
function highlighted(record) {
  const text = String(record.text || "");
  const map = offsetMapper(text);
  const spans = [];
  annotationGroups(record).forEach(([group, anns], rank) => {
    for (const a of anns) {
      for (const ev of a.evidence || []) {
        if (!fits(text, map, ev)) continue;
        spans.push({
          start: +ev.start, end: +ev.end, rank, score: num(a.score),
          narrative: narrativeOf(group, a), tip: `${a.label} (${fmt(a.score)})`,
        });
      }
    }
  });
  const techniques = (record.techniques || []).filter((t) => fits(text, map, t)).map((t) => ({
    start: +t.start, end: +t.end, family: familyClass(t.family), score: num(t.score),
    tip: `${techniqueName(t.label)} (${fmt(t.score)})`,
  }));
  const mentions = [];
  for (const e of record.entities || []) {
    if (!ROLES.includes(e.main_role)) continue;
    for (const m of e.mentions || []) {
      if (fits(text, map, m)) {
        mentions.push({ start: +m.start, end: +m.end, role: e.main_role,
          tip: `${e.name}: ${roleText(e)} (${fmt(e.score)})`, chip: roleText(e) });
      }
    }
  }
  mentions.sort((a, b) => a.start - b.start || a.end - b.end);
  // overlapping mentions would nest wrongly: drop any that starts inside the previous kept one
  const keptMentions = [];
  for (const m of mentions) if (!keptMentions.length || m.start >= keptMentions.at(-1).end) keptMentions.push(m);

  const frag = document.createDocumentFragment();
  const piece = (a, b) => text.slice(map.at(a), map.at(b));
  if (!spans.length && !techniques.length && !keptMentions.length) {
    frag.append(document.createTextNode(text));
    return frag;
  }
  const cuts = [...new Set([0, map.len, ...[...spans, ...techniques, ...keptMentions].flatMap((s) => [s.start, s.end])])]
    .sort((x, y) => x - y);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i];
    const b = cuts[i + 1];
    let node = document.createTextNode(piece(a, b));
    const tips = [];
    const mention = keptMentions.find((m) => m.start <= a && m.end >= b);
    const inTq = techniques.filter((t) => t.start <= a && t.end >= b).sort((x, y) => y.score - x.score);
    const covering = spans.filter((s) => s.start <= a && s.end >= b)
      .sort((x, y) => x.rank - y.rank || y.score - x.score);
    if (mention) tips.push(mention.tip);
    if (covering.length) tips.push([...new Set(covering.map((s) => s.tip))].join("; "));
    tips.push(...new Set(inTq.map((t) => t.tip)));
    let inner = null;
    if (mention) {
      node = wrap(node, "span", `ent r-${mention.role}`);
      inner = inner || node;
    }
    if (inTq.length) {
      node = wrap(node, "span", `tq f-${inTq[0].family}`);
      inner = inner || node;
    }
    if (covering.length) {
      const best = covering[0];
      node = wrap(node, "mark", `ev ${colourClass(best.narrative)}`);
      node.narratives = new Set(covering.map((s) => s.narrative));
      inner = inner || node;
    }
    if (inner) inner.setAttribute("title", tips.join("\n"));
    frag.append(node);
    if (mention && mention.end === b) frag.append(el("span", `role r-${mention.role}`, mention.chip));
  }
  return frag;
}

function wrap(child, tag, cls) {
  const e = document.createElement(tag);
  e.className = cls;
  e.append(child);
  return e;
}

function bar(score, cls) {
  const b = el("div", `bar ${cls}`);
  const fill = el("span");
  fill.style.width = `${Math.max(0, Math.min(1, num(score))) * 100}%`; // CSSOM: allowed by CSP
  b.append(fill);
  return b;
}

function narrativePanel(record, onFocus) {
  const narratives = [...(record.narratives || [])].sort((a, b) => num(b.score) - num(a.score));
  const subs = [...(record.subnarratives || [])].sort((a, b) => num(b.score) - num(a.score));
  const list = el("ul", "narratives");
  const placed = new Set();
  const subList = (parent) => {
    const ul = el("ul", "subs");
    subs.forEach((s, i) => {
      if (placed.has(i) || parentOf(s) !== parent || s.label === OTHER) return;
      placed.add(i);
      const label = String(s.label);
      const short = label.startsWith(`${parent}: `) ? label.slice(parent.length + 2) : label;
      const li = el("li", "sub", el("div", "label-line", el("span", "label", short), el("span", "score", fmt(s.score))),
        bar(s.score, colourClass(parent)));
      li.setAttribute("title", label);
      ul.append(li);
    });
    return ul.childElementCount ? ul : null;
  };
  const item = (label, score) => {
    const cls = colourClass(label);
    const li = el("li", "narr",
      el("div", "label-line", el("span", `swatch ${cls}`), el("span", "label", label), el("span", "score", score === null ? "" : fmt(score))));
    if (score !== null) li.append(bar(score, cls));
    const sl = subList(label);
    if (sl) li.append(sl);
    li.narrative = label;
    li.tabIndex = 0;
    li.title = "Show only this narrative's evidence (again: all)";
    li.addEventListener("click", (ev) => {
      ev.stopPropagation();
      onFocus(li);
    });
    li.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        onFocus(li);
      }
    });
    return li;
  };
  for (const n of narratives) list.append(item(String(n.label), n.score));
  // sub-narratives whose narrative is not listed: under their parent's name
  subs.forEach((s, i) => {
    if (placed.has(i) || s.label === OTHER) return;
    list.append(item(parentOf(s) || String(s.label), null));
  });
  if (!list.childElementCount) list.append(el("li", "empty", "No narrative found."));
  return list;
}

function entityPanel(record) {
  const framed = (record.entities || []).filter((e) => ROLES.includes(e.main_role));
  const box = el("div", "entities");
  if (!framed.length) {
    box.append(el("p", "empty", "No entity is cast in a role."));
    return box;
  }
  for (const role of ROLES) {
    const rows = framed.filter((e) => e.main_role === role).sort((a, b) => num(b.score) - num(a.score));
    if (!rows.length) continue;
    const table = el("table", `roles r-${role}`);
    const body = el("tbody");
    for (const e of rows) {
      const fine = (e.fine_roles || []).map((a) => String(a.label || "")).join(", ");
      const tr = el("tr", null, el("td", null, bdi(e.name)), el("td", null, fine),
        el("td", "num", fmt(e.score)), el("td", "num", String((e.mentions || []).length)));
      const evidence = (e.evidence || [])[0];
      if (evidence && typeof evidence.text === "string") tr.setAttribute("title", evidence.text);
      body.append(tr);
    }
    table.append(el("thead", null, el("tr", null, el("th", null, el("span", `role r-${role}`, `${ROLE_NAMES[role]} · ${role}`)),
      el("th", null, "fine roles"), el("th", "num", "score"), el("th", "num", "mentions"))), body);
    box.append(table);
  }
  const unframed = (record.entities || []).length - framed.length;
  if (unframed > 0) box.append(el("p", "muted", `${unframed} more named, not cast in a role.`));
  return box;
}

function techniquePanel(record) {
  const list = [...(record.techniques || [])].sort((a, b) => num(a.paragraph) - num(b.paragraph) || num(a.start) - num(b.start));
  const box = el("div", "techniques");
  if (!list.length) {
    box.append(el("p", "empty", "No persuasion technique found."));
    return box;
  }
  const body = el("tbody");
  for (const t of list) {
    const span = String(t.text ?? "");
    body.append(el("tr", null, el("td", "num", String(t.paragraph ?? "")),
      el("td", null, techniqueName(t.label), " ", el("span", `fam f-${familyClass(t.family)}`, FAMILIES[t.family] || String(t.family ?? "other"))),
      el("td", "num", fmt(t.score)), el("td", null, span.length > 80 ? `${span.slice(0, 78)}…` : span)));
  }
  box.append(el("table", null, el("thead", null, el("tr", null, el("th", "num", "¶"), el("th", null, "technique"),
    el("th", "num", "score"), el("th", null, "span"))), body));
  const profile = record.persuasion_profile || {};
  const used = Object.entries(profile).filter(([, v]) => num(v) > 0);
  if (used.length) {
    box.append(el("p", "muted", "Profile: " + used.map(([f, v]) => `${FAMILIES[f] || f} ${v}`).join(", ")));
  }
  return box;
}

function safeUrl(u) {
  try {
    const url = new URL(String(u));
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Render a full document record into `container` (replacing what was there). */
export function renderDocument(container, record) {
  container.replaceChildren();
  const view = el("div", "docview");
  const left = el("div", "doc-main");
  const head = el("div", "doc-head", bdi(record.id, "doc-id"),
    record.language ? el("span", "lang", visible(record.language)) : null);
  for (const key of ["source", "date", "title"]) {
    if (record[key]) head.append(bdi(record[key], "muted"));
  }
  const url = record.url && safeUrl(record.url);
  if (url) {
    const a = el("a", null, "original");
    a.href = url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    head.append(a);
  }
  const textBox = el("div", "doc-text");
  textBox.append(highlighted(record));
  left.append(head, textBox);

  const panel = el("aside", "panel");
  let focused = null;
  const focus = (li) => {
    focused = focused === li ? null : li;
    view.classList.toggle("focus", Boolean(focused));
    panel.querySelectorAll("li.narr").forEach((x) => x.classList.toggle("on", x === focused));
    textBox.querySelectorAll("mark.ev").forEach((m) => m.classList.toggle("on", Boolean(focused) && m.narratives?.has(focused.narrative)));
  };
  panel.append(el("h3", null, "Narratives"), narrativePanel(record, focus));
  if (record.explanation) panel.append(el("h3", null, "Why"), el("p", "explanation", String(record.explanation)));
  panel.append(el("h3", null, "Entity roles"), entityPanel(record));
  panel.append(el("h3", null, "Persuasion techniques"), techniquePanel(record));
  view.append(left, panel);
  container.append(view);
}
