/* The Download menu: SVG, PNG (drawn at 2x from the SVG), DOT, JSON, and "Copy as Mermaid".
 *
 * Images come from POST /api/render (format svg, the renderer's sanitised SVG), or from
 * POST /api/project when a project is open (js/project.js); the legend can be left out and the
 * picture cut to the part on screen ("Only what I see") before it is saved.
 */
import { $ } from "./util.js";
import { currentProject, projectName } from "./project.js";

const PNG_SCALE = 2;
const PX_PER_PT = 96 / 72;

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

/** "builder-pattern.Dockerfile" -> "builder-pattern"; "Dockerfile.dev" -> "Dockerfile.dev". */
export function baseName(fileName) {
  const n = (fileName || "Dockerfile").replace(/\.dockerfile$/i, "").replace(/[^A-Za-z0-9._-]+/g, "_");
  return n || "Dockerfile";
}

async function fetchFormat(format, body) {
  const response = await fetch(body.files ? "/api/project" : "/api/render", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, format }),
  });
  if (!response.ok) {
    const data = await response.json().catch(() => null);
    throw new Error((data && data.error && data.error.message) || `The server answered ${response.status}.`);
  }
  return response.blob();
}

/** The server's SVG, without the legend and/or cut to the view box on screen. */
async function exportSvg(body, { legend, view }) {
  const text = await (await fetchFormat("svg", body)).text();
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!legend) for (const g of svg.querySelectorAll('[id="cluster-legend"], g[id^="legend-"]')) g.remove();
  if (view) {
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    svg.setAttribute("width", `${Math.round(view.w)}pt`);
    svg.setAttribute("height", `${Math.round(view.h)}pt`);
  }
  return svg;
}

function svgSize(svg) {
  const vb = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  const w = vb.length === 4 ? vb[2] : parseFloat(svg.getAttribute("width")) || 800;
  const h = vb.length === 4 ? vb[3] : parseFloat(svg.getAttribute("height")) || 600;
  return { w: w * PX_PER_PT, h: h * PX_PER_PT };
}

/** Draw an SVG element into a PNG at `scale` times its natural size. */
async function toPng(svg, scale) {
  const { w, h } = svgSize(svg);
  const width = Math.max(1, Math.round(w * scale));
  const height = Math.max(1, Math.round(h * scale));
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  const blob = new Blob([new XMLSerializer().serializeToString(svg)], { type: "image/svg+xml" });
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.decoding = "sync";
    await new Promise((ok, fail) => {
      img.onload = ok;
      img.onerror = () => fail(new Error("The picture could not be drawn."));
      img.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(img, 0, 0, width, height);
    return await new Promise((ok) => canvas.toBlob(ok, "image/png"));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** ctx: {fileName(), body(), view(), toast(msg), failed(msg)} from the page. */
export function initDownloads(ctx) {
  const legend = $("export-legend");
  const visible = $("export-visible");
  const menu = $("download-menu");
  menu.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-download], button[data-copy]");
    if (!button) return;
    menu.open = false;
    const format = button.dataset.download || button.dataset.copy;
    const project = currentProject();
    const name = baseName(project ? projectName() : ctx.fileName());
    const body = project || ctx.body();
    try {
      if (format === "svg" || format === "png") {
        const svg = await exportSvg(body, { legend: legend.checked, view: visible.checked ? ctx.view() : null });
        if (format === "svg") {
          const text = new XMLSerializer().serializeToString(svg);
          saveBlob(new Blob([text], { type: "image/svg+xml" }), `${name}.svg`);
        } else {
          saveBlob(await toPng(svg, PNG_SCALE), `${name}.png`);
        }
      } else if (format === "mermaid") {
        const text = await (await fetchFormat("mermaid", body)).text();
        const fenced = "```mermaid\n" + text.replace(/\n?$/, "\n") + "```\n";
        try {
          await navigator.clipboard.writeText(fenced);
          ctx.toast("Mermaid copied to the clipboard");
        } catch (_) {
          $("mermaid-text").value = fenced;
          $("mermaid-dialog").showModal();
          $("mermaid-text").select();
        }
      } else {
        saveBlob(await fetchFormat(format, body), `${name}.${format}`);
      }
    } catch (err) {
      ctx.failed(err.message);
    }
  });
  $("mermaid-close").addEventListener("click", () => $("mermaid-dialog").close());
}
