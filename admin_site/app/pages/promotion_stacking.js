// Stacking policy (叠加规则, issue 18 item 1) on the promotion and coupon template forms:
// a fieldset and its reader, and a short text for the lists. The API's defaults (not
// exclusive, priority 0, stacks with 满减 and member price, no group, margin floor
// "refuse") send nothing, so a form left alone creates what it did before.
import { field, h, select } from "../dom.js";
import { t } from "../i18n.js";

const MARGIN = ["refuse", "exclude"];

/** The fieldset. ``coupon``: a template's (with the stack group). ``sync(kind)`` hides it
 * where the API refuses it; ``read(kind)`` is what to add to the create body. */
export function stackingFieldset({ coupon = false } = {}) {
  const exclusive = h("input", { type: "checkbox", "data-testid": "stacking-exclusive" });
  const priority = h("input", { type: "number", min: "0", max: "100", value: "0", "data-testid": "stacking-priority" });
  const noTiered = h("input", { type: "checkbox", "data-testid": "stacking-not-with-tiered" });
  const noMember = h("input", { type: "checkbox", "data-testid": "stacking-not-with-member-price" });
  const group = h("input", { maxlength: "20", pattern: "[a-z0-9_\\-]{1,20}", placeholder: "store / supplier", "data-testid": "stacking-group" });
  const margin = select(MARGIN.map((m) => [m, t(`stacking.margin.${m}`)]), "refuse", { "data-testid": "stacking-margin" });
  const groupField = coupon ? field(t("stacking.group"), group, t("stacking.group_hint")) : null;
  const marginField = field(t("stacking.margin"), margin, t("stacking.margin_hint"));
  const element = h("fieldset", { class: "card", "data-testid": "stacking-fieldset" },
    h("legend", {}, t("stacking.title")),
    h("div", { class: "form-grid" },
      h("label", { class: "inline" }, exclusive, t("stacking.exclusive")),
      field(t("stacking.priority"), priority, t("stacking.priority_hint")),
      h("label", { class: "inline" }, noTiered, t("stacking.not_with_tiered")),
      h("label", { class: "inline" }, noMember, t("stacking.not_with_member_price")),
      groupField,
      marginField));
  // promotions: tiered and half price take a policy, only tiered the margin mode;
  // templates: the group and the margin mode are for goods coupons
  const takes = (kind) => (coupon ? true : kind === "tiered" || kind === "second_half_price");
  const goods = (kind) => (coupon ? kind !== "free_delivery" : kind === "tiered");
  return {
    element,
    sync(kind) {
      element.hidden = !takes(kind);
      marginField.hidden = !goods(kind);
      if (groupField) groupField.hidden = !goods(kind);
    },
    read(kind) {
      if (!takes(kind)) return {};
      const policy = {
        exclusive: exclusive.checked,
        priority: Number(priority.value || 0),
        not_with_tiered: noTiered.checked,
        not_with_member_price: noMember.checked,
      };
      if (coupon && goods(kind) && group.value.trim()) policy.stack_group = group.value.trim();
      const out = {};
      if (policy.exclusive || policy.priority || policy.not_with_tiered || policy.not_with_member_price || policy.stack_group) out.stacking = policy;
      if (goods(kind) && margin.value !== "refuse") out.margin_floor = margin.value;
      return out;
    },
  };
}

/** One line for the lists: "—" for the default policy. */
export function stackingText(x) {
  const s = x.stacking;
  const parts = [];
  if (s && s.exclusive) parts.push(t("stacking.exclusive_short"));
  if (s && s.priority) parts.push(t("stacking.priority_short", { n: s.priority }));
  if (s && s.not_with_tiered) parts.push(t("stacking.not_with_tiered_short"));
  if (s && s.not_with_member_price) parts.push(t("stacking.not_with_member_price_short"));
  if (s && s.stack_group) parts.push(t("stacking.group_short", { group: s.stack_group }));
  if (x.margin_floor === "exclude") parts.push(t("stacking.margin_exclude_short"));
  return h("span", { "data-testid": "stacking-text" }, parts.length ? parts.join(" · ") : "—");
}

/** The list column both pages add. */
export const stackingColumn = () => ({ label: t("stacking.column"), cell: stackingText, csv: (x) => stackingText(x).textContent });
