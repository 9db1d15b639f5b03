// The points mall (积分商城), head office: the rewards on offer (a coupon template or a
// product, for points or points + cash), their units left and redemptions, a form to
// list or edit one, and units added or withdrawn. The API audits every change.
import { get, post, request } from "../api.js";
import { badge, busy, field, h, okBox, select, slot, table } from "../dom.js";
import { dateTime, isoFromLocal, localFromIso, money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

const KINDS = ["coupon", "product"];

function whole(input) {
  const n = Number(String(input.value).trim());
  return Number.isInteger(n) ? n : null;
}

/** The create / edit form; `reward` null creates. */
function editor(reward, templates, done) {
  const creating = reward === null;
  // the id is chosen once per form: a create sent twice is refused (reward_exists), not doubled
  const newId = `rw-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const r = reward || { kind: "coupon", points: 100, cash_fen: 0, stock: 10, per_member_limit: 1, active: true };
  const kind = select(KINDS.map((k) => [k, t(`mall.kind.${k}`)]), r.kind, { "data-testid": "mall-kind", disabled: !creating });
  const name = h("input", { required: true, maxlength: "60", value: r.name || "", "data-testid": "mall-name" });
  const template = select(templates.map((c) => [c.template_id, c.name]), r.template_id || (templates[0] && templates[0].template_id), { "data-testid": "mall-template", disabled: !creating });
  const sku = h("input", { pattern: "[A-Za-z0-9_\\-]{1,32}", value: r.sku || "", disabled: !creating, "data-testid": "mall-sku" });
  const points = h("input", { inputmode: "numeric", required: true, value: String(r.points), "data-testid": "mall-points" });
  const cash = h("input", { inputmode: "decimal", value: yuanInput(r.cash_fen), "data-testid": "mall-cash" });
  const stock = h("input", { inputmode: "numeric", required: true, value: String(r.stock), "data-testid": "mall-stock" });
  const limit = h("input", { inputmode: "numeric", required: true, value: String(r.per_member_limit), "data-testid": "mall-limit" });
  const ends = h("input", { type: "datetime-local", value: r.ends_at ? localFromIso(r.ends_at) : "" });
  const active = h("input", { type: "checkbox", checked: r.active });
  const couponField = field(t("mall.template"), template);
  const skuField = field(t("mall.sku"), sku, t("mall.sku_hint"));
  const cashField = field(t("mall.cash"), cash, t("mall.cash_hint"));
  const showKind = () => {
    const coupon = kind.value === "coupon";
    couponField.hidden = !coupon;
    skuField.hidden = coupon;
    cashField.hidden = coupon; // a coupon is issued at once, for points only
  };
  kind.addEventListener("change", showKind);
  showKind();
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, creating ? t("mall.create") : t("mall.save"));
  const submit = (e) => {
    e.preventDefault();
    busy(save, messages, async () => {
      const pts = whole(points);
      const perMember = whole(limit);
      const units = whole(stock);
      const cashFen = kind.value === "coupon" ? 0 : parseYuan(cash.value || "0");
      if (pts === null || perMember === null || units === null || cashFen === null) throw new Error(t("mall.bad_number"));
      const endsAt = ends.value ? isoFromLocal(ends.value) : null;
      if (creating) {
        const body = { reward_id: newId, kind: kind.value, name: name.value.trim(), points: pts, cash_fen: cashFen, stock: units, per_member_limit: perMember, active: active.checked, ends_at: endsAt };
        if (kind.value === "coupon") body.template_id = template.value;
        else body.sku = sku.value.trim();
        await post("/admin/loyalty/mall/rewards", body);
      } else {
        await request("PATCH", `/admin/loyalty/mall/rewards/${encodeURIComponent(r.reward_id)}`, {
          body: { version: r.version, name: name.value.trim(), points: pts, ...(r.kind === "coupon" ? {} : { cash_fen: cashFen }), per_member_limit: perMember, active: active.checked, ends_at: endsAt },
        });
      }
      done(creating ? t("mall.created") : t("mall.saved"));
    });
  };
  return h("form", { class: "card", onsubmit: submit, "data-testid": "mall-editor" },
    h("h2", {}, creating ? t("mall.new") : t("mall.edit", { name: r.name })),
    h("div", { class: "row" }, field(t("mall.kind"), kind), field(t("mall.name"), name)),
    h("div", { class: "row" }, couponField, skuField),
    h("div", { class: "row" }, field(t("mall.points"), points), cashField),
    h("div", { class: "row" },
      creating ? field(t("mall.stock"), stock, t("mall.stock_hint")) : null,
      field(t("mall.limit"), limit, t("mall.limit_hint")),
      field(t("mall.ends"), ends, t("mall.ends_hint")),
    ),
    h("label", { class: "row" }, active, t("mall.active")),
    h("div", { class: "row" }, save),
    messages,
  );
}

function stockControl(reward, done, messages) {
  const delta = h("input", { inputmode: "numeric", value: "", placeholder: "+10 / -5", "aria-label": t("mall.stock_change", { name: reward.name }), size: "6" });
  const apply = h("button", { type: "button" }, t("mall.stock_apply"));
  apply.addEventListener("click", () =>
    busy(apply, messages, async () => {
      const n = whole(delta);
      if (!n) throw new Error(t("mall.bad_number"));
      await post(`/admin/loyalty/mall/rewards/${encodeURIComponent(reward.reward_id)}/stock`, { delta: n });
      done(t("mall.stock_changed"));
    }),
  );
  return h("span", { class: "row" }, delta, apply);
}

export default {
  id: "mall",
  path: "/mall",
  title: "mall.title",
  nav: "nav.mall",
  roles: [HQ],
  async render(ctx) {
    const [rewards, templates] = await Promise.all([
      get("/admin/loyalty/mall/rewards"),
      get("/admin/coupon-templates").then((x) => x.items).catch(() => []),
    ]);
    const messages = slot();
    const editorSlot = slot();
    const done = async (text) => {
      await ctx.rerender();
      // the page is rebuilt: say what happened on the new one
      const box = document.querySelector("[data-testid=mall-messages]");
      if (box) box.append(okBox(text));
    };
    const open = (reward) => {
      editorSlot.show(editor(reward, templates, done));
      editorSlot.firstElementChild?.scrollIntoView?.({ block: "nearest" });
    };
    const list = table(t("mall.rewards"), [
      { label: t("mall.name"), cell: (r) => h("span", {}, r.name, " ", r.active ? null : badge(t("mall.inactive"), "muted")) },
      { label: t("mall.kind"), cell: (r) => t(`mall.kind.${r.kind}`) },
      { label: t("mall.price"), cell: (r) => (r.cash_fen ? t("mall.points_cash", { points: r.points, cash: money(r.cash_fen) }) : t("mall.points_only", { points: r.points })) },
      { label: t("mall.stock"), num: true, cell: (r) => String(r.stock) },
      { label: t("mall.redeemed"), num: true, cell: (r) => String(r.redeemed_count) },
      { label: t("mall.limit"), num: true, cell: (r) => String(r.per_member_limit) },
      { label: t("mall.ends"), cell: (r) => (r.ends_at ? dateTime(r.ends_at) : "—") },
      { label: t("mall.stock_change_col"), cell: (r) => stockControl(r, done, messages) },
      { label: "", cell: (r) => h("button", { type: "button", onclick: () => open(r) }, t("mall.edit_button")) },
    ], rewards.items, { empty: t("mall.empty") });
    return h("section", {},
      h("h1", {}, t("mall.title")),
      h("p", { class: "hint" }, t("mall.intro")),
      h("div", { "data-testid": "mall-messages" }, messages),
      h("div", { class: "row" }, h("button", { type: "button", class: "primary", onclick: () => open(null) }, t("mall.new"))),
      editorSlot,
      h("div", { class: "card", "data-testid": "mall-rewards" }, list),
    );
  },
};
