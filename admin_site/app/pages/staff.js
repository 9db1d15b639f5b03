import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, STAFF, isHq } from "../session.js";
import * as stores from "../stores.js";

function createForm(scope, messages, ctx) {
  const username = h("input", { required: true, pattern: "[a-z0-9][a-z0-9._\\-]{2,39}", autocomplete: "off" });
  const name = h("input", { required: true, maxlength: "40" });
  const roles = scope === "hq" ? [HQ] : [STAFF, MANAGER];
  const role = select(roles.map((r) => [r, t(`role.${r}`)]), roles[0]);
  const password = h("input", { type: "password", required: true, minlength: "10", autocomplete: "new-password" });
  const submit = h("button", { type: "submit", class: "primary" }, t("staff.create"));
  return h("form", {
    class: "card",
    onsubmit: (e) => {
      e.preventDefault();
      busy(submit, messages, async () => {
        const made = await post("/admin/staff", {
          username: username.value.trim(), display_name: name.value.trim(), role: role.value,
          store_id: scope === "hq" ? null : scope, password: password.value,
        });
        sessionStorage.setItem("daojia.flash", t("staff.created", { name: made.display_name, username: made.username }));
        ctx.rerender();
      });
    },
  },
  h("h2", {}, t("staff.create")),
  h("div", { class: "form-grid" },
    field(t("staff.username"), username, t("staff.username_hint")),
    field(t("staff.display_name"), name),
    field(t("staff.role"), role),
    field(t("staff.password"), password, t("staff.password_hint"))),
  submit);
}

function actions(account, messages, ctx) {
  const toggle = h("button", { type: "button", class: account.active ? "danger" : null }, account.active ? t("staff.disable") : t("staff.enable"));
  toggle.addEventListener("click", () => busy(toggle, messages, async () => {
    await patch(`/admin/staff/${account.username}`, { active: !account.active });
    sessionStorage.setItem("daojia.flash", t("staff.updated", { name: account.display_name }));
    ctx.rerender();
  }));
  const reset = h("button", { type: "button" }, t("staff.reset_password"));
  reset.addEventListener("click", () => {
    const password = window.prompt(t("staff.new_password_prompt", { name: account.display_name }));
    if (!password) return;
    busy(reset, messages, async () => {
      await patch(`/admin/staff/${account.username}`, { password });
      messages.show(okBox(t("staff.password_reset", { name: account.display_name })));
    });
  });
  return [reset, " ", toggle];
}

export default {
  id: "staff",
  path: "/staff",
  title: "staff.title",
  nav: "nav.staff",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const all = await stores.list();
    const scope = isHq() ? ctx.query.scope || (all[0] ? all[0].store_id : "hq") : await stores.chosen();
    const scopeSelect = select([["hq", t("staff.head_office")], ...all.map((s) => [s.store_id, `${s.name} (${s.store_id})`])], scope, { disabled: isHq() ? null : "" });
    scopeSelect.addEventListener("change", () => ctx.navigate("/staff", { scope: scopeSelect.value }));
    const messages = slot();
    const flash = sessionStorage.getItem("daojia.flash");
    if (flash) {
      sessionStorage.removeItem("daojia.flash");
      messages.show(okBox(flash));
    }
    let list;
    try {
      const accounts = (await get("/admin/staff", { store_id: scope })).items;
      list = table(t("staff.title"), [
        { label: t("staff.username"), cell: (a) => a.username },
        { label: t("staff.display_name"), cell: (a) => a.display_name },
        { label: t("staff.role"), cell: (a) => t(`role.${a.role}`) },
        { label: t("stores.state"), cell: (a) => (a.active ? badge(t("staff.active"), "ok") : badge(t("staff.disabled"), "bad")) },
        { label: t("common.actions"), cell: (a) => (a.role === HQ && !isHq() ? "—" : actions(a, messages, ctx)) },
      ], accounts, { empty: t("staff.empty") });
    } catch (err) {
      list = errorBox(err);
    }
    return h(
      "section",
      {},
      h("h1", {}, t("staff.title")),
      h("div", { class: "row card" }, field(t("staff.scope"), scopeSelect)),
      messages,
      list,
      isHq() ? createForm(scope, messages, ctx) : h("p", { class: "muted" }, t("staff.hq_creates")),
    );
  },
};
