/* Whole projects on the editor page: a folder (picked or dropped) is read in the browser, its
 * Dockerfiles, bake, compose files and build scripts are sent to POST /api/project, and the
 * project's drawing (a cluster per file, links between files) takes the diagram's place. The
 * "Build" menu picks a bake group or target or a compose service, "Variables" gives bake
 * variables values (as buildx's --var or the environment); a builder-pattern script's
 * equivalent multi-stage Dockerfile opens in the editor (then the page is back to one file). */
import { $ } from "./util.js";
import { parseViewBox } from "./panzoom.js";
import { el, pz, toast } from "./page.js";

const WANTED = /(^|\/)(dockerfile[^/]*|[^/]*\.dockerfile|docker-bake[^/]*\.json|[^/]*\.hcl|(docker-)?compose[^/]*\.ya?ml|[^/]*\.(sh|bash)|(gnu)?makefile)$/i;
const SKIP_DIRS = new Set([".git", "node_modules", ".venv", "vendor", "__pycache__"]);
const MAX_FILES = 200;
const MAX_FILE_BYTES = 1024 * 1024;

const bar = $("project-bar");
const nameEl = $("project-name");
const select = $("project-target");
const convert = $("project-multistage");
const status = $("project-status");
const input = $("project-input");
const varsMenu = $("project-variables");
const varsForm = $("project-vars-form");
const varsList = $("project-vars-list");

let current = null; // {name, files, target, contexts, variables: {name: value}, defaults: {name: text}, data}

async function readFiles(entries) {
  const files = {};
  for (const [path, file] of entries) {
    if (!WANTED.test(path) || file.size > MAX_FILE_BYTES) continue;
    if (Object.keys(files).length >= MAX_FILES) break;
    try {
      files[path] = new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer());
    } catch (_) {
      /* not UTF-8 text: not a project file */
    }
  }
  return files;
}

async function post(body) {
  const response = await fetch("/api/project", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    const error = await response.json().catch(() => null);
    throw new Error((error && error.error && error.error.message) || `The server answered ${response.status}.`);
  }
  return response;
}

function showSvg(svgText) {
  const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== "svg" || doc.querySelector("parsererror")) throw new Error("The drawing could not be read.");
  for (const t of svg.querySelectorAll("title")) t.remove();
  const fallback = parseViewBox(svg);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `Project build graph: ${current.name}`);
  el.diagram.replaceChildren(document.importNode(svg, true));
  el.diagram.dataset.project = "1";
  el.legend.hidden = true;
  pz.userMoved = false;
  pz.attach(el.diagram.querySelector("svg"), fallback, () => null);
}

/** The body of POST /api/project (and of a project's share) for what is on screen. */
function body(target) {
  const out = { files: current.files, project_target: target || null };
  if (current.contexts && Object.keys(current.contexts).length) out.build_contexts = current.contexts;
  if (current.variables && Object.keys(current.variables).length) out.variables = current.variables;
  return out;
}

/** Draw the project on screen; resolves to null, or the server's message when it was not drawn. */
async function draw(target) {
  const request = body(target);
  status.textContent = "Drawing the project…";
  try {
    const data = await (await post({ ...request, format: "json" })).json();
    const svg = await (await post({ ...request, format: "svg" })).text();
    current.data = data;
    fillTargets(data);
    fillVariables(data);
    convert.hidden = !data.conversions.length;
    showSvg(svg);
    const files = data.files.filter((f) => f.graph).length;
    status.textContent = `${files} Dockerfile${files === 1 ? "" : "s"} · ${data.links.length} link${data.links.length === 1 ? "" : "s"}`;
    return null;
  } catch (err) {
    status.textContent = err.message;
    toast(`The project was not drawn: ${err.message}`);
    return err.message;
  }
}

/** The open project's named build contexts ({name: value}), or null when no project is open. */
export function projectContexts() {
  return current ? { ...current.contexts } : null;
}

/** Give the open project these named build contexts and draw it; resolves like draw(). */
export function setProjectContexts(contexts) {
  if (!current) return Promise.resolve(null);
  current.contexts = { ...contexts };
  return draw(current.target);
}

function announce() {
  document.dispatchEvent(new CustomEvent("dfviz:project", { detail: { open: Boolean(current) } }));
}

function fillTargets(data) {
  select.replaceChildren(new Option(data.selected ? `default (${data.selected})` : "everything", ""));
  for (const t of data.targets) {
    const option = new Option(`${t.name} (${t.kind.replace("-", " ")})`, t.name);
    select.appendChild(option);
  }
  select.value = current.target || "";
}

function fillVariables(data) {
  const rows = [];
  for (const v of data.variables || []) {
    if (!(v.name in current.defaults)) current.defaults[v.name] = v.from === "user" ? "" : v.value === null ? v.from : v.value;
    const id = `project-var-${rows.length / 2}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = v.name;
    label.title = `${v.path}${v.line ? `:${v.line}` : ""}`;
    const field = document.createElement("input");
    field.id = id;
    field.name = v.name;
    field.dataset.testid = `project-var-${v.name}`;
    field.placeholder = current.defaults[v.name] === "" ? "(empty)" : current.defaults[v.name];
    field.value = current.variables[v.name] ?? "";
    field.autocomplete = "off";
    field.spellcheck = false;
    rows.push(label, field);
  }
  varsList.replaceChildren(...rows);
  varsMenu.hidden = !rows.length;
}

// a panel, not a form: the page's no-JavaScript form already holds it (forms cannot nest)
function applyVariables() {
  if (!current) return;
  const given = {};
  for (const field of varsList.querySelectorAll("input")) if (field.value !== "") given[field.name] = field.value;
  current.variables = given;
  varsMenu.open = false;
  draw(current.target);
}

$("project-vars-apply").addEventListener("click", applyVariables);
varsForm.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && e.target.matches("input")) {
    e.preventDefault(); // not the page form's submit
    applyVariables();
  }
});

/** Open a project from [relative path, File] pairs. */
export async function openProject(name, entries) {
  // paths inside the folder (its name is shown above the drawing)
  if (entries.length && entries.every(([path]) => path.startsWith(`${name}/`))) {
    entries = entries.map(([path, file]) => [path.slice(name.length + 1), file]);
  }
  const files = await readFiles(entries);
  if (!Object.keys(files).length) {
    toast(`${name}: no Dockerfile, bake, compose file or build script in it.`);
    return;
  }
  await showProject(name, files);
}

/** Open a project from its files' texts ({path: text}) and options (project_target,
 * build_contexts, variables), e.g. a shared project or its files with secrets redacted. */
export async function showProject(name, files, options = {}) {
  const target = options.project_target || "";
  current = {
    name,
    files,
    data: null,
    target,
    contexts: options.build_contexts || {},
    variables: options.variables || {},
    defaults: {},
  };
  nameEl.textContent = name;
  bar.hidden = false;
  announce();
  await draw(target);
}

/** Replace the files of the open project (e.g. with secrets redacted) and draw it again. */
export function replaceFiles(files) {
  if (!current) return;
  current.files = files;
  draw(current.target);
}

/** The name of the open project (its folder's), or null. */
export function projectName() {
  return current ? current.name : null;
}

/** The project on screen as a share body ({files, project_target, build_contexts, variables}), or null. */
export function currentProject() {
  return current ? body(current.target) : null;
}

select.addEventListener("change", () => {
  if (!current) return;
  current.target = select.value;
  draw(select.value);
});

convert.addEventListener("click", () => {
  const conversion = current && current.data && current.data.conversions[0];
  if (!conversion) return;
  closeProject();
  window.dfviz.load(conversion.dockerfile);
  toast(`${conversion.from.join(" + ")} as one multi-stage Dockerfile`);
});

export function closeProject() {
  current = null;
  bar.hidden = true;
  delete el.diagram.dataset.project;
  announce();
}

input.addEventListener("change", () => {
  const list = Array.from(input.files || []);
  const entries = list.map((f) => [f.webkitRelativePath || f.name, f]);
  const top = entries.length ? entries[0][0].split("/")[0] : "project";
  openProject(top, entries);
  input.value = "";
});

/** A drop with a folder or several files is a project; read folders recursively (bounded). */
export function isProjectDrop(dataTransfer) {
  const items = Array.from(dataTransfer.items || []).filter((i) => i.kind === "file");
  return items.length > 1 || items.some((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()?.isDirectory);
}

export async function openProjectDrop(dataTransfer) {
  // taken before any await: a drop's items are emptied once its event is over. An item without a
  // file-system entry (files dropped by a script, some platforms) is read as the plain file.
  const roots = [];
  const loose = [];
  for (const item of Array.from(dataTransfer.items || [])) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    if (entry) roots.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  const entries = [];
  const walk = async (entry, prefix) => {
    if (entries.length >= 5000) return;
    if (entry.isFile) {
      const file = await new Promise((ok, ko) => entry.file(ok, ko));
      entries.push([prefix + entry.name, file]);
    } else if (entry.isDirectory && !SKIP_DIRS.has(entry.name)) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, ko) => reader.readEntries(ok, ko));
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const root of roots) await walk(root, "");
  for (const file of loose) entries.push([file.name, file]);
  const folder = roots.length === 1 && !loose.length && roots[0].isDirectory;
  openProject(folder ? roots[0].name : "project", entries);
}

// editing the text goes back to one file
document.addEventListener("dfviz:rendered", () => {
  if (current) closeProject();
});
