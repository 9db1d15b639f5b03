import { get, post } from "../api.js";
import { badge, busy, errorBox, field, h, slot, table } from "../dom.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { BACK_OFFICE } from "../session.js";
import * as stores from "../stores.js";
import { statusBadge } from "./orders.js";
import { outcomeBox, reprintOutcome } from "./print_monitor.js";

const PAID_STATES = ["paid", "picking", "picked", "checked_out", "out_for_delivery", "delivered", "ready_for_pickup", "completed"];

/** What `units` more missing units of a line refund: the same rule as the API
 * (kernel/money.refund_for_units): each unit's share of what the line paid, by largest
 * remainder, earlier units taking the extra fen. Shown before the pick is sent; the
 * order the API returns is what counts. */
export function refundForUnits(paidFen, bought, before, units) {
  const base = Math.floor(paidFen / bought);
  const extra = paidFen - base * bought; // the first `extra` units get one fen more
  let sum = 0;
  for (let i = before; i < before + units; i++) sum += base + (i < extra ? 1 : 0);
  return sum;
}

/** The order as label/value pairs, each pair one row of its own (dt and dd in one div):
 * however the grid wraps, a value sits beside its own label. The amounts are a list of
 * their own, one per line, read top to bottom like a receipt. */
function summary(order, tz) {
  const row = (key, label, value, { wide } = {}) =>
    h("div", { class: wide ? "wide" : null, dataset: { field: key } }, h("dt", {}, label), h("dd", {}, value));
  return h(
    "div",
    { class: "summary-cards" },
    h(
      "dl",
      { class: "summary card", "data-testid": "order-summary" },
      row("status", t("orders.status"), statusBadge(order.status)),
      row("seq", t("orders.seq"), order.daily_seq ? `#${order.daily_seq}` : "—"),
      row("fulfilment", t("orders.fulfilment"), t(`order.fulfilment.${order.fulfilment}`)),
      row("created", t("orders.created"), dateTime(order.created_at, tz)),
      row("paid_at", t("order.paid_at"), dateTime(order.paid_at, tz)),
      order.address ? row("address", t("order.address"), `${order.address.name} ${order.address.phone} · ${order.address.line}`, { wide: true }) : null,
      order.remark ? row("remark", t("order.remark"), order.remark, { wide: true }) : null,
    ),
    h(
      "dl",
      { class: "summary amounts card", "data-testid": "order-amounts" },
      row("subtotal", t("order.subtotal"), money(order.subtotal_fen)),
      row("discount", t("order.discount"), money(order.discount_fen)),
      row("delivery_fee", t("order.delivery_fee"), money(order.delivery_fee_fen)),
      row("total", t("orders.total"), money(order.total_fen)),
      row("paid", t("order.paid"), money(order.paid_fen)),
      row("refunded", t("orders.refunded"), h("strong", { "data-testid": "refunded" }, money(order.refunded_fen))),
    ),
  );
}

function linesTable(order) {
  return table(t("order.lines"), [
    { label: t("order.sku"), cell: (l) => l.sku },
    { label: t("order.product"), cell: (l) => l.name },
    { label: t("order.shelf"), cell: (l) => [l.zone, l.shelf].filter(Boolean).join(" · ") || "—" },
    { label: t("order.qty"), num: true, cell: (l) => `${l.qty} ${l.unit}` },
    { label: t("order.picked"), num: true, cell: (l) => (l.picked_qty === null || l.picked_qty === undefined ? "—" : String(l.picked_qty)) },
    { label: t("order.unit_price"), num: true, cell: (l) => money(l.unit_price_fen) },
    { label: t("order.line_paid"), num: true, cell: (l) => money(l.paid_fen) },
    { label: t("orders.refunded"), num: true, cell: (l) => (l.refunded_fen ? money(l.refunded_fen) : "—") },
  ], order.lines);
}

function timeline(order, tz) {
  return h(
    "ol",
    { class: "timeline card" },
    order.history.map((e) =>
      h(
        "li",
        {},
        h("span", { class: "when" }, dateTime(e.at, tz)),
        t(`order.action.${e.action}`),
        " → ",
        t(`order.status.${e.to_state}`),
        h("span", { class: "muted" }, ` · ${e.actor} (${t(`role.${e.role}`)})`),
        e.reason ? h("span", { class: "muted" }, ` · ${e.reason}`) : null,
      ),
    ),
  );
}

/** The pick form: one quantity per line, and the refund the shortage will cause. On a
 * paid order it says that picking need not be started on screen first. */
function pickForm(order, done, messages, fromPaid = false) {
  const inputs = order.lines.map((l) =>
    h("input", { type: "number", min: "0", max: String(l.qty), step: "1", value: String(l.qty), class: "short", "aria-label": t("order.picked_of", { name: l.name }), dataset: { sku: l.sku } }),
  );
  const preview = h("strong", { "data-testid": "refund-preview" });
  const update = () => {
    let fen = 0;
    order.lines.forEach((l, i) => {
      const picked = Math.max(0, Math.min(l.qty, Number(inputs[i].value) || 0));
      fen += refundForUnits(l.paid_fen, l.qty, l.refunded_units || 0, l.qty - picked);
    });
    preview.textContent = money(fen);
  };
  inputs.forEach((i) => i.addEventListener("input", update));
  update();
  const submit = h("button", { type: "submit", class: "primary" }, t("order.finish_picking"));
  return h(
    "form",
    {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        busy(submit, messages, async () => {
          const before = order.refunded_fen;
          const lines = order.lines.map((l, i) => ({ sku: l.sku, picked_qty: Number(inputs[i].value) }));
          const updated = await post(`/admin/orders/${order.order_id}/pick`, { lines });
          done(updated.refunded_fen > before ? t("order.picked_with_refund", { amount: money(updated.refunded_fen - before) }) : t("order.picked_ok"));
        });
      },
    },
    h("h2", {}, t("order.pick_title")),
    fromPaid ? h("p", { class: "muted" }, t("order.pick_from_ticket")) : null,
    table(t("order.pick_title"), [
      { label: t("order.product"), cell: (l) => l.name },
      { label: t("order.shelf"), cell: (l) => [l.zone, l.shelf].filter(Boolean).join(" · ") || "—" },
      { label: t("order.qty"), num: true, cell: (l) => String(l.qty) },
      { label: t("order.picked"), num: true, cell: (l) => inputs[order.lines.indexOf(l)] },
    ], order.lines),
    h("p", {}, t("order.refund_preview"), " ", preview),
    submit,
  );
}

function returnForm(order, done, messages) {
  const inputs = order.lines.map((l) => {
    const left = l.qty - (l.refunded_units || 0);
    return h("input", { type: "number", min: "0", max: String(left), step: "1", value: "0", class: "short", "aria-label": t("order.return_of", { name: l.name }) });
  });
  const reason = h("input", { required: true, maxlength: "200" });
  // One key per form: a retry after a lost answer records the return once.
  const idempotencyKey = `admin-${order.order_id}-${Math.random().toString(36).slice(2, 12)}`;
  const submit = h("button", { type: "submit" }, t("order.record_return"));
  return h(
    "form",
    {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        busy(submit, messages, async () => {
          const lines = order.lines.map((l, i) => ({ sku: l.sku, units: Number(inputs[i].value) })).filter((l) => l.units > 0);
          await post(`/admin/orders/${order.order_id}/returns`, { lines, reason: reason.value.trim() }, {
            headers: { "Idempotency-Key": idempotencyKey },
          });
          done(t("order.return_recorded"));
        });
      },
    },
    h("h2", {}, t("order.return_title")),
    h("p", { class: "muted" }, t("order.return_hint")),
    table(t("order.return_title"), [
      { label: t("order.product"), cell: (l) => l.name },
      { label: t("order.qty"), num: true, cell: (l) => String(l.qty - (l.refunded_units || 0)) },
      { label: t("order.return_units"), num: true, cell: (l) => inputs[order.lines.indexOf(l)] },
    ], order.lines),
    field(t("order.reason"), reason),
    submit,
  );
}

function returnsList(returns, tz, act) {
  if (!returns.length) return null;
  const next = {
    awaiting_verification: ["verify", "reject"],
    verified: ["collect", "receive", "reject"],
  };
  return h(
    "section",
    {},
    h("h2", {}, t("order.returns")),
    table(t("order.returns"), [
      { label: t("order.return_id"), cell: (r) => r.return_id },
      { label: t("orders.status"), cell: (r) => badge(t(`return.status.${r.status}`)) },
      { label: t("order.product"), cell: (r) => r.lines.map((l) => `${l.name || l.sku} × ${l.units}`).join(", ") },
      { label: t("orders.refunded"), num: true, cell: (r) => (r.refund ? money(r.refund.amount_fen) : "—") },
      { label: t("orders.created"), cell: (r) => dateTime(r.created_at, tz) },
      { label: t("common.actions"), cell: (r) => (next[r.status] || []).map((a) => h("button", { type: "button", onclick: (e) => act(e.currentTarget, r, a) }, t(`return.action.${a}`))) },
    ], returns),
  );
}

const REFUND_TONE = { succeeded: "ok", pending: "warn", failed: "bad" };

/** Every refund of the order, oldest first: what a clerk reads out to a customer asking
 * whether the money came back. A failed refund stands out: head office must act. */
function refundsList(order, tz) {
  const refunds = [...(order.refunds || [])].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  const names = new Map(order.lines.map((l) => [l.sku, l.name]));
  const failed = refunds.some((r) => r.status === "failed");
  // issue 18: a re-evaluated discount's deduction, its own line under the refund
  const deductions = new Map((order.refund_deductions || []).map((d) => [d.refund_id, d.deduction]));
  return h(
    "section",
    { "data-testid": "order-refunds" },
    h("h2", {}, t("order.refunds")),
    failed ? h("p", { class: "msg error" }, t("order.refund_failed_note")) : null,
    // Not emptyState(): its role=status would compete with the page's action messages.
    !refunds.length ? h("p", { class: "muted" }, t("order.no_refunds")) : table(t("order.refunds"), [
      { label: t("order.refund_created"), cell: (r) => dateTime(r.created_at, tz) },
      { label: t("order.reason"), cell: (r) => t(`refund.reason.${r.reason}`) },
      {
        label: t("order.refund_amount"),
        num: true,
        cell: (r) => [
          h("strong", {}, money(r.amount_fen)),
          r.delivery_fee_fen ? h("small", { class: "muted fee-part" }, t("order.refund_fee_part", { amount: money(r.delivery_fee_fen) })) : null,
          // issue 18: a re-evaluated discount's deduction, as its own line
          deductions.has(r.refund_id) ? h("small", { class: "muted deduction", "data-testid": "refund-deduction" }, deductions.get(r.refund_id)) : null,
        ],
      },
      {
        label: t("order.product"),
        cell: (r) => (r.lines.length ? r.lines.map((l) => h("div", {}, [l.sku, names.get(l.sku)].filter(Boolean).join(" "), ` × ${l.units}`)) : "—"),
      },
      { label: t("orders.status"), cell: (r) => badge(t(`refund.status.${r.status}`), REFUND_TONE[r.status]) },
    ], refunds, { rowClass: (r) => (r.status === "failed" ? "refund-failed" : null) }),
  );
}

function printJobs(jobs, tz) {
  return table(t("order.print_jobs"), [
    { label: t("print.kind"), cell: (j) => t(`print.kind.${j.kind}`) },
    { label: t("orders.status"), cell: (j) => badge(t(`print.status.${j.status}`), j.status === "printed" ? "ok" : j.status === "missed" ? "bad" : "warn") },
    { label: t("print.copies"), cell: (j) => j.copies.map((c) => t(`print.copy.${c}`) + (j.acked_copies.includes(c) ? " ✓" : "")).join(" · ") },
    { label: t("orders.created"), cell: (j) => dateTime(j.created_at, tz) },
    { label: t("print.printed_at"), cell: (j) => dateTime(j.printed_at, tz) },
  ], jobs, { empty: t("order.no_print_jobs") });
}

export default {
  id: "order",
  section: "orders",
  path: "/orders/:orderId",
  title: "order.title",
  roles: BACK_OFFICE,
  async render(ctx) {
    const id = ctx.params.orderId;
    const messages = slot();
    const flash = sessionStorage.getItem("daojia.flash");
    if (flash) {
      sessionStorage.removeItem("daojia.flash");
      const tone = sessionStorage.getItem("daojia.flash_tone") || "ok";
      sessionStorage.removeItem("daojia.flash_tone");
      messages.show(outcomeBox({ text: flash, tone }));
    }
    const [order, jobs, returns] = await Promise.all([
      get(`/orders/${id}`),
      get(`/admin/orders/${id}/print-jobs`).then((r) => r.items),
      get(`/orders/${id}/returns`).then((r) => r.items).catch(() => []),
    ]);
    const tz = await stores.timezoneOf(order.store_id);
    const done = (text, tone = "ok") => {
      sessionStorage.setItem("daojia.flash", text);
      sessionStorage.setItem("daojia.flash_tone", tone);
      ctx.rerender();
    };
    const action = (label, work, opts = {}) =>
      h("button", {
        type: "button",
        class: opts.danger ? "danger" : "primary",
        onclick: (e) => busy(e.currentTarget, messages, async () => {
          if (opts.confirm && !window.confirm(opts.confirm)) return;
          await work();
          const outcome = opts.outcome ? await opts.outcome() : { text: t("order.done"), tone: "ok" };
          done(outcome.text, outcome.tone);
        }),
      }, label);

    const s = order.status;
    const buttons = [];
    const forms = [];
    // "Start picking" only claims the order on screen: the picker may work from the
    // printed ticket and record the result straight from paid (one request, not two).
    if (s === "paid") buttons.push(action(t("order.start_picking"), () => post(`/admin/orders/${id}/start-picking`)));
    if (s === "paid" || s === "picking") forms.push(pickForm(order, done, messages, s === "paid"));
    const checkout = (then) => post(`/admin/stores/${order.store_id}/checkout`, then ? { order_code: id, then } : { order_code: id });
    if (s === "picked" && order.fulfilment === "delivery") {
      buttons.push(action(t("order.checkout"), () => checkout()));
      buttons.push(action(t("order.checkout_dispatch"), () => checkout("dispatch")));
    }
    // A pickup order's checkout always puts it out for pickup: one button that says so.
    if (s === "picked" && order.fulfilment === "pickup") buttons.push(action(t("order.checkout_ready"), () => checkout("ready_for_pickup")));
    if (s === "checked_out" && order.fulfilment === "delivery") buttons.push(action(t("order.dispatch"), () => post(`/admin/orders/${id}/dispatch`)));
    if (s === "out_for_delivery") buttons.push(action(t("order.deliver"), () => post(`/admin/orders/${id}/deliver`)));
    if (s === "ready_for_pickup") {
      const code = h("input", { inputmode: "numeric", pattern: "\\d{6}", maxlength: "6", required: true, class: "short" });
      const submit = h("button", { type: "submit", class: "primary" }, t("order.hand_over"));
      forms.push(h("form", {
        class: "card row",
        onsubmit: (e) => {
          e.preventDefault();
          busy(submit, messages, async () => {
            await post(`/admin/stores/${order.store_id}/pickups`, { pickup_code: code.value.trim(), order_code: id });
            done(t("order.done"));
          });
        },
      }, field(t("order.pickup_code"), code), submit));
    }
    if (PAID_STATES.includes(s)) {
      buttons.push(action(t("order.reprint"), () => post(`/admin/orders/${id}/reprint`, { reason: t("order.reprint_reason") }), { outcome: () => reprintOutcome(order.store_id) }));
    }
    if (s === "paid" || s === "awaiting_payment") {
      buttons.push(action(t("order.cancel"), () => post(`/orders/${id}/cancel`, { reason: t("order.cancel_reason") }), { danger: true, confirm: t("order.cancel_confirm") }));
    }
    if (s === "completed") forms.push(returnForm(order, done, messages));

    const actOnReturn = (button, ret, verb) =>
      busy(button, messages, async () => {
        const body = verb === "reject" ? { reason: window.prompt(t("return.reject_reason")) || t("return.rejected_default") } : {};
        await post(`/admin/returns/${ret.return_id}/${verb}`, body);
        done(t("order.done"));
      });

    return h(
      "section",
      {},
      h("p", {}, h("a", { href: `#/orders?store=${order.store_id}` }, `← ${t("orders.title")}`)),
      h("h1", {}, t("order.heading", { id: order.order_id, store: await stores.nameOf(order.store_id) })),
      messages,
      buttons.length ? h("div", { class: "actions", role: "group", "aria-label": t("common.actions") }, buttons) : null,
      forms,
      summary(order, tz),
      h("h2", {}, t("order.lines")),
      linesTable(order),
      refundsList(order, tz),
      returnsList(returns, tz, actOnReturn),
      h("h2", {}, t("order.timeline")),
      timeline(order, tz),
      h("h2", {}, t("order.print_jobs")),
      printJobs(jobs, tz),
    );
  },
};
