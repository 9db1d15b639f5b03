import { get, post, request } from "../api.js";
import { busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { exportButton } from "../export.js";
import { dateTime, money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";
import * as stores from "../stores.js";
import { RFM_GROUPS, SOURCES, STAGES, sourceLabel } from "./customers.js";

// 分群: the segment builder (docs/segments.md "Segments"). The filter (tags any/all, RFM
// groups, lifecycle stages, levels, sources, stores, a spend range in yuan — fen in the
// API — and a minimum of orders) is counted as it is built (POST /admin/segments/count,
// 300 ms after the last change; an answer to an older filter is dropped), saved by name
// (/admin/segments), acted on (POST /admin/segments/actions: a coupon or a tag, each
// confirmed, one request_id per attempt, progress polled) and exported (export kind
// "segment", phones masked unless an explicit consented campaign). Head office only.
const DEBOUNCE_MS = 300;
const POLL_MS = 1000;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (x) => `${(x * 100).toFixed(1)}%`;

export function newRequestId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `seg-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A group of checkboxes; `.values()` gives the checked ones, `.set(list)` checks them. */
function checks(name, legend, options, onChange) {
  const boxes = options.map(([value, label]) => {
    const box = h("input", { type: "checkbox", name, value, onchange: onChange });
    return { value, box, node: h("label", { class: "check" }, box, label) };
  });
  const node = h("fieldset", { class: "store-choice seg-choice", "data-filter": name }, h("legend", {}, legend), boxes.map((b) => b.node));
  return {
    node,
    values: () => boxes.filter((b) => b.box.checked).map((b) => b.value),
    set: (list) => boxes.forEach((b) => { b.box.checked = (list || []).includes(b.value); }),
  };
}

const splitTags = (text) => [...new Set(String(text || "").split(/[,，、\n]/).map((s) => s.trim()).filter(Boolean))];

/** The filter's form; `.filter()` is the API's SegmentFilter (or throws a message for a
 * bad amount), `.set(f)` fills it from a saved one. */
function filterForm(levels, storeList, tagNames, changed) {
  const tags = h("input", { name: "tags", list: "seg-tag-names", placeholder: t("segments.tags_placeholder"), oninput: changed });
  const tagMode = select([["any", t("segments.tags_any")], ["all", t("segments.tags_all")]], "any", { name: "tag_mode", onchange: changed });
  const datalist = h("datalist", { id: "seg-tag-names" }, tagNames.map((n) => h("option", { value: n })));
  const rfm = checks("rfm_groups", t("segments.rfm_groups"), RFM_GROUPS.map((g) => [g, t(`segments.rfm.${g}`)]), changed);
  const stage = checks("lifecycle", t("segments.lifecycle"), STAGES.map((s) => [s, t(`segments.stage.${s}`)]), changed);
  const level = checks("levels", t("segments.levels"), levels.map((lv) => [lv.code, lv.name && lv.name !== lv.code ? `${lv.code} ${lv.name}` : lv.code]), changed);
  const source = checks("sources", t("segments.sources"), SOURCES.map((k) => [k, sourceLabel(k)]), changed);
  const store = checks("stores", t("segments.stores"), storeList.map((s) => [s.store_id, s.name]), changed);
  const spendMin = h("input", { name: "spend_min", inputmode: "decimal", class: "short", oninput: changed });
  const spendMax = h("input", { name: "spend_max", inputmode: "decimal", class: "short", oninput: changed });
  const ordersMin = h("input", { name: "orders_min", type: "number", min: "0", step: "1", class: "short", oninput: changed });
  const amount = (input, label) => {
    if (!input.value.trim()) return null;
    const fen = parseYuan(input.value);
    if (fen === null) throw new Error(t("common.bad_amount", { field: label }));
    return fen;
  };
  return {
    node: h("form", { class: "card seg-filter", "data-testid": "segment-filter", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "row" }, field(t("segments.tags"), tags, t("segments.tags_hint")), field(t("segments.tag_mode"), tagMode), datalist),
      rfm.node, stage.node, level.node, source.node, store.node,
      h("div", { class: "row" },
        field(t("segments.spend_min"), spendMin), field(t("segments.spend_max"), spendMax),
        field(t("segments.orders_min"), ordersMin))),
    filter() {
      const f = {};
      const names = splitTags(tags.value);
      if (names.length) f[tagMode.value === "all" ? "tags_all" : "tags_any"] = names;
      for (const [key, group] of [["rfm_groups", rfm], ["lifecycle", stage], ["levels", level], ["sources", source], ["stores", store]]) {
        const v = group.values();
        if (v.length) f[key] = v;
      }
      const lo = amount(spendMin, t("segments.spend_min"));
      const hi = amount(spendMax, t("segments.spend_max"));
      if (lo !== null) f.spend_min_fen = lo;
      if (hi !== null) f.spend_max_fen = hi;
      if (ordersMin.value.trim()) {
        const n = Number(ordersMin.value);
        if (!Number.isInteger(n) || n < 0) throw new Error(t("segments.bad_orders"));
        f.orders_min = n;
      }
      return f;
    },
    set(f) {
      const all = (f.tags_all || []).length > 0;
      tags.value = (all ? f.tags_all : f.tags_any || []).join(", ");
      tagMode.value = all ? "all" : "any";
      rfm.set(f.rfm_groups);
      stage.set(f.lifecycle);
      level.set(f.levels);
      source.set(f.sources);
      store.set(f.stores);
      spendMin.value = f.spend_min_fen == null ? "" : yuanInput(f.spend_min_fen);
      spendMax.value = f.spend_max_fen == null ? "" : yuanInput(f.spend_max_fen);
      ordersMin.value = f.orders_min == null ? "" : String(f.orders_min);
    },
  };
}

/** The count of the current filter: debounced, and only the newest request's answer is
 * shown (an older one arriving late is dropped). */
function counter(ctx, currentFilter, allSpend) {
  const out = slot({ "data-testid": "segment-count" });
  let seq = 0;
  let timer = null;
  const show = (c) => {
    const share = allSpend() ? c.spend_fen / allSpend() : 0;
    out.show(h("dl", { class: "summary", "data-testid": "segment-count-facts" },
      [
        [t("segments.count.members"), String(c.members), "members"],
        [t("segments.count.marketable"), String(c.marketable), "marketable"],
        [t("segments.count.excluded"), String(c.excluded_no_consent), "excluded"],
        [t("segments.count.spend"), money(c.spend_fen), "spend"],
        [t("segments.count.spend_share"), pct(share), "spend_share"],
        [t("segments.count.member_share"), pct(c.share_of_members), "member_share"],
        [t("segments.count.as_of"), c.as_of, "as_of"],
      ].map(([label, value, id]) => h("div", { dataset: { count: id } }, h("dt", {}, label), h("dd", {}, value)))));
  };
  const run = async () => {
    const mine = ++seq;
    let filter;
    try {
      filter = currentFilter();
    } catch (err) {
      out.show(h("div", { class: "msg error", role: "alert" }, err.message));
      return;
    }
    out.setAttribute("aria-busy", "true");
    try {
      const c = await post("/admin/segments/count", { filter });
      if (!ctx.isCurrent()) return;
      if (mine !== seq) {
        // A newer filter was asked for: this answer is stale (counted, for the tests).
        out.dataset.dropped = String(Number(out.dataset.dropped || 0) + 1);
        return;
      }
      show(c);
    } catch (err) {
      if (mine === seq) out.show(errorBox(err));
    } finally {
      if (mine === seq) out.removeAttribute("aria-busy");
    }
  };
  return {
    node: out,
    now: run,
    soon() {
      clearTimeout(timer);
      seq++; // an answer in flight is stale already
      out.setAttribute("aria-busy", "true");
      timer = setTimeout(run, DEBOUNCE_MS);
    },
  };
}

function progressView(a) {
  return h("div", { class: a.state === "failed" ? "msg error" : a.state === "succeeded" ? "msg ok" : "export-progress", role: "status", "data-testid": "segment-action-progress", dataset: { state: a.state } },
    a.state === "queued" || a.state === "running" ? h("progress", { max: String(a.targeted || 1), value: String(a.done + a.failed) }) : null,
    " ",
    t(`segments.action_state.${a.state}`),
    " · ",
    t("segments.action_counts", { done: a.done, targeted: a.targeted, failed: a.failed, excluded: a.excluded_no_consent }),
    a.error ? ` ${a.error}` : "");
}

/** Issue a coupon / add a tag to the segment: pick, confirm (with the count), then the
 * action's progress until it ends. One request_id per attempt: a retry of the same
 * confirmation (a lost answer) sends it again; a new confirmation is a new attempt. */
function actionsSection(ctx, currentFilter, templates) {
  const kind = select([["issue_coupon", t("segments.action.issue_coupon")], ["add_tag", t("segments.action.add_tag")]], "issue_coupon", { name: "action" });
  const template = select(templates.map((x) => [x.template_id, x.name || x.template_id]), "", { name: "template_id" });
  const tag = h("input", { name: "tag", maxlength: "20" });
  const templateField = field(t("segments.template"), template);
  const tagField = field(t("segments.tag"), tag);
  const sync = () => { templateField.hidden = kind.value !== "issue_coupon"; tagField.hidden = kind.value !== "add_tag"; };
  kind.addEventListener("change", sync);
  sync();
  const start = h("button", { type: "button", class: "primary" }, t("segments.action_start"));
  const confirmBox = slot({ "data-testid": "segment-action-confirm" });
  const messages = slot();
  const progress = slot({ "data-testid": "segment-action" });

  const follow = async (a) => {
    progress.show(progressView(a));
    while (a.state === "queued" || a.state === "running") {
      await wait(POLL_MS);
      if (!progress.isConnected || !ctx.isCurrent()) return;
      a = await get(`/admin/segments/actions/${encodeURIComponent(a.action_id)}`);
      progress.show(progressView(a));
    }
  };

  start.addEventListener("click", () => {
    messages.clear();
    let filter;
    try {
      filter = currentFilter();
    } catch (err) {
      messages.show(h("div", { class: "msg error", role: "alert" }, err.message));
      return;
    }
    const body = { filter, action: kind.value };
    if (kind.value === "issue_coupon") {
      if (!template.value) return messages.show(h("div", { class: "msg error", role: "alert" }, t("segments.no_template")));
      body.template_id = template.value;
    } else {
      if (!tag.value.trim()) return messages.show(h("div", { class: "msg error", role: "alert" }, t("segments.no_tag")));
      body.tag = tag.value.trim();
    }
    busy(start, messages, async () => {
      // The confirmation states the counts of exactly the filter sent (the shown count
      // may still be on its way after a change).
      const c = await post("/admin/segments/count", { filter });
      confirmAction(body, c);
    });
  });

  const confirmAction = (body, c) => {
    const attempt = { ...body, request_id: newRequestId() };
    const what = body.action === "issue_coupon"
      ? t("segments.confirm_coupon", { name: template.selectedOptions[0]?.textContent || body.template_id, n: c.marketable, excluded: c.excluded_no_consent })
      : t("segments.confirm_tag", { tag: body.tag, n: c.members });
    const yes = h("button", { type: "button", class: "primary" }, t("segments.confirm"));
    const no = h("button", { type: "button" }, t("common.cancel"));
    const confirmMessages = slot();
    no.addEventListener("click", () => confirmBox.clear());
    yes.addEventListener("click", () => busy(yes, confirmMessages, async () => {
      const a = await post("/admin/segments/actions", attempt);
      confirmBox.clear();
      await follow(a);
    }));
    confirmBox.show(h("div", { class: "card confirm", role: "alertdialog", "aria-label": t("segments.confirm_title") },
      h("p", {}, what), h("div", { class: "actions" }, yes, no), confirmMessages));
  };

  return h("section", { class: "card", "aria-labelledby": "seg-actions-h" },
    h("h2", { id: "seg-actions-h" }, t("segments.actions")),
    h("p", { class: "muted" }, t("segments.actions_intro")),
    h("div", { class: "row" }, field(t("segments.action"), kind), templateField, tagField, start),
    messages, confirmBox, progress);
}

/** The export: masked by default; unmasked only for a named campaign, consented members. */
function exportSection(currentFilter) {
  const unmasked = h("input", { type: "checkbox", name: "unmasked" });
  const campaign = h("input", { name: "campaign", maxlength: "80", disabled: true });
  const note = h("p", { class: "muted" }, t("segments.export_masked"));
  unmasked.addEventListener("change", () => {
    campaign.disabled = !unmasked.checked;
    note.textContent = t(unmasked.checked ? "segments.export_unmasked_note" : "segments.export_masked");
  });
  const button = exportButton("segment", () => {
    const f = { segment: currentFilter() };
    if (unmasked.checked) Object.assign(f, { purpose: "campaign", campaign: campaign.value.trim(), unmasked: true });
    return f;
  }, { label: t("segments.export") });
  return h("section", { class: "card seg-export", "aria-labelledby": "seg-export-h" },
    h("h2", { id: "seg-export-h" }, t("segments.export_title")),
    h("label", { class: "check" }, unmasked, t("segments.export_unmasked")),
    field(t("segments.campaign"), campaign),
    note,
    button);
}

export default {
  id: "segments",
  path: "/segments",
  title: "segments.title",
  nav: "nav.segments",
  roles: [HQ],
  async render(ctx) {
    const [levels, storeList, rules, saved, templates] = await Promise.all([
      get("/admin/loyalty/levels").then((x) => x.levels).catch(() => []),
      stores.list(),
      get("/admin/customers/tag-rules").then((x) => x.rules).catch(() => []),
      get("/admin/segments").then((x) => x.items),
      get("/admin/coupon-templates").then((x) => x.items.filter((c) => !c.status || c.status === "active")).catch(() => []),
    ]);
    const tagNames = [...new Set(rules.map((r) => r.tag))];
    let allSpend = null;
    const opened = ctx.query.id ? saved.find((x) => x.segment_id === ctx.query.id) : null;
    let count = null;
    const form = filterForm(levels, storeList, tagNames, () => count.soon());
    const currentFilter = () => form.filter();
    count = counter(ctx, currentFilter, () => allSpend);
    if (opened) form.set(opened.filter);

    // Saving: a new name creates one; the opened segment can be saved over.
    const name = h("input", { name: "segment_name", maxlength: "80", value: opened ? opened.name : "" });
    const saveNew = h("button", { type: "button", class: "primary" }, t("segments.save_new"));
    const saveOver = opened ? h("button", { type: "button" }, t("segments.save_over", { name: opened.name })) : null;
    const saveMessages = slot({ "data-testid": "segment-save-messages" });
    const save = (button, method, path) => busy(button, saveMessages, async () => {
      if (!name.value.trim()) throw new Error(t("segments.no_name"));
      const body = { name: name.value.trim(), filter: currentFilter() };
      const s = method === "POST" ? await post(path, body) : await request("PUT", path, { body });
      ctx.navigate("/segments", { id: s.segment_id });
    });
    saveNew.addEventListener("click", () => save(saveNew, "POST", "/admin/segments"));
    saveOver?.addEventListener("click", () => save(saveOver, "PUT", `/admin/segments/${encodeURIComponent(opened.segment_id)}`));

    const savedMessages = slot();
    const savedTable = table(t("segments.saved"), [
      { label: t("segments.name"), cell: (x) => (opened && x.segment_id === opened.segment_id ? h("strong", {}, x.name) : x.name) },
      { label: t("segments.updated"), cell: (x) => dateTime(x.updated_at) },
      { label: t("segments.by"), cell: (x) => x.created_by },
      {
        label: t("common.actions"),
        cell: (x) => h("div", { class: "actions" },
          h("button", { type: "button", "aria-label": t("segments.open_named", { name: x.name }), onclick: () => ctx.navigate("/segments", { id: x.segment_id }) }, t("segments.open")),
          h("button", {
            type: "button", class: "danger", "aria-label": t("segments.delete_named", { name: x.name }),
            onclick: (e) => {
              if (!window.confirm(t("segments.delete_confirm", { name: x.name }))) return;
              busy(e.currentTarget, savedMessages, async () => {
                await request("DELETE", `/admin/segments/${encodeURIComponent(x.segment_id)}`);
                ctx.navigate("/segments", opened && opened.segment_id !== x.segment_id ? { id: opened.segment_id } : {});
              });
            },
          }, t("segments.delete"))),
      },
    ], saved, { empty: t("segments.none_saved") });

    // The whole base once (the empty filter), for the segment's share of spend.
    try {
      allSpend = (await post("/admin/segments/count", { filter: {} })).spend_fen;
    } catch (err) {
      if (err.code === "no_snapshot") {
        return h("section", {}, h("h1", {}, t("segments.title")), errorBox(err),
          h("p", {}, h("a", { href: "#/customers" }, t("segments.to_overview"))));
      }
      throw err;
    }
    await count.now();
    return h("section", { class: "segments-page" },
      h("h1", {}, opened ? t("segments.title_named", { name: opened.name }) : t("segments.title")),
      h("p", { class: "muted" }, t("segments.intro")),
      h("div", { class: "seg-layout" },
        form.node,
        h("section", { class: "card seg-count", "aria-labelledby": "seg-count-h" },
          h("h2", { id: "seg-count-h" }, t("segments.count_title")), count.node)),
      h("section", { class: "card", "aria-labelledby": "seg-save-h" },
        h("h2", { id: "seg-save-h" }, t("segments.save_title")),
        h("div", { class: "row" }, field(t("segments.name"), name), saveNew, saveOver),
        saveMessages),
      h("section", { "aria-labelledby": "seg-saved-h" }, h("h2", { id: "seg-saved-h" }, t("segments.saved")), savedMessages, savedTable),
      actionsSection(ctx, currentFilter, templates),
      exportSection(currentFilter));
  },
};
