import { patch, post } from "../api.js";
import { busy, field, h, select, slot } from "../dom.js";
import { parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { BACK_OFFICE, HQ, MANAGER, allowed, isHq } from "../session.js";
import * as stores from "../stores.js";
import { relaySection } from "./store_relays.js";

const DAYS = [0, 1, 2, 3, 4, 5, 6];
const NEW_STORE = {
  store_id: "", name: "", address: "", phone: null, lat: 31.2304, lng: 121.4737, radius_m: 3000,
  timezone: "Asia/Shanghai", minimum_order_fen: 2000, delivery_fee: { base_fee_fen: 500, free_above_fen: 5900 },
  hours: DAYS.map((day) => ({ day, open: "08:00", close: "22:00" })), active: true, printers: [],
};

function hourRow(slot_) {
  const day = select(DAYS.map((d) => [d, t(`day.${d}`)]), slot_.day, { "aria-label": t("stores.day") });
  const open = h("input", { type: "text", value: slot_.open, required: true, pattern: "([01]\\d|2[0-3]):[0-5]\\d", class: "short", "aria-label": t("stores.opens") });
  const close = h("input", { type: "text", value: slot_.close, required: true, pattern: "([01]\\d|2[0-3]):[0-5]\\d|24:00", class: "short", "aria-label": t("stores.closes") });
  const row = h("div", { class: "row hour-row" }, day, open, close);
  row.append(h("button", { type: "button", class: "link", onclick: () => row.remove() }, t("common.remove")));
  row.value = () => ({ day: Number(day.value), open: open.value, close: close.value });
  return row;
}

function printerRow(p) {
  const name = h("input", { value: p.name || "", required: true, maxlength: "40", "aria-label": t("stores.printer_name") });
  const paper = select([[80, "80 mm"], [58, "58 mm"]], p.paper_mm || 80, { "aria-label": t("stores.paper") });
  const copies = ["picking", "delivery"].map((c) => {
    const box = h("input", { type: "checkbox", checked: (p.copies || ["picking", "delivery"]).includes(c) });
    box.dataset.copy = c;
    return h("label", { class: "inline" }, box, t(`print.copy.${c}`));
  });
  const connection = h("input", { value: p.connection || "", maxlength: "100", placeholder: "192.168.1.50:9100", "aria-label": t("stores.connection") });
  const row = h("div", { class: "row printer-row" }, name, paper, copies, connection);
  row.append(h("button", { type: "button", class: "link", onclick: () => row.remove() }, t("common.remove")));
  row.value = () => ({
    name: name.value.trim(),
    paper_mm: Number(paper.value),
    copies: copies.map((l) => l.querySelector("input")).filter((b) => b.checked).map((b) => b.dataset.copy),
    connection: connection.value.trim() || null,
  });
  return row;
}

export default {
  id: "store",
  section: "stores",
  path: "/stores/:storeId",
  title: "stores.edit_title",
  roles: BACK_OFFICE,
  async render(ctx) {
    const creating = ctx.params.storeId === "new";
    if (creating && !isHq()) throw new Error(t("stores.only_hq_creates"));
    const store = creating ? structuredClone(NEW_STORE) : (await stores.list()).find((s) => s.store_id === ctx.params.storeId);
    if (!store) throw new Error(t("stores.not_found", { id: ctx.params.storeId }));
    const canEdit = allowed([HQ, MANAGER]);
    const messages = slot();

    const inp = (name, value, attrs = {}) => h("input", { name, value: value ?? "", ...attrs });
    const f = {
      store_id: inp("store_id", store.store_id, { required: true, pattern: "[a-z0-9][a-z0-9\\-]{1,31}", disabled: creating ? null : "" }),
      name: inp("name", store.name, { required: true, maxlength: "60" }),
      address: inp("address", store.address, { required: true, maxlength: "200" }),
      phone: inp("phone", store.phone, { pattern: "[0-9+\\- ]{5,20}" }),
      lat: inp("lat", store.lat, { type: "number", step: "0.000001", min: "-90", max: "90", required: true }),
      lng: inp("lng", store.lng, { type: "number", step: "0.000001", min: "-180", max: "180", required: true }),
      radius_m: inp("radius_m", store.radius_m, { type: "number", step: "1", min: "100", required: true }),
      timezone: inp("timezone", store.timezone, { required: true }),
      minimum_order: inp("minimum_order", yuanInput(store.minimum_order_fen), { inputmode: "decimal", required: true }),
      base_fee: inp("base_fee", yuanInput(store.delivery_fee.base_fee_fen), { inputmode: "decimal", required: true }),
      free_above: inp("free_above", store.delivery_fee.free_above_fen == null ? "" : yuanInput(store.delivery_fee.free_above_fen), { inputmode: "decimal" }),
      active: h("input", { type: "checkbox", name: "active", checked: store.active }),
      // The opening day: the store's anniversary (店庆) on the campaign calendar; head office's.
      opened_on: inp("opened_on", store.opened_on, { type: "date", disabled: isHq() ? null : "" }),
    };
    const hours = h("div", {}, store.hours.map(hourRow));
    const printers = h("div", {}, (store.printers || []).map(printerRow));

    const money = (input, label, optional) => {
      if (optional && input.value.trim() === "") return null;
      const fen = parseYuan(input.value);
      if (fen === null) throw new Error(t("common.bad_amount", { field: label }));
      return fen;
    };
    const body = () => {
      const b = {
        name: f.name.value.trim(),
        address: f.address.value.trim(),
        phone: f.phone.value.trim() || null,
        lat: Number(f.lat.value),
        lng: Number(f.lng.value),
        radius_m: Number(f.radius_m.value),
        timezone: f.timezone.value.trim(),
        minimum_order_fen: money(f.minimum_order, t("stores.minimum_order")),
        delivery_fee: {
          base_fee_fen: money(f.base_fee, t("stores.delivery_fee")),
          free_above_fen: money(f.free_above, t("stores.free_above"), true),
        },
        hours: [...hours.children].map((r) => r.value()),
        printers: [...printers.children].map((r) => r.value()),
        active: f.active.checked,
      };
      if (creating) b.store_id = f.store_id.value.trim();
      if (isHq()) b.opened_on = f.opened_on.value || null;
      return b;
    };

    const submit = h("button", { type: "submit", class: "primary", disabled: canEdit ? null : "" }, creating ? t("stores.create") : t("common.save"));
    const form = h(
      "form",
      {
        onsubmit: (e) => {
          e.preventDefault();
          busy(submit, messages, async () => {
            const saved = creating ? await post("/admin/stores", body()) : await patch(`/admin/stores/${store.store_id}`, body());
            stores.forget();
            sessionStorage.setItem("daojia.flash", t("stores.saved", { name: saved.name }));
            ctx.navigate(`/stores/${saved.store_id}`);
          });
        },
      },
      h("fieldset", {}, h("legend", {}, t("stores.basics")), h("div", { class: "form-grid" },
        field(t("stores.id"), f.store_id, creating ? t("stores.id_hint") : null),
        field(t("stores.name"), f.name),
        field(t("stores.address"), f.address),
        field(t("stores.phone"), f.phone),
        field(t("stores.timezone"), f.timezone),
        field(t("stores.opened_on"), f.opened_on, t("stores.opened_on_hint")),
        h("label", { class: "inline" }, f.active, t("stores.active")))),
      h("fieldset", {}, h("legend", {}, t("stores.delivery")), h("div", { class: "form-grid" },
        field(t("stores.lat"), f.lat),
        field(t("stores.lng"), f.lng),
        field(t("stores.radius_m"), f.radius_m),
        field(t("stores.minimum_order"), f.minimum_order, t("common.in_yuan")),
        field(t("stores.delivery_fee"), f.base_fee, t("common.in_yuan")),
        field(t("stores.free_above"), f.free_above, t("stores.free_above_hint")))),
      h("fieldset", {}, h("legend", {}, t("stores.hours")), h("p", { class: "muted" }, t("stores.hours_hint")), hours,
        h("button", { type: "button", onclick: () => hours.append(hourRow({ day: 0, open: "08:00", close: "22:00" })) }, t("stores.add_hours"))),
      h("fieldset", {}, h("legend", {}, t("stores.printers")), h("p", { class: "muted" }, t("stores.printers_hint")), printers,
        h("button", { type: "button", onclick: () => printers.children.length < 4 && printers.append(printerRow({})) }, t("stores.add_printer"))),
      messages,
      submit,
    );
    const flash = sessionStorage.getItem("daojia.flash");
    if (flash) {
      sessionStorage.removeItem("daojia.flash");
      messages.show(h("div", { class: "msg ok", role: "status" }, flash));
    }
    if (!canEdit) for (const el of form.querySelectorAll("input, select, button")) el.disabled = true;
    return h(
      "section",
      {},
      h("p", {}, h("a", { href: "#/stores" }, `← ${t("stores.title")}`)),
      h("h1", {}, creating ? t("stores.create") : t("stores.edit_named", { name: store.name })),
      form,
      creating ? null : await relaySection(ctx, store),
    );
  },
};
