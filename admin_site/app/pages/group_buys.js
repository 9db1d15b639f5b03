import { get, request } from "../api.js";
import { badge, busy, field, h, okBox, slot, table } from "../dom.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

// 拼团: head office's group-buy offers, each offer's groups (state, seats taken / paid /
// size, expiry) and their members (masked by the API), and the offer form (create/edit).
// docs/mechanics.md "Group buy".
const TONES = { open: "warn", succeeded: "ok", failed: "bad" };

function offerForm(ctx, offer) {
  const v = offer || { size: 10, time_limit_min: 1440, per_member_limit: 1, pickup_only: true, on_timeout: "fail", stores: [] };
  const input = (name, attrs) => h("input", { name, required: true, ...attrs });
  const c = {
    campaign_id: input("campaign_id", { value: v.campaign_id || "" }),
    title: input("title", { value: v.title || "", maxlength: "60" }),
    sku: input("sku", { value: v.sku || "" }),
    group_price_fen: input("group_price_fen", { type: "number", min: "1", value: v.group_price_fen ?? "" }),
    size: input("size", { type: "number", min: "2", max: "100", value: v.size }),
    time_limit_min: input("time_limit_min", { type: "number", min: "5", max: "10080", value: v.time_limit_min }),
    per_member_limit: input("per_member_limit", { type: "number", min: "1", max: "100", value: v.per_member_limit }),
    stores: input("stores", { value: (v.stores || []).join(",") }),
    starts_at: input("starts_at", { value: v.starts_at || "", placeholder: "2026-12-10T00:00:00Z" }),
    ends_at: input("ends_at", { value: v.ends_at || "", placeholder: "2026-12-13T00:00:00Z" }),
  };
  const pickup = h("input", { type: "checkbox", name: "pickup_only" });
  pickup.checked = v.pickup_only;
  const onTimeout = h("select", { name: "on_timeout" },
    ...["fail", "complete"].map((k) => h("option", { value: k, selected: v.on_timeout === k }, t(`group_buys.on_timeout.${k}`))));
  const button = h("button", { type: "submit", class: "primary" }, t("group_buys.save"));
  const messages = slot({ "data-testid": "group-buy-messages" });
  const labels = {
    campaign_id: "group_buys.campaign_id", title: "group_buys.offer_title", sku: "group_buys.sku",
    group_price_fen: "group_buys.group_price", size: "group_buys.size", time_limit_min: "group_buys.time_limit",
    per_member_limit: "group_buys.per_member_limit", stores: "group_buys.stores",
    starts_at: "group_buys.starts_at", ends_at: "group_buys.ends_at",
  };
  return h("form", {
    class: "card", "data-testid": "group-buy-form",
    onsubmit: (e) => {
      e.preventDefault();
      const num = (k) => Number(c[k].value);
      const body = {
        campaign_id: c.campaign_id.value.trim(), title: c.title.value.trim(), sku: c.sku.value.trim(),
        group_price_fen: num("group_price_fen"), size: num("size"), time_limit_min: num("time_limit_min"),
        per_member_limit: num("per_member_limit"),
        stores: c.stores.value.split(",").map((s) => s.trim()).filter(Boolean),
        pickup_only: pickup.checked, on_timeout: onTimeout.value,
        starts_at: c.starts_at.value.trim(), ends_at: c.ends_at.value.trim(),
      };
      busy(button, messages, async () => {
        if (offer) await request("PUT", `/admin/group-buys/${encodeURIComponent(offer.offer_id)}`, { body });
        else await request("POST", "/admin/group-buys", { body });
        messages.show(okBox(t("group_buys.saved")));
        ctx.navigate("/group-buys", {});
      });
    },
  },
  h("h2", {}, offer ? `${t("group_buys.edit")} ${offer.title}` : t("group_buys.new")),
  ...Object.entries(c).map(([k, control]) => field(t(labels[k]), control)),
  field(t("group_buys.pickup_only"), pickup),
  field(t("group_buys.on_timeout"), onTimeout),
  h("div", { class: "actions" }, button), messages);
}

async function groupsSection(offer) {
  const page = await get(`/admin/group-buys/${encodeURIComponent(offer.offer_id)}/groups`);
  return h("section", { "data-testid": "group-buy-groups" },
    h("h2", {}, `${t("group_buys.groups")}: ${offer.title}`),
    table(t("group_buys.groups"), [
      { label: "ID", cell: (g) => g.group_id },
      { label: t("group_buys.state"), cell: (g) => badge(g.state, TONES[g.state]) },
      { label: t("group_buys.seats"), num: true, cell: (g) => `${g.seats_taken} / ${g.seats_paid} / ${g.size}` },
      { label: t("group_buys.expires_at"), cell: (g) => g.expires_at },
      { label: t("group_buys.members"), cell: (g) => g.members.map((m) => `${m.name}${m.paid ? " ✓" : ""}`).join("、") },
    ], page.items, { empty: t("group_buys.no_groups") }));
}

export default {
  id: "group-buys",
  path: "/group-buys",
  title: "group_buys.title",
  nav: "group_buys.title",
  group: "marketing",
  roles: [HQ],
  async render(ctx) {
    const page = await get("/admin/group-buys");
    const chosen = page.items.find((o) => o.offer_id === ctx.query.offer);
    const editing = ctx.query.edit ? page.items.find((o) => o.offer_id === ctx.query.edit) : null;
    const offers = table(t("group_buys.title"), [
      { label: t("group_buys.offer_title"), cell: (o) => h("a", { href: `#/group-buys?offer=${encodeURIComponent(o.offer_id)}` }, o.title) },
      { label: t("group_buys.sku"), cell: (o) => o.sku },
      { label: t("group_buys.group_price"), num: true, cell: (o) => String(o.group_price_fen) },
      { label: t("group_buys.size"), num: true, cell: (o) => String(o.size) },
      { label: t("group_buys.on_timeout"), cell: (o) => t(`group_buys.on_timeout.${o.on_timeout}`) },
      { label: t("group_buys.campaign_id"), cell: (o) => o.campaign_id },
      { label: "", cell: (o) => h("a", { href: `#/group-buys?edit=${encodeURIComponent(o.offer_id)}` }, t("group_buys.edit")) },
    ], page.items, { empty: t("group_buys.none") });
    return h("div", { class: "page" },
      h("h1", {}, t("group_buys.title")),
      h("div", { "data-testid": "group-buy-offers" }, offers),
      chosen ? await groupsSection(chosen) : null,
      offerForm(ctx, editing));
  },
};
