// Issue 18's mechanics on the promotions and coupons pages: 满件减 / 满N件M折 / 每满减
// (options of a tiered promotion), 加价购 (add_on), 满赠 (gift), 一口价 (bundle), and the
// 商品券 (product) coupon kind. promotions.js and coupons.js hook these in with a few
// lines; the rules are the API's (functions/chalicelib/promotions/mechanics.py).
import { field, h, select } from "../dom.js";
import { money, parseYuan } from "../format.js";
import { t } from "../i18n.js";

export const MECHANIC_KINDS = ["add_on", "gift", "bundle"];

const list = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);
const count = (text, label) => {
  const n = Number(String(text).trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(t("common.bad_amount", { field: label }));
  return n;
};
const fen = (input, label) => {
  const v = parseYuan(input.value);
  if (v === null) throw new Error(t("common.bad_amount", { field: label }));
  return v;
};

/** A checkbox inside its label (the label is the touch target), with a hint. */
function checkField(text, box, hint) {
  return h("div", { class: "field" }, h("label", { class: "inline" }, box, text), h("span", { class: "hint" }, hint));
}

/** The mechanics' fields of the create form: ``nodes`` go in its grid, ``sync(kind)``
 * shows those of the kind chosen, ``read(kind, body, tiersText)`` adds them to the body. */
export function mechanicsFieldset() {
  const basis = select([["amount", t("mechanics.basis.amount")], ["units", t("mechanics.basis.units")]], "amount", { "data-testid": "mech-basis" });
  const every = h("input", { type: "checkbox", "data-testid": "mech-every" });
  const percent = h("input", { type: "checkbox", "data-testid": "mech-percent" });
  const cap = h("input", { inputmode: "decimal", "data-testid": "mech-cap" });
  const sku = h("input", { "data-testid": "mech-sku" });
  const threshold = h("input", { inputmode: "decimal", "data-testid": "mech-threshold" });
  const price = h("input", { inputmode: "decimal", "data-testid": "mech-price" });
  const units = h("input", { type: "number", min: "1", max: "99", value: "1", "data-testid": "mech-units" });
  const f = {
    basis: field(t("mechanics.basis"), basis, t("mechanics.basis_hint")),
    every: checkField(t("mechanics.every"), every, t("mechanics.every_hint")),
    percent: checkField(t("mechanics.percent"), percent, t("mechanics.percent_hint")),
    cap: field(t("mechanics.cap"), cap, t("common.in_yuan")),
    sku: field(t("mechanics.sku"), sku),
    threshold: field(t("mechanics.threshold"), threshold, t("common.in_yuan")),
    price: field(t("mechanics.price"), price, t("common.in_yuan")),
    units: field(t("mechanics.units"), units),
  };
  const shown = {
    tiered: ["basis", "every", "percent", "cap"],
    add_on: ["sku", "threshold", "price", "units"],
    gift: ["sku", "threshold", "units"],
    bundle: ["price", "units"],
  };
  return {
    nodes: Object.values(f),
    sync(kind) {
      for (const [k, node] of Object.entries(f)) node.hidden = !(shown[kind] || []).includes(k);
      f.cap.hidden ||= !every.checked;
      if (MECHANIC_KINDS.includes(kind)) f.units.querySelector("label").textContent = t(`mechanics.units.${kind}`);
    },
    watch(onChange) {
      every.addEventListener("change", onChange);
    },
    read(kind, body, tiersText) {
      if (kind === "tiered") {
        if (basis.value === "units" || percent.checked) {
          // thresholds in units and/or off in percent: "3-10, 5-25" read as numbers
          body.tiers = list(tiersText).map((pair) => {
            const [a, b] = pair.split("-");
            return {
              threshold_fen: basis.value === "units" ? count(a, t("promotions.tiers")) : fen({ value: a }, t("promotions.tiers")),
              off_fen: percent.checked ? count(b, t("promotions.tiers")) : fen({ value: b }, t("promotions.tiers")),
            };
          });
        }
        if (basis.value === "units") body.basis = "units";
        if (percent.checked) body.percent = true;
        if (every.checked) {
          body.every = true;
          if (cap.value.trim()) body.cap_fen = fen(cap, t("mechanics.cap"));
        }
        return;
      }
      if (!MECHANIC_KINDS.includes(kind)) return;
      if (kind !== "bundle") Object.assign(body, { sku: sku.value.trim(), threshold_fen: fen(threshold, t("mechanics.threshold")) });
      if (kind !== "gift") body.price_fen = fen(price, t("mechanics.price"));
      const n = count(units.value, t("mechanics.units"));
      if (kind === "add_on") body.max_units = n;
      if (kind === "gift") body.gift_units = n;
      if (kind === "bundle") body.bundle_units = n;
    },
  };
}

/** The list's rule column for a mechanic (null: not one, promotions.js describes it). */
export function describeMechanic(p) {
  if (p.kind === "add_on") return t("mechanics.rule.add_on", { threshold: money(p.threshold_fen), price: money(p.price_fen), sku: p.sku, n: p.max_units });
  if (p.kind === "gift") return t("mechanics.rule.gift", { threshold: money(p.threshold_fen), sku: p.sku, n: p.gift_units });
  if (p.kind === "bundle") return t("mechanics.rule.bundle", { n: p.bundle_units, price: money(p.price_fen) });
  if (p.kind !== "tiered" || !(p.basis === "units" || p.every || p.percent)) return null;
  const tier = (x) => {
    const when = p.basis === "units" ? t("mechanics.units_n", { n: x.threshold_fen }) : money(x.threshold_fen);
    const off = p.percent ? `${x.off_fen}%` : money(x.off_fen);
    return t(p.every ? "mechanics.rule.every" : "mechanics.rule.tier", { when, off });
  };
  const cap = p.every && p.cap_fen != null ? " " + t("mechanics.rule.cap", { cap: money(p.cap_fen) }) : "";
  return p.tiers.map(tier).join(" / ") + cap;
}

// --- coupons: the product kind ------------------------------------------------------

export const PRODUCT_KIND = "product";

/** The product coupon's fields of the template form. */
export function productFieldset() {
  const sku = h("input", { "data-testid": "product-sku" });
  const price = h("input", { inputmode: "decimal", value: "0", "data-testid": "product-price" });
  const f = [field(t("mechanics.product_sku"), sku), field(t("mechanics.product_price"), price, t("mechanics.product_price_hint"))];
  return {
    nodes: f,
    sync(kind) {
      for (const node of f) node.hidden = kind !== PRODUCT_KIND;
      sku.required = kind === PRODUCT_KIND;
    },
    read(kind, body) {
      if (kind !== PRODUCT_KIND) return;
      body.product_sku = sku.value.trim();
      body.product_price_fen = price.value.trim() ? fen(price, t("mechanics.product_price")) : 0;
    },
  };
}

export const describeProduct = (c) =>
  c.kind === PRODUCT_KIND ? t("mechanics.rule.product", { sku: c.product_sku, price: money(c.product_price_fen || 0) }) : null;
