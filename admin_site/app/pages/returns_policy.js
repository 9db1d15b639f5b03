// The returns policy of a promotion or coupon template (issue 18 item 2,
// docs/promotions.md "Refund rule"): its own select, hooked into promotions.js and
// coupons.js with one field and one call.
import { field, select } from "../dom.js";
import { t } from "../i18n.js";

const POLICIES = ["proportional", "reevaluate"];

/** A "退货规则" select; ``addTo(body, kind)`` sends it when the kind takes it
 * (``kinds``) and it is not the default, so other bodies stay as they were. */
export function returnsPolicy(kinds) {
  const control = select(POLICIES.map((p) => [p, t(`returns_policy.${p}`)]), "proportional", { "data-testid": "returns-policy" });
  return {
    field: field(t("returns_policy.label"), control, t("returns_policy.hint")),
    sync(kind) {
      this.field.hidden = !kinds.includes(kind);
    },
    addTo(body, kind) {
      if (kinds.includes(kind) && control.value !== "proportional") body.returns_policy = control.value;
    },
  };
}

/** The policy as a list or detail shows it. */
export function returnsPolicyText(item) {
  return t(`returns_policy.${item.returns_policy || "proportional"}`);
}
