import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { columnsTable, tableExportButton, yuanCell } from "../export.js";
import { DEFAULT_TZ, dateTime, isoFromLocal, localFromIso, localInput, money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";
import { retargetable, targetingFieldset, targetingText } from "./targeting.js";
import { campaignChooser, stackingColumn, stackingFieldset } from "./promotion_stacking.js";
import { MECHANIC_KINDS, describeMechanic, mechanicsFieldset } from "./promotion_mechanics.js";
import { limitsFieldset, limitsText } from "./promotion_limits.js";
import { returnsPolicy } from "./returns_policy.js";
import { approvalSettingsCard, workflowBadge, workflowButtons } from "./promotion_workflow.js";

// The enums of functions/chalicelib/promotions/schemas.py.
const KINDS = ["tiered", "second_half_price", "flash_sale", "member_day", ...MECHANIC_KINDS];
const AUDIENCES = ["members", "level", "segment"];
const list = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

/** A member day: when, for whom, what, and its next dates. */
function memberDayText(p) {
  const d = p.member_day;
  const when = t(`promotions.md_${d.recurrence}`, { days: d.days.join(", ") }) + (d.span_days > 1 ? " " + t("promotions.md_span", { n: d.span_days }) : "");
  const perks = [];
  if (d.percent_off) perks.push(t("promotions.md_percent", { n: d.percent_off }));
  if (d.member_prices.length) perks.push(t("promotions.md_prices", { n: d.member_prices.length }));
  if (d.points_multiplier) perks.push(t("promotions.md_multiplier", { n: d.points_multiplier }));
  if (d.coupon_template_ids.length) perks.push(t("promotions.md_pack", { ids: d.coupon_template_ids.join(", ") }));
  const who = d.audience === "level" ? t("promotions.md_level", { level: d.min_level }) : d.audience === "segment" ? t("promotions.md_segment", { id: d.segment_id }) : t("promotions.md_members");
  const next = d.next_dates.length ? t("promotions.md_next", { dates: d.next_dates.join(", ") }) : "";
  return [when, who, perks.join(" · "), next].filter(Boolean).join(" · ");
}

function describe(p) {
  const mechanic = describeMechanic(p);
  if (mechanic !== null) return mechanic;
  if (p.kind === "member_day") return h("span", { "data-testid": "member-day-rule" }, memberDayText(p));
  if (p.kind === "tiered") return p.tiers.map((x) => t("promotions.tier", { threshold: money(x.threshold_fen), off: money(x.off_fen) })).join(" / ");
  if (p.kind === "second_half_price") return t("promotions.kind.second_half_price");
  return t("promotions.flash_line", { sku: p.sku, price: money(p.flash_price_fen), limit: p.per_customer_limit });
}

function scopeText(p) {
  if (p.kind === "flash_sale") return "—";
  const parts = [...p.scope.categories, ...p.scope.skus];
  return parts.length ? parts.join(", ") : t("promotions.all_products");
}

function statusBadge(p) {
  if (p.status === "ended") return badge(t("promotions.status.ended"), "");
  if (p.live) return badge(t("promotions.status.active"), "ok");
  return new Date(p.starts_at) > new Date() ? badge(t("promotions.scheduled"), "warn") : badge(t("promotions.over"), "");
}

const tiersText = (tiers) => tiers.map((x) => `${yuanInput(x.threshold_fen)}-${yuanInput(x.off_fen)}`).join(", ");

function parseTierText(text) {
  return list(text).map((pair) => {
    const [a, b] = pair.split("-");
    const threshold = parseYuan(a);
    const off = parseYuan(b);
    if (threshold === null || off === null) throw new Error(t("promotions.bad_tiers"));
    return { threshold_fen: threshold, off_fen: off };
  });
}

/** Edit a promotion: name any time; budget (tiered); window end while it runs; tiers
 * before it starts. Only changed fields are sent, with the version shown. */
function editForm(p, target, ctx) {
  const started = new Date(p.starts_at) <= new Date();
  const name = h("input", { required: true, maxlength: "60", value: p.name });
  const ends = h("input", { type: "datetime-local", value: localFromIso(p.ends_at) });
  const budget = p.kind === "tiered" ? h("input", { inputmode: "decimal", value: p.budget_fen == null ? "" : yuanInput(p.budget_fen) }) : null;
  const tiers = p.kind === "tiered" ? h("input", { value: tiersText(p.tiers), disabled: started ? "" : null }) : null;
  // targeting changes while a draft; once approved it is part of what was approved
  const targeting = p.kind !== "member_day" && retargetable(p) ? targetingFieldset({ segmentHint: "segment_hint_promotion", initial: p }) : null;
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
  const cancel = h("button", { type: "button", onclick: () => target.clear() }, t("common.cancel"));
  return h("form", {
    class: "card",
    "data-testid": "promotion-edit",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const change = {};
        if (name.value.trim() !== p.name) change.name = name.value.trim();
        if (ends.value !== localFromIso(p.ends_at)) {
          const iso = isoFromLocal(ends.value);
          if (iso === null) throw new Error(t("coupons.bad_time", { field: t("promotions.ends") }));
          change.ends_at = iso;
        }
        if (budget && budget.value.trim()) {
          const fen = parseYuan(budget.value);
          if (fen === null) throw new Error(t("common.bad_amount", { field: t("coupons.budget") }));
          if (fen !== p.budget_fen) change.budget_fen = fen;
        }
        if (tiers && !started && tiers.value !== tiersText(p.tiers)) change.tiers = parseTierText(tiers.value);
        if (targeting) Object.assign(change, targeting.changes());
        if (!Object.keys(change).length) return messages.show(okBox(t("catalogue.nothing_changed")));
        const saved = await patch(`/admin/promotions/${p.promotion_id}`, { ...change, expected_version: p.version });
        sessionStorage.setItem("daojia.flash", t("promotions.edited", { name: saved.name }));
        ctx.rerender();
      });
    },
  },
  h("h2", {}, t("promotions.edit_title", { name: p.name })),
  h("div", { class: "form-grid" },
    field(t("coupons.name"), name, t("promotions.name_hint")),
    field(t("promotions.ends"), ends, t("common.tz_hint", { tz: DEFAULT_TZ })),
    budget ? field(t("coupons.budget"), budget, t("coupons.budget_hint")) : null,
    tiers ? field(t("promotions.tiers"), tiers, started ? t("promotions.tiers_fixed") : t("promotions.tiers_hint")) : null),
  targeting ? targeting.node : p.kind !== "member_day" ? h("p", { class: "muted", "data-testid": "targeting-fixed" }, t("targeting.fixed_after_approval")) : null,
  messages,
  h("div", { class: "row" }, save, cancel));
}

function createForm(messages, ctx) {
  const name = h("input", { required: true, maxlength: "60" });
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
  const quantity = h("input", { type: "number", min: "1", max: "1000000" });
  const limit = h("input", { type: "number", min: "1", max: "1000", value: "1" });
  const peak = h("input", { type: "number", min: "1", max: "100000" });
  const recurrence = select([["monthly", t("promotions.md_recurrence.monthly")], ["weekly", t("promotions.md_recurrence.weekly")]], "monthly");
  const mdDays = h("input", { value: "18", "data-testid": "md-days" });
  const span = h("input", { type: "number", min: "1", max: "7", value: "1" });
  const audience = select(AUDIENCES.map((a) => [a, t(`promotions.md_audience.${a}`)]), "members");
  const minLevel = h("input", { placeholder: "V3", pattern: "V[1-9]" });
  const segment = h("input");
  const percent = h("input", { type: "number", min: "1", max: "90", "data-testid": "md-percent" });
  const multiplier = h("input", { type: "number", min: "1", max: "10", step: "0.1", "data-testid": "md-multiplier" });
  const templates = h("input");
  const submit = h("button", { type: "submit", class: "primary" }, t("promotions.create"));
  const targeting = targetingFieldset({ segmentHint: "segment_hint_promotion" });
  const stacking = stackingFieldset();
  const campaign = campaignChooser((c) => stacking.follow(c));
  const limits = limitsFieldset();
  const policy = returnsPolicy(["tiered", "second_half_price"]);
  const parseTiers = () => list(tiers.value).map((pair) => {
    const [a, b] = pair.split("-");
    const threshold = parseYuan(a);
    const off = parseYuan(b);
    if (threshold === null || off === null) throw new Error(t("promotions.bad_tiers"));
    return { threshold_fen: threshold, off_fen: off };
  });
  const time = (input, label) => {
    const iso = isoFromLocal(input.value);
    if (iso === null) throw new Error(t("coupons.bad_time", { field: label }));
    return iso;
  };
  // Fields of other kinds are refused by the API: hidden here and never sent.
  const fields = {
    tiers: field(t("promotions.tiers"), tiers, t("promotions.tiers_hint")),
    budget: field(t("coupons.budget"), budget, t("coupons.budget_hint")),
    categories: field(t("coupons.categories"), categories, t("coupons.list_hint")),
    skus: field(t("coupons.skus"), skus, t("coupons.list_hint")),
    sku: field(t("promotions.flash_sku"), sku),
    price: field(t("promotions.flash_price"), price, t("common.in_yuan")),
    quantity: field(t("promotions.quantity"), quantity),
    limit: field(t("coupons.per_customer"), limit),
    peak: field(t("promotions.peak"), peak, t("promotions.peak_hint")),
    recurrence: field(t("promotions.md_recurrence"), recurrence),
    mdDays: field(t("promotions.md_days"), mdDays, t("promotions.md_days_hint")),
    span: field(t("promotions.md_span_days"), span, t("promotions.md_span_hint")),
    audience: field(t("promotions.md_audience"), audience),
    minLevel: field(t("promotions.md_min_level"), minLevel),
    segment: field(t("promotions.md_segment_id"), segment, t("promotions.md_segment_hint")),
    percent: field(t("promotions.md_percent_off"), percent, t("promotions.md_percent_hint")),
    multiplier: field(t("promotions.md_points_multiplier"), multiplier),
    templates: field(t("promotions.md_templates"), templates, t("promotions.md_templates_hint")),
  };
  const more = mechanicsFieldset();
  const MEMBER_DAY = ["recurrence", "mdDays", "span", "audience", "minLevel", "segment", "percent", "multiplier", "templates"];
  const sync = () => {
    const flash = kind.value === "flash_sale";
    for (const k of ["sku", "price", "quantity", "limit", "peak"]) fields[k].hidden = !flash;
    fields.tiers.hidden = kind.value !== "tiered";
    fields.budget.hidden = kind.value !== "tiered";
    fields.categories.hidden = flash;
    fields.skus.hidden = flash;
    for (const k of MEMBER_DAY) fields[k].hidden = kind.value !== "member_day";
    fields.minLevel.hidden ||= audience.value !== "level";
    fields.segment.hidden ||= audience.value !== "segment";
    for (const input of [sku, price, quantity, limit]) input.required = flash;
    targeting.node.hidden = kind.value === "member_day"; // it has its own
    stacking.sync(kind.value);
    more.sync(kind.value);
    limits.sync(kind.value);
    policy.sync(kind.value);
  };
  more.watch(sync);
  kind.addEventListener("change", sync);
  audience.addEventListener("change", sync);
  sync();
  return h("form", {
    class: "card",
    onsubmit: (e) => {
      e.preventDefault();
      busy(submit, messages, async () => {
        const body = {
          kind: kind.value, name: name.value.trim(), stores: list(stores.value),
          starts_at: time(starts, t("promotions.starts")), ends_at: time(ends, t("promotions.ends")),
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
          if (peak.value) body.expected_peak_per_s = Number(peak.value);
        }
        if (kind.value === "member_day") {
          const spec = { recurrence: recurrence.value, days: list(mdDays.value).map(Number), span_days: Number(span.value || 1), audience: audience.value };
          if (audience.value === "level") spec.min_level = minLevel.value.trim();
          if (audience.value === "segment") spec.segment_id = segment.value.trim();
          if (percent.value) spec.percent_off = Number(percent.value);
          if (multiplier.value) spec.points_multiplier = Number(multiplier.value);
          spec.coupon_template_ids = list(templates.value);
          body.member_day = spec;
          body.scope = { categories: list(categories.value), skus: list(skus.value) };
        }
        if (kind.value !== "member_day") Object.assign(body, targeting.read());
        Object.assign(body, stacking.read(kind.value));
        if (campaign.value()) body.campaign_id = campaign.value();
        if (MECHANIC_KINDS.includes(kind.value)) body.scope = { categories: list(categories.value), skus: list(skus.value) };
        more.read(kind.value, body, tiers.value);
        if (limits.read(kind.value)) body.limits = limits.read(kind.value);
        policy.addTo(body, kind.value);
        const made = await post("/admin/promotions", body);
        sessionStorage.setItem("daojia.flash", t("promotions.created", { name: made.name }));
        ctx.rerender();
      });
    },
  },
  h("h2", {}, t("promotions.create")),
  h("div", { class: "form-grid" },
    field(t("coupons.name"), name, t("promotions.name_hint")),
    field(t("promotions.kind"), kind),
    field(t("coupons.stores"), stores, t("promotions.stores_hint")),
    field(t("promotions.starts"), starts, t("common.tz_hint", { tz: DEFAULT_TZ })),
    field(t("promotions.ends"), ends, t("common.tz_hint", { tz: DEFAULT_TZ })),
    fields.tiers,
    fields.budget,
    fields.categories,
    fields.skus,
    fields.sku,
    fields.price,
    fields.quantity,
    fields.limit,
    fields.peak,
    ...MEMBER_DAY.map((k) => fields[k]),
    ...more.nodes,
    campaign.field,
    policy.field),
  targeting.node,
  stacking.element,
  limits.element,
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
    const editor = slot({ "data-testid": "promotion-editor" });
    try {
      const items = (await get("/admin/promotions")).items;
      const columns = [
        { label: t("coupons.name"), cell: (p) => p.name },
        { label: t("promotions.kind"), cell: (p) => t(`promotions.kind.${p.kind}`) },
        { label: t("coupons.rule"), cell: describe },
        { label: t("promotions.scope"), cell: scopeText },
        { label: t("coupons.stores"), cell: (p) => (p.stores.length ? p.stores.join(", ") : t("common.all_stores")) },
        { label: t("promotions.window"), cell: (p) => `${dateTime(p.starts_at)} – ${dateTime(p.ends_at)}` },
        { label: t("targeting.title"), cell: targetingText },
        { label: t("promotions.sold"), num: true, cell: (p) => (p.kind === "flash_sale" ? `${p.sold} / ${p.quantity}` : "—") },
        { label: t("coupons.budget_spent"), num: true, cell: (p) => (p.budget_fen == null ? "—" : `${money(p.spent_fen)} / ${money(p.budget_fen)}`) },
        { label: t("coupons.spent"), cell: () => null, csv: (p) => yuanCell(p.spent_fen), hidden: true },
        { label: t("coupons.budget"), cell: () => null, csv: (p) => yuanCell(p.budget_fen), hidden: true },
        stackingColumn(),
        { label: t("limits.title"), cell: limitsText },
        { label: t("stores.state"), cell: (p) => (["draft", "pending"].includes(p.status) ? workflowBadge(p) : statusBadge(p)) },
        {
          label: t("common.actions"),
          csv: false,
          cell: (p) => [
            h("button", { type: "button", "aria-label": t("promotions.edit_named", { name: p.name }), onclick: () => {
              editor.show(editForm(p, editor, ctx));
              editor.scrollIntoView({ block: "nearest" });
            } }, t("promotions.edit")),
            p.status === "active"
              ? [" ", h("button", { type: "button", class: "danger", onclick: (e) => busy(e.currentTarget, messages, async () => {
                await patch(`/admin/promotions/${p.promotion_id}`, { status: "ended" });
                ctx.rerender();
              }) }, t("promotions.end"))]
              : null,
            [" ", h("a", { href: `#/promotions/${encodeURIComponent(p.promotion_id)}/report`, dataset: { report: p.promotion_id } }, t("effect.open_report"))],
            workflowButtons(p, `/admin/promotions/${p.promotion_id}`, messages, ctx.rerender, (node) => editor.show(node)),
          ],
        },
      ];
      listing = [
        h("div", { class: "row" }, h("div", { class: "spacer" }), tableExportButton(() => columnsTable("promotions", columns, items), { name: "promotions" })),
        table(t("promotions.title"), columns.filter((c) => !c.hidden), items, { empty: t("promotions.empty") }),
      ];
    } catch (err) {
      listing = errorBox(err);
    }
    return h("section", {}, h("h1", {}, t("promotions.title")), messages, listing, editor, createForm(messages, ctx), await approvalSettingsCard());
  },
};
