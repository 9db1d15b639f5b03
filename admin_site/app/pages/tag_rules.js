import { get, request } from "../api.js";
import { busy, h, okBox, select, slot } from "../dom.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

// 标签规则: head office's automatic tag rules (issue 15 item 2). One rule a row:
// "tag: metric op value"; a member gets a tag when every rule naming it holds. Replaced
// whole with PUT /admin/customers/tag-rules (audited; 422 names each bad field).

const METRICS = [
  "orders", "spend_fen", "aov_fen", "orders_30d", "fresh_orders_30d", "orders_90d",
  "days_since_last_order", "months_since_registration", "level_rank", "level", "source_kind",
  "paid_member", "category_spend_fen",
];
const TEXT = new Set(["level", "source_kind"]);
const OPS = [">=", "<=", "=", "!="];

/** A row's value as the API wants it: true/false, text or an integer. */
function valueOf(metric, raw) {
  if (metric === "paid_member") return raw === "true";
  if (TEXT.has(metric)) return raw;
  return Number.isInteger(Number(raw)) && raw !== "" ? Number(raw) : raw;
}

function ruleRow(rule, remove) {
  const [base, category] = rule.metric.startsWith("category_spend_fen:") ? ["category_spend_fen", rule.metric.slice(19)] : [rule.metric, ""];
  const inputs = {
    tag: h("input", { value: rule.tag, maxlength: "20", required: true, "aria-label": t("tag_rules.tag") }),
    metric: select(METRICS.map((m) => [m, t(`tag_rules.metric.${m}`)]), base, { "aria-label": t("tag_rules.metric") }),
    category: h("input", { value: category, maxlength: "40", placeholder: "水果", "aria-label": t("tag_rules.category") }),
    op: select(OPS.map((o) => [o, o]), rule.op, { "aria-label": t("tag_rules.op") }),
    value: h("input", { value: String(rule.value), maxlength: "20", required: true, "aria-label": t("tag_rules.value") }),
  };
  const row = h("tr", { "data-testid": "tag-rule" },
    ...["tag", "metric", "category", "op", "value"].map((k) => h("td", {}, inputs[k])),
    h("td", {}, h("button", { type: "button", onclick: () => remove(row) }, t("tag_rules.remove"))));
  row.read = () => {
    const metric = inputs.metric.value === "category_spend_fen" ? `category_spend_fen:${inputs.category.value.trim()}` : inputs.metric.value;
    return { tag: inputs.tag.value.trim(), metric, op: inputs.op.value, value: valueOf(inputs.metric.value, inputs.value.value.trim()) };
  };
  return row;
}

export default {
  id: "tag-rules",
  path: "/customers/tags",
  title: "tag_rules.title",
  nav: "nav.tag_rules",
  roles: [HQ],
  async render() {
    const settings = await get("/admin/customers/tag-rules");
    const rows = [];
    const tbody = h("tbody", {});
    const remove = (row) => {
      rows.splice(rows.indexOf(row), 1);
      row.remove();
    };
    const addRow = (rule) => {
      const row = ruleRow(rule, remove);
      rows.push(row);
      tbody.append(row);
    };
    settings.rules.forEach(addRow);
    const messages = slot();
    const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
    const form = h("form", {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        busy(save, messages, async () => {
          await request("PUT", "/admin/customers/tag-rules", { body: { rules: rows.map((r) => r.read()) } });
          messages.show(okBox(t("tag_rules.saved")));
        });
      },
    },
    h("p", { class: "muted" }, t("tag_rules.help")),
    h("div", { class: "table-wrap" }, h("table", {},
      h("caption", {}, t("tag_rules.title")),
      h("thead", {}, h("tr", {}, ...["tag", "metric", "category", "op", "value"].map((k) => h("th", { scope: "col" }, t(`tag_rules.${k}`))), h("th", {}, ""))),
      tbody)),
    h("div", { class: "row" },
      h("button", { type: "button", onclick: () => addRow({ tag: "", metric: "orders", op: ">=", value: 1 }) }, t("tag_rules.add")), " ", save),
    messages);
    return h("section", {}, h("h1", {}, t("tag_rules.title")), form);
  },
};
