// Charts with Apache ECharts (vendored in vendor/echarts/, loaded from our own origin on
// the first page that draws one). Every chart is a <div data-chart="name"> whose ECharts
// instance tests read with echarts.getInstanceByDom(div).getOption(). Money on charts is
// always exact: money() in tooltips and labels, moneyCompact() (whole yuan without ".00",
// otherwise every fen) on axes; grid.containLabel keeps labels from being cut.

import { h } from "./dom.js";
import { tableExportButton } from "./export.js";
import { money, moneyCompact } from "./format.js";
import { t } from "./i18n.js";

const SRC = "vendor/echarts/echarts.common.min.js";
let loading = null;

/** window.echarts, loading the vendored script once. */
export function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = SRC;
      script.onload = () => resolve(window.echarts);
      script.onerror = () => {
        loading = null;
        reject(new Error(`could not load ${SRC}`));
      };
      document.head.append(script);
    });
  }
  return loading;
}

// Charts drawn so far: those whose element left the page (a refresh redrew them, the user
// moved on) are disposed when the next one is drawn, so a dashboard left open all day on a
// counter tablet does not pile up instances.
const drawn = new Set();
function disposeDetached() {
  for (const chart of drawn) {
    if (!chart.getDom().isConnected) {
      observer?.unobserve(chart.getDom());
      chart.dispose();
      drawn.delete(chart);
    }
  }
}

const observer = typeof ResizeObserver === "function"
  ? new ResizeObserver((entries) => {
    for (const e of entries) window.echarts?.getInstanceByDom(e.target)?.resize();
  })
  : null;

/** A titled card holding one chart; `option` is an ECharts option. The figures also go
 * in the aria-label (`summary`), for screen readers, and, with `figures` (a function
 * giving { filename, header, rows }: export.js tableExportButton), to a CSV file. */
export function chartCard(name, title, option, summary, figures) {
  const box = h("div", { class: "echart", dataset: { chart: name }, role: "img", "aria-label": `${title}. ${summary || ""}` });
  const card = h("figure", { class: "card chart chart-card" }, h("figcaption", {}, title), box,
    figures ? tableExportButton(figures, { label: t("charts.export_figures"), name: `chart-${name}` }) : null);
  // Drawn once the element is in the page (ECharts needs its size): a page is attached
  // when all its requests have answered, which can take seconds; content a newer render
  // replaced is never attached, and given up after a minute.
  const until = Date.now() + 60000;
  const draw = () => {
    if (!box.isConnected) {
      if (Date.now() < until) requestAnimationFrame(draw);
      return;
    }
    // SVG: crisp at any zoom, and the labels are text in the page (CSP-clean: ECharts
    // styles elements through the CSSOM, which style-src 'self' allows).
    disposeDetached();
    const chart = window.echarts.init(box, null, { renderer: "svg" });
    chart.setOption({ animation: false, ...option });
    drawn.add(chart);
    observer?.observe(box);
  };
  requestAnimationFrame(draw);
  return card;
}

export const moneyAxis = { type: "value", axisLabel: { formatter: (v) => moneyCompact(v) } };
export const moneyTooltip = { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : money(v)) };
export const grid = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };
