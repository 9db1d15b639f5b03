import { get, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { clockTime, money, today } from "../format.js";
import { exportButton } from "../export.js";
import { t } from "../i18n.js";
import { BACK_OFFICE, isHq } from "../session.js";
import * as stores from "../stores.js";
import { renderAll } from "./orders_all.js";

export const ORDER_STATUSES = [
  "awaiting_payment", "paid", "picking", "picked", "checked_out", "out_for_delivery",
  "delivered", "ready_for_pickup", "completed", "cancelled", "expired",
];

/** How often the working list refreshes itself (while the tab is visible). */
export const REFRESH_MS = 10000;

const TONES = { paid: "warn", picking: "warn", cancelled: "bad", expired: "bad", completed: "ok", delivered: "ok" };

export function statusBadge(status) {
  return badge(t(`order.status.${status}`), TONES[status]);
}

// A new paid order rings: two short tones through WebAudio (no sound file to serve). A
// browser lets a page play sound only after the user has touched it, so the context is
// made (or resumed) on the first touch; until then the title's count still shows news.
let audio = null;
function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  if (!audio) audio = new Ctx();
  if (audio.state === "suspended") audio.resume().catch(() => {});
}
document.addEventListener("pointerdown", unlockAudio, { capture: true });
document.addEventListener("keydown", unlockAudio, { capture: true });

export function chime() {
  document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  if (localStorage.getItem("daojia.sound") === "off" || !audio || audio.state !== "running") return;
  const start = audio.currentTime;
  [880, 1318.5].forEach((freq, i) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.25, start + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.18 + 0.16);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + i * 0.18);
    osc.stop(start + i * 0.18 + 0.17);
  });
}

/** Orders that can go to a courier together: checked-out delivery orders. */
const dispatchable = (o) => o.status === "checked_out" && o.fulfilment === "delivery";

/** Hand the selected orders to one courier: each order's result, the failed ones with
 * why, in the site's language. */
function dispatchPanel(storeId, picked, onDone) {
  const courier = h("input", { maxlength: "40", placeholder: t("dispatch.courier_hint") });
  const messages = slot();
  const result = slot({ "data-testid": "dispatch-result" });
  const submit = h("button", { type: "submit", class: "primary" }, t("dispatch.apply"));
  const count = h("span", { class: "muted", "data-testid": "dispatch-count" });
  const form = h("form", {
    class: "card",
    "data-testid": "dispatch-panel",
    onsubmit: (e) => {
      e.preventDefault();
      result.clear();
      busy(submit, messages, async () => {
        if (!picked.size) throw new Error(t("dispatch.none_selected"));
        const body = { order_ids: [...picked] };
        if (courier.value.trim()) body.courier = courier.value.trim();
        const out = await post(`/admin/stores/${storeId}/dispatch`, body);
        const failed = out.results.filter((r) => r.result === "failed");
        result.show(
          okBox(t("dispatch.summary", out)),
          failed.length ? table(t("dispatch.failed"), [
            { label: t("orders.id"), cell: (r) => r.order_id },
            { label: t("orders.status"), cell: (r) => (r.status ? statusBadge(r.status) : "—") },
            { label: t("import.reason"), cell: (r) => errorBox({ status: 409, code: r.code, message: r.message, details: null }) },
          ], failed) : null,
        );
        for (const r of out.results) if (r.result !== "failed") picked.delete(r.order_id);
        await onDone();
      });
    },
  },
  h("h2", {}, t("dispatch.title")),
  h("div", { class: "row" }, field(t("dispatch.courier"), courier), submit, count),
  messages,
  result);
  form.sync = () => { count.textContent = t("bulk.selected", { n: picked.size }); };
  form.sync();
  return form;
}

export default {
  id: "orders",
  path: "/orders",
  title: "orders.title",
  nav: "nav.orders",
  roles: BACK_OFFICE,
  async render(ctx) {
    // 全部门店: head office's list across stores (store roles never see it)
    if (isHq() && ctx.query.all === "1") return renderAll(ctx, ORDER_STATUSES);
    const storeId = await stores.chosen(ctx.query.store);
    if (!storeId) return h("section", {}, h("h1", {}, t("orders.title")), h("p", { class: "empty card" }, t("common.no_store")));
    const tz = await stores.timezoneOf(storeId);
    const status = ctx.query.status || "any";
    const date = ctx.query.date || today(tz);

    const storeSelect = await stores.picker(storeId);
    const statusSelect = select([["any", t("orders.any_status")], ...ORDER_STATUSES.map((s) => [s, t(`order.status.${s}`)])], status);
    const dateInput = h("input", { type: "date", value: date, required: true });
    const apply = () => ctx.navigate("/orders", { store: storeSelect.value, status: statusSelect.value, date: dateInput.value });
    for (const control of [storeSelect, statusSelect, dateInput]) control.addEventListener("change", apply);

    const list = slot();
    const more = h("button", { type: "button", hidden: true }, t("common.more"));
    const stamp = h("span", { class: "muted", "aria-live": "off" });
    let cursor = null;
    let rows = [];
    // Orders paid since the staff last touched the page: marked in the list and counted in
    // the tab's title until someone taps or types.
    const fresh = new Set();
    // Orders chosen for a bulk dispatch: kept across the list's refreshes.
    const picked = new Set();
    let dispatch = null;
    const pick = (o) => {
      if (!dispatchable(o)) return "";
      const box = h("input", { type: "checkbox", checked: picked.has(o.order_id), "aria-label": t("dispatch.select", { id: o.order_id }) });
      box.addEventListener("click", (e) => e.stopPropagation()); // not the row's "open"
      box.addEventListener("keydown", (e) => e.stopPropagation());
      box.addEventListener("change", () => {
        if (box.checked) picked.add(o.order_id);
        else picked.delete(o.order_id);
        dispatch.sync();
      });
      return box;
    };
    let seen = null; // order_id -> status at the last load (null before the first)
    const acknowledge = () => {
      if (!fresh.size) return;
      fresh.clear();
      ctx.badge(0);
      draw();
    };
    const draw = () => list.show(table(t("orders.title"), [
      { label: t("bulk.select"), cell: pick },
      { label: t("orders.seq"), num: true, cell: (o) => (o.daily_seq ? `#${o.daily_seq}` : "—") },
      { label: t("orders.id"), cell: (o) => h("a", { href: `#/orders/${o.order_id}` }, o.order_id) },
      { label: t("orders.status"), cell: (o) => [
        statusBadge(o.status),
        fresh.has(o.order_id) ? [" ", badge(t("orders.new"), "ok")] : null,
        o.missed_print ? [" ", badge(t("orders.missed_print"), "bad")] : null,
      ] },
      { label: t("orders.fulfilment"), cell: (o) => t(`order.fulfilment.${o.fulfilment}`) },
      { label: t("orders.items"), num: true, cell: (o) => String(o.lines.reduce((n, l) => n + l.qty, 0)) },
      { label: t("orders.total"), num: true, cell: (o) => money(o.total_fen) },
      { label: t("orders.refunded"), num: true, cell: (o) => (o.refunded_fen ? money(o.refunded_fen) : "—") },
      { label: t("orders.created"), cell: (o) => clockTime(o.created_at, tz) },
    ], rows, {
      empty: t("orders.empty"),
      onRowClick: (o) => ctx.navigate(`/orders/${o.order_id}`),
      rowLabel: (o) => t("orders.open", { id: o.order_id }),
    }));
    const fetchPage = (after) => get(`/admin/stores/${storeId}/orders`, { status, date, cursor: after || undefined, limit: 50 });
    const loadMore = async () => {
      try {
        const page = await fetchPage(cursor);
        rows.push(...page.items);
        cursor = page.next_cursor;
        more.hidden = !cursor;
        draw();
      } catch (err) {
        list.show(errorBox(err));
      }
    };
    // The list again from the top (newest first), as many orders as were shown; a paid
    // order not seen paid before rings and is counted.
    const refresh = async () => {
      try {
        const got = [];
        let next = null;
        do {
          const page = await fetchPage(next);
          got.push(...page.items);
          next = page.next_cursor;
        } while (next && got.length < rows.length);
        if (!ctx.isCurrent()) return;
        const arrived = seen === null ? [] : got.filter((o) => o.status === "paid" && seen.get(o.order_id) !== "paid");
        seen = new Map(got.map((o) => [o.order_id, o.status]));
        rows = got;
        cursor = next;
        more.hidden = !cursor;
        for (const o of arrived) fresh.add(o.order_id);
        draw();
        stamp.textContent = t("orders.refreshed", { seconds: REFRESH_MS / 1000, time: clockTime(new Date().toISOString(), tz) });
        if (arrived.length) {
          ctx.badge(fresh.size);
          chime();
        }
      } catch (err) {
        if (ctx.isCurrent()) list.show(errorBox(err));
      }
    };
    more.addEventListener("click", loadMore);
    dispatch = dispatchPanel(storeId, picked, () => refresh());
    await refresh();
    // Only today's list changes by itself.
    if (date === today(tz)) ctx.every(REFRESH_MS, refresh);
    const section = h(
      "section",
      { onpointerdown: acknowledge, onkeydown: acknowledge },
      h("h1", {}, t("orders.title")),
      isHq() ? h("p", {}, h("a", { href: "#/orders?all=1", class: "button", "data-testid": "all-stores-mode" }, t("orders_all.open"))) : null,
      h("div", { class: "row card" },
        field(t("common.store"), storeSelect),
        field(t("orders.status"), statusSelect),
        field(t("orders.date"), dateInput)),
      h("div", { class: "row exports" },
        exportButton("orders", () => ({ store_id: storeId, date_from: date, date_to: date, status })),
        exportButton("refunds", () => ({ store_id: storeId, date_from: date, date_to: date }), { label: t("export.refunds") })),
      h("p", {}, stamp),
      status === "checked_out" || status === "any" ? dispatch : null,
      list,
      more,
    );
    return section;
  },
};
