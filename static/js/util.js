/* Small helpers shared by the page's modules. */

export const $ = (id) => document.getElementById(id);

/** The server's settings the page must agree with (body data-config, from webapp/web/pages.py). */
export const config = (() => {
  try {
    return JSON.parse(document.body.dataset.config || "{}");
  } catch (_) {
    return {};
  }
})();

/** 1048576 -> "1 MB", 65536 -> "64 KB", 900 -> "900 bytes". */
export function formatBytes(n) {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(n >= 10240 ? 0 : 1)} KB`;
  return `${n} bytes`;
}

export function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}

/** Copy text to the clipboard; falls back to selecting a field and execCommand. */
export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    if (field && field.select) {
      field.focus();
      field.select();
      try {
        return document.execCommand("copy");
      } catch (_e) {
        return false;
      }
    }
    return false;
  }
}

/**
 * The SVG id contract (webapp/render/scene.py SVG_IDS, passed by the page): `ids.stage(3)` is the
 * id of stage 3's node, `ids.parse(id)` tells what an id stands for.
 */
export const ids = (() => {
  const p = config.svgIds || {
    stage: "stage-{stage}",
    stage_box: "cluster-stage-{stage}",
    from: "ins-{stage}-from",
    instruction: "ins-{stage}-{k}",
    edge: "edge-{n}",
    legend: "cluster-legend",
  };
  const fill = (pattern, values) => pattern.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  const regex = (pattern) =>
    new RegExp("^" + pattern.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, "(?<$1>\\d+)") + "$");
  const kinds = ["stage", "stage_box", "from", "instruction", "edge"];
  const regexes = kinds.map((k) => [k, regex(p[k])]);
  return {
    stage: (i) => fill(p.stage, { stage: i }),
    stageBox: (i) => fill(p.stage_box, { stage: i }),
    from: (i) => fill(p.from, { stage: i }),
    instruction: (i, k) => fill(p.instruction, { stage: i, k }),
    edge: (n) => fill(p.edge, { n }),
    legend: p.legend,
    /** {kind, stage?, k?, n?} for an id of the contract, else null. */
    parse(id) {
      for (const [kind, re] of regexes) {
        const m = re.exec(id);
        if (m) {
          const g = m.groups || {};
          return { kind, stage: g.stage === undefined ? null : +g.stage, k: g.k === undefined ? null : +g.k, n: g.n === undefined ? null : +g.n };
        }
      }
      return null;
    },
  };
})();
