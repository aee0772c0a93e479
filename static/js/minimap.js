/* A small overview of a big diagram: the whole drawing, the part on screen as a rectangle; a click
 * or drag in it moves the view there. Shown only when the view does not hold the whole drawing. */

const NS = "http://www.w3.org/2000/svg";

export class Minimap {
  /** box: the element to draw into; pz: the diagram's PanZoom. */
  constructor(box, pz) {
    this.box = box;
    this.pz = pz;
    this.svg = null;
    this.rect = null;
    const go = (e) => {
      if (!this.svg || !this.pz.view) return;
      const m = this.svg.getScreenCTM();
      if (!m) return;
      const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
      const v = this.pz.view;
      this.pz.view = { ...v, x: p.x - v.w / 2, y: p.y - v.h / 2 };
      this.pz.userMoved = true;
      this.pz.apply();
    };
    box.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      box.setPointerCapture(e.pointerId);
      go(e);
      const move = (ev) => go(ev);
      const up = () => {
        box.removeEventListener("pointermove", move);
        box.removeEventListener("pointerup", up);
      };
      box.addEventListener("pointermove", move);
      box.addEventListener("pointerup", up);
    });
  }

  /** A copy of the drawing (ids and focus stops removed: it is a picture, not a second diagram). */
  show(svg) {
    const copy = svg.cloneNode(true);
    for (const e of copy.querySelectorAll("[id], [tabindex], [role], [aria-label]")) {
      for (const a of ["id", "tabindex", "role", "aria-label"]) e.removeAttribute(a);
    }
    copy.removeAttribute("role");
    copy.removeAttribute("aria-label");
    copy.setAttribute("aria-hidden", "true");
    copy.setAttribute("focusable", "false");
    const b = this.pz.base;
    if (b) copy.setAttribute("viewBox", `${b.x} ${b.y} ${b.w} ${b.h}`);
    this.rect = document.createElementNS(NS, "rect");
    this.rect.setAttribute("class", "minimap-view");
    copy.appendChild(this.rect);
    this.svg = copy;
    this.box.replaceChildren(copy);
    this.update(this.pz.view);
  }

  clear() {
    this.svg = null;
    this.box.replaceChildren();
    this.box.hidden = true;
  }

  /** Follow the view; hidden while the whole drawing is on screen. */
  update(v) {
    const b = this.pz.base;
    if (!this.svg || !v || !b) return;
    const whole = v.x <= b.x + 1 && v.y <= b.y + 1 && v.x + v.w >= b.x + b.w - 1 && v.y + v.h >= b.y + b.h - 1;
    this.box.hidden = whole;
    this.rect.setAttribute("x", String(v.x));
    this.rect.setAttribute("y", String(v.y));
    this.rect.setAttribute("width", String(v.w));
    this.rect.setAttribute("height", String(v.h));
  }
}
