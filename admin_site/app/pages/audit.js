import { get } from "../api.js";
import { errorBox, field, h, slot, table } from "../dom.js";
import { exportButton } from "../export.js";
import { dateTime, money } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, isHq } from "../session.js";
import * as stores from "../stores.js";

// 审计日志: who changed what (GET /admin/audit, docs/audit.md). Head office filters by
// actor, target, store and UTC days; a store manager sees their store's entries only.
const FILTERS = ["actor", "target_type", "target_id", "store_id", "date_from", "date_to"];

/** A value as the log shows it: money fields in yuan, lists and objects as JSON. */
function shown(fieldName, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number" && fieldName.endsWith("_fen")) return money(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The changed fields as a small diff: field, before struck through, after. */
function diff(entry) {
  if (!entry.changes.length) return h("span", { class: "muted" }, "—");
  return h("ul", { class: "audit-diff" }, entry.changes.map((c) => h("li", {},
    h("code", {}, c.field), " ",
    h("del", { "aria-label": t("audit.before") }, shown(c.field, c.before)), " → ",
    h("ins", { "aria-label": t("audit.after") }, shown(c.field, c.after)))));
}

export default {
  id: "audit",
  path: "/audit",
  title: "audit.title",
  nav: "nav.audit",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const query = Object.fromEntries(FILTERS.filter((f) => ctx.query[f]).map((f) => [f, ctx.query[f]]));
    const inputs = {
      actor: h("input", { name: "actor", value: query.actor || "", maxlength: "64" }),
      target_type: h("input", { name: "target_type", value: query.target_type || "", placeholder: "store_item", pattern: "[a-z_]{1,32}" }),
      target_id: h("input", { name: "target_id", value: query.target_id || "", placeholder: "sh-jingan/100001" }),
      date_from: h("input", { name: "date_from", type: "date", value: query.date_from || "" }),
      date_to: h("input", { name: "date_to", type: "date", value: query.date_to || "" }),
    };
    if (isHq()) {
      const all = await stores.list();
      inputs.store_id = h("select", { name: "store_id" },
        h("option", { value: "" }, t("audit.all_stores")),
        all.map((s) => h("option", { value: s.store_id, selected: s.store_id === query.store_id ? "" : null }, `${s.name} (${s.store_id})`)));
    }
    const form = h("form", {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        const next = {};
        for (const [name, input] of Object.entries(inputs)) if (input.value.trim()) next[name] = input.value.trim();
        ctx.navigate("/audit", next);
      },
    },
    h("div", { class: "form-grid" },
      field(t("audit.actor"), inputs.actor),
      field(t("audit.target_type"), inputs.target_type),
      field(t("audit.target_id"), inputs.target_id),
      inputs.store_id ? field(t("audit.store"), inputs.store_id) : null,
      field(t("audit.date_from"), inputs.date_from),
      field(t("audit.date_to"), inputs.date_to)),
    h("button", { type: "submit", class: "primary" }, t("audit.filter")));

    const list = slot();
    const more = h("button", { type: "button", hidden: "" }, t("audit.more"));
    const rows = [];
    let cursor = null;
    const columns = [
      { label: t("audit.at"), cell: (e) => dateTime(e.at) },
      { label: t("audit.actor"), cell: (e) => `${e.actor} (${t(`role.${e.role}`)})` },
      { label: t("audit.action"), cell: (e) => h("code", {}, e.action) },
      { label: t("audit.target"), cell: (e) => `${e.target_type} ${e.target_id}` },
      { label: t("audit.store"), cell: (e) => e.store_id || "—" },
      { label: t("audit.changes"), cell: diff },
    ];
    const load = async () => {
      try {
        const page = await get("/admin/audit", { ...query, limit: 50, ...(cursor ? { cursor } : {}) });
        rows.push(...page.items);
        cursor = page.next_cursor;
        more.hidden = !cursor;
        list.show(table(t("audit.title"), columns, rows, { empty: t("audit.empty") }));
      } catch (err) {
        list.show(errorBox(err));
      }
    };
    more.addEventListener("click", load);
    await load();
    // The log grows without bound: its export is a background job on the server (kind
    // "audit"), of the filters applied above (the same entries this store may see).
    const exporter = exportButton("audit", () => ({ ...query }));
    return h("section", {}, h("h1", {}, t("audit.title")), form, exporter, list, more);
  },
};
