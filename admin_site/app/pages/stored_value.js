// Stored value (储值), head office: the top-up bonus tiers and the cap per member, the
// outstanding liability per store, and a member's balance and ledger with adjustments
// (a reason is required; the API audits them).
import { get, post, request } from "../api.js";
import { busy, field, h, okBox, slot, table } from "../dom.js";
import { columnsTable, exportButton, tableExportButton, yuanCell } from "../export.js";
import { dateTime, money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

/** "-12.34" / "12" -> signed fen, or null when it is not an amount. */
function parseSignedYuan(text) {
  const s = String(text ?? "").trim();
  const negative = s.startsWith("-");
  const fen = parseYuan(negative ? s.slice(1) : s);
  return fen === null ? null : negative ? -fen : fen;
}

function settingsCard(settings, rerender) {
  const rows = h("div", { class: "stack", "data-testid": "sv-tiers" });
  const addTier = (tier) => {
    const min = h("input", { inputmode: "decimal", required: true, value: tier ? yuanInput(tier.min_fen) : "", "data-role": "min" });
    const bonus = h("input", { inputmode: "decimal", required: true, value: tier ? yuanInput(tier.bonus_fen) : "", "data-role": "bonus" });
    const remove = h("button", { type: "button", onclick: () => row.remove() }, t("sv.tier_remove"));
    const row = h("div", { class: "row" }, field(t("sv.tier_min"), min), field(t("sv.tier_bonus"), bonus), remove);
    rows.append(row);
  };
  settings.tiers.forEach(addTier);
  const cap = h("input", { inputmode: "decimal", required: true, value: yuanInput(settings.cap_fen), "data-testid": "sv-cap" });
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("sv.save"));
  const submit = (e) => {
    e.preventDefault();
    busy(save, messages, async () => {
      const tiers = [...rows.children].map((row) => ({
        min_fen: parseYuan(row.querySelector("[data-role=min]").value),
        bonus_fen: parseYuan(row.querySelector("[data-role=bonus]").value),
      }));
      const capFen = parseYuan(cap.value);
      if (capFen === null || tiers.some((x) => x.min_fen === null || x.bonus_fen === null)) {
        throw new Error(t("sv.bad_amount"));
      }
      await request("PUT", "/admin/stored-value/settings", {
        body: { tiers, cap_fen: capFen, trial_threshold_fen: settings.trial_threshold_fen, version: settings.version },
      });
      rerender();
    });
  };
  return h("form", { class: "card", onsubmit: submit },
    h("h2", {}, t("sv.settings")),
    h("p", { class: "hint" }, t("sv.tiers_hint")),
    rows,
    h("button", { type: "button", onclick: () => addTier(null) }, t("sv.tier_add")),
    field(t("sv.cap"), cap, t("sv.cap_hint")),
    h("div", { class: "row" }, save),
    messages,
    settings.updated_at ? h("p", { class: "hint" }, t("sv.updated", { when: dateTime(settings.updated_at), who: settings.updated_by || "—" })) : null,
  );
}

function liabilityCard(li) {
  const columns = [
    { label: t("sv.store"), cell: (r) => (r.store_id === "-" ? t("sv.no_store") : r.store_id) },
    { label: t("sv.principal"), num: true, cell: (r) => money(r.principal_fen), csv: (r) => yuanCell(r.principal_fen) },
    { label: t("sv.bonus"), num: true, cell: (r) => money(r.bonus_fen), csv: (r) => yuanCell(r.bonus_fen) },
    { label: t("sv.total"), num: true, cell: (r) => money(r.total_fen), csv: (r) => yuanCell(r.total_fen) },
  ];
  return h("div", { class: "card", "data-testid": "sv-liability" },
    h("div", { class: "row" },
      h("h2", {}, t("sv.liability")),
      h("div", { class: "spacer" }),
      tableExportButton(() => columnsTable("stored_value_liability", columns, li.stores), { name: "sv-liability" })),
    h("p", {}, t("sv.liability_total", { total: money(li.total_fen), principal: money(li.principal_fen), bonus: money(li.bonus_fen) })),
    table(t("sv.liability"), columns, li.stores, { empty: t("sv.liability_empty") }),
  );
}

function memberCard(ctx) {
  const phone = h("input", { type: "tel", inputmode: "numeric", pattern: "1[3-9]\\d{9}", maxlength: "11", required: true, value: ctx.query.phone || "" });
  const messages = slot();
  const result = slot({ "data-testid": "sv-member" });
  const submit = h("button", { type: "submit", class: "primary" }, t("sv.look_up"));
  const show = async (customerId) => {
    const base = `/admin/stored-value/members/${encodeURIComponent(customerId)}`;
    const [balance, entries] = await Promise.all([get(base), get(`${base}/entries`, { limit: 50 })]);
    const principal = h("input", { inputmode: "decimal", value: "0", "data-testid": "sv-adjust-principal" });
    const bonus = h("input", { inputmode: "decimal", value: "0", "data-testid": "sv-adjust-bonus" });
    const reason = h("input", { required: true, minlength: "2", maxlength: "200", "data-testid": "sv-adjust-reason" });
    const adjustMessages = slot();
    const adjust = h("button", { type: "submit", class: "primary" }, t("sv.adjust"));
    const requestId = `adj-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
    const onAdjust = (e) => {
      e.preventDefault();
      busy(adjust, adjustMessages, async () => {
        const p = parseSignedYuan(principal.value);
        const b = parseSignedYuan(bonus.value);
        if (p === null || b === null) throw new Error(t("sv.bad_amount"));
        await post(`${base}/adjustments`, { principal_fen: p, bonus_fen: b, reason: reason.value.trim(), request_id: requestId });
        await show(customerId);
        messages.show(okBox(t("sv.adjusted")));
      });
    };
    result.show(
      h("p", { "data-testid": "sv-balance" }, t("sv.balance_line", {
        id: customerId,
        balance: money(balance.balance_fen),
        principal: money(balance.principal_fen),
        bonus: money(balance.bonus_fen),
        withdrawable: money(balance.withdrawable_fen),
      })),
      table(t("sv.ledger"), [
        { label: t("sv.when"), cell: (e) => dateTime(e.created_at) },
        { label: t("sv.kind"), cell: (e) => t(`sv.kind.${e.kind}`) },
        { label: t("sv.principal"), num: true, cell: (e) => money(e.principal_fen) },
        { label: t("sv.bonus"), num: true, cell: (e) => money(e.bonus_fen) },
        { label: t("sv.reason"), cell: (e) => e.reason },
        { label: t("sv.order"), cell: (e) => (e.order_id ? h("a", { href: `#/orders/${e.order_id}` }, e.order_id) : "—") },
      ], entries.items, { empty: t("sv.ledger_empty") }),
      // The whole ledger, on the server (the page shows the latest 50).
      exportButton("stored_value_entries", () => ({ customer_id: customerId })),
      h("form", { class: "card", onsubmit: onAdjust },
        h("h3", {}, t("sv.adjust_title")),
        h("div", { class: "row" },
          field(t("sv.adjust_principal"), principal, t("sv.signed_hint")),
          field(t("sv.adjust_bonus"), bonus, t("sv.signed_hint")),
        ),
        field(t("sv.reason"), reason, t("sv.reason_hint")),
        h("div", { class: "row" }, adjust),
        adjustMessages,
      ),
    );
  };
  const lookUp = () =>
    busy(submit, messages, async () => {
      result.clear();
      const customer = await get("/admin/customers", { phone: phone.value.trim() });
      await show(customer.customer_id);
    });
  const form = h("form", { class: "row card", role: "search", onsubmit: (e) => { e.preventDefault(); lookUp(); } },
    field(t("sv.phone"), phone), submit);
  if (ctx.query.phone) lookUp();
  return h("div", {}, h("h2", {}, t("sv.member")), form, messages, result);
}

export default {
  id: "stored_value",
  path: "/stored-value",
  title: "sv.title",
  nav: "nav.stored_value",
  roles: [HQ],
  async render(ctx) {
    const [settings, li] = await Promise.all([
      get("/admin/stored-value/settings"),
      get("/admin/stored-value/liability"),
    ]);
    return h("section", {},
      h("h1", {}, t("sv.title")),
      liabilityCard(li),
      settingsCard(settings, ctx.rerender),
      memberCard(ctx),
    );
  },
};
