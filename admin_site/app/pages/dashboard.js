import { get } from "../api.js";
import { barChart } from "../chart.js";
import { badge, errorBox, h, slot, table } from "../dom.js";
import { money, moneyCompact, today } from "../format.js";
import { exportButton } from "../export.js";
import { t } from "../i18n.js";
import { BACK_OFFICE, isHq } from "../session.js";
import * as stores from "../stores.js";

const seconds = (s) => (s === null || s === undefined ? "—" : `${Number(s).toFixed(1)} s`);

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
    picker.addEventListener("change", () => ctx.navigate("/", { store: picker.value }));
    const body = slot();
    const load = async () => {
      try {
        const d = await get("/admin/dashboard", { store_id: storeId || undefined, days: 7 });
        if (!ctx.isCurrent()) return;
        body.show(
          h("p", { class: "muted" }, t("dashboard.as_of", { date: d.date })),
          kpis(d.totals),
          h("h2", {}, t("dashboard.trend")),
          h("div", { class: "card" }, barChart(
            d.trend.map((p) => ({ label: p.date.slice(5), value: p.gmv_fen })),
            { title: t("dashboard.trend"), format: moneyCompact },
          )),
          h("h2", {}, t("dashboard.by_store")),
          table(t("dashboard.by_store"), [
            { label: t("common.store"), cell: (s) => s.name },
            { label: t("dashboard.orders"), num: true, cell: (s) => String(s.orders) },
            { label: t("dashboard.gmv"), num: true, cell: (s) => money(s.gmv_fen) },
            { label: t("dashboard.aov"), num: true, cell: (s) => money(s.average_order_fen) },
            { label: t("dashboard.latency"), num: true, cell: (s) => `${seconds(s.print_latency_p50_s)} / ${seconds(s.print_latency_p95_s)}` },
            { label: t("dashboard.missed"), num: true, cell: (s) => (s.missed_prints ? badge(String(s.missed_prints), "bad") : "0") },
            { label: t("dashboard.health"), cell: health },
          ], d.stores, { empty: t("dashboard.no_stores") }),
        );
      } catch (err) {
        if (ctx.isCurrent()) body.show(errorBox(err));
      }
    };
    await load();
    ctx.every(30000, load);
    return h(
      "section",
      {},
      h("div", { class: "row" }, h("h1", {}, t("dashboard.title")), h("div", { class: "spacer" }), isHq() ? picker : null),
      body,
      h("p", { class: "muted" }, t("dashboard.today_hint", { date: today() })),
      h("h2", {}, t("dashboard.export_title")),
      exportButton("daily_sales", () => ({ store_id: storeId || undefined }), { range: true }),
    );
  },
};
