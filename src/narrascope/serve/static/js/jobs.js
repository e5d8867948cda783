// Background jobs (uploads of many files/documents): a progress card per job, polling
// GET /api/jobs/{id} until it is done or failed. The ids are kept in localStorage so the
// progress (and, until dismissed, the result and per-file errors) shows again after a reload.

import { api, ApiError } from "./api.js";
import { bdi, el } from "./docview.js";

const KEY = "narrascope.jobs";
const POLL_MS = 600;
const SHOWN_IDS = 5;

const cards = new Map(); // id -> {card, timer}
let box = null;

function stored() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(v) ? v.filter((j) => j && typeof j.id === "string") : [];
  } catch {
    return [];
  }
}

function store(list) {
  localStorage.setItem(KEY, JSON.stringify(list));
}

function forget(id) {
  store(stored().filter((j) => j.id !== id));
  const c = cards.get(id);
  if (c) {
    clearTimeout(c.timer);
    c.card.remove();
    cards.delete(id);
  }
  box.hidden = cards.size === 0;
}

/** Start showing (and remembering) a job the server accepted. */
export function track(job, label) {
  if (!job || typeof job.id !== "string") return;
  const list = stored().filter((j) => j.id !== job.id);
  list.push({ id: job.id, label: label || "", created: job.created || new Date().toISOString() });
  store(list);
  show(job.id, label, job);
}

function show(id, label, job) {
  if (cards.has(id)) return;
  const card = el("div", "job state-queued");
  card.dataset.jobId = id;
  cards.set(id, { card, timer: null, label });
  box.prepend(card);
  box.hidden = false;
  if (job) update(id, job);
  poll(id);
}

async function poll(id) {
  const c = cards.get(id);
  if (!c) return;
  try {
    const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
    update(id, job);
    if (job.state === "queued" || job.state === "running") {
      c.timer = setTimeout(() => poll(id), POLL_MS);
      document.dispatchEvent(new CustomEvent("narrascope:job-progress", { detail: job }));
    } else document.dispatchEvent(new CustomEvent("narrascope:job-finished", { detail: job }));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      update(id, { id, state: "failed", total: 0, done: 0, failed: 0, errors: [{ source: "", reason: "the server no longer knows this job (restarted?)" }] });
    } else {
      c.timer = setTimeout(() => poll(id), POLL_MS * 4); // server unreachable: keep trying
    }
  }
}

function update(id, job) {
  const c = cards.get(id);
  if (!c) return;
  const state = ["queued", "running", "done", "failed"].includes(job.state) ? job.state : "running";
  const total = Number(job.total) || 0;
  const done = Number(job.done) || 0;
  const failed = Number(job.failed) || 0;
  const card = c.card;
  card.className = `job state-${state}`;
  const dismiss = el("button", "dismiss", "×");
  dismiss.type = "button";
  dismiss.title = "Dismiss";
  dismiss.addEventListener("click", () => forget(id));
  const head = el("div", "job-head", el("span", "job-title", bdi(c.label || `Job ${id}`)), el("span", "state", state),
    el("span", "job-count", `${done + failed} / ${total || "?"} · ${done} analysed${failed ? ` · ${failed} failed` : ""}`));
  if (state === "done" || state === "failed") head.append(dismiss);
  const progress = el("progress");
  progress.max = Math.max(total, 1);
  progress.value = state === "done" ? progress.max : Math.min(done + failed, progress.max);
  card.replaceChildren(head, progress);
  const errors = Array.isArray(job.errors) ? job.errors : [];
  if (errors.length) {
    const ul = el("ul", "errors");
    for (const e of errors.slice(0, 50)) {
      ul.append(el("li", null, e && e.source ? bdi(e.source) : "", e && e.source ? ": " : "", String((e && e.reason) ?? e)));
    }
    if (errors.length > 50) ul.append(el("li", null, `… ${errors.length - 50} more`));
    card.append(ul);
  }
  const ids = Array.isArray(job.document_ids) ? job.document_ids : [];
  if (state === "done" && ids.length) {
    const p = el("p", "muted", "Stored: ");
    ids.slice(0, SHOWN_IDS).forEach((docId, i) => {
      const a = el("a", null, bdi(docId));
      a.href = `#/doc/${encodeURIComponent(String(docId))}`;
      p.append(i ? ", " : "", a);
    });
    if (ids.length > SHOWN_IDS) {
      const a = el("a", null, `${ids.length - SHOWN_IDS} more in the dashboard`);
      a.href = "#/dashboard";
      p.append(" … ", a);
    }
    card.append(p);
  }
}

/** Show the jobs remembered from before the reload and resume polling them. */
export function init(container) {
  box = container;
  for (const j of stored()) show(j.id, j.label);
  box.hidden = cards.size === 0;
  // jobs still running that another tab or an API client started: shown (and kept) too
  api("/api/jobs")
    .then((res) => {
      for (const job of (res && res.jobs) || []) {
        if ((job.state === "queued" || job.state === "running") && !cards.has(job.id)) track(job, `Job ${job.id}`);
      }
    })
    .catch(() => {});
}
