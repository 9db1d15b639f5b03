// Staff distribution (员工分销): the month's leaderboard (chain or store) with guide levels
// and the cost per acquired customer, the monthly commission statements with a CSV
// download and "mark paid" (head office), and head office's rules. Store managers see
// their store. The API checks every role again and audits every change.
import { get, post, request } from "../api.js";
import { busy, field, h, okBox, select, slot, table } from "../dom.js";
import { money, parseYuan, today, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, isHq } from "../session.js";
import * as stores from "../stores.js";

function whole(input) {
  const n = Number(String(input.value).trim());
  return Number.isInteger(n) && n >= 0 ? n : null;
}

function fen(input) {
  const v = parseYuan(String(input.value || "0"));
  if (v === null) throw new Error(t("distribution.bad_number"));
  return v;
}

function saveCsv(filename, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function settingsForm(cfg, templates, done) {
  const binding = select([["permanent", t("distribution.binding.permanent")], ["days", t("distribution.binding.days")]], cfg.binding, { "data-testid": "dist-binding" });
  const bindingDays = h("input", { inputmode: "numeric", value: String(cfg.binding_days) });
  const protection = h("input", { inputmode: "numeric", value: String(cfg.protection_days) });
  const mode = select([["fixed", t("distribution.mode.fixed")], ["rate", t("distribution.mode.rate")]], cfg.mode);
  const first = h("input", { inputmode: "decimal", value: yuanInput(cfg.first_order_fen) });
  const second = h("input", { inputmode: "decimal", value: yuanInput(cfg.second_order_fen) });
  const rate = h("input", { inputmode: "numeric", value: String(cfg.rate_bp) });
  const l2first = h("input", { inputmode: "decimal", value: yuanInput(cfg.level2_first_order_fen) });
  const l2second = h("input", { inputmode: "decimal", value: yuanInput(cfg.level2_second_order_fen) });
  const l2rate = h("input", { inputmode: "numeric", value: String(cfg.level2_rate_bp) });
  const options = [["", t("distribution.no_coupon")], ...templates.map((c) => [c.template_id, c.name])];
  const welcome = select(options, cfg.welcome_template_id || "");
  const secondCoupon = select(options, cfg.second_template_id || "");
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("distribution.save"));
  const submit = (e) => {
    e.preventDefault();
    busy(save, messages, async () => {
      const nums = [bindingDays, protection, rate, l2rate].map(whole);
      if (nums.includes(null)) throw new Error(t("distribution.bad_number"));
      await request("PUT", "/admin/distribution/settings", {
        body: {
          ...cfg,
          binding: binding.value,
          binding_days: nums[0],
          protection_days: nums[1],
          mode: mode.value,
          first_order_fen: fen(first),
          second_order_fen: fen(second),
          rate_bp: nums[2],
          level2_first_order_fen: fen(l2first),
          level2_second_order_fen: fen(l2second),
          level2_rate_bp: nums[3],
          welcome_template_id: welcome.value || null,
          second_template_id: secondCoupon.value || null,
        },
      });
      done(t("distribution.saved"));
    });
  };
  return h("form", { class: "card", onsubmit: submit, "data-testid": "dist-settings" },
    h("h2", {}, t("distribution.settings")),
    h("div", { class: "row" },
      field(t("distribution.binding"), binding),
      field(t("distribution.binding_days"), bindingDays),
      field(t("distribution.protection_days"), protection, t("distribution.protection_hint")),
    ),
    h("div", { class: "row" },
      field(t("distribution.mode"), mode),
      field(t("distribution.first_order"), first),
      field(t("distribution.second_order"), second),
      field(t("distribution.rate_bp"), rate, t("distribution.rate_hint")),
    ),
    h("div", { class: "row" },
      field(t("distribution.l2_first_order"), l2first),
      field(t("distribution.l2_second_order"), l2second),
      field(t("distribution.l2_rate_bp"), l2rate),
    ),
    h("div", { class: "row" },
      field(t("distribution.welcome_coupon"), welcome),
      field(t("distribution.second_coupon"), secondCoupon),
    ),
    h("p", { class: "hint" }, t("distribution.levels_hint", { n: String((cfg.guide_levels || []).length) })),
    h("div", { class: "row" }, save),
    messages,
  );
}

export default {
  id: "distribution",
  path: "/distribution",
  title: "distribution.title",
  nav: "nav.distribution",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const month = /^\d{4}-\d{2}$/.test(ctx.query.month || "") ? ctx.query.month : today().slice(0, 7);
    const storeId = isHq() ? ctx.query.store || "" : await stores.chosen(null);
    const query = { month, ...(storeId ? { store_id: storeId } : {}) };
    const [board, statements, cfg, templates] = await Promise.all([
      get("/admin/distribution/leaderboard", query),
      get("/admin/distribution/statements", query),
      isHq() ? get("/admin/distribution/settings") : Promise.resolve(null),
      isHq() ? get("/admin/coupon-templates").then((x) => x.items).catch(() => []) : Promise.resolve([]),
    ]);
    const messages = slot();
    const done = async (text) => {
      await ctx.rerender();
      const box = document.querySelector("[data-testid=dist-messages]");
      if (box) box.append(okBox(text));
    };
    const monthInput = h("input", { type: "month", value: month, "data-testid": "dist-month" });
    const storePick = await stores.picker(storeId, { allOption: true });
    const show = () => ctx.navigate("/distribution", { month: monthInput.value || month, ...(storePick.value ? { store: storePick.value } : {}) });
    monthInput.addEventListener("change", show);
    storePick.addEventListener("change", show);

    const leaders = table(t("distribution.leaderboard"), [
      { label: t("distribution.staff"), cell: (r) => r.username },
      { label: t("distribution.store"), cell: (r) => r.store_id || "—" },
      { label: t("distribution.new_members"), num: true, cell: (r) => String(r.new_members) },
      { label: t("distribution.orders"), num: true, cell: (r) => String(r.orders) },
      { label: t("distribution.gmv"), num: true, cell: (r) => money(r.gmv_fen) },
      { label: t("distribution.commission"), num: true, cell: (r) => money(r.commission_fen) },
      { label: t("distribution.efficiency"), num: true, cell: (r) => `${(r.share_efficiency_bp / 100).toFixed(0)}%` },
      { label: t("distribution.guide_level"), cell: (r) => r.guide_level || "—" },
    ], board.items, { empty: t("distribution.empty") });
    const cost = h("div", { class: "card", "data-testid": "dist-cost" },
      h("h2", {}, t("distribution.cost")),
      h("p", {}, board.cost_per_member_fen === null ? "—" : money(board.cost_per_member_fen),
        " ", h("span", { class: "hint" }, t("distribution.benchmark", { low: money(board.benchmark_fen[0]), high: money(board.benchmark_fen[1]) }))),
      h("p", { class: "hint" }, t("distribution.cost_hint", { members: String(board.new_members), commission: money(board.commission_fen), coupons: money(board.coupon_face_fen) })),
    );
    const payButton = (r) => {
      if (!isHq() || r.paid_at) return r.paid_at ? t("distribution.paid", { amount: money(r.paid_fen) }) : "—";
      const b = h("button", { type: "button" }, t("distribution.mark_paid"));
      b.addEventListener("click", () => busy(b, messages, async () => {
        await post("/admin/distribution/payouts", { month, username: r.username, request_id: `pay-${month}-${r.username}` });
        done(t("distribution.marked_paid"));
      }));
      return b;
    };
    const csvButton = h("button", { type: "button", "data-testid": "dist-csv" }, t("distribution.csv"));
    csvButton.addEventListener("click", () => busy(csvButton, messages, async () => {
      const got = await get("/admin/distribution/statements-csv", query);
      saveCsv(got.filename, got.csv);
    }));
    const lines = table(t("distribution.statements"), [
      { label: t("distribution.staff"), cell: (r) => r.username },
      { label: t("distribution.accrued"), num: true, cell: (r) => money(r.accrued_fen) },
      { label: t("distribution.reversed"), num: true, cell: (r) => money(-r.reversed_fen) },
      { label: t("distribution.pending"), num: true, cell: (r) => money(r.pending_fen) },
      { label: t("distribution.carried"), num: true, cell: (r) => money(r.carried_fen) },
      { label: t("distribution.payable"), num: true, cell: (r) => money(r.payable_fen) },
      { label: "", cell: payButton },
    ], statements.items, { empty: t("distribution.empty") });
    return h("section", {},
      h("h1", {}, t("distribution.title")),
      h("p", { class: "hint" }, t("distribution.intro")),
      h("div", { "data-testid": "dist-messages" }, messages),
      h("div", { class: "row" }, field(t("distribution.month"), monthInput), field(t("distribution.store"), storePick)),
      h("div", { class: "card", "data-testid": "dist-leaderboard" }, h("h2", {}, t("distribution.leaderboard")), leaders),
      cost,
      h("div", { class: "card", "data-testid": "dist-statements" }, h("h2", {}, t("distribution.statements")), h("div", { class: "row" }, csvButton), lines),
      cfg ? settingsForm(cfg, templates, done) : null,
    );
  },
};
