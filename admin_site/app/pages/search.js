import { get } from "../api.js";
import { emptyState, h } from "../dom.js";
import { tableExportButton } from "../export.js";
import { dateTime, money, today } from "../format.js";
import { t } from "../i18n.js";
import { BACK_OFFICE } from "../session.js";

// Global search (GET /admin/search): the shell's search box opens this page with ?q=.
// Results come in groups (orders, members, products, stores); each row opens its link.

/** A group: its heading and one link per result (links open the admin site's page). */
function group(id, title, rows, line) {
  if (!rows.length) return null;
  return h("section", { class: "card search-group", "aria-labelledby": `search-${id}` },
    h("h2", { id: `search-${id}` }, t(title, { n: rows.length })),
    h("ul", { class: "search-results" }, rows.map((r) => h("li", {}, r.link ? h("a", { href: r.link }, line(r)) : line(r)))));
}

export default {
  id: "search",
  path: "/search",
  title: "search.title",
  roles: BACK_OFFICE,
  async render(ctx) {
    const q = (ctx.query.q || "").trim();
    const title = h("h1", {}, t("search.title"));
    if (!q) return h("div", {}, title, emptyState(t("search.hint")));
    const r = await get("/admin/search", { q });
    const lines = {
      orders: (o) => `${o.order_id} · ${t(`order.status.${o.status}`)} · ${t(`order.fulfilment.${o.fulfilment}`)} · ${money(o.total_fen)} · ${o.store_id} · ${dateTime(o.created_at)} · ${t(`search.matched.${o.matched}`)}`,
      customers: (c) => `${c.nickname || t("wallet.no_nickname")} · ${c.phone_masked} · ${c.customer_id}`,
      products: (p) => `${p.sku} · ${p.name}${p.barcode ? ` · ${p.barcode}` : ""}`,
      stores: (s) => `${s.name} (${s.store_id})`,
    };
    const ids = { orders: (o) => o.order_id, customers: (c) => c.customer_id, products: (p) => p.sku, stores: (s) => s.store_id };
    const groups = Object.keys(lines).map((id) => group(id, `search.${id}`, r[id], lines[id])).filter(Boolean);
    // The results as one file: a row per result, its group, id and the line shown.
    const file = () => ({
      filename: `search_${today()}.csv`,
      header: [t("search.export.group"), t("search.export.id"), t("search.export.result")],
      rows: Object.keys(lines).flatMap((id) => r[id].map((x) => [t(`search.group.${id}`), ids[id](x), lines[id](x)])),
    });
    return h("div", {}, title, h("p", { class: "muted" }, t("search.for", { q })),
      groups.length ? [h("div", { class: "row" }, h("div", { class: "spacer" }), tableExportButton(file, { name: "search" })), groups] : emptyState(t("search.none", { q })));
  },
};
