/* Light, dark or as the system: html[data-theme] overrides prefers-color-scheme; kept in localStorage. */
const KEY = "dfviz.theme";
const ORDER = ["auto", "light", "dark"];
const LABEL = { auto: "Theme: as the system", light: "Theme: light", dark: "Theme: dark" };

function read() {
  try {
    const v = localStorage.getItem(KEY);
    return ORDER.includes(v) ? v : "auto";
  } catch (_) {
    return "auto";
  }
}

export function applyTheme(theme) {
  const root = document.documentElement;
  if (theme === "auto") delete root.dataset.theme;
  else root.dataset.theme = theme;
  const button = document.getElementById("theme-toggle");
  if (button) {
    button.setAttribute("aria-label", `${LABEL[theme]} (click to change)`);
    button.title = LABEL[theme];
    button.dataset.theme = theme;
  }
}

/** True when the page is drawn dark (chosen or from the system). */
export function isDark() {
  const t = document.documentElement.dataset.theme;
  if (t) return t === "dark";
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}

document.documentElement.classList.remove("no-js");
document.documentElement.classList.add("js");
applyTheme(read());
const button = document.getElementById("theme-toggle");
if (button) {
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(read()) + 1) % ORDER.length];
    try {
      localStorage.setItem(KEY, next);
    } catch (_) {
      /* storage refused: the choice lasts for this page only */
    }
    applyTheme(next);
  });
}
