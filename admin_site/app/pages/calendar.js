import { get, post, request } from "../api.js";
import { busy, errorBox, field, h, okBox, select, slot } from "../dom.js";
import { currentLanguage, t } from "../i18n.js";
import { HQ, MANAGER, isHq } from "../session.js";

// 活动日历: the year's campaign nodes (docs/campaigns.md "The campaign calendar") as 12
// month blocks, each node a chip coloured by grade (S/A/B/C) in every month it touches.
// A chip opens the node: its dates, grade and campaigns, "create campaign" (the editor at
// #/campaigns/new?node=<id> prefills from GET /admin/calendar/nodes/{id}) and, for head
// office, move (dates, grade, names), hide a seed / delete an added node. Hidden seeds
// are listed to bring back; an added node is a form. Store managers read.
const GRADES = ["S", "A", "B", "C"];
const ADHOC_KEYS = ["new_product", "single_item", "member_exclusive", "other"];

const nodeName = (n) => (currentLanguage() === "en" ? n.name_en : n.name_zh);
const shortDay = (day) => day.slice(5); // "MM-DD"
const span = (n) => (n.starts_on === n.ends_on ? n.starts_on : `${n.starts_on} – ${n.ends_on}`);

function monthName(year, month) {
  return new Intl.DateTimeFormat(currentLanguage(), { month: "long" }).format(new Date(Date.UTC(year, month, 15)));
}

/** The nodes overlapping a month (0-11) of the year. */
function inMonth(nodes, year, month) {
  const first = `${year}-${String(month + 1).padStart(2, "0")}-01`;
  const last = `${year}-${String(month + 1).padStart(2, "0")}-31`;
  return nodes.filter((n) => n.starts_on <= last && n.ends_on >= first);
}

function gradeBadge(grade) {
  return h("span", { class: `grade grade-${grade}`, title: t(`calendar.grade.${grade}`) }, grade);
}

function legend() {
  return h("ul", { class: "calendar-legend", "aria-label": t("calendar.legend") },
    GRADES.map((g) => h("li", {}, gradeBadge(g), " ", t(`calendar.grade.${g}`))));
}

function campaignsList(node) {
  if (!node.campaigns.length) return h("p", { class: "muted" }, t("calendar.no_campaigns"));
  return h("ul", { class: "calendar-campaigns", "data-testid": "node-campaigns" },
    node.campaigns.map((c) => h("li", {}, h("a", { href: `#/campaigns/${encodeURIComponent(c.campaign_id)}` }, c.name),
      " ", h("span", { class: "muted" }, `${c.grade} · ${c.state}`))));
}

/** The move/regrade/rename form of a node (head office). */
function editForm(year, node, done) {
  const starts = h("input", { type: "date", name: "starts_on", value: node.starts_on, required: true });
  const ends = h("input", { type: "date", name: "ends_on", value: node.ends_on, required: true });
  const grade = select(GRADES.map((g) => [g, `${g} · ${t(`calendar.grade.${g}`)}`]), node.grade, { name: "grade" });
  const zh = h("input", { name: "name_zh", value: node.name_zh, maxlength: "40", required: true });
  const en = h("input", { name: "name_en", value: node.name_en, maxlength: "40", required: true });
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("calendar.save"));
  return h("form", {
    class: "calendar-edit", "data-testid": "node-edit",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const body = { version: node.version, starts_on: starts.value, ends_on: ends.value, grade: grade.value, name_zh: zh.value, name_en: en.value };
        await request("PUT", `/admin/calendar/${year}/nodes/${encodeURIComponent(node.node_id)}`, { body });
        done(t("calendar.saved"));
      });
    },
  },
  h("div", { class: "row" }, field(t("calendar.starts_on"), starts), field(t("calendar.ends_on"), ends), field(t("calendar.grade"), grade)),
  h("div", { class: "row" }, field(t("calendar.name_zh"), zh), field(t("calendar.name_en"), en)),
  h("div", { class: "actions" }, save), messages);
}

/** The node's panel: facts, campaigns, create-campaign link and head office's actions. */
function nodePanel(year, node, done) {
  const messages = slot();
  const remove = isHq()
    ? h("button", {
      type: "button", class: "danger", "data-testid": "node-remove",
      onclick: (e) => {
        const question = node.kind === "adhoc" ? t("calendar.confirm_delete") : t("calendar.confirm_hide");
        if (!window.confirm(question)) return;
        busy(e.currentTarget, messages, async () => {
          await request("DELETE", `/admin/calendar/${year}/nodes/${encodeURIComponent(node.node_id)}`);
          done(node.kind === "adhoc" ? t("calendar.deleted") : t("calendar.hidden_done"));
        });
      },
    }, node.kind === "adhoc" ? t("calendar.delete") : t("calendar.hide"))
    : null;
  return h("section", { class: "card calendar-node", "data-testid": "calendar-node", dataset: { node: node.node_id } },
    h("h2", {}, gradeBadge(node.grade), " ", nodeName(node)),
    h("dl", { class: "summary" },
      h("div", {}, h("dt", {}, t("calendar.dates")), h("dd", { "data-testid": "node-dates" }, span(node))),
      h("div", {}, h("dt", {}, t("calendar.kind")), h("dd", {}, t(`calendar.kind.${node.kind}`), node.moved ? ` · ${t("calendar.moved")}` : "")),
      node.notes ? h("div", {}, h("dt", {}, t("calendar.notes")), h("dd", {}, node.notes)) : null),
    h("h3", {}, t("calendar.campaigns")),
    campaignsList(node),
    h("div", { class: "actions" },
      isHq() ? h("a", { class: "button primary", "data-testid": "node-create-campaign", href: `#/campaigns/new?node=${encodeURIComponent(node.node_id)}` }, t("calendar.create_campaign")) : null,
      remove),
    isHq() ? h("details", {}, h("summary", {}, t("calendar.move")), editForm(year, node, done)) : null,
    messages);
}

/** The add-a-node form (head office). */
function addForm(year, done) {
  const key = select(ADHOC_KEYS.map((k) => [k, t(`calendar.key.${k}`)]), "new_product", { name: "key" });
  const grade = select(GRADES.map((g) => [g, `${g} · ${t(`calendar.grade.${g}`)}`]), "C", { name: "grade" });
  const zh = h("input", { name: "name_zh", maxlength: "40", required: true });
  const en = h("input", { name: "name_en", maxlength: "40" });
  const starts = h("input", { type: "date", name: "starts_on", value: `${year}-01-01`, required: true });
  const ends = h("input", { type: "date", name: "ends_on", value: `${year}-01-01`, required: true });
  const messages = slot();
  const add = h("button", { type: "submit", class: "primary" }, t("calendar.add"));
  return h("details", { class: "card", "data-testid": "node-add" },
    h("summary", {}, t("calendar.add_title")),
    h("form", {
      onsubmit: (e) => {
        e.preventDefault();
        busy(add, messages, async () => {
          const body = { key: key.value, grade: grade.value, name_zh: zh.value, starts_on: starts.value, ends_on: ends.value };
          if (en.value.trim()) body.name_en = en.value;
          await post(`/admin/calendar/${year}/nodes`, body);
          done(t("calendar.added"));
        });
      },
    },
    h("div", { class: "row" }, field(t("calendar.name_zh"), zh), field(t("calendar.name_en"), en)),
    h("div", { class: "row" }, field(t("calendar.key"), key), field(t("calendar.grade"), grade)),
    h("div", { class: "row" }, field(t("calendar.starts_on"), starts), field(t("calendar.ends_on"), ends)),
    h("div", { class: "actions" }, add), messages));
}

function hiddenList(year, hidden, done) {
  if (!hidden.length || !isHq()) return null;
  const messages = slot();
  return h("section", { class: "card", "data-testid": "calendar-hidden" },
    h("h2", {}, t("calendar.hidden")),
    h("ul", {}, hidden.map((n) => h("li", { dataset: { node: n.node_id } },
      gradeBadge(n.grade), " ", nodeName(n), " ", h("span", { class: "muted" }, span(n)), " ",
      h("button", {
        type: "button",
        onclick: (e) => busy(e.currentTarget, messages, async () => {
          await request("PUT", `/admin/calendar/${year}/nodes/${encodeURIComponent(n.node_id)}`, { body: { version: n.version, hidden: false } });
          done(t("calendar.restored"));
        }),
      }, t("calendar.restore"))))),
    messages);
}

export default {
  id: "calendar",
  path: "/calendar",
  title: "calendar.title",
  nav: "nav.calendar",
  group: "marketing",
  roles: [HQ, MANAGER],
  async render(ctx) {
    const thisYear = new Date().getFullYear();
    const year = Number(ctx.query.year) || thisYear;
    const data = await get(`/admin/calendar/${year}`);
    const notice = slot({ "data-testid": "calendar-notice" });
    const panel = slot({ "data-testid": "calendar-panel" });
    const reload = (message) => {
      ctx.navigate("/calendar", { year, node: ctx.query.node, done: message });
    };
    const open = (node) => {
      panel.show(nodePanel(year, node, (message) => reload(message)));
      panel.scrollIntoView({ block: "nearest" });
    };
    if (ctx.query.done) notice.show(okBox(ctx.query.done));
    const months = Array.from({ length: 12 }, (_, m) => {
      const nodes = inMonth(data.nodes, year, m);
      return h("section", { class: "calendar-month", "data-testid": "calendar-month", dataset: { month: String(m + 1) } },
        h("h2", {}, monthName(year, m)),
        nodes.length
          ? h("ul", {}, nodes.map((n) => h("li", {},
            h("button", {
              type: "button", class: `calendar-chip grade-${n.grade}`, "data-testid": "calendar-chip",
              dataset: { node: n.node_id }, "aria-label": `${n.grade} ${nodeName(n)} ${span(n)}`,
              onclick: () => open(n),
            },
            h("strong", {}, n.grade), " ", nodeName(n),
            h("span", { class: "chip-dates" }, `${shortDay(n.starts_on)}–${shortDay(n.ends_on)}`),
            n.campaigns.length ? h("span", { class: "chip-count", title: t("calendar.campaigns") }, String(n.campaigns.length)) : null))))
          : h("p", { class: "muted" }, "—"));
    });
    const switcher = h("nav", { class: "calendar-years", "aria-label": t("calendar.year") },
      h("a", { class: "button", href: `#/calendar?year=${year - 1}`, "data-testid": "year-prev" }, `‹ ${year - 1}`),
      h("strong", { "data-testid": "calendar-year" }, String(year)),
      h("a", { class: "button", href: `#/calendar?year=${year + 1}`, "data-testid": "year-next" }, `${year + 1} ›`));
    const page = h("div", { class: "calendar-page" },
      h("h1", {}, t("calendar.title")),
      h("div", { class: "row calendar-head" }, switcher, legend()),
      notice,
      panel,
      h("div", { class: "calendar-grid" }, months),
      isHq() ? addForm(year, (message) => reload(message)) : null,
      hiddenList(year, data.hidden, (message) => reload(message)));
    const chosen = ctx.query.node && data.nodes.find((n) => n.node_id === ctx.query.node);
    if (chosen) open(chosen);
    return page;
  },
};
