import { apiBase, get } from "../api.js";
import { chartCard, grid, loadECharts, moneyAxis } from "../charts.js";
import { errorBox, field, h, table } from "../dom.js";
import { money } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, token } from "../session.js";

// Effect reports per promotion and coupon template, the suppliers' settlement statement
// and the orders list's promotion/coupon filters (issue 18 item 6; docs/promotions.md
// "Effect reports and supplier settlement"). Every figure is the API's.
const fen = (x) => (x === null || x === undefined ? "—" : money(x));
const csvCell = (v) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));

function kpis(r) {
  const card = (id, label, value) => h("div", { class: "card kpi", dataset: { kpi: id } }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
  return h("div", { class: "grid" },
    r.issued !== null && r.issued !== undefined ? card("issued", t("effect.issued"), String(r.issued)) : null,
    card("redeemed", t("effect.redeemed"), String(r.redeemed)),
    card("discount", t("effect.discount"), money(r.discount_fen)),
    card("net", t("effect.net"), money(r.net_fen)),
    card("gmv", t("effect.gmv"), money(r.gmv_fen)),
    card("aov_with", t("effect.aov_with"), fen(r.aov_with_fen)),
    card("aov_without", t("effect.aov_without"), fen(r.aov_without_fen)),
    card("new_customers", t("effect.new_customers"), String(r.new_customers)),
  );
}

function trend(r) {
  const days = r.days;
  return chartCard("effect-trend", t("effect.trend"), {
    grid,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    xAxis: { type: "category", data: days.map((d) => d.date.slice(5)) },
    yAxis: [{ type: "value", minInterval: 1 }, { ...moneyAxis, splitLine: { show: false } }],
    series: [
      { type: "bar", name: t("effect.redeemed"), data: days.map((d) => d.orders) },
      { type: "line", name: t("effect.net"), yAxisIndex: 1, data: days.map((d) => d.net_fen), tooltip: { valueFormatter: (v) => money(v) } },
    ],
  }, days.map((d) => `${d.date}: ${d.orders}, ${money(d.net_fen)}`).join("; "), () => ({
    filename: `effect-${r.id}-days.csv`,
    header: ["date", "orders", "discount", "net", "gmv"],
    rows: days.map((d) => [d.date, d.orders, money(d.discount_fen), money(d.net_fen), money(d.gmv_fen)]),
  }));
}

function funders(r) {
  const col = (label, cell, num = true) => ({ label: t(`effect.${label}`), cell, num });
  return table(t("effect.by_funder"), [
    col("funder", (f) => (f.funder ? `${t(`effect.funded_by.${f.funded_by}`)} · ${f.funder}` : t(`effect.funded_by.${f.funded_by}`)), false),
    col("discount", (f) => money(f.discount_fen)),
    col("net", (f) => money(f.net_fen)),
  ], r.by_funder);
}

function storesTable(r) {
  const col = (label, cell, num = true) => ({ label: t(`effect.${label}`), cell, num });
  return h("div", { dataset: { effectStores: "" } }, h("h2", {}, t("effect.by_store")), table(t("effect.by_store"), [
    col("store", (s) => s.name, false),
    col("redeemed", (s) => String(s.orders)),
    col("discount", (s) => money(s.discount_fen)),
    col("net", (s) => money(s.net_fen)),
    col("gmv", (s) => money(s.gmv_fen)),
    col("aov_with", (s) => fen(s.aov_fen)),
    col("new_customers", (s) => String(s.new_customers)),
  ], r.stores));
}

function downloadText(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: filename, hidden: "" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 40000);
}

/** The report's stores as CSV (UTF-8 with a BOM, as the API's CSVs). */
function reportCsv(r) {
  const header = ["store_id", "store", "orders", "discount", "net", "gmv", "aov", "new_customers"];
  const rows = r.stores.map((s) => [s.store_id, s.name, s.orders, money(s.discount_fen), money(s.net_fen), money(s.gmv_fen), fen(s.aov_fen), s.new_customers]);
  return `\ufeff${[header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n")}\r\n`;
}

function reportPage(id, path, kind, api, ordersParam) {
  return {
    id,
    group: "marketing",
    section: kind === "promotion" ? "promotions" : "coupons",
    path,
    title: `effect.${kind}_title`,
    roles: [HQ, MANAGER],
    async render(ctx) {
      const key = ctx.params.id;
      const range = { from: ctx.query.from || undefined, to: ctx.query.to || undefined };
      const [r] = await Promise.all([get(api(key), range), loadECharts()]);
      const from = h("input", { type: "date", name: "from", value: r.from });
      const to = h("input", { type: "date", name: "to", value: r.to });
      const form = h("form", {
        class: "toolbar",
        onsubmit: (e) => {
          e.preventDefault();
          ctx.navigate(path.replace(":id", key), { from: from.value, to: to.value });
        },
      }, field(t("effect.from"), from), field(t("effect.to"), to),
      h("button", { type: "submit", class: "secondary" }, t("effect.apply")));
      const csv = h("button", { type: "button", class: "secondary", dataset: { effectCsv: "" } }, t("effect.csv"));
      csv.addEventListener("click", () => downloadText(`effect-${r.id}.csv`, reportCsv(r)));
      return h("section", {},
        h("h1", {}, t(`effect.${kind}_title`)),
        h("p", { class: "muted" }, t("effect.period", { name: r.name, from: r.from, to: r.to })),
        form,
        kpis(r),
        trend(r),
        funders(r),
        storesTable(r),
        h("p", {}, csv, " ",
          h("a", { href: `#/orders?all=1&from=${r.from}&to=${r.to}&${ordersParam}=${encodeURIComponent(key)}` }, t("effect.orders_link"))),
      );
    },
  };
}

export const promotionReport = reportPage("promotion-report", "/promotions/:id/report", "promotion",
  (id) => `/admin/promotions/${encodeURIComponent(id)}/report`, "promotion_id");
export const templateReport = reportPage("template-report", "/coupon-templates/:id/report", "template",
  (id) => `/admin/coupon-templates/${encodeURIComponent(id)}/report`, "coupon_template_id");

async function downloadSettlement(month, lang) {
  const resp = await fetch(`${apiBase()}/admin/supplier-settlements.csv?month=${month}&lang=${lang}`, {
    headers: { Authorization: `Bearer ${token()}` },
    cache: "no-store",
  });
  if (!resp.ok) throw new Error(t("error.http", { status: resp.status }));
  const url = URL.createObjectURL(await resp.blob());
  const a = h("a", { href: url, download: `supplier-settlement-${month}.csv`, hidden: "" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 40000);
}

function lastMonth() {
  const now = new Date(Date.now() + 8 * 3600 * 1000); // the chain's zone (UTC+8)
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export const supplierSettlements = {
  id: "supplier-settlements",
  group: "marketing",
  path: "/supplier-settlements",
  title: "settlement.title",
  nav: "settlement.nav",
  roles: [HQ],
  async render(ctx) {
    const month = /^\d{4}-\d{2}$/.test(ctx.query.month || "") ? ctx.query.month : lastMonth();
    const st = await get("/admin/supplier-settlements", { month });
    const input = h("input", { type: "month", name: "month", value: month, required: true });
    const form = h("form", {
      class: "toolbar",
      onsubmit: (e) => {
        e.preventDefault();
        ctx.navigate("/supplier-settlements", { month: input.value });
      },
    }, field(t("settlement.month"), input), h("button", { type: "submit", class: "secondary" }, t("effect.apply")));
    const out = h("span", {});
    const lang = document.documentElement.lang === "en" ? "en" : "zh-CN";
    const csv = h("button", { type: "button", class: "secondary", dataset: { settlementCsv: "" } }, t("settlement.csv"));
    csv.addEventListener("click", () => downloadSettlement(month, lang).catch((err) => out.replaceChildren(errorBox(err))));
    const col = (label, cell, num = true) => ({ label: t(`settlement.${label}`), cell, num });
    const suppliers = st.suppliers.map((sup) => h("div", { class: "card", dataset: { supplier: sup.funder } },
      h("h2", {}, t("settlement.owes", { funder: sup.funder, owed: money(sup.owed_fen) })),
      table(sup.funder, [
        col("source", (x) => `${x.name} (${x.id})`, false),
        col("orders", (x) => String(x.orders)),
        col("discount", (x) => money(x.discount_fen)),
        col("refunded", (x) => money(x.refunded_fen)),
        col("owed", (x) => money(x.net_fen)),
      ], sup.sources),
      table(sup.funder, [
        col("store", (x) => x.name, false),
        col("orders", (x) => String(x.orders)),
        col("discount", (x) => money(x.discount_fen)),
        col("owed", (x) => money(x.net_fen)),
      ], sup.stores)));
    return h("section", {},
      h("h1", {}, t("settlement.title")),
      form,
      h("p", { dataset: { settlementTotal: String(st.owed_fen) } }, t("settlement.total", { month: st.month, owed: money(st.owed_fen) }), " ", csv, out),
      suppliers.length ? suppliers : h("div", { class: "empty card", role: "status" }, t("settlement.none")),
    );
  },
};

// --- the orders list's filters (orders_all.js) ------------------------------------------

export function discountFilters(query) {
  return {
    promotion_id: query.promotion_id || undefined,
    coupon_template_id: query.coupon_template_id || undefined,
  };
}

export function discountFilterInputs(api) {
  return {
    promotion: h("input", { name: "promotion_id", maxlength: 64, value: api.promotion_id || "" }),
    template: h("input", { name: "coupon_template_id", maxlength: 64, value: api.coupon_template_id || "" }),
  };
}

export function discountFilterValues(inputs) {
  return { promotion_id: inputs.promotion.value.trim(), coupon_template_id: inputs.template.value.trim() };
}

export function discountFilterFields(inputs) {
  return [field(t("effect.filter_promotion"), inputs.promotion), field(t("effect.filter_template"), inputs.template)];
}
