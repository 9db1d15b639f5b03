// Draft, approve, simulate (issue 18 item 5): the status column and the workflow buttons
// of the promotions and coupons pages. docs/promotions.md, "Draft, approval and simulation".
import { get, post, request } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, slot } from "../dom.js";
import { money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { session } from "../session.js";

const DRAFTS = ["draft", "pending"];
const me = () => session()?.staff?.username;

/** Draft / Pending (n of m) / Active; other states are left to the page's own badge. */
export function workflowBadge(x) {
  if (!DRAFTS.includes(x.status)) return badge(t("workflow.status.active"), "ok");
  const n = `${x.approvals.length}/${x.approvals_needed}`;
  return badge(`${t(`workflow.status.${x.status}`)} ${n}`, "warn");
}

/** Approve / Reject buttons of a draft, and Simulate where the page gives `showSimulation`
 * (it places the dialog); Approve is disabled for someone who approved it already (a
 * second approval must be someone else's). */
export function workflowButtons(x, path, messages, rerender, showSimulation) {
  if (!DRAFTS.includes(x.status)) return null;
  const mine = x.approvals.some((a) => a.by === me());
  return [
    " ",
    h("button", { type: "button", "data-testid": "approve", disabled: mine, onclick: (e) => busy(e.currentTarget, messages, async () => {
      await post(`${path}/approve`, { expected_version: x.version });
      rerender();
    }) }, t("workflow.approve")),
    " ",
    h("button", { type: "button", class: "danger", onclick: (e) => busy(e.currentTarget, messages, async () => {
      const reason = window.prompt(t("workflow.reject_reason"));
      if (!reason) return;
      await post(`${path}/reject`, { reason, expected_version: x.version });
      rerender();
    }) }, t("workflow.reject")),
    showSimulation ? [" ", simulateButton(x, path, messages, showSimulation)] : null,
  ];
}

/** "store sku qty" per line, a blank line between carts. */
function parseCarts(text) {
  return text.split(/\n\s*\n/).map((block) => {
    const rows = block.split("\n").map((r) => r.trim().split(/\s+/)).filter((r) => r.length === 3);
    return rows.length ? { store_id: rows[0][0], lines: rows.map(([, sku, qty]) => ({ sku, qty: Number(qty) })) } : null;
  }).filter(Boolean);
}

/** The simulation's figures (the same for a promotion and a coupon template). */
function simulationFigures(r) {
  return h("dl", {},
    h("dt", {}, t("workflow.carts_changed")), h("dd", {}, `${r.carts_changed} / ${r.carts}`),
    h("dt", {}, t("workflow.discount_cost")), h("dd", {}, money(r.discount_cost_fen)),
    h("dt", {}, t("workflow.margin")), h("dd", {}, `${money(r.margin_before_fen)} → ${money(r.margin_after_fen)}` + (r.lines_without_cost ? ` (${t("workflow.without_cost", { n: r.lines_without_cost })})` : "")),
    h("dt", {}, t("workflow.by_funder")), h("dd", {}, Object.entries(r.by_funder).map(([k, v]) => `${k} ${money(v)}`).join(", ") || "—"));
}

function simulateButton(x, path, messages, show) {
  return h("button", { type: "button", "data-testid": "simulate", onclick: () => {
    const carts = h("textarea", { rows: 6, "aria-label": t("workflow.carts"), placeholder: "sh-jingan 100001 3" });
    const out = h("div", { "data-testid": "simulation" });
    const simulate = (body) => (e) => busy(e.currentTarget, messages, async () => {
      out.replaceChildren(simulationFigures(await post(`${path}/simulate`, body())));
    });
    const run = h("button", { type: "button", "data-testid": "simulate-run", onclick: simulate(() => ({ carts: parseCarts(carts.value) })) }, t("workflow.simulate"));
    const lastWeek = h("button", { type: "button", "data-testid": "simulate-last-week", onclick: simulate(() => ({ source: "last_week" })) }, t("workflow.simulate_last_week"));
    show(h("section", { "data-testid": "simulate-dialog" }, h("h2", {}, `${t("workflow.simulate")}: ${x.name}`), carts, h("div", { class: "row" }, run, " ", lastWeek), out));
  } }, t("workflow.simulate"));
}

/** Head office's approval threshold (GET/PUT /admin/approval-settings): budgets above it
 * need two approvers. A card of the promotions page; saved with the version shown, so a
 * change someone else saved meanwhile is refused (409) rather than overwritten. */
export async function approvalSettingsCard() {
  const messages = slot();
  let settings;
  try {
    settings = await get("/admin/approval-settings");
  } catch (err) {
    return errorBox(err);
  }
  const amount = h("input", { inputmode: "decimal", required: true, value: yuanInput(settings.two_approvers_above_fen), "data-testid": "approval-threshold" });
  const save = h("button", { type: "submit" }, t("common.save"));
  const hint = () => t("workflow.threshold_hint", { fen: money(settings.default_fen) }) + (settings.is_default ? ` ${t("workflow.threshold_default")}` : "");
  const note = h("p", { class: "muted" }, hint());
  return h("form", {
    class: "card",
    "data-testid": "approval-settings",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const fen = parseYuan(amount.value);
        if (fen === null) throw new Error(t("common.bad_amount", { field: t("workflow.threshold") }));
        settings = await request("PUT", "/admin/approval-settings", { body: { two_approvers_above_fen: fen, expected_version: settings.version } });
        note.textContent = hint();
        messages.show(okBox(t("workflow.threshold_saved", { amount: money(settings.two_approvers_above_fen) })));
      });
    },
  },
  h("h2", {}, t("workflow.settings_title")),
  note,
  h("div", { class: "row" }, field(t("workflow.threshold"), amount, t("common.in_yuan")), save),
  messages);
}
