import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { dateTime, money, parseYuan } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

const KINDS = ["tiered", "second_half_price", "flash_sale"];
const list = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

/** "2026-11-25T10:00" in the browser's zone (China time at head office) -> UTC ISO. */
function isoFromLocal(value) {
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function localInput(offsetHours) {
  const d = new Date(Date.now() + offsetHours * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function describe(p) {
  if (p.kind === "tiered") return p.tiers.map((x) => t("promotions.tier", { threshold: money(x.threshold_fen), off: money(x.off_fen) })).join(" / ");
  if (p.kind === "second_half_price") return t("promotions.kind.second_half_price");
  return t("promotions.flash_line", { sku: p.sku, price: money(p.flash_price_fen), limit: p.per_customer_limit });
}

function createForm(messages, ctx) {
  const name = h("input", { required: true, maxlength: "40" });
  const kind = select(KINDS.map((k) => [k, t(`promotions.kind.${k}`)]), "tiered");
  const stores = h("input", { placeholder: "sh-jingan sh-xuhui" });
  const starts = h("input", { type: "datetime-local", required: true, value: localInput(0) });
  const ends = h("input", { type: "datetime-local", required: true, value: localInput(24) });
  const tiers = h("input", { value: "99-10, 199-30" });
  const budget = h("input", { inputmode: "decimal" });
  const categories = h("input");
  const skus = h("input");
  const sku = h("input");
  const price = h("input", { inputmode: "decimal" });
  const quantity = h("input", { type: "number", min: "1" });
  const limit = h("input", { type: "number", min: "1", value: "1" });
  const submit = h("button", { type: "submit", class: "primary" }, t("promotions.create"));
  const parseTiers = () => list(tiers.value).map((pair) => {
    const [a, b] = pair.split("-");
    const threshold = parseYuan(a);
    const off = parseYuan(b);
    if (threshold === null || off === null) throw new Error(t("promotions.bad_tiers"));
    return { threshold_fen: threshold, off_fen: off };
  });
  return h("form", {
    class: "card",
    onsubmit: (e) => {
      e.preventDefault();
      busy(submit, messages, async () => {
        const body = {
          kind: kind.value, name: name.value.trim(), stores: list(stores.value),
          starts_at: isoFromLocal(starts.value), ends_at: isoFromLocal(ends.value),
        };
        if (kind.value === "tiered") {
          Object.assign(body, { tiers: parseTiers(), scope: { categories: list(categories.value), skus: list(skus.value) } });
          if (budget.value.trim()) {
            const fen = parseYuan(budget.value);
            if (fen === null) throw new Error(t("common.bad_amount", { field: t("coupons.budget") }));
            body.budget_fen = fen;
          }
        }
        if (kind.value === "second_half_price") body.scope = { categories: list(categories.value), skus: list(skus.value) };
        if (kind.value === "flash_sale") {
          const fen = parseYuan(price.value);
          if (fen === null) throw new Error(t("common.bad_amount", { field: t("promotions.flash_price") }));
          Object.assign(body, { sku: sku.value.trim(), flash_price_fen: fen, quantity: Number(quantity.value), per_customer_limit: Number(limit.value) });
        }
        const made = await post("/admin/promotions", body);
        sessionStorage.setItem("daojia.flash", t("promotions.created", { name: made.name }));
        ctx.rerender();
      });
    },
  },
  h("h2", {}, t("promotions.create")),
  h("div", { class: "form-grid" },
    field(t("coupons.name"), name),
    field(t("promotions.kind"), kind),
    field(t("coupons.stores"), stores, t("coupons.list_hint")),
    field(t("promotions.starts"), starts),
    field(t("promotions.ends"), ends),
    field(t("promotions.tiers"), tiers, t("promotions.tiers_hint")),
    field(t("coupons.budget"), budget, t("common.in_yuan")),
    field(t("coupons.categories"), categories, t("coupons.list_hint")),
    field(t("coupons.skus"), skus, t("coupons.list_hint")),
    field(t("promotions.flash_sku"), sku),
    field(t("promotions.flash_price"), price, t("common.in_yuan")),
    field(t("promotions.quantity"), quantity),
    field(t("coupons.per_customer"), limit)),
  submit);
}

export default {
  id: "promotions",
  path: "/promotions",
  title: "promotions.title",
  nav: "nav.promotions",
  roles: [HQ],
  async render(ctx) {
    const messages = slot();
    const flash = sessionStorage.getItem("daojia.flash");
    if (flash) {
      sessionStorage.removeItem("daojia.flash");
      messages.show(okBox(flash));
    }
    let listing;
    try {
      const items = (await get("/admin/promotions")).items;
      listing = table(t("promotions.title"), [
        { label: t("coupons.name"), cell: (p) => p.name },
        { label: t("promotions.kind"), cell: (p) => t(`promotions.kind.${p.kind}`) },
        { label: t("coupons.rule"), cell: describe },
        { label: t("promotions.window"), cell: (p) => `${dateTime(p.starts_at)} – ${dateTime(p.ends_at)}` },
        { label: t("promotions.sold"), num: true, cell: (p) => (p.kind === "flash_sale" ? `${p.sold} / ${p.quantity}` : "—") },
        { label: t("coupons.budget_spent"), num: true, cell: (p) => (p.budget_fen == null ? "—" : `${money(p.spent_fen)} / ${money(p.budget_fen)}`) },
        { label: t("stores.state"), cell: (p) => badge(t(`promotions.status.${p.status}`), p.status === "active" ? "ok" : "") },
        {
          label: t("common.actions"),
          cell: (p) => (p.status === "active"
            ? h("button", { type: "button", class: "danger", onclick: (e) => busy(e.currentTarget, messages, async () => {
              await patch(`/admin/promotions/${p.promotion_id}`, { status: "ended" });
              ctx.rerender();
            }) }, t("promotions.end"))
            : "—"),
        },
      ], items, { empty: t("promotions.empty") });
    } catch (err) {
      listing = errorBox(err);
    }
    return h("section", {}, h("h1", {}, t("promotions.title")), messages, listing, createForm(messages, ctx));
  },
};
