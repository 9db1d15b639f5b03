import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { dateTime, money, parseYuan, yuanInput } from "../format.js";
import { reasonText } from "../errors.js";
import { exportButton } from "../export.js";
import { t } from "../i18n.js";
import { BACK_OFFICE, isHq } from "../session.js";
import * as stores from "../stores.js";

export const IMPORT_POLL_MS = 1000;

/** One item row with its own inputs and Save button. */
function itemRow(storeId, item, messages) {
  // Prices are head office's to set (the API refuses others); stores set stock and on-sale.
  const price = h("input", { value: yuanInput(item.price_fen), inputmode: "decimal", class: "short", disabled: isHq() ? null : "", title: isHq() ? null : t("catalogue.price_by_hq"), "aria-label": t("catalogue.price_of", { name: item.name }) });
  const stock = h("input", { type: "number", min: "0", step: "1", value: String(item.stock), class: "short", "aria-label": t("catalogue.stock_of", { name: item.name }) });
  const onSale = h("input", { type: "checkbox", checked: item.on_sale, "aria-label": t("catalogue.on_sale_of", { name: item.name }) });
  const save = h("button", { type: "button" }, t("common.save"));
  save.addEventListener("click", () =>
    busy(save, messages, async () => {
      const fen = parseYuan(price.value);
      if (fen === null) throw new Error(t("common.bad_amount", { field: t("catalogue.price") }));
      const change = {};
      if (fen !== item.price_fen && isHq()) change.price_fen = fen;
      if (Number(stock.value) !== item.stock) change.stock = Number(stock.value);
      if (onSale.checked !== item.on_sale) change.on_sale = onSale.checked;
      if (!Object.keys(change).length) return messages.show(okBox(t("catalogue.nothing_changed")));
      const saved = await patch(`/admin/stores/${storeId}/items/${encodeURIComponent(item.sku)}`, change);
      Object.assign(item, { price_fen: saved.price_fen, stock: saved.stock, on_sale: saved.on_sale });
      messages.show(okBox(t("catalogue.saved", { name: item.name, price: money(item.price_fen), stock: item.stock })));
    }),
  );
  return { item, price, stock, onSale, save };
}

/** A rejected row's reason in the site's language, with the value the file had (quoted
 * by the API as 'value'), which is what head office looks for in the file. */
function importReason(reason) {
  const m = /^'(.*)' /.exec(reason || "");
  return [reasonText(reason), m ? h("span", { class: "muted" }, ` · ${t("import.value", { value: m[1] })}`) : null];
}

/** ERP import: upload, then follow the job until it is done, showing rejected rows. */
function importSection() {
  const kind = select([["store_items", t("import.kind.store_items")], ["products", t("import.kind.products")]], "store_items");
  const file = h("input", { type: "file", accept: ".csv,.json,text/csv,application/json", required: true });
  const messages = slot();
  const progress = slot({ "data-testid": "import-progress" });
  const submit = h("button", { type: "submit", class: "primary" }, t("import.upload"));
  const show = (job) => {
    const done = job.status === "succeeded" || job.status === "failed";
    progress.show(
      h("p", {}, t("import.status_line", { status: t(`import.status.${job.status}`), done: job.processed_rows, total: job.total_rows })),
      h("progress", { max: String(Math.max(1, job.total_rows)), value: String(job.processed_rows), "aria-label": t("import.progress") }),
      done ? h("p", { "data-testid": "import-summary" }, t("import.summary", job)) : null,
      // The file's problem (a missing column, an unreadable encoding) names the file's own
      // columns: shown as the API said it, under a translated heading.
      job.error ? h("div", { class: "msg error", role: "alert" }, t("import.file_error"), h("small", { class: "code" }, job.error)) : null,
      job.rejected_rows.length
        ? [h("h3", {}, t("import.rejected_title", { n: job.rejected })),
           table(t("import.rejected_title", { n: job.rejected }), [
             { label: t("import.line"), num: true, cell: (r) => String(r.line) },
             { label: t("import.field"), cell: (r) => r.field },
             { label: t("import.reason"), cell: (r) => importReason(r.reason) },
           ], job.rejected_rows)]
        : null,
    );
    return done;
  };
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: (e) => {
        e.preventDefault();
        busy(submit, messages, async () => {
          const chosen = file.files[0];
          if (!chosen) throw new Error(t("import.choose_file"));
          const isJson = /\.json$/i.test(chosen.name) || chosen.type === "application/json";
          let job = await post("/admin/imports", undefined, {
            query: { kind: kind.value },
            raw: chosen,
            contentType: isJson ? "application/json" : "text/csv",
          });
          while (!show(job)) {
            await new Promise((r) => setTimeout(r, IMPORT_POLL_MS));
            job = await get(`/admin/imports/${job.job_id}`);
          }
        });
      },
    },
    h("h2", {}, t("import.title")),
    h("p", { class: "muted" }, t("import.hint")),
    h("div", { class: "row" }, field(t("import.kind"), kind), field(t("import.file"), file), submit),
    messages,
    progress,
  );
  return form;
}

export default {
  id: "catalogue",
  path: "/catalogue",
  title: "catalogue.title",
  nav: "nav.catalogue",
  roles: BACK_OFFICE,
  async render(ctx) {
    const storeId = await stores.chosen(ctx.query.store);
    if (!storeId) return h("section", {}, h("h1", {}, t("catalogue.title")), h("p", { class: "empty card" }, t("common.no_store")));
    const tree = (await get("/catalogue/categories")).items;
    const storeSelect = await stores.picker(storeId);
    const category = select([["", t("catalogue.all_categories")], ...tree.map((c) => [c.category1, c.category1])], ctx.query.category1 || "");
    const q = h("input", { type: "search", value: ctx.query.q || "", placeholder: t("catalogue.search_hint") });
    const apply = () => ctx.navigate("/catalogue", { store: storeSelect.value, category1: category.value, q: q.value.trim() });
    storeSelect.addEventListener("change", apply);
    category.addEventListener("change", apply);
    const searchForm = h("form", { class: "row card", role: "search", onsubmit: (e) => { e.preventDefault(); apply(); } },
      field(t("common.store"), storeSelect),
      field(t("catalogue.category"), category),
      field(t("catalogue.search"), q),
      h("button", { type: "submit" }, t("catalogue.search")));

    const messages = slot();
    const list = slot();
    const more = h("button", { type: "button", hidden: true }, t("common.more"));
    const rows = [];
    let cursor = null;
    const draw = () => list.show(table(t("catalogue.title"), [
      { label: t("order.sku"), cell: (r) => r.item.sku },
      { label: t("order.product"), cell: (r) => [r.item.name, r.item.active ? null : [" ", badge(t("catalogue.inactive"), "bad")]] },
      { label: t("catalogue.category"), cell: (r) => `${r.item.category1} / ${r.item.category2}` },
      { label: t("catalogue.price"), cell: (r) => r.price },
      { label: t("catalogue.stock"), cell: (r) => r.stock },
      { label: t("catalogue.on_sale"), cell: (r) => r.onSale },
      { label: t("catalogue.updated"), cell: (r) => dateTime(r.item.updated_at) },
      { label: t("common.actions"), cell: (r) => r.save },
    ], rows, { empty: t("catalogue.empty") }));
    const load = async () => {
      try {
        const page = await get(`/admin/stores/${storeId}/items`, {
          category1: ctx.query.category1 || undefined, q: ctx.query.q || undefined, cursor: cursor || undefined, limit: 50,
        });
        rows.push(...page.items.map((item) => itemRow(storeId, item, messages)));
        cursor = page.next_cursor;
        more.hidden = !cursor;
        draw();
      } catch (err) {
        list.show(errorBox(err));
      }
    };
    more.addEventListener("click", load);
    await load();
    return h(
      "section",
      {},
      h("h1", {}, t("catalogue.title")),
      searchForm,
      exportButton("stock", () => ({ store_id: storeId })),
      messages,
      list,
      more,
      isHq() ? importSection() : null,
    );
  },
};
