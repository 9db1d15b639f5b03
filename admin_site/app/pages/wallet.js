import { get } from "../api.js";
import { badge, busy, field, h, select, slot, table } from "../dom.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";
import { describeCoupon } from "./coupons.js";

// CouponState of functions/chalicelib/coupons/schemas.py, with its tone.
const TONE = { available: "ok", locked: "warn", used: "", expired: "bad", voided: "bad" };

export default {
  id: "wallet",
  path: "/wallet",
  title: "wallet.title",
  nav: "nav.wallet",
  roles: [HQ],
  async render(ctx) {
    const phone = h("input", { type: "tel", inputmode: "numeric", pattern: "1[3-9]\\d{9}", maxlength: "11", required: true, value: ctx.query.phone || "" });
    const state = select([["", t("wallet.state.all")], ...Object.keys(TONE).map((s) => [s, t(`wallet.state.${s}`)])], ctx.query.state || "");
    const messages = slot();
    const result = slot({ "data-testid": "wallet" });
    const submit = h("button", { type: "submit", class: "primary" }, t("wallet.look_up"));
    const lookUp = () =>
      busy(submit, messages, async () => {
        result.clear();
        const customer = await get("/admin/customers", { phone: phone.value.trim() });
        const coupons = (await get(`/admin/customers/${encodeURIComponent(customer.customer_id)}/coupons`, { state: state.value })).items;
        result.show(
          h("p", {}, t("wallet.customer", {
            name: customer.nickname || t("wallet.no_nickname"),
            id: customer.customer_id,
            phone: customer.phone_masked,
            since: dateTime(customer.created_at),
          })),
          table(t("wallet.title"), [
            { label: t("coupons.name"), cell: (c) => c.name },
            { label: t("coupons.rule"), cell: describeCoupon },
            { label: t("stores.state"), cell: (c) => badge(t(`wallet.state.${c.state}`), TONE[c.state]) },
            { label: t("wallet.valid"), cell: (c) => `${dateTime(c.valid_from)} – ${dateTime(c.valid_until)}` },
            { label: t("wallet.source"), cell: (c) => t(`wallet.source.${c.source}`) + (c.staff_username ? ` · ${c.staff_username}` : "") },
            { label: t("wallet.order"), cell: (c) => (c.order_id ? h("a", { href: `#/orders/${c.order_id}` }, c.order_id) : "—") },
            { label: t("wallet.discount"), num: true, cell: (c) => (c.discount_fen != null ? money(c.discount_fen) : "—") },
          ], coupons, { empty: t("wallet.empty") }),
        );
      });
    const form = h("form", { class: "row card", role: "search", onsubmit: (e) => { e.preventDefault(); lookUp(); } },
      field(t("wallet.phone"), phone), field(t("wallet.state_filter"), state), submit);
    if (ctx.query.phone) lookUp();
    return h("section", {}, h("h1", {}, t("wallet.title")), form, messages, result);
  },
};
