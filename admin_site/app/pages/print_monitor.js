import { get, post } from "../api.js";
import { badge, busy, errorBox, h, slot, table } from "../dom.js";
import { columnsTable, tableExportButton } from "../export.js";
import { age, clockTime, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { BACK_OFFICE, isHq } from "../session.js";
import * as stores from "../stores.js";

export const REFRESH_MS = 5000;

const HEALTH_TONE = { ok: "ok", never_seen: "warn", stale: "bad", shared_token: "bad", printer_fault: "bad", revoked: "" };
const PRINTER_TONE = { online: "ok", unknown: "warn", offline: "bad", paper_out: "bad" };

// Problems that mean no relay takes the store's tickets: nothing prints until it is back.
const RELAY_DOWN = new Set(["no_relay", "relay_never_seen", "relay_stale", "relay_shared_token"]);

/** What to tell staff after a reprint, from the store's print health: "will print" only
 * when the store's relay and printers are fine. {text, tone}: tone "ok" or "warn". */
export async function reprintOutcome(storeId) {
  let store;
  try {
    const hl = await get("/admin/print-health", { store_id: storeId });
    store = hl.stores.find((s) => s.store_id === storeId);
  } catch {
    store = null;
  }
  if (!store) return { text: t("order.reprint_queued_unknown"), tone: "warn" };
  if (store.healthy) return { text: t("order.reprint_sent"), tone: "ok" };
  const problems = store.problems.map((p) => t(`health.problem.${p}`)).join(" · ");
  const relayDown = store.problems.some((p) => RELAY_DOWN.has(p));
  return { text: t(relayDown ? "order.reprint_queued_offline" : "order.reprint_queued_printer", { problems }), tone: "warn" };
}

/** An "ok" or "warn" message box. */
export function outcomeBox({ text, tone }) {
  return h("div", { class: `msg ${tone}`, role: "status" }, text);
}

// The other PC's host name, when two relays share one token, is what staff need to find it.
function relayHealth(relay) {
  const state = badge(t(`relay.health.${relay.health}`), HEALTH_TONE[relay.health]);
  return relay.other_relay_host ? [state, ` ${relay.other_relay_host}`] : state;
}

/** One row per store and active relay (a store without one: one row). */
function healthRows(health) {
  const rows = [];
  for (const store of health.stores) {
    if (!store.relays.length) rows.push({ store, relay: null });
    for (const relay of store.relays) if (relay.status === "active") rows.push({ store, relay });
  }
  return rows;
}

function healthColumns() {
  return [
    { label: t("common.store"), cell: (r) => r.store.store_name },
    { label: t("print.store_state"), cell: (r) => (r.store.healthy ? badge(t("health.ok"), "ok") : r.store.problems.map((p) => badge(t(`health.problem.${p}`), "bad"))) },
    { label: t("print.relay"), cell: (r) => (r.relay ? r.relay.name : "—") },
    { label: t("print.relay_health"), cell: (r) => (r.relay ? relayHealth(r.relay) : "—") },
    { label: t("print.last_heartbeat"), cell: (r) => (r.relay && r.relay.last_heartbeat_at ? `${clockTime(r.relay.last_heartbeat_at)} (${age(r.relay.heartbeat_age_s)})` : "—") },
    { label: t("print.printers"), cell: (r) => (r.relay ? r.relay.printers.map((p) => h("div", {}, `${p.name} `, badge(t(`printer.state.${p.state}`), PRINTER_TONE[p.state]), ...(p.problem ? [" ", badge(t(`health.problem.printer_${p.problem}`), "bad")] : []))) : "—"),
      csv: (r) => (r.relay ? r.relay.printers.map((p) => `${p.name} ${t(`printer.state.${p.state}`)}${p.problem ? ` ${t(`health.problem.printer_${p.problem}`)}` : ""}`).join("; ") : "") },
  ];
}

function healthTable(health) {
  return table(t("print.health"), healthColumns(), healthRows(health), { empty: t("print.no_relays") });
}

export default {
  id: "print",
  path: "/print",
  title: "print.title",
  nav: "nav.print",
  roles: BACK_OFFICE,
  async render(ctx) {
    const storeId = isHq() ? ctx.query.store || "" : await stores.chosen();
    const picker = await stores.picker(storeId, { allOption: true });
    picker.setAttribute("aria-label", t("common.store"));
    picker.addEventListener("change", () => ctx.navigate("/print", { store: picker.value }));
    const messages = slot();
    const missed = slot({ "data-testid": "missed" });
    const health = slot({ "data-testid": "health" });
    const stamp = h("span", { class: "muted", "aria-live": "off" });
    const names = Object.fromEntries((await stores.list()).map((s) => [s.store_id, s.name]));
    // What the page shows now (it refreshes): the export buttons write these.
    let missedJobs = [];
    let healthNow = { stores: [] };
    const missedColumns = () => [
      { label: t("common.store"), cell: (j) => names[j.store_id] || j.store_id },
      { label: t("orders.seq"), num: true, cell: (j) => (j.daily_seq ? `#${j.daily_seq}` : "—"), csv: (j) => j.daily_seq },
      { label: t("orders.id"), cell: (j) => h("a", { href: `#/orders/${j.order_id}` }, j.order_id) },
      { label: t("print.kind"), cell: (j) => t(`print.kind.${j.kind}`) },
      { label: t("print.waiting"), num: true, cell: (j) => age(j.age_s), csv: (j) => j.age_s },
      { label: t("print.attempts"), num: true, cell: (j) => String(j.attempts), csv: (j) => j.attempts },
      { label: t("orders.created"), cell: (j) => dateTime(j.created_at) },
      {
        label: t("common.actions"),
        csv: false,
        cell: (j) => [
          h("button", { type: "button", onclick: (e) => act(e.currentTarget, () => post(`/admin/orders/${j.order_id}/reprint`, { reason: t("print.reprint_reason") }), () => reprintOutcome(j.store_id)) }, t("order.reprint")),
          " ",
          h("button", { type: "button", onclick: (e) => {
            const reason = window.prompt(t("print.resolve_prompt"), t("print.resolve_default"));
            if (reason) act(e.currentTarget, () => post(`/admin/print-jobs/${j.job_id}/resolve`, { reason }), async () => ({ text: t("print.resolved"), tone: "warn" }));
          } }, t("print.resolve")),
        ],
      },
    ];

    const act = (button, work, outcome) =>
      busy(button, messages, async () => {
        await work();
        messages.show(outcomeBox(await outcome()));
        await load();
      });

    const load = async () => {
      try {
        const query = { store_id: storeId || undefined };
        const [jobs, hl] = await Promise.all([
          get("/admin/print-jobs", { ...query, status: "missed", limit: 100 }),
          get("/admin/print-health", query),
        ]);
        if (!ctx.isCurrent()) return;
        missedJobs = jobs.items;
        healthNow = hl;
        missed.show(table(t("print.missed"), missedColumns(), jobs.items, { empty: t("print.no_missed") }));
        health.show(healthTable(hl));
        stamp.textContent = t("print.refreshed", { time: clockTime(new Date().toISOString()) });
      } catch (err) {
        if (ctx.isCurrent()) messages.show(errorBox(err));
      }
    };
    await load();
    ctx.every(REFRESH_MS, load);
    return h(
      "section",
      {},
      h("div", { class: "row" }, h("h1", {}, t("print.title")), h("div", { class: "spacer" }), isHq() ? picker : null),
      h("p", {}, stamp),
      messages,
      h("div", { class: "row" }, h("h2", {}, t("print.missed")), h("div", { class: "spacer" }),
        tableExportButton(() => columnsTable(`missed_prints_${storeId || "all"}`, missedColumns(), missedJobs), { name: "missed_prints" })),
      missed,
      h("div", { class: "row" }, h("h2", {}, t("print.health")), h("div", { class: "spacer" }),
        tableExportButton(() => columnsTable(`print_health_${storeId || "all"}`, healthColumns(), healthRows(healthNow)), { name: "print_health" })),
      health,
    );
  },
};
