// Paid membership (付费会员卡), head office: the plans on sale with the members whose card
// runs, a form to add or edit a plan (audited by the API), the trial and refund rules,
// and a member's card looked up by phone with the free trial to grant (once per member).
import { get, post, request } from "../api.js";
import { badge, busy, field, h, okBox, select, slot, table } from "../dom.js";
import { columnsTable, tableExportButton, yuanCell } from "../export.js";
import { dateTime, money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

const PERIODS = ["month", "quarter", "year"];

function benefitsText(p) {
  const parts = [];
  if (p.free_delivery) parts.push(t("pc.free_delivery"));
  if (p.discount_permille) parts.push(t("pc.discount_of", { pct: (p.discount_permille / 10).toString() }));
  const prices = Object.keys(p.member_prices || {}).length;
  if (prices) parts.push(t("pc.member_prices_of", { n: prices }));
  if ((p.coupon_template_ids || []).length) parts.push(t("pc.pack_of", { n: p.coupon_template_ids.length }));
  return parts.join(" · ") || "—";
}

function planForm(plan, rerender) {
  const name = h("input", { required: true, maxlength: "40", value: plan?.name || "", "data-testid": "pc-name" });
  const period = select(PERIODS.map((x) => [x, t(`pc.period.${x}`)]), plan?.period || "month", { "data-testid": "pc-period" });
  const price = h("input", { inputmode: "decimal", required: true, value: plan ? yuanInput(plan.price_fen) : "", "data-testid": "pc-price" });
  const freeDelivery = h("input", { type: "checkbox", checked: plan ? plan.free_delivery : true, "data-testid": "pc-free-delivery" });
  const discount = h("input", { type: "number", min: "0", max: "500", value: String(plan?.discount_permille ?? 0), "data-testid": "pc-discount" });
  const templates = h("input", { value: (plan?.coupon_template_ids || []).join(", "), "data-testid": "pc-templates" });
  const active = h("input", { type: "checkbox", checked: plan ? plan.active : true, "data-testid": "pc-active" });
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, plan ? t("pc.save_plan") : t("pc.add_plan"));
  const submit = (e) => {
    e.preventDefault();
    busy(save, messages, async () => {
      const fen = parseYuan(price.value);
      if (fen === null || fen <= 0) throw new Error(t("pc.bad_amount"));
      const body = {
        name: name.value.trim(),
        period: period.value,
        price_fen: fen,
        free_delivery: freeDelivery.checked,
        discount_permille: Number(discount.value || 0),
        member_prices: plan?.member_prices || {},
        coupon_template_ids: templates.value.split(/[,\s，]+/).filter(Boolean),
        active: active.checked,
      };
      if (plan) await request("PUT", `/admin/loyalty/paid-plans/${encodeURIComponent(plan.plan_id)}`, { body: { ...body, version: plan.version } });
      else await post("/admin/loyalty/paid-plans", body);
      rerender();
    });
  };
  return h("form", { class: "card", onsubmit: submit, "data-testid": plan ? "pc-edit" : "pc-new" },
    h("h2", {}, plan ? t("pc.edit_title", { name: plan.name }) : t("pc.new_title")),
    h("div", { class: "row" }, field(t("pc.name"), name), field(t("pc.period"), period), field(t("pc.price"), price)),
    h("div", { class: "row" },
      field(t("pc.free_delivery"), freeDelivery),
      field(t("pc.discount"), discount, t("pc.discount_hint")),
      field(t("pc.active"), active),
    ),
    field(t("pc.templates"), templates, t("pc.templates_hint")),
    h("div", { class: "row" }, save),
    messages,
  );
}

function plansCard(list, ctx) {
  const editing = slot();
  const columns = [
    { label: t("pc.name"), cell: (p) => p.name },
    { label: t("pc.period"), cell: (p) => t(`pc.period.${p.period}`) },
    { label: t("pc.price"), num: true, cell: (p) => money(p.price_fen), csv: (p) => yuanCell(p.price_fen) },
    { label: t("pc.benefits"), cell: (p) => benefitsText(p) },
    { label: t("pc.members"), num: true, cell: (p) => String(p.active_members ?? 0), csv: (p) => p.active_members ?? 0 },
    { label: t("pc.status"), cell: (p) => (p.active ? badge(t("pc.on_sale"), "ok") : badge(t("pc.off_sale"))) },
  ];
  return h("div", { class: "card", "data-testid": "pc-plans" },
    h("div", { class: "row" },
      h("h2", {}, t("pc.plans")),
      h("div", { class: "spacer" }),
      tableExportButton(() => columnsTable("paid_plans", columns, list.items), { name: "pc-plans" })),
    table(t("pc.plans"), columns, list.items, {
      empty: t("pc.no_plans"),
      onRowClick: (p) => editing.show(planForm(p, ctx.rerender)),
      rowLabel: (p) => t("pc.edit_title", { name: p.name }),
    }),
    editing,
  );
}

function settingsCard(settings, rerender) {
  const trialDays = h("input", { type: "number", min: "1", max: "90", required: true, value: String(settings.trial_days), "data-testid": "pc-trial-days" });
  const refundDays = h("input", { type: "number", min: "0", max: "30", required: true, value: String(settings.full_refund_days), "data-testid": "pc-refund-days" });
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("pc.save"));
  const submit = (e) => {
    e.preventDefault();
    busy(save, messages, async () => {
      await request("PUT", "/admin/loyalty/paid-membership-settings", {
        body: { trial_days: Number(trialDays.value), trial_plan_id: settings.trial_plan_id, full_refund_days: Number(refundDays.value) },
      });
      rerender();
    });
  };
  return h("form", { class: "card", onsubmit: submit },
    h("h2", {}, t("pc.rules")),
    h("p", { class: "hint" }, t("pc.rules_hint")),
    h("div", { class: "row" }, field(t("pc.trial_days"), trialDays), field(t("pc.refund_days"), refundDays, t("pc.refund_hint"))),
    h("div", { class: "row" }, save),
    messages,
  );
}

function memberCard(ctx) {
  const phone = h("input", { type: "tel", inputmode: "numeric", pattern: "1[3-9]\\d{9}", maxlength: "11", required: true, value: ctx.query.phone || "" });
  const messages = slot();
  const result = slot({ "data-testid": "pc-member" });
  const submit = h("button", { type: "submit", class: "primary" }, t("pc.look_up"));
  const show = async (customerId) => {
    const base = `/admin/members/${encodeURIComponent(customerId)}/paid-membership`;
    const m = await get(base);
    const reason = h("input", { required: true, minlength: "2", maxlength: "200", "data-testid": "pc-trial-reason" });
    const grant = h("button", { type: "submit", class: "primary" }, t("pc.grant_trial"));
    const grantMessages = slot();
    const onGrant = (e) => {
      e.preventDefault();
      busy(grant, grantMessages, async () => {
        await post(`${base}/trial`, { reason: reason.value.trim() });
        await show(customerId);
        messages.show(okBox(t("pc.trial_granted")));
      });
    };
    const history = [
      { label: t("pc.when"), cell: (e) => dateTime(e.at) },
      { label: t("pc.kind"), cell: (e) => t(`pc.kind.${e.kind}`) },
      { label: t("pc.plan"), cell: (e) => e.plan_name || "—" },
      { label: t("pc.until"), cell: (e) => (e.ends_at ? dateTime(e.ends_at) : "—") },
      { label: t("pc.amount"), num: true, cell: (e) => money(e.amount_fen), csv: (e) => yuanCell(e.amount_fen) },
      { label: t("pc.reason"), cell: (e) => e.reason || "—" },
    ];
    result.show(
      h("p", { "data-testid": "pc-card" }, m.active
        ? t(m.trial ? "pc.card_trial" : "pc.card_line", { id: customerId, plan: m.plan_name, until: dateTime(m.ends_at) })
        : t("pc.no_card", { id: customerId })),
      table(t("pc.history"), history, m.history, { empty: t("pc.history_empty") }),
      tableExportButton(() => columnsTable(`paid_membership_${customerId}`, history, m.history), { name: "pc-history" }),
      m.trial_used ? h("p", { class: "hint" }, t("pc.trial_used")) : h("form", { class: "card", onsubmit: onGrant },
        h("h3", {}, t("pc.trial_title")),
        field(t("pc.reason"), reason, t("pc.reason_hint")),
        h("div", { class: "row" }, grant),
        grantMessages,
      ),
    );
  };
  const lookUp = () =>
    busy(submit, messages, async () => {
      result.clear();
      const customer = await get("/admin/customers", { phone: phone.value.trim() });
      await show(customer.customer_id);
    });
  const form = h("form", { class: "row card", role: "search", onsubmit: (e) => { e.preventDefault(); lookUp(); } },
    field(t("pc.phone"), phone), submit);
  if (ctx.query.phone) lookUp();
  return h("div", {}, h("h2", {}, t("pc.member")), form, messages, result);
}

export default {
  id: "paid_plans",
  path: "/paid-plans",
  title: "pc.title",
  nav: "nav.paid_plans",
  roles: [HQ],
  async render(ctx) {
    const [list, settings] = await Promise.all([
      get("/admin/loyalty/paid-plans"),
      get("/admin/loyalty/paid-membership-settings"),
    ]);
    return h("section", {},
      h("h1", {}, t("pc.title")),
      plansCard(list, ctx),
      planForm(null, ctx.rerender),
      settingsCard(settings, ctx.rerender),
      memberCard(ctx),
    );
  },
};
