"""Check in Chromium that no label text overflows its box, for every Dockerfile given.

    .venv/bin/python -m scripts.check_labels [FILE ...]   # default: every real corpus file (vendored)

Each file is analysed and drawn in both views by ``render()`` with a :class:`webapp.render.DotRunner`
(as the server draws SVG: without pango's text measurement, widths from the DOT writer, the
legend drawn apart and put above), the SVG is put
in a page, and for every node and cluster the bounding box of each ``<text>`` is compared with the
bounding box of the shapes around it. Prints each overflow and exits 1 if there is any.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_REAL = ROOT / "tests" / "data" / "corpus" / "real"
TOLERANCE = 0.5
"""Points a text box may pass its shape's box by (anti-aliasing, rounding)."""

MEASURE_JS = """
() => {
  const out = [];
  for (const g of document.querySelectorAll('g.node, g.cluster')) {
    const shapes = [...g.querySelectorAll(':scope > polygon, :scope > path, :scope > ellipse')];
    const texts = [...g.querySelectorAll(':scope > text')];
    if (!shapes.length || !texts.length) continue;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const s of shapes) {
      const b = s.getBBox();
      x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y);
      x1 = Math.max(x1, b.x + b.width); y1 = Math.max(y1, b.y + b.height);
    }
    for (const t of texts) {
      const b = t.getBBox();
      const over = Math.max(x0 - b.x, b.x + b.width - x1, y0 - b.y, b.y + b.height - y1);
      out.push({id: g.id, text: t.textContent, over: over, textWidth: b.width, boxWidth: x1 - x0});
    }
  }
  return out;
}
"""


def overflows(page, svg: str) -> tuple[int, list[dict]]:
    """(texts checked, those passing their box by more than :data:`TOLERANCE`) for one SVG."""
    page.set_content("<!doctype html><html><body>" + svg + "</body></html>")
    rows = page.evaluate(MEASURE_JS)
    return len(rows), [r for r in rows if r["over"] > TOLERANCE]


def check(page, runner, text: str, name: str = "") -> tuple[int, list[str]]:
    """(texts checked, one line per overflow) for a Dockerfile's text in both views."""
    from webapp import analyze
    from webapp.render import render

    graph = analyze(text)
    checked, problems = 0, []
    if not graph.stages:
        return 0, []
    for view in ("stages", "layers"):
        count, bad = overflows(page, render(graph, "svg", view, runner=runner)[0].decode("utf-8"))
        checked += count
        problems.extend(
            f"{name} {view} {r['id']}: {r['text'][:50]!r} passes its box by {r['over']:.1f}" for r in bad
        )
    return checked, problems


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_util import chromium

    from webapp.render import DotRunner

    files = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    files = files or sorted(CORPUS_REAL.glob("*.Dockerfile"))
    total, problems = 0, []
    with DotRunner() as runner, chromium() as browser:
        page = browser.new_page()
        for path in files:
            count, bad = check(page, runner, path.read_text(encoding="utf-8", errors="replace"), path.name)
            total += count
            problems.extend(bad)
    for line in problems:
        print(line)
    print(f"{len(files)} files, both views: {total} label texts checked, {len(problems)} overflowing")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
