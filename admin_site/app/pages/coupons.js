import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { DEFAULT_TZ, dateTime, isoFromLocal, localFromIso, localInput, money, parseYuan, yuanInput } from "../format.js";
import { columnsTable, exportButton, tableExportButton, yuanCell } from "../export.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";
import { retargetable, targetingFieldset, targetingText } from "./targeting.js";
import { campaignChooser, stackingColumn, stackingFieldset } from "./promotion_stacking.js";
import { PRODUCT_KIND, describeProduct, productFieldset } from "./promotion_mechanics.js";
import { returnsPolicy } from "./returns_policy.js";
import { limitsText, templateLimitsFieldset } from "./promotion_limits.js";
import { workflowBadge, workflowButtons } from "./promotion_workflow.js";

// The enums of functions/chalicelib/coupons/schemas.py.
const KINDS = ["amount_off", "percent_off", "free_delivery", PRODUCT_KIND];
const FUNDERS = ["hq", "store", "supplier"];
const AUTO = ["registration", "after_payment"];
const list = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

/** What a template gives, in one line: "满99减20", "85折 最高减¥30", "免配送费". */
export function describeCoupon(c) {
  const product = describeProduct(c);
  if (product !== null) return product;
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

/** How the template reaches customers: claimable, automatic, sold, limit per customer. */
function issuance(c) {
  const parts = [];
  if (c.claimable) parts.push(t("coupons.claimable_short"));
  if (c.auto_issue === "registration") parts.push(t("coupons.auto.registration"));
  if (c.auto_issue === "after_payment") parts.push(t("coupons.after_payment_line", { amount: money(c.after_payment_min_fen) }));
  if (c.sale_price_fen != null) parts.push(t("coupons.sold_for", { price: money(c.sale_price_fen) }));
  parts.push(t("coupons.limit_line", { n: c.per_customer_limit }));
  return parts.join(" · ");
}

function spentOfBudget(spent, budget, remaining) {
  if (budget == null) return money(spent);
  return `${money(spent)} / ${money(budget)} (${t("coupons.remaining_line", { amount: money(remaining) })})`;
}

const funderText = (c) => t(`coupons.funded_by.${c.funded_by}`) + (c.funder ? ` · ${c.funder}` : "");
const statusBadge = (c) => badge(t(`coupons.status.${c.status}`), c.status === "active" ? "ok" : "");

function createForm(messages, ctx) {
  const name = h("input", { required: true, maxlength: "60" });
  const kind = select(KINDS.map((k) => [k, t(`coupons.kind.${k}`)]), "amount_off");
  const policy = returnsPolicy(["amount_off", "percent_off"]);
  kind.addEventListener("change", () => policy.sync(kind.value));
  const threshold = h("input", { inputmode: "decimal", value: "0" });
  const amount = h("input", { inputmode: "decimal", value: "10" });
  const percent = h("input", { type: "number", min: "1", max: "99", value: "10" });
  const cap = h("input", { inputmode: "decimal" });
  const categories = h("input", { placeholder: "蔬菜, 水果/进口水果" });
  const skus = h("input", { placeholder: "100001 100002" });
  const storeIds = h("input", { placeholder: "sh-jingan sh-xuhui" });
  const mode = select([["days", t("coupons.validity.days")], ["window", t("coupons.validity.window")]], "days");
  const days = h("input", { type: "number", min: "1", max: "366", value: "7" });
  const starts = h("input", { type: "datetime-local", value: localInput(0) });
  const ends = h("input", { type: "datetime-local", value: localInput(24 * 7) });
  const quantity = h("input", { type: "number", min: "1" });
  const perCustomer = h("input", { type: "number", min: "1", max: "100", value: "1" });
  const funder = select(FUNDERS.map((f) => [f, t(`coupons.funded_by.${f}`)]), "hq");
  const funderName = h("input", { maxlength: "80" });
  const budget = h("input", { inputmode: "decimal" });
  const claimable = h("input", { type: "checkbox", checked: true });
  const auto = select([["", t("coupons.auto.none")], ...AUTO.map((a) => [a, t(`coupons.auto.${a}`)])], "");
  const afterMin = h("input", { inputmode: "decimal" });
  const salePrice = h("input", { inputmode: "decimal" });
  const submit = h("button", { type: "submit", class: "primary" }, t("coupons.create"));
  const targeting = targetingFieldset({ code: true });
  const stacking = stackingFieldset({ coupon: true });
  const campaign = campaignChooser((c) => stacking.follow(c));
  const limits = templateLimitsFieldset();
  const yuan = (input, label, optional) => {
    if (optional && !input.value.trim()) return null;
    const fen = parseYuan(input.value);
    if (fen === null) throw new Error(t("common.bad_amount", { field: label }));
    return fen;
  };
  const time = (input, label) => {
    const iso = isoFromLocal(input.value);
    if (iso === null) throw new Error(t("coupons.bad_time", { field: label }));
    return iso;
  };
  // Fields that only apply to some choices are hidden otherwise (and not sent).
  const fields = {
    amount: field(t("coupons.amount_label"), amount, t("common.in_yuan")),
    percent: field(t("coupons.percent_label"), percent, t("coupons.percent_hint")),
    cap: field(t("coupons.cap_label"), cap, t("coupons.cap_hint")),
    days: field(t("coupons.days_label"), days),
    starts: field(t("coupons.starts"), starts, t("common.tz_hint", { tz: DEFAULT_TZ })),
    ends: field(t("coupons.ends"), ends, t("common.tz_hint", { tz: DEFAULT_TZ })),
    funderName: field(t("coupons.funder_name"), funderName, t("coupons.funder_name_hint")),
    afterMin: field(t("coupons.after_payment_min"), afterMin, t("common.in_yuan")),
  };
  const product = productFieldset();
  const sync = () => {
    fields.amount.hidden = kind.value !== "amount_off";
    fields.percent.hidden = kind.value !== "percent_off";
    fields.cap.hidden = kind.value !== "percent_off";
    fields.days.hidden = mode.value !== "days";
    fields.starts.hidden = mode.value !== "window";
    fields.ends.hidden = mode.value !== "window";
    fields.afterMin.hidden = auto.value !== "after_payment";
    funderName.required = funder.value === "supplier";
    stacking.sync(kind.value);
    product.sync(kind.value);
  };
  for (const control of [kind, mode, auto, funder]) control.addEventListener("change", sync);
  sync();
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
          per_customer_limit: Number(perCustomer.value),
          funded_by: funder.value,
          claimable: claimable.checked,
        };
        if (kind.value === "amount_off") body.amount_off_fen = yuan(amount, t("coupons.amount_label"));
        if (kind.value === "percent_off") {
          body.percent_off = Number(percent.value);
          const capFen = yuan(cap, t("coupons.cap_label"), true);
          if (capFen !== null) body.cap_fen = capFen;
        }
        product.read(kind.value, body);
        if (mode.value === "days") body.days_after_claim = Number(days.value);
        else {
          body.starts_at = time(starts, t("coupons.starts"));
          body.ends_at = time(ends, t("coupons.ends"));
        }
        if (quantity.value) body.total_quantity = Number(quantity.value);
        if (funderName.value.trim()) body.funder = funderName.value.trim();
        const budgetFen = yuan(budget, t("coupons.budget"), true);
        if (budgetFen !== null) body.budget_fen = budgetFen;
        if (auto.value) body.auto_issue = auto.value;
        if (auto.value === "after_payment") body.after_payment_min_fen = yuan(afterMin, t("coupons.after_payment_min"));
        const saleFen = yuan(salePrice, t("coupons.sale_price"), true);
        if (saleFen !== null) body.sale_price_fen = saleFen;
        Object.assign(body, targeting.read());
        Object.assign(body, stacking.read(kind.value));
        if (campaign.value()) body.campaign_id = campaign.value();
        policy.addTo(body, kind.value);
        const limitsBody = limits.read();
        if (limitsBody) body.limits = limitsBody;
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
    fields.amount,
    fields.percent,
    fields.cap,
    ...product.nodes,
    field(t("coupons.categories"), categories, t("coupons.list_hint")),
    field(t("coupons.skus"), skus, t("coupons.list_hint")),
    field(t("coupons.stores"), storeIds, t("coupons.list_hint")),
    field(t("coupons.validity"), mode),
    fields.days,
    fields.starts,
    fields.ends,
    field(t("coupons.quantity"), quantity, t("coupons.unlimited_hint")),
    field(t("coupons.per_customer"), perCustomer),
    field(t("coupons.funder"), funder),
    fields.funderName,
    field(t("coupons.budget"), budget, t("coupons.budget_hint")),
    field(t("coupons.auto"), auto),
    fields.afterMin,
    field(t("coupons.sale_price"), salePrice, t("coupons.sale_price_hint")),
    h("label", { class: "inline" }, claimable, t("coupons.claimable")),
    campaign.field,
    policy.field),
  targeting.node,
  stacking.element,
  limits.element,
  submit);
}

function issueForm(templates, messages, reload) {
  const template = select(templates.map((c) => [c.template_id, c.name]), templates[0] && templates[0].template_id);
  const batch = h("input", { required: true, value: `batch-${new Date().toISOString().slice(0, 10)}`, maxlength: "40", pattern: "[A-Za-z0-9_\\-]{1,40}" });
  const customers = h("textarea", { rows: "3", required: true, placeholder: "c-1a2b3c c-4d5e6f" });
  const result = slot({ "data-testid": "issue-result" });
  const submit = h("button", { type: "submit" }, t("coupons.issue"));
  return h("form", {
    class: "card",
    onsubmit: (e) => {
      e.preventDefault();
      result.clear();
      busy(submit, messages, async () => {
        const ids = list(customers.value);
        if (ids.length > 500) throw new Error(t("coupons.too_many", { n: ids.length }));
        const r = await post(`/admin/coupon-templates/${template.value}/issue`, { batch_id: batch.value.trim(), customer_ids: ids });
        result.show(okBox(t("coupons.issued", { issued: r.issued, already: r.already_issued, refused: r.refused.length })),
          r.refused.length ? table(t("coupons.refused"), [
            { label: t("coupons.customer"), cell: (x) => x.customer_id },
            { label: t("import.reason"), cell: (x) => t(`coupons.refusal.${x.reason}`) },
          ], r.refused) : null);
        await reload();
      });
    },
  },
  h("h2", {}, t("coupons.issue_title")),
  h("p", { class: "muted" }, t("coupons.issue_hint")),
  h("div", { class: "form-grid" },
    field(t("coupons.template"), template),
    field(t("coupons.batch"), batch, t("coupons.batch_hint")),
    field(t("coupons.customer_ids"), customers, t("coupons.customer_ids_hint"))),
  submit, result);
}

/** Edit a template: only changed fields are sent, with the version shown, so a change
 * someone else saved meanwhile is refused (409) instead of overwritten. The rules for
 * issued coupons are the API's (docs/coupons.md); its refusals are shown by field. */
function editForm(c, target, reload) {
  const scope = c.scope;
  const name = h("input", { required: true, maxlength: "60", value: c.name });
  const budget = h("input", { inputmode: "decimal", value: c.budget_fen == null ? "" : yuanInput(c.budget_fen) });
  const quantity = h("input", { type: "number", min: "1", value: c.total_quantity == null ? "" : String(c.total_quantity) });
  const ends = c.ends_at ? h("input", { type: "datetime-local", value: localFromIso(c.ends_at) }) : null;
  const categories = h("input", { value: scope.categories.join(" ") });
  const skus = h("input", { value: scope.skus.join(" ") });
  const storeIds = h("input", { value: scope.stores.join(" ") });
  // code, window and audience change while a draft; once approved they are fixed
  const targeting = retargetable(c) ? targetingFieldset({ code: true, initial: c }) : null;
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
  const cancel = h("button", { type: "button", onclick: () => target.clear() }, t("common.cancel"));
  const same = (a, b) => [...a].sort().join(" ") === [...b].sort().join(" ");
  // issued coupons carry the limits they were issued with: editable until the first one
  const limits = c.issued_count ? null : templateLimitsFieldset(c.limits);
  return h("form", {
    class: "card",
    "data-testid": "coupon-edit",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const change = {};
        if (name.value.trim() !== c.name) change.name = name.value.trim();
        if (budget.value.trim()) {
          const fen = parseYuan(budget.value);
          if (fen === null) throw new Error(t("common.bad_amount", { field: t("coupons.budget") }));
          if (fen !== c.budget_fen) change.budget_fen = fen;
        }
        if (quantity.value && Number(quantity.value) !== c.total_quantity) change.total_quantity = Number(quantity.value);
        // The control holds minutes: unchanged unless the minute shown was changed.
        if (ends && ends.value !== localFromIso(c.ends_at)) {
          const iso = isoFromLocal(ends.value);
          if (iso === null) throw new Error(t("coupons.bad_time", { field: t("coupons.ends") }));
          change.ends_at = iso;
        }
        const next = { categories: list(categories.value), skus: list(skus.value), stores: list(storeIds.value) };
        if (!same(next.categories, scope.categories) || !same(next.skus, scope.skus) || !same(next.stores, scope.stores)) change.scope = next;
        if (limits) {
          const was = Object.fromEntries(Object.entries(c.limits || {}).filter(([, v]) => v != null));
          const now = limits.read() || {};
          if (JSON.stringify(now) !== JSON.stringify(was)) change.limits = now;
        }
        if (targeting) Object.assign(change, targeting.changes());
        if (!Object.keys(change).length) return messages.show(okBox(t("catalogue.nothing_changed")));
        const saved = await patch(`/admin/coupon-templates/${c.template_id}`, { ...change, expected_version: c.version });
        target.show(okBox(t("coupons.edited", { name: saved.name })));
        await reload();
      });
    },
  },
  h("h2", {}, t("coupons.edit_title", { name: c.name })),
  h("p", { class: "muted" }, c.issued_count ? t("coupons.edit_rules_issued", { n: c.issued_count }) : t("coupons.edit_rules_none")),
  h("div", { class: "form-grid" },
    field(t("coupons.name"), name),
    field(t("coupons.budget"), budget, t("common.in_yuan")),
    field(t("coupons.quantity"), quantity),
    ends ? field(t("coupons.ends"), ends, t("common.tz_hint", { tz: DEFAULT_TZ })) : null,
    field(t("coupons.categories"), categories, t("coupons.list_hint")),
    field(t("coupons.skus"), skus, t("coupons.list_hint")),
    field(t("coupons.stores"), storeIds, t("coupons.list_hint"))),
  limits ? limits.element : null,
  targeting ? targeting.node : h("p", { class: "muted", "data-testid": "targeting-fixed" }, t("targeting.fixed_after_approval")),
  messages,
  h("div", { class: "row" }, save, cancel));
}

function templateColumns(messages, reload, editor) {
  return [
    { label: "template_id", cell: () => null, csv: (c) => c.template_id, hidden: true },
    { label: t("coupons.name"), cell: (c) => c.name },
    { label: t("coupons.rule"), cell: describeCoupon },
    { label: t("coupons.validity"), cell: validity },
    { label: t("coupons.issuance"), cell: issuance },
    { label: t("targeting.title"), cell: targetingText },
    { label: t("coupons.issued_used"), num: true, cell: (c) => `${c.issued_count}${c.total_quantity ? ` / ${c.total_quantity}` : ""} · ${c.used_count}` },
    { label: t("coupons.budget_spent"), num: true, cell: (c) => spentOfBudget(c.spent_fen, c.budget_fen, c.remaining_budget_fen) },
    { label: t("coupons.spent"), cell: () => null, csv: (c) => yuanCell(c.spent_fen), hidden: true },
    { label: t("coupons.budget"), cell: () => null, csv: (c) => yuanCell(c.budget_fen), hidden: true },
    { label: t("coupons.funder"), cell: funderText },
    stackingColumn(),
    { label: t("limits.template_legend"), cell: limitsText },
    { label: t("stores.state"), cell: (c) => (["draft", "pending"].includes(c.status) ? workflowBadge(c) : statusBadge(c)) },
    {
      label: t("common.actions"),
      csv: false,
      cell: (c) => {
        const edit = h("button", {
          type: "button",
          "aria-label": t("coupons.edit_named", { name: c.name }),
          onclick: () => {
            editor.show(editForm(c, editor, reload));
            editor.scrollIntoView({ block: "nearest" });
          },
        }, t("coupons.edit"));
        // a draft is edited (its targeting too) until approved
        if (["draft", "pending"].includes(c.status)) return [workflowButtons(c, `/admin/coupon-templates/${c.template_id}`, messages, reload, (node) => {
          editor.show(node);
          editor.scrollIntoView({ block: "nearest" });
        }), " ", edit];
        return [
          h("button", {
            type: "button",
            onclick: (e) => busy(e.currentTarget, messages, async () => {
              await patch(`/admin/coupon-templates/${c.template_id}`, { status: c.status === "active" ? "paused" : "active" });
              await reload();
            }),
          }, c.status === "active" ? t("coupons.pause") : t("coupons.resume")),
          " ",
          edit,
          [" ", h("a", { href: `#/coupon-templates/${encodeURIComponent(c.template_id)}/report`, dataset: { report: c.template_id } }, t("effect.open_report"))],
        ];
      },
    },
  ];
}

function templatesTable(templates, messages, reload, editor) {
  const columns = templateColumns(messages, reload, editor);
  return [
    h("div", { class: "row" }, h("div", { class: "spacer" }), tableExportButton(() => columnsTable("coupon_templates", columns, templates), { name: "coupon_templates" })),
    table(t("coupons.title"), columns.filter((c) => !c.hidden), templates, { empty: t("coupons.empty") }),
  ];
}

const budgetColumns = () => [
  { label: t("coupons.name"), cell: (b) => b.name },
  { label: t("coupons.funder"), cell: funderText },
  { label: t("coupons.budget"), num: true, cell: (b) => (b.budget_fen == null ? t("coupons.no_budget") : money(b.budget_fen)), csv: (b) => yuanCell(b.budget_fen) },
  { label: t("coupons.spent"), num: true, cell: (b) => money(b.spent_fen), csv: (b) => yuanCell(b.spent_fen) },
  { label: t("coupons.remaining"), num: true, cell: (b) => (b.remaining_fen == null ? "—" : money(b.remaining_fen)), csv: (b) => yuanCell(b.remaining_fen) },
  { label: t("coupons.issued_used"), num: true, cell: (b) => `${b.issued_count} · ${b.used_count}` },
  { label: t("stores.state"), cell: statusBadge },
];

function budgetsTable(budgets) {
  return [
    h("div", { class: "row" }, h("div", { class: "spacer" }), tableExportButton(() => columnsTable("coupon_budgets", budgetColumns(), budgets), { name: "coupon_budgets" })),
    table(t("coupons.budgets_title"), budgetColumns(), budgets, { empty: t("coupons.empty") }),
  ];
}

function remindersTable(notifications) {
  return table(t("coupons.reminders_title"), [
    { label: t("coupons.reminder_time"), cell: (n) => dateTime(n.created_at) },
    { label: t("coupons.customer"), cell: (n) => (n.phone_masked ? `${n.customer_id} (${n.phone_masked})` : n.customer_id) },
    { label: t("coupons.reminder_message"), cell: (n) => n.message },
    { label: t("coupons.reminder_channel"), cell: (n) => n.channel },
  ], notifications, { empty: t("coupons.reminders_empty") });
}

/** Load a list into its slot; a failure shows the API's error there only. */
async function fill(target, load, render) {
  try {
    target.show(render(await load()));
  } catch (err) {
    target.show(errorBox(err));
  }
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
    const templatesSlot = slot({ "data-testid": "coupon-templates" });
    const editor = slot({ "data-testid": "coupon-editor" });
    const budgetsSlot = slot({ "data-testid": "coupon-budgets" });
    const remindersSlot = slot({ "data-testid": "coupon-reminders" });
    let templates = [];
    // Counts and budgets change after an issue or a pause: reload the lists in place,
    // keeping what was typed in the forms.
    const reload = () => Promise.all([
      fill(templatesSlot, async () => (templates = (await get("/admin/coupon-templates")).items), (items) => templatesTable(items, messages, reload, editor)),
      fill(budgetsSlot, async () => (await get("/admin/coupon-budgets")).items, budgetsTable),
      fill(remindersSlot, async () => (await get("/admin/notifications", { kind: "coupon_expiring" })).items, remindersTable),
    ]);
    await reload();
    return h(
      "section",
      {},
      h("h1", {}, t("coupons.title")),
      messages,
      templatesSlot,
      editor,
      h("h2", {}, t("coupons.budgets_title")),
      budgetsSlot,
      h("h2", {}, t("export.redemptions")),
      exportButton("coupon_redemptions", () => ({}), { range: true }),
      h("h2", {}, t("coupons.reminders_title")),
      h("p", { class: "muted" }, t("coupons.reminders_hint")),
      remindersSlot,
      templates.length ? issueForm(templates, messages, reload) : null,
      createForm(messages, ctx),
    );
  },
};
