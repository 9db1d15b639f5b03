import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { dateTime, money, parseYuan } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

const KINDS = ["amount_off", "percent_off", "free_delivery"];
const FUNDERS = ["hq", "store", "supplier"];
const list = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

/** What a template gives, in one line: "满99减20", "85折 最高减¥30", "免配送费". */
export function describeCoupon(c) {
  const threshold = c.threshold_fen ? t("coupons.threshold", { amount: money(c.threshold_fen) }) : t("coupons.no_threshold");
  if (c.kind === "amount_off") return `${threshold} ${t("coupons.off", { amount: money(c.amount_off_fen) })}`;
  if (c.kind === "percent_off") {
    const cap = c.cap_fen ? ` ${t("coupons.cap", { amount: money(c.cap_fen) })}` : "";
    return `${threshold} ${t("coupons.percent", { percent: c.percent_off })}${cap}`;
  }
  return `${threshold} ${t("coupons.free_delivery")}`;
}

function validity(c) {
  if (c.days_after_claim) return t("coupons.days_after_claim", { days: c.days_after_claim });
  return `${dateTime(c.starts_at)} – ${dateTime(c.ends_at)}`;
}

function createForm(messages, ctx) {
  const name = h("input", { required: true, maxlength: "40" });
  const kind = select(KINDS.map((k) => [k, t(`coupons.kind.${k}`)]), "amount_off");
  const threshold = h("input", { inputmode: "decimal", value: "0" });
  const amount = h("input", { inputmode: "decimal", value: "10" });
  const percent = h("input", { type: "number", min: "1", max: "99", value: "10" });
  const cap = h("input", { inputmode: "decimal" });
  const categories = h("input", { placeholder: "蔬菜, 水果/进口水果" });
  const skus = h("input", { placeholder: "100001 100002" });
  const storeIds = h("input", { placeholder: "sh-jingan sh-xuhui" });
  const days = h("input", { type: "number", min: "1", max: "365", value: "7" });
  const quantity = h("input", { type: "number", min: "1" });
  const perCustomer = h("input", { type: "number", min: "1", value: "1" });
  const funder = select(FUNDERS.map((f) => [f, t(`coupons.funded_by.${f}`)]), "hq");
  const funderName = h("input", { maxlength: "60" });
  const budget = h("input", { inputmode: "decimal" });
  const claimable = h("input", { type: "checkbox", checked: true });
  const auto = select([["", t("coupons.auto.none")], ["registration", t("coupons.auto.registration")], ["after_payment", t("coupons.auto.after_payment")]], "");
  const afterMin = h("input", { inputmode: "decimal" });
  const submit = h("button", { type: "submit", class: "primary" }, t("coupons.create"));
  const yuan = (input, label, optional) => {
    if (optional && !input.value.trim()) return null;
    const fen = parseYuan(input.value);
    if (fen === null) throw new Error(t("common.bad_amount", { field: label }));
    return fen;
  };
  return h("form", {
    class: "card",
    onsubmit: (e) => {
      e.preventDefault();
      busy(submit, messages, async () => {
        const body = {
          name: name.value.trim(),
          kind: kind.value,
          threshold_fen: yuan(threshold, t("coupons.threshold_label")),
          scope: { categories: list(categories.value), skus: list(skus.value), stores: list(storeIds.value) },
          days_after_claim: Number(days.value),
          per_customer_limit: Number(perCustomer.value),
          funded_by: funder.value,
          claimable: claimable.checked,
        };
        if (kind.value === "amount_off") body.amount_off_fen = yuan(amount, t("coupons.amount_label"));
        if (kind.value === "percent_off") {
          body.percent_off = Number(percent.value);
          body.cap_fen = yuan(cap, t("coupons.cap_label"), true);
        }
        if (quantity.value) body.total_quantity = Number(quantity.value);
        if (funderName.value.trim()) body.funder = funderName.value.trim();
        const budgetFen = yuan(budget, t("coupons.budget"), true);
        if (budgetFen !== null) body.budget_fen = budgetFen;
        if (auto.value) body.auto_issue = auto.value;
        if (auto.value === "after_payment") body.after_payment_min_fen = yuan(afterMin, t("coupons.after_payment_min"));
        const made = await post("/admin/coupon-templates", body);
        sessionStorage.setItem("daojia.flash", t("coupons.created", { name: made.name }));
        ctx.rerender();
      });
    },
  },
  h("h2", {}, t("coupons.create")),
  h("div", { class: "form-grid" },
    field(t("coupons.name"), name),
    field(t("coupons.kind"), kind),
    field(t("coupons.threshold_label"), threshold, t("coupons.threshold_hint")),
    field(t("coupons.amount_label"), amount, t("common.in_yuan")),
    field(t("coupons.percent_label"), percent, t("coupons.percent_hint")),
    field(t("coupons.cap_label"), cap, t("common.in_yuan")),
    field(t("coupons.categories"), categories, t("coupons.list_hint")),
    field(t("coupons.skus"), skus, t("coupons.list_hint")),
    field(t("coupons.stores"), storeIds, t("coupons.list_hint")),
    field(t("coupons.days_label"), days),
    field(t("coupons.quantity"), quantity, t("coupons.unlimited_hint")),
    field(t("coupons.per_customer"), perCustomer),
    field(t("coupons.funder"), funder),
    field(t("coupons.funder_name"), funderName),
    field(t("coupons.budget"), budget, t("coupons.unlimited_hint")),
    field(t("coupons.auto"), auto),
    field(t("coupons.after_payment_min"), afterMin, t("common.in_yuan")),
    h("label", { class: "inline" }, claimable, t("coupons.claimable"))),
  submit);
}

function issueForm(templates, messages) {
  const template = select(templates.map((c) => [c.template_id, c.name]), templates[0] && templates[0].template_id);
  const batch = h("input", { required: true, value: `batch-${new Date().toISOString().slice(0, 10)}`, maxlength: "40" });
  const customers = h("textarea", { rows: "3", required: true, placeholder: "c-1a2b3c c-4d5e6f" });
  const result = slot({ "data-testid": "issue-result" });
  const submit = h("button", { type: "submit" }, t("coupons.issue"));
  return h("form", {
    class: "card",
    onsubmit: (e) => {
      e.preventDefault();
      busy(submit, messages, async () => {
        const r = await post(`/admin/coupon-templates/${template.value}/issue`, { batch_id: batch.value.trim(), customer_ids: list(customers.value) });
        result.show(okBox(t("coupons.issued", { issued: r.issued, already: r.already_issued, refused: r.refused.length })),
          r.refused.length ? table(t("coupons.refused"), [
            { label: t("coupons.customer"), cell: (x) => x.customer_id },
            { label: t("import.reason"), cell: (x) => x.reason },
          ], r.refused) : null);
      });
    },
  },
  h("h2", {}, t("coupons.issue_title")),
  h("p", { class: "muted" }, t("coupons.issue_hint")),
  h("div", { class: "form-grid" }, field(t("coupons.template"), template), field(t("coupons.batch"), batch), field(t("coupons.customer_ids"), customers)),
  submit, result);
}

export default {
  id: "coupons",
  path: "/coupons",
  title: "coupons.title",
  nav: "nav.coupons",
  roles: [HQ],
  async render(ctx) {
    const messages = slot();
    const flash = sessionStorage.getItem("daojia.flash");
    if (flash) {
      sessionStorage.removeItem("daojia.flash");
      messages.show(okBox(flash));
    }
    let templates = [];
    let listing;
    try {
      templates = (await get("/admin/coupon-templates")).items;
      listing = table(t("coupons.title"), [
        { label: t("coupons.name"), cell: (c) => c.name },
        { label: t("coupons.rule"), cell: describeCoupon },
        { label: t("coupons.validity"), cell: validity },
        { label: t("coupons.issued_used"), num: true, cell: (c) => `${c.issued_count}${c.total_quantity ? ` / ${c.total_quantity}` : ""} · ${c.used_count}` },
        { label: t("coupons.budget_spent"), num: true, cell: (c) => (c.budget_fen == null ? money(c.spent_fen) : `${money(c.spent_fen)} / ${money(c.budget_fen)}`) },
        { label: t("coupons.funder"), cell: (c) => t(`coupons.funded_by.${c.funded_by}`) + (c.funder ? ` · ${c.funder}` : "") },
        { label: t("stores.state"), cell: (c) => badge(t(`coupons.status.${c.status}`), c.status === "active" ? "ok" : "") },
        {
          label: t("common.actions"),
          cell: (c) => h("button", {
            type: "button",
            onclick: (e) => busy(e.currentTarget, messages, async () => {
              await patch(`/admin/coupon-templates/${c.template_id}`, { status: c.status === "active" ? "paused" : "active" });
              ctx.rerender();
            }),
          }, c.status === "active" ? t("coupons.pause") : t("coupons.resume")),
        },
      ], templates, { empty: t("coupons.empty") });
    } catch (err) {
      listing = errorBox(err);
    }
    return h(
      "section",
      {},
      h("h1", {}, t("coupons.title")),
      messages,
      listing,
      templates.length ? issueForm(templates, messages) : null,
      createForm(messages, ctx),
    );
  },
};
