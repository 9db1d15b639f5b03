// Export to CSV, shared by every list page. A page adds its button in one line:
//
//   exportButton("orders", () => ({ store_id, date_from: date, date_to: date, status }))
//
// The button starts a background export (POST /admin/exports) of the list's current
// filters in the site's language, shows its progress (rows done of the estimate) and
// then a download link (valid 15 minutes; the file is UTF-8 with a BOM, so Excel opens
// Chinese correctly). `{ range: true }` adds from/to date inputs (default: the last 30
// days) for lists that have no dates of their own; `{ label }` names a second button. Kinds: orders, refunds,
// coupon_redemptions, stock, daily_sales (docs/openapi.json, POST /admin/exports).

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
