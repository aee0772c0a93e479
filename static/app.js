/* Dockerfile Graph: the editor page (an ES module; no build step).
 *
 * CodeMirror comes bundled as window.CM from static/vendor. Everything the page draws comes from
 * POST /api/diagram ({graph, svg}); the SVG is the server's sanitised output, parsed with DOMParser
 * and adopted into the page (never via innerHTML of user text). No inline styles or handlers, so
 * the page runs under `script-src 'self'`.
 *
 * This module is the rendering loop (debounce, retries, honest failed state), file input, options,
 * persistence and the window.dfviz hook; the rest is in js/: page.js (elements, state, pan/zoom),
 * editor.js (CodeMirror), diagram.js (SVG, links, tooltip), panels.js (Problems, build args,
 * What ships, find), panzoom.js, state.js (localStorage and #z=), downloads.js, util.js (server
 * config, the SVG id contract), theme.js. share.js uses window.dfviz: getState(),
 * load(text, options), graph, and the "dfviz:rendered" event on document.
 */
import { $, config, formatBytes, ids } from "./js/util.js";
import { boxInSvg, parseViewBox } from "./js/panzoom.js";
import { readFragment, readSaved, save, writeFragment } from "./js/state.js";
import { initDownloads } from "./js/downloads.js";
import { Minimap } from "./js/minimap.js";
import { MAX_BYTES, el, pz, state, toast } from "./js/page.js";
import { createEditor, editorText, setEditorText, view } from "./js/editor.js";
import { makeFocusable, markReachability, moveLegend, onCursor, svgEl } from "./js/diagram.js";
import {
  fillBuildArgs,
  fillContexts,
  fillShips,
  fillStageNames,
  fillTargets,
  showContextError,
  showDiagnostics,
} from "./js/panels.js";
import { isProjectDrop, openProjectDrop } from "./js/project.js";

const MAX_RETRIES = 3;
const minimap = new Minimap($("minimap"), pz);
pz.onChange = (v) => minimap.update(v);

createEditor(el.editor, el.source.value, {
  onChange(text) {
    el.source.value = text;
    state.retries = 0;
    schedule();
  },
  onCursor,
  onEscape: () => el.diagram.focus(),
});
document.addEventListener("dfviz:options", (e) => {
  if (e.detail.render) schedule();
  else persist();
});

// ---------------------------------------------------------------- rendering
function options() {
  const args = {};
  for (const [k, v] of Object.entries(state.buildArgs)) if (v !== "") args[k] = v;
  const out = {
    target: el.target.value || null,
    build_args: args,
    platform: el.platform.value || null,
    view: el.view.value || "stages",
  };
  // only when given: the state (and #z=) of a page without contexts stays as it was
  if (Object.keys(state.buildContexts).length) out.build_contexts = { ...state.buildContexts };
  return out;
}

/** Debounce adapted to the server: a quick render answers quickly, a slow one is not flooded. */
function schedule(delay) {
  clearTimeout(state.timer);
  const wait = delay === undefined ? Math.min(60 + state.lastMs, 600) : delay;
  state.timer = setTimeout(renderNow, wait);
}

function setStatus(text, cls) {
  el.status.textContent = text;
  el.status.className = "status" + (cls ? " " + cls : "");
}

async function renderNow() {
  clearTimeout(state.timer);
  if (state.controller) state.controller.abort();
  const controller = new AbortController();
  state.controller = controller;
  const seq = ++state.seq;
  const text = editorText();
  const file = state.file;
  if (!text.trim()) {
    showEmpty("Type, paste or drop a Dockerfile, or pick an example.");
    showDiagnostics([], null);
    setStatus("");
    return;
  }
  setStatus("Drawing…", "busy");
  const started = performance.now();
  let response, body;
  try {
    response = await fetch("/api/diagram", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ dockerfile: text, ...options() }),
      signal: controller.signal,
    });
    body = await response.json().catch(() => null);
  } catch (err) {
    if (err.name === "AbortError") return;
    if (seq === state.seq) failed({ message: "The server could not be reached.", line: null });
    return;
  }
  if (seq !== state.seq) return; // a newer request superseded this one
  state.controller = null;
  if (!response.ok || !body || !body.graph) {
    const error = (body && body.error) || { message: `The server answered ${response.status}.`, line: null };
    if (response.status === 503) {
      // busy: wait as told, a few times, then stop (4xx are never retried: the same text fails again)
      if (state.retries < MAX_RETRIES) {
        state.retries++;
        const retry = Math.min(Math.max(parseInt(response.headers.get("Retry-After") || "2", 10) || 2, 1), 30);
        error.message += ` Trying again in ${retry} s (${state.retries} of ${MAX_RETRIES}).`;
        schedule(retry * 1000);
      } else {
        error.message += " Gave up after a few tries; edit the text or press a view option to try again.";
      }
    }
    // a named build context the server refused: its message also shows in the contexts menu
    if (response.status === 400 && /context/i.test(error.message)) showContextError(error.message);
    failed(error);
    return;
  }
  state.retries = 0;
  showContextError(null);
  state.contextNames = body.context_names || [];
  state.lastMs = Math.min(performance.now() - started, 1500);
  const graph = body.graph;
  const hasErrors = graph.diagnostics.some((d) => d.severity === "error");
  // Keep this file's last good diagram while its text has an error; another file's never.
  if (hasErrors && state.good && state.drawnFile === file) {
    markStale("Not the current text: it has an error (see Problems); this is the last version that worked.");
    showDiagnostics(graph.diagnostics, null);
    setStatus("Error in the Dockerfile", "bad");
    return;
  }
  showGraph(graph, body.svg);
  state.good = !hasErrors;
  state.drawnFile = file;
  markStale(null);
  showDiagnostics(graph.diagnostics, null);
  setStatus(`${graph.stages.length} stage${graph.stages.length === 1 ? "" : "s"} · ${Math.round(state.lastMs)} ms`);
  persist();
  document.dispatchEvent(new CustomEvent("dfviz:rendered", { detail: { graph } }));
}

/** The text could not be drawn: another file's diagram is cleared, this file's is marked stale. */
function failed(error) {
  if (state.graph && state.drawnFile !== state.file) {
    showEmpty(`No diagram for ${state.fileName || "this text"}: ${error.message}`);
  } else if (state.graph) {
    markStale("Not the current text: it could not be drawn (see Problems); this is the last version that worked.");
  }
  showDiagnostics([], error);
  setStatus("Not drawn", "bad");
}

function markStale(message) {
  el.diagram.classList.toggle("stale", !!message);
  el.ships.classList.toggle("stale", !!message);
  el.stale.hidden = !message;
  el.stale.textContent = message || "";
}

function showEmpty(message) {
  el.diagram.replaceChildren();
  const p = document.createElement("p");
  p.className = "empty";
  p.dataset.testid = "diagram-empty";
  p.textContent = message;
  el.diagram.appendChild(p);
  el.legendBody.replaceChildren();
  state.graph = null;
  state.good = false;
  state.drawnFile = -1;
  pz.clear();
  minimap.clear();
  markStale(null);
  state.contextNames = [];
  fillTargets(null);
  fillShips(null);
}

function showGraph(graph, svgText) {
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== "svg" || doc.querySelector("parsererror")) {
    failed({ message: "The diagram could not be read.", line: null });
    return;
  }
  // Graphviz's <title>s name each edge's ends ("img-0->stage-1"); keep that, then drop the titles
  // (our tooltip replaces them; they would show as native tooltips).
  state.edgeEnds = {};
  for (const g of svg.querySelectorAll("g.edge[id]")) {
    const t = g.querySelector(":scope > title");
    const m = t && /^(.*)->(.*)$/.exec(t.textContent);
    if (m) state.edgeEnds[g.id] = { tail: m[1], head: m[2] };
  }
  for (const t of svg.querySelectorAll("title")) t.remove();
  const fallback = parseViewBox(svg);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.setAttribute("role", "group");
  svg.setAttribute("aria-label", `Build graph: ${graph.stages.length} stages`);
  // Wide transparent strokes under each edge, so a thin line is easy to hover and click.
  for (const path of svg.querySelectorAll("g.edge > path")) {
    const hit = path.cloneNode(false);
    hit.removeAttribute("stroke-dasharray");
    hit.setAttribute("class", "edge-hit");
    hit.setAttribute("stroke", "transparent");
    hit.setAttribute("stroke-width", "12");
    hit.setAttribute("fill", "none");
    path.parentNode.insertBefore(hit, path);
  }
  const root = svg.querySelector("g.graph") || svg.querySelector("g");
  const background = root && root.querySelector(":scope > polygon");
  if (background) background.remove(); // the page has its own background (and theme)
  el.diagram.replaceChildren(document.importNode(svg, true));
  el.diagram.dataset.drawn = String(++state.draws); // drawn by this script (not the server's first picture)
  const live = el.diagram.querySelector("svg");
  moveLegend(live);
  state.graph = graph;
  pz.attach(live, fallback, () => {
    const t = graph.target === null || graph.target === undefined ? graph.stages.length - 1 : graph.target;
    const g = svgEl(ids.stage(t)) || svgEl(ids.stageBox(t));
    return g ? boxInSvg(g) : null;
  });
  minimap.show(live);
  markReachability(graph);
  makeFocusable(graph);
  fillTargets(graph);
  fillBuildArgs(graph);
  fillContexts();
  fillShips(graph);
  fillStageNames(graph);
  onCursor(view.state, false);
}

// ---------------------------------------------------------------- zoom buttons
$("zoom-in").addEventListener("click", () => pz.zoom(1.25));
$("zoom-out").addEventListener("click", () => pz.zoom(0.8));
$("zoom-fit").addEventListener("click", () => {
  pz.userMoved = false;
  pz.fit();
});

// ---------------------------------------------------------------- options
for (const sel of [el.view, el.target, el.platform]) {
  sel.addEventListener("change", () => {
    state.retries = 0;
    schedule(0);
  });
}
el.view.addEventListener("change", () => (pz.userMoved = false));
el.form.addEventListener("submit", (e) => {
  e.preventDefault();
  schedule(0);
});

// ---------------------------------------------------------------- input: file, drop, examples
/** A new Dockerfile: options that belonged to the previous one (target, build args) are reset. */
function loadText(text, name, keepOptions) {
  if (!keepOptions) {
    state.buildArgs = {};
    state.buildContexts = {};
    el.buildArgs.dataset.key = "";
    el.target.value = "";
  }
  setFileName(name || "");
  state.file++;
  state.retries = 0;
  pz.userMoved = false;
  state.good = false;
  setEditorText(text);
  schedule(0);
}

function setFileName(name) {
  state.fileName = name;
  el.fileName.textContent = name;
}

/** Read a dropped or chosen file; refuses what is too large or not text, with a message. */
async function loadFile(file) {
  if (!file) return;
  const refuse = (why) => {
    const message = `${file.name} was not opened: ${why}`;
    showDiagnostics(state.graph ? state.graph.diagnostics : [], { message, line: null });
    toast(message);
  };
  if (file.size > MAX_BYTES) {
    return refuse(`it is ${formatBytes(file.size)}, and a Dockerfile may be at most ${formatBytes(MAX_BYTES)}.`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.subarray(0, 8192).includes(0)) return refuse("it is not a text file (it looks binary).");
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (_) {
    return refuse("it is not UTF-8 text.");
  }
  loadText(text.replace(/^\uFEFF/, ""), file.name);
}

el.fileInput.addEventListener("change", () => {
  loadFile(el.fileInput.files[0]);
  el.fileInput.value = "";
});

let dragDepth = 0;
const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
document.addEventListener("dragenter", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  el.drop.hidden = false;
});
document.addEventListener("dragover", (e) => {
  if (hasFiles(e)) e.preventDefault();
});
document.addEventListener("dragleave", (e) => {
  if (!hasFiles(e)) return;
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) el.drop.hidden = true;
});
document.addEventListener("drop", (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth = 0;
  el.drop.hidden = true;
  if (isProjectDrop(e.dataTransfer)) openProjectDrop(e.dataTransfer);
  else loadFile(e.dataTransfer.files[0]);
});

$("examples-menu").addEventListener("click", async (e) => {
  const a = e.target.closest("a[data-example]");
  if (!a) return;
  e.preventDefault();
  a.closest("details").open = false;
  const response = await fetch(`/examples/${encodeURIComponent(a.dataset.example)}.Dockerfile`);
  if (!response.ok) return failed({ message: "The example could not be loaded.", line: null });
  el.target.value = "";
  loadText(await response.text(), `${a.dataset.example}.Dockerfile`);
  history.replaceState(null, "", `/?example=${encodeURIComponent(a.dataset.example)}`);
});

// close open menus on outside click or Escape
document.addEventListener("click", (e) => {
  for (const d of document.querySelectorAll("details.menu[open]")) if (!d.contains(e.target)) d.open = false;
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") for (const d of document.querySelectorAll("details.menu[open]")) d.open = false;
});


initDownloads({
  fileName: () => state.fileName,
  body: () => ({ dockerfile: editorText(), ...options() }),
  view: () => pz.view,
  toast,
  failed: (message) => failed({ message, line: null }),
});

// ---------------------------------------------------------------- splitter and narrow-screen tabs
function setEditorWidth(pct) {
  pct = Math.min(75, Math.max(20, pct));
  document.documentElement.style.setProperty("--editor-width", `${pct}%`);
  el.splitter.setAttribute("aria-valuenow", String(Math.round(pct)));
}
el.splitter.addEventListener("pointerdown", (e) => {
  el.splitter.setPointerCapture(e.pointerId);
  el.splitter.classList.add("dragging");
  const move = (ev) => setEditorWidth((ev.clientX / window.innerWidth) * 100);
  const up = () => {
    el.splitter.classList.remove("dragging");
    el.splitter.removeEventListener("pointermove", move);
    el.splitter.removeEventListener("pointerup", up);
  };
  el.splitter.addEventListener("pointermove", move);
  el.splitter.addEventListener("pointerup", up);
});
el.splitter.addEventListener("keydown", (e) => {
  const now = +el.splitter.getAttribute("aria-valuenow");
  if (e.key === "ArrowLeft") setEditorWidth(now - 5);
  else if (e.key === "ArrowRight") setEditorWidth(now + 5);
  else return;
  e.preventDefault();
});

function showPane(name) {
  document.body.dataset.pane = name;
  for (const t of ["editor", "diagram"]) $(`tab-${t}`).setAttribute("aria-selected", String(t === name));
  if (name === "editor") view.requestMeasure();
}
$("tab-editor").addEventListener("click", () => showPane("editor"));
$("tab-diagram").addEventListener("click", () => showPane("diagram"));
showPane("diagram");
if (window.matchMedia("(max-width: 900px)").matches) el.legend.open = false;

// ---------------------------------------------------------------- persistence
function persist() {
  const opts = options();
  const saved = { text: editorText(), name: state.fileName, options: opts, onlyTarget: el.onlyTarget.checked };
  save(saved);
  writeFragment({ d: saved.text, o: opts, n: state.fileName }, config.linkMaxChars || 8000);
}

function applyOptions(opts) {
  opts = opts || {};
  state.buildArgs = {};
  state.buildContexts = {};
  el.buildArgs.dataset.key = "";
  el.target.value = "";
  el.view.value = opts.view === "layers" ? "layers" : "stages";
  if (opts.platform) {
    if (![...el.platform.options].some((o) => o.value === opts.platform)) {
      el.platform.appendChild(new Option(opts.platform, opts.platform));
    }
    el.platform.value = opts.platform;
  }
  if (opts.build_args) state.buildArgs = { ...opts.build_args };
  if (opts.build_contexts && typeof opts.build_contexts === "object") state.buildContexts = { ...opts.build_contexts };
  fillContexts();
  if (opts.target) {
    el.target.appendChild(new Option(opts.target, opts.target));
    el.target.value = opts.target;
  }
}

// ---------------------------------------------------------------- the hook for share.js and tests
window.dfviz = {
  /** The Dockerfile and options on screen, in the shape of a POST /api/render body. */
  getState() {
    return { dockerfile: editorText(), ...options() };
  },
  /** Put a Dockerfile (and optionally options) into the editor and draw it. */
  load(text, opts) {
    opts = opts || {};
    applyOptions(opts);
    loadText(text, opts.name || "", true);
  },
  get graph() {
    return state.graph;
  },
  get fileName() {
    return state.fileName;
  },
  editor: view,
  panzoom: pz,
};

// ---------------------------------------------------------------- start
async function start() {
  // Options posted with the no-JS form (and shown by the server) carry over.
  for (const [field, into] of [
    ["build_args", state.buildArgs],
    ["build_contexts", state.buildContexts],
  ]) {
    const posted = document.querySelector(`textarea[name=${field}]`);
    if (!posted || !posted.value.trim()) continue;
    for (const line of posted.value.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) into[line.slice(0, i).trim()] = line.slice(i + 1);
    }
  }
  const params = new URLSearchParams(location.search);
  // A shared file ("Open in editor"): share.js loads it with its options, which draws it once.
  if (el.source.dataset.shared || params.has("s") || params.has("d")) return;
  const initialExample = params.get("example");
  if (initialExample) setFileName(`${initialExample}.Dockerfile`);
  // The URL's own state (#z=…) first, then what this browser had last, unless an example was asked for.
  const fromUrl = await readFragment();
  const saved = fromUrl ? { text: fromUrl.d, name: fromUrl.n || "", options: fromUrl.o } : initialExample ? null : readSaved();
  if (saved && typeof saved.text === "string" && saved.text.trim()) {
    applyOptions(saved.options);
    if (saved.onlyTarget) {
      el.onlyTarget.checked = true;
      el.diagram.classList.add("only-target");
    }
    loadText(saved.text, saved.name || "", true);
    return;
  }
  renderNow();
}
start();
