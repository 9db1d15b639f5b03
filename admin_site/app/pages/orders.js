import { get } from "../api.js";
import { badge, errorBox, field, h, select, slot, table } from "../dom.js";
import { clockTime, money, today } from "../format.js";
import { t } from "../i18n.js";
import { BACK_OFFICE } from "../session.js";
import * as stores from "../stores.js";

export const ORDER_STATUSES = [
  "awaiting_payment", "paid", "picking", "picked", "checked_out", "out_for_delivery",
  "delivered", "ready_for_pickup", "completed", "cancelled", "expired",
];

const TONES = { paid: "warn", picking: "warn", cancelled: "bad", expired: "bad", completed: "ok", delivered: "ok" };

export function statusBadge(status) {
  return badge(t(`order.status.${status}`), TONES[status]);
}

export default {
  id: "orders",
  path: "/orders",
  title: "orders.title",
  nav: "nav.orders",
  roles: BACK_OFFICE,
  async render(ctx) {
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
    let cursor = null;
    const rows = [];
    const draw = () => list.show(table(t("orders.title"), [
      { label: t("orders.seq"), num: true, cell: (o) => (o.daily_seq ? `#${o.daily_seq}` : "—") },
      { label: t("orders.id"), cell: (o) => h("a", { href: `#/orders/${o.order_id}` }, o.order_id) },
      { label: t("orders.status"), cell: (o) => [statusBadge(o.status), o.missed_print ? badge(t("orders.missed_print"), "bad") : null] },
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
    const load = async () => {
      try {
        const page = await get(`/admin/stores/${storeId}/orders`, { status, date, cursor: cursor || undefined, limit: 50 });
        rows.push(...page.items);
        cursor = page.next_cursor;
        more.hidden = !cursor;
        draw();
      } catch (err) {
        list.show(errorBox(err));
      }
    };
    more.addEventListener("click", load);
    await load();
    return h(
      "section",
      {},
      h("h1", {}, t("orders.title")),
      h("div", { class: "row card" },
        field(t("common.store"), storeSelect),
        field(t("orders.status"), statusSelect),
        field(t("orders.date"), dateInput)),
      list,
      more,
    );
  },
};
