import { get } from "../api.js";
import { errorBox, field, h, select, slot, table } from "../dom.js";
import { dateTime, money, parseYuan, today, yuanInput } from "../format.js";
import { exportButton } from "../export.js";
import { t } from "../i18n.js";
import * as stores from "../stores.js";
// Orders carrying a promotion or a coupon template (issue 18 item 6): effect_reports.js.
import { discountFilterFields, discountFilterInputs, discountFilterValues, discountFilters } from "./effect_reports.js";

// 全部门店: head office's orders across stores (GET /admin/orders), newest first, with the
// list's filters in the address (#/orders?all=1&...), so a filtered list can be shared
// and reloaded. "More" follows the API's cursor. The Export button exports exactly these
// filters (POST /admin/exports, kind "orders": the API filters the file with the list's
// own predicate). Store roles never get here: orders.js shows this to head office only.

const YES_NO = (value) => (value === "true" ? true : value === "false" ? false : undefined);

/** The list's filters from the address: the API's query, and the export's filters. */
export function filtersOf(query, chainToday) {
  const to = query.to || chainToday;
  const from = query.from || to;
  const minPaid = query.min_paid ? parseYuan(query.min_paid) : null;
  const maxPaid = query.max_paid ? parseYuan(query.max_paid) : null;
  const api = {
    from,
    to,
    store_ids: query.stores || undefined,
    status: query.status && query.status !== "any" ? query.status : undefined,
    fulfilment: query.fulfilment || undefined,
    min_paid_fen: minPaid ?? undefined,
    max_paid_fen: maxPaid ?? undefined,
    has_refund: YES_NO(query.has_refund),
    missed_print: YES_NO(query.missed_print),
    sort: query.sort === "oldest" ? "oldest" : undefined,
    ...discountFilters(query),
  };
  const exported = {
    date_from: from,
    date_to: to,
    store_ids: api.store_ids,
    status: api.status,
    fulfilment: api.fulfilment,
    min_paid_fen: api.min_paid_fen,
    max_paid_fen: api.max_paid_fen,
    has_refund: api.has_refund,
    missed_print: api.missed_print,
  };
  return { api, exported };
}

function yesNoSelect(name, value) {
  return select([["", t("orders_all.either")], ["true", t("orders_all.yes")], ["false", t("orders_all.no")]], value || "", { name });
}

export async function renderAll(ctx, statuses) {
  const all = await stores.list();
  const chainToday = today(); // the chain's zone (Asia/Shanghai), as the API's default
  const q = ctx.query;
  const { api, exported } = filtersOf(q, chainToday);
  const chosen = new Set(api.store_ids ? api.store_ids.split(",") : []);

  const storeBoxes = all.map((s) => h("input", { type: "checkbox", name: "store", value: s.store_id, checked: chosen.has(s.store_id) }));
  const storeField = h(
    "fieldset",
    { class: "store-choice", "data-testid": "all-stores-stores" },
    h("legend", {}, t("orders_all.stores"), " ", h("small", { class: "muted" }, t("orders_all.stores_hint"))),
    all.map((s, i) => h("label", { class: "check" }, storeBoxes[i], " ", `${s.name} (${s.store_id})`)),
  );
  const statusInput = select([["any", t("orders.any_status")], ...statuses.map((s) => [s, t(`order.status.${s}`)])], api.status || "any", { name: "status" });
  const fromInput = h("input", { type: "date", name: "from", value: api.from, required: true });
  const toInput = h("input", { type: "date", name: "to", value: api.to, required: true });
  const fulfilmentInput = select([["", t("orders_all.any_fulfilment")], ["delivery", t("order.fulfilment.delivery")], ["pickup", t("order.fulfilment.pickup")]], api.fulfilment || "", { name: "fulfilment" });
  const minInput = h("input", { name: "min_paid", inputmode: "decimal", pattern: "\\d{1,9}(\\.\\d{1,2})?", value: api.min_paid_fen != null ? yuanInput(api.min_paid_fen) : "", placeholder: "0.00" });
  const maxInput = h("input", { name: "max_paid", inputmode: "decimal", pattern: "\\d{1,9}(\\.\\d{1,2})?", value: api.max_paid_fen != null ? yuanInput(api.max_paid_fen) : "", placeholder: "0.00" });
  const refundInput = yesNoSelect("has_refund", q.has_refund);
  const missedInput = yesNoSelect("missed_print", q.missed_print);
  const discountInputs = discountFilterInputs(api);
  const sortInput = select([["newest", t("orders_all.sort_newest")], ["oldest", t("orders_all.sort_oldest")]], api.sort || "newest", { name: "sort" });

  const form = h(
    "form",
    {
      class: "card",
      "data-testid": "all-stores-filters",
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate("/orders", {
          all: "1",
          stores: storeBoxes.filter((b) => b.checked).map((b) => b.value).join(","),
          status: statusInput.value === "any" ? "" : statusInput.value,
          from: fromInput.value,
          to: toInput.value,
          fulfilment: fulfilmentInput.value,
          min_paid: minInput.value.trim(),
          max_paid: maxInput.value.trim(),
          has_refund: refundInput.value,
          missed_print: missedInput.value,
          sort: sortInput.value === "oldest" ? "oldest" : "",
          ...discountFilterValues(discountInputs),
        });
      },
    },
    storeField,
    h(
      "div",
      { class: "form-grid" },
      field(t("orders.status"), statusInput),
      field(t("orders_all.from"), fromInput),
      field(t("orders_all.to"), toInput),
      field(t("orders.fulfilment"), fulfilmentInput),
      field(t("orders_all.min_paid"), minInput),
      field(t("orders_all.max_paid"), maxInput),
      field(t("orders_all.has_refund"), refundInput),
      field(t("orders_all.missed_print"), missedInput),
      field(t("orders_all.sort"), sortInput),
      ...discountFilterFields(discountInputs),
    ),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, t("orders_all.apply")), h("small", { class: "muted" }, t("orders_all.sorted"))),
  );

  const names = new Map(all.map((s) => [s.store_id, s.name]));
  const list = slot({ "data-testid": "all-stores-list" });
  const more = h("button", { type: "button", hidden: true }, t("common.more"));
  const rows = [];
  let cursor = null;
  const columns = [
    { label: t("common.store"), cell: (o) => names.get(o.store_id) || o.store_id },
    { label: t("orders.id"), cell: (o) => h("a", { href: `#/orders/${o.order_id}` }, o.order_id) },
    { label: t("orders.status"), cell: (o) => [t(`order.status.${o.status}`), o.missed_print ? ` · ${t("orders.missed_print")}` : ""] },
    { label: t("orders.fulfilment"), cell: (o) => t(`order.fulfilment.${o.fulfilment}`) },
    { label: t("orders_all.paid"), num: true, cell: (o) => money(o.paid_fen ?? o.total_fen) },
    { label: t("orders.refunded"), num: true, cell: (o) => (o.refunded_fen ? money(o.refunded_fen) : "—") },
    { label: t("orders.created"), cell: (o) => dateTime(o.created_at) },
  ];
  const load = async () => {
    try {
      const page = await get("/admin/orders", { ...api, limit: 50, ...(cursor ? { cursor } : {}) });
      rows.push(...page.items);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      list.show(table(t("orders_all.title"), columns, rows, {
        empty: t("orders_all.empty"),
        onRowClick: (o) => ctx.navigate(`/orders/${o.order_id}`),
        rowLabel: (o) => t("orders.open", { id: o.order_id }),
      }));
    } catch (err) {
      more.hidden = true;
      list.show(errorBox(err));
    }
  };
  more.addEventListener("click", load);
  await load();
  return h(
    "section",
    { "data-testid": "all-stores" },
    h("h1", {}, t("orders_all.title")),
    h("p", {}, h("a", { href: "#/orders" }, t("orders_all.one_store"))),
    form,
    h("div", { class: "row exports" }, exportButton("orders", () => ({ ...exported }))),
    list,
    more,
  );
}
