import { get } from "../api.js";
import { errorBox, field, h, select, slot, table } from "../dom.js";
import { exportButton } from "../export.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, isHq } from "../session.js";
import * as stores from "../stores.js";

// 退货待办: returns in one status across the stores the user may see, oldest first
// (GET /admin/returns). Head office sees every store (or one); a manager their store.
const STATUSES = ["awaiting_verification", "verified", "refunded", "rejected"];

export default {
  id: "returns",
  path: "/returns",
  title: "returns.title",
  nav: "nav.returns",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const status = STATUSES.includes(ctx.query.status) ? ctx.query.status : STATUSES[0];
    const query = { status, ...(ctx.query.store_id ? { store_id: ctx.query.store_id } : {}) };
    const statusInput = select(STATUSES.map((s) => [s, t(`returns.status.${s}`)]), status, { name: "status" });
    let storeInput = null;
    if (isHq()) {
      const all = await stores.list();
      storeInput = h("select", { name: "store_id" },
        h("option", { value: "" }, t("returns.all_stores")),
        all.map((s) => h("option", { value: s.store_id, selected: s.store_id === query.store_id ? "" : null }, `${s.name} (${s.store_id})`)));
    }
    const form = h("form", {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate("/returns", { status: statusInput.value, store_id: storeInput ? storeInput.value : "" });
      },
    },
    h("div", { class: "form-grid" },
      field(t("returns.status"), statusInput),
      storeInput ? field(t("returns.store"), storeInput) : null),
    h("button", { type: "submit", class: "primary" }, t("returns.filter")));

    const list = slot();
    const more = h("button", { type: "button", hidden: "" }, t("returns.more"));
    const rows = [];
    let cursor = null;
    const columns = [
      { label: t("returns.requested_at"), cell: (r) => dateTime(r.created_at) },
      { label: t("returns.store"), cell: (r) => r.store_id },
      { label: t("returns.order"), cell: (r) => h("a", { href: `#/orders/${encodeURIComponent(r.order_id)}` }, r.order_id) },
      { label: t("returns.lines"), cell: (r) => r.lines.map((l) => `${l.name || l.sku} × ${l.units}`).join("、") },
      { label: t("returns.reason"), cell: (r) => r.reason || "—" },
      // issue 18: a re-evaluated discount's deduction shows under the amount, as its own line
      { label: t("returns.refund"), cell: (r) => (r.refund ? [money(r.refund.amount_fen), r.refund_deduction ? h("small", { class: "muted deduction" }, ` ${r.refund_deduction}`) : null] : "—") },
    ];
    const load = async () => {
      try {
        const page = await get("/admin/returns", { ...query, limit: 50, ...(cursor ? { cursor } : {}) });
        rows.push(...page.items);
        cursor = page.next_cursor;
        more.hidden = !cursor;
        list.show(table(t("returns.title"), columns, rows, { empty: t("returns.empty") }));
      } catch (err) {
        list.show(errorBox(err));
      }
    };
    more.addEventListener("click", load);
    await load();
    // The queue as shown (status, store) to CSV; a manager's file is their store's.
    const exporter = exportButton("returns", () => ({ ...query }), { label: t("export.returns") });
    return h("section", {}, h("h1", {}, t("returns.title")), form, h("div", { class: "row exports" }, exporter), list, more);
  },
};
