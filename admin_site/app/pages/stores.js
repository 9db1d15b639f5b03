import { badge, h, table } from "../dom.js";
import { columnsTable, tableExportButton, yuanCell } from "../export.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { BACK_OFFICE, isHq } from "../session.js";
import * as stores from "../stores.js";

/** One status per store. `open_now` is the API's answer (active and within its hours);
 * `active` alone says only whether the store takes orders at all, so it is shown only
 * when it is off. */
export function storeStatus(s) {
  if (!s.active) return badge(t("stores.status.disabled"), "bad");
  if (s.open_now) return badge(t("stores.status.open"), "ok");
  const next = s.next_open_at ? ` · ${t("stores.status.opens_at", { time: dateTime(s.next_open_at, s.timezone) })}` : "";
  return [badge(t("stores.status.closed"), "warn"), h("span", { class: "muted" }, next)];
}

export default {
  id: "stores",
  path: "/stores",
  title: "stores.title",
  nav: "nav.stores",
  roles: BACK_OFFICE,
  async render(ctx) {
    stores.forget(); // this page shows the latest, and refreshes the shared list
    const all = await stores.list();
    const columns = [
      { label: t("stores.id"), cell: (s) => s.store_id },
      { label: t("stores.name"), cell: (s) => h("a", { href: `#/stores/${s.store_id}` }, s.name) },
      { label: t("stores.address"), cell: (s) => s.address },
      { label: t("stores.radius"), num: true, cell: (s) => `${(s.radius_m / 1000).toFixed(1)} km`, csv: (s) => s.radius_m },
      { label: t("stores.minimum_order"), num: true, cell: (s) => money(s.minimum_order_fen), csv: (s) => yuanCell(s.minimum_order_fen) },
      { label: t("stores.delivery_fee"), num: true, cell: (s) => money(s.delivery_fee.base_fee_fen), csv: (s) => yuanCell(s.delivery_fee.base_fee_fen) },
      { label: t("stores.state"), cell: (s) => storeStatus(s) },
    ];
    return h(
      "section",
      {},
      h("div", { class: "row" },
        h("h1", {}, t("stores.title")),
        h("div", { class: "spacer" }),
        tableExportButton(() => columnsTable("stores", columns, all), { name: "stores" }),
        " ",
        isHq() ? h("button", { type: "button", class: "primary", onclick: () => ctx.navigate("/stores/new") }, t("stores.create")) : null),
      table(t("stores.title"), columns, all, {
        empty: t("stores.empty"),
        onRowClick: (s) => ctx.navigate(`/stores/${s.store_id}`),
        rowLabel: (s) => t("stores.edit_named", { name: s.name }),
      }),
    );
  },
};
