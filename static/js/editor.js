/* The Dockerfile editor: CodeMirror 6 (window.CM, bundled in static/vendor), its line marks for the
 * linked stage and for problems, and the few operations the page needs. */
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
    for (let n = from; n <= to; n++) marks.push({ pos: doc.line(n).from, cls: r.cls });
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
  { tag: CM.tags.keyword, class: "tok-kw" },
  { tag: CM.tags.comment, class: "tok-comment" },
  { tag: CM.tags.string, class: "tok-string" },
  { tag: CM.tags.number, class: "tok-number" },
  { tag: CM.tags.variableName, class: "tok-var" },
  { tag: CM.tags.invalid, class: "tok-invalid" },
]);

export let view = null;

/** Make the editor in `parent` with `doc`; hooks: onChange(text), onCursor(state, userMoved), onEscape(). */
export function createEditor(parent, doc, hooks) {
  view = new CM.EditorView({
  parent,
  state: CM.EditorState.create({
    doc,
    extensions: [
      CM.keymap.of([
        {
          key: "Escape",
          run: () => {
            hooks.onEscape();
            return true;
          },
        },
      ]),
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
      CM.EditorView.contentAttributes.of({ "aria-label": "Dockerfile editor (Esc leaves it)", spellcheck: "false" }),
      linkedField,
      diagField,
      CM.EditorView.updateListener.of((u) => {
        if (u.docChanged) hooks.onChange(u.state.doc.toString());
        if (u.selectionSet || u.docChanged) hooks.onCursor(u.state, u.view.hasFocus);
      }),
    ],
  }),
  });
  return view;
}

export function editorText() {
  return view.state.doc.toString();
}

export function setEditorText(text) {
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: text },
    selection: { anchor: 0 },
    effects: [setLinked.of(CM.Decoration.none), setDiagLines.of(CM.Decoration.none)],
    scrollIntoView: true,
  });
}

export function currentLine(st) {
  return st.doc.lineAt(st.selection.main.head).number;
}

/** Select and highlight lines from..to (1-based, inclusive) and scroll them into view. */
export function revealLines(from, to, focus) {
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


/** Mark problem lines: ranges [{from, to, cls}] (1-based lines). */
export function setProblemLines(ranges) {
  view.dispatch({ effects: setDiagLines.of(lineDecorations(view, ranges)) });
}

/** The text of lines from..to (1-based, inclusive), "" when out of range. */
export function editorLines(from, to) {
  const doc = view.state.doc;
  if (from < 1 || from > doc.lines) return "";
  to = Math.min(to, doc.lines);
  return doc.sliceString(doc.line(from).from, doc.line(to).to);
}
