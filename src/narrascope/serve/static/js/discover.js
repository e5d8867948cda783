// The Discover view (issue 26): the clusters of text no taxonomy label explains, as the
// latest `narrascope discover --db` run stored them: their distinctive terms, exemplar
// sentences (linking to their documents), size and growth (a sparkline of documents per
// day or week), and a form that promotes a cluster to a custom narrative (what `narrascope
// taxonomy add LABEL --from-cluster ID` does). Untrusted text only ever goes in as text.

import { api } from "./api.js";
import { plural } from "./campaigns.js";
import { bdi, el, fmt, visible } from "./docview.js";

const SVG = "http://www.w3.org/2000/svg";
const UNKNOWN = "unknown";
const TOP = 6; // languages or sources listed per cluster

let call = null;

const $ = (id) => document.getElementById(id);

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/** Documents per bucket as bars (undated ones left out: said in the title). */
export function sparkline(growth) {
  const dated = (growth || []).filter((g) => String(g.bucket) !== UNKNOWN);
  const undated = (growth || []).filter((g) => String(g.bucket) === UNKNOWN).reduce((a, g) => a + (Number(g.documents) || 0), 0);
  const W = 160;
  const H = 34;
  const most = Math.max(1, ...dated.map((g) => Number(g.documents) || 0));
  const step = dated.length ? W / dated.length : W;
  const bar = Math.max(1, Math.min(14, step - 1));
  const first = dated.length ? String(dated[0].bucket) : "";
  const last = dated.length ? String(dated[dated.length - 1].bucket) : "";
  const label = dated.length
    ? `Documents per period, ${first} to ${last}${undated ? `; ${undated} undated` : ""}`
    : "No dated documents";
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "sparkline", role: "img", "aria-label": label }, svg("title", {}, label));
  dated.forEach((g, i) => {
    const n = Number(g.documents) || 0;
    const h = Math.max(1, (n / most) * (H - 2));
    const rect = svg("rect", { x: i * step + (step - bar) / 2, y: H - h, width: bar, height: h, class: "spark-bar" }, svg("title", {}, `${String(g.bucket)}: ${n}`));
    chart.append(rect);
  });
  return chart;
}

/** What the run clustered: paragraphs ("passages", the default) or whole documents. */
function unitWord(run) {
  return run && run.params && run.params.unit === "document" ? "document" : "passage";
}

function counted(dict) {
  const entries = Object.entries(dict || {}).sort((a, b) => (Number(b[1]) || 0) - (Number(a[1]) || 0));
  const shown = entries.slice(0, TOP).map(([k, n], i) => [i ? ", " : "", k === UNKNOWN ? el("span", "muted", UNKNOWN) : bdi(k), ` ${Number(n) || 0}`]).flat();
  return [...shown, entries.length > TOP ? ` +${entries.length - TOP}` : ""];
}

function exemplar(ex) {
  const id = String(ex.doc_id ?? "");
  const a = el("a", "muted", bdi(id));
  a.href = `#/doc/${encodeURIComponent(id)}`;
  return el("li", null, el("q", "exemplar", String(ex.text ?? "")), " ", a);
}

function promoteForm(cluster) {
  const form = el("form", "promote");
  form.autocomplete = "off";
  const label = el("input");
  label.name = "label";
  label.required = true;
  label.maxLength = 200;
  label.placeholder = "the narrative's name";
  label.value = (cluster.terms || []).slice(0, 3).join(" ");
  label.setAttribute("aria-label", "Label of the new custom narrative");
  const description = el("input");
  description.name = "description";
  description.maxLength = 2000;
  description.placeholder = "what it claims (optional)";
  description.setAttribute("aria-label", "Description");
  const replace = el("input");
  replace.type = "checkbox";
  replace.name = "replace";
  const replaceBox = el("label", "replace", replace, " replace the custom narrative of that label");
  replaceBox.hidden = true;
  const submit = el("button", null, "Add custom narrative");
  submit.type = "submit";
  const cancel = el("button", null, "Cancel");
  cancel.type = "button";
  const result = el("p", "promote-result");
  result.setAttribute("role", "status");
  form.append(el("label", null, "Label ", label), el("label", null, "Description ", description), replaceBox, submit, cancel, result);
  form.hidden = true;
  cancel.addEventListener("click", () => {
    form.hidden = true;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { label: label.value };
    if (description.value.trim()) body.description = description.value.trim();
    if (!replaceBox.hidden && replace.checked) body.replace = true;
    submit.disabled = true;
    form.classList.add("loading");
    result.className = "promote-result muted";
    result.textContent = "Learning the narrative from the cluster's texts (a few seconds)…";
    try {
      const out = await api(`/api/discover/${encodeURIComponent(String(cluster.id))}/promote`, { method: "POST", json: body });
      const cv = out.cv || {};
      result.className = "promote-result done";
      result.textContent =
        `${out.new ? "Added" : "Replaced"} “${visible(out.reported_as)}” from ${out.examples} texts: cross-validated precision ` +
        `${fmt(cv.precision)}, recall ${fmt(cv.recall)}. Analyses from now on report it (here and with narrascope analyze --db).`;
      const promoted = form.closest(".discovered")?.querySelector(".promoted");
      if (promoted) promoted.replaceChildren("Promoted as ", bdi(out.label));
    } catch (err) {
      result.className = "promote-result error";
      result.textContent = err.message;
      if (err.status === 409) replaceBox.hidden = false;
    } finally {
      submit.disabled = false;
      form.classList.remove("loading");
    }
  });
  return form;
}

function card(c, run) {
  const promoteButton = el("button", "promote-open", "Promote to custom narrative…");
  promoteButton.type = "button";
  const form = promoteForm(c);
  promoteButton.addEventListener("click", () => {
    form.hidden = !form.hidden;
    if (!form.hidden) form.querySelector("input[name=label]").focus();
  });
  const terms = el("div", "chips terms");
  for (const t of c.terms || []) terms.append(el("span", "chip term", String(t)));
  const status = String(c.status || "new");
  const promoted = el("p", "promoted");
  if ((c.promoted || []).length) promoted.append("Promoted as ", ...c.promoted.map((l, i) => [i ? ", " : "", bdi(l)]).flat());
  const seen = c.first_seen ? `${c.first_seen} – ${c.last_seen ?? ""}` : "undated";
  // a run over whole documents clusters one unit per document: "10 documents", not "10
  // documents, 10 passages"
  const unit = unitWord(run);
  const units = unit === "document"
    ? plural(c.size ?? c.documents, "document")
    : `${plural(c.documents, "document")}, ${plural(c.size, unit)}`;
  const box = el(
    "article",
    "card discovered",
    el(
      "div",
      "card-head",
      el("h2", null, bdi(c.id), " ", el("span", "d-label", String(c.label ?? ""))),
      el("span", `d-status ${status === "new" ? "new" : "persisting"}`, status),
      sparkline(c.growth),
    ),
    el("p", "facts", `${units} · ${seen} · confidence ${fmt(c.confidence)}`),
    terms,
    el("ol", "exemplars", ...(c.exemplars || []).map(exemplar)),
    el("p", "muted small", "Languages: ", ...counted(c.languages), " · Sources: ", ...counted(c.sources)),
    promoted,
    el("div", "row", promoteButton),
    form,
  );
  box.dataset.id = String(c.id ?? "");
  return box;
}

/** Show the Discover view: the latest run's clusters, largest first. */
export async function showDiscover() {
  call?.abort();
  const ctl = new AbortController();
  call = ctl;
  const list = $("discover-list");
  const note = $("discover-run");
  list.setAttribute("aria-busy", "true");
  let res;
  try {
    res = await api("/api/discover", { signal: ctl.signal });
  } catch (err) {
    if (err.name === "AbortError") return;
    list.replaceChildren(el("p", "empty", `Discover is not available: ${err.message}`));
    note.textContent = "";
    list.setAttribute("aria-busy", "false");
    return;
  }
  if (ctl.signal.aborted) return;
  const items = Array.isArray(res.items) ? res.items : [];
  if (res.run) {
    note.textContent = `Latest run ${String(res.run.at ?? "").replace("T", " ")}: ${plural(items.length, "cluster")} among ${plural(res.run.units, unitWord(res.run))} no narrative explains with confidence.`;
  } else {
    note.textContent = "";
  }
  if (!items.length) {
    list.replaceChildren(
      el(
        "p",
        "empty",
        res.stored ? "The latest discover run found no cluster. " : "No discover run is stored in this corpus yet. ",
        "Find new stories with ",
        el("code", null, "narrascope discover --db CORPUS.db"),
        " (a command-line job).",
      ),
    );
  } else {
    list.replaceChildren(...items.map((c) => card(c, res.run)));
  }
  list.setAttribute("aria-busy", "false");
}
