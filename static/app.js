/* Dockerfile Graph: the editor page (an ES module; no build step).
 *
 * CodeMirror comes bundled as window.CM from static/vendor. Everything the page draws comes from
 * POST /api/diagram ({graph, svg}); the SVG is the server's sanitised output, parsed with DOMParser
 * and adopted into the page (never via innerHTML of user text). No inline styles or handlers, so
 * the page runs under `script-src 'self'`.
 *
 * Modules: js/util.js (config from the server, the SVG id contract, helpers), js/panzoom.js (view
 * box pan/zoom and pinch), js/state.js (local storage and the #z= URL state), js/downloads.js
 * (exports), js/theme.js. share.js uses window.dfviz: getState(), load(text, options), graph, and
 * the "dfviz:rendered" event on document.
 */
import { $, config, formatBytes, ids, span } from "./js/util.js";
import { PanZoom, boxInSvg, parseViewBox } from "./js/panzoom.js";
import { readFragment, readSaved, save, writeFragment } from "./js/state.js";
import { initDownloads } from "./js/downloads.js";

const MAX_BYTES = config.maxInputBytes || 1024 * 1024;
const MAX_RETRIES = 3;
const el = {
  form: $("workspace"),
  source: $("source"),
  editor: $("editor"),
  fileInput: $("file-input"),
  fileName: $("file-name"),
  cursorPos: $("cursor-pos"),
  diagram: $("diagram"),
  stale: $("stale-banner"),
  status: $("status"),
  diagList: $("diag-list"),
  diagCount: $("diag-count"),
  view: $("view-select"),
  target: $("target-select"),
  platform: $("platform-select"),
  buildArgs: $("build-args"),
  buildArgsCount: $("build-args-count"),
  ships: $("ships"),
  shipsBody: $("ships-body"),
  tooltip: $("tooltip"),
  drop: $("drop-overlay"),
  toast: $("toast"),
  splitter: $("splitter"),
  legend: $("legend"),
  legendBody: $("legend-body"),
  search: $("stage-search"),
  stageNames: $("stage-names"),
  onlyTarget: $("only-target"),
};

const state = {
  graph: null, // graph JSON of the diagram on screen
  good: false, // the diagram on screen came from text without errors
  buildArgs: {}, // name -> value typed by the user (kept while the ARG comes and goes)
  fileName: el.fileName.textContent.trim(),
  file: 0, // bumped for each new file; drawnFile is the file the diagram on screen belongs to
  drawnFile: -1,
  controller: null, // AbortController of the request in flight
  seq: 0,
  timer: 0,
  lastMs: 120, // time of the last render, for the adaptive debounce
  retries: 0,
  edgeEnds: {}, // edge id -> {tail, head} node ids (from Graphviz's titles)
  currentStage: null,
};

const pz = new PanZoom(el.diagram);

// ---------------------------------------------------------------- the editor (CodeMirror 6)
const CM = window.CM;
const setLinked = CM.StateEffect.define();
const setDiagLines = CM.StateEffect.define();

function lineDecorations(view, ranges) {
  // ranges: [{from: line, to: line, cls}], lines 1-based inclusive
  const doc = view.state.doc;
  const marks = [];
  for (const r of ranges) {
    const from = Math.max(1, r.from);
    const to = Math.min(doc.lines, r.to);
    for (let n = from; n <= to; n++) marks.push({ pos: doc.line(n).from, cls: r.cls });
  }
  marks.sort((a, b) => a.pos - b.pos);
  const builder = new CM.RangeSetBuilder();
  for (const m of marks) builder.add(m.pos, m.pos, CM.Decoration.line({ class: m.cls }));
  return builder.finish();
}

function lineField(effect) {
  return CM.StateField.define({
    create: () => CM.Decoration.none,
    update(deco, tr) {
      for (const e of tr.effects) if (e.is(effect)) return e.value;
      return tr.docChanged ? deco.map(tr.changes) : deco;
    },
    provide: (f) => CM.EditorView.decorations.from(f),
  });
}
const linkedField = lineField(setLinked);
const diagField = lineField(setDiagLines);

const highlight = CM.HighlightStyle.define([
  { tag: CM.tags.keyword, class: "tok-kw" },
  { tag: CM.tags.comment, class: "tok-comment" },
  { tag: CM.tags.string, class: "tok-string" },
  { tag: CM.tags.number, class: "tok-number" },
  { tag: CM.tags.variableName, class: "tok-var" },
  { tag: CM.tags.invalid, class: "tok-invalid" },
]);

const view = new CM.EditorView({
  parent: el.editor,
  state: CM.EditorState.create({
    doc: el.source.value,
    extensions: [
      CM.keymap.of([
        {
          key: "Escape",
          run: () => {
            el.diagram.focus();
            return true;
          },
        },
      ]),
      CM.lineNumbers(),
      CM.highlightActiveLineGutter(),
      CM.highlightSpecialChars(),
      CM.history(),
      CM.drawSelection(),
      CM.highlightActiveLine(),
      CM.EditorView.lineWrapping,
      CM.highlightSelectionMatches(),
      CM.bracketMatching(),
      CM.StreamLanguage.define(CM.dockerFile),
      CM.syntaxHighlighting(highlight),
      CM.keymap.of([...CM.defaultKeymap, ...CM.historyKeymap, ...CM.searchKeymap, CM.indentWithTab]),
      CM.EditorView.contentAttributes.of({ "aria-label": "Dockerfile editor (Esc leaves it)", spellcheck: "false" }),
      linkedField,
      diagField,
      CM.EditorView.updateListener.of((u) => {
        if (u.docChanged) {
          el.source.value = u.state.doc.toString();
          state.retries = 0;
          schedule();
        }
        if (u.selectionSet || u.docChanged) onCursor(u.state, u.view.hasFocus);
      }),
    ],
  }),
});

function editorText() {
  return view.state.doc.toString();
}

function setEditorText(text) {
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: text },
    selection: { anchor: 0 },
    effects: [setLinked.of(CM.Decoration.none), setDiagLines.of(CM.Decoration.none)],
    scrollIntoView: true,
  });
}

function currentLine(st) {
  return st.doc.lineAt(st.selection.main.head).number;
}

/** Select and highlight lines from..to (1-based, inclusive) and scroll them into view. */
function revealLines(from, to, focus) {
  const doc = view.state.doc;
  from = Math.max(1, Math.min(from, doc.lines));
  to = Math.max(from, Math.min(to || from, doc.lines));
  const start = doc.line(from).from;
  view.dispatch({
    selection: { anchor: start },
    effects: [
      setLinked.of(lineDecorations(view, [{ from, to, cls: "cm-linked-line" }])),
      CM.EditorView.scrollIntoView(start, { y: "start", yMargin: 40 }),
    ],
  });
  if (focus) view.focus();
}

// ---------------------------------------------------------------- rendering
function options() {
  const args = {};
  for (const [k, v] of Object.entries(state.buildArgs)) if (v !== "") args[k] = v;
  return {
    target: el.target.value || null,
    build_args: args,
    platform: el.platform.value || null,
    view: el.view.value || "stages",
  };
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
    failed(error);
    return;
  }
  state.retries = 0;
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
  markStale(null);
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
  const live = el.diagram.querySelector("svg");
  moveLegend(live);
  state.graph = graph;
  pz.attach(live, fallback, () => {
    const t = graph.target === null || graph.target === undefined ? graph.stages.length - 1 : graph.target;
    const g = svgEl(ids.stage(t)) || svgEl(ids.stageBox(t));
    return g ? boxInSvg(g) : null;
  });
  markReachability(graph);
  makeFocusable(graph);
  fillTargets(graph);
  fillBuildArgs(graph);
  fillShips(graph);
  fillStageNames(graph);
  onCursor(view.state, false);
}

/** The renderer's legend (it lists only what is drawn) moves into the page's legend box, where it
 *  stays readable whatever the zoom; the downloads keep it in the picture. */
function moveLegend(svg) {
  el.legendBody.replaceChildren();
  const root = svg.querySelector("g.graph") || svg.querySelector("g");
  const parts = [...svg.querySelectorAll(`[id="${ids.legend}"], g[id^="legend-"]`)];
  if (!root || !parts.length) {
    el.legend.hidden = true;
    return;
  }
  el.legend.hidden = false;
  const ns = "http://www.w3.org/2000/svg";
  const small = document.createElementNS(ns, "svg");
  small.setAttribute("class", "legend-svg");
  small.setAttribute("role", "img");
  small.setAttribute("aria-label", "Legend: " + parts.map((g) => g.textContent.trim()).filter(Boolean).join(", "));
  const g = document.createElementNS(ns, "g");
  const t = root.getAttribute("transform");
  if (t) g.setAttribute("transform", t);
  for (const part of parts) g.appendChild(part); // moved out of the diagram
  small.appendChild(g);
  el.legendBody.appendChild(small);
  let bb;
  try {
    bb = boxInSvg(g.firstElementChild) && g.getBBox();
  } catch (_) {
    bb = null;
  }
  if (bb && bb.width) {
    const m = g.transform.baseVal.consolidate();
    const k = m ? m.matrix : { e: 0, f: 0 };
    // the legend cluster's own title ("Legend") is the summary's job
    small.setAttribute("viewBox", `${bb.x + k.e - 2} ${bb.y + k.f - 2} ${bb.width + 4} ${bb.height + 4}`);
    // at most 420 px wide, and never smaller than 3/4 of the drawing's size (9 pt text stays legible)
    const k2 = Math.max(0.75, Math.min(1, 420 / (bb.width + 4)));
    small.setAttribute("width", String(Math.round((bb.width + 4) * k2)));
    small.setAttribute("height", String(Math.round((bb.height + 4) * k2)));
  }
}

function markReachability(graph) {
  // The renderer greys unbuilt stages; the class lets tests, CSS and "only the target" find them.
  for (const s of graph.stages) {
    for (const id of [ids.stage(s.index), ids.stageBox(s.index)]) {
      const g = svgEl(id);
      if (g) g.classList.toggle("unreachable", !s.reachable);
    }
  }
}

/** Stages (and stage boxes in the layers view) are keyboard stops: Tab to them, Enter selects. */
function makeFocusable(graph) {
  for (const s of graph.stages) {
    for (const id of [ids.stage(s.index), ids.stageBox(s.index)]) {
      const g = svgEl(id);
      if (!g) continue;
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      // the name starts with the text drawn in the node (so speech matches what is seen)
      const shown = [...g.querySelectorAll(":scope > text")].map((t) => t.textContent.trim()).join(" ");
      g.setAttribute(
        "aria-label",
        `${shown || s.display_name}, lines ${s.line} to ${s.end_line}${s.reachable ? "" : ", not built for this target"}`,
      );
    }
  }
}

function svgEl(id) {
  const svg = el.diagram.querySelector("svg");
  return svg ? svg.querySelector(`[id="${CSS.escape(id)}"]`) : null;
}

function revealInDiagram(g) {
  if (!g) return;
  pz.reveal(boxInSvg(g));
}

// ---------------------------------------------------------------- problems
/** A fix that is certain: "COPY --from=builder … did you mean the stage 'build'?" on a line that
 *  names `builder` once. Returns {line, from, to, insert, label} or null. */
function quickFix(d) {
  if (d.code !== "unknown-stage" || !d.line) return null;
  const hint = /did you mean the stage '([^']+)'\?/.exec(d.message);
  const value = /=(\S+) is not a stage name/.exec(d.message);
  if (!hint || !value) return null;
  const doc = view.state.doc;
  if (d.line > doc.lines) return null;
  const line = doc.line(d.line);
  const needle = "=" + value[1];
  const hits = [];
  for (let i = line.text.indexOf(needle); i >= 0; i = line.text.indexOf(needle, i + 1)) {
    const after = line.text[i + needle.length];
    if (after === undefined || /[\s,]/.test(after)) hits.push(i);
  }
  if (hits.length !== 1) return null;
  const from = line.from + hits[0] + 1;
  return { from, to: from + value[1].length, insert: hint[1], label: `Use stage ${hint[1]}` };
}

function applyFix(fix) {
  view.dispatch({ changes: { from: fix.from, to: fix.to, insert: fix.insert }, selection: { anchor: fix.from } });
  toast(`Changed to ${fix.insert}`);
}

function showDiagnostics(diags, error) {
  const items = [];
  if (error) items.push({ severity: "error", message: error.message, line: error.line, code: "" });
  for (const d of diags) items.push(d);
  // Errors first, then warnings, then notes; by line within each. Many notes (moby has dozens
  // of stages its default target does not build) fold away so they never bury a real problem.
  const rank = { error: 0, warning: 1, info: 2 };
  items.sort((a, b) => (rank[a.severity] ?? 3) - (rank[b.severity] ?? 3) || (a.line || 0) - (b.line || 0));
  el.diagList.replaceChildren();
  const notes = items.filter((d) => d.severity === "info");
  const folded = notes.length > 3 ? notes : [];
  for (const d of items) if (!folded.includes(d)) el.diagList.appendChild(diagItem(d));
  if (folded.length) {
    const li = document.createElement("li");
    li.className = "diag-more";
    li.dataset.testid = "diagnostics-notes";
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `${folded.length} notes`;
    const list = document.createElement("ul");
    list.className = "diag-list";
    for (const d of folded) list.appendChild(diagItem(d));
    details.append(summary, list);
    li.append(details);
    el.diagList.appendChild(li);
  }
  const errors = items.filter((d) => d.severity === "error").length;
  const warnings = items.filter((d) => d.severity === "warning").length;
  if (!errors && !warnings && state.graph) {
    const li = document.createElement("li");
    li.className = "diag diag-none";
    li.textContent = "No problems found.";
    el.diagList.prepend(li);
  }
  el.diagCount.textContent = [
    errors && `${errors} error${errors > 1 ? "s" : ""}`,
    warnings && `${warnings} warning${warnings > 1 ? "s" : ""}`,
  ]
    .filter(Boolean)
    .join(", ");
  const ranges = items
    .filter((d) => d.line && (d.severity === "error" || d.severity === "warning"))
    .map((d) => ({ from: d.line, to: d.line, cls: `cm-diag-${d.severity}` }));
  view.dispatch({ effects: setDiagLines.of(lineDecorations(view, ranges)) });
}

function diagItem(d) {
  const li = document.createElement("li");
  li.className = `diag diag-${d.severity}`;
  if (d.line) li.dataset.line = d.line;
  li.tabIndex = d.line ? 0 : -1;
  li.append(span("diag-sev", d.severity));
  if (d.line) li.append(span("diag-line", `line ${d.line}`));
  li.append(span("diag-msg", d.message));
  const fix = quickFix(d);
  if (fix) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-fix";
    b.dataset.testid = "quick-fix";
    b.textContent = fix.label;
    b.title = `Quick fix: write ${fix.insert} on line ${d.line}`;
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      const again = quickFix(d); // the text may have changed since the list was drawn
      if (again) applyFix(again);
    });
    li.append(b);
  }
  if (d.code) li.append(span("diag-code", d.code));
  return li;
}

function openProblem(li) {
  const line = +li.dataset.line;
  revealLines(line, line, true);
  const stage = stageOfLine(state.graph, line);
  if (stage) revealInDiagram(svgEl(ids.stage(stage.index)) || svgEl(ids.stageBox(stage.index)));
}

el.diagList.addEventListener("click", (e) => {
  const li = e.target.closest("[data-line]");
  if (li && !e.target.closest("button")) openProblem(li);
});
el.diagList.addEventListener("keydown", (e) => {
  const li = e.target.closest("[data-line]");
  if (li && e.target === li && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    openProblem(li);
  }
});

// ---------------------------------------------------------------- side panels
function fillTargets(graph) {
  const chosen = el.target.value;
  el.target.replaceChildren();
  const last = graph && graph.stages.length ? graph.stages[graph.stages.length - 1] : null;
  el.target.appendChild(new Option(last ? `last stage (${last.display_name})` : "last stage", ""));
  const names = [];
  if (graph) for (const s of graph.stages) if (s.name) names.push(s.name);
  for (const name of names) el.target.appendChild(new Option(name, name));
  el.target.value = names.includes(chosen) ? chosen : "";
}

/** A default as the user would type it: quotes around the whole value are syntax, not value. */
function plainDefault(value) {
  if (value === null || value === undefined) return null;
  const m = /^(["'])(.*)\1$/s.exec(value);
  return m ? m[2] : value;
}

function fillBuildArgs(graph) {
  // One row per name: a Dockerfile may declare the same ARG several times (moby: DELVE_SUPPORTED);
  // the first default is the one BuildKit uses before any FROM.
  const seen = new Map();
  for (const a of graph.global_args || []) {
    if (seen.has(a.name)) seen.get(a.name).count++;
    else seen.set(a.name, { name: a.name, default: plainDefault(a.default), count: 1 });
  }
  const args = [...seen.values()];
  const key = args.map((a) => `${a.name}=${a.default}`).join("\n");
  if (key !== el.buildArgs.dataset.key) {
    el.buildArgs.dataset.key = key;
    el.buildArgs.replaceChildren();
    if (!args.length) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = "This Dockerfile has no ARG before its first FROM.";
      el.buildArgs.appendChild(p);
    }
    args.forEach((a, i) => {
      const id = `build-arg-${i}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = a.name;
      if (a.count > 1) label.title = `declared ${a.count} times`;
      const input = document.createElement("input");
      input.type = "text";
      input.id = id;
      input.dataset.arg = a.name;
      input.setAttribute("data-testid", `build-arg-${a.name}`);
      input.placeholder = a.default === null ? "(unset)" : a.default === "" ? "(empty)" : a.default;
      input.value = state.buildArgs[a.name] || "";
      input.spellcheck = false;
      input.autocomplete = "off";
      el.buildArgs.append(label, input);
    });
  }
  updateArgsBadge();
}

function updateArgsBadge() {
  const set = Object.values(state.buildArgs).filter((v) => v !== "").length;
  el.buildArgsCount.textContent = set ? `${set} set` : "";
}

el.buildArgs.addEventListener("input", (e) => {
  const name = e.target.dataset && e.target.dataset.arg;
  if (!name) return;
  state.buildArgs[name] = e.target.value;
  updateArgsBadge();
  schedule();
});

function stageName(graph, i) {
  const s = graph.stages[i];
  return s ? s.display_name : `stage ${i}`;
}

function fillShips(graph) {
  el.shipsBody.replaceChildren();
  if (!graph || graph.ships.target === null || graph.ships.target === undefined) {
    el.shipsBody.appendChild(span("ships-item", "—"));
    return;
  }
  const sh = graph.ships;
  const head = span("ships-item", "");
  const b = document.createElement("b");
  b.textContent = stageName(graph, sh.target);
  head.append(b, " from ");
  const code = document.createElement("code");
  code.textContent = sh.image || "?";
  head.append(code);
  if (sh.base_chain.length > 1) head.append(` via ${sh.base_chain.slice(1).map((i) => stageName(graph, i)).join(" → ")}`);
  const layers = span("ships-item", `${sh.layers} layer${sh.layers === 1 ? "" : "s"} of its own`);
  const only = span("ships-item wrap", "build-only: ");
  if (!sh.build_only.length) only.append("none");
  for (const i of sh.build_only) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "stage-chip";
    chip.dataset.stage = i;
    chip.textContent = stageName(graph, i);
    only.append(chip);
  }
  el.shipsBody.append(head, layers, only);
}

el.shipsBody.addEventListener("click", (e) => {
  const chip = e.target.closest("[data-stage]");
  if (chip && state.graph) selectStage(+chip.dataset.stage, true);
});

// ---------------------------------------------------------------- big graphs: find, only the target
function fillStageNames(graph) {
  el.stageNames.replaceChildren(...graph.stages.map((s) => new Option(s.display_name)));
}

function findStage(query) {
  if (!state.graph || !query.trim()) return null;
  const q = query.trim().toLowerCase();
  const stages = state.graph.stages;
  return (
    stages.find((s) => s.display_name.toLowerCase() === q) ||
    stages.find((s) => s.display_name.toLowerCase().startsWith(q)) ||
    stages.find((s) => s.display_name.toLowerCase().includes(q)) ||
    null
  );
}

function searchGo() {
  const s = findStage(el.search.value);
  el.search.classList.toggle("not-found", !!el.search.value.trim() && !s);
  if (s) selectStage(s.index, true);
}
el.search.addEventListener("change", searchGo);
el.search.addEventListener("keydown", (e) => {
  if (e.key === "Enter") {
    e.preventDefault();
    searchGo();
  }
});

el.onlyTarget.addEventListener("change", () => {
  el.diagram.classList.toggle("only-target", el.onlyTarget.checked);
  persist();
});

// ---------------------------------------------------------------- diagram <-> editor
function stageOfLine(graph, line) {
  if (!graph) return null;
  for (const s of graph.stages) if (line >= s.line && line <= s.end_line) return s;
  return null;
}

function instructionAt(stage, line) {
  if (!stage) return null;
  for (let k = 0; k < stage.instructions.length; k++) {
    const ins = stage.instructions[k];
    if (line >= ins.line && line <= ins.end_line) return { ins, k };
  }
  return null;
}

/** The cursor's stage is outlined; when the user moves the cursor, the diagram follows it. */
function onCursor(st, follow) {
  const line = currentLine(st);
  const col = st.selection.main.head - st.doc.line(line).from + 1;
  el.cursorPos.textContent = `Ln ${line}, Col ${col}`;
  for (const g of el.diagram.querySelectorAll(".is-current")) g.classList.remove("is-current");
  const stage = stageOfLine(state.graph, line);
  if (!stage) {
    state.currentStage = null;
    return;
  }
  const list = [ids.stage(stage.index), ids.stageBox(stage.index)];
  const hit = instructionAt(stage, line);
  list.push(hit ? ids.instruction(stage.index, hit.k) : ids.from(stage.index));
  for (const id of list) {
    const g = svgEl(id);
    if (g) g.classList.add("is-current");
  }
  if (follow && state.currentStage !== stage.index) {
    revealInDiagram(svgEl(ids.stage(stage.index)) || svgEl(ids.stageBox(stage.index)));
  }
  state.currentStage = stage.index;
}

function select(g) {
  for (const s of el.diagram.querySelectorAll(".is-selected")) s.classList.remove("is-selected");
  if (g) g.classList.add("is-selected");
}

function selectStage(i, reveal) {
  const s = state.graph && state.graph.stages[i];
  if (!s) return;
  const g = svgEl(ids.stage(i)) || svgEl(ids.stageBox(i));
  select(g);
  revealLines(s.line, s.end_line, false);
  if (reveal) revealInDiagram(g);
}

/** What a diagram element stands for: {kind: stage|from|ins|edge|source, ...}. */
function describe(target) {
  if (!state.graph || !target.closest) return null;
  let g = target.closest("g[id]");
  while (g && g !== el.diagram) {
    const d = describeGroup(g);
    if (d) return d;
    g = g.parentElement && g.parentElement.closest("g[id]");
  }
  return null;
}

function describeGroup(g) {
  const graph = state.graph;
  const what = ids.parse(g.id);
  if (!what) {
    if (!g.classList.contains("node")) return null;
    // an image, context, URL or git source: the edges leaving it say what uses it
    const edges = Object.entries(state.edgeEnds)
      .filter(([, ends]) => ends.tail === g.id)
      .map(([id]) => ids.parse(id))
      .filter((p) => p && p.kind === "edge")
      .map((p) => graph.edges[p.n])
      .filter(Boolean);
    return edges.length ? { g, kind: "source", edges, label: g.textContent.trim() } : null;
  }
  if (what.kind === "stage" || what.kind === "stage_box") {
    const stage = graph.stages[what.stage];
    return stage ? { g, kind: "stage", stage } : null;
  }
  if (what.kind === "from" || what.kind === "instruction") {
    const stage = graph.stages[what.stage];
    if (!stage) return null;
    if (what.kind === "from") return { g, kind: "from", stage };
    const ins = stage.instructions[what.k];
    return ins ? { g, kind: "ins", stage, ins } : null;
  }
  if (what.kind === "edge") {
    const edge = graph.edges[what.n];
    return edge ? { g, kind: "edge", edge } : null;
  }
  return null;
}

function fromLines(stage) {
  // The FROM instruction runs from stage.line to the line before its first instruction.
  const first = stage.instructions[0];
  return { from: stage.line, to: first ? Math.max(stage.line, first.line - 1) : stage.end_line };
}

function activate(d) {
  select(d.g);
  if (d.kind === "stage") revealLines(d.stage.line, d.stage.end_line, false);
  else if (d.kind === "from") revealLines(d.stage.line, d.stage.line, false);
  else if (d.kind === "ins") revealLines(d.ins.line, d.ins.end_line, false);
  else if (d.kind === "edge" || d.kind === "source") {
    const edge = d.kind === "edge" ? d.edge : d.edges[0];
    const stage = state.graph.stages[edge.target];
    const hit = instructionAt(stage, edge.line);
    revealLines(edge.line, hit ? hit.ins.end_line : edge.line, false);
  }
}

el.diagram.addEventListener("click", (e) => {
  if (pz.dragged) return;
  const d = describe(e.target);
  if (!d) {
    select(null);
    return;
  }
  activate(d);
});

el.diagram.addEventListener("keydown", (e) => {
  const d = e.target !== el.diagram ? describe(e.target) : null;
  if (d && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    activate(d);
    return;
  }
  if (pz.key(e)) e.preventDefault();
});
el.diagram.addEventListener("focusin", (e) => {
  if (e.target === el.diagram) return;
  const g = e.target.closest && e.target.closest("g[id]");
  if (g) revealInDiagram(g);
});

// ---------------------------------------------------------------- tooltip (compact)
const TOOLTIP_ROWS = 12;

function tooltipContent(d) {
  const frag = document.createDocumentFragment();
  const h = document.createElement("h3");
  const pre = document.createElement("pre");
  let rows = 0;
  let hidden = 0;
  const addIns = (line, text) => {
    if (rows >= TOOLTIP_ROWS) {
      hidden++;
      return;
    }
    rows++;
    const row = span("tt-ins", "");
    row.append(span("tt-line", String(line)));
    const m = /^(\s*)(\S+)([\s\S]*)$/.exec(text);
    const body = m ? m[3] : "";
    const short = body.split("\n").length > 4 ? body.split("\n").slice(0, 4).join("\n") + " …" : body;
    if (m) row.append(m[1], span("tt-kw", m[2]), short);
    else row.append(text);
    pre.append(row);
  };
  const notes = [];
  if (d.kind === "stage" || d.kind === "from") {
    const s = d.stage;
    h.textContent = `${s.display_name} · lines ${s.line}–${s.end_line}${s.reachable ? "" : " · not built"}`;
    addIns(s.line, editorLines(s.line, fromLines(s).to) || `FROM ${s.base.text}`);
    if (d.kind === "stage") for (const ins of s.instructions) addIns(ins.line, ins.text);
  } else if (d.kind === "ins") {
    h.textContent = `${d.stage.display_name} · line ${d.ins.line}${d.ins.layer ? " · layer" : ""}`;
    addIns(d.ins.line, d.ins.text);
  } else if (d.kind === "edge") {
    const e = d.edge;
    const src = e.source;
    const from = src.kind === "stage" ? stageName(state.graph, src.stage) : src.ref || src.text || src.kind;
    h.textContent = `${e.kind.toUpperCase()} ${from} → ${stageName(state.graph, e.target)}`;
    const stage = state.graph.stages[e.target];
    const hit = instructionAt(stage, e.line);
    if (hit) addIns(hit.ins.line, hit.ins.text);
    else if (e.kind === "from" && stage) addIns(stage.line, editorLines(stage.line, fromLines(stage).to));
    notes.push(...problemsOn([e.line]));
  } else if (d.kind === "source") {
    h.textContent = d.label.split("\n")[0] || "source";
    const lines = [];
    for (const e of d.edges) {
      const stage = state.graph.stages[e.target];
      const hit = instructionAt(stage, e.line);
      lines.push(e.line);
      if (hit) addIns(hit.ins.line, hit.ins.text);
      else if (stage) addIns(stage.line, editorLines(stage.line, fromLines(stage).to));
    }
    notes.push(...problemsOn(lines));
  }
  if (hidden) pre.append(span("tt-more", `… ${hidden} more`));
  frag.append(h, pre);
  for (const p of notes) {
    const div = document.createElement("div");
    div.className = `tt-problem tt-${p.severity}`;
    const fix = quickFix(p);
    div.textContent = `${p.severity}: ${p.message}` + (fix ? ` — quick fix in Problems: “${fix.label}”` : "");
    frag.append(div);
  }
  return frag;
}

function problemsOn(lines) {
  if (!state.graph) return [];
  return state.graph.diagnostics.filter((p) => p.severity !== "info" && lines.includes(p.line));
}

function editorLines(from, to) {
  const doc = view.state.doc;
  if (from < 1 || from > doc.lines) return "";
  to = Math.min(to, doc.lines);
  return doc.sliceString(doc.line(from).from, doc.line(to).to);
}

let hovered = null;
el.diagram.addEventListener("mousemove", (e) => {
  if (el.diagram.classList.contains("panning")) return hideTooltip();
  const d = describe(e.target);
  if (!d) return hideTooltip();
  if (!hovered || hovered.g !== d.g) {
    hovered = d;
    el.tooltip.replaceChildren(tooltipContent(d));
    el.tooltip.hidden = false;
  }
  placeTooltip(e.clientX, e.clientY);
});
el.diagram.addEventListener("mouseleave", hideTooltip);

function hideTooltip() {
  hovered = null;
  el.tooltip.hidden = true;
}

function placeTooltip(x, y) {
  const r = el.tooltip.getBoundingClientRect();
  let left = x + 14;
  let top = y + 16;
  if (left + r.width > window.innerWidth - 8) left = Math.max(8, x - r.width - 14);
  if (top + r.height > window.innerHeight - 8) top = Math.max(8, y - r.height - 12);
  el.tooltip.style.left = `${left}px`;
  el.tooltip.style.top = `${top}px`;
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
  loadFile(e.dataTransfer.files[0]);
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

function toast(message) {
  el.toast.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.toast.textContent = ""), 4000);
}

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
  const posted = document.querySelector("textarea[name=build_args]");
  if (posted && posted.value.trim()) {
    for (const line of posted.value.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) state.buildArgs[line.slice(0, i).trim()] = line.slice(i + 1);
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
