import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { dateTime, money, parseYuan, yuanInput } from "../format.js";
import { fieldText, reasonText } from "../errors.js";
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
  const picked = h("input", { type: "checkbox", "aria-label": t("bulk.select_item", { name: item.name }) });
  return { item, price, stock, onSale, save, picked };
}

export const BULK_POLL_MS = 1000;

/** A row's reason in the site's language; a conflict's current price in yuan. */
function rowReason(x) {
  const now = /^changed meanwhile: expected \S+, now (\d+);/.exec(x.reason || "");
  if (now) return t("error.reason.changed_meanwhile", { n: x.field === "price_fen" ? money(Number(now[1])) : now[1] });
  return reasonText(x.reason);
}

export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new Idempotency-Key for each different change; a retry of the same change (a lost
 * answer, a second click) sends the same key, so the API applies it once. */
function keyFor(memo, body) {
  const text = JSON.stringify(body);
  if (memo.text !== text) Object.assign(memo, { text, key: newKey() });
  return memo.key;
}

/** Bulk change of the selected items: one job, then each row's result in the site's
 * language (the failed ones listed with why; the applied ones updated in the list). */
function bulkPanel(storeId, rows) {
  const hq = isHq();
  const actions = [
    ...(hq ? [["price", t("bulk.action.price")]] : []),
    ["stock", t("bulk.action.stock")],
    ["on_sale", t("bulk.action.on_sale")],
    ["off_sale", t("bulk.action.off_sale")],
    ...(hq ? [["copy_prices", t("bulk.action.copy_prices")]] : []),
  ];
  const action = select(actions, actions[0][0]);
  const value = h("input", { class: "short", inputmode: "decimal" });
  const targets = h("input", { placeholder: "sh-xuhui sh-lujiazui" });
  const valueField = field(t("bulk.value"), value);
  // Only head office copies prices: the field is not there for a store.
  const targetsField = hq ? field(t("bulk.targets"), targets, t("bulk.targets_hint")) : null;
  const count = h("span", { class: "muted", "data-testid": "bulk-count" });
  const messages = slot();
  const result = slot({ "data-testid": "bulk-result" });
  const submit = h("button", { type: "submit", class: "primary" }, t("bulk.apply"));
  const memo = {};
  const selected = () => rows.filter((r) => r.picked.checked);
  const sync = () => {
    valueField.hidden = !["price", "stock"].includes(action.value);
    if (targetsField) targetsField.hidden = action.value !== "copy_prices";
    count.textContent = t("bulk.selected", { n: selected().length });
  };
  action.addEventListener("change", sync);
  const body = (chosen) => {
    if (action.value === "copy_prices") {
      const to = targets.value.split(/[\s,，]+/).filter(Boolean);
      if (!to.length) throw new Error(t("bulk.need_targets"));
      return { copy_prices: { from_store: storeId, to_stores: to, skus: chosen.map((r) => r.item.sku) } };
    }
    let change;
    if (action.value === "price") {
      const fen = parseYuan(value.value);
      if (fen === null) throw new Error(t("common.bad_amount", { field: t("catalogue.price") }));
      // expected: the price on screen; someone else's change since is a conflict
      change = (item) => ({ price_fen: fen, expected_price_fen: item.price_fen });
    } else if (action.value === "stock") {
      const n = Number(value.value);
      if (!value.value.trim() || !Number.isInteger(n) || n < 0) throw new Error(t("bulk.bad_stock"));
      change = (item) => ({ stock: n, expected_stock: item.stock });
    } else {
      change = () => ({ on_sale: action.value === "on_sale" });
    }
    return { rows: chosen.map((r) => ({ store_id: storeId, sku: r.item.sku, ...change(r.item) })) };
  };
  const show = (job, chosen, sent) => {
    const done = job.status === "succeeded" || job.status === "failed";
    const bySku = new Map(chosen.map((r) => [r.item.sku, r]));
    if (done && sent.rows) {
      for (const res of job.results) {
        const r = bySku.get(res.sku);
        if (!r || res.status !== "applied") continue;
        const row = sent.rows[res.row];
        if (row.price_fen !== undefined) { r.item.price_fen = row.price_fen; r.price.value = yuanInput(row.price_fen); }
        if (row.stock !== undefined) { r.item.stock = row.stock; r.stock.value = String(row.stock); }
        if (row.on_sale !== undefined) { r.item.on_sale = row.on_sale; r.onSale.checked = row.on_sale; }
      }
    }
    const failed = job.results.filter((x) => x.status === "rejected" || x.status === "conflict");
    result.show(
      h("p", { role: "status" }, t(`bulk.job_status.${job.status}`), " · ",
        t("bulk.summary", { applied: job.applied, unchanged: job.unchanged, rejected: job.rejected, conflicts: job.conflicts, done: job.processed_rows, total: job.total_rows })),
      done ? null : h("progress", { max: String(Math.max(1, job.total_rows)), value: String(job.processed_rows), "aria-label": t("import.progress") }),
      failed.length
        ? table(t("bulk.failed_rows"), [
          { label: t("common.store"), cell: (x) => x.store_id || "—" },
          { label: t("order.sku"), cell: (x) => x.sku || "—" },
          { label: t("order.product"), cell: (x) => (bySku.get(x.sku) ? bySku.get(x.sku).item.name : "—") },
          { label: t("bulk.result"), cell: (x) => badge(t(`bulk.status.${x.status}`), "bad") },
          { label: t("import.reason"), cell: (x) => [x.field ? `${fieldText(x.field)}: ` : "", rowReason(x)] },
        ], failed)
        : null,
    );
    return done;
  };
  const form = h("form", {
    class: "card",
    "data-testid": "bulk-panel",
    onsubmit: (e) => {
      e.preventDefault();
      result.clear();
      busy(submit, messages, async () => {
        const chosen = selected();
        if (!chosen.length) throw new Error(t("bulk.none_selected"));
        const sent = body(chosen);
        let job = await post("/admin/bulk-jobs", sent, { headers: { "Idempotency-Key": keyFor(memo, sent) } });
        while (!show(job, chosen, sent)) {
          await new Promise((r) => setTimeout(r, BULK_POLL_MS));
          job = await get(`/admin/bulk-jobs/${job.job_id}`);
        }
      });
    },
  },
  h("h2", {}, t("bulk.title")),
  h("div", { class: "row" }, field(t("bulk.action"), action), valueField, targetsField, submit, count),
  messages,
  result);
  form.sync = sync;
  sync();
  return form;
}

/** Head office edits a product's details: the form is filled from the API (with the
 * version it edits), and only changed fields are sent. */
async function productForm(sku, target, onSaved) {
  const p = await get(`/admin/products/${encodeURIComponent(sku)}`);
  const input = (value, attrs = {}) => h("input", { value: value == null ? "" : String(value), ...attrs });
  const f = {
    name: input(p.name, { required: true, maxlength: "60" }),
    category1: input(p.category1, { required: true, maxlength: "20" }),
    category2: input(p.category2, { required: true, maxlength: "20" }),
    unit: input(p.unit, { required: true, maxlength: "10" }),
    barcode: input(p.barcode, { inputmode: "numeric", maxlength: "14" }),
    image_url: input(p.image_url, { type: "url", maxlength: "510" }),
    zone: input(p.zone, { maxlength: "20" }),
    shelf: input(p.shelf, { maxlength: "20" }),
    cost: input(p.cost_fen == null ? "" : yuanInput(p.cost_fen), { inputmode: "decimal", class: "short" }),
  };
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
  const cancel = h("button", { type: "button", onclick: () => target.clear() }, t("common.cancel"));
  const form = h("form", {
    class: "card",
    "data-testid": "product-edit",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const change = {};
        for (const k of ["name", "category1", "category2", "unit", "barcode", "image_url", "zone", "shelf"]) {
          const v = f[k].value.trim();
          const old = p[k] == null ? "" : String(p[k]);
          if (v !== old) change[k] = v === "" ? null : v;
        }
        const costText = f.cost.value.trim();
        const cost = costText === "" ? null : parseYuan(costText);
        if (costText !== "" && cost === null) throw new Error(t("common.bad_amount", { field: t("product.cost") }));
        if (cost !== p.cost_fen) change.cost_fen = cost;
        if (!Object.keys(change).length) return messages.show(okBox(t("catalogue.nothing_changed")));
        const saved = await patch(`/admin/products/${encodeURIComponent(sku)}`, { ...change, expected_version: p.version });
        target.show(okBox(t("product.saved", { name: saved.name })));
        onSaved(saved);
      });
    },
  },
  h("h2", {}, t("product.edit_title", { sku })),
  h("div", { class: "form-grid" },
    field(t("product.name"), f.name),
    field(t("product.category1"), f.category1),
    field(t("product.category2"), f.category2),
    field(t("product.unit"), f.unit),
    field(t("product.barcode"), f.barcode),
    field(t("product.image_url"), f.image_url),
    field(t("product.zone"), f.zone),
    field(t("product.shelf"), f.shelf),
    field(t("product.cost"), f.cost, t("common.in_yuan"))),
  messages,
  h("div", { class: "row" }, save, cancel));
  target.show(form);
  f.name.focus();
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
    const editor = slot({ "data-testid": "product-editor" });
    const bulk = bulkPanel(storeId, rows);
    const all = h("input", { type: "checkbox", "aria-label": t("bulk.select_all"), onchange: () => {
      for (const r of rows) r.picked.checked = all.checked;
      bulk.sync();
    } });
    const edit = (r) => h("button", { type: "button", onclick: (e) => busy(e.currentTarget, messages, () => productForm(r.item.sku, editor, (saved) => {
      Object.assign(r.item, saved);
      draw();
    })) }, t("product.edit"));
    const draw = () => list.show(table(t("catalogue.title"), [
      { label: t("bulk.select"), cell: (r) => r.picked },
      { label: t("order.sku"), cell: (r) => r.item.sku },
      { label: t("order.product"), cell: (r) => [r.item.name, r.item.active ? null : [" ", badge(t("catalogue.inactive"), "bad")]] },
      { label: t("catalogue.category"), cell: (r) => `${r.item.category1} / ${r.item.category2}` },
      { label: t("catalogue.price"), cell: (r) => r.price },
      { label: t("catalogue.stock"), cell: (r) => r.stock },
      { label: t("catalogue.on_sale"), cell: (r) => r.onSale },
      { label: t("catalogue.updated"), cell: (r) => dateTime(r.item.updated_at) },
      { label: t("common.actions"), cell: (r) => [r.save, isHq() ? [" ", edit(r)] : null] },
    ], rows, { empty: t("catalogue.empty") }));
    const load = async () => {
      try {
        const page = await get(`/admin/stores/${storeId}/items`, {
          category1: ctx.query.category1 || undefined, q: ctx.query.q || undefined, cursor: cursor || undefined, limit: 50,
        });
        const added = page.items.map((item) => itemRow(storeId, item, messages));
        for (const r of added) r.picked.addEventListener("change", bulk.sync);
        rows.push(...added);
        bulk.sync();
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
      bulk,
      h("label", { class: "inline" }, all, t("bulk.select_all")),
      list,
      more,
      editor,
      isHq() ? importSection() : null,
    );
  },
};
