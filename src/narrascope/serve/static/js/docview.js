// The document view: the text with every evidence span highlighted in the colour of its
// narrative, technique spans underlined by family, framed entities' mentions with a role
// chip, and a side panel (narratives and sub-narratives with score bars, explanation,
// entity roles, techniques, check-worthy claims and the known debunks they repeat).
// Everything from the record is untrusted: it is only ever put
// in the page with textContent / createTextNode / setAttribute of a plain attribute.

import { OTHER, colourClass, parentOf } from "./colors.js";

const RESERVED = new Set([
  "id", "language", "text", "sentences", "explanation", "content_hash", "entities",
  "techniques", "persuasion_profile", "article", "comments", "hate", "incitement",
  "claims", "debunks",
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

/** `s` cut to at most `most` characters, "…" included: counted in code points, so an
 * emoji (two UTF-16 units) is kept whole or left out, never split into a lone half. */
export function cut(s, most) {
  const text = String(s ?? "");
  if (text.length <= most) return text; // at most `most` units: at most `most` code points
  const chars = Array.from(text);
  return chars.length > most ? `${chars.slice(0, Math.max(most - 1, 0)).join("")}…` : text;
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

/** The highlighted text as a DocumentFragment; marks get `narratives` (a Set) for focus.
 * With `region` (a thread's article, in code points) only that part is shown, with the
 * spans inside it: the comments are shown by `threadSection`. */
function highlighted(record, region = null) {
  const text = String(record.text || "");
  const map = offsetMapper(text);
  const claimInfo = claimMatches(record, text, map);
  const lo = region ? region[0] : 0;
  const hi = region ? region[1] : map.len;
  const inside = (s) => s.start >= lo && s.end <= hi;
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
  // the article's own hate / incitement evidence (offsets in the whole text), marked as
  // a comment's is
  const flagged = [];
  for (const f of flagsOf(record)) {
    const ev = f.evidence;
    if (ev && typeof ev === "object" && fits(text, map, ev)) {
      flagged.push({ start: +ev.start, end: +ev.end, kind: f.kind, tip: f.badge });
    }
  }
  const claims = claimInfo.claims.map((c, i) => {
    const matches = claimInfo.byClaim.get(i) || [];
    return { start: +c.start, end: +c.end, idx: i, debunked: matches.length > 0,
      tip: [`check-worthy claim (${fmt(c.score)})`, ...matches.map(debunkText)].join("\n") };
  });
  for (const d of claimInfo.loose) { // a matched stretch that is no listed claim is marked too
    if (d.claim_span && typeof d.claim_span === "object" && fits(text, map, d.claim_span)) {
      claims.push({ start: +d.claim_span.start, end: +d.claim_span.end, idx: -1, debunked: true, tip: debunkText(d) });
    }
  }
  if (region) {
    for (const list of [spans, techniques, mentions, claims, flagged]) list.splice(0, list.length, ...list.filter(inside));
  }
  mentions.sort((a, b) => a.start - b.start || a.end - b.end);
  // overlapping mentions would nest wrongly: drop any that starts inside the previous kept one
  const keptMentions = [];
  for (const m of mentions) if (!keptMentions.length || m.start >= keptMentions.at(-1).end) keptMentions.push(m);

  const frag = document.createDocumentFragment();
  const piece = (a, b) => text.slice(map.at(a), map.at(b));
  if (!spans.length && !techniques.length && !keptMentions.length && !claims.length && !flagged.length) {
    frag.append(document.createTextNode(piece(lo, hi)));
    return frag;
  }
  const cuts = [...new Set([lo, hi, ...[...spans, ...techniques, ...keptMentions, ...claims, ...flagged].flatMap((s) => [s.start, s.end])])]
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
    const claim = claims.find((c) => c.start <= a && c.end >= b); // best first
    if (claim) {
      tips.push(claim.tip);
      node = wrap(node, "span", claim.debunked ? "claim debunked" : "claim");
      if (claim.idx >= 0) node.dataset.claim = String(claim.idx);
      inner = inner || node;
    }
    const flags = flagged.filter((f) => f.start <= a && f.end >= b);
    if (flags.length) {
      const flagTips = [...new Set(flags.map((f) => f.tip))];
      tips.push(...flagTips.map(visible));
      node = wrap(node, "mark", `flag-ev ${[...new Set(flags.map((f) => f.kind))].join(" ")}`);
      if (!inner) node.setAttribute("title", visible(flagTips.join("; ")));
    }
    if (inner) inner.setAttribute("title", tips.join("\n"));
    frag.append(node);
    if (mention && mention.end === b) frag.append(el("span", `role r-${mention.role}`, mention.chip));
  }
  return frag;
}

// --- claims and known debunks --------------------------------------------------------------

/** A record's `key` list ("claims" or "debunks"), then its reader comments' (offsets in
 * the whole text), each of those naming its comment in `comment`. */
function withComments(record, key) {
  const own = (item) => (Array.isArray(item[key]) ? item[key].filter((x) => x && typeof x === "object") : []);
  const out = own(record);
  for (const c of Array.isArray(record.comments) ? record.comments : []) {
    if (!c || typeof c !== "object") continue;
    out.push(...own(c).map((x) => ("comment" in x ? x : { ...x, comment: String(c.id) })));
  }
  return out;
}

/** The claims that fit the text, best first, the article's and its reader comments'
 * (those name their comment in `comment`); the debunk matches of each claim (by its
 * index: the claim its claim_span overlaps most); and the rest (the whole document's, or
 * a stretch that is no listed claim). As the HTML report reads them. */
export function claimMatches(record, text = String(record.text || ""), map = offsetMapper(text)) {
  const claims = withComments(record, "claims")
    .filter((c) => fits(text, map, c))
    .sort((a, b) => num(b.score) - num(a.score));
  const byClaim = new Map();
  const loose = [];
  for (const d of withComments(record, "debunks")) {
    if (!d || typeof d !== "object" || d.id === null || d.id === undefined) continue;
    const span = d.claim_span;
    let best = -1;
    let overlap = 0;
    if (span && typeof span === "object" && fits(text, map, span)) {
      claims.forEach((c, i) => {
        const shared = Math.min(+span.end, +c.end) - Math.max(+span.start, +c.start);
        if (shared > overlap) {
          best = i;
          overlap = shared;
        }
      });
    }
    if (best >= 0) {
      if (!byClaim.has(best)) byClaim.set(best, []);
      byClaim.get(best).push(d);
    } else {
      loose.push(d);
    }
  }
  return { claims, byClaim, loose };
}

/** "false, checked 2023-03-20": the debunk's verdict and date (as imported), either may be
 * missing; the date tells the reader whether the fact-check came before or after the post. */
export function debunkAbout(d) {
  const parts = d.verdict ? [String(d.verdict)] : [];
  if (d.date) parts.push(`checked ${d.date}`);
  return parts.join(", ");
}

function debunkText(d) {
  const about = debunkAbout(d);
  return `matches debunk: ${String(d.claim ?? "")}${about ? ` (${about})` : ""}`;
}

/** "matches debunk: “claim” (verdict, checked date) fact-check ↗": the link only for
 * http(s) URLs, in a new tab that cannot reach back to this page. */
function debunkLine(d) {
  const about = debunkAbout(d);
  const line = el("div", "debunk", "matches debunk: ", el("q", null, String(d.claim ?? "")),
    about ? el("span", "verdict", ` (${visible(about)})`) : null);
  line.dataset.debunk = String(d.id);
  const url = d.url && safeUrl(d.url);
  if (url) {
    const a = el("a", null, "fact-check");
    a.href = url;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
    a.title = url;
    line.append(" ", a);
  } else if (d.url) {
    line.append(" ", el("span", "muted", visible(d.url)));
  }
  line.append(" ", el("span", "muted", `${visible(d.id)} · ${fmt(d.score)}`));
  return line;
}

/** " (in a comment by Anna)": where a claim or match of a reader comment is; the comment
 * is named by its author when the record has it. */
function inComment(record, item) {
  const comment = (Array.isArray(record.comments) ? record.comments : [])
    .find((c) => c && typeof c === "object" && "comment" in item && String(c.id) === String(item.comment));
  if (!comment || !comment.author) return el("span", "muted in-comment", " (in a comment)");
  return el("span", "muted in-comment", " (in a comment by ", bdi(comment.author), ")");
}

/** The Claims panel: claims best first with their score and the debunks they repeat;
 * hovering or focusing one lights it up in the text (`root`: the article and its thread),
 * clicking scrolls to it. A reader comment's are said to be in a comment. */
function claimPanel(record, root, region) {
  const { claims, byClaim, loose } = claimMatches(record);
  const box = el("div", "claims");
  if (!claims.length && !loose.length) {
    box.append(el("p", "empty", "No check-worthy claim found."));
    return box;
  }
  for (const d of loose) {
    const span = d.claim_span;
    const where = span && typeof span === "object" && typeof span.text === "string"
      ? el("q", "restated", span.text) : el("span", "muted", "the document as a whole");
    box.append(el("div", "loose-debunk", where, "comment" in d ? inComment(record, d) : null, debunkLine(d)));
  }
  const list = el("ol", "claim-list");
  const light = (idx, on) => root.querySelectorAll(`span.claim[data-claim="${idx}"]`)
    .forEach((s) => s.classList.toggle("on", on));
  claims.forEach((c, i) => {
    const matches = byClaim.get(i) || [];
    const li = el("li", `claim-item${matches.length ? " debunked" : ""}`,
      el("span", "score", fmt(c.score)), el("span", "claim-text", String(c.text ?? "")));
    li.dataset.claim = String(i);
    const shown = !region || (+c.start >= region[0] && +c.end <= region[1]);
    if (!shown) li.append("comment" in c ? inComment(record, c) : el("span", "muted", " (in a comment)"));
    for (const d of matches) li.append(debunkLine(d));
    li.tabIndex = 0;
    li.title = "Show this claim in the text";
    li.addEventListener("mouseenter", () => light(i, true));
    li.addEventListener("mouseleave", () => light(i, false));
    li.addEventListener("focus", () => light(i, true));
    li.addEventListener("blur", () => light(i, false));
    const go = () => {
      const first = root.querySelector(`span.claim[data-claim="${i}"]`);
      if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
      light(i, true);
    };
    li.addEventListener("click", (ev) => {
      if (ev.target.closest("a")) return; // a fact-check link opens, nothing else
      go();
    });
    li.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        go();
      }
    });
    list.append(li);
  });
  if (claims.length) box.append(list);
  return box;
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
      el("td", "num", fmt(t.score)), el("td", null, cut(span, 80))));
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

// --- the reader thread -------------------------------------------------------------------

const MAX_INDENT = 6; // deeper replies sit at the sixth level: a long chain stays readable

/** The article's [start, end] when the record carries a reader thread, else null. */
export function articleRegion(record) {
  const a = record.article;
  if (!a || typeof a !== "object" || !Array.isArray(record.comments)) return null;
  const s = Number(a.start);
  const e = Number(a.end);
  const len = offsetMapper(String(record.text || "")).len;
  return Number.isInteger(s) && Number.isInteger(e) && s >= 0 && s <= e && e <= len ? [s, e] : null;
}

/** The flags raised on a comment or document: [{kind, badge, evidence}]. A missing
 * analysis (an older record), a "none" or a false raises nothing; the badge is the label,
 * score and target, never text. */
export function flagsOf(item) {
  const out = [];
  const hate = item && item.hate;
  if (hate && typeof hate === "object" && (hate.label === "hateful" || hate.label === "offensive")) {
    const target = hate.target ? ` · target: ${hate.target}` : "";
    out.push({ kind: hate.label, badge: `${hate.label} ${fmt(hate.score)}${target}`, evidence: hate.evidence });
  }
  const inc = item && item.incitement;
  if (inc && typeof inc === "object" && inc.label === true) {
    out.push({ kind: "incitement", badge: `incitement ${fmt(inc.score)}`, evidence: inc.evidence });
  }
  return out;
}

/** "14 comments · 3 hateful · 1 offensive · 1 incitement": counts only, never text. A
 * count is left out when no comment carries that analysis (it was not run). */
export function threadSummary(comments) {
  const n = comments.length;
  const parts = [`${n} comment${n === 1 ? "" : "s"}`];
  const isObj = (x) => x && typeof x === "object";
  if (comments.some((c) => isObj(c.hate))) {
    parts.push(`${comments.filter((c) => isObj(c.hate) && c.hate.label === "hateful").length} hateful`);
    parts.push(`${comments.filter((c) => isObj(c.hate) && c.hate.label === "offensive").length} offensive`);
  }
  if (comments.some((c) => isObj(c.incitement))) {
    parts.push(`${comments.filter((c) => isObj(c.incitement) && c.incitement.label === true).length} incitement`);
  }
  if (comments.some((c) => Array.isArray(c.debunks))) {
    const k = comments.filter((c) => Array.isArray(c.debunks) && c.debunks.some(isObj)).length;
    parts.push(`${k} repeating known debunks`);
  }
  return parts.join(" · ");
}

/** Where a flag's evidence lies in the comment [start, end): offsets count in the
 * record's text; ones relative to the comment are accepted too. Null if neither fits. */
function evidenceIn(text, map, start, end, ev) {
  if (!ev || typeof ev !== "object") return null;
  const s = Number(ev.start);
  const e = Number(ev.end);
  if (!Number.isInteger(s) || !Number.isInteger(e)) return null;
  for (const base of [0, start]) {
    const a = s + base;
    const b = e + base;
    if (start <= a && a < b && b <= end && (typeof ev.text !== "string" || text.slice(map.at(a), map.at(b)) === ev.text)) {
      return [a, b];
    }
  }
  return null;
}

/** A comment's text as text, each flag's evidence in a mark and each of its check-worthy
 * claims (and stretches restating a known debunk) in a claim span, as in the article. */
function commentBody(text, map, start, end, flags, claims = []) {
  const frag = document.createDocumentFragment();
  const marks = [];
  for (const f of flags) {
    const span = evidenceIn(text, map, start, end, f.evidence);
    if (span) marks.push({ start: span[0], end: span[1], kind: f.kind, tip: f.badge });
  }
  const mine = claims.filter((c) => c.start >= start && c.end <= end);
  const bounds = [...marks, ...mine].flatMap((m) => [m.start, m.end]);
  const cuts = [...new Set([start, end, ...bounds])].sort((x, y) => x - y);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i];
    const b = cuts[i + 1];
    let node = document.createTextNode(text.slice(map.at(a), map.at(b)));
    const cover = marks.filter((m) => m.start <= a && m.end >= b);
    const claim = mine.find((c) => c.start <= a && c.end >= b); // best first
    const tips = [];
    if (cover.length) {
      node = el("mark", `flag-ev ${[...new Set(cover.map((m) => m.kind))].join(" ")}`, node);
      tips.push(...new Set(cover.map((m) => visible(m.tip))));
    }
    if (claim) {
      node = wrap(node, "span", claim.debunked ? "claim debunked" : "claim");
      if (claim.idx >= 0) node.dataset.claim = String(claim.idx);
      tips.unshift(claim.tip);
    }
    if (tips.length) node.setAttribute("title", tips.join("\n"));
    frag.append(node);
  }
  return frag;
}

/** The claim spans of the reader comments: every listed claim of a comment (its index
 * in the Claims panel, whether it restates a known debunk) and every stretch of a comment
 * that restates one without being a listed claim. */
function commentClaims(record, text, map) {
  const info = claimMatches(record, text, map);
  const out = info.claims.map((c, i) => {
    const matches = info.byClaim.get(i) || [];
    return { start: +c.start, end: +c.end, idx: i, debunked: matches.length > 0,
      tip: [`check-worthy claim (${fmt(c.score)})`, ...matches.map(debunkText)].join("\n") };
  });
  for (const d of info.loose) {
    if (d.claim_span && typeof d.claim_span === "object" && fits(text, map, d.claim_span)) {
      out.push({ start: +d.claim_span.start, end: +d.claim_span.end, idx: -1, debunked: true, tip: debunkText(d) });
    }
  }
  return out;
}

function badges(flags) {
  return flags.map((f) => el("span", `flag ${f.kind}`, visible(f.badge)));
}

/** The comments as a thread: in order, indented by depth (capped), flagged ones marked,
 * with a "show flagged only" filter that keeps the ancestors of flagged replies (dimmed). */
function threadSection(record) {
  const text = String(record.text || "");
  const map = offsetMapper(text);
  const claims = commentClaims(record, text, map);
  const comments = record.comments.filter((c) => c && typeof c === "object");
  const byId = new Map(comments.map((c) => [String(c.id), c]));
  const context = new Set();
  for (const c of comments) {
    if (!flagsOf(c).length) continue;
    let parent = c.parent;
    while (parent !== null && parent !== undefined && byId.has(String(parent)) && !context.has(String(parent))) {
      context.add(String(parent));
      parent = byId.get(String(parent)).parent;
    }
  }
  const list = el("ol", "comments");
  for (const c of comments) {
    const flags = flagsOf(c);
    const id = String(c.id);
    const depth = Math.min(Math.max(Math.trunc(num(c.depth)), 0), MAX_INDENT);
    let start = Number(c.start);
    let end = Number(c.end);
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= map.len)) start = end = 0;
    const li = el("li", `comment d-${depth}${flags.length ? " flagged" : context.has(id) ? " context" : ""}`);
    li.dataset.id = id;
    li.dataset.depth = String(depth);
    li.dataset.parent = c.parent === null || c.parent === undefined ? "" : String(c.parent);
    const head = el("div", "c-head", bdi(c.author || "anonymous", "c-author"),
      c.date ? bdi(c.date, "c-date muted") : null, c.language ? el("span", "lang", visible(c.language)) : null,
      ...badges(flags));
    li.append(head, el("div", "c-text", commentBody(text, map, start, end, flags, claims)));
    list.append(li);
  }
  const toggle = el("input");
  toggle.type = "checkbox";
  toggle.className = "flagged-only";
  toggle.addEventListener("change", () => list.classList.toggle("flagged-only", toggle.checked));
  return el("section", "thread", el("h3", null, `Comments (${comments.length})`),
    el("p", "thread-summary", threadSummary(comments)),
    el("label", "thread-filter", toggle, " show flagged only"), list);
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
  const region = articleRegion(record);
  head.append(...badges(flagsOf(record))); // the article's own flags, thread or not: no text
  const ids = (list) => new Set(list.filter((d) => d.id !== null && d.id !== undefined).map((d) => String(d.id)));
  const matched = withComments(record, "debunks");
  const repeated = ids(matched.filter((d) => !("comment" in d)));
  if (repeated.size) {
    head.append(el("span", "flag debunked", `repeats ${repeated.size} known debunk${repeated.size === 1 ? "" : "s"}`));
  }
  const inComments = ids(matched.filter((d) => "comment" in d));
  if (inComments.size) {
    head.append(el("span", "flag debunked in-comment",
      `repeats ${inComments.size} known debunk${inComments.size === 1 ? "" : "s"} in a comment`));
  }
  const textBox = el("div", "doc-text");
  textBox.append(highlighted(record, region));
  left.append(head, textBox);
  if (region) left.append(threadSection(record));

  const panel = el("aside", "panel");
  let focused = null;
  const focus = (li) => {
    focused = focused === li ? null : li;
    view.classList.toggle("focus", Boolean(focused));
    panel.querySelectorAll("li.narr").forEach((x) => x.classList.toggle("on", x === focused));
    textBox.querySelectorAll("mark.ev").forEach((m) => m.classList.toggle("on", Boolean(focused) && m.narratives?.has(focused.narrative)));
  };
  const nClaims = claimMatches(record).claims.length;
  panel.append(el("h3", null, `Claims (${nClaims})`), claimPanel(record, left, region));
  panel.append(el("h3", null, "Narratives"), narrativePanel(record, focus));
  if (record.explanation) panel.append(el("h3", null, "Why"), el("p", "explanation", String(record.explanation)));
  panel.append(el("h3", null, "Entity roles"), entityPanel(record));
  panel.append(el("h3", null, "Persuasion techniques"), techniquePanel(record));
  view.append(left, panel);
  container.append(view);
}
