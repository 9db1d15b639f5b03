import { get, patch, request } from "../api.js";
import { badge, busy, errorBox, field, h, select, slot, table } from "../dom.js";
import { exportButton } from "../export.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, isHq } from "../session.js";
import * as stores from "../stores.js";

// 会员: the member list (GET /admin/members: search by phone, filter by source and
// registration dates; store managers see their home store's members, phones masked) and
// a member's profile (GET /admin/members/{id}) with recent orders and coupons; the QR
// codes members register through, with their counts (GET/PATCH /admin/members/qr-codes).
const SOURCES = ["store", "shelf", "staff", "campaign", "ticket", "invite"];
const FILTERS = ["phone", "level", "source_kind", "registered_from", "registered_to", "store_id", "tag"];

/** The level filter: head office picks from the programme's levels; a store manager
 * (who may not read the programme) types a level code. */
async function levelInput(value) {
  try {
    const settings = await get("/admin/loyalty/levels");
    const codes = settings.levels.map((lv) => [lv.code, `${lv.code} ${lv.name === lv.code ? "" : lv.name}`.trim()]);
    return select([["", t("members.level.all")], ...codes], value || "", { name: "level" });
  } catch {
    return h("input", { name: "level", pattern: "[A-Za-z0-9_\\-]{1,20}", maxlength: "20", placeholder: "V3", value: value || "" });
  }
}

const consent = (c) =>
  c ? badge(t(`members.consent.${c}`), c === "granted" ? "ok" : "bad") : h("span", { class: "muted" }, t("members.consent.none"));
const sourceLabel = (kind) => (kind ? t(`members.source.${kind}`) : "—");

const list = {
  id: "members",
  path: "/members",
  title: "members.title",
  nav: "nav.members",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const query = Object.fromEntries(FILTERS.filter((f) => ctx.query[f]).map((f) => [f, ctx.query[f]]));
    const inputs = {
      phone: h("input", { name: "phone", type: "tel", inputmode: "numeric", pattern: "1[3-9]\\d{9}", maxlength: "11", value: query.phone || "" }),
      level: await levelInput(query.level),
      source_kind: select([["", t("members.source.all")], ...SOURCES.map((s) => [s, t(`members.source.${s}`)])], query.source_kind || "", { name: "source_kind" }),
      registered_from: h("input", { name: "registered_from", type: "date", value: query.registered_from || "" }),
      registered_to: h("input", { name: "registered_to", type: "date", value: query.registered_to || "" }),
      // a manual tag (标签): goes with store, source and level, not phone or dates (422)
      tag: h("input", { name: "tag", maxlength: "20", value: query.tag || "" }),
    };
    if (isHq()) {
      const all = await stores.list();
      inputs.store_id = select([["", t("common.all_stores")], ...all.map((s) => [s.store_id, `${s.name} (${s.store_id})`])], query.store_id || "", { name: "store_id" });
    }
    const form = h("form", {
      class: "card",
      role: "search",
      onsubmit: (e) => {
        e.preventDefault();
        const next = {};
        for (const [name, input] of Object.entries(inputs)) if (input.value.trim()) next[name] = input.value.trim();
        ctx.navigate("/members", next);
      },
    },
    h("div", { class: "form-grid" },
      field(t("members.phone"), inputs.phone),
      field(t("members.level"), inputs.level),
      field(t("members.source"), inputs.source_kind),
      field(t("members.registered_from"), inputs.registered_from),
      field(t("members.registered_to"), inputs.registered_to),
      inputs.store_id ? field(t("common.store"), inputs.store_id) : null,
      field(t("members.tag"), inputs.tag)),
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary" }, t("members.search")), " ",
      h("a", { href: "#/members/qr-codes" }, t("members.qr.link"))));

    const results = slot({ "data-testid": "members" });
    const more = h("button", { type: "button", hidden: "" }, t("common.more"));
    const rows = [];
    let cursor = null;
    const columns = [
      { label: t("members.phone"), cell: (m) => m.phone },
      { label: t("members.nickname"), cell: (m) => m.nickname || "—" },
      { label: t("members.level"), cell: (m) => m.level || "—" },
      { label: t("members.home_store"), cell: (m) => m.home_store_id || "—" },
      { label: t("members.source"), cell: (m) => sourceLabel(m.source_kind) },
      { label: t("members.consent"), cell: (m) => consent(m.marketing_consent) },
      { label: t("members.registered"), cell: (m) => dateTime(m.registered_at) },
    ];
    const load = async () => {
      try {
        const page = await get("/admin/members", { ...query, limit: 50, ...(cursor ? { cursor } : {}) });
        rows.push(...page.items);
        cursor = page.next_cursor;
        more.hidden = !cursor;
        results.show(table(t("members.title"), columns, rows, {
          empty: t("members.empty"),
          onRowClick: (m) => ctx.navigate(`/members/${encodeURIComponent(m.customer_id)}`),
          rowLabel: (m) => t("members.open", { phone: m.phone }),
        }));
      } catch (err) {
        results.show(errorBox(err));
      }
    };
    more.addEventListener("click", load);
    await load();
    // The whole filtered list, on the server (head office full phones, managers masked).
    // (not by tag yet: the export's filters have no tag, so the button is not offered)
    const exporter = query.tag ? h("p", { class: "muted" }, t("members.tags.no_export")) : exportButton("members", () => query);
    return h("section", {}, h("h1", {}, t("members.title")), form, exporter, results, more);
  },
};

/** Level, points and stored value of a member (head office): one GET each, shown as
 * they arrive; a part that cannot be read says so instead of hiding the profile. */
function loyaltyCard(m) {
  const id = encodeURIComponent(m.customer_id);
  const part = (testid, heading, load) => {
    const body = slot({ "data-testid": testid });
    body.show(h("p", { class: "muted" }, t("common.loading")));
    load().then((nodes) => body.show(...nodes), (err) => body.show(errorBox(err)));
    return h("section", { class: "card", "aria-label": heading }, h("h2", {}, heading), body);
  };
  return h("div", {},
    part("member-level", t("members.level"), async () => {
      const lv = await get(`/admin/members/${id}/level`);
      return [
        facts([[t("members.level"), `${lv.level.code} ${lv.level.name}`], [t("members.growth"), String(lv.growth)]], "member-level-facts"),
        h("h3", {}, t("members.level_history")),
        h("div", { "data-testid": "member-level-history" }, table(t("members.level_history"), [
          { label: t("loyalty.at"), cell: (e) => dateTime(e.at) },
          { label: t("members.growth_change"), num: true, cell: (e) => (e.delta > 0 ? `+${e.delta}` : String(e.delta)) },
          { label: t("members.level"), cell: (e) => (e.level_to ? `${e.level_from || "—"} → ${e.level_to}` : "") },
          { label: t("members.reason"), cell: (e) => e.reason || e.entry_key },
        ], lv.history, { empty: t("members.no_level_history") })),
      ];
    }),
    part("member-points", t("members.points"), async () => {
      const b = await get(`/admin/members/${id}/points`);
      return [
        facts(["spendable", "pending", "locked", "debt"].map((k) => [t(`loyalty.${k}`), String(b[k])]), "member-points-facts"),
        h("a", { href: `#/loyalty/members/${id}` }, t("members.points_ledger_link")),
      ];
    }),
    part("member-stored-value", t("members.stored_value"), async () => {
      const b = await get(`/admin/stored-value/members/${id}`);
      return [
        facts([[t("sv.principal"), money(b.principal_fen)], [t("sv.bonus"), money(b.bonus_fen)], [t("sv.total"), money(b.balance_fen)]], "member-stored-value-facts"),
        m.phone ? h("a", { href: `#/stored-value?phone=${encodeURIComponent(m.phone)}` }, t("members.stored_value_link")) : null,
      ];
    }));
}

/** A definition list of label → value pairs (values may be nodes). */
function facts(pairs, testid = "member-facts") {
  return h("dl", { class: "summary", "data-testid": testid }, pairs.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, value ?? "—"))));
}

export const memberProfile = {
  id: "member",
  section: "members",
  path: "/members/:customerId",
  title: "members.profile",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const m = await get(`/admin/members/${encodeURIComponent(ctx.params.customerId)}`);
    const src = m.source || {};
    const where = [src.store_id, src.shelf && t("members.shelf", { shelf: src.shelf }), src.staff_username, src.campaign_id, src.order_id].filter(Boolean).join(" · ");
    return h("section", {},
      h("h1", {}, t("members.profile_of", { name: m.nickname || m.phone || m.customer_id })),
      m.erased ? h("p", { class: "muted" }, t("members.erased")) : null,
      h("section", { class: "card", "aria-labelledby": "member-profile" },
        h("h2", { id: "member-profile" }, t("members.profile")),
        facts([
          [t("members.id"), m.customer_id],
          [t("members.phone"), m.phone || "—"],
          [t("members.nickname"), m.nickname],
          [t("members.birthday"), m.birthday],
          [t("members.gender"), m.gender ? t(`members.gender.${m.gender}`) : null],
          [t("members.home_store"), m.home_store_id],
          [t("members.consent"), h("span", {}, consent(m.marketing_consent), m.consent_at ? ` ${dateTime(m.consent_at)} · ${m.consent_channel}` : "")],
          [t("members.source"), `${sourceLabel(src.kind)}${where ? ` · ${where}` : ""}`],
          [t("members.registered"), dateTime(m.registered_at)],
        ])),
      m.erased ? null : tagsCard(m),
      h("section", { class: "card", "aria-labelledby": "member-orders" },
        h("h2", { id: "member-orders" }, t("members.orders")),
        table(t("members.orders"), [
          { label: t("members.order"), cell: (o) => h("a", { href: `#/orders/${o.order_id}` }, o.order_id) },
          { label: t("common.store"), cell: (o) => o.store_id },
          { label: t("members.status"), cell: (o) => t(`order.status.${o.status}`) },
          { label: t("members.total"), num: true, cell: (o) => money(o.total_fen) },
          { label: t("members.when"), cell: (o) => dateTime(o.created_at) },
        ], m.recent_orders, { empty: t("members.no_orders") })),
      h("section", { class: "card", "aria-labelledby": "member-coupons" },
        h("h2", { id: "member-coupons" }, t("members.coupons")),
        table(t("members.coupons"), [
          { label: t("coupons.name"), cell: (c) => c.name },
          { label: t("members.status"), cell: (c) => t(`wallet.state.${c.state}`) },
          { label: t("members.valid_until"), cell: (c) => dateTime(c.valid_until) },
        ], m.coupons, { empty: t("members.no_coupons") })),
      // Head office sees the member's loyalty at a glance, with links to the full
      // ledgers (积分 page, 储值 page); store managers do not see ledgers.
      isHq() ? loyaltyCard(m) : null);
  },
};

/** The member's tags (标签): automatic ones (head office's rules, evaluated now) marked
 * as such, manual ones removable, and an input to add one (PUT is idempotent). */
function tagsCard(m) {
  const base = `/admin/members/${encodeURIComponent(m.customer_id)}/tags`;
  const body = slot({ "data-testid": "member-tags" });
  const input = h("input", { name: "new_tag", maxlength: "20", "aria-label": t("members.tags.new") });
  const problem = slot({ role: "alert" });
  const draw = async () => {
    try {
      const tags = await get(base);
      const chips = [
        ...tags.auto.map((tag) => h("li", { class: "tag auto", "data-tag": tag }, badge(tag, "muted"), " ", h("small", { class: "muted" }, t("members.tags.auto")))),
        ...tags.manual.map((mt) => h("li", { class: "tag manual", "data-tag": mt.tag },
          badge(mt.tag, "ok"), " ",
          h("button", {
            type: "button",
            class: "link",
            "aria-label": t("members.tags.remove", { tag: mt.tag }),
            onclick: async () => {
              try {
                await request("DELETE", `${base}/${encodeURIComponent(mt.tag)}`);
                await draw();
              } catch (err) {
                problem.show(errorBox(err));
              }
            },
          }, "×"))),
      ];
      body.show(chips.length ? h("ul", { class: "tags" }, chips) : h("p", { class: "muted" }, t("members.tags.none")));
    } catch (err) {
      body.show(errorBox(err));
    }
  };
  const add = h("form", {
    class: "row",
    onsubmit: async (e) => {
      e.preventDefault();
      const tag = input.value.trim();
      if (!tag) return;
      problem.show();
      try {
        await request("PUT", `${base}/${encodeURIComponent(tag)}`);
        input.value = "";
        await draw();
      } catch (err) {
        problem.show(errorBox(err));
      }
    },
  }, input, " ", h("button", { type: "submit" }, t("members.tags.add")));
  draw();
  return h("section", { class: "card", "aria-labelledby": "member-tags" },
    h("h2", { id: "member-tags" }, t("members.tags")), body, add, problem);
}

/** A QR code's link, with a button that copies it (the clipboard needs a secure page;
 * elsewhere the link is selected for a manual copy). */
function copyable(link) {
  const text = h("code", { class: "qr-link" }, link);
  const button = h("button", { type: "button", class: "small" }, t("members.qr.copy"));
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(link);
      button.textContent = t("members.qr.copied");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(text);
      const sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
  });
  return h("span", { class: "qr-copy" }, text, " ", button);
}

export const memberQrCodes = {
  id: "member-qr-codes",
  section: "members",
  path: "/members/qr-codes",
  title: "members.qr.title",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const { items } = await get("/admin/members/qr-codes");
    const messages = slot({ "data-testid": "qr-messages" });
    const hq = isHq();
    const toggle = (q) => {
      const button = h("button", { type: "button", class: q.active ? "danger small" : "small" },
        t(q.active ? "members.qr.switch_off" : "members.qr.switch_on"));
      button.addEventListener("click", () => busy(button, messages, async () => {
        await patch(`/admin/members/qr-codes/${encodeURIComponent(q.code)}`, { active: !q.active });
        ctx.rerender();
      }));
      return button;
    };
    const columns = [
      { label: t("members.qr.label"), cell: (q) => q.label },
      { label: t("members.source"), cell: (q) => sourceLabel(q.kind) },
      { label: t("common.store"), cell: (q) => [q.store_id, q.shelf, q.staff_username, q.campaign_id].filter(Boolean).join(" · ") || "—" },
      { label: t("members.qr.registered"), num: true, cell: (q) => String(q.registered) },
      { label: t("members.qr.state"), cell: (q) => badge(t(q.active ? "members.qr.active" : "members.qr.inactive"), q.active ? "ok" : "bad") },
      { label: t("members.qr.payload"), cell: (q) => copyable(q.link) },
      ...(hq ? [{ label: t("members.qr.action"), cell: toggle }] : []),
    ];
    return h("section", {},
      h("h1", {}, t("members.qr.title")),
      h("p", { class: "muted" }, t("members.qr.intro")),
      messages,
      h("div", { "data-testid": "qr-codes" }, table(t("members.qr.title"), columns, items, { empty: t("members.qr.empty") })));
  },
};

export default list;
