// Background jobs (uploads of many files/documents): a progress card per job, polling
// GET /api/jobs/{id} until it is done or failed. The ids are kept in localStorage so the
// progress (and, until dismissed, the result and per-file errors) shows again after a reload.
// An error the server answers a poll with (401/403, 5xx) is shown on the card: a 5xx is
// asked again less and less often, any other error stops the polling; only a network
// failure (no answer at all) is retried without a word.
// A running job shows the pipeline stage its batch is in and can be cancelled; a job the
// server stopped (cancel, restart) is "resumable" and can be resumed: the server keeps its
// record and inputs, so "no longer knows this job" is only said on a 404 for the job itself.

import { api, ApiError } from "./api.js";
import { bdi, el } from "./docview.js";

const KEY = "narrascope.jobs";
const POLL_MS = 600;
const SHOWN_IDS = 5;

const ACTIVE = ["queued", "running"];
const NO_RECORD = "the server no longer knows this job (restarted?)";

const cards = new Map(); // id -> {card, timer, label, busy, note, job, gen}
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
  cards.set(id, { card, timer: null, label, busy: null, note: null, job: null, gen: 0, failures: 0 });
  box.prepend(card);
  box.hidden = false;
  if (job) update(id, job);
  poll(id);
}

async function poll(id) {
  const c = cards.get(id);
  if (!c) return;
  clearTimeout(c.timer);
  c.timer = null;
  const gen = ++c.gen; // a newer poll (after a cancel or resume) supersedes this one
  try {
    const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
    if (cards.get(id) !== c || gen !== c.gen) return; // dismissed or superseded meanwhile
    c.failures = 0;
    if (c.note && c.note.poll) c.note = null; // the server answers again
    update(id, job);
    if (ACTIVE.includes(job.state)) {
      c.timer = setTimeout(() => poll(id), POLL_MS);
      document.dispatchEvent(new CustomEvent("narrascope:job-progress", { detail: job }));
    } else document.dispatchEvent(new CustomEvent("narrascope:job-finished", { detail: job }));
  } catch (err) {
    if (cards.get(id) !== c || gen !== c.gen) return;
    if (isUnknown(err)) unknown(id);
    else if (!(err instanceof ApiError)) c.timer = setTimeout(() => poll(id), POLL_MS * 4); // unreachable: keep trying
    else {
      // the server answered with an error (401/403: no or a wrong token; 5xx: it failed):
      // say so on the card; a server error may pass, so ask again less and less often, an
      // auth or other client error will not, so stop (a reload asks again)
      const retry = err.status >= 500;
      c.failures = (c.failures || 0) + 1;
      const again = retry ? "; trying again" : "; reload the page to try again";
      const why = err.message === `HTTP ${err.status}` ? err.message : `${err.message} (HTTP ${err.status})`;
      c.note = { text: `Could not get the job's progress: ${why}${again}`, poll: true };
      update(id, c.job || { id, state: "queued", total: 0, done: 0, failed: 0 });
      if (retry) c.timer = setTimeout(() => poll(id), Math.min(POLL_MS * 4 * 2 ** (c.failures - 1), POLL_MS * 50));
    }
  }
}

/** A 404 from a job's own endpoint: the server has no record of it (not a stopped job). */
function isUnknown(err) {
  return err instanceof ApiError && err.status === 404;
}

function unknown(id) {
  const c = cards.get(id);
  c.busy = null;
  update(id, { id, state: "failed", total: 0, done: 0, failed: 0, resumable: false, errors: [{ source: "", reason: NO_RECORD }] });
}

/** Cancel or resume (`action`) a job; the card follows the server's answer, then polls. */
async function steer(id, action) {
  const c = cards.get(id);
  if (!c || c.busy) return;
  c.busy = action;
  c.note = null;
  c.gen++; // a poll in flight would show the job as it was before this
  clearTimeout(c.timer);
  if (c.job) update(id, c.job);
  try {
    const job = await api(`/api/jobs/${encodeURIComponent(id)}/${action}`, { method: "POST" });
    if (!cards.has(id)) return;
    if (action === "resume") c.busy = null; // back to queued/running: an ordinary job again
    update(id, job);
  } catch (err) {
    if (!cards.has(id)) return;
    c.busy = null;
    if (isUnknown(err)) return unknown(id);
    // 409: it ended (or was resumed elsewhere) meanwhile; say why until the poll shows it
    c.note = { text: `Could not ${action} the job: ${err.message}`, state: c.job && c.job.state };
    if (c.job) update(id, c.job);
  }
  poll(id);
}

function button(cls, text, title, onClick) {
  const b = el("button", cls, text);
  b.type = "button";
  b.title = title;
  b.addEventListener("click", onClick);
  return b;
}

function update(id, job) {
  const c = cards.get(id);
  if (!c) return;
  c.job = job;
  const state = ["queued", "running", "done", "failed"].includes(job.state) ? job.state : "running";
  const active = ACTIVE.includes(state);
  const resumable = state === "failed" && job.resumable === true;
  if (!active && c.busy === "cancel") c.busy = null; // the cancel took effect
  // it has moved on: the note is old (a note on polling stays until a poll succeeds)
  if (c.note && !c.note.poll && c.note.state !== state) c.note = null;
  const total = Number(job.total) || 0;
  const done = Number(job.done) || 0;
  const errors = Array.isArray(job.errors) ? job.errors : [];
  // errors with source "job" (cancelled, server stopped) are about the job, not a document,
  // and the server does not count them in `failed`
  const failed = Math.max(Number(job.failed) || 0, 0);
  const fraction = active
    ? Math.min(Math.max(Number(job.progress) || 0, 0), 1)
    : Math.min((done + failed) / Math.max(total, 1), 1);
  const cancelled = errors.some((e) => e && e.source === "job" && /\bcancelled\b/.test(String(e.reason)));
  const card = c.card;
  card.className = `job state-${state}${resumable ? " resumable" : ""}`;
  let label = state;
  if (c.busy === "cancel") label = "cancelling…";
  else if (c.busy === "resume") label = "resuming…";
  else if (resumable) label = cancelled ? "cancelled · resumable" : "stopped · resumable";
  // "entities · 12 / 40 documents" while running; what was analysed once it has ended
  const count = [`${done + failed} / ${total || "?"} documents`];
  if (state === "running" && typeof job.stage === "string" && job.stage) count.unshift(job.stage);
  if (!active) count.push(`${done} analysed`);
  if (failed) count.push(`${failed} failed`);
  const head = el("div", "job-head", el("span", "job-title", bdi(c.label || `Job ${id}`)), el("span", "state", label),
    el("span", "job-count", count.join(" · ")));
  if (active) {
    const cancel = button("job-cancel", "Cancel", "Stop the job after the stage in flight (what it stored stays)", () => steer(id, "cancel"));
    cancel.disabled = c.busy !== null;
    head.append(cancel);
  }
  if (resumable) {
    const resume = button("job-resume", "Resume", "Analyse the rest (documents already stored are skipped)", () => steer(id, "resume"));
    resume.disabled = c.busy !== null;
    head.append(resume);
  }
  if (!active) head.append(button("dismiss", "×", "Dismiss", () => forget(id)));
  const progress = el("progress");
  progress.max = 1;
  progress.value = state === "done" ? 1 : fraction;
  progress.title = `${Math.round(progress.value * 100)} %`;
  card.replaceChildren(head, progress);
  if (c.note) card.append(el("p", "job-note", c.note.text));
  if (errors.length) {
    const ul = el("ul", "errors");
    for (const e of errors.slice(0, 50)) {
      ul.append(el("li", null, e && e.source ? bdi(e.source) : "", e && e.source ? ": " : "", String((e && e.reason) ?? e)));
    }
    if (errors.length > 50) ul.append(el("li", null, `… ${errors.length - 50} more`));
    card.append(ul);
  }
  const ids = Array.isArray(job.document_ids) ? job.document_ids : [];
  if (!active && ids.length) { // a stopped job's documents stay stored too
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
