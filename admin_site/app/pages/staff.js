import { get, patch, post } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { columnsTable, tableExportButton } from "../export.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, STAFF, isHq, session } from "../session.js";
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

/** Ask before a destructive action, in a modal <dialog>: resolves to true (confirmed),
 * false (cancelled, Esc) or, with `password`, to the password typed. */
function confirmDialog({ title, text, confirmLabel, password = false }) {
  return new Promise((resolve) => {
    const heading = h("h2", { id: "confirm-title" }, title);
    const input = password
      ? h("input", { type: "password", required: true, minlength: "10", autocomplete: "new-password" })
      : null;
    const ok = h("button", { type: "submit", class: "danger" }, confirmLabel);
    const cancel = h("button", { type: "button" }, t("staff.cancel"));
    const form = h("form", { method: "dialog" },
      heading,
      h("p", {}, text),
      input ? field(t("staff.new_password"), input, t("staff.password_hint")) : null,
      h("div", { class: "row" }, cancel, " ", ok));
    const dialog = h("dialog", { "aria-labelledby": "confirm-title" }, form);
    let answer = false;
    form.addEventListener("submit", () => { answer = input ? input.value : true; });
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    (input || cancel).focus();
  });
}

function actions(account, messages, ctx) {
  const name = account.display_name;
  const done = (text) => {
    sessionStorage.setItem("daojia.flash", text);
    ctx.rerender();
  };
  const button = (label, danger, onclick) => {
    const b = h("button", { type: "button", class: danger ? "danger" : null }, label);
    b.addEventListener("click", () => onclick(b));
    return b;
  };
  const me = session() && session().staff.username === account.username;
  // The API refuses disabling one's own account (409); the button is not offered either.
  const toggle = me && account.active ? null : button(account.active ? t("staff.disable") : t("staff.enable"), account.active, async (b) => {
    if (account.active && !(await confirmDialog({
      title: t("staff.disable"), text: t("staff.disable_confirm", { name }), confirmLabel: t("staff.disable"),
    }))) return;
    busy(b, messages, async () => {
      await patch(`/admin/staff/${account.username}`, { active: !account.active });
      done(t("staff.updated", { name }));
    });
  });
  const reset = button(t("staff.reset_password"), false, async (b) => {
    const password = await confirmDialog({
      title: t("staff.reset_password"), text: t("staff.reset_confirm", { name }),
      confirmLabel: t("staff.reset_password"), password: true,
    });
    if (!password) return;
    busy(b, messages, async () => {
      await patch(`/admin/staff/${account.username}`, { password });
      messages.show(okBox(t("staff.password_reset", { name })));
    });
  });
  const unlock = button(t("staff.unlock"), false, (b) => busy(b, messages, async () => {
    await post(`/admin/staff/${account.username}/unlock`, {});
    messages.show(okBox(t("staff.unlocked", { name })));
  }));
  const signOut = isHq() ? button(t("staff.sign_out_everywhere"), true, async (b) => {
    if (!(await confirmDialog({
      title: t("staff.sign_out_everywhere"), text: t("staff.sign_out_confirm", { name }),
      confirmLabel: t("staff.sign_out_everywhere"),
    }))) return;
    busy(b, messages, async () => {
      await post(`/admin/staff/${account.username}/sign-out-everywhere`, {});
      messages.show(okBox(t("staff.signed_out", { name })));
    });
  }) : null;
  return h("div", { class: "row" }, [reset, unlock, signOut, toggle].filter(Boolean).flatMap((b) => [b, " "]).slice(0, -1));
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
      const columns = [
        { label: t("staff.username"), cell: (a) => a.username },
        { label: t("staff.display_name"), cell: (a) => a.display_name },
        { label: t("staff.role"), cell: (a) => t(`role.${a.role}`) },
        { label: t("stores.state"), cell: (a) => (a.active ? badge(t("staff.active"), "ok") : badge(t("staff.disabled"), "bad")) },
        { label: t("common.actions"), csv: false, cell: (a) => (a.role === HQ && !isHq() ? "—" : actions(a, messages, ctx)) },
      ];
      list = [
        h("div", { class: "row" }, h("div", { class: "spacer" }), tableExportButton(() => columnsTable(`staff_${scope}`, columns, accounts), { name: "staff" })),
        table(t("staff.title"), columns, accounts, { empty: t("staff.empty") }),
      ];
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
