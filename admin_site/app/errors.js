// What an error says to staff, in the site's language. The API's messages are English
// for developers; staff read the catalogue's text for the error's code
// (error.code.<code>), field errors as a translated field name and reason, and, for a
// code the catalogue does not know, a generic text for its HTTP status. The code stays
// on screen, small, for support.

import { t } from "./i18n.js";

/** The catalogue's text for `key`, or null when the catalogue has none. */
function known(key, params) {
  const text = t(key, params);
  return text === key ? null : text;
}

// msgspec's and the API's own field reasons, as catalogue keys with their numbers.
const REASONS = [
  [/^required$|^Object missing required field/, "error.reason.required"],
  [/^unknown field$|^Object contains unknown field/, "error.reason.unknown"],
  [/^Expected `int` >= (-?\d+)$/, "error.reason.int_min"],
  [/^Expected `int` <= (-?\d+)$/, "error.reason.int_max"],
  [/^Expected `int`/, "error.reason.int"],
  [/^Expected `(?:float|number)` >= (-?[\d.]+)$/, "error.reason.number_min"],
  [/^Expected `(?:float|number)` <= (-?[\d.]+)$/, "error.reason.number_max"],
  [/^Expected `(?:float|number)`/, "error.reason.number"],
  [/^Expected `str` of length <= (\d+)$/, "error.reason.max_length"],
  [/^Expected `str` of length >= (\d+)$/, "error.reason.min_length"],
  [/^Expected `str` matching regex/, "error.reason.pattern"],
  [/^Expected `bool`/, "error.reason.bool"],
  [/^Expected `array` of length <= (\d+)$/, "error.reason.max_items"],
  [/^Expected `array` of length >= (\d+)$/, "error.reason.min_items"],
  [/^Invalid enum value/, "error.reason.choice"],
  [/^(?:not an ISO-8601 time|Invalid RFC3339|needs a time zone)/, "error.reason.time"],
  [/^must be after starts_at$/, "error.reason.after_start"],
  // The ERP import's row reasons (catalogue/rules.py), some quoting the bad value.
  [/^longer than (\d+) characters$/, "error.reason.max_length"],
  [/^'.*' is not in the expected format$|^must not contain/, "error.reason.pattern"],
  [/^'.*' is not true\/false$/, "error.reason.bool"],
  [/^'.*' is not a whole number|^must be a whole number$/, "error.reason.int"],
  [/^must be at least (-?\d+)$/, "error.reason.number_min"],
  [/^must be at most (-?\d+)$/, "error.reason.number_max"],
  [/^must be text$/, "error.reason.text"],
  [/^unknown store/, "error.reason.unknown_store"],
  [/^unknown SKU/, "error.reason.unknown_sku"],
  [/^duplicate of line (\d+)$/, "error.reason.duplicate_line"],
  [/^is not a JSON object$|^expected a JSON object$/, "error.reason.not_object"],
  [/^both ends needed$/, "error.reason.both_ends"],
  // Bulk changes (catalogue/bulk_rules.py) and edits (coupons/edit_rules.py,
  // promotions/edit_rules.py).
  [/^store \S+ does not sell/, "error.reason.not_sold"],
  [/^duplicate of row \d+$/, "error.reason.duplicate_row"],
  [/^changed meanwhile: expected \S+, now (\S+);/, "error.reason.changed_meanwhile"],
  [/^changed by someone else/, "error.reason.changed_while_running"],
  [/^nothing to change/, "error.reason.nothing_to_change"],
  [/^prices are set by head office$/, "error.reason.prices_by_hq"],
  [/^your account belongs to another store$/, "error.reason.other_store"],
  [/^must be in the future/, "error.reason.future"],
  [/the end can only be extended now$/, "error.reason.only_extend"],
  [/it may only be widened/, "error.reason.only_widen"],
  [/there is no end date to change$/, "error.reason.no_end_date"],
  [/^below the (\d+) spent$/, "error.reason.below_spent"],
  [/^below the (\d+) issued$/, "error.reason.below_issued"],
  [/tiers are fixed$/, "error.reason.tiers_fixed"],
  [/^the promotion has ended/, "error.reason.promotion_ended"],
  [/window is over/, "error.reason.window_over"],
  [/gets one only before it starts$/, "error.reason.budget_before_start"],
  [/^not used by an? \w+ promotion$/, "error.reason.not_used_by_kind"],
];

/** A field error's reason in the site's language; a reason we cannot read is "invalid". */
export function reasonText(reason) {
  const text = String(reason || "");
  for (const [pattern, key] of REASONS) {
    const m = pattern.exec(text);
    if (m) return t(key, { n: m[1] });
  }
  return t("error.reason.invalid");
}

/** "lines[1].picked_qty" -> "第 2 行 · 实拣数量": each name from the catalogue
 * (error.field.<name>), list positions counted from 1, unknown names as they are. */
export function fieldText(path) {
  const parts = [];
  for (const piece of String(path || "").split(".")) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(piece);
    const name = m ? m[1] : piece;
    if (name === "(row)") parts.push(t("error.field.row"));
    else if (name && name !== "(body)") parts.push(known(`error.field.${name}`) || name);
    for (const [, i] of (m ? m[2] : "").matchAll(/\[(\d+)\]/g)) parts.push(t("error.field.item", { n: Number(i) + 1 }));
  }
  return parts.length ? parts.join(" · ") : t("error.field.body");
}

/** {message, fields: [{field, reason}], code} of an error, in the site's language.
 * Errors the site raises itself (new Error(t(...))) are already translated. */
export function describe(err) {
  if (!err || err.status === undefined) {
    return { message: err && err.message ? err.message : String(err), fields: [], code: null };
  }
  const details = Array.isArray(err.details) ? err.details : [];
  const fields = details
    .filter((d) => d && typeof d === "object" && d.field !== undefined)
    .map((d) => ({ field: fieldText(d.field), reason: reasonText(d.reason || d.message), raw: `${d.field}: ${d.reason || d.message || ""}` }));
  const message =
    known(`error.code.${err.code}`) ||
    (err.status === 0 ? t("error.network") : known(`error.status.${err.status}`)) ||
    t("error.generic");
  return { message, fields, code: err.code };
}
