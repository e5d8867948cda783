// Narrascope workspace: hash routing (#/analyze, #/dashboard, #/campaigns, #/discover,
// #/doc/<id>), the analyse view (paste or upload) and the document view. No framework, no
// network beyond /api.

import { api } from "./api.js";
import { showCampaigns } from "./campaigns.js";
import { preload, showDashboard } from "./dashboard.js";
import { showDiscover } from "./discover.js";
import { bdi, el, renderDocument, visible } from "./docview.js";
import * as jobs from "./jobs.js";

const $ = (id) => document.getElementById(id);
// The example of the home page: written for it, a short op-ed in the style the tool is for.
export const EXAMPLE = [
  "Opinion: The West has started this war and now wants us to pay for it.",
  "Every month Brussels announces new sanctions, and every month our heating bills double while " +
    "the elites in Washington sell us their expensive gas. The government in Kyiv simply follows " +
    "orders from abroad; it sends young men to die so that foreign weapons makers can profit.",
  "Meanwhile our brave soldiers liberate one village after another and the people greet them as " +
    "heroes. Enough is enough: stop sending weapons, stop the sanctions, and demand peace now!",
].join("\n\n");
let navigations = 0;

function status(message, kind = "error") {
  const s = $("status");
  if (!message) {
    s.hidden = true;
    return;
  }
  s.className = kind === "info" ? "status info" : "status";
  s.textContent = message;
  s.hidden = false;
}

function showView(name) {
  for (const v of ["analyze", "dashboard", "campaigns", "discover", "doc"]) $(`view-${v}`).hidden = v !== name;
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.dataset.route === name);
}

async function route() {
  navigations += 1;
  status(null);
  const hash = location.hash || "#/analyze";
  const [path, qs = ""] = hash.slice(1).split("?", 2);
  if (path.startsWith("/doc/")) {
    showView("doc");
    let id;
    try {
      id = decodeURIComponent(path.slice(5));
    } catch {
      id = path.slice(5);
    }
    await showDocument(id);
  } else if (path === "/dashboard") {
    showView("dashboard");
    document.title = "Dashboard · Narrascope";
    await showDashboard(new URLSearchParams(qs));
  } else if (path === "/campaigns") {
    showView("campaigns");
    document.title = "Campaigns · Narrascope";
    await showCampaigns(new URLSearchParams(qs));
  } else if (path === "/discover") {
    showView("discover");
    document.title = "Discover · Narrascope";
    await showDiscover();
  } else {
    showView("analyze");
    document.title = "Analyse · Narrascope";
  }
}

async function showDocument(id) {
  const box = $("doc-result");
  box.replaceChildren(el("p", "muted", "Loading…"));
  document.title = `${visible(id)} · Narrascope`;
  try {
    const record = await api(`/api/documents/${encodeURIComponent(id)}`);
    renderDocument(box, record);
  } catch (err) {
    box.replaceChildren(err.status === 404
      ? el("p", "empty", "No document “", bdi(id), "” in the corpus.")
      : el("p", "empty", `Error: ${err.message}`));
  }
}

async function analyze(event) {
  event.preventDefault();
  const text = $("analyze-text").value;
  if (!text.trim()) {
    status("Paste a text first.");
    return;
  }
  const body = { text, store: $("analyze-store").checked };
  const id = $("analyze-id").value.trim();
  if (id) body.id = id;
  const language = $("analyze-language").value;
  if (language) body.language = language;
  const button = $("analyze-submit");
  button.disabled = true;
  status("Analysing…", "info");
  const box = $("analyze-result");
  box.classList.add("loading");
  try {
    const record = await api("/api/analyze", { method: "POST", json: body });
    status(null);
    renderDocument(box, record);
    if (body.store && record.id) {
      const a = el("a", null, "open it from the corpus");
      a.href = `#/doc/${encodeURIComponent(String(record.id))}`;
      box.prepend(el("p", "muted", "Stored in the corpus: ", a));
      preload();
    }
  } catch (err) {
    status(`Analysis failed: ${err.message}`);
  } finally {
    button.disabled = false;
    box.classList.remove("loading");
  }
}

async function upload() {
  const input = $("upload-files");
  const files = [...input.files];
  if (!files.length) return;
  try {
    // one file or many, plain text included: the server reads them (it detects the encoding:
    // cp1251, UTF-16…), stores each under its own file name and analyses them in a job. The
    // paste box and its Id field are not involved, so no file takes another's id.
    const form = new FormData();
    for (const f of files) form.append("files", f, f.name);
    status(`Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`, "info");
    const res = await api("/api/documents/upload", { method: "POST", body: form });
    status(null);
    const label = files.length === 1 ? `Upload of ${files[0].name}` : `Upload of ${files.length} files`;
    jobs.track(res.job, label);
  } catch (err) {
    status(`Upload failed: ${err.message}`);
  } finally {
    input.value = "";
  }
}

function start() {
  // opened as /?token=T: the server has set its cookie; keep the token out of the address bar
  if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", location.pathname + location.hash);
  $("analyze-form").addEventListener("submit", analyze);
  $("upload-files").addEventListener("change", upload);
  $("analyze-example").addEventListener("click", () => {
    $("analyze-text").value = EXAMPLE;
    $("analyze-id").value = "example";
    $("analyze-language").value = "";
    $("analyze-store").checked = false;
    $("analyze-form").requestSubmit();
  });
  $("doc-back").addEventListener("click", (e) => {
    if (navigations > 1) {
      e.preventDefault();
      history.back();
    }
  });
  jobs.init($("jobs"));
  window.addEventListener("hashchange", () => route().catch((err) => status(String(err))));
  preload().finally(() => route().catch((err) => status(String(err))));
}

start();
