import { post } from "../api.js";
import { busy, field, h, slot } from "../dom.js";
import { t } from "../i18n.js";
import * as session from "../session.js";

export default {
  id: "signin",
  path: "/signin",
  title: "signin.title",
  public: true,
  roles: [],
  async render() {
    const username = h("input", { name: "username", autocomplete: "username", required: true, autofocus: true });
    const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
    const messages = slot();
    // Kept until the next sign-in, so a second render of this page (a redirect) still
    // says why the user is here.
    const reason = sessionStorage.getItem("daojia.signin_reason");
    if (reason) messages.show(h("div", { class: "msg error", role: "alert" }, reason));
    const submit = h("button", { type: "submit", class: "primary" }, t("signin.submit"));
    const form = h(
      "form",
      {
        onsubmit: (e) => {
          e.preventDefault();
          busy(submit, messages, async () => {
            const result = await post("/auth/login", { username: username.value.trim(), password: password.value });
            if (!session.BACK_OFFICE.includes(result.staff.role)) {
              throw new Error(t("signin.not_staff"));
            }
            session.save(result);
            sessionStorage.removeItem("daojia.signin_reason");
            window.dispatchEvent(new Event("daojia:signed-in"));
          });
        },
      },
      field(t("signin.username"), username),
      field(t("signin.password"), password),
      messages,
      submit,
    );
    return h("section", { class: "signin card" }, h("h1", {}, t("signin.title")), h("p", { class: "muted" }, t("signin.intro")), form);
  },
};
