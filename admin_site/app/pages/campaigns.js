// Campaigns (issue 16): the list (grade, state, window, budget used) and the editor of
// one campaign (every field, the contents picked from the promotions and coupon
// templates, the launch checklist with "run checklist" and "launch", the state actions).
// #/campaigns/new?node=<node_id> starts from a calendar node (its name, grade, window).

import { get, post, request } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { DEFAULT_TZ, dateTime, isoFromLocal, localFromIso, localInput, money, parseYuan, yuanInput } from "../format.js";
import { currentLanguage, t } from "../i18n.js";
import { HQ, MANAGER, isHq } from "../session.js";
import { stackingFieldset } from "./promotion_stacking.js";

// The enums of functions/chalicelib/campaigns/schemas.py.
const GRADES = ["S", "A", "B", "C"];
const MODES = ["all", "list", "tiers"];
const GOALS = ["gmv_fen", "orders", "new_members", "aov_fen"];
const MONEY_GOALS = new Set(["gmv_fen", "aov_fen"]);
const FUNDERS = ["hq_fen", "store_fen", "supplier_fen"];
const TONES = { draft: "", scheduled: "warn", live: "ok", ended: "", reviewed: "" };
const list = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

const stateBadge = (c) => badge(t(`campaigns.state.${c.state}`), TONES[c.state]);
const windowText = (c) => `${dateTime(c.starts_at)} – ${dateTime(c.ends_at)}`;
const usedText = (c) => (c.budget_fen ? `${c.used_percent}% · ${money(c.spent_fen)} / ${money(c.budget_fen)}` : "—");

/** "2026-11-11" (a local day) -> the datetime-local value of its start or its end. */
const dayStart = (day) => `${day}T00:00`;
const dayEnd = (day) => `${day}T23:59`;

function putCampaign(id, body) {
  return request("PUT", `/admin/campaigns/${id}`, { body });
}

/** One check of the checklist: passed, a warning, or blocking; its details as text. */
function checkRow(c) {
  const tone = c.ok ? "ok" : c.blocking ? "danger" : "warn";
  const label = c.ok ? t("campaigns.check_ok") : c.blocking ? t("campaigns.check_failed") : t("campaigns.check_warning");
  const detail = c.details && (Array.isArray(c.details) ? c.details.length : Object.keys(c.details).length)
    ? h("details", {}, h("summary", {}, t("campaigns.check_details")), h("pre", { class: "wrap" }, JSON.stringify(c.details, null, 1)))
    : null;
  return h("li", { class: `check ${tone}`, "data-testid": `check-${c.id}`, "data-ok": String(c.ok) },
    badge(label, tone), " ", h("strong", {}, t(`campaigns.check.${c.id}`)), " — ", c.message, detail);
}

function checklistView(result) {
  return h("div", { "data-testid": "checklist-result" },
    result.ok ? okBox(t("campaigns.checklist_passed")) : h("div", { class: "msg error", role: "alert" }, t("campaigns.checklist_blocked")),
    h("ul", { class: "checks" }, result.checks.map(checkRow)));
}

/** A multi-select of promotions or templates, the chosen ones selected. */
function picker(items, idOf, label, chosen) {
  const el = h("select", { multiple: true, size: String(Math.min(6, Math.max(3, items.length))) },
    items.map((x) => h("option", { value: idOf(x), selected: chosen.includes(idOf(x)) ? "" : null }, label(x))));
  el.values = () => [...el.selectedOptions].map((o) => o.value);
  return el;
}

function form(c, choices, ctx, messages) {
  const draft = c.state === "draft";
  const open = ["draft", "scheduled", "live"].includes(c.state);
  const name = h("input", { required: true, maxlength: "60", value: c.name });
  const grade = select(GRADES.map((g) => [g, t(`campaigns.grade.${g}`)]), c.grade, { disabled: draft ? null : "" });
  const starts = h("input", { type: "datetime-local", required: true, value: c.starts_local, disabled: draft ? null : "" });
  const ends = h("input", { type: "datetime-local", required: true, value: c.ends_local, disabled: draft ? null : "" });
  const mode = select(MODES.map((m) => [m, t(`campaigns.mode.${m}`)]), c.stores_mode, { disabled: draft ? null : "" });
  const stores = h("input", { value: c.stores.join(" "), placeholder: "sh-jingan sh-xuhui", disabled: draft ? null : "" });
  const tiers = h("input", { value: c.store_tiers.join(" "), placeholder: "S A", disabled: draft ? null : "" });
  const segment = h("input", { value: c.segment_id || "", disabled: draft ? null : "" });
  const notes = h("textarea", { rows: "3", maxlength: "2000" }, c.plan_notes || "");
  const goals = Object.fromEntries(GOALS.map((g) => {
    const v = c.goal[g];
    return [g, h("input", { inputmode: "decimal", value: v == null ? "" : MONEY_GOALS.has(g) ? yuanInput(v) : String(v), disabled: open ? null : "" })];
  }));
  const budget = Object.fromEntries(FUNDERS.map((f) => [f, h("input", { inputmode: "decimal", value: yuanInput(c.budget[f] || 0), disabled: open ? null : "" })]));
  const promos = choices.promotions.filter((p) => p.kind !== "member_day" && (!p.campaign_id || p.campaign_id === c.campaign_id));
  const days = choices.promotions.filter((p) => p.kind === "member_day");
  const promoPick = picker(promos, (p) => p.promotion_id, (p) => `${p.name} · ${t(`promotions.kind.${p.kind}`)}`, c.promotion_ids);
  const dayPick = picker(days, (p) => p.promotion_id, (p) => p.name, c.member_day_ids);
  const templatePick = picker(choices.templates, (x) => x.template_id, (x) => `${x.name} · ${t(`coupons.kind.${x.kind}`)}`, c.coupon_template_ids);
  for (const p of [promoPick, dayPick, templatePick]) if (!draft) p.disabled = true;
  // the default stacking policy of its contents (issue 18): changeable until it ends
  const stacking = stackingFieldset({ campaign: true, value: c.default_stacking, disabled: !open });
  const applyButton = c.campaign_id && open && isHq() ? applyStacking(c, stacking, messages) : null;
  if (applyButton) stacking.element.append(applyButton);
  const fields = {
    stores: field(t("campaigns.stores"), stores, t("campaigns.stores_hint")),
    tiers: field(t("campaigns.store_tiers"), tiers, t("campaigns.tiers_hint")),
  };
  const sync = () => {
    fields.stores.hidden = mode.value !== "list";
    fields.tiers.hidden = mode.value !== "tiers";
  };
  mode.addEventListener("change", sync);
  sync();
  const save = h("button", { type: "submit", class: "primary" }, c.campaign_id ? t("common.save") : t("campaigns.create"));
  const time = (input, label) => {
    const iso = isoFromLocal(input.value);
    if (iso === null) throw new Error(t("coupons.bad_time", { field: label }));
    return iso;
  };
  const amount = (input, label) => {
    if (!input.value.trim()) return 0;
    const fen = parseYuan(input.value);
    if (fen === null) throw new Error(t("common.bad_amount", { field: label }));
    return fen;
  };
  return h("form", {
    class: "card",
    "data-testid": "campaign-form",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const goal = {};
        for (const g of GOALS) {
          const raw = goals[g].value.trim();
          if (!raw) continue;
          goal[g] = MONEY_GOALS.has(g) ? amount(goals[g], t(`campaigns.goal.${g}`)) : Number(raw);
        }
        const body = {
          name: name.value.trim(),
          grade: grade.value,
          starts_at: time(starts, t("campaigns.starts")),
          ends_at: time(ends, t("campaigns.ends")),
          stores_mode: mode.value,
          stores: mode.value === "list" ? list(stores.value) : [],
          store_tiers: mode.value === "tiers" ? list(tiers.value) : [],
          segment_id: segment.value.trim() || null,
          goal,
          plan_notes: notes.value.trim() || null,
          budget: Object.fromEntries(FUNDERS.map((f) => [f, amount(budget[f], t(`campaigns.funder.${f}`))])),
          node_id: c.node_id || null,
          promotion_ids: promoPick.values(),
          coupon_template_ids: templatePick.values(),
          member_day_ids: dayPick.values(),
          default_stacking: stacking.policy(),
        };
        const saved = c.campaign_id
          ? await putCampaign(c.campaign_id, { ...body, version: c.version })
          : await post("/admin/campaigns", body);
        sessionStorage.setItem("daojia.flash", t(c.campaign_id ? "campaigns.saved" : "campaigns.created", { name: saved.name }));
        ctx.navigate(`/campaigns/${saved.campaign_id}`);
      });
    },
  },
  h("div", { class: "form-grid" },
    field(t("campaigns.name"), name),
    field(t("campaigns.grade"), grade),
    field(t("campaigns.starts"), starts, t("common.tz_hint", { tz: DEFAULT_TZ })),
    field(t("campaigns.ends"), ends, t("common.tz_hint", { tz: DEFAULT_TZ })),
    field(t("campaigns.stores_mode"), mode),
    fields.stores,
    fields.tiers,
    field(t("campaigns.segment"), segment, t("campaigns.segment_hint")),
    ...GOALS.map((g) => field(t(`campaigns.goal.${g}`), goals[g], MONEY_GOALS.has(g) ? t("common.in_yuan") : null)),
    ...FUNDERS.map((f) => field(t(`campaigns.funder.${f}`), budget[f], t("common.in_yuan"))),
    field(t("campaigns.promotions"), promoPick, t("campaigns.pick_hint")),
    field(t("campaigns.member_days"), dayPick, t("campaigns.pick_hint")),
    field(t("campaigns.templates"), templatePick, t("campaigns.pick_hint")),
    field(t("campaigns.plan_notes"), notes)),
  stacking.element,
  draft ? null : h("p", { class: "hint" }, t("campaigns.fixed_hint")),
  save);
}

/** "应用到草稿": the saved default copied onto the campaign's drafts that follow it
 * (POST /admin/campaigns/{id}/apply-default-stacking); what changed and what kept its
 * policy, with why. A default edited but not saved yet is refused here. */
function applyStacking(c, stacking, messages) {
  // the saved default as policy() reads it: no null group
  const saved = c.default_stacking
    ? Object.fromEntries(Object.entries(c.default_stacking).filter(([, v]) => v !== null))
    : null;
  const button = h("button", { type: "button", "data-testid": "apply-stacking" }, t("campaigns.apply_stacking"));
  const result = slot({ "data-testid": "apply-stacking-result" });
  button.addEventListener("click", () => busy(button, messages, async () => {
    if (JSON.stringify(stacking.policy()) !== JSON.stringify(saved)) throw new Error(t("campaigns.apply_stacking_save_first"));
    const got = await post(`/admin/campaigns/${c.campaign_id}/apply-default-stacking`);
    result.show(h("div", {},
      okBox(t("campaigns.applied_stacking", { updated: got.updated.length, kept: got.kept.length })),
      got.kept.length ? h("ul", {}, got.kept.map((k) => h("li", {}, `${k.id}：${k.reason}`))) : null));
  }));
  return h("div", { class: "row" }, button, result);
}

/** The checklist panel and the state actions of a saved campaign. */
function actions(c, ctx, messages) {
  const result = slot({ "data-testid": "checklist" });
  const run = h("button", { type: "button" }, t("campaigns.run_checklist"));
  run.addEventListener("click", () => busy(run, messages, async () => {
    result.show(checklistView(await get(`/admin/campaigns/${c.campaign_id}/checklist`)));
  }));
  const step = (what, label, tone) => {
    const b = h("button", { type: "button", class: tone || null }, label);
    b.addEventListener("click", () => busy(b, null, async () => {
      messages.clear();
      try {
        const got = await post(`/admin/campaigns/${c.campaign_id}/${what}`);
        sessionStorage.setItem("daojia.flash", t(`campaigns.done.${what}`, { name: got.name }));
        ctx.rerender();
      } catch (err) {
        if (err.code === "campaign_checklist_failed" && err.details) {
          result.show(checklistView({ ok: false, checks: err.details.checks }));
        }
        messages.show(errorBox(err));
      }
    }));
    return b;
  };
  const buttons = [];
  if (c.state === "draft") buttons.push(run, step("launch", t("campaigns.launch"), "primary"));
  if (c.state === "scheduled") buttons.push(run, step("unschedule", t("campaigns.unschedule")));
  if (c.state === "live") buttons.push(step("end", t("campaigns.end"), "danger"));
  const review = c.state === "ended" ? reviewForm(c, ctx, messages) : null;
  return h("section", { class: "card", "aria-labelledby": "campaign-checklist" },
    h("h2", { id: "campaign-checklist" }, t("campaigns.checklist")),
    h("div", { class: "row" }, buttons),
    result,
    review);
}

/** Head office copies a campaign (an old one, typically) with a new window: its
 * promotions, member days and coupon templates come along as drafts to approve again
 * (issue 18, POST /admin/campaigns/{id}/clone). The copy's id is chosen here, so a
 * retried click answers the same copy. */
function cloneCard(c, messages) {
  const name = h("input", { maxlength: "60", value: `${c.name} ${t("campaigns.clone_suffix")}` });
  const starts = h("input", { type: "datetime-local", value: localInput(24) });
  const ends = h("input", { type: "datetime-local", value: localInput(24 * 8) });
  const copyId = `${c.campaign_id}-copy-${Math.random().toString(36).slice(2, 8)}`.slice(0, 60);
  const go = h("button", { type: "submit" }, t("campaigns.clone"));
  const form = h("form", { class: "card", "data-testid": "campaign-clone" },
    h("h2", {}, t("campaigns.clone_title")),
    h("p", { class: "hint" }, t("campaigns.clone_hint")),
    h("div", { class: "grid" },
      field(t("campaigns.clone_name"), name),
      field(t("campaigns.clone_starts"), starts),
      field(t("campaigns.clone_ends"), ends)),
    go);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(go, messages, async () => {
      const startsAt = isoFromLocal(starts.value);
      const endsAt = isoFromLocal(ends.value);
      if (startsAt === null || endsAt === null) throw new Error(t("coupons.bad_time", { field: t("campaigns.clone_starts") }));
      const copy = await post(`/admin/campaigns/${c.campaign_id}/clone`, {
        campaign_id: copyId, name: name.value.trim() || null, starts_at: startsAt, ends_at: endsAt,
      });
      sessionStorage.setItem("daojia.flash", t("campaigns.cloned", { name: copy.name }));
      location.hash = `#/campaigns/${encodeURIComponent(copy.campaign_id)}`;
    });
  });
  return form;
}

function reviewForm(c, ctx, messages) {
  const note = h("textarea", { rows: "3", required: true, maxlength: "4000" });
  const goals = Object.fromEntries(GOALS.map((g) => [g, h("input", { inputmode: "decimal" })]));
  const save = h("button", { type: "submit", class: "primary" }, t("campaigns.record_review"));
  return h("form", {
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const next = {};
        for (const g of GOALS) {
          const raw = goals[g].value.trim();
          if (!raw) continue;
          const v = MONEY_GOALS.has(g) ? parseYuan(raw) : Number(raw);
          if (v === null || Number.isNaN(v)) throw new Error(t("common.bad_amount", { field: t(`campaigns.goal.${g}`) }));
          next[g] = v;
        }
        await post(`/admin/campaigns/${c.campaign_id}/review-note`, { note: note.value.trim(), next_goal: next });
        ctx.rerender();
      });
    },
  },
  h("h3", {}, t("campaigns.review_title")),
  h("div", { class: "form-grid" }, field(t("campaigns.review_note"), note), ...GOALS.map((g) => field(t(`campaigns.next_goal.${g}`), goals[g]))),
  save);
}

/** A new campaign: blank, or prefilled from a calendar node. */
async function blank(query) {
  const c = {
    campaign_id: null, name: "", grade: "B", state: "draft", stores_mode: "all", stores: [], store_tiers: [],
    segment_id: null, goal: {}, plan_notes: null, budget: {}, node_id: null,
    promotion_ids: [], coupon_template_ids: [], member_day_ids: [], version: 0,
    starts_local: localInput(24), ends_local: localInput(24 * 8),
  };
  if (query.node) {
    const node = await get(`/admin/calendar/nodes/${encodeURIComponent(query.node)}`);
    Object.assign(c, {
      name: (currentLanguage() === "en" ? node.name_en : node.name_zh) || node.name_zh,
      grade: node.grade, node_id: node.node_id,
      starts_local: dayStart(node.starts_on), ends_local: dayEnd(node.ends_on),
      stores_mode: node.store_id ? "list" : "all", stores: node.store_id ? [node.store_id] : [],
    });
  }
  return c;
}

function flashMessage(messages) {
  const flash = sessionStorage.getItem("daojia.flash");
  if (flash) {
    sessionStorage.removeItem("daojia.flash");
    messages.show(okBox(flash));
  }
}

export const campaignEditor = {
  id: "campaign",
  section: "campaigns",
  path: "/campaigns/:campaignId",
  title: "campaigns.editor_title",
  roles: [HQ, MANAGER],
  group: "marketing",
  async render(ctx) {
    const messages = slot();
    flashMessage(messages);
    const id = ctx.params.campaignId;
    let c;
    let choices;
    try {
      c = id === "new" ? await blank(ctx.query) : await get(`/admin/campaigns/${id}`);
      if (id !== "new") Object.assign(c, { starts_local: localFromIso(c.starts_at), ends_local: localFromIso(c.ends_at) });
      // The pickers' lists are head office's (a store manager reads the campaign only).
      const [promotions, templates] = await Promise.all([get("/admin/promotions"), get("/admin/coupon-templates")])
        .catch(() => [{ items: [] }, { items: [] }]);
      choices = { promotions: promotions.items, templates: templates.items };
    } catch (err) {
      return h("section", {}, h("h1", {}, t("campaigns.editor_title")), errorBox(err));
    }
    const heading = c.campaign_id ? c.name : t("campaigns.new");
    const links = c.campaign_id
      ? h("nav", { class: "row", "aria-label": t("campaigns.reports") },
        h("a", { href: `#/campaigns/${c.campaign_id}/dashboard` }, t("campaigns.dashboard_link")),
        h("a", { href: `#/campaigns/${c.campaign_id}/review` }, t("campaigns.review_link")))
      : null;
    const history = c.campaign_id && c.history.length
      ? h("section", { class: "card" }, h("h2", {}, t("campaigns.history")),
        table(t("campaigns.history"), [
          { label: t("campaigns.when"), cell: (x) => dateTime(x.at) },
          { label: t("campaigns.change"), cell: (x) => `${t(`campaigns.state.${x.from_state}`)} → ${t(`campaigns.state.${x.to_state}`)}` },
          { label: t("campaigns.by"), cell: (x) => x.actor },
        ], c.history))
      : null;
    return h("section", {},
      h("h1", {}, heading, " ", c.campaign_id ? stateBadge(c) : null),
      links,
      messages,
      c.campaign_id ? h("p", {}, t("campaigns.budget_line", { used: usedText(c), left: money(c.left_fen) })) : null,
      form(c, choices, ctx, messages),
      c.campaign_id ? actions(c, ctx, messages) : null,
      c.campaign_id && isHq() ? cloneCard(c, messages) : null,
      c.review_note ? h("section", { class: "card" }, h("h2", {}, t("campaigns.review_note")), h("p", {}, c.review_note)) : null,
      history);
  },
};

export default {
  id: "campaigns",
  path: "/campaigns",
  title: "campaigns.title",
  nav: "nav.campaigns",
  roles: [HQ, MANAGER],
  group: "marketing",
  async render(ctx) {
    const messages = slot();
    flashMessage(messages);
    const year = Number(ctx.query.year) || new Date().getFullYear();
    let listing;
    try {
      const items = (await get("/admin/campaigns", { year })).items;
      listing = table(t("campaigns.title"), [
        { label: t("campaigns.name"), cell: (c) => h("a", { href: `#/campaigns/${c.campaign_id}` }, c.name) },
        { label: t("campaigns.grade"), cell: (c) => t(`campaigns.grade.${c.grade}`) },
        { label: t("campaigns.state"), cell: stateBadge },
        { label: t("campaigns.window"), cell: windowText },
        { label: t("campaigns.budget_used"), num: true, cell: usedText },
      ], items, { empty: t("campaigns.empty") });
    } catch (err) {
      listing = errorBox(err);
    }
    const years = [year - 1, year, year + 1];
    return h("section", {},
      h("h1", {}, t("campaigns.title")),
      messages,
      h("div", { class: "row" },
        h("nav", { "aria-label": t("campaigns.year") }, years.map((y) => [h("a", { href: `#/campaigns?year=${y}`, "aria-current": y === year ? "page" : null }, String(y)), " "])),
        h("div", { class: "spacer" }),
        h("a", { class: "button primary", href: "#/campaigns/new" }, t("campaigns.new"))),
      listing);
  },
};
