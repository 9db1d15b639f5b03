import { get } from "../api.js";
import { emptyState, h } from "../dom.js";
import { dateTime, money } from "../format.js";
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
    const groups = [
      group("orders", "search.orders", r.orders, (o) =>
        `${o.order_id} · ${t(`order.status.${o.status}`)} · ${t(`order.fulfilment.${o.fulfilment}`)} · ${money(o.total_fen)} · ${o.store_id} · ${dateTime(o.created_at)} · ${t(`search.matched.${o.matched}`)}`),
      group("customers", "search.customers", r.customers, (c) =>
        `${c.nickname || t("wallet.no_nickname")} · ${c.phone_masked} · ${c.customer_id}`),
      group("products", "search.products", r.products, (p) => `${p.sku} · ${p.name}${p.barcode ? ` · ${p.barcode}` : ""}`),
      group("stores", "search.stores", r.stores, (s) => `${s.name} (${s.store_id})`),
    ].filter(Boolean);
    return h("div", {}, title, h("p", { class: "muted" }, t("search.for", { q })),
      groups.length ? groups : emptyState(t("search.none", { q })));
  },
};
