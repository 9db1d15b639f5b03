import { get, post, request } from "../api.js";
import { badge, busy, field, h, okBox, select, slot, table } from "../dom.js";
import { exportButton } from "../export.js";
import { dateTime } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

// Points settings (head office) and, in a member's context, their points ledger with an
// adjustment form. The members engineer's profile page links here (issue 14).

const KINDS = ["earn", "spend", "reverse", "return", "expire", "adjust", "mature", "repay"];
const TONE = { earn: "ok", return: "ok", adjust: "", spend: "", reverse: "warn", expire: "bad", mature: "", repay: "" };

function number(name, value, min, max) {
  return h("input", { type: "number", name, min: String(min), max: String(max), step: "1", required: true, value: String(value), inputmode: "numeric" });
}

export default {
  id: "loyalty",
  path: "/loyalty/points",
  title: "loyalty.title",
  nav: "nav.loyalty",
  roles: [HQ],
  async render(ctx) {
    const settings = await get("/admin/loyalty/points-settings");
    const inputs = {
      points_per_yuan: number("points_per_yuan", settings.points_per_yuan, 0, 100),
      expiry_policy: select(
        ["fixed_months", "end_of_next_year"].map((p) => [p, t(`loyalty.expiry.${p}`)]),
        settings.expiry_policy,
        { name: "expiry_policy" },
      ),
      expiry_months: number("expiry_months", settings.expiry_months, 1, 60),
      pending_days: number("pending_days", settings.pending_days, 0, 90),
      cash_points_per_yuan: number("cash_points_per_yuan", settings.cash_points_per_yuan, 1, 100000),
      cash_cap_percent: number("cash_cap_percent", settings.cash_cap_percent, 0, 100),
      allow_negative_adjustments: h("input", { type: "checkbox", name: "allow_negative_adjustments", checked: settings.allow_negative_adjustments }),
    };
    const messages = slot();
    const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
    const form = h(
      "form",
      {
        class: "card grid-form",
        "aria-labelledby": "points-settings",
        onsubmit: (e) => {
          e.preventDefault();
          busy(save, messages, async () => {
            const body = {};
            for (const [k, el] of Object.entries(inputs)) {
              body[k] = el.type === "checkbox" ? el.checked : el.tagName === "SELECT" ? el.value : Number(el.value);
            }
            await request("PUT", "/admin/loyalty/points-settings", { body });
            messages.show(okBox(t("loyalty.saved")));
          });
        },
      },
      h("h2", { id: "points-settings" }, t("loyalty.settings")),
      ...Object.entries(inputs).map(([k, el]) => field(t(`loyalty.field.${k}`), el, t(`loyalty.hint.${k}`))),
      h("div", { class: "row" }, save),
      messages,
    );
    const phone = h("input", { type: "tel", inputmode: "numeric", pattern: "1[3-9]\\d{9}", maxlength: "11", required: true });
    const found = slot();
    const look = h("button", { type: "submit" }, t("wallet.look_up"));
    const lookUp = h(
      "form",
      {
        class: "row card",
        role: "search",
        onsubmit: (e) => {
          e.preventDefault();
          busy(look, found, async () => {
            const customer = await get("/admin/customers", { phone: phone.value.trim() });
            ctx.navigate(`/loyalty/members/${encodeURIComponent(customer.customer_id)}`);
          });
        },
      },
      field(t("wallet.phone"), phone),
      look,
    );
    return h("section", {}, h("h1", {}, t("loyalty.title")), form, h("h2", {}, t("loyalty.member_points")), lookUp, found);
  },
};

/** A member's points: balance, ledger (newest first, more on demand), adjustment. */
export const memberPoints = {
  id: "loyalty-member",
  section: "loyalty",
  path: "/loyalty/members/:customerId",
  title: "loyalty.member_points",
  roles: [HQ],
  async render(ctx) {
    const id = ctx.params.customerId;
    const base = `/admin/members/${encodeURIComponent(id)}/points`;
    const balanceSlot = slot({ "data-testid": "points-balance" });
    const ledger = slot({ "data-testid": "points-ledger" });
    const more = slot();
    const rows = [];
    const showBalance = async () => {
      const b = await get(base);
      balanceSlot.show(
        h("dl", { class: "card facts" },
          ...["balance", "spendable", "pending", "locked", "debt"].map((k) => h("div", {}, h("dt", {}, t(`loyalty.${k}`)), h("dd", { "data-field": k }, String(b[k])))),
          h("div", {}, h("dt", {}, t("loyalty.next_expiry")),
            h("dd", {}, b.next_expiry_at ? t("loyalty.expiry_line", { points: b.next_expiry_points, at: dateTime(b.next_expiry_at) }) : "—"))),
      );
    };
    const render = () =>
      ledger.show(
        table(t("loyalty.ledger"), [
          { label: t("loyalty.at"), cell: (e) => dateTime(e.at) },
          { label: t("loyalty.kind"), cell: (e) => badge(t(`loyalty.kind.${KINDS.includes(e.kind) ? e.kind : "adjust"}`), TONE[e.kind]) },
          { label: t("loyalty.delta"), num: true, cell: (e) => (e.delta > 0 ? `+${e.delta}` : String(e.delta)) },
          { label: t("loyalty.balance_after"), num: true, cell: (e) => String(e.balance_after) },
          { label: t("loyalty.reason"), cell: (e) => [e.reason || "—", e.actor ? ` · ${e.actor}` : ""] },
          { label: t("wallet.order"), cell: (e) => (e.order_id ? h("a", { href: `#/orders/${e.order_id}` }, e.order_id) : "—") },
          { label: t("loyalty.lot_expiry"), cell: (e) => (e.expires_at ? dateTime(e.expires_at) : "—") },
        ], rows, { empty: t("loyalty.no_entries") }),
      );
    const loadPage = async (cursor) => {
      const page = await get(`${base}/entries`, cursor ? { cursor, limit: 20 } : { limit: 20 });
      rows.push(...page.items);
      render();
      more.show(page.cursor ? h("button", { type: "button", onclick: (e) => busy(e.target, more, () => loadPage(page.cursor)) }, t("loyalty.more")) : null);
    };
    const delta = h("input", { type: "number", name: "delta", step: "1", required: true, inputmode: "numeric" });
    const reason = h("input", { type: "text", name: "reason", required: true, maxlength: "200" });
    const messages = slot();
    const submit = h("button", { type: "submit", class: "primary" }, t("loyalty.adjust"));
    const adjust = h(
      "form",
      {
        class: "row card",
        "aria-labelledby": "points-adjust",
        onsubmit: (e) => {
          e.preventDefault();
          busy(submit, messages, async () => {
            const requestId = `adm-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
            await post(`${base}/adjustments`, { delta: Number(delta.value), reason: reason.value.trim(), request_id: requestId });
            delta.value = "";
            reason.value = "";
            messages.show(okBox(t("loyalty.adjusted")));
            rows.length = 0;
            await Promise.all([showBalance(), loadPage(null)]);
          });
        },
      },
      h("h2", { id: "points-adjust" }, t("loyalty.adjust")),
      field(t("loyalty.delta"), delta, t("loyalty.hint.delta")),
      field(t("loyalty.reason"), reason),
      submit,
    );
    await Promise.all([showBalance(), loadPage(null)]);
    // The whole ledger, on the server (the page loads it 20 at a time).
    const exporter = exportButton("points_entries", () => ({ customer_id: id }));
    return h("section", {}, h("h1", {}, t("loyalty.member_points"), " ", h("small", {}, id)), balanceSlot, adjust, messages, exporter, ledger, more);
  },
};
