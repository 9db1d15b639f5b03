// Small DOM helpers: pages build their markup with h(), never by parsing HTML text, so
// data from the API (names, remarks) can never inject markup.

import { describe } from "./errors.js";
import { t } from "./i18n.js";

/** h("button", {class: "primary", onclick: fn}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let uid = 0;
/** A labelled form control: field(t("x"), h("input", {...}), hint). The hint is tied to
 * the control with aria-describedby, so the label stays the control's name. */
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++uid}`;
  let note = null;
  if (hint) {
    note = h("span", { class: "hint", id: `${control.id}-hint` }, hint);
    control.setAttribute("aria-describedby", note.id);
  }
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, note);
}

/** A table with a caption for screen readers. columns: [{label, cell(row), num}];
 * rowClass(row): a class for a row that needs to stand out. */
export function table(caption, columns, rows, { onRowClick, rowLabel, rowClass, empty } = {}) {
  if (!rows.length) return emptyState(empty || t("common.empty"));
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)));
  const body = rows.map((row) => {
    const tr = h(
      "tr",
      {
        class: [onRowClick ? "clickable" : null, rowClass ? rowClass(row) : null].filter(Boolean).join(" ") || null,
        ...(onRowClick ? { tabindex: "0", "aria-label": rowLabel ? rowLabel(row) : null } : {}),
      },
      // The cell's content in one span: in the stacked layout it is the value
      // beside the column's name, however many nodes it has.
      columns.map((c) => h("td", { class: c.num ? "num" : null, "data-label": c.label }, h("span", { class: "cell" }, c.cell(row)))),
    );
    if (onRowClick) {
      tr.addEventListener("click", () => onRowClick(row));
      tr.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          onRowClick(row);
        }
      });
    }
    return tr;
  });
  return h(
    "div",
    { class: "table-wrap" },
    h("table", {}, h("caption", { class: "sr-only" }, caption), h("thead", {}, head), h("tbody", {}, body)),
  );
}

/** Tables that do not fit their container's width read as one card per row ("stacked":
 * each cell under its column's name) instead of squeezing their columns to a character
 * each or hiding the last ones off to the side. Re-checked when a table appears and when
 * the width changes; the page keeps its scroll position. */
export function fitTables(root = document) {
  const y = window.scrollY;
  for (const wrap of root.querySelectorAll(".table-wrap")) {
    const width = String(wrap.clientWidth);
    if (wrap.dataset.fitWidth === width) continue;
    const table = wrap.querySelector("table");
    wrap.classList.remove("stacked");
    const stacked = table.scrollWidth > wrap.clientWidth + 1;
    wrap.classList.toggle("stacked", stacked);
    wrap.dataset.fitWidth = String(wrap.clientWidth);
  }
  if (window.scrollY !== y) window.scrollTo(window.scrollX, y);
}

export function emptyState(text) {
  return h("div", { class: "empty card", role: "status" }, text);
}

/** An error in the site's language (see errors.js): what went wrong, each bad field by
 * its translated name, and the API's code, small, for support. */
export function errorBox(err) {
  const { message, fields, code } = describe(err);
  return h(
    "div",
    { class: "msg error", role: "alert" },
    h("strong", {}, t("error.title")),
    " ",
    message,
    fields.length
      ? h("ul", {}, fields.map((f) => h("li", { title: f.raw }, `${f.field}: ${f.reason}`)))
      : null,
    code ? h("small", { class: "code", "data-testid": "error-code" }, t("error.code_line", { code })) : null,
  );
}

export function okBox(text) {
  return h("div", { class: "msg ok", role: "status" }, text);
}

/** A slot whose content is replaced, e.g. for a form's message area. */
export function slot(attrs = {}) {
  const el = h("div", { "aria-live": "polite", ...attrs });
  el.show = (...nodes) => el.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
  el.clear = () => el.replaceChildren();
  return el;
}

/** Run `work` with the button disabled; show an error in `messages` if it throws. */
export async function busy(button, messages, work) {
  button.disabled = true;
  if (messages) messages.clear();
  try {
    return await work();
  } catch (err) {
    if (messages) messages.show(errorBox(err));
    else throw err;
    return undefined;
  } finally {
    button.disabled = false;
  }
}

export function badge(text, tone) {
  return h("span", { class: `badge ${tone || ""}` }, text);
}

export function select(options, value, attrs = {}) {
  return h(
    "select",
    attrs,
    options.map(([v, label]) => h("option", { value: v, selected: String(v) === String(value) ? "" : null }, label)),
  );
}
