import { get, post, request } from "../api.js";
import { badge, busy, errorBox, field, h, okBox, select, slot, table } from "../dom.js";
import { DEFAULT_TZ, dateTime, isoFromLocal, localFromIso, localInput, money, parseYuan, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

// 免单抽奖 (issue 17 item 2): head office sets a lottery up in a campaign, draws it once
// (with a confirmation) and reads the result and its audit proof: the seed whose hash
// was published before the window, the entrants and each winner's score.

const ELIGIBILITY = ["all", "members", "segment", "min_amount"];
const TONES = { open: "warn", drawing: "warn", drawn: "ok" };
const stateBadge = (x) => badge(t(`lotteries.state.${x.state}`), TONES[x.state]);

function flash(messages) {
  const text = sessionStorage.getItem("daojia.flash");
  if (text) {
    sessionStorage.removeItem("daojia.flash");
    messages.show(okBox(text));
  }
}

function blank(query) {
  return {
    campaign_id: query.campaign || "",
    name: "",
    starts_local: localInput(1),
    ends_local: localInput(25),
    draw_local: localInput(26),
    winners_n: 5,
    eligibility: "all",
    segment_id: null,
    min_fen: null,
    cap_fen: null,
  };
}

function form(x, ctx, messages) {
  const locked = Boolean(x.lottery_id) && (x.state !== "open" || new Date(x.starts_at) <= new Date());
  const off = locked ? "" : null;
  const campaign = h("input", { required: true, value: x.campaign_id, disabled: x.lottery_id ? "" : null });
  const name = h("input", { required: true, maxlength: "60", value: x.name, disabled: off });
  const starts = h("input", { type: "datetime-local", required: true, value: x.starts_local, disabled: off });
  const ends = h("input", { type: "datetime-local", required: true, value: x.ends_local, disabled: off });
  const drawAt = h("input", { type: "datetime-local", required: true, value: x.draw_local, disabled: off });
  const winners = h("input", { type: "number", min: "1", max: "100", required: true, value: String(x.winners_n), disabled: off });
  const eligibility = select(ELIGIBILITY.map((e) => [e, t(`lotteries.eligibility.${e}`)]), x.eligibility, { disabled: off });
  const segment = h("input", { value: x.segment_id || "", disabled: off });
  const minimum = h("input", { inputmode: "decimal", value: x.min_fen == null ? "" : yuanInput(x.min_fen), disabled: off });
  const cap = h("input", { inputmode: "decimal", value: x.cap_fen == null ? "" : yuanInput(x.cap_fen), disabled: off });
  const fields = {
    segment: field(t("lotteries.segment"), segment),
    minimum: field(t("lotteries.min"), minimum, t("common.in_yuan")),
  };
  const sync = () => {
    fields.segment.hidden = eligibility.value !== "segment";
    fields.minimum.hidden = eligibility.value !== "min_amount";
  };
  eligibility.addEventListener("change", sync);
  sync();
  const time = (input, label) => {
    const iso = isoFromLocal(input.value);
    if (iso === null) throw new Error(t("coupons.bad_time", { field: label }));
    return iso;
  };
  const amount = (input, label) => {
    if (!input.value.trim()) return null;
    const fen = parseYuan(input.value);
    if (fen === null) throw new Error(t("common.bad_amount", { field: label }));
    return fen;
  };
  const save = h("button", { type: "submit", class: "primary", disabled: off }, x.lottery_id ? t("common.save") : t("lotteries.create"));
  return h("form", {
    class: "card",
    "data-testid": "lottery-form",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const body = {
          campaign_id: campaign.value.trim(),
          name: name.value.trim(),
          starts_at: time(starts, t("lotteries.starts")),
          ends_at: time(ends, t("lotteries.ends")),
          draw_at: time(drawAt, t("lotteries.draw_at")),
          winners: Number(winners.value),
          eligibility: eligibility.value,
          segment_id: eligibility.value === "segment" ? segment.value.trim() || null : null,
          min_fen: eligibility.value === "min_amount" ? amount(minimum, t("lotteries.min")) : null,
          cap_fen: amount(cap, t("lotteries.cap")),
        };
        const saved = x.lottery_id
          ? await request("PUT", `/admin/lotteries/${x.lottery_id}`, { body })
          : await post("/admin/lotteries", body);
        sessionStorage.setItem("daojia.flash", t(x.lottery_id ? "lotteries.saved" : "lotteries.created", { name: saved.name }));
        ctx.navigate(`/lotteries/${saved.lottery_id}`);
      });
    },
  },
  h("div", { class: "form-grid" },
    field(t("lotteries.campaign"), campaign, t("lotteries.campaign_hint")),
    field(t("lotteries.name"), name),
    field(t("lotteries.starts"), starts, t("common.tz_hint", { tz: DEFAULT_TZ })),
    field(t("lotteries.ends"), ends, t("common.tz_hint", { tz: DEFAULT_TZ })),
    field(t("lotteries.draw_at"), drawAt, t("lotteries.draw_at_hint")),
    field(t("lotteries.winners"), winners),
    field(t("lotteries.eligibility"), eligibility),
    fields.segment,
    fields.minimum,
    field(t("lotteries.cap"), cap, t("lotteries.cap_hint"))),
  locked ? h("p", { class: "hint" }, t("lotteries.locked_hint")) : null,
  save);
}

function winnersTable(x) {
  return table(t("lotteries.winners_title"), [
    { label: t("lotteries.order"), cell: (w) => h("a", { href: `#/orders/${w.order_code}` }, w.order_code) },
    { label: t("lotteries.customer"), cell: (w) => w.name_masked },
    { label: t("lotteries.paid"), num: true, cell: (w) => money(w.paid_fen) },
    { label: t("lotteries.prize"), num: true, cell: (w) => money(w.prize_fen) },
    { label: t("lotteries.refund"), cell: (w) => (w.refund_status ? t(`lotteries.refund.${w.refund_status}`) : "—") },
  ], x.winners, { empty: t("lotteries.no_winners") });
}

function proofView(p) {
  return h("section", { class: "card", "data-testid": "lottery-proof", "aria-labelledby": "lottery-proof-title" },
    h("h2", { id: "lottery-proof-title" }, t("lotteries.proof")),
    h("p", { class: "muted" }, t("lotteries.proof_help")),
    h("dl", { class: "summary" },
      h("dt", {}, t("lotteries.seed_hash")), h("dd", {}, h("code", { "data-testid": "proof-seed-hash" }, p.seed_hash)),
      h("dt", {}, t("lotteries.seed")), h("dd", {}, h("code", { "data-testid": "proof-seed" }, p.seed)),
      h("dt", {}, t("lotteries.entrants")), h("dd", { "data-testid": "proof-entrants" }, String(p.entrants_count)),
      h("dt", {}, t("lotteries.entrants_hash")), h("dd", {}, h("code", {}, p.entrants_hash))),
    table(t("lotteries.scores"), [
      { label: t("lotteries.order"), cell: (w) => w.order_id },
      { label: t("lotteries.score"), cell: (w) => h("code", {}, w.score) },
    ], p.winners, { empty: t("lotteries.no_winners") }),
    p.entrants.length
      ? h("details", {}, h("summary", {}, t("lotteries.entrant_list", { n: p.entrants.length })),
        h("ol", {}, p.entrants.map((e) => h("li", {}, h("code", {}, `${e.order_id} · ${e.holder}`)))))
      : null);
}

function drawPanel(x, ctx, messages) {
  const button = h("button", { type: "button", class: "primary", "data-testid": "lottery-draw" }, t("lotteries.draw"));
  button.addEventListener("click", () => {
    if (!window.confirm(t("lotteries.draw_confirm", { name: x.name, n: x.winners_n }))) return;
    busy(button, messages, async () => {
      const drawn = await post(`/admin/lotteries/${x.lottery_id}/draw`);
      sessionStorage.setItem("daojia.flash", t("lotteries.drawn", { n: drawn.winners.length }));
      ctx.rerender();
    });
  });
  return h("section", { class: "card" },
    h("h2", {}, t("lotteries.draw_title")),
    h("p", {}, t("lotteries.draw_help", { at: dateTime(x.draw_at) })),
    button);
}

export const lotteryDetail = {
  id: "lottery",
  section: "lotteries",
  path: "/lotteries/:lotteryId",
  title: "lotteries.editor_title",
  roles: [HQ],
  group: "marketing",
  async render(ctx) {
    const messages = slot();
    flash(messages);
    const id = ctx.params.lotteryId;
    let x;
    try {
      x = id === "new" ? blank(ctx.query) : await get(`/admin/lotteries/${id}`);
    } catch (err) {
      return h("section", {}, h("h1", {}, t("lotteries.editor_title")), errorBox(err));
    }
    if (x.lottery_id) {
      Object.assign(x, { starts_local: localFromIso(x.starts_at), ends_local: localFromIso(x.ends_at), draw_local: localFromIso(x.draw_at) });
    }
    let proof = null;
    if (x.lottery_id && x.state !== "open") {
      proof = await get(`/admin/lotteries/${x.lottery_id}/proof`).then(proofView, errorBox);
    }
    return h("section", {},
      h("h1", {}, x.lottery_id ? x.name : t("lotteries.new"), " ", x.lottery_id ? stateBadge(x) : null),
      messages,
      x.lottery_id
        ? h("p", {}, t("lotteries.commitment"), " ", h("code", { "data-testid": "seed-hash" }, x.seed_hash))
        : null,
      form(x, ctx, messages),
      x.lottery_id && x.state !== "drawn" ? drawPanel(x, ctx, messages) : null,
      x.lottery_id && x.state !== "open"
        ? h("section", { class: "card", "data-testid": "lottery-result" },
          h("h2", {}, t("lotteries.result", { n: x.entrants_count ?? 0 })), winnersTable(x))
        : null,
      proof);
  },
};

export default {
  id: "lotteries",
  path: "/lotteries",
  title: "lotteries.title",
  nav: "nav.lotteries",
  roles: [HQ],
  group: "marketing",
  async render() {
    const messages = slot();
    flash(messages);
    let listing;
    try {
      const items = (await get("/admin/lotteries")).items;
      listing = table(t("lotteries.title"), [
        { label: t("lotteries.name"), cell: (x) => h("a", { href: `#/lotteries/${x.lottery_id}` }, x.name) },
        { label: t("lotteries.campaign"), cell: (x) => x.campaign_id },
        { label: t("lotteries.state"), cell: stateBadge },
        { label: t("lotteries.window"), cell: (x) => `${dateTime(x.starts_at)} – ${dateTime(x.ends_at)}` },
        { label: t("lotteries.winners"), num: true, cell: (x) => String(x.winners_n) },
      ], items, { empty: t("lotteries.empty") });
    } catch (err) {
      listing = errorBox(err);
    }
    return h("section", {},
      h("h1", {}, t("lotteries.title")),
      messages,
      h("p", { class: "muted" }, t("lotteries.help")),
      h("div", { class: "row" }, h("div", { class: "spacer" }),
        h("a", { class: "button primary", href: "#/lotteries/new" }, t("lotteries.new"))),
      listing);
  },
};
