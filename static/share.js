/* Dockerfile Graph: share links (an ES module).
 *
 * On the editor page: the Share button (data-testid="share-button") scans the Dockerfile (or, when a
 * project is open, every file of the project: js/project.js) for likely secrets (POST /api/secrets),
 * asks for confirmation or redaction when it finds any, creates a stored link (POST /api/share) and
 * shows, in a dialog with labelled fields and Copy buttons: the stored link, the stateless one when
 * the server made it (up to its LINK_MAX_CHARS), the link's exports (SVG, PNG, JSON, DOT, Mermaid)
 * and the delete token, shown only then, with a "Delete this link" button. It also opens a shared
 * diagram in the editor: /?s=<id> loads GET /api/share/<id>, /?d=<version>/<payload> loads
 * GET /api/link/<version>/<payload>, through window.dfviz.load(text, options) from app.js, or
 * showProject(name, files, options) from js/project.js for a project.
 *
 * On a share page (/s/<id>, /d/1/<payload>): pan/zoom (pinch on touch screens) of the diagram, its
 * Problems (from the link's .json), and the "Copy" buttons of the embed snippets.
 *
 * No inline handlers or styles, no innerHTML of user text: the page runs under script-src 'self'.
 */
import { copyText, span } from "./js/util.js";
import { PanZoom, parseViewBox } from "./js/panzoom.js";

function byTestId(id) {
  return document.querySelector(`[data-testid="${id}"]`);
}

async function postJSON(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.error && data.error.message) || `${res.status} ${res.statusText}`);
  return data;
}

function bindCopyButtons(root, status) {
  root.querySelectorAll("[data-copy-from]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copyFrom);
      if (!field || !field.value) return;
      const ok = await copyText(field.value, field);
      const label = (field.labels && field.labels[0] && field.labels[0].textContent.split("(")[0].trim()) || "Text";
      if (status) status.textContent = ok ? `Copied: ${label}.` : "Select the text and copy it.";
    });
  });
}

// ------------------------------------------------------------------ the share page
function initSharePage() {
  const toast = document.getElementById("share-toast");
  bindCopyButtons(document, null);
  document.querySelectorAll("[data-copy-from]").forEach((button) => {
    button.addEventListener("click", () => {
      if (toast) toast.textContent = "Copied.";
    });
  });
  const box = document.querySelector(".share-svg");
  const svg = box && box.querySelector("svg");
  if (!svg) return;
  document.documentElement.classList.add("js");
  const fallback = parseViewBox(svg);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  // the page has its own background (and theme); the picture's white sheet would show as a box
  const root = svg.querySelector("g.graph") || svg.querySelector("g");
  const sheet = root && root.querySelector(":scope > polygon");
  if (sheet) sheet.remove();
  box.classList.add("pannable");
  const pz = new PanZoom(box);
  pz.attach(svg, fallback);
  box.addEventListener("keydown", (e) => {
    if (pz.key(e)) e.preventDefault();
  });
  const click = (id, fn) => {
    const b = document.getElementById(id);
    if (b) b.addEventListener("click", fn);
  };
  click("share-zoom-in", () => pz.zoom(1.25));
  click("share-zoom-out", () => pz.zoom(0.8));
  click("share-zoom-fit", () => {
    pz.userMoved = false;
    pz.fit();
  });
  loadProblems();
}

async function loadProblems() {
  const list = document.getElementById("share-problems");
  if (!list || !list.dataset.graphUrl) return;
  try {
    const res = await fetch(list.dataset.graphUrl, { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    const graph = await res.json();
    const rank = { error: 0, warning: 1, info: 2 };
    // a project's JSON: its own diagnostics (with their path) and those of each Dockerfile's graph
    const all = graph.files
      ? (graph.diagnostics || []).concat(
          ...graph.files.filter((f) => f.graph).map((f) => f.graph.diagnostics.map((d) => ({ ...d, path: f.path }))),
        )
      : graph.diagnostics || [];
    const items = all
      .filter((d) => d.severity !== "info")
      .sort((a, b) => rank[a.severity] - rank[b.severity] || (a.line || 0) - (b.line || 0));
    list.replaceChildren();
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "diag diag-none";
      li.textContent = "No problems found.";
      list.appendChild(li);
    }
    for (const d of items) {
      const li = document.createElement("li");
      li.className = `diag diag-${d.severity}`;
      li.append(span("diag-sev", d.severity));
      if (d.path) li.append(span("diag-line", d.path));
      if (d.line) li.append(span("diag-line", `line ${d.line}`));
      li.append(span("diag-msg", d.message));
      list.appendChild(li);
    }
  } catch (_) {
    list.replaceChildren(span("share-note", "The problems could not be loaded."));
  }
}

// ------------------------------------------------------------------ the editor page
function currentState() {
  return window.dfviz.getState();
}

const dialog = () => document.getElementById("share-dialog");

const FORMATS = [
  ["svg", "SVG"],
  ["png", "PNG"],
  ["json", "JSON"],
  ["dot", "DOT"],
  ["mmd", "Mermaid"],
  ["txt", "Dockerfile"],
];

function showLinks(result, project) {
  const origin = window.location.origin;
  const d = dialog();
  const what = project ? "project" : "Dockerfile";
  d.querySelector("#h-share").textContent = project ? "Share this project" : "Share this diagram";
  d.querySelector("#share-error").hidden = true;
  d.querySelector("#share-fields").hidden = false;
  document.getElementById("share-url").value = origin + result.url;
  document.getElementById("share-token").value = result.delete_token;
  const del = document.getElementById("share-delete");
  del.hidden = false;
  del.disabled = false;
  del.dataset.url = result.delete_url;
  del.dataset.token = result.delete_token;
  const row = document.getElementById("share-stateless-row");
  const note = document.getElementById("share-stateless-note");
  document.getElementById("share-stateless-label").textContent = `Link with the ${what} inside (nothing stored)`;
  if (result.stateless_url) {
    row.hidden = false;
    note.hidden = true;
    document.getElementById("share-stateless-url").value = origin + result.stateless_url;
  } else {
    row.hidden = true;
    note.hidden = false;
    document.getElementById("share-stateless-url").value = "";
    note.textContent = `No link with the ${what} inside: it would be too long for a link. Use the stored link.`;
  }
  // every export of the stored link (a project has no .txt: it is several files)
  const formats = document.getElementById("share-formats");
  formats.replaceChildren(
    ...FORMATS.filter(([ext]) => !project || ext !== "txt").map(([ext, label]) => {
      const a = document.createElement("a");
      a.className = "btn";
      a.href = `${result.url}.${ext}`;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = label;
      a.dataset.testid = `share-format-${ext}`;
      return a;
    }),
  );
  const status = document.getElementById("share-copied");
  status.textContent = "";
  if (!d.open) d.showModal();
  const field = document.getElementById("share-url");
  field.focus();
  field.select();
  copyText(field.value, null).then((ok) => {
    if (ok) status.textContent = "Copied: Link.";
  });
}

function showError(message) {
  const d = dialog();
  const error = d.querySelector("#share-error");
  error.hidden = false;
  error.textContent = message;
  d.querySelector("#share-fields").hidden = true;
  document.getElementById("share-url").value = "";
  document.getElementById("share-delete").hidden = true;
  if (!d.open) d.showModal();
}

async function deleteShare(button) {
  const status = document.getElementById("share-copied");
  button.disabled = true;
  try {
    const res = await fetch(button.dataset.url, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${button.dataset.token}` },
    });
    if (res.status !== 204) {
      const data = await res.json().catch(() => null);
      throw new Error((data && data.error && data.error.message) || `${res.status}`);
    }
    status.textContent = "Deleted: the stored link no longer works.";
    document.getElementById("share-url").value = "";
    document.getElementById("share-token").value = "";
  } catch (e) {
    status.textContent = `Could not delete: ${e.message}`;
    button.disabled = false;
  }
}

/** Ask about likely secrets; resolves to what to share (the original or the redacted text, or
 * files of a project), or null when the user cancels. */
function confirmSecrets(findings, original, redacted, what = "Dockerfile") {
  return new Promise((resolve) => {
    const box = document.createElement("dialog");
    box.className = "dialog share-dialog";
    box.dataset.testid = "secrets-dialog";
    box.setAttribute("aria-label", `This ${what} may contain secrets`);
    const title = document.createElement("h2");
    title.textContent = `This ${what} may contain secrets`;
    const intro = document.createElement("p");
    intro.textContent =
      what === "project" ? "Anyone with the link will see every file of the project. Found:" : "Anyone with the link will see the whole Dockerfile. Found:";
    const list = document.createElement("ul");
    for (const f of findings.slice(0, 20)) {
      const item = document.createElement("li");
      item.textContent = `${f.path ? `${f.path}, ` : ""}line ${f.line}: ${f.message}`;
      list.appendChild(item);
    }
    if (findings.length > 20) {
      const more = document.createElement("li");
      more.textContent = `and ${findings.length - 20} more`;
      list.appendChild(more);
    }
    const actions = document.createElement("div");
    actions.className = "dialog-actions";
    const make = (label, testid, cls, value) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = label;
      b.dataset.testid = testid;
      b.addEventListener("click", () => {
        box.close();
        box.remove();
        resolve(value);
      });
      actions.appendChild(b);
      return b;
    };
    make("Cancel", "secrets-cancel", "btn", null);
    make("Share anyway", "secrets-share-anyway", "btn", original);
    const redact = make("Redact and share", "secrets-redact", "btn btn-primary", redacted);
    box.addEventListener("cancel", () => {
      box.remove();
      resolve(null);
    });
    box.append(title, intro, list, actions);
    document.body.appendChild(box);
    box.showModal();
    redact.focus();
  });
}

/** The open Dockerfile as a share body, after the secrets check; null when the user cancels. */
async function checkedDockerfile() {
  const state = currentState();
  const scan = await postJSON("/api/secrets", { dockerfile: state.dockerfile });
  if (scan.findings && scan.findings.length) {
    const text = await confirmSecrets(scan.findings, state.dockerfile, scan.redacted);
    if (text === null) return null;
    if (text !== state.dockerfile) window.dfviz.load(text, { ...state, dockerfile: undefined, name: window.dfviz.fileName });
    state.dockerfile = text;
  }
  return state;
}

/** The open project as a share body, after the secrets check of every file; null when cancelled. */
async function checkedProject(projects, body) {
  const scan = await postJSON("/api/secrets", { files: body.files });
  if (!scan.findings.length) return body;
  const files = await confirmSecrets(scan.findings, body.files, scan.redacted, "project");
  if (files === null) return null;
  if (files !== body.files) projects.replaceFiles(files);
  return { ...body, files };
}

async function share(button) {
  button.disabled = true;
  try {
    const projects = await import("./js/project.js");
    const project = projects.currentProject();
    const body = project ? await checkedProject(projects, project) : await checkedDockerfile();
    if (body === null) return;
    const result = await postJSON("/api/share", body);
    showLinks(result, Boolean(project));
    button.dataset.shared = result.id;
  } catch (e) {
    showError(`Could not share: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}

/** /?s=<id> or /?d=<version>/<payload>: load the shared Dockerfile and options into the editor,
 * or a shared project into the page. */
async function openShared() {
  const params = new URLSearchParams(window.location.search);
  const id = params.get("s");
  const link = params.get("d");
  let url = null;
  if (id && /^[A-Za-z0-9_-]{16,64}$/.test(id)) url = `/api/share/${id}`;
  else if (link && /^p?[0-9]{1,4}\/[A-Za-z0-9_-]+$/.test(link)) url = `/api/link/${link}`;
  if (!url) return;
  try {
    const res = await fetch(url, { headers: { Accept: "application/json" } });
    const data = await res.json();
    if (!res.ok) throw new Error((data && data.error && data.error.message) || res.statusText);
    if (data.files) {
      const projects = await import("./js/project.js");
      await projects.showProject("shared project", data.files, data.options || {});
    } else {
      window.dfviz.load(data.dockerfile, { ...(data.options || {}), name: "shared.Dockerfile" });
    }
  } catch (e) {
    showError(`Could not open the shared diagram: ${e.message}`);
  }
}

function initEditor(button) {
  button.addEventListener("click", () => share(button));
  const d = dialog();
  bindCopyButtons(d, document.getElementById("share-copied"));
  for (const f of d.querySelectorAll("input[readonly]")) f.addEventListener("focus", () => f.select());
  document.getElementById("share-close").addEventListener("click", () => d.close());
  document.getElementById("share-delete").addEventListener("click", (e) => deleteShare(e.currentTarget));
  openShared();
}

const button = byTestId("share-button");
if (button && window.dfviz) initEditor(button);
else initSharePage();
