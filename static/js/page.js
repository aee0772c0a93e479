/* The editor page's shared parts: its elements, its state, the pan/zoom of its diagram, toasts.
 * Every module of the page imports these; nothing here knows about rendering. */
import { $, config } from "./util.js";
import { PanZoom } from "./panzoom.js";

export const MAX_BYTES = config.maxInputBytes || 1024 * 1024;

export const el = {
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
  contextsMenu: $("build-contexts-menu"),
  contexts: $("build-contexts"),
  contextsCount: $("build-contexts-count"),
  contextsError: $("build-contexts-error"),
  contextName: $("context-new-name"),
  contextValue: $("context-new-value"),
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

export const state = {
  graph: null, // graph JSON of the diagram on screen
  good: false, // the diagram on screen came from text without errors
  buildArgs: {}, // name -> value typed by the user (kept while the ARG comes and goes)
  buildContexts: {}, // name -> value of the user's named build contexts (--build-context)
  contextNames: [], // [{name, line, use}]: what a context could replace (from /api/diagram)
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
  draws: 0, // diagrams drawn by the script
};

export const pz = new PanZoom(el.diagram);

export function toast(message) {
  el.toast.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.toast.textContent = ""), 4000);
}
