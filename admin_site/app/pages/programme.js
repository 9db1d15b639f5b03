import { get, request } from "../api.js";
import { busy, errorBox, field, h, okBox, select, slot } from "../dom.js";
import { tableExportButton, yuanCell } from "../export.js";
import { parseYuan, today, yuanInput } from "../format.js";
import { t } from "../i18n.js";
import { HQ } from "../session.js";

// 会员计划: levels and benefits, check-in rewards, tasks (issue 14 items 4 and 5). Each
// card reads its settings area (GET /admin/loyalty/...) and replaces it whole with PUT
// (audited by the API; a concurrent edit answers 409 settings_changed).

const put = (path, body) => request("PUT", path, { body });
const num = (input) => Number(input.value.trim());

/** "3:10, 7:30" <-> [{day: 3, points: 10}, ...] */
const rewardsText = (list) => list.map((r) => `${r.day}:${r.points}`).join(", ");
function parseRewards(text, label) {
  return text.split(/[\s,，]+/).filter(Boolean).map((pair) => {
    const [day, points] = pair.split(/[:：]/).map((x) => Number(x));
    if (!Number.isInteger(day) || !Number.isInteger(points)) throw new Error(t("programme.bad_rewards", { field: label }));
    return { day, points };
  });
}

// Each card's list as CSV (small lists, written in the browser): what was last loaded or
// saved, not unsaved edits in the form.
const heading = (title, exporter) => h("div", { class: "row" }, h("h2", {}, title), h("div", { class: "spacer" }), exporter);
const csvFile = (name, header, rows) => ({ filename: `${name}_${today()}.csv`, header, rows });

const levelsCsv = (settings) =>
  csvFile("levels",
    ["code", "name", "threshold", "discount", "multiplier", "free_delivery", "birthday_template", "level_up_template"].map((k) => t(`programme.col.${k}`)),
    settings.levels.map((lv) => [lv.code, lv.name, lv.threshold, lv.discount_permille, lv.points_multiplier, yuanCell(lv.free_delivery_min_fen), lv.birthday_template_id, lv.level_up_template_id]));

const checkinCsv = (settings) =>
  csvFile("checkin_rewards",
    [t("programme.col.reward"), t("programme.col.day"), t("programme.col.points")],
    [
      [t("programme.daily_points"), null, settings.daily_points],
      ...settings.streak_rewards.map((r) => [t("programme.streak_rewards"), r.day, r.points]),
      ...settings.cumulative_rewards.map((r) => [t("programme.cumulative_rewards"), r.day, r.points]),
    ]);

const tasksCsv = (settings) =>
  csvFile("tasks",
    ["task_id", "task_kind", "name", "target", "points", "growth", "active"].map((k) => t(`programme.col.${k}`)),
    settings.tasks.map((x) => [x.task_id, t(`programme.task.${x.kind}`), x.name, x.target, x.points, x.growth, x.active]));

function levelsCard(settings) {
  const rows = settings.levels.map((lv) => {
    const inputs = {
      name: h("input", { value: lv.name, maxlength: "20", required: true }),
      threshold: h("input", { type: "number", min: "0", step: "1", value: String(lv.threshold), required: true }),
      discount_permille: h("input", { type: "number", min: "500", max: "1000", step: "1", value: String(lv.discount_permille) }),
      points_multiplier: h("input", { type: "number", min: "1", max: "5", step: "0.1", value: String(lv.points_multiplier) }),
      free_delivery: h("input", { inputmode: "decimal", value: lv.free_delivery_min_fen == null ? "" : yuanInput(lv.free_delivery_min_fen) }),
      birthday: h("input", { value: lv.birthday_template_id || "", pattern: "[A-Za-z0-9_\\-]{1,40}" }),
      level_up: h("input", { value: lv.level_up_template_id || "", pattern: "[A-Za-z0-9_\\-]{1,40}" }),
    };
    const box = h("fieldset", { "data-testid": `level-${lv.code}` },
      h("legend", {}, lv.code),
      h("div", { class: "form-grid" },
        field(t("programme.level_name", { code: lv.code }), inputs.name),
        field(t("programme.threshold", { code: lv.code }), inputs.threshold, t("programme.threshold_hint")),
        field(t("programme.discount", { code: lv.code }), inputs.discount_permille, t("programme.discount_hint")),
        field(t("programme.multiplier", { code: lv.code }), inputs.points_multiplier),
        field(t("programme.free_delivery", { code: lv.code }), inputs.free_delivery, t("programme.free_delivery_hint")),
        field(t("programme.birthday_template", { code: lv.code }), inputs.birthday),
        field(t("programme.level_up_template", { code: lv.code }), inputs.level_up)));
    const read = () => {
      let free = null;
      if (inputs.free_delivery.value.trim()) {
        free = parseYuan(inputs.free_delivery.value);
        if (free === null) throw new Error(t("common.bad_amount", { field: t("programme.free_delivery", { code: lv.code }) }));
      }
      return {
        code: lv.code,
        name: inputs.name.value.trim(),
        threshold: num(inputs.threshold),
        discount_permille: num(inputs.discount_permille),
        points_multiplier: num(inputs.points_multiplier),
        free_delivery_min_fen: free,
        birthday_template_id: inputs.birthday.value.trim() || null,
        level_up_template_id: inputs.level_up.value.trim() || null,
      };
    };
    return { box, read };
  });
  const growth = h("input", { type: "number", min: "0", max: "100", step: "1", value: String(settings.growth_per_yuan) });
  const mode = select([["none", t("programme.downgrade.none")], ["recent_growth", t("programme.downgrade.recent_growth")]], settings.downgrade.mode);
  const months = h("input", { type: "number", min: "1", max: "36", value: String(settings.downgrade.months) });
  const notice = h("input", { type: "number", min: "0", max: "60", value: String(settings.downgrade.notice_days) });
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
  return h("form", {
    class: "card",
    "data-testid": "levels",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const body = {
          growth_per_yuan: num(growth),
          levels: rows.map((r) => r.read()),
          downgrade: { mode: mode.value, months: num(months), notice_days: num(notice) },
        };
        const saved = await put("/admin/loyalty/levels", body);
        settings.levels = saved.levels;
        messages.show(okBox(t("programme.saved")));
      });
    },
  },
  heading(t("programme.levels"), tableExportButton(() => levelsCsv(settings), { name: "levels" })),
  h("div", { class: "form-grid" },
    field(t("programme.growth_per_yuan"), growth, t("programme.growth_hint")),
    field(t("programme.downgrade"), mode),
    field(t("programme.downgrade_months"), months),
    field(t("programme.notice_days"), notice)),
  rows.map((r) => r.box),
  messages,
  save);
}

function checkinCard(settings) {
  const daily = h("input", { type: "number", min: "0", max: "10000", value: String(settings.daily_points) });
  const streak = h("input", { value: rewardsText(settings.streak_rewards), placeholder: "3:10, 7:30" });
  const cumulative = h("input", { value: rewardsText(settings.cumulative_rewards), placeholder: "10:20, 20:50" });
  const reset = select(["none", "weekly", "monthly"].map((v) => [v, t(`programme.reset.${v}`)]), settings.streak_reset);
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
  return h("form", {
    class: "card",
    "data-testid": "checkin",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const saved = await put("/admin/loyalty/checkin-settings", {
          daily_points: num(daily),
          streak_rewards: parseRewards(streak.value, t("programme.streak_rewards")),
          cumulative_rewards: parseRewards(cumulative.value, t("programme.cumulative_rewards")),
          streak_reset: reset.value,
          timezone: settings.timezone,
        });
        Object.assign(settings, saved);
        messages.show(okBox(t("programme.saved")));
      });
    },
  },
  heading(t("programme.checkin"), tableExportButton(() => checkinCsv(settings), { name: "checkin" })),
  h("div", { class: "form-grid" },
    field(t("programme.daily_points"), daily),
    field(t("programme.streak_rewards"), streak, t("programme.rewards_hint")),
    field(t("programme.cumulative_rewards"), cumulative, t("programme.cumulative_hint")),
    field(t("programme.streak_reset"), reset)),
  messages,
  save);
}

function tasksCard(settings) {
  const rows = settings.tasks.map((task) => {
    const inputs = {
      name: h("input", { value: task.name, maxlength: "40", required: true }),
      target: h("input", { type: "number", min: "1", max: "100", value: String(task.target) }),
      points: h("input", { type: "number", min: "0", max: "100000", value: String(task.points) }),
      growth: h("input", { type: "number", min: "0", max: "100000", value: String(task.growth) }),
      active: h("input", { type: "checkbox", checked: task.active }),
    };
    const box = h("fieldset", { "data-testid": `task-${task.task_id}` },
      h("legend", {}, `${task.task_id} · ${t(`programme.task.${task.kind}`)}`),
      h("div", { class: "form-grid" },
        field(t("programme.task_name", { id: task.task_id }), inputs.name),
        task.kind === "orders_in_month" ? field(t("programme.task_target", { id: task.task_id }), inputs.target) : null,
        field(t("programme.task_points", { id: task.task_id }), inputs.points),
        field(t("programme.task_growth", { id: task.task_id }), inputs.growth),
        field(t("programme.task_active", { id: task.task_id }), inputs.active)));
    const read = () => ({
      task_id: task.task_id,
      kind: task.kind,
      name: inputs.name.value.trim(),
      target: num(inputs.target),
      points: num(inputs.points),
      growth: num(inputs.growth),
      active: inputs.active.checked,
    });
    return { box, read };
  });
  const messages = slot();
  const save = h("button", { type: "submit", class: "primary" }, t("common.save"));
  return h("form", {
    class: "card",
    "data-testid": "tasks",
    onsubmit: (e) => {
      e.preventDefault();
      busy(save, messages, async () => {
        const saved = await put("/admin/loyalty/tasks", { tasks: rows.map((r) => r.read()) });
        settings.tasks = saved.tasks;
        messages.show(okBox(t("programme.saved")));
      });
    },
  },
  heading(t("programme.tasks"), tableExportButton(() => tasksCsv(settings), { name: "tasks" })),
  rows.map((r) => r.box),
  messages,
  save);
}

export default {
  id: "programme",
  path: "/programme",
  title: "programme.title",
  nav: "nav.programme",
  roles: [HQ],
  async render() {
    try {
      const [levels, checkin, tasks] = await Promise.all([
        get("/admin/loyalty/levels"),
        get("/admin/loyalty/checkin-settings"),
        get("/admin/loyalty/tasks"),
      ]);
      return h("section", {}, h("h1", {}, t("programme.title")),
        levelsCard(levels), checkinCard(checkin), tasksCard(tasks));
    } catch (err) {
      return h("section", {}, h("h1", {}, t("programme.title")), errorBox(err));
    }
  },
};
