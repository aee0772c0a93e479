// Bundle the npm front-end libraries into static/vendor/ (git-ignored); run by scripts/ensure-static
// after `npm ci`. Only what the page uses is exported, as one minified IIFE that sets window.CM,
// so static/app.js stays a plain script that needs no build step of its own.
import { build } from "esbuild";
import { mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "static", "vendor");
mkdirSync(out, { recursive: true });

const entry = `
export { EditorState, StateField, StateEffect, RangeSetBuilder, EditorSelection, Compartment } from "@codemirror/state";
export { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
         highlightSpecialChars, drawSelection, Decoration, placeholder } from "@codemirror/view";
export { StreamLanguage, syntaxHighlighting, HighlightStyle, bracketMatching, indentUnit } from "@codemirror/language";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
export { tags } from "@lezer/highlight";
export { dockerFile } from "@codemirror/legacy-modes/mode/dockerfile";
`;

const target = join(out, "codemirror.js");
await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: "codemirror-entry.js", loader: "js" },
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "CM",
  target: ["es2020"],
  legalComments: "eof",
  outfile: target,
  logLevel: "warning",
});
console.log(`static/vendor/codemirror.js: ${statSync(target).size} bytes`);
