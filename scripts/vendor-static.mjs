// Bundle the npm front-end libraries into static/vendor/ (git-ignored); run by scripts/ensure-static
// after `npm ci`. Only what the page uses is exported, as one minified IIFE that sets window.CM,
// so static/app.js stays a plain script that needs no build step of its own.
import { build } from "esbuild";
import { mkdirSync, readFileSync, statSync } from "node:fs";
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

// CodeMirror's style-mod puts its styles in a <style> element when the root is a document, which
// the page's `style-src 'self'` blocks (and a nonce would weaken it). Constructable stylesheets
// (document.adoptedStyleSheets) are not inline styles, so patch style-mod to use them for documents
// too; the build fails if the code it patches ever changes, rather than shipping an unstyled editor.
const STYLE_MOD_TEST = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const cspSafeStyles = {
  name: "csp-safe-style-mod",
  setup(b) {
    b.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, (args) => {
      const code = readFileSync(args.path, "utf8");
      if (!code.includes(STYLE_MOD_TEST)) throw new Error(`style-mod changed; review the CSP patch in ${args.path}`);
      return { contents: code.replace(STYLE_MOD_TEST, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {"), loader: "js" };
    });
  },
};

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
  plugins: [cspSafeStyles],
});
console.log(`static/vendor/codemirror.js: ${statSync(target).size} bytes`);
