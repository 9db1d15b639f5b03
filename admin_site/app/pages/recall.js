import { get, post, request } from "../api.js";
import { chartCard, grid, loadECharts } from "../charts.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { dateTime, money, today } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, isHq, role } from "../session.js";
import * as stores from "../stores.js";

// 召回: a store's recall list (GET /stores/{id}/recall: members with at least N orders
// and none in the last 3 months, largest past spend first, paged by the API's cursor),
// outcomes recorded by the store's manager (POST .../recall/{member}/outcomes), the recall
// rate for a period (GET .../recall/report) and head office's rule (min_orders). The
// store's manager sees phones in full and calls them; head office sees them masked and
// records nothing (the API decides both; the page only follows). docs/segments.md.
export const OUTCOMES = ["called", "no_answer", "coupon_sent", "came_back"];
const TONES = { called: "ok", no_answer: "warn", coupon_sent: "ok", came_back: "ok" };

/** A request id for one attempt to record an outcome: kept while the same outcome and
 * note are retried (a lost answer, a double click), so the API records it once. */
export function newRequestId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `rc-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function latestCell(o) {
  if (!o) return h("span", { class: "muted" }, t("recall.no_outcome"));
  return h("span", { class: "recall-latest" },
    badge(t(`recall.outcome.${o.outcome}`), TONES[o.outcome]),
    " ",
    h("small", { class: "muted" }, t("recall.outcome_at", { at: dateTime(o.at), n: o.outcomes })),
    o.note ? h("span", { class: "recall-note" }, o.note) : null);
}

/** The outcome form of one row (the store's manager): outcome, optional note, record. */
function outcomeForm(storeId, row, onRecorded) {
  const choice = select(OUTCOMES.map((o) => [o, t(`recall.outcome.${o}`)]), "called", {
    "aria-label": t("recall.outcome_for", { who: row.nickname || row.phone }),
  });
  const note = h("input", { maxlength: "200", placeholder: t("recall.note"), "aria-label": t("recall.note") });
  const button = h("button", { type: "submit", class: "primary" }, t("recall.record"));
  const messages = slot();
  const form = h("form", {
    class: "recall-form",
    onsubmit: (e) => {
      e.preventDefault();
      if (button.disabled) return;
      const body = { outcome: choice.value };
      if (note.value.trim()) body.note = note.value.trim();
      const key = JSON.stringify(body);
      // {key, id}: the outcome being recorded and its request id, kept on the row so a
      // retry after the list was redrawn ("more") still sends the same id.
      if (!row.attempt || row.attempt.key !== key) row.attempt = { key, id: newRequestId() };
      body.request_id = row.attempt.id;
      busy(button, messages, async () => {
        const latest = await post(
          `/stores/${encodeURIComponent(storeId)}/recall/${encodeURIComponent(row.customer_id)}/outcomes`, body);
        row.attempt = null; // recorded: the next outcome is a new attempt
        note.value = "";
        onRecorded(latest);
      });
    },
  }, choice, note, button, messages);
  return form;
}

function listSection(ctx, storeId, manager, recorded) {
  const summary = slot({ "data-testid": "recall-summary" });
  const results = slot({ "data-testid": "recall-list" });
  const more = h("button", { type: "button", hidden: "" }, t("common.more"));
  const rows = [];
  const latestSlots = new Map(); // member -> the cell showing their latest outcome
  let cursor = null;
  const phoneCell = (r) => (manager && r.phone ? h("a", { href: `tel:${r.phone}` }, r.phone) : r.phone || "—");
  const columns = [
    { label: t("recall.rank"), num: true, cell: (r) => String(r.rank) },
    { label: t("members.nickname"), cell: (r) => r.nickname || "—" },
    { label: t("members.phone"), cell: phoneCell },
    { label: t("recall.orders"), num: true, cell: (r) => String(r.orders) },
    { label: t("recall.spend"), num: true, cell: (r) => money(r.spend_fen) },
    { label: t("recall.last_order"), cell: (r) => h("span", { class: "recall-date" }, r.last_order_date || "—") },
    { label: t("recall.months_since"), num: true, cell: (r) => (r.months_since_last_order ?? "—") },
    { label: t("recall.latest"), cell: (r) => {
        const cell = h("div", { "data-testid": "recall-latest" }, latestCell(r.latest_outcome));
        latestSlots.set(r.customer_id, cell);
        return cell;
      },
    },
    ...(manager ? [{
      label: t("recall.action"),
      cell: (r) => outcomeForm(storeId, r, (latest) => {
        // Only this row's cell changes: notes typed in other rows stay.
        r.latest_outcome = latest;
        latestSlots.get(r.customer_id)?.replaceChildren(latestCell(latest));
        recorded();
      }),
    }] : []),
  ];
  const draw = () => results.show(table(t("recall.title"), columns, rows, { empty: t("recall.empty"), rowClass: () => "recall-row" }));
  const load = async () => {
    try {
      const page = await get(`/stores/${encodeURIComponent(storeId)}/recall`, { limit: 20, ...(cursor ? { cursor } : {}) });
      for (const item of page.items) rows.push({ ...item, rank: rows.length + 1 });
      cursor = page.next_cursor;
      more.hidden = !cursor;
      summary.show(h("dl", { class: "summary" },
        [
          [t("recall.total"), String(page.total)],
          [t("recall.rule"), t("recall.rule_text", { n: page.min_orders, month: page.before_month })],
          [t("recall.excluded_erased"), String(page.excluded_erased)],
          [t("recall.excluded_no_consent"), String(page.excluded_no_consent)],
        ].map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, value)))));
      draw();
    } catch (err) {
      results.show(errorBox(err));
    }
  };
  more.addEventListener("click", () => busy(more, null, load));
  return { load, node: h("section", { class: "card", "aria-labelledby": "recall-list-h" },
    h("h2", { id: "recall-list-h" }, t("recall.list")),
    h("p", { class: "muted" }, t(manager ? "recall.intro_manager" : "recall.intro_hq")),
    summary, results, h("div", { class: "actions" }, more)) };
}

function isoDaysBefore(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

function reportSection(storeId) {
  const end = today();
  const from = h("input", { type: "date", value: isoDaysBefore(end, 29), required: true });
  const to = h("input", { type: "date", value: end, required: true });
  const button = h("button", { type: "submit", class: "primary" }, t("recall.report_show"));
  const out = slot({ "data-testid": "recall-report" });
  const messages = slot();
  const show = () => busy(button, messages, async () => {
    const [r] = await Promise.all([
      get(`/stores/${encodeURIComponent(storeId)}/recall/report`, { from: from.value, to: to.value }),
      loadECharts(),
    ]);
    const rate = `${(r.recall_rate * 100).toFixed(1)}%`;
    const notBack = Math.max(0, r.recalled - r.came_back - r.pending);
    const parts = [
      [t("recall.came_back"), r.came_back],
      [t("recall.pending"), r.pending],
      [t("recall.not_back"), notBack],
    ];
    out.show(
      h("dl", { class: "summary", "data-testid": "recall-report-facts" },
        [
          [t("recall.recalled"), String(r.recalled)],
          [t("recall.came_back"), String(r.came_back)],
          [t("recall.pending"), String(r.pending)],
          [t("recall.rate"), rate],
        ].map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, value)))),
      chartCard("recall-rate", t("recall.rate_chart", { rate }), {
        grid: { ...grid, top: 8, right: 48 },
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: parts.map(([label]) => label) },
        series: [{ type: "bar", name: t("recall.recalled"), data: parts.map(([, n]) => n), label: { show: true, position: "right" } }],
      }, parts.map(([label, n]) => `${label}: ${n}`).join("; "), () => ({
        filename: `recall_${storeId}_${r.date_from}_${r.date_to}.csv`,
        header: [t("recall.from"), t("recall.to"), t("recall.recalled"), t("recall.came_back"), t("recall.pending"), t("recall.not_back"), t("recall.rate")],
        rows: [[r.date_from, r.date_to, r.recalled, r.came_back, r.pending, notBack, rate]],
      })),
    );
  });
  const form = h("form", { class: "range", onsubmit: (e) => { e.preventDefault(); show(); } },
    field(t("recall.from"), from), field(t("recall.to"), to), button);
  return { show, node: h("section", { class: "card", "aria-labelledby": "recall-report-h" },
    h("h2", { id: "recall-report-h" }, t("recall.report")),
    h("p", { class: "muted" }, t("recall.report_intro")),
    form, messages, out) };
}

/** Head office's rule: the completed orders a member needs to be on the list. */
async function settingsSection(ctx) {
  const current = await get("/admin/customers/recall-settings");
  const input = h("input", { type: "number", min: "1", max: "100", step: "1", required: true, value: String(current.min_orders), class: "short" });
  const button = h("button", { type: "submit", class: "primary" }, t("common.save"));
  const messages = slot({ "data-testid": "recall-settings-messages" });
  const form = h("form", {
    class: "card",
    "aria-labelledby": "recall-settings-h",
    onsubmit: (e) => {
      e.preventDefault();
      busy(button, messages, async () => {
        const saved = await request("PUT", "/admin/customers/recall-settings", { body: { min_orders: Number(input.value) } });
        messages.show(okBox(t("recall.settings_saved", { n: saved.min_orders })));
        ctx.rerender();
      });
    },
  },
  h("h2", { id: "recall-settings-h" }, t("recall.settings")),
  h("div", { class: "row" }, field(t("recall.min_orders"), input, t("recall.min_orders_hint")), button),
  messages);
  return form;
}

export default {
  id: "recall",
  path: "/recall",
  title: "recall.title",
  nav: "nav.recall",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const storeId = await stores.chosen(ctx.query.store);
    if (!storeId) return h("section", {}, h("h1", {}, t("recall.title")), h("p", { class: "empty card" }, t("common.no_store")));
    const manager = role() === MANAGER;
    const picker = await stores.picker(storeId, { id: "recall-store" });
    picker.addEventListener("change", () => ctx.navigate("/recall", { store: picker.value }));
    const report = reportSection(storeId);
    // A recorded outcome can start a round: the rate below counts it at once.
    const list = listSection(ctx, storeId, manager, () => report.show());
    await Promise.all([list.load(), report.show()]);
    return h("section", {},
      h("h1", {}, t("recall.title")),
      isHq() ? h("div", { class: "row" }, field(t("common.store"), picker)) : null,
      list.node,
      report.node,
      isHq() ? await settingsSection(ctx) : null);
  },
};
