import { get, post } from "../api.js";
import { chartCard, grid, loadECharts } from "../charts.js";
import { busy, errorBox, h, okBox, slot } from "../dom.js";
import { today } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

// 客户洞察: the customer overview (GET /admin/customers/overview), all from the nightly
// segments snapshot (docs/segments.md "Segments"): members and those with orders, members
// by lifecycle stage (today's) and by RFM group, the 20/80 curve, new members per day by
// source; "refresh now" asks the worker for a new snapshot (POST /admin/segments/refresh)
// and polls its state. Head office only.
export const STAGES = ["joining", "awakening", "churn_recall", "dormant", "lost"];
export const RFM_GROUPS = [
  "important_value", "important_recall", "important_develop", "important_retain",
  "potential", "new", "maintain", "lost", "no_orders",
];
export const SOURCES = ["store", "shelf", "staff", "campaign", "ticket", "invite"];
const POLL_MS = 1500;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (x) => `${(x * 100).toFixed(1)}%`;

/** A source kind's label; "unknown" (not recorded) and any kind the site does not know
 * show as such. */
export function sourceLabel(kind) {
  const key = `members.source.${kind}`;
  const text = t(key);
  return text === key ? t("customers.source_unknown", { kind }) : text;
}

function countBars(name, title, keys, labelOf, counts) {
  const rows = keys.map((k) => [k, labelOf(k), counts[k] || 0]);
  const shown = [...rows].reverse(); // the first on top
  return chartCard(name, title, {
    grid: { ...grid, top: 8, right: 56 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: shown.map((r) => r[1]), axisLabel: { width: 130, overflow: "truncate" } },
    series: [{ type: "bar", name: title, data: shown.map((r) => r[2]), label: { show: true, position: "right" } }],
  }, rows.map((r) => `${r[1]}: ${r[2]}`).join("; "), () => ({
    filename: `${name}_${today()}.csv`,
    header: [t("customers.group"), t("customers.members")],
    rows: rows.map((r) => [r[1], r[2]]),
  }));
}

function paretoChart(p) {
  const title = t("customers.pareto_title", { share: pct(p.top20_share) });
  return chartCard("pareto", title, {
    grid: { ...grid, top: 16, right: 24 },
    tooltip: { trigger: "axis", valueFormatter: (v) => `${Number(v).toFixed(1)}%` },
    xAxis: { type: "value", min: 0, max: 100, name: t("customers.pareto_x"), nameLocation: "middle", nameGap: 28, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{
      type: "line", name: t("customers.pareto_y"), data: p.curve, showSymbol: false, areaStyle: { opacity: 0.15 },
      markLine: { symbol: "none", silent: true, data: [{ xAxis: 20 }], label: { formatter: "20%" } },
    }],
  }, t("customers.pareto_summary", { share: pct(p.top20_share) }), () => ({
    filename: `pareto_${today()}.csv`,
    header: [t("customers.pareto_x"), t("customers.pareto_y")],
    rows: p.curve.map(([x, y]) => [x, y]),
  }));
}

function newMembersChart(list) {
  const days = [...new Set(list.map((r) => r.day))].sort();
  const kinds = [...new Set(list.map((r) => r.source_kind))].sort();
  const at = new Map(list.map((r) => [`${r.day}|${r.source_kind}`, r.members]));
  const total = list.reduce((n, r) => n + r.members, 0);
  return chartCard("new_members", t("customers.new_members"), {
    grid: { ...grid, top: 40 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, type: "scroll" },
    xAxis: { type: "category", data: days.map((d) => d.slice(5)) },
    yAxis: { type: "value", minInterval: 1 },
    series: kinds.map((k) => ({ type: "bar", stack: "members", name: sourceLabel(k), data: days.map((d) => at.get(`${d}|${k}`) || 0) })),
  }, t("customers.new_members_summary", { n: total, days: days.length }), () => ({
    filename: `new_members_${today()}.csv`,
    header: [t("charts.day"), ...kinds.map(sourceLabel)],
    rows: days.map((d) => [d, ...kinds.map((k) => at.get(`${d}|${k}`) || 0)]),
  }));
}

/** "Refresh now": queue a snapshot, then poll its state until it ends; `done` redraws. */
function refreshControl(ctx, done) {
  const button = h("button", { type: "button", "data-testid": "segments-refresh" }, t("customers.refresh"));
  const state = slot({ "data-testid": "segments-refresh-state" });
  button.addEventListener("click", () => busy(button, state, async () => {
    let r = await post("/admin/segments/refresh", {});
    state.show(h("p", { class: "muted", role: "status" }, t(`customers.refresh_state.${r.state}`)));
    while (r.state === "queued" || r.state === "running") {
      await wait(POLL_MS);
      if (!button.isConnected || !ctx.isCurrent()) return;
      r = await get("/admin/segments/refresh");
      state.show(h("p", { class: "muted", role: "status" }, t(`customers.refresh_state.${r.state}`)));
    }
    if (r.state === "succeeded") {
      await done();
      state.show(okBox(t("customers.refreshed", { as_of: r.as_of, n: r.members })));
    } else {
      state.show(h("div", { class: "msg error", role: "alert" }, t("customers.refresh_state.failed"), " ", r.error || ""));
    }
  }));
  return { button, state };
}

export default {
  id: "customers",
  path: "/customers",
  title: "customers.title",
  nav: "nav.customers",
  roles: [HQ],
  async render(ctx) {
    const body = slot({ "data-testid": "customers-overview" });
    const load = async () => {
      try {
        const [o] = await Promise.all([get("/admin/customers/overview"), loadECharts()]);
        if (!ctx.isCurrent()) return;
        const facts = [
          [t("customers.as_of"), o.as_of, "as_of"],
          [t("customers.members"), String(o.members), "members"],
          [t("customers.with_orders"), String(o.with_orders), "with_orders"],
          [t("customers.top20"), pct(o.pareto.top20_share), "top20"],
        ];
        body.show(
          h("dl", { class: "summary", "data-testid": "customers-facts" },
            facts.map(([label, value, id]) => h("div", { dataset: { fact: id } }, h("dt", {}, label), h("dd", {}, value)))),
          h("div", { class: "charts" },
            countBars("lifecycle", t("customers.by_lifecycle"), STAGES, (k) => t(`segments.stage.${k}`), o.by_lifecycle),
            countBars("rfm", t("customers.by_rfm"), RFM_GROUPS, (k) => t(`segments.rfm.${k}`), o.by_rfm),
            paretoChart(o.pareto),
            newMembersChart(o.new_members)),
          h("p", { class: "muted" }, t("customers.cutoffs", {
            r: o.rfm_cutoffs.recency_days.join(" / "),
            f: o.rfm_cutoffs.frequency_orders.join(" / "),
          })),
        );
      } catch (err) {
        if (ctx.isCurrent()) body.show(errorBox(err));
      }
    };
    const refresh = refreshControl(ctx, load);
    await load();
    return h("section", {},
      h("div", { class: "row" }, h("h1", {}, t("customers.title")), h("div", { class: "spacer" }), refresh.button),
      h("p", { class: "muted" }, t("customers.intro"), " ", h("a", { href: "#/segments" }, t("customers.to_segments"))),
      refresh.state,
      body);
  },
};
