import { get, post, request } from "../api.js";
import { busy, errorBox, field, h, okBox, slot, table } from "../dom.js";
import { money } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, STAFF, isHq } from "../session.js";

// 周期购 (subscription delivery, docs/mechanics.md): head office's plans (create, edit at
// the version read, their subscribers) and a day's deliveries per store as a pick list
// (print friendly). Money is integer fen on the wire, yuan on the page.
const FREQUENCIES = ["daily", "weekdays", "weekly"];
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

function input(attrs) {
  return h("input", attrs);
}

function choice(values, current, label, prefix) {
  const el = h("select", { "aria-label": label }, values.map((v) => h("option", { value: v, selected: v === current }, t(`${prefix}.${v}`))));
  return el;
}

function planForm(plan, saved) {
  const p = plan || { name: "", lines: [{ sku: "", qty: 1 }], frequency: "daily", weekday: null, deliveries: 30, window: "07:00-09:00", pricing: "upfront", price_fen: 0, stores: [], cutoff: "20:00", campaign_id: null, status: "on_sale" };
  const name = input({ required: true, maxlength: "60", value: p.name, "data-testid": "plan-name" });
  const lines = input({ required: true, value: p.lines.map((l) => `${l.sku}x${l.qty}`).join(", "), "data-testid": "plan-lines" });
  const frequency = choice(FREQUENCIES, p.frequency, t("subscriptions.frequency"), "subscriptions.freq");
  const weekday = choice(WEEKDAYS, p.weekday || "mon", t("subscriptions.weekday"), "subscriptions.wd");
  const deliveries = input({ type: "number", min: "1", max: "90", required: true, value: p.deliveries, class: "short", "data-testid": "plan-deliveries" });
  const window = input({ required: true, pattern: "\\d{2}:\\d{2}-\\d{2}:\\d{2}", value: p.window, class: "short" });
  const cutoff = input({ type: "time", required: true, value: p.cutoff, class: "short" });
  const price = input({ type: "number", min: "0.01", step: "0.01", required: true, value: p.price_fen ? (p.price_fen / 100).toFixed(2) : "", class: "short", "data-testid": "plan-price" });
  const pricing = choice(["upfront", "per_delivery"], p.pricing, t("subscriptions.pricing"), "subscriptions.pricing");
  const stores = input({ required: true, value: p.stores.join(", "), "data-testid": "plan-stores" });
  const campaign = input({ value: p.campaign_id || "" });
  const status = choice(["on_sale", "off_sale"], p.status, t("subscriptions.status"), "subscriptions.plan_status");
  const button = h("button", { type: "submit", "data-testid": "plan-save" }, t("common.save"));
  const messages = slot({ "data-testid": "plan-messages" });
  return h("form", {
    class: "card",
    "data-testid": plan ? "plan-edit" : "plan-create",
    onsubmit: (e) => {
      e.preventDefault();
      busy(button, messages, async () => {
        const body = {
          name: name.value.trim(),
          lines: lines.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
            const [sku, qty] = s.split(/x|×/);
            return { sku: sku.trim(), qty: Number(qty || 1) };
          }),
          frequency: frequency.value,
          weekday: frequency.value === "weekly" ? weekday.value : null,
          deliveries: Number(deliveries.value),
          window: window.value,
          pricing: pricing.value,
          price_fen: Math.round(Number(price.value) * 100),
          stores: stores.value.split(",").map((s) => s.trim()).filter(Boolean),
          cutoff: cutoff.value.slice(0, 5),
          campaign_id: campaign.value.trim() || null,
          status: status.value,
        };
        const got = plan
          ? await request("PUT", `/admin/subscription-plans/${encodeURIComponent(plan.plan_id)}`, { body: { ...body, version: plan.version } })
          : await post("/admin/subscription-plans", body);
        messages.show(okBox(t("subscriptions.saved", { name: got.name })));
        saved(got);
      });
    },
  },
  h("h2", {}, plan ? t("subscriptions.edit_plan", { name: plan.name }) : t("subscriptions.new_plan")),
  field(t("subscriptions.name"), name),
  field(t("subscriptions.lines"), lines, t("subscriptions.lines_hint")),
  h("div", { class: "row" }, field(t("subscriptions.frequency"), frequency), field(t("subscriptions.weekday"), weekday), field(t("subscriptions.deliveries"), deliveries)),
  h("div", { class: "row" }, field(t("subscriptions.window"), window), field(t("subscriptions.cutoff"), cutoff, t("subscriptions.cutoff_hint"))),
  h("div", { class: "row" }, field(t("subscriptions.pricing"), pricing), field(t("subscriptions.price"), price)),
  field(t("subscriptions.stores"), stores, t("subscriptions.stores_hint")),
  h("div", { class: "row" }, field(t("subscriptions.campaign"), campaign), field(t("subscriptions.status"), status)),
  button, messages);
}

async function subscribersOf(plan) {
  const got = await get(`/admin/subscription-plans/${encodeURIComponent(plan.plan_id)}/subscribers`);
  return h("section", { class: "card", "data-testid": "plan-subscribers" },
    h("h2", {}, t("subscriptions.subscribers_of", { name: plan.name })),
    table(t("subscriptions.subscribers"), [
      { label: t("subscriptions.subscription"), cell: (r) => r.subscription_id },
      { label: t("subscriptions.member"), cell: (r) => r.customer_id },
      { label: t("common.store"), cell: (r) => r.store_id },
      { label: t("subscriptions.status"), cell: (r) => t(`subscriptions.sub_status.${r.status}`) },
      { label: t("subscriptions.first_date"), cell: (r) => r.first_date },
      { label: t("subscriptions.paid"), num: true, cell: (r) => money(r.price_fen) },
      { label: t("subscriptions.refunded"), num: true, cell: (r) => money(r.refunded_fen) },
    ], got.items, { empty: t("subscriptions.no_subscribers") }));
}

export const subscriptionPlans = {
  id: "subscriptions",
  path: "/subscriptions",
  title: "subscriptions.title",
  nav: "nav.subscriptions",
  group: "marketing",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const plans = (await get("/admin/subscription-plans")).items;
    const chosen = plans.find((p) => p.plan_id === ctx.query.plan) || null;
    const hq = isHq();
    const columns = [
      { label: t("subscriptions.name"), cell: (p) => h("a", { href: `#/subscriptions?plan=${encodeURIComponent(p.plan_id)}` }, p.name) },
      { label: t("subscriptions.frequency"), cell: (p) => t(`subscriptions.freq.${p.frequency}`) + (p.weekday ? ` ${t(`subscriptions.wd.${p.weekday}`)}` : "") },
      { label: t("subscriptions.deliveries"), num: true, cell: (p) => String(p.deliveries) },
      { label: t("subscriptions.window"), cell: (p) => p.window },
      { label: t("subscriptions.price"), num: true, cell: (p) => money(p.total_fen) },
      { label: t("subscriptions.status"), cell: (p) => t(`subscriptions.plan_status.${p.status}`) },
    ];
    let subscribers = null;
    if (chosen && hq) {
      try {
        subscribers = await subscribersOf(chosen);
      } catch (err) {
        subscribers = errorBox(err);
      }
    }
    return h("section", {},
      h("h1", {}, t("subscriptions.title")),
      h("p", { class: "muted" }, t("subscriptions.intro")),
      h("p", {}, h("a", { href: "#/subscription-deliveries" }, t("subscriptions.to_deliveries"))),
      h("div", { "data-testid": "plan-table" }, table(t("subscriptions.plans"), columns, plans, { empty: t("subscriptions.no_plans"), rowClass: () => "plan-row" })),
      hq && chosen ? planForm(chosen, () => ctx.rerender()) : null,
      subscribers,
      hq ? planForm(null, (got) => ctx.navigate("/subscriptions", { plan: got.plan_id })) : null);
  },
};

/** Tomorrow (the chain's local day, Asia/Shanghai) as YYYY-MM-DD. */
export function tomorrow() {
  const now = new Date(Date.now() + 8 * 3600 * 1000 + 24 * 3600 * 1000);
  return now.toISOString().slice(0, 10);
}

export const subscriptionDeliveries = {
  id: "subscription-deliveries",
  path: "/subscription-deliveries",
  title: "subscriptions.deliveries_title",
  nav: "nav.subscription_deliveries",
  group: "operations",
  roles: [HQ, MANAGER, STAFF],
  async render(ctx) {
    const date = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.date || "") ? ctx.query.date : tomorrow();
    const query = { date };
    if (ctx.query.store) query.store_id = ctx.query.store;
    const got = await get("/admin/subscription-deliveries", query);
    const dateInput = h("input", { type: "date", value: date, "aria-label": t("subscriptions.date") });
    dateInput.addEventListener("change", () => dateInput.value && ctx.navigate("/subscription-deliveries", { date: dateInput.value }));
    const printButton = h("button", { type: "button", class: "no-print" }, t("subscriptions.print"));
    printButton.addEventListener("click", () => window.print());
    const stores = got.stores.map((s) => h("section", { class: "card pick-list", "data-testid": "pick-store", "data-store": s.store_id },
      h("h2", {}, t("subscriptions.pick_for", { store: s.store_id, date: got.date })),
      table(t("subscriptions.units"), [
        { label: t("subscriptions.sku"), cell: (r) => r.sku },
        { label: t("subscriptions.units_col"), num: true, cell: (r) => String(r.units) },
      ], s.units, { rowClass: () => "pick-units" }),
      table(t("subscriptions.deliveries_list"), [
        { label: t("subscriptions.subscription"), cell: (d) => d.subscription_id },
        { label: t("subscriptions.name"), cell: (d) => d.plan_name },
        { label: t("subscriptions.window"), cell: (d) => d.window },
        { label: t("subscriptions.fulfilment"), cell: (d) => t(`subscriptions.fulfil.${d.fulfilment}`) },
        { label: t("subscriptions.state"), cell: (d) => t(`subscriptions.delivery_state.${d.state}`) },
        { label: t("subscriptions.order"), cell: (d) => (d.order_id ? h("a", { href: `#/orders/${encodeURIComponent(d.order_id)}` }, d.order_id) : "—") },
      ], s.deliveries, { rowClass: () => "pick-delivery" })));
    return h("section", {},
      h("h1", {}, t("subscriptions.deliveries_title")),
      h("p", { class: "muted" }, t("subscriptions.deliveries_intro")),
      h("div", { class: "row no-print" }, field(t("subscriptions.date"), dateInput), printButton),
      stores.length ? stores : h("p", { class: "muted", "data-testid": "pick-empty" }, t("subscriptions.no_deliveries", { date: got.date })));
  },
};
