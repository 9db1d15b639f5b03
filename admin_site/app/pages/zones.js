import { get, post, request } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { dateTime, isoFromLocal, localFromIso, localInput, money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, homeStore, isHq } from "../session.js";

// Zones (issue 17 item 4): the add-on zone (凑单专区) whose products the quote suggests to
// close a gap, and fixed-price zones (9.9元专区). Head office lists, creates and edits
// them (products picked by searching a store's items), and previews what the add-on
// zone would suggest for a sample gap. docs/mechanics.md "Add-on zone and 9.9 zone".
const KINDS = ["add_on", "fixed_price"];
const list = (text) => text.split(/[\s,，]+/).map((s) => s.trim()).filter(Boolean);

function statusBadge(z) {
  if (z.status === "ended") return badge(t("zones.status.ended"), "");
  return z.live ? badge(t("zones.status.live"), "ok") : badge(t("zones.status.off"), "warn");
}

function windowText(z) {
  return z.starts_at ? `${dateTime(z.starts_at)} – ${dateTime(z.ends_at)}` : t("zones.always");
}

/** The zone's products, in order: each with up/remove buttons; `names` maps SKU -> name. */
function productList(chosen, names) {
  const box = h("ol", { class: "zone-products", "data-testid": "zone-products" });
  const draw = () => box.replaceChildren(...chosen.map((sku, i) => h("li", {},
    `${sku} ${names.get(sku) || ""} `,
    i > 0 ? h("button", { type: "button", "aria-label": t("zones.move_up", { sku }), onclick: () => { chosen.splice(i - 1, 0, chosen.splice(i, 1)[0]); draw(); } }, "↑") : null,
    h("button", { type: "button", "aria-label": t("zones.remove", { sku }), onclick: () => { chosen.splice(i, 1); draw(); } }, "×"))));
  draw();
  box.redraw = draw;
  return box;
}

/** Search a store's items by name, SKU prefix or barcode; "add" puts one in the zone. */
function skuPicker(store, chosen, names, products) {
  const q = h("input", { type: "search", "aria-label": t("zones.search"), placeholder: t("zones.search_hint") });
  const results = slot({ "data-testid": "zone-search-results" });
  const button = h("button", { type: "button" }, t("zones.search_button"));
  const run = () => busy(button, results, async () => {
    if (!q.value.trim()) return;
    const page = await get(`/admin/stores/${encodeURIComponent(store.value || homeStore() || "")}/items`, { q: q.value.trim(), limit: 20 });
    results.show(page.items.length ? h("ul", { class: "zone-results" }, page.items.map((item) => h("li", {},
      `${item.sku} ${item.name} ${money(item.price_fen)} · ${t("zones.stock", { n: item.stock })} `,
      h("button", {
        type: "button", "aria-label": t("zones.add", { name: item.name }),
        onclick: () => { if (!chosen.includes(item.sku)) { chosen.push(item.sku); names.set(item.sku, item.name); products.redraw(); } },
      }, t("zones.add_button"))))) : h("p", { class: "muted" }, t("zones.no_results")));
  });
  q.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); run(); } });
  button.addEventListener("click", run);
  return h("div", { class: "row" }, field(t("zones.search"), q), button, results);
}

/** Create (zone null) or edit a zone: the whole zone is sent, with the version shown. */
function zoneForm(ctx, zone) {
  const kind = select(KINDS.map((k) => [k, t(`zones.kind.${k}`)]), zone?.kind || "add_on", { disabled: zone ? true : null });
  const name = h("input", { required: true, maxlength: "60", value: zone?.name || "" });
  const stores = h("input", { value: (zone?.stores || []).join(", "), placeholder: t("zones.all_stores") });
  const store = h("input", { value: zone?.stores?.[0] || homeStore() || "sh-jingan", class: "short" });
  const chosen = [...(zone?.skus || [])];
  const names = new Map();
  const products = productList(chosen, names);
  const price = h("input", { inputmode: "decimal", class: "short", value: zone?.price_fen ? yuanInput(zone.price_fen) : "9.90" });
  const starts = h("input", { type: "datetime-local", value: zone?.starts_at ? localFromIso(zone.starts_at) : localInput(0) });
  const ends = h("input", { type: "datetime-local", value: zone?.ends_at ? localFromIso(zone.ends_at) : localInput(24 * 7) });
  const limit = h("input", { type: "number", min: "1", max: "99", class: "short", value: zone?.per_customer_limit ?? "" });
  const campaign = h("input", { value: zone?.campaign_id || "", disabled: zone ? true : null });
  const status = select([["active", t("zones.status.active")], ["ended", t("zones.status.ended")]], zone?.status || "active");
  const fixedFields = h("fieldset", { class: "zone-fixed" },
    h("legend", {}, t("zones.kind.fixed_price")),
    field(t("zones.price"), price), field(t("zones.starts_at"), starts), field(t("zones.ends_at"), ends),
    field(t("zones.limit"), limit, t("zones.limit_hint")), field(t("zones.campaign"), campaign, t("zones.campaign_hint")));
  const showKind = () => { fixedFields.hidden = kind.value !== "fixed_price"; };
  kind.addEventListener("change", showKind);
  showKind();
  const button = h("button", { type: "submit", class: "primary" }, zone ? t("common.save") : t("zones.create"));
  const messages = slot({ "data-testid": "zone-messages" });
  const form = h("form", {
    class: "card", "aria-labelledby": "zone-form-h",
    onsubmit: (e) => {
      e.preventDefault();
      busy(button, messages, async () => {
        const body = { kind: kind.value, name: name.value.trim(), skus: chosen, stores: list(stores.value) };
        if (kind.value === "fixed_price") {
          const fen = parseYuan(price.value);
          if (fen === null) throw new Error(t("zones.bad_price"));
          Object.assign(body, { price_fen: fen, starts_at: isoFromLocal(starts.value), ends_at: isoFromLocal(ends.value) });
          if (limit.value) body.per_customer_limit = Number(limit.value);
          if (campaign.value.trim()) body.campaign_id = campaign.value.trim();
        }
        let saved;
        if (zone) {
          saved = await request("PUT", `/admin/zones/${encodeURIComponent(zone.zone_id)}`, { body: { ...body, version: zone.version, status: status.value } });
        } else {
          saved = await post("/admin/zones", body);
        }
        ctx.navigate("/zones", { zone: saved.zone_id, saved: "1" });
      });
    },
  },
  h("h2", { id: "zone-form-h" }, zone ? t("zones.edit", { name: zone.name }) : t("zones.new")),
  field(t("zones.kind"), kind), field(t("zones.name"), name),
  field(t("zones.stores"), stores, t("zones.stores_hint")),
  zone ? field(t("zones.status"), status) : null,
  h("h3", {}, t("zones.products")), products,
  field(t("zones.store_for_search"), store), skuPicker(store, chosen, names, products),
  fixedFields,
  h("div", { class: "actions" }, button), messages);
  return form;
}

/** What the quote would suggest from this zone at a store for a sample gap. */
function previewCard(zone) {
  const store = h("input", { value: zone.stores[0] || homeStore() || "sh-jingan", class: "short" });
  const gap = h("input", { inputmode: "decimal", class: "short", value: "15.00" });
  const out = slot({ "data-testid": "zone-preview" });
  const button = h("button", { type: "submit" }, t("zones.preview_button"));
  return h("form", {
    class: "card", "aria-labelledby": "zone-preview-h",
    onsubmit: (e) => {
      e.preventDefault();
      busy(button, out, async () => {
        const fen = parseYuan(gap.value);
        if (!fen) throw new Error(t("zones.bad_price"));
        const got = await get(`/admin/zones/${encodeURIComponent(zone.zone_id)}/suggestions`, { store_id: store.value.trim(), gap_fen: fen });
        out.show(table(t("zones.preview_table", { gap: money(fen) }), [
          { label: "#", cell: (s) => String(got.suggestions.indexOf(s) + 1) },
          { label: t("zones.products"), cell: (s) => s.items.map((i) => `${i.name} × ${i.qty}`).join(" + ") },
          { label: t("zones.total"), num: true, cell: (s) => money(s.total_fen) },
        ], got.suggestions, { empty: t("zones.preview_none") }));
      });
    },
  },
  h("h2", { id: "zone-preview-h" }, t("zones.preview")),
  h("p", { class: "muted" }, t("zones.preview_intro")),
  h("div", { class: "row" }, field(t("common.store"), store), field(t("zones.gap"), gap), button), out);
}

export default {
  id: "zones",
  path: "/zones",
  title: "zones.title",
  nav: "nav.zones",
  group: "marketing",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const hq = isHq();
    const page = await get("/admin/zones");
    const chosen = page.items.find((z) => z.zone_id === ctx.query.zone) || null;
    const columns = [
      { label: t("zones.name"), cell: (z) => (hq ? h("a", { href: `#/zones?zone=${encodeURIComponent(z.zone_id)}` }, z.name) : z.name) },
      { label: t("zones.kind"), cell: (z) => t(`zones.kind.${z.kind}`) },
      { label: t("zones.status"), cell: statusBadge },
      { label: t("zones.products"), cell: (z) => z.skus.join(", ") },
      { label: t("zones.price"), num: true, cell: (z) => (z.price_fen ? money(z.price_fen) : "—") },
      { label: t("zones.window"), cell: windowText },
      { label: t("zones.stores"), cell: (z) => (z.stores.length ? z.stores.join(", ") : t("zones.all_stores")) },
    ];
    let editor = null;
    if (hq) {
      try {
        editor = zoneForm(ctx, chosen);
      } catch (err) {
        editor = errorBox(err);
      }
    }
    return h("section", {},
      h("h1", {}, t("zones.title")),
      h("p", { class: "muted" }, t("zones.intro")),
      ctx.query.saved && chosen ? okBox(t("zones.saved", { name: chosen.name })) : null,
      h("div", { "data-testid": "zone-table" }, table(t("zones.table"), columns, page.items, { empty: t("zones.empty"), rowClass: () => "zone-row" })),
      hq && chosen ? h("p", {}, h("a", { href: "#/zones" }, t("zones.new_link"))) : null,
      editor,
      hq && chosen && chosen.kind === "add_on" ? previewCard(chosen) : null);
  },
};
