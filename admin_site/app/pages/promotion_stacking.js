// Stacking policy (叠加规则, issue 18 item 1) on the promotion and coupon template forms
// and, as a campaign's default (默认叠加规则), on the campaign page: a fieldset and its
// reader, and a short text for the lists. The API's defaults (not exclusive, priority 0,
// stacks with 满减 and member price, no group, margin floor "refuse") send nothing, so a
// form left alone creates what it did before. Created in a campaign and left alone, a
// promotion or template follows the campaign (跟随活动): it takes the campaign's default.
import { get } from "../api.js";
import { field, h, select } from "../dom.js";
import { t } from "../i18n.js";

const MARGIN = ["refuse", "exclude"];

/** The fieldset. ``coupon``: a template's (with the stack group); ``campaign``: a
 * campaign's default (the group, no margin mode; ``value`` is the policy it shows, null
 * for none). ``sync(kind)`` hides it where the API refuses it; ``read(kind)`` is what to
 * add to the create body; ``policy()`` the policy alone (null: the defaults);
 * ``follow(campaign)`` says whether the item follows a chosen campaign's default. */
export function stackingFieldset({ coupon = false, campaign = false, value = null, disabled = false } = {}) {
  const v = value || {};
  const off = disabled ? "" : null;
  const exclusive = h("input", { type: "checkbox", checked: Boolean(v.exclusive), disabled: off, "data-testid": "stacking-exclusive" });
  const priority = h("input", { type: "number", min: "0", max: "100", value: String(v.priority || 0), disabled: off, "data-testid": "stacking-priority" });
  const noTiered = h("input", { type: "checkbox", checked: Boolean(v.not_with_tiered), disabled: off, "data-testid": "stacking-not-with-tiered" });
  const noMember = h("input", { type: "checkbox", checked: Boolean(v.not_with_member_price), disabled: off, "data-testid": "stacking-not-with-member-price" });
  const group = h("input", { maxlength: "20", pattern: "[a-z0-9_\\-]{1,20}", placeholder: "store / supplier", value: v.stack_group || "", disabled: off, "data-testid": "stacking-group" });
  const margin = select(MARGIN.map((m) => [m, t(`stacking.margin.${m}`)]), "refuse", { "data-testid": "stacking-margin" });
  const groupField = coupon || campaign ? field(t("stacking.group"), group, t(campaign ? "stacking.campaign_group_hint" : "stacking.group_hint")) : null;
  const marginField = campaign ? null : field(t("stacking.margin"), margin, t("stacking.margin_hint"));
  // 跟随活动: shown while a campaign is chosen and the switches are left alone
  const follows = h("p", { class: "hint", hidden: "", "data-testid": "stacking-follows" });
  let chosen = null;
  let touched = false;
  const element = h("fieldset", { class: "card", "data-testid": campaign ? "campaign-stacking" : "stacking-fieldset" },
    h("legend", {}, t(campaign ? "stacking.campaign_title" : "stacking.title")),
    campaign ? h("p", { class: "hint" }, t("stacking.campaign_hint")) : null,
    follows,
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
  const showFollows = () => {
    follows.hidden = !chosen || touched;
    // what this item would copy: promotions take no stack group
    const copied = chosen && chosen.default_stacking && !coupon ? { ...chosen.default_stacking, stack_group: null } : chosen && chosen.default_stacking;
    if (chosen) follows.textContent = `${t("stacking.follows")}：${policyText(copied)}`;
  };
  for (const input of [exclusive, priority, noTiered, noMember, group]) {
    input.addEventListener("input", () => { touched = true; showFollows(); });
    input.addEventListener("change", () => { touched = true; showFollows(); });
  }
  const current = (withGroup) => {
    const policy = {
      exclusive: exclusive.checked,
      priority: Number(priority.value || 0),
      not_with_tiered: noTiered.checked,
      not_with_member_price: noMember.checked,
    };
    if (withGroup && group.value.trim()) policy.stack_group = group.value.trim();
    const set = policy.exclusive || policy.priority || policy.not_with_tiered || policy.not_with_member_price || policy.stack_group;
    return set ? policy : null;
  };
  return {
    element,
    sync(kind) {
      element.hidden = !takes(kind);
      if (marginField) marginField.hidden = !goods(kind);
      if (groupField) groupField.hidden = !goods(kind);
    },
    read(kind) {
      if (!takes(kind)) return {};
      const out = {};
      const policy = current(coupon && goods(kind));
      // in a campaign, switches touched make the policy its own (even the defaults)
      if (policy || (chosen && touched)) out.stacking = policy || {};
      if (goods(kind) && margin.value !== "refuse") out.margin_floor = margin.value;
      return out;
    },
    policy: () => current(true),
    follow(campaignView) {
      chosen = campaignView || null;
      showFollows();
    },
  };
}

/** A policy in a few words: "—" for none or the defaults. */
export function policyText(s) {
  const parts = [];
  if (s && s.exclusive) parts.push(t("stacking.exclusive_short"));
  if (s && s.priority) parts.push(t("stacking.priority_short", { n: s.priority }));
  if (s && s.not_with_tiered) parts.push(t("stacking.not_with_tiered_short"));
  if (s && s.not_with_member_price) parts.push(t("stacking.not_with_member_price_short"));
  if (s && s.stack_group) parts.push(t("stacking.group_short", { group: s.stack_group }));
  return parts.length ? parts.join(" · ") : t("stacking.matrix");
}

/** One line for the lists: "—" for the default policy; "跟随活动" first when it is the
 * campaign's default, copied. */
export function stackingText(x) {
  const words = policyText(x.stacking);
  const parts = words === t("stacking.matrix") ? [] : [words];
  if (x.stacking_source === "campaign") parts.unshift(t("stacking.follows"));
  if (x.margin_floor === "exclude") parts.push(t("stacking.margin_exclude_short"));
  return h("span", { "data-testid": "stacking-text" }, parts.length ? parts.join(" · ") : "—");
}

/** The chooser of a draft campaign on the create forms: its select (options filled when
 * the campaigns arrive) and the chosen campaign's view. */
export function campaignChooser(onChange) {
  const el = h("select", { "data-testid": "campaign-choice" }, h("option", { value: "" }, t("stacking.no_campaign")));
  const byId = new Map();
  get("/admin/campaigns", { state: "draft" }).then((r) => {
    for (const c of r.items) {
      byId.set(c.campaign_id, c);
      el.append(h("option", { value: c.campaign_id }, c.name));
    }
  }).catch(() => {});
  el.addEventListener("change", () => onChange(byId.get(el.value) || null));
  return { el, field: field(t("stacking.campaign"), el, t("stacking.campaign_choice_hint")), value: () => el.value || null };
}

/** The list column both pages add. */
export const stackingColumn = () => ({ label: t("stacking.column"), cell: stackingText, csv: (x) => stackingText(x).textContent });
