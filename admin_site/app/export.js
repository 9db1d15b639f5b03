// Export to CSV, shared by every list page. A page adds its button in one line:
//
//   exportButton("orders", () => ({ store_id, date_from: date, date_to: date, status }))
//
// The button starts a background export (POST /admin/exports) of the list's current
// filters in the site's language, shows its progress (rows done of the estimate) and
// then a download link (valid 15 minutes; the file is UTF-8 with a BOM, so Excel opens
// Chinese correctly). `{ range: true }` adds from/to date inputs (default: the last 30
// days) for lists that have no dates of their own; `{ label }` names a second button. Kinds: orders, refunds,
// coupon_redemptions, stock, daily_sales, returns, audit, members, points_entries,
// stored_value_entries (docs/openapi.json, POST /admin/exports).

import { get, post } from "./api.js";
import { errorBox, field, h, slot } from "./dom.js";
import { today } from "./format.js";
import { currentLanguage, t } from "./i18n.js";

const POLL_MS = 1000;

function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

function daysBefore(isoDay, n) {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function progressView(job) {
  const done = job.rows_done || 0;
  const estimate = Math.max(job.rows_estimated || 0, done);
  return h(
    "div",
    { class: "export-progress", role: "status" },
    h("progress", { max: String(estimate || 1), value: String(done) }),
    " ",
    t(`export.status.${job.status}`),
    " · ",
    t("export.rows", { done, estimate }),
  );
}

function doneView(job) {
  return h(
    "div",
    { class: "msg ok export-done", role: "status" },
    t("export.ready", { rows: job.rows_done }),
    " ",
    // A segment export leaves out members without marketing consent, and says how many.
    typeof job.excluded_no_consent === "number"
      ? h("span", { "data-testid": "export-excluded" }, t("export.excluded_no_consent", { n: job.excluded_no_consent }), " ")
      : null,
    h("a", { href: job.download_url, download: job.file_name || "", "data-testid": "export-download" }, t("export.download", { name: job.file_name })),
    h("small", { class: "muted" }, " ", t("export.link_expires")),
  );
}

/** The "导出 / Export" control of a list: `kind` and a function giving the list's
 * current filters. Returns an element to put beside the list's filters. */
export function exportButton(kind, filters, { range = false, label } = {}) {
  const to = h("input", { type: "date", value: today(), required: true });
  const from = h("input", { type: "date", value: daysBefore(today(), 29), required: true });
  const button = h("button", { type: "button", class: "export-button", "data-export": kind }, label || t("export.button"));
  const status = slot({ class: "export-status" });
  let running = false;

  const run = async () => {
    if (running) return;
    running = true;
    button.disabled = true;
    status.clear();
    const key = newKey();
    const chosen = { ...filters() };
    if (range) Object.assign(chosen, { date_from: from.value, date_to: to.value });
    for (const [k, v] of Object.entries(chosen)) if (v === undefined || v === null || v === "") delete chosen[k];
    try {
      // The same key on a retry answers the same job: never two exports for one click.
      let job = await post("/admin/exports", { kind, filters: chosen, language: currentLanguage() }, { headers: { "Idempotency-Key": key } });
      status.show(progressView(job));
      while (job.status === "queued" || job.status === "running") {
        await wait(POLL_MS);
        if (!button.isConnected) return; // the page was left
        job = await get(`/admin/exports/${encodeURIComponent(job.export_id)}`);
        status.show(progressView(job));
      }
      if (job.status === "succeeded") status.show(doneView(job));
      else status.show(h("div", { class: "msg error", role: "alert" }, t("export.failed"), " ", job.error || ""));
    } catch (err) {
      status.show(errorBox(err));
    } finally {
      running = false;
      button.disabled = false;
    }
  };
  button.addEventListener("click", run);
  return h(
    "div",
    { class: "export", "data-testid": `export-${kind}` },
    range ? h("div", { class: "row" }, field(t("export.from"), from), field(t("export.to"), to)) : null,
    button,
    status,
  );
}

// --- small lists already loaded in the page -------------------------------------------
//
// A list the page has fully loaded (stores, staff, promotions, a report's figures...) is
// written to CSV in the browser, the way the server's exports/csv_writer.py writes one:
// UTF-8 with a BOM (Excel opens Chinese correctly), CRLF line ends, RFC 4180 quoting,
// money in yuan with two decimals, and text starting with = + - @ a tab or a CR prefixed
// with ' (OWASP "CSV injection": shown, not run). A list that can grow without bound
// (paginated by the server) gets a server kind and exportButton instead.
//
//   tableExportButton(() => ({ filename: "stores.csv", header: [...], rows: [[...]] }))
//   tableExportButton(() => columnsTable("stores", columns, rows))  // a page's table

const FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"];

/** Money in fen as a cell: written as yuan with two decimals, never neutralised. */
export const yuanCell = (fen) => ({ yuanFen: fen });

function yuanText(fen) {
  const n = Math.trunc(Number(fen));
  const abs = Math.abs(n);
  return `${n < 0 ? "-" : ""}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** A cell's text: text from data neutralised (only text: -5 and yuanCell(-500) stay
 * numbers), true/false as 1/0, nothing as empty. */
export function csvCellText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "object" && "yuanFen" in value) return value.yuanFen === null || value.yuanFen === undefined ? "" : yuanText(value.yuanFen);
  const text = String(value);
  return FORMULA_STARTS.some((s) => text.startsWith(s)) ? `'${text}` : text;
}

function quoted(text) {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The text of a CSV file: BOM, header, rows, every line ended by CRLF. */
export function csvText(header, rows) {
  const line = (cells) => cells.map((c) => quoted(csvCellText(c))).join(",") + "\r\n";
  return "\ufeff" + line(header.map(String)) + rows.map(line).join("");
}

/** The text a table cell shows (cells are strings, nodes or lists of them). */
function shownText(value) {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(shownText).join("");
  if (value instanceof Node) return value.textContent.trim();
  return String(value);
}

/** A page's table as CSV: the columns' labels and, per row, `c.csv(row)` when a column
 * has one (money as yuanCell, ids, raw figures) or else the text the cell shows.
 * `csv: false` leaves a column out (actions); a column the page filters out of its
 * table with `hidden: true` is written to the file only (a figure the page shows inside
 * another cell, such as spent of budget). */
export function columnsTable(name, columns, rows) {
  const shown = columns.filter((c) => c.csv !== false);
  return {
    filename: `${name}_${today()}.csv`,
    header: shown.map((c) => c.label),
    rows: rows.map((r) => shown.map((c) => (c.csv ? c.csv(r) : shownText(c.cell(r))))),
  };
}

/** Save `text` as a file named `filename`, from the page (no server round trip). */
function download(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: filename, hidden: "" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 40000); // the download has read it by then
}

/** An "导出 / Export" button for a list the page has loaded: `build()` gives
 * { filename, header, rows } when clicked, so the file has what the page shows then. */
export function tableExportButton(build, { label, name } = {}) {
  const button = h("button", { type: "button", class: "export-button", "data-table-export": name || "" }, label || t("export.button"));
  button.addEventListener("click", () => {
    const { filename, header, rows } = build();
    download(filename, csvText(header, rows));
  });
  return button;
}
