/* The panels around the diagram: Problems (with quick fixes), target list, build args, named build
 * contexts, What ships, and "Find a stage". Their markup matches templates/index.html (the no-JavaScript page), which a
 * browser test compares. */
import { $, ids, span } from "./util.js";
import { el, state, toast } from "./page.js";
import { revealLines, setProblemLines, view } from "./editor.js";
import { revealInDiagram, selectStage, stageOfLine, svgEl } from "./diagram.js";
import { projectContexts, setProjectContexts } from "./project.js";

/** Tell the page an option changed: it redraws (render) or only saves the state. */
function optionsChanged(render) {
  document.dispatchEvent(new CustomEvent("dfviz:options", { detail: { render } }));
}

// ---------------------------------------------------------------- problems
/** A fix that is certain: "COPY --from=builder … did you mean the stage 'build'?" on a line that
 *  names `builder` once. Returns {line, from, to, insert, label} or null. */
export function quickFix(d) {
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

export function applyFix(fix) {
  view.dispatch({ changes: { from: fix.from, to: fix.to, insert: fix.insert }, selection: { anchor: fix.from } });
  toast(`Changed to ${fix.insert}`);
}

export function showDiagnostics(diags, error) {
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
  setProblemLines(ranges);
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
export function fillTargets(graph) {
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

export function fillBuildArgs(graph) {
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

export function updateArgsBadge() {
  const set = Object.values(state.buildArgs).filter((v) => v !== "").length;
  el.buildArgsCount.textContent = set ? `${set} set` : "";
}

el.buildArgs.addEventListener("input", (e) => {
  const name = e.target.dataset && e.target.dataset.arg;
  if (!name) return;
  state.buildArgs[name] = e.target.value;
  updateArgsBadge();
  optionsChanged(true);
});

// ---------------------------------------------------------------- named build contexts
/* As buildx's --build-context name=value: the names a context could replace come with each
 * diagram (/api/diagram's context_names); any other name can be added. The server validates the
 * pairs, and its message shows here. With a project open they are the project's contexts. */

/** The contexts given for what is on screen: the open project's, else the Dockerfile's. */
function givenContexts() {
  return projectContexts() || { ...state.buildContexts };
}

export function showContextError(message) {
  el.contextsError.textContent = message || "";
  el.contextsError.hidden = !message;
}

function contextRow(name, use, given, removable, i) {
  const id = `build-context-${i}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = name;
  if (use) label.append(" ", span("context-use", use));
  const input = document.createElement("input");
  input.type = "text";
  input.id = id;
  input.dataset.context = name;
  input.setAttribute("data-testid", `build-context-${name}`);
  input.placeholder = "docker-image://…, target:…, a path";
  input.value = given[name] || "";
  input.spellcheck = false;
  input.autocomplete = "off";
  input.setAttribute("autocapitalize", "off");
  const cell = span("context-value", "");
  cell.append(input);
  if (removable) {
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn btn-icon";
    remove.dataset.remove = name;
    remove.setAttribute("aria-label", `Remove the context ${name}`);
    remove.title = "Remove";
    remove.textContent = "\u00d7";
    cell.append(remove);
  }
  return [label, cell];
}

/** The list: one row per name a context could replace, then the other names given. */
export function fillContexts() {
  const given = givenContexts();
  const names = projectContexts() ? [] : state.contextNames;
  const listed = new Set(names.map((n) => n.name));
  const extra = Object.keys(given).filter((n) => !listed.has(n));
  const key = JSON.stringify([names, extra]);
  if (key !== el.contexts.dataset.key || !el.contexts.contains(document.activeElement)) {
    el.contexts.dataset.key = key;
    const rows = [];
    names.forEach((n, i) => rows.push(...contextRow(n.name, `${n.use}, line ${n.line}`, given, false, i)));
    extra.forEach((name, i) => rows.push(...contextRow(name, "", given, true, names.length + i)));
    if (!rows.length) {
      const p = document.createElement("p");
      p.className = "hint";
      p.textContent = projectContexts()
        ? "No named context given to this project's builds."
        : "No stage or image name here for a context to replace.";
      rows.push(p);
    }
    el.contexts.replaceChildren(...rows);
  }
  const count = Object.keys(given).length;
  el.contextsCount.textContent = count ? `${count} set` : "";
}

/** Use these contexts: the project is drawn again, or the Dockerfile re-rendered. */
async function applyContexts(contexts) {
  if (projectContexts()) {
    showContextError(null);
    const error = await setProjectContexts(contexts);
    showContextError(error);
  } else {
    state.buildContexts = contexts;
    optionsChanged(true);
  }
  fillContexts();
}

/** A row's field was changed (Enter, or leaving it): use its value if it is new. */
function applyField(field) {
  const name = field.dataset && field.dataset.context;
  if (!name) return;
  const contexts = givenContexts();
  const value = field.value.trim();
  if ((contexts[name] || "") === value) return;
  if (value) contexts[name] = value;
  else delete contexts[name];
  applyContexts(contexts);
}
el.contexts.addEventListener("change", (e) => applyField(e.target));
el.contexts.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && e.target.dataset.context) {
    e.preventDefault(); // not the page form's submit (its synthetic click would close the menu)
    applyField(e.target);
  }
});
el.contexts.addEventListener("click", (e) => {
  const button = e.target.closest("[data-remove]");
  if (!button) return;
  e.stopPropagation(); // the button goes with its row: not an "outside click" that closes the menu
  const contexts = givenContexts();
  delete contexts[button.dataset.remove];
  applyContexts(contexts);
  el.contextName.focus();
});

function addContext() {
  const name = el.contextName.value.trim();
  const value = el.contextValue.value.trim();
  if (!name) return showContextError("Give the context a name: the stage or image it replaces, e.g. base.");
  if (!value) return showContextError(`Give ${name} a value, e.g. docker-image://alpine:3.20.`);
  const contexts = givenContexts();
  contexts[name] = value;
  el.contextName.value = "";
  el.contextValue.value = "";
  applyContexts(contexts);
  el.contextName.focus();
}
$("context-add").addEventListener("click", addContext);
for (const field of [el.contextName, el.contextValue]) {
  field.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault(); // not the page form's submit
      addContext();
    }
  });
}
el.contextsMenu.addEventListener("toggle", () => {
  if (el.contextsMenu.open) fillContexts();
});
document.addEventListener("dfviz:project", () => {
  showContextError(null);
  fillContexts();
});

export function stageName(graph, i) {
  const s = graph.stages[i];
  return s ? s.display_name : `stage ${i}`;
}

export function fillShips(graph) {
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
export function fillStageNames(graph) {
  el.stageNames.replaceChildren(...graph.stages.map((s) => new Option(s.display_name)));
}

export function findStage(query) {
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
  optionsChanged(false);
});

