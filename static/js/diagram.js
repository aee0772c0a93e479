/* The diagram: the SVG's parts the page adds or moves (legend, keyboard stops), what a drawn element
 * stands for, the links between diagram and editor (click, cursor, keyboard) and the tooltip. */
import { ids, span } from "./util.js";
import { boxInSvg } from "./panzoom.js";
import { el, pz, state } from "./page.js";
import { currentLine, editorLines, revealLines } from "./editor.js";
import { quickFix, stageName } from "./panels.js";

/** The renderer's legend (it lists only what is drawn) moves into the page's legend box, where it
 *  stays readable whatever the zoom; the downloads keep it in the picture. */
export function moveLegend(svg) {
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

export function markReachability(graph) {
  // The renderer greys unbuilt stages; the class lets tests, CSS and "only the target" find them.
  for (const s of graph.stages) {
    for (const id of [ids.stage(s.index), ids.stageBox(s.index)]) {
      const g = svgEl(id);
      if (g) g.classList.toggle("unreachable", !s.reachable);
    }
  }
}

/** Stages (and stage boxes in the layers view) are keyboard stops: Tab to them, Enter selects. */
export function makeFocusable(graph) {
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

export function svgEl(id) {
  const svg = el.diagram.querySelector("svg");
  return svg ? svg.querySelector(`[id="${CSS.escape(id)}"]`) : null;
}

export function revealInDiagram(g) {
  if (!g) return;
  pz.reveal(boxInSvg(g));
}

// ---------------------------------------------------------------- diagram <-> editor
export function stageOfLine(graph, line) {
  if (!graph) return null;
  for (const s of graph.stages) if (line >= s.line && line <= s.end_line) return s;
  return null;
}

export function instructionAt(stage, line) {
  if (!stage) return null;
  for (let k = 0; k < stage.instructions.length; k++) {
    const ins = stage.instructions[k];
    if (line >= ins.line && line <= ins.end_line) return { ins, k };
  }
  return null;
}

/** The cursor's stage is outlined; when the user moves the cursor, the diagram follows it. */
export function onCursor(st, follow) {
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

export function select(g) {
  for (const s of el.diagram.querySelectorAll(".is-selected")) s.classList.remove("is-selected");
  if (g) g.classList.add("is-selected");
}

export function selectStage(i, reveal) {
  const s = state.graph && state.graph.stages[i];
  if (!s) return;
  const g = svgEl(ids.stage(i)) || svgEl(ids.stageBox(i));
  select(g);
  revealLines(s.line, s.end_line, false);
  if (reveal) revealInDiagram(g);
}

/** What a diagram element stands for: {kind: stage|from|ins|edge|source, ...}. */
export function describe(target) {
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

export function fromLines(stage) {
  // The FROM instruction runs from stage.line to the line before its first instruction.
  const first = stage.instructions[0];
  return { from: stage.line, to: first ? Math.max(stage.line, first.line - 1) : stage.end_line };
}

export function activate(d) {
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

export function hideTooltip() {
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

