// Message catalogues: every string the site shows comes from i18n/<lang>.json.
// zh-CN is the default; the choice is kept in localStorage.

export const LANGUAGES = ["zh-CN", "en"];
const STORAGE_KEY = "daojia.lang";

let lang = "zh-CN";
let messages = {};

export function currentLanguage() {
  return lang;
}

export async function loadLanguage(wanted) {
  const chosen = LANGUAGES.includes(wanted) ? wanted : "zh-CN";
  const resp = await fetch(`i18n/${chosen}.json`, { cache: "no-cache" });
  if (!resp.ok) throw new Error(`i18n/${chosen}.json: HTTP ${resp.status}`);
  messages = await resp.json();
  lang = chosen;
  localStorage.setItem(STORAGE_KEY, chosen);
  document.documentElement.lang = chosen;
  return chosen;
}

export function savedLanguage() {
  return localStorage.getItem(STORAGE_KEY) || "zh-CN";
}

/** The message `key` with `{name}` placeholders filled from `params`. An unknown key
 * shows itself, so a missing translation is visible (and a unit test looks for them). */
export function t(key, params = {}) {
  const text = messages[key];
  if (text === undefined) return key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Fill elements of static HTML that carry data-i18n="key". */
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
