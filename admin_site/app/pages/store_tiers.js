import { get, post, request } from "../api.js";
import { chartCard, grid, loadECharts } from "../charts.js";
import { badge, busy, errorBox, field, h, okBox, slot, table } from "../dom.js";
import { today } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, homeStore, isHq } from "../session.js";

// 门店 TOP 分级: each store's T (time online), O (order penetration) and P (punctuality)
// for a month, its tier (S/A/B/C by head office's thresholds) and why (the inputs); a
// store's history as a chart; head office enters a month's total transactions, sets the
// thresholds and scores a month again. The API decides who sees which store (a manager:
// their own). docs/campaigns.md "Store TOP tiers".
export const TIERS = ["S", "A", "B", "C"];
const TONES = { S: "ok", A: "ok", B: "warn", C: "bad" };
const LEVEL = { S: 4, A: 3, B: 2, C: 1 };

/** A figure in basis points as a percent ("95.1%"), or "unknown". */
export function pct(bp) {
  return bp === null || bp === undefined ? t("tiers.unknown") : `${(bp / 100).toFixed(1)}%`;
}

export function tierBadge(tier) {
  return h("span", { class: "tier-badge", "data-tier": tier }, badge(tier, TONES[tier]));
}

function why(row) {
  const i = row.inputs;
  const parts = [
    t("tiers.why_t", { up: i.up_slots, open: i.open_slots }),
    i.transactions === null ? t("tiers.why_o_unknown", { orders: i.orders }) : t("tiers.why_o", { orders: i.orders, total: i.transactions }),
    t("tiers.why_p", { on_time: i.on_time, timed: i.timed }),
  ];
  if (row.unknown.length) parts.push(t("tiers.decided_on", { known: ["t", "o", "p"].filter((n) => !row.unknown.includes(n)).map((n) => n.toUpperCase()).join(", ") || "—" }));
  return h("small", { class: "muted tier-why" }, parts.join(" · "));
}

function lastMonth() {
  const [y, m] = today().slice(0, 7).split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

function transactionsForm(month, row, saved) {
  const input = h("input", {
    type: "number", min: "0", max: "10000000", step: "1", required: true, class: "short",
    value: row.inputs.transactions ?? "", "aria-label": t("tiers.transactions_for", { store: row.name }),
  });
  const button = h("button", { type: "submit" }, t("common.save"));
  const messages = slot();
  return h("form", {
    class: "tier-transactions",
    onsubmit: (e) => {
      e.preventDefault();
      busy(button, messages, async () => {
        await request("PUT", `/admin/store-tiers/${encodeURIComponent(row.store_id)}/transactions/${month}`, { body: { transactions: Number(input.value) } });
        saved();
      });
    },
  }, input, button, messages);
}

/** A store's months as a chart: T, O, P in percent (lines) and the tier (a step line on
 * its own axis, C..S). */
export function historyChart(history, name = "tier-history") {
  const months = history.months.map((m) => m.month);
  const line = (key, label) => ({ type: "line", name: label, data: history.months.map((m) => (m[key] === null ? null : m[key] / 100)), connectNulls: false });
  const summary = history.months.map((m) => `${m.month}: ${m.tier}`).join("; ");
  return chartCard(name, t("tiers.history_of", { store: history.name }), {
    grid: { ...grid, top: 40 },
    legend: { top: 0 },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: months },
    yAxis: [
      { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      { type: "value", min: 1, max: 4, interval: 1, axisLabel: { formatter: (v) => ({ 1: "C", 2: "B", 3: "A", 4: "S" })[v] || "" } },
    ],
    series: [
      line("t_bp", "T"), line("o_bp", "O"), line("p_bp", "P"),
      { type: "line", step: "middle", name: t("tiers.tier"), yAxisIndex: 1, data: history.months.map((m) => LEVEL[m.tier]) },
    ],
  }, summary, () => ({
    filename: `store_tiers_${history.store_id}.csv`,
    header: [t("tiers.month"), t("tiers.tier"), "T", "O", "P"],
    rows: history.months.map((m) => [m.month, m.tier, pct(m.t_bp), pct(m.o_bp), pct(m.p_bp)]),
  }));
}

async function historySection(storeId) {
  const [history] = await Promise.all([get(`/admin/store-tiers/${encodeURIComponent(storeId)}`), loadECharts()]);
  return h("div", { "data-testid": "tier-history" }, historyChart(history));
}

function settingsForm(ctx, current) {
  const inputs = {};
  const rows = ["S", "A", "B"].map((tier) => h("tr", {},
    h("th", { scope: "row" }, tier),
    ...["t", "o", "p"].map((k) => {
      const input = h("input", { type: "number", min: "0", max: "100", step: "1", required: true, class: "short", value: String(current[tier][k]), "aria-label": `${tier} ${k.toUpperCase()}`, name: `${tier}-${k}` });
      inputs[`${tier}-${k}`] = input;
      return h("td", {}, input);
    })));
  const button = h("button", { type: "submit", class: "primary" }, t("common.save"));
  const messages = slot({ "data-testid": "tier-settings-messages" });
  return h("form", {
    class: "card",
    "aria-labelledby": "tier-settings-h",
    onsubmit: (e) => {
      e.preventDefault();
      const body = {};
      for (const tier of ["S", "A", "B"]) body[tier] = Object.fromEntries(["t", "o", "p"].map((k) => [k, Number(inputs[`${tier}-${k}`].value)]));
      busy(button, messages, async () => {
        await request("PUT", "/admin/store-tiers/settings", { body });
        messages.show(okBox(t("tiers.settings_saved")));
        ctx.rerender();
      });
    },
  },
  h("h2", { id: "tier-settings-h" }, t("tiers.settings")),
  h("p", { class: "muted" }, t("tiers.settings_intro")),
  h("table", { class: "tier-thresholds" },
    h("thead", {}, h("tr", {}, h("th", {}, t("tiers.tier")), h("th", {}, t("tiers.t")), h("th", {}, t("tiers.o")), h("th", {}, t("tiers.p")))),
    h("tbody", {}, ...rows)),
  h("div", { class: "actions" }, button), messages);
}

export default {
  id: "store-tiers",
  path: "/store-tiers",
  title: "tiers.title",
  nav: "nav.store_tiers",
  group: "stores",
  roles: [HQ, MANAGER],
  async render(ctx) {
    // by default the last month scored (this month's figures are provisional)
    const month = /^\d{4}-\d{2}$/.test(ctx.query.month || "") ? ctx.query.month : lastMonth();
    const hq = isHq();
    const page = await get("/admin/store-tiers", { month });
    const chosen = ctx.query.store || (hq ? page.stores[0]?.store_id : homeStore());
    const monthInput = h("input", { type: "month", value: month, "aria-label": t("tiers.month") });
    monthInput.addEventListener("change", () => monthInput.value && ctx.navigate("/store-tiers", { month: monthInput.value }));
    const columns = [
      { label: t("common.store"), cell: (r) => h("a", { href: `#/store-tiers?month=${month}&store=${encodeURIComponent(r.store_id)}` }, r.name) },
      { label: t("tiers.tier"), cell: (r) => h("span", {}, tierBadge(r.tier), r.provisional ? h("small", { class: "muted" }, ` ${t("tiers.provisional")}`) : null) },
      { label: t("tiers.t"), num: true, cell: (r) => pct(r.t_bp) },
      { label: t("tiers.o"), num: true, cell: (r) => pct(r.o_bp) },
      { label: t("tiers.p"), num: true, cell: (r) => pct(r.p_bp) },
      { label: t("tiers.why"), cell: why },
      ...(hq ? [{ label: t("tiers.transactions"), cell: (r) => transactionsForm(month, r, () => ctx.rerender()) }] : []),
    ];
    const scoreButton = h("button", { type: "button" }, t("tiers.score_now"));
    const scoreMessages = slot({ "data-testid": "tier-score-messages" });
    scoreButton.addEventListener("click", () => busy(scoreButton, scoreMessages, async () => {
      const got = await post("/admin/store-tiers/score", { month });
      scoreMessages.show(okBox(t("tiers.scored", { n: got.scored, month })));
      ctx.rerender();
    }));
    let history;
    try {
      history = chosen ? await historySection(chosen) : null;
    } catch (err) {
      history = errorBox(err);
    }
    const settings = hq ? settingsForm(ctx, page.thresholds) : null;
    return h("section", {},
      h("h1", {}, t("tiers.title")),
      h("p", { class: "muted" }, t("tiers.intro")),
      h("div", { class: "row" }, field(t("tiers.month"), monthInput), hq ? scoreButton : null),
      scoreMessages,
      h("dl", { class: "summary", "data-testid": "tier-distribution" },
        ...TIERS.map((tier) => h("div", {}, h("dt", {}, tier), h("dd", {}, String(page.distribution[tier] ?? 0))))),
      h("div", { "data-testid": "tier-table" }, table(t("tiers.table", { month }), columns, page.stores, { empty: t("tiers.empty"), rowClass: () => "tier-row" })),
      history,
      settings);
  },
};

/** The month before `month` (YYYY-MM). */
export function previousMonth(month) {
  const [y, m] = month.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

/** The dashboard's card: one store's tier (last month scored, this month so far) and its
 * history; for head office's whole chain, last month's distribution of tiers. */
export async function dashboardTiers(storeId) {
  const link = h("a", { href: "#/store-tiers" }, t("tiers.open_page"));
  if (storeId) {
    const history = await get(`/admin/store-tiers/${encodeURIComponent(storeId)}`);
    const months = history.months;
    const now = months[months.length - 1];
    const last = months.length > 1 ? months[months.length - 2] : null;
    return h("section", { class: "card", "data-testid": "dashboard-tiers", "aria-labelledby": "dashboard-tiers-h" },
      h("h2", { id: "dashboard-tiers-h" }, t("tiers.dashboard_title")),
      h("p", {}, last ? h("span", {}, t("tiers.last_month", { month: last.month }), " ", tierBadge(last.tier)) : t("tiers.not_scored"),
        " · ", t("tiers.this_month"), " ", tierBadge(now.tier), " ", h("small", { class: "muted" }, t("tiers.provisional"))),
      historyChart(history, "dashboard-tier-history"), link);
  }
  const month = previousMonth(today().slice(0, 7));
  const page = await get("/admin/store-tiers", { month });
  const counts = TIERS.map((tier) => page.distribution[tier] ?? 0);
  return h("section", { class: "card", "data-testid": "dashboard-tiers", "aria-labelledby": "dashboard-tiers-h" },
    h("h2", { id: "dashboard-tiers-h" }, t("tiers.dashboard_title")),
    chartCard("dashboard-tier-distribution", t("tiers.distribution_of", { month }), {
      grid: { ...grid, top: 8 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: TIERS },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: t("tiers.stores"), data: counts, label: { show: true, position: "top" } }],
    }, TIERS.map((tier, i) => `${tier}: ${counts[i]}`).join("; ")),
    link);
}
