import { apiBase, get, post } from "../api.js";
import { chartCard, grid, loadECharts, moneyAxis, moneyTooltip } from "../charts.js";
import { badge, busy, errorBox, field, h, okBox, select, table } from "../dom.js";
import { money, moneyCompact, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, isHq, token } from "../session.js";

// A campaign's live dashboard and its review (复盘), both from GET
// /admin/campaigns/{id}/review (docs/campaigns.md "The review"). The dashboard refreshes
// itself; the review shows the decomposition 销售额 = 进店量 × 转化率 × 客单价 against a
// baseline, per store, the CSV, and records the review note and the next goal.
const REFRESH_MS = 60000;
const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)}%`);
const num = (x) => (x === null || x === undefined ? "—" : String(x));
const fen = (x) => (x === null || x === undefined ? "—" : money(x));
const GOAL_FORMAT = { gmv_fen: fen, orders: num, new_members: num, aov_fen: fen };

function kpiCards(r) {
  const goal = Object.fromEntries(r.goal.map((g) => [g.key, g]));
  const card = (id, label, value, key) => {
    const g = key && goal[key];
    const target = g && g.goal !== null
      ? h("div", { class: "muted", dataset: { goal: key } }, t("campaign_review.goal_of", { goal: GOAL_FORMAT[key](g.goal), pct: pct(g.attained) }))
      : null;
    return h("div", { class: "card kpi", dataset: { kpi: id } }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), target);
  };
  const k = r.kpis;
  return h(
    "div",
    { class: "grid" },
    card("gmv", t("campaign_review.gmv"), money(k.gmv_fen), "gmv_fen"),
    card("orders", t("campaign_review.orders"), String(k.orders), "orders"),
    card("aov", t("campaign_review.aov"), fen(k.aov_fen), "aov_fen"),
    card("visitors", t("campaign_review.visitors"), String(k.visitors)),
    card("conversion", t("campaign_review.conversion"), pct(k.conversion)),
    card("new_members", t("campaign_review.new_members"), String(k.new_members), "new_members"),
    card("refund_rate", t("campaign_review.refund_rate"), pct(k.refund_rate)),
    r.roi !== null && r.roi !== undefined ? card("roi", t("campaign_review.roi"), pct(r.roi)) : null,
  );
}

function budgetCard(cost) {
  if (!cost) return null;
  const rows = cost.by_funder.filter((f) => f.budget_fen || f.spent_fen);
  const names = rows.map((f) => t(`campaign_review.funder.${f.funder}`));
  return chartCard("budget", t("campaign_review.budget", { used: pct(cost.used) }), {
    grid: { ...grid, right: 88 },
    tooltip: moneyTooltip,
    legend: { top: 0 },
    xAxis: { type: "value", axisLabel: { formatter: (v) => moneyCompact(v) } },
    yAxis: { type: "category", data: names },
    series: [
      { type: "bar", name: t("campaign_review.budget_fen"), data: rows.map((f) => f.budget_fen) },
      {
        type: "bar",
        name: t("campaign_review.spent_fen"),
        data: rows.map((f) => f.spent_fen),
        label: { show: true, position: "right", formatter: (p) => money(p.value) },
        // the 80 % mark: head office is alerted there
        markLine: { symbol: "none", label: { formatter: "80%" }, data: rows.map((f) => ({ xAxis: Math.round(f.budget_fen * 0.8) })) },
      },
    ],
  }, rows.map((f, i) => `${names[i]}: ${money(f.spent_fen)} / ${money(f.budget_fen)}`).join("; "));
}

function funnelCard(r) {
  const steps = r.funnel;
  // bars, widest first (the vendored ECharts build has no funnel series)
  const names = steps.map((s) => t(`campaign_review.step.${s.step}`));
  return chartCard("funnel", t("campaign_review.funnel"), {
    grid: { ...grid, top: 8, right: 88 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value" },
    yAxis: { type: "category", inverse: true, data: names },
    series: [{
      type: "bar",
      name: t("campaign_review.funnel"),
      data: steps.map((s) => s.count),
      label: { show: true, position: "right", formatter: (p) => (p.dataIndex ? `${p.value} (${pct(steps[p.dataIndex].rate)})` : String(p.value)) },
    }],
  }, steps.map((s, i) => `${names[i]}: ${s.count} (${pct(s.rate)})`).join("; "));
}

function dailyCard(r) {
  const days = r.daily;
  return chartCard("daily", t("campaign_review.daily"), {
    grid,
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    xAxis: { type: "category", data: days.map((d) => d.date.slice(5)) },
    yAxis: [moneyAxis, { type: "value", splitLine: { show: false } }],
    series: [
      { type: "bar", name: t("campaign_review.gmv"), data: days.map((d) => d.gmv_fen), tooltip: { valueFormatter: (v) => money(v) } },
      { type: "line", name: t("campaign_review.visitors"), yAxisIndex: 1, data: days.map((d) => d.visitors) },
    ],
  }, days.map((d) => `${d.date}: ${money(d.gmv_fen)}, ${d.visitors}`).join("; "));
}

function decompositionCard(d) {
  const name = (f) => t(`campaign_review.factor.${f}`);
  if (!d.available) {
    return h("div", { class: "card", dataset: { decomposition: "unavailable" } },
      h("p", {}, t("campaign_review.change", { change: money(d.change_fen) })),
      h("p", { class: "muted" }, t(`campaign_review.reason.${d.reason}`)));
  }
  // a waterfall: the baseline, each factor's contribution floating on the running total
  const labels = [t("campaign_review.baseline_gmv"), ...d.factors.map((f) => name(f.factor)), t("campaign_review.gmv")];
  const base = [0];
  const up = [d.baseline_gmv_fen];
  let running = d.baseline_gmv_fen;
  for (const f of d.factors) {
    const c = f.contribution_fen;
    base.push(c >= 0 ? running : running + c);
    up.push(Math.abs(c));
    running += c;
  }
  base.push(0);
  up.push(d.gmv_fen);
  const signed = [d.baseline_gmv_fen, ...d.factors.map((f) => f.contribution_fen), d.gmv_fen];
  return h("div", {},
    chartCard("decomposition", t("campaign_review.decomposition"), {
      grid,
      tooltip: { trigger: "axis", formatter: (ps) => `${ps[1].name}: ${money(signed[ps[1].dataIndex])}` },
      xAxis: { type: "category", data: labels },
      yAxis: moneyAxis,
      series: [
        { type: "bar", stack: "w", itemStyle: { color: "transparent" }, data: base, silent: true },
        {
          type: "bar",
          stack: "w",
          data: up.map((v, i) => ({ value: v, itemStyle: i > 0 && i <= d.factors.length && signed[i] < 0 ? { color: "#c0392b" } : undefined })),
          label: { show: true, position: "top", formatter: (p) => money(signed[p.dataIndex]) },
        },
      ],
    }, labels.map((l, i) => `${l}: ${money(signed[i])}`).join("; ")),
    h("p", { dataset: { moved: d.moved_most } }, t("campaign_review.moved_most", { factor: name(d.moved_most), change: money(d.change_fen) })),
  );
}

function storesTable(r) {
  const col = (label, cell, num = true) => ({ label: t(`campaign_review.${label}`), cell, num });
  return table(t("campaign_review.by_store"), [
    col("store", (s) => s.name, false),
    col("gmv", (s) => money(s.kpis.gmv_fen)),
    col("orders", (s) => String(s.kpis.orders)),
    col("aov", (s) => fen(s.kpis.aov_fen)),
    col("visitors", (s) => String(s.kpis.visitors)),
    col("conversion", (s) => pct(s.kpis.conversion)),
    col("change_col", (s) => money(s.change_fen)),
  ], r.stores);
}

async function downloadCsv(id, baseline) {
  const resp = await fetch(`${apiBase()}/admin/campaigns/${encodeURIComponent(id)}/review.csv?baseline=${baseline}`, {
    headers: { Authorization: `Bearer ${token()}` },
    cache: "no-store",
  });
  if (!resp.ok) throw new Error(t("error.http", { status: resp.status }));
  const url = URL.createObjectURL(await resp.blob());
  const a = h("a", { href: url, download: `review-${id}.csv`, hidden: "" });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 40000);
}

function noteForm(r) {
  const note = h("textarea", { name: "note", rows: 4 });
  const input = (name, money_) => h("input", { name, class: "short", inputmode: money_ ? "decimal" : "numeric" });
  const gmv = input("gmv", true);
  const orders = input("orders");
  const members = input("new_members");
  const aov = input("aov", true);
  const out = h("div", { role: "status" });
  const button = h("button", { type: "submit" }, t("campaign_review.save_note"));
  const intOrNull = (el) => (el.value.trim() ? Number.parseInt(el.value, 10) : null);
  const fenOrNull = (el) => (el.value.trim() ? parseYuan(el.value) : null);
  if (r.kpis.aov_fen) aov.placeholder = yuanInput(r.kpis.aov_fen);
  const form = h("form", {
    class: "card",
    onsubmit: (e) => {
      e.preventDefault();
      busy(button, null, async () => {
        try {
          await post(`/admin/campaigns/${encodeURIComponent(r.campaign_id)}/review-note`, {
            note: note.value,
            next_goal: { gmv_fen: fenOrNull(gmv), orders: intOrNull(orders), new_members: intOrNull(members), aov_fen: fenOrNull(aov) },
          });
          out.replaceChildren(okBox(t("campaign_review.note_saved")));
        } catch (err) {
          out.replaceChildren(errorBox(err));
        }
      });
    },
  },
  h("h2", {}, t("campaign_review.note_title")),
  field(t("campaign_review.note"), note),
  field(t("campaign_review.next_gmv"), gmv),
  field(t("campaign_review.next_orders"), orders),
  field(t("campaign_review.next_new_members"), members),
  field(t("campaign_review.next_aov"), aov),
  button, out);
  return form;
}

function header(r) {
  return h("p", { class: "muted" },
    r.frozen ? badge(t("campaign_review.frozen"), "ok") : badge(t("campaign_review.live"), "warn"),
    " ", t("campaign_review.period", { name: r.name, from: r.from, to: r.to, days: r.days }));
}

export const campaignDashboard = {
  id: "campaign-dashboard",
  group: "marketing",
  path: "/campaigns/:id/dashboard",
  title: "campaign_review.dashboard_title",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const id = ctx.params.id;
    const [r] = await Promise.all([get(`/admin/campaigns/${encodeURIComponent(id)}/review`), loadECharts()]);
    const body = h("div", {});
    const draw = (x) => body.replaceChildren(header(x), kpiCards(x), budgetCard(x.cost) || "", funnelCard(x), dailyCard(x));
    draw(r);
    if (!r.frozen) {
      ctx.every(REFRESH_MS, async () => {
        try {
          draw(await get(`/admin/campaigns/${encodeURIComponent(id)}/review`));
        } catch {
          // the next refresh tries again; the figures shown stay
        }
      });
    }
    return h("section", {}, h("h1", {}, t("campaign_review.dashboard_title")), body,
      h("p", {}, h("a", { href: `#/campaigns/${encodeURIComponent(id)}/review` }, t("campaign_review.open_review"))));
  },
};

export const campaignReview = {
  id: "campaign-review",
  group: "marketing",
  path: "/campaigns/:id/review",
  title: "campaign_review.review_title",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const id = ctx.params.id;
    const baseline = ctx.query.baseline === "last_year" ? "last_year" : "before";
    const [r] = await Promise.all([get(`/admin/campaigns/${encodeURIComponent(id)}/review`, { baseline }), loadECharts()]);
    const choose = select([["before", t("campaign_review.baseline.before")], ["last_year", t("campaign_review.baseline.last_year")]], baseline, {
      name: "baseline",
      onchange: (e) => ctx.navigate(`/campaigns/${id}/review`, { baseline: e.target.value }),
    });
    const csv = h("button", { type: "button", class: "secondary" }, t("campaign_review.csv"));
    const csvOut = h("span", {});
    csv.addEventListener("click", () => downloadCsv(id, baseline).catch((err) => csvOut.replaceChildren(errorBox(err))));
    const d = r.decomposition;
    return h("section", {},
      h("h1", {}, t("campaign_review.review_title")),
      header(r),
      h("div", { class: "toolbar" }, field(t("campaign_review.baseline_label"), choose), csv, csvOut),
      kpiCards(r),
      h("h2", {}, t("campaign_review.decomposition_title", { from: d.from, to: d.to })),
      decompositionCard(d),
      storesTable(r),
      isHq() ? noteForm(r) : null,
    );
  },
};
