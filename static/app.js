/* Dockerfile Graph: the editor page.
 *
 * A plain script (no build step): CodeMirror comes bundled as window.CM from static/vendor.
 * Everything the page draws comes from POST /api/diagram ({graph, svg}); the SVG is the server's
 * sanitised output, parsed with DOMParser and adopted into the page (never via innerHTML of user
 * text). No inline styles or handlers anywhere, so the page runs under `script-src 'self'`.
 *
 * window.dfviz is the small hook other scripts (share.js) use: getState(), load(text, options),
 * and the "dfviz:rendered" event on document.
 */
(function () {
  "use strict";

  document.documentElement.classList.remove("no-js");
  document.documentElement.classList.add("js");

  const DEBOUNCE_MS = 250;
  const $ = (id) => document.getElementById(id);
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
    shipsBody: $("ships-body"),
    tooltip: $("tooltip"),
    drop: $("drop-overlay"),
    toast: $("toast"),
    mermaidDialog: $("mermaid-dialog"),
    mermaidText: $("mermaid-text"),
    splitter: $("splitter"),
  };

  const state = {
    graph: null, // graph JSON of the diagram on screen
    good: false, // the diagram on screen came from text without errors
    buildArgs: {}, // name -> value typed by the user (kept while the ARG comes and goes)
    fileName: "",
    controller: null, // AbortController of the request in flight
    seq: 0,
    timer: 0,
    view: null, // current pan/zoom view box {x, y, w, h}
    base: null, // the SVG's own view box
    userMoved: false,
    selected: null,
  };

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
      for (let n = from; n <= to; n++) {
        marks.push({ pos: doc.line(n).from, cls: r.cls });
      }
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
    { tag: CM.tags.keyword, color: "#7c3aed", fontWeight: "600" },
    { tag: CM.tags.comment, color: "#6b7280", fontStyle: "italic" },
    { tag: CM.tags.string, color: "#047857" },
    { tag: CM.tags.number, color: "#b45309" },
    { tag: CM.tags.variableName, color: "#1d4ed8" },
    { tag: CM.tags.invalid, color: "#dc2626" },
  ]);

  const view = new CM.EditorView({
    parent: el.editor,
    state: CM.EditorState.create({
      doc: el.source.value,
      extensions: [
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
        CM.EditorView.contentAttributes.of({ "aria-label": "Dockerfile editor", spellcheck: "false" }),
        linkedField,
        diagField,
        CM.EditorView.updateListener.of((u) => {
          if (u.docChanged) {
            el.source.value = u.state.doc.toString();
            schedule();
          }
          if (u.selectionSet || u.docChanged) onCursor(u.state);
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

  function clearLinked() {
    view.dispatch({ effects: setLinked.of(CM.Decoration.none) });
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

  function schedule(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(renderNow, delay === undefined ? DEBOUNCE_MS : delay);
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
    if (!text.trim()) {
      showEmpty("Type, paste or drop a Dockerfile, or pick an example.");
      showDiagnostics([], null);
      setStatus("");
      return;
    }
    setStatus("Rendering…", "busy");
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
        const retry = parseInt(response.headers.get("Retry-After") || "2", 10);
        error.message += ` Retrying in ${retry} s.`;
        schedule(retry * 1000);
      }
      failed(error);
      return;
    }
    const graph = body.graph;
    const hasErrors = graph.diagnostics.some((d) => d.severity === "error");
    // Keep the last good diagram while the text has an error (unless there is none to keep).
    if (hasErrors && state.good) {
      markStale(true);
      showDiagnostics(graph.diagnostics, null);
      state.pendingGraph = graph;
      setStatus("Error in the Dockerfile", "bad");
      return;
    }
    showGraph(graph, body.svg);
    state.good = !hasErrors;
    markStale(false);
    showDiagnostics(graph.diagnostics, null);
    const ms = Math.round(performance.now() - started);
    setStatus(`${graph.stages.length} stage${graph.stages.length === 1 ? "" : "s"} · ${ms} ms`);
    document.dispatchEvent(new CustomEvent("dfviz:rendered", { detail: { graph } }));
  }

  function failed(error) {
    markStale(!!state.graph);
    showDiagnostics([], error);
    setStatus("Not drawn", "bad");
  }

  function markStale(on) {
    el.diagram.classList.toggle("stale", on);
    el.stale.hidden = !on;
  }

  function showEmpty(message) {
    el.diagram.replaceChildren();
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = message;
    el.diagram.appendChild(p);
    state.graph = null;
    state.good = false;
    markStale(false);
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
    // Our own tooltip replaces Graphviz's <title> elements (they would show as native tooltips).
    for (const t of svg.querySelectorAll("title")) t.remove();
    const fallback = parseViewBox(svg);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
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
    // The page has its own legend (readable at any zoom) and background; downloads keep both.
    for (const g of svg.querySelectorAll('[id="cluster-legend"], [id^="legend-"]')) g.remove();
    const root = svg.querySelector("g.graph") || svg.querySelector("g");
    const background = root && root.querySelector(":scope > polygon");
    if (background) background.remove();
    el.diagram.replaceChildren(document.importNode(svg, true));
    const base = contentBox(el.diagram.querySelector("svg")) || fallback;
    const sameShape =
      state.base && Math.abs(state.base.w - base.w) < 1 && Math.abs(state.base.h - base.h) < 1;
    state.graph = graph;
    state.base = base;
    if (!state.userMoved || !sameShape || !state.view) {
      if (!sameShape) state.userMoved = false;
      fit();
    } else {
      applyView();
    }
    markReachability(graph);
    fillTargets(graph);
    fillBuildArgs(graph);
    fillShips(graph);
    onCursor(view.state);
  }

  function markReachability(graph) {
    // The renderer greys unbuilt stages; the class lets tests and CSS find them too.
    for (const s of graph.stages) {
      for (const id of [`stage-${s.index}`, `cluster_stage_${s.index}`]) {
        const g = svgEl(id);
        if (g) g.classList.toggle("unreachable", !s.reachable);
      }
    }
  }

  function svgEl(id) {
    const svg = el.diagram.querySelector("svg");
    return svg ? svg.querySelector(`[id="${CSS.escape(id)}"]`) : null;
  }

  // ---------------------------------------------------------------- side panels
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
    for (const d of items) {
      if (!folded.includes(d)) el.diagList.appendChild(diagItem(d));
    }
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
    if (d.code && typeof d.url === "string" && d.url.startsWith("https://docs.docker.com/")) {
      // A BuildKit build check: its code links to the rule's documentation.
      const a = document.createElement("a");
      Object.assign(a, { className: "diag-code", href: d.url, target: "_blank", rel: "noopener noreferrer" });
      a.textContent = d.code;
      a.title = "What this check means (docs.docker.com)";
      li.append(a);
    } else if (d.code) li.append(span("diag-code", d.code));
    return li;
  }

  function span(cls, text) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  el.diagList.addEventListener("click", (e) => {
    const li = e.target.closest("[data-line]");
    if (li) revealLines(+li.dataset.line, +li.dataset.line, true);
  });
  el.diagList.addEventListener("keydown", (e) => {
    const li = e.target.closest("[data-line]");
    if (li && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      revealLines(+li.dataset.line, +li.dataset.line, true);
    }
  });

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

  function fillBuildArgs(graph) {
    const args = graph.global_args || [];
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
      for (const a of args) {
        const id = `arg-${a.name}`;
        const label = document.createElement("label");
        label.htmlFor = id;
        label.textContent = a.name;
        const input = document.createElement("input");
        input.type = "text";
        input.id = id;
        input.dataset.arg = a.name;
        input.dataset.testid = `build-arg-${a.name}`;
        input.setAttribute("data-testid", `build-arg-${a.name}`);
        input.placeholder = a.default === null ? "(unset)" : a.default;
        input.value = state.buildArgs[a.name] || "";
        input.spellcheck = false;
        el.buildArgs.append(label, input);
      }
    }
    const set = Object.values(state.buildArgs).filter((v) => v !== "").length;
    el.buildArgsCount.textContent = set ? String(set) : args.length ? String(args.length) : "";
  }

  el.buildArgs.addEventListener("input", (e) => {
    const name = e.target.dataset && e.target.dataset.arg;
    if (!name) return;
    state.buildArgs[name] = e.target.value;
    schedule();
  });

  function stageName(graph, i) {
    const s = graph.stages[i];
    return s ? s.display_name : `stage-${i}`;
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
    if (sh.base_chain.length > 1) {
      head.append(` via ${sh.base_chain.slice(1).map((i) => stageName(graph, i)).join(" → ")}`);
    }
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
    if (chip && state.graph) selectStage(+chip.dataset.stage);
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

  function onCursor(st) {
    const line = currentLine(st);
    const col = st.selection.main.head - st.doc.line(line).from + 1;
    el.cursorPos.textContent = `Ln ${line}, Col ${col}`;
    for (const g of el.diagram.querySelectorAll(".is-current")) g.classList.remove("is-current");
    const stage = stageOfLine(state.graph, line);
    if (!stage) return;
    const ids = [`stage-${stage.index}`, `cluster_stage_${stage.index}`];
    const hit = instructionAt(stage, line);
    ids.push(hit ? `ins-${stage.index}-${hit.k}` : `ins-${stage.index}-from`);
    for (const id of ids) {
      const g = svgEl(id);
      if (g) g.classList.add("is-current");
    }
  }

  function select(g) {
    for (const s of el.diagram.querySelectorAll(".is-selected")) s.classList.remove("is-selected");
    if (g) g.classList.add("is-selected");
  }

  function selectStage(i) {
    const s = state.graph && state.graph.stages[i];
    if (!s) return;
    select(svgEl(`stage-${i}`) || svgEl(`cluster_stage_${i}`));
    revealLines(s.line, s.end_line, false);
  }

  /** What a diagram element stands for: {kind: stage|ins|edge, ...} from its id. */
  function describe(target) {
    const g = target.closest("g[id]");
    if (!g || !state.graph) return null;
    const id = g.id;
    let m;
    if ((m = /^stage-(\d+)$/.exec(id)) || (m = /^cluster_stage_(\d+)$/.exec(id))) {
      const stage = state.graph.stages[+m[1]];
      return stage ? { g, kind: "stage", stage } : null;
    }
    if ((m = /^ins-(\d+)-(from|\d+)$/.exec(id))) {
      const stage = state.graph.stages[+m[1]];
      if (!stage) return null;
      if (m[2] === "from") return { g, kind: "from", stage };
      const ins = stage.instructions[+m[2]];
      return ins ? { g, kind: "ins", stage, ins } : null;
    }
    if ((m = /^edge-(\d+)$/.exec(id))) {
      const edge = state.graph.edges[+m[1]];
      return edge ? { g, kind: "edge", edge } : null;
    }
    return null;
  }

  function fromLines(stage) {
    // The FROM instruction runs from stage.line to the line before its first instruction.
    const first = stage.instructions[0];
    return { from: stage.line, to: first ? Math.max(stage.line, first.line - 1) : stage.end_line };
  }

  el.diagram.addEventListener("click", (e) => {
    if (state.dragged) return;
    const d = describe(e.target);
    if (!d) {
      select(null);
      return;
    }
    select(d.g);
    if (d.kind === "stage") revealLines(d.stage.line, d.stage.end_line, false);
    else if (d.kind === "from") revealLines(d.stage.line, d.stage.line, false);
    else if (d.kind === "ins") revealLines(d.ins.line, d.ins.end_line, false);
    else if (d.kind === "edge") {
      const stage = state.graph.stages[d.edge.target];
      const hit = instructionAt(stage, d.edge.line);
      revealLines(d.edge.line, hit ? hit.ins.end_line : d.edge.line, false);
    }
  });

  // ---------------------------------------------------------------- tooltip
  function tooltipContent(d) {
    const frag = document.createDocumentFragment();
    const h = document.createElement("h3");
    const pre = document.createElement("pre");
    const addIns = (line, text) => {
      const row = span("tt-ins", "");
      row.append(span("tt-line", String(line)));
      const m = /^(\s*)(\S+)([\s\S]*)$/.exec(text);
      if (m) row.append(m[1], span("tt-kw", m[2]), m[3]);
      else row.append(text);
      pre.append(row);
    };
    if (d.kind === "stage" || d.kind === "from") {
      const s = d.stage;
      h.textContent = `${s.display_name} · lines ${s.line}–${s.end_line}${s.reachable ? "" : " · not built"}`;
      const fromText = editorLines(s.line, fromLines(s).to);
      addIns(s.line, fromText || `FROM ${s.base.text}`);
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
    }
    frag.append(h, pre);
    return frag;
  }

  function editorLines(from, to) {
    const doc = view.state.doc;
    if (from < 1 || from > doc.lines) return "";
    to = Math.min(to, doc.lines);
    return doc.sliceString(doc.line(from).from, doc.line(to).to);
  }

  let hovered = null;
  el.diagram.addEventListener("mousemove", (e) => {
    if (state.panning) return hideTooltip();
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

  // ---------------------------------------------------------------- pan and zoom (view box)
  function parseViewBox(svg) {
    const vb = (svg.getAttribute("viewBox") || "").trim().split(/[\s,]+/).map(Number);
    if (vb.length === 4 && vb.every(Number.isFinite) && vb[2] > 0 && vb[3] > 0) {
      return { x: vb[0], y: vb[1], w: vb[2], h: vb[3] };
    }
    const w = parseFloat(svg.getAttribute("width")) || 100;
    const h = parseFloat(svg.getAttribute("height")) || 100;
    return { x: 0, y: 0, w, h };
  }

  /** The drawing's extent in view-box units (after the legend was taken out). */
  function contentBox(svg) {
    const root = svg && (svg.querySelector("g.graph") || svg.querySelector("g"));
    if (!root) return null;
    let bb;
    try {
      bb = root.getBBox();
    } catch (_) {
      return null;
    }
    if (!bb.width || !bb.height) return null;
    const t = root.transform.baseVal.consolidate();
    const m = t ? t.matrix : { a: 1, d: 1, e: 0, f: 0 };
    const pad = 12;
    return {
      x: bb.x * m.a + m.e - pad,
      y: bb.y * m.d + m.f - pad,
      w: bb.width * m.a + 2 * pad,
      h: bb.height * m.d + 2 * pad,
    };
  }

  function currentSvg() {
    return el.diagram.querySelector("svg");
  }

  function applyView() {
    const svg = currentSvg();
    if (!svg || !state.view) return;
    const v = state.view;
    svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  }

  /** Fit the whole drawing, but never blow a small one up past its natural size. */
  function fit() {
    if (!state.base) return;
    const b = state.base;
    const box = el.diagram.getBoundingClientRect();
    const pad = 16;
    const sx = (box.width - pad * 2) / b.w;
    const sy = (box.height - pad * 2) / b.h;
    const scale = Math.min(sx, sy, 96 / 72) || 1; // at most natural size (Graphviz units are points)
    const w = box.width / scale;
    const h = box.height / scale;
    state.view = { x: b.x + (b.w - w) / 2, y: b.y + (b.h - h) / 2, w, h };
    applyView();
  }

  function zoom(factor, cx, cy) {
    if (!state.view) return;
    const box = el.diagram.getBoundingClientRect();
    const v = state.view;
    const newW = Math.min(Math.max(v.w / factor, state.base.w / 400), state.base.w * 20);
    const f = v.w / newW;
    const px = cx === undefined ? 0.5 : (cx - box.left) / box.width;
    const py = cy === undefined ? 0.5 : (cy - box.top) / box.height;
    const newH = v.h / f;
    state.view = { x: v.x + (v.w - newW) * px, y: v.y + (v.h - newH) * py, w: newW, h: newH };
    state.userMoved = true;
    applyView();
  }

  el.diagram.addEventListener(
    "wheel",
    (e) => {
      if (!state.view) return;
      e.preventDefault();
      if (e.ctrlKey || e.metaKey || Math.abs(e.deltaY) >= Math.abs(e.deltaX)) {
        const k = Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0025));
        zoom(k, e.clientX, e.clientY);
      } else {
        panBy(e.deltaX, 0);
      }
    },
    { passive: false },
  );

  function panBy(dxPx, dyPx) {
    const box = el.diagram.getBoundingClientRect();
    const v = state.view;
    state.view = { ...v, x: v.x + (dxPx * v.w) / box.width, y: v.y + (dyPx * v.h) / box.height };
    state.userMoved = true;
    applyView();
  }

  el.diagram.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || !state.view) return;
    state.panning = { x: e.clientX, y: e.clientY, moved: 0, id: e.pointerId };
    state.dragged = false;
  });
  el.diagram.addEventListener("pointermove", (e) => {
    const p = state.panning;
    if (!p || p.id !== e.pointerId) return;
    const dx = e.clientX - p.x;
    const dy = e.clientY - p.y;
    p.moved += Math.abs(dx) + Math.abs(dy);
    if (p.moved > 4) {
      if (!state.dragged) {
        el.diagram.setPointerCapture(e.pointerId);
        el.diagram.classList.add("panning");
      }
      state.dragged = true;
      panBy(-dx, -dy);
    }
    p.x = e.clientX;
    p.y = e.clientY;
  });
  const endPan = (e) => {
    if (!state.panning || state.panning.id !== e.pointerId) return;
    state.panning = null;
    el.diagram.classList.remove("panning");
    // the click that follows a drag is not a selection
    setTimeout(() => (state.dragged = false), 0);
  };
  el.diagram.addEventListener("pointerup", endPan);
  el.diagram.addEventListener("pointercancel", endPan);

  $("zoom-in").addEventListener("click", () => zoom(1.25));
  $("zoom-out").addEventListener("click", () => zoom(0.8));
  $("zoom-fit").addEventListener("click", () => {
    state.userMoved = false;
    fit();
  });
  el.diagram.addEventListener("keydown", (e) => {
    if (e.key === "+" || e.key === "=") zoom(1.25);
    else if (e.key === "-") zoom(0.8);
    else if (e.key === "0") {
      state.userMoved = false;
      fit();
    } else if (e.key.startsWith("Arrow")) {
      const step = 60;
      panBy(
        e.key === "ArrowLeft" ? -step : e.key === "ArrowRight" ? step : 0,
        e.key === "ArrowUp" ? -step : e.key === "ArrowDown" ? step : 0,
      );
    } else return;
    e.preventDefault();
  });
  new ResizeObserver(() => {
    if (!state.userMoved) fit();
    else if (state.view) {
      // keep the scale, follow the new aspect ratio
      const box = el.diagram.getBoundingClientRect();
      const svg = currentSvg();
      if (svg && box.width && box.height) {
        const scale = state.lastBox ? state.view.w / state.lastBox.width : 1;
        state.view.w = box.width * scale;
        state.view.h = box.height * scale;
        applyView();
      }
    }
    state.lastBox = el.diagram.getBoundingClientRect();
  }).observe(el.diagram);

  // ---------------------------------------------------------------- options
  for (const sel of [el.view, el.target, el.platform]) sel.addEventListener("change", () => schedule(0));
  el.view.addEventListener("change", () => (state.userMoved = false));
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
    state.fileName = name || "";
    el.fileName.textContent = name || "";
    state.userMoved = false;
    state.good = false;
    setEditorText(text);
    schedule(0);
  }

  async function loadFile(file) {
    if (!file) return;
    if (file.size > 4 * 1024 * 1024) {
      failed({ message: `${file.name} is ${file.size} bytes: too large to be a Dockerfile.`, line: null });
      return;
    }
    const text = await file.text();
    loadText(text, file.name);
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

  document.getElementById("examples-menu").addEventListener("click", async (e) => {
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

  // ---------------------------------------------------------------- downloads and Mermaid
  function baseName() {
    const n = (state.fileName || "Dockerfile").replace(/\.dockerfile$/i, "").replace(/[^A-Za-z0-9._-]+/g, "_");
    return n || "Dockerfile";
  }

  function saveBlob(blob, filename) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function fetchFormat(format) {
    const response = await fetch("/api/render", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ dockerfile: editorText(), format, ...options() }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error((body && body.error && body.error.message) || `The server answered ${response.status}.`);
    }
    return response.blob();
  }

  function toast(message) {
    el.toast.textContent = message;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (el.toast.textContent = ""), 3000);
  }

  document.getElementById("download-menu").addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-download], button[data-copy]");
    if (!button) return;
    button.closest("details").open = false;
    const format = button.dataset.download || button.dataset.copy;
    const ext = { svg: "svg", png: "png", dot: "dot", json: "json", mermaid: "mmd" }[format];
    try {
      const blob = await fetchFormat(format);
      if (button.dataset.copy) {
        const text = await blob.text();
        try {
          await navigator.clipboard.writeText("```mermaid\n" + text.replace(/\n?$/, "\n") + "```\n");
          toast("Mermaid copied to the clipboard");
        } catch (_) {
          el.mermaidText.value = "```mermaid\n" + text.replace(/\n?$/, "\n") + "```\n";
          el.mermaidDialog.showModal();
          el.mermaidText.select();
        }
      } else {
        saveBlob(blob, `${baseName()}.${ext}`);
      }
    } catch (err) {
      failed({ message: err.message, line: null });
    }
  });
  $("mermaid-close").addEventListener("click", () => el.mermaidDialog.close());

  // ---------------------------------------------------------------- splitter
  el.splitter.addEventListener("pointerdown", (e) => {
    el.splitter.setPointerCapture(e.pointerId);
    el.splitter.classList.add("dragging");
    const move = (ev) => {
      const pct = Math.min(75, Math.max(20, (ev.clientX / window.innerWidth) * 100));
      document.documentElement.style.setProperty("--editor-width", `${pct}%`);
    };
    const up = () => {
      el.splitter.classList.remove("dragging");
      el.splitter.removeEventListener("pointermove", move);
      el.splitter.removeEventListener("pointerup", up);
    };
    el.splitter.addEventListener("pointermove", move);
    el.splitter.addEventListener("pointerup", up);
  });

  // ---------------------------------------------------------------- the hook for share.js
  window.dfviz = {
    /** The Dockerfile and options on screen, in the shape of a POST /api/render body. */
    getState() {
      return { dockerfile: editorText(), ...options() };
    },
    /** Put a Dockerfile (and optionally options) into the editor and draw it. */
    load(text, opts) {
      opts = opts || {};
      state.buildArgs = {};
      el.buildArgs.dataset.key = "";
      el.target.value = "";
      if (opts.view) el.view.value = opts.view;
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
      loadText(text, opts.name || "", true);
    },
    get graph() {
      return state.graph;
    },
    editor: view,
  };

  // Options posted with the no-JS form (and shown by the server) carry over.
  const posted = document.querySelector("textarea[name=build_args]");
  if (posted && posted.value.trim()) {
    for (const line of posted.value.split("\n")) {
      const i = line.indexOf("=");
      if (i > 0) state.buildArgs[line.slice(0, i).trim()] = line.slice(i + 1);
    }
  }
  const initialExample = new URLSearchParams(location.search).get("example");
  if (initialExample) {
    state.fileName = `${initialExample}.Dockerfile`;
    el.fileName.textContent = state.fileName;
  }
  // A shared file ("Open in editor"): share.js loads it with its options, which draws it once.
  if (!document.getElementById("source").dataset.shared) renderNow();
})();
