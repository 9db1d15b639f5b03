// A small SVG bar chart of our own: enough for a sales trend, no library to vendor.

const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** points: [{label, value}], values >= 0. `format(value)` labels the bars. The chart
 * has a text alternative: the same figures as a list in its aria-label. */
export function barChart(points, { title, format = String, width = 640, height = 220 } = {}) {
  const pad = { top: 22, right: 8, bottom: 28, left: 8 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const slot = (width - pad.left - pad.right) / Math.max(1, points.length);
  const barWidth = Math.max(4, slot * 0.62);
  const plot = height - pad.top - pad.bottom;
  const summary = points.map((p) => `${p.label}: ${format(p.value)}`).join("; ");
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${title}. ${summary}` });
  svg.append(el("title", {}, title));
  svg.append(el("line", { class: "axis", x1: pad.left, x2: width - pad.right, y1: pad.top + plot, y2: pad.top + plot }));
  points.forEach((p, i) => {
    const hgt = Math.round((p.value / max) * plot);
    const x = pad.left + i * slot + (slot - barWidth) / 2;
    const y = pad.top + plot - hgt;
    svg.append(el("rect", { class: "bar", x, y, width: barWidth, height: Math.max(hgt, p.value ? 1 : 0) }));
    svg.append(el("text", { x: x + barWidth / 2, y: y - 6, "text-anchor": "middle" }, format(p.value)));
    svg.append(el("text", { x: x + barWidth / 2, y: height - 8, "text-anchor": "middle" }, p.label));
  });
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.append(svg);
  return figure;
}
