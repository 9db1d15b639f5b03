import { get } from "../api.js";
import { chartCard, grid, loadECharts, moneyAxis, moneyTooltip } from "../charts.js";
import { badge, errorBox, field, h, slot, table } from "../dom.js";
import { money, moneyCompact, today } from "../format.js";
import { columnsTable, exportButton, tableExportButton, yuanCell } from "../export.js";
import { t } from "../i18n.js";
import { BACK_OFFICE, HQ, MANAGER, isHq, role } from "../session.js";
import * as stores from "../stores.js";
import { dashboardTiers } from "./store_tiers.js";

const seconds = (s) => (s === null || s === undefined ? "—" : `${Number(s).toFixed(1)} s`);
const PRESETS = [7, 30, 90, 365];
const percent = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(2)}%`);

function kpis(x) {
  const card = (label, value, id) => h("div", { class: "card kpi", dataset: { kpi: id } }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
  return h(
    "div",
    { class: "grid" },
    card(t("dashboard.orders"), String(x.orders), "orders"),
    card(t("dashboard.gmv"), money(x.gmv_fen), "gmv"),
    card(t("dashboard.aov"), money(x.average_order_fen), "aov"),
    card(t("dashboard.latency"), `${seconds(x.print_latency_p50_s)} / ${seconds(x.print_latency_p95_s)}`, "latency"),
    card(t("dashboard.missed"), String(x.missed_prints), "missed"),
    card(t("dashboard.refunded"), money(x.refunded_fen), "refunded"),
  );
}

function health(store) {
  const relay = store.relay || { healthy: true, problems: [] };
  if (relay.healthy) return badge(t("health.ok"), "ok");
  return h("span", {}, relay.problems.map((p) => badge(t(`health.problem.${p}`), "bad")));
}

/** The 7-day GMV trend of the dashboard (store staff, who do not get reports). */
function trendChart(trend) {
  const labels = trend.map((p) => p.date.slice(5));
  return chartCard("trend", t("dashboard.trend"), {
    grid,
    tooltip: moneyTooltip,
    xAxis: { type: "category", data: labels },
    yAxis: moneyAxis,
    series: [{ type: "bar", name: t("dashboard.gmv"), data: trend.map((p) => p.gmv_fen), label: { show: true, position: "top", formatter: (p) => moneyCompact(p.value) } }],
  }, trend.map((p) => `${p.date}: ${money(p.gmv_fen)}`).join("; "),
  () => ({ filename: `trend_${today()}.csv`, header: [t("charts.day"), yuanLabel(t("dashboard.gmv"))], rows: trend.map((p) => [p.date, yuanCell(p.gmv_fen)]) }));
}

/** A money column's heading in a file: the amounts are yuan, as the server's exports say. */
const yuanLabel = (label) => t("charts.in_yuan", { label });

function bars(name, title, rows, label, value, fmt, figures) {
  const shown = [...rows].reverse(); // largest on top
  return chartCard(name, title, {
    // Room on the right for the value labels and the axis's last label (never cut).
    grid: { ...grid, top: 8, right: 88 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: fmt },
    xAxis: { type: "value", axisLabel: { formatter: fmt === money ? moneyCompact : fmt } },
    yAxis: { type: "category", data: shown.map(label), axisLabel: { width: 120, overflow: "truncate" } },
    series: [{ type: "bar", name: title, data: shown.map(value), label: { show: true, position: "right", formatter: (p) => fmt(p.value) } }],
  }, rows.map((r) => `${label(r)}: ${fmt(value(r))}`).join("; "), figures);
}

/** Each chart's figures as a table, for its export button: one row per day (or per
 * category, product), the previous period's day and value beside the day's. */
function reportFigures(r) {
  const name = (chart) => `${chart}_${r.store_ids.length === 1 ? r.store_ids[0] : "all"}_${r.from}_${r.to}.csv`;
  const prev = r.previous ? r.previous.days : [];
  const withPrevious = (chart, label, pick) => () => ({
    filename: name(chart),
    header: [t("charts.day"), label, ...(r.previous ? [t("charts.previous_day"), t("charts.previous_value", { label })] : [])],
    rows: r.days.map((d, i) => [d.date, pick(d), ...(r.previous ? [prev[i] ? prev[i].date : null, prev[i] ? pick(prev[i]) : null] : [])]),
  });
  const daily = (chart, columns) => () => ({
    filename: name(chart),
    header: [t("charts.day"), ...columns.map(([label]) => label)],
    rows: r.days.map((d) => [d.date, ...columns.map(([, pick]) => pick(d))]),
  });
  return {
    sales: withPrevious("sales", yuanLabel(t("reports.paid")), (d) => yuanCell(d.paid_fen)),
    orders: withPrevious("orders", t("reports.orders"), (d) => d.orders),
    by_store: () => ({
      filename: name("by_store"),
      header: [t("charts.day"), ...r.by_store.map((s) => yuanLabel(`${s.name} (${s.store_id})`))],
      rows: r.days.map((d, i) => [d.date, ...r.by_store.map((s) => yuanCell(s.days[i] ? s.days[i].paid_fen : null))]),
    }),
    by_category: () => ({
      filename: name("by_category"),
      header: [t("charts.category"), yuanLabel(t("reports.paid")), t("charts.units")],
      rows: r.by_category.map((c) => [c.category1, yuanCell(c.paid_fen), c.units]),
    }),
    top_products: () => ({
      filename: name("top_products"),
      header: ["SKU", t("charts.product"), yuanLabel(t("reports.paid")), t("charts.units")],
      rows: r.top_products.map((p) => [p.sku, p.name, yuanCell(p.paid_fen), p.units]),
    }),
    aov: daily("aov", [[yuanLabel(t("reports.aov")), (d) => (d.orders ? yuanCell(d.aov_fen) : null)]]),
    refund_rate: daily("refund_rate", [
      [t("reports.refund_rate"), (d) => d.refund_rate],
      [yuanLabel(t("charts.refunded")), (d) => yuanCell(d.refunded_fen)],
      [t("charts.refund_orders"), (d) => d.refund_orders],
    ]),
    printing: daily("printing", [
      [t("charts.printed"), (d) => d.printed],
      ["p50 (s)", (d) => d.print_latency_p50_s],
      ["p90 (s)", (d) => d.print_latency_p90_s],
      [t("dashboard.missed"), (d) => d.missed_prints],
    ]),
  };
}

/** The report's charts: sales with the previous period, orders, by store, by category,
 * top products, AOV, refund rate, print latency and missed prints. */
function reportCharts(r) {
  const dates = r.days.map((d) => d.date);
  const prev = r.previous ? r.previous.days : [];
  const axis = { type: "category", data: dates.map((d) => d.slice(5)) };
  const line = (name, data, extra = {}) => ({ type: "line", name, data, showSymbol: dates.length <= 31, ...extra });
  const summary = (pick, fmt) => r.days.map((d) => `${d.date}: ${fmt(pick(d))}`).join("; ");
  const prevName = r.previous ? t("reports.previous", { from: r.previous.from, to: r.previous.to }) : null;
  const figures = reportFigures(r);
  return h(
    "div",
    { class: "charts" },
    chartCard("sales", t("reports.sales"), {
      grid, tooltip: moneyTooltip, legend: { top: 0 }, xAxis: axis, yAxis: moneyAxis,
      series: [
        { type: "bar", name: t("reports.paid"), data: r.days.map((d) => d.paid_fen) },
        ...(r.previous ? [line(prevName, prev.map((d) => d.paid_fen), { lineStyle: { type: "dashed" } })] : []),
      ],
    }, summary((d) => d.paid_fen, money), figures.sales),
    chartCard("orders", t("reports.orders"), {
      grid, tooltip: { trigger: "axis" }, legend: { top: 0 }, xAxis: axis, yAxis: { type: "value", minInterval: 1 },
      series: [
        line(t("reports.orders"), r.days.map((d) => d.orders)),
        ...(r.previous ? [line(prevName, prev.map((d) => d.orders), { lineStyle: { type: "dashed" } })] : []),
      ],
    }, summary((d) => d.orders, String), figures.orders),
    chartCard("by_store", t("reports.by_store"), {
      grid, tooltip: moneyTooltip, legend: { top: 0, type: "scroll" }, xAxis: axis, yAxis: moneyAxis,
      series: r.by_store.map((s) => line(s.name, s.days.map((d) => d.paid_fen))),
    }, r.by_store.map((s) => `${s.name}: ${money(s.totals.paid_fen)}`).join("; "), figures.by_store),
    bars("by_category", t("reports.by_category"), r.by_category, (c) => c.category1, (c) => c.paid_fen, money, figures.by_category),
    bars("top_products", t("reports.top_products"), r.top_products, (p) => p.name, (p) => p.paid_fen, money, figures.top_products),
    chartCard("aov", t("reports.aov"), {
      grid, tooltip: moneyTooltip, xAxis: axis, yAxis: moneyAxis,
      // A day without sales has no average (a gap, not a fall to zero).
      series: [line(t("reports.aov"), r.days.map((d) => (d.orders ? d.aov_fen : null)))],
    }, summary((d) => d.aov_fen, money), figures.aov),
    chartCard("refund_rate", t("reports.refund_rate"), {
      grid, tooltip: { trigger: "axis", valueFormatter: percent }, xAxis: axis,
      yAxis: { type: "value", axisLabel: { formatter: percent } },
      series: [line(t("reports.refund_rate"), r.days.map((d) => (d.paid_fen ? d.refund_rate : null)))],
    }, summary((d) => d.refund_rate, percent), figures.refund_rate),
    chartCard("printing", t("reports.printing"), {
      grid, tooltip: { trigger: "axis" }, legend: { top: 0 }, xAxis: axis,
      yAxis: [{ type: "value", axisLabel: { formatter: "{value} s" } }, { type: "value", minInterval: 1 }],
      series: [
        line("p50", r.days.map((d) => d.print_latency_p50_s)),
        line("p90", r.days.map((d) => d.print_latency_p90_s)),
        { type: "bar", name: t("dashboard.missed"), yAxisIndex: 1, data: r.days.map((d) => d.missed_prints) },
      ],
    }, summary((d) => `${seconds(d.print_latency_p50_s)} / ${seconds(d.print_latency_p90_s)}, ${d.missed_prints}`, String), figures.printing),
  );
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

/** The range asked for in the address: a preset (days ending today) or from/to. */
function rangeOf(query) {
  if (query.from && query.to) return { from: query.from, to: query.to, days: null };
  const days = PRESETS.includes(Number(query.days)) ? Number(query.days) : 30;
  const end = new Date(`${today()}T00:00:00Z`);
  const start = new Date(end.getTime() - (days - 1) * 86400000);
  return { from: isoDay(start), to: isoDay(end), days };
}

function rangeControls(range, go) {
  const from = h("input", { type: "date", value: range.from, max: today() });
  const to = h("input", { type: "date", value: range.to, max: today() });
  return h(
    "div",
    { class: "range", role: "group", "aria-label": t("reports.range") },
    PRESETS.map((n) => h("button", { type: "button", "aria-pressed": range.days === n ? "true" : "false", onclick: () => go({ days: n }) }, t("reports.last_days", { n }))),
    field(t("reports.from"), from),
    field(t("reports.to"), to),
    h("button", { type: "button", onclick: () => go({ from: from.value, to: to.value }) }, t("reports.apply")),
  );
}

export default {
  id: "dashboard",
  path: "/",
  title: "dashboard.title",
  nav: "nav.dashboard",
  roles: BACK_OFFICE,
  async render(ctx) {
    const storeId = isHq() ? ctx.query.store || "" : await stores.chosen();
    const picker = await stores.picker(storeId, { allOption: true });
    picker.setAttribute("aria-label", t("common.store"));
    const withReports = [HQ, MANAGER].includes(role());
    const range = rangeOf(ctx.query);
    const go = (change) => {
      const keep = { store: isHq() ? picker.value : undefined };
      ctx.navigate("/", { ...keep, ...(change.days ? { days: change.days } : { from: change.from, to: change.to }) });
    };
    picker.addEventListener("change", () => go(range.days ? { days: range.days } : range));
    const body = slot();
    const reports = slot();
    const storeColumns = [
      { label: t("common.store"), cell: (s) => s.name },
      { label: t("dashboard.orders"), num: true, cell: (s) => String(s.orders), csv: (s) => s.orders },
      { label: t("dashboard.gmv"), num: true, cell: (s) => money(s.gmv_fen), csv: (s) => yuanCell(s.gmv_fen) },
      { label: t("dashboard.aov"), num: true, cell: (s) => money(s.average_order_fen), csv: (s) => yuanCell(s.average_order_fen) },
      { label: t("dashboard.latency"), num: true, cell: (s) => `${seconds(s.print_latency_p50_s)} / ${seconds(s.print_latency_p95_s)}` },
      { label: t("dashboard.missed"), num: true, cell: (s) => (s.missed_prints ? badge(String(s.missed_prints), "bad") : "0"), csv: (s) => s.missed_prints },
      { label: t("dashboard.health"), cell: health },
    ];
    await loadECharts();
    const load = async () => {
      try {
        // The 7-day trend is drawn for store staff only (the others get the report).
        const d = await get("/admin/dashboard", { store_id: storeId || undefined, days: withReports ? 1 : 7 });
        if (!ctx.isCurrent()) return;
        body.show(
          h("p", { class: "muted" }, t("dashboard.as_of", { date: d.date })),
          kpis(d.totals),
          withReports ? null : h("div", { class: "charts" }, trendChart(d.trend)),
          h("div", { class: "row" }, h("h2", {}, t("dashboard.by_store")), h("div", { class: "spacer" }),
            tableExportButton(() => columnsTable(`stores_today_${d.date}`, storeColumns, d.stores), { name: "stores_today" })),
          table(t("dashboard.by_store"), storeColumns, d.stores, { empty: t("dashboard.no_stores") }),
        );
      } catch (err) {
        if (ctx.isCurrent()) body.show(errorBox(err));
      }
    };
    const loadReport = async () => {
      try {
        const r = await get("/admin/reports/sales", { from: range.from, to: range.to, store_id: storeId || undefined, compare: "previous" });
        if (!ctx.isCurrent()) return;
        reports.show(
          h("p", { class: "muted" }, t("reports.totals", { from: r.from, to: r.to, orders: r.totals.orders, paid: money(r.totals.paid_fen), aov: money(r.totals.aov_fen), rate: percent(r.totals.refund_rate) })),
          reportCharts(r),
        );
      } catch (err) {
        if (ctx.isCurrent()) reports.show(errorBox(err));
      }
    };
    // Store TOP tiers (store_tiers.js): the chosen store's tier and history, or the
    // chain's distribution; a failure here leaves the rest of the dashboard alone.
    const tiers = slot();
    const loadTiers = async () => {
      try {
        const card = await dashboardTiers(storeId);
        if (ctx.isCurrent()) tiers.show(card);
      } catch (err) {
        if (ctx.isCurrent()) tiers.show(errorBox(err));
      }
    };
    await Promise.all([load(), withReports ? loadReport() : null, withReports ? loadTiers() : null]);
    ctx.every(30000, load);
    return h(
      "section",
      {},
      h("div", { class: "row" }, h("h1", {}, t("dashboard.title")), h("div", { class: "spacer" }), isHq() ? picker : null),
      body,
      withReports ? tiers : null,
      withReports ? h("section", { "aria-labelledby": "reports-title" }, h("h2", { id: "reports-title" }, t("reports.title")), rangeControls(range, go), reports) : null,
      h("p", { class: "muted" }, t("dashboard.today_hint", { date: today() })),
      h("h2", {}, t("dashboard.export_title")),
      exportButton("daily_sales", () => ({ store_id: storeId || undefined }), { range: true }),
    );
  },
};
