/* What survives a reload: the last file and options in localStorage, and the same state in the
 * URL's fragment (#z=<base64url of raw-DEFLATE JSON>), so a copied address reopens what was on
 * screen. The fragment never reaches the server; it is made and read here with the browser's own
 * CompressionStream. */

const KEY = "dfviz.last";

export function save(value) {
  try {
    localStorage.setItem(KEY, JSON.stringify(value));
  } catch (_) {
    /* storage full or refused: nothing to keep */
  }
}

export function readSaved() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "null");
  } catch (_) {
    return null;
  }
}

async function pipe(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

function toBase64url(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

let writing = Promise.resolve();

/** Put {d, o, n} in the address (replaceState: no history entry per keystroke); dropped past max. */
export function writeFragment(value, max) {
  if (typeof CompressionStream === "undefined") return;
  writing = writing.then(async () => {
    try {
      const json = new TextEncoder().encode(JSON.stringify(value));
      const packed = toBase64url(await pipe(json, new CompressionStream("deflate-raw")));
      const url = new URL(location.href);
      url.hash = packed.length <= max ? `z=${packed}` : "";
      if (url.href !== location.href) history.replaceState(history.state, "", url.href);
    } catch (_) {
      /* an address without state is still a working address */
    }
  });
}

/** {d, o, n} from #z=…, or null. */
export async function readFragment() {
  const m = /^#z=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m || typeof DecompressionStream === "undefined") return null;
  try {
    const bytes = await pipe(fromBase64url(m[1]), new DecompressionStream("deflate-raw"));
    const value = JSON.parse(new TextDecoder().decode(bytes));
    return value && typeof value.d === "string" ? value : null;
  } catch (_) {
    return null;
  }
}
