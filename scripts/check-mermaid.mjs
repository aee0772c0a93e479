// Parse Mermaid files with Mermaid's own parser (the one GitHub renders with), for the tests.
// usage: node scripts/check-mermaid.mjs FILE.mmd...   prints one line per file that fails,
// then "N/M parse"; exits 1 when any file fails. Mermaid needs a DOM, so jsdom provides one.
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

const files = process.argv.slice(2);
let failed = 0;
for (const file of files) {
  try {
    await mermaid.parse(readFileSync(file, "utf8"));
  } catch (error) {
    failed += 1;
    const message = String((error && error.message) || error).split("\n").slice(0, 4).join(" | ");
    console.log(`FAIL ${file}: ${message}`);
  }
}
console.log(`${files.length - failed}/${files.length} parse`);
process.exit(failed ? 1 : 0);
