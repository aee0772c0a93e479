/* Pan and zoom of an inline SVG by its view box: wheel, drag, two-finger pinch, keys, buttons.
 *
 * Used by the editor page and the share page. The SVG keeps its own coordinates (Graphviz points);
 * only its viewBox changes, so text stays vector-sharp at any zoom.
 */

const NATURAL = 96 / 72; // one Graphviz point at 100 % zoom, in CSS pixels
export const READABLE = 0.8; // below this scale (screen px per point), 14 pt labels are under ~11 px

export class PanZoom {
  /** container: the element holding the <svg>; onChange(view) after every move. */
  constructor(container, { onChange } = {}) {
    this.el = container;
    this.onChange = onChange || (() => {});
    this.view = null; // current view box {x, y, w, h}
    this.base = null; // the drawing's extent
    this.userMoved = false;
    this.dragged = false;
    this.pointers = new Map();
    this.lastBox = null;
    this._bind();
  }

  svg() {
    return this.el.querySelector("svg");
  }

  /** Take a freshly inserted SVG; keep the user's view if the drawing has the same extent.
   *  focus() may name the part to show when the whole drawing would be too small to read. */
  attach(svg, fallback, focus) {
    const base = contentBox(svg) || fallback;
    const sameShape = this.base && Math.abs(this.base.w - base.w) < 1 && Math.abs(this.base.h - base.h) < 1;
    this.base = base;
    this.focus = focus || null;
    if (!this.userMoved || !sameShape || !this.view) {
      if (!sameShape) this.userMoved = false;
      this.initialView();
    } else {
      this.apply();
    }
  }

  /** Fit, unless that makes text unreadable: then a readable zoom around the focus. */
  initialView() {
    this.fit();
    if (!this.view || !this.focus || this.scale() >= READABLE) return;
    const bb = this.focus();
    if (bb) this.setScaleAt(READABLE, bb.x + bb.width / 2, bb.y + bb.height / 2);
  }

  clear() {
    this.view = null;
    this.base = null;
    this.userMoved = false;
  }

  box() {
    return this.el.getBoundingClientRect();
  }

  apply() {
    const svg = this.svg();
    if (!svg || !this.view) return;
    const v = this.view;
    if (!(v.w > 0 && v.h > 0)) return; // a hidden pane (0 px): nothing sensible to show
    svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
    this.onChange(v);
  }

  /** Screen pixels per view-box unit. */
  scale() {
    const box = this.box();
    return this.view && box.width ? box.width / this.view.w : 1;
  }

  /** Fit the whole drawing, but never blow a small one up past its natural size. */
  fit() {
    if (!this.base) return;
    const box = this.box();
    if (box.width < 2 || box.height < 2) return; // not laid out yet (a hidden tab): fit when shown
    const b = this.base;
    const pad = 16;
    const sx = (box.width - pad * 2) / b.w;
    const sy = (box.height - pad * 2) / b.h;
    const scale = Math.max(Math.min(sx, sy, NATURAL), 0.01);
    this.setScaleAt(scale, b.x + b.w / 2, b.y + b.h / 2);
  }

  /** Centre the view on (cx, cy) in view-box units at the given scale (pixels per unit). */
  setScaleAt(scale, cx, cy) {
    const box = this.box();
    if (box.width < 2 || box.height < 2) return;
    const w = box.width / scale;
    const h = box.height / scale;
    this.view = { x: cx - w / 2, y: cy - h / 2, w, h };
    this.apply();
  }

  /** Bring a box (view-box units) into view: pan only, unless it does not fit or text is too small. */
  reveal(bb, { minScale = READABLE } = {}) {
    if (!this.view || !bb) return;
    const box = this.box();
    if (box.width < 2) return;
    let scale = this.scale();
    const fits = bb.width * scale <= box.width * 0.9 && bb.height * scale <= box.height * 0.9;
    if (!fits) scale = Math.min((box.width * 0.9) / bb.width, (box.height * 0.9) / bb.height);
    scale = Math.min(Math.max(scale, minScale), NATURAL * 2);
    const v = this.view;
    const inside =
      fits &&
      scale === this.scale() &&
      bb.x >= v.x &&
      bb.y >= v.y &&
      bb.x + bb.width <= v.x + v.w &&
      bb.y + bb.height <= v.y + v.h;
    if (inside) return;
    this.setScaleAt(scale, bb.x + bb.width / 2, bb.y + bb.height / 2);
    this.userMoved = true;
  }

  zoom(factor, clientX, clientY) {
    if (!this.view || !this.base) return;
    const box = this.box();
    const v = this.view;
    const newW = Math.min(Math.max(v.w / factor, this.base.w / 400, 20), this.base.w * 20);
    const f = v.w / newW;
    const px = clientX === undefined ? 0.5 : (clientX - box.left) / box.width;
    const py = clientY === undefined ? 0.5 : (clientY - box.top) / box.height;
    const newH = v.h / f;
    this.view = { x: v.x + (v.w - newW) * px, y: v.y + (v.h - newH) * py, w: newW, h: newH };
    this.userMoved = true;
    this.apply();
  }

  panBy(dxPx, dyPx) {
    if (!this.view) return;
    const box = this.box();
    const v = this.view;
    this.view = { ...v, x: v.x + (dxPx * v.w) / box.width, y: v.y + (dyPx * v.h) / box.height };
    this.userMoved = true;
    this.apply();
  }

  /** Keys on the focused container: + - 0 and arrows. Returns true when handled. */
  key(e) {
    if (e.key === "+" || e.key === "=") this.zoom(1.25);
    else if (e.key === "-") this.zoom(0.8);
    else if (e.key === "0") {
      this.userMoved = false;
      this.fit();
    } else if (e.key.startsWith("Arrow")) {
      const step = 60;
      this.panBy(
        e.key === "ArrowLeft" ? -step : e.key === "ArrowRight" ? step : 0,
        e.key === "ArrowUp" ? -step : e.key === "ArrowDown" ? step : 0,
      );
    } else return false;
    return true;
  }

  _bind() {
    const el = this.el;
    el.addEventListener(
      "wheel",
      (e) => {
        if (!this.view) return;
        e.preventDefault();
        if (e.ctrlKey || e.metaKey || Math.abs(e.deltaY) >= Math.abs(e.deltaX)) {
          this.zoom(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0025)), e.clientX, e.clientY);
        } else {
          this.panBy(e.deltaX, 0);
        }
      },
      { passive: false },
    );
    el.addEventListener("pointerdown", (e) => {
      if ((e.pointerType === "mouse" && e.button !== 0) || !this.view) return;
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (this.pointers.size === 1) {
        this.moved = 0;
        this.dragged = false;
      }
    });
    el.addEventListener("pointermove", (e) => {
      const p = this.pointers.get(e.pointerId);
      if (!p) return;
      if (this.pointers.size >= 2) {
        // pinch: zoom by the change of distance between the two fingers, around their middle
        const [a, b] = [...this.pointers.values()];
        const before = Math.hypot(a.x - b.x, a.y - b.y);
        p.x = e.clientX;
        p.y = e.clientY;
        const [c, d] = [...this.pointers.values()];
        const after = Math.hypot(c.x - d.x, c.y - d.y);
        if (before > 0 && after > 0) this.zoom(after / before, (c.x + d.x) / 2, (c.y + d.y) / 2);
        this.dragged = true;
        return;
      }
      const dx = e.clientX - p.x;
      const dy = e.clientY - p.y;
      this.moved += Math.abs(dx) + Math.abs(dy);
      if (this.moved > 4) {
        if (!this.dragged) {
          try {
            el.setPointerCapture(e.pointerId);
          } catch (_) {
            /* the pointer already went away */
          }
          el.classList.add("panning");
        }
        this.dragged = true;
        this.panBy(-dx, -dy);
      }
      p.x = e.clientX;
      p.y = e.clientY;
    });
    const end = (e) => {
      if (!this.pointers.delete(e.pointerId)) return;
      if (this.pointers.size) return;
      el.classList.remove("panning");
      // the click that follows a drag is not a selection
      setTimeout(() => (this.dragged = false), 0);
    };
    el.addEventListener("pointerup", end);
    el.addEventListener("pointercancel", end);
    new ResizeObserver(() => {
      const box = this.box();
      if (box.width < 2 || box.height < 2) return;
      if (!this.userMoved || !this.view || !this.lastBox || this.lastBox.width < 2) this.initialView();
      else {
        // keep the scale and the centre, follow the new size
        const scale = this.lastBox.width / this.view.w;
        const cx = this.view.x + this.view.w / 2;
        const cy = this.view.y + this.view.h / 2;
        this.setScaleAt(scale, cx, cy);
      }
      this.lastBox = box;
    }).observe(el);
  }
}

/** The viewBox an SVG declares, or its width and height. */
export function parseViewBox(svg) {
  const vb = (svg.getAttribute("viewBox") || "").trim().split(/[\s,]+/).map(Number);
  if (vb.length === 4 && vb.every(Number.isFinite) && vb[2] > 0 && vb[3] > 0) {
    return { x: vb[0], y: vb[1], w: vb[2], h: vb[3] };
  }
  const w = parseFloat(svg.getAttribute("width")) || 100;
  const h = parseFloat(svg.getAttribute("height")) || 100;
  return { x: 0, y: 0, w, h };
}

/** The drawing's extent in view-box units (needs the SVG in the document). */
export function contentBox(svg) {
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
  return { x: bb.x * m.a + m.e - pad, y: bb.y * m.d + m.f - pad, w: bb.width * m.a + 2 * pad, h: bb.height * m.d + 2 * pad };
}

/** An element's box in the SVG's view-box units (its group's transform applied). */
export function boxInSvg(g) {
  let bb;
  try {
    bb = g.getBBox();
  } catch (_) {
    return null;
  }
  const root = g.ownerSVGElement && (g.ownerSVGElement.querySelector("g.graph") || g.ownerSVGElement.querySelector("g"));
  const t = root && root.transform.baseVal.consolidate();
  const m = t ? t.matrix : { a: 1, d: 1, e: 0, f: 0 };
  return { x: bb.x * m.a + m.e, y: bb.y * m.d + m.f, width: bb.width * m.a, height: bb.height * m.d };
}
