// Limits and anti-abuse (issue 18 item 3): the "限制 / Limits" fieldset of the promotion
// form (tiered, second-half-price, add-on, gift and bundle promotions), the limits' summary for the list, and
// the suspected-abuse report page (GET /admin/promotions/abuse).
import { get } from "../api.js";
import { errorBox, field, h, select, slot, table } from "../dom.js";
import { columnsTable, tableExportButton } from "../export.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

const COUNTS = ["per_customer_per_day", "per_customer_per_week", "per_customer_per_campaign", "per_store_per_day", "per_order_units"];
const LIMITED_KINDS = ["tiered", "second_half_price", "add_on", "gift", "bundle"];
// kinds whose discount a per-order cap bounds (half-price units, add-on units, bundles)
const CAPPED_KINDS = ["second_half_price", "add_on", "bundle"];
// What makes two accounts one customer for new-customer offers (limits.one_per): each
// fingerprint alone or with others, e.g. "device payment" (设备 / 支付账号)
const ONE_PER_CHOICES = [
  ["device"], ["address"], ["payment"],
  ["device", "address"], ["device", "payment"], ["address", "payment"],
  ["device", "address", "payment"],
];
// A coupon template's redemption limits (issue 18 item 3): the same counters, per template.
const TEMPLATE_COUNTS = ["per_customer_per_day", "per_customer_per_week", "per_store_per_day"];

/** One number input per count (data-testid "<prefix>-<count>"), with its value. */
function countInputs(keys, prefix, current) {
  return Object.fromEntries(keys.map((k) => [k, h("input", {
    type: "number", min: "1", max: "100000", "data-testid": `${prefix}-${k}`,
    value: current && current[k] != null ? String(current[k]) : "",
  })]));
}

/** The counts filled in, as the API's `limits` body (null when none is). */
function readCounts(inputs) {
  const out = {};
  for (const [k, input] of Object.entries(inputs)) if (input.value) out[k] = Number(input.value);
  return Object.keys(out).length ? out : null;
}

/** The fieldset and its reader: `read()` gives the `limits` body (null when none is
 * set), `sync(kind)` shows it for the kinds that take limits. */
export function limitsFieldset() {
  const inputs = countInputs(COUNTS, "limit", null);
  // selects, not checkboxes: a touch-size control at a counter tablet
  const first = select([["", t("limits.no")], ["1", t("limits.yes")]], "", { "data-testid": "limit-first_order_only" });
  const newDays = h("input", { type: "number", min: "1", max: "365", "data-testid": "limit-new_customers_only" });
  const ONE_PER = [["", t("limits.one_per_none")],
    ...ONE_PER_CHOICES.map((c) => [c.join(" "), c.map((x) => t(`limits.fp.${x}`)).join(" / ")])];
  const onePer = select(ONE_PER, "", { "data-testid": "limit-one_per" });
  const fields = Object.fromEntries(COUNTS.map((k) => [k, field(t(`limits.${k}`), inputs[k], t(`limits.${k}_hint`))]));
  const element = h("fieldset", { class: "form-grid", "data-testid": "promotion-limits" },
    h("legend", {}, t("limits.legend")),
    ...COUNTS.map((k) => fields[k]),
    field(t("limits.first_order_only"), first),
    field(t("limits.new_customers_only"), newDays, t("limits.new_customers_only_hint")),
    field(t("limits.one_per"), onePer, t("limits.one_per_hint")));
  return {
    element,
    sync(kind) {
      element.hidden = !LIMITED_KINDS.includes(kind);
      fields.per_order_units.hidden = !CAPPED_KINDS.includes(kind);
    },
    read(kind) {
      if (!LIMITED_KINDS.includes(kind)) return null;
      const out = {};
      for (const k of COUNTS) {
        if (k === "per_order_units" && !CAPPED_KINDS.includes(kind)) continue;
        if (inputs[k].value) out[k] = Number(inputs[k].value);
      }
      if (first.value) out.first_order_only = true;
      if (newDays.value) out.new_customers_only = Number(newDays.value);
      if (onePer.value) out.one_per = onePer.value.split(" ");
      return Object.keys(out).length ? out : null;
    },
  };
}

/** A coupon template's "用券限制" fieldset (create, and edit while nothing is issued):
 * `read()` gives the `limits` body, null when none is set. */
export function templateLimitsFieldset(current = null) {
  const inputs = countInputs(TEMPLATE_COUNTS, "template-limit", current);
  const element = h("fieldset", { class: "form-grid", "data-testid": "template-limits" },
    h("legend", {}, t("limits.template_legend")),
    ...TEMPLATE_COUNTS.map((k) => field(t(`limits.${k}`), inputs[k], t(`limits.template.${k}_hint`))));
  return { element, read: () => readCounts(inputs) };
}

/** One line saying a promotion's or coupon template's limits ("—" without any). */
export function limitsText(p) {
  const l = p.limits;
  if (!l) return "—";
  const parts = COUNTS.filter((k) => l[k] != null).map((k) => t(`limits.short.${k}`, { n: l[k] }));
  if (l.first_order_only) parts.push(t("limits.first_order_only"));
  if (l.new_customers_only != null) parts.push(t("limits.short.new_customers_only", { n: l.new_customers_only }));
  if ((l.one_per || []).length) parts.push(t("limits.short.one_per", { what: l.one_per.map((x) => t(`limits.fp.${x}`)).join(" / ") }));
  return parts.join(" · ");
}

export const abusePage = {
  id: "promotion-abuse",
  path: "/promotions/abuse",
  title: "limits.abuse_title",
  nav: "nav.promotion_abuse",
  group: "marketing",
  roles: [HQ],
  async render() {
    const days = h("input", { type: "number", min: "1", max: "365", value: "30" });
    const out = slot({ "data-testid": "abuse-report" });
    const load = async () => {
      try {
        const report = await get(`/admin/promotions/abuse?days=${Number(days.value) || 30}`);
        const rows = report.items.flatMap((item) => item.orders.map((o) => ({ ...o, item })));
        const columns = [
          { label: t("limits.fp_kind"), cell: (r) => t(`limits.fp.${r.item.kind}`) },
          { label: t("limits.fingerprint"), cell: (r) => r.item.fingerprint.slice(0, 12) },
          { label: t("limits.customers"), cell: (r) => r.item.customers.join(", ") },
          { label: t("limits.customer"), cell: (r) => r.customer_id },
          { label: t("limits.order"), cell: (r) => h("a", { href: `#/orders/${r.order_id}` }, r.order_id), csv: (r) => r.order_id },
          { label: t("limits.discount"), num: true, cell: (r) => money(r.discount_fen), csv: (r) => (r.discount_fen / 100).toFixed(2) },
          { label: t("limits.at"), cell: (r) => dateTime(r.at), csv: (r) => r.at },
        ];
        out.show([
          h("div", { class: "row" }, h("div", { class: "spacer" }), tableExportButton(() => columnsTable("promotion-abuse", columns, rows), { name: "promotion-abuse" })),
          table(t("limits.abuse_title"), columns, rows, { empty: t("limits.abuse_empty") }),
        ]);
      } catch (err) {
        out.show(errorBox(err));
      }
    };
    await load();
    return h("section", {},
      h("h1", {}, t("limits.abuse_title")),
      h("p", { class: "hint" }, t("limits.abuse_intro")),
      h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); load(); } },
        field(t("limits.days"), days), h("button", { type: "submit" }, t("limits.show"))),
      out);
  },
};
