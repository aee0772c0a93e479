/* Dockerfile Graph: share links.
 *
 * On the editor page: the Share button (data-testid="share-button") scans the Dockerfile for likely
 * secrets (POST /api/secrets), asks for confirmation or redaction when it finds any, creates a stored
 * link (POST /api/share) and shows it in data-testid="share-url" with the stateless link beside it.
 * It also opens a shared diagram in the editor: /?s=<id> loads GET /api/share/<id>, /?d=1/<payload>
 * loads GET /api/link/1/<payload>, both through window.dfviz.load(text, options) from app.js.
 *
 * On a share page (/s/<id>, /d/1/<payload>): the "Copy" buttons of the embed snippets.
 *
 * No inline handlers or styles, no innerHTML of user text: the page runs under script-src 'self'.
 */
(function () {
  "use strict";

  const STATELESS_MAX = 2000; // longest stateless link offered beside the stored one

  function byTestId(id) {
    return document.querySelector(`[data-testid="${id}"]`);
  }

  async function copyText(text, field) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      if (field && field.select) {
        field.focus();
        field.select();
        try {
          return document.execCommand("copy");
        } catch (e2) {
          return false;
        }
      }
      return false;
    }
  }

  async function postJSON(url, body) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok) {
      const message = (data && data.error && data.error.message) || `${res.status} ${res.statusText}`;
      const wait = res.headers.get("Retry-After");
      throw new Error(wait ? `${message}` : message);
    }
    return data;
  }

  // ------------------------------------------------------------------ the share page
  function initSharePage() {
    const toast = document.getElementById("share-toast");
    document.querySelectorAll("[data-copy-from]").forEach((button) => {
      button.addEventListener("click", async () => {
        const field = document.getElementById(button.dataset.copyFrom);
        if (!field) return;
        const ok = await copyText(field.value, field);
        if (toast) toast.textContent = ok ? "Copied." : "Select the text and copy it.";
      });
    });
  }

  // ------------------------------------------------------------------ the editor page
  function currentState() {
    if (window.dfviz && typeof window.dfviz.getState === "function") return window.dfviz.getState();
    const source = document.getElementById("source");
    const value = (id) => {
      const e = document.getElementById(id);
      return e && e.value ? e.value : null;
    };
    return {
      dockerfile: source ? source.value : "",
      target: value("target-select"),
      platform: value("platform-select"),
      view: value("view-select") || "stages",
    };
  }

  function ensureStylesheet() {
    if (document.querySelector('link[href$="share.css"]')) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/share.css";
    document.head.appendChild(link);
  }

  function linksBox(urlField) {
    let box = document.getElementById("share-links");
    if (box) return box;
    box = document.createElement("span");
    box.id = "share-links";
    box.className = "share-links";
    urlField.insertAdjacentElement("afterend", box);
    return box;
  }

  function showLinks(urlField, result) {
    const origin = window.location.origin;
    urlField.value = origin + result.url;
    urlField.title = "Stored link (it can be deleted with its delete token)";
    urlField.hidden = false;
    urlField.dataset.deleteUrl = result.delete_url;
    urlField.dataset.deleteToken = result.delete_token;
    const box = linksBox(urlField);
    box.replaceChildren();
    const stateless = result.stateless_url ? origin + result.stateless_url : null;
    if (stateless && stateless.length <= STATELESS_MAX) {
      const input = document.createElement("input");
      input.type = "text";
      input.readOnly = true;
      input.value = stateless;
      input.title = "Stateless link: the Dockerfile is in the link itself, nothing is stored";
      input.setAttribute("aria-label", "Stateless link");
      input.dataset.testid = "share-stateless-url";
      input.addEventListener("focus", () => input.select());
      box.appendChild(input);
    } else {
      const note = document.createElement("span");
      note.className = "share-note";
      note.dataset.testid = "share-stateless-note";
      note.textContent = stateless
        ? `No stateless link: it would be ${stateless.length} characters (over ${STATELESS_MAX}); use the stored link.`
        : "No stateless link: this Dockerfile is too large; use the stored link.";
      box.appendChild(note);
    }
    urlField.focus();
    urlField.select();
    copyText(urlField.value, null);
  }

  function showError(urlField, message) {
    urlField.hidden = false;
    urlField.value = "";
    urlField.placeholder = message;
    urlField.title = message;
    const box = linksBox(urlField);
    box.replaceChildren();
    const note = document.createElement("span");
    note.className = "share-note";
    note.dataset.testid = "share-error";
    note.textContent = message;
    box.appendChild(note);
  }

  /** Ask about likely secrets; resolves to the text to share, or null when the user cancels. */
  function confirmSecrets(findings, original, redacted) {
    return new Promise((resolve) => {
      const dialog = document.createElement("dialog");
      dialog.className = "dialog share-dialog";
      dialog.dataset.testid = "secrets-dialog";
      const title = document.createElement("h2");
      title.textContent = "This Dockerfile may contain secrets";
      const intro = document.createElement("p");
      intro.textContent = "Anyone with the link will see the whole Dockerfile. Found:";
      const list = document.createElement("ul");
      for (const f of findings.slice(0, 20)) {
        const item = document.createElement("li");
        item.textContent = `line ${f.line}: ${f.message}`;
        list.appendChild(item);
      }
      if (findings.length > 20) {
        const more = document.createElement("li");
        more.textContent = `and ${findings.length - 20} more`;
        list.appendChild(more);
      }
      const actions = document.createElement("div");
      actions.className = "dialog-actions";
      const make = (label, testid, cls, value) => {
        const b = document.createElement("button");
        b.type = "button";
        b.className = cls;
        b.textContent = label;
        b.dataset.testid = testid;
        b.addEventListener("click", () => {
          dialog.close();
          dialog.remove();
          resolve(value);
        });
        actions.appendChild(b);
        return b;
      };
      make("Cancel", "secrets-cancel", "btn", null);
      make("Share anyway", "secrets-share-anyway", "btn", original);
      const redact = make("Redact and share", "secrets-redact", "btn btn-primary", redacted);
      dialog.addEventListener("cancel", () => {
        dialog.remove();
        resolve(null);
      });
      dialog.append(title, intro, list, actions);
      document.body.appendChild(dialog);
      dialog.showModal();
      redact.focus();
    });
  }

  async function share(button, urlField) {
    const state = currentState();
    button.disabled = true;
    try {
      const scan = await postJSON("/api/secrets", { dockerfile: state.dockerfile });
      if (scan.findings && scan.findings.length) {
        const text = await confirmSecrets(scan.findings, state.dockerfile, scan.redacted);
        if (text === null) return;
        if (text !== state.dockerfile && window.dfviz && typeof window.dfviz.load === "function") {
          window.dfviz.load(text, { ...state, dockerfile: undefined });
        }
        state.dockerfile = text;
      }
      const result = await postJSON("/api/share", state);
      showLinks(urlField, result);
      button.dataset.shared = result.id;
    } catch (e) {
      showError(urlField, `Could not share: ${e.message}`);
    } finally {
      button.disabled = false;
    }
  }

  /** /?s=<id> or /?d=1/<payload>: load the shared Dockerfile and options into the editor. */
  async function openShared() {
    const params = new URLSearchParams(window.location.search);
    const id = params.get("s");
    const link = params.get("d");
    let url = null;
    if (id && /^[A-Za-z0-9_-]{16,64}$/.test(id)) url = `/api/share/${id}`;
    else if (link && /^[0-9]{1,4}\/[A-Za-z0-9_-]+$/.test(link)) url = `/api/link/${link}`;
    if (!url) return;
    try {
      const res = await fetch(url, { headers: { Accept: "application/json" } });
      const data = await res.json();
      if (!res.ok) throw new Error((data && data.error && data.error.message) || res.statusText);
      if (window.dfviz && typeof window.dfviz.load === "function") {
        window.dfviz.load(data.dockerfile, data.options || {});
      } else {
        const source = document.getElementById("source");
        if (source) source.value = data.dockerfile;
      }
    } catch (e) {
      const urlField = byTestId("share-url");
      if (urlField) showError(urlField, `Could not open the shared diagram: ${e.message}`);
    }
  }

  function initEditor(button) {
    ensureStylesheet();
    const urlField = byTestId("share-url");
    button.addEventListener("click", () => share(button, urlField));
    if (urlField) urlField.addEventListener("focus", () => urlField.select());
    openShared();
  }

  initSharePage();
  const button = byTestId("share-button");
  if (button) initEditor(button);
})();
