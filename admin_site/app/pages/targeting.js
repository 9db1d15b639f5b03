// Targeting fields (issue 18 item 4) shared by the promotion and coupon template forms:
// a shareable code (templates only), a weekly recurring window on Shanghai time, and an
// audience (a level, or a saved segment picked from GET /admin/segments, loaded when
// that audience is first chosen; a promotion's segment is priced from the members'
// nightly memberships, hence its own hint).
// `targetingFieldset({ code, segmentHint, initial })` returns { node, read, changes } —
// `read()` gives the body's `code` / `recurrence` / `audience` (only what was filled in)
// or throws; `changes()` (edit forms, filled from `initial`: a draft's targeting) gives
// only the fields that differ from `initial`, null for one cleared.
import { get } from "../api.js";
import { field, h, select } from "../dom.js";
import { t } from "../i18n.js";

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

/** Fill `box` with the saved segments ("name" options, id as value), once; the one in
 * `box.dataset.want` (an edited draft's) stays chosen. */
async function loadSegments(box) {
  box.replaceChildren(h("option", { value: "" }, t("targeting.segment_loading")));
  box.disabled = true;
  try {
    const { items } = await get("/admin/segments");
    const first = items.length ? t("targeting.segment_pick") : t("targeting.segment_none");
    box.replaceChildren(h("option", { value: "" }, first),
      ...items.map((seg) => h("option", { value: seg.segment_id }, seg.name)));
    box.disabled = !items.length;
    if (box.dataset.want) box.value = box.dataset.want;
    box.dataset.loaded = "true";
  } catch {
    box.replaceChildren(h("option", { value: "" }, t("targeting.segment_failed")));
    box.disabled = false; // choosing the audience again retries
  }
}

export function targetingFieldset({ code = false, segmentHint = "segment_hint", initial = null } = {}) {
  const codeInput = h("input", { maxlength: "20", pattern: "[A-Za-z0-9]{4,20}", placeholder: "SPRING2027", "data-testid": "target-code" });
  const days = WEEKDAYS.map((d) => h("input", { type: "checkbox", value: String(d), "data-testid": `target-day-${d}` }));
  const start = h("input", { type: "time", "data-testid": "target-start" });
  const end = h("input", { type: "time", "data-testid": "target-end" });
  const who = select(
    [["", t("targeting.everyone")], ["level", t("targeting.level")], ["segment", t("targeting.segment")]],
    "",
    { "data-testid": "target-audience" },
  );
  const level = h("input", { placeholder: "V3", pattern: "V[1-9]", "data-testid": "target-level" });
  const segmentId = h("select", { "data-testid": "target-segment" });
  const levelField = field(t("targeting.min_level"), level);
  const segmentField = field(t("targeting.segment_id"), segmentId, t(`targeting.${segmentHint}`));
  const sync = () => {
    levelField.hidden = who.value !== "level";
    segmentField.hidden = who.value !== "segment";
    if (who.value === "segment" && !segmentId.dataset.loaded) loadSegments(segmentId);
  };
  who.addEventListener("change", sync);
  sync();
  const dayBoxes = h("div", { class: "weekdays", role: "group", "aria-label": t("targeting.weekdays") },
    ...days.map((box, i) => h("label", { class: "inline" }, box, t(`targeting.day.${WEEKDAYS[i]}`))));
  const node = h("fieldset", { class: "targeting", "data-testid": "targeting" },
    h("legend", {}, t("targeting.title")),
    h("div", { class: "form-grid" },
      code ? field(t("targeting.code"), codeInput, t("targeting.code_hint")) : null,
      field(t("targeting.weekdays"), dayBoxes, t("targeting.window_hint")),
      field(t("targeting.start"), start),
      field(t("targeting.end"), end),
      field(t("targeting.audience"), who),
      levelField,
      segmentField));
  const read = () => {
    const body = {};
    if (code && codeInput.value.trim()) body.code = codeInput.value.trim();
    const weekdays = days.filter((b) => b.checked).map((b) => Number(b.value));
    if (weekdays.length || start.value || end.value) {
      if (!weekdays.length || !start.value || !end.value) throw new Error(t("targeting.window_incomplete"));
      body.recurrence = { weekdays, start: start.value, end: end.value };
    }
    if (who.value === "level") body.audience = { min_level: level.value.trim() };
    if (who.value === "segment") {
      // (an edited draft's segment counts while the list is still loading)
      const chosen = segmentId.value || (segmentId.dataset.loaded ? "" : segmentId.dataset.want);
      if (!chosen) throw new Error(t("targeting.segment_required"));
      body.audience = { segment_id: chosen };
    }
    return body;
  };
  if (initial) {
    codeInput.value = initial.code || "";
    const r = initial.recurrence;
    if (r) {
      for (const box of days) box.checked = r.weekdays.includes(Number(box.value));
      start.value = r.start;
      end.value = r.end;
    }
    const a = initial.audience;
    if (a?.min_level) { who.value = "level"; level.value = a.min_level; }
    if (a?.segment_id) { who.value = "segment"; segmentId.dataset.want = a.segment_id; }
    sync();
  }
  const changes = () => {
    const now = read();
    const was = {
      code: initial?.code || undefined,
      recurrence: initial?.recurrence ? { weekdays: initial.recurrence.weekdays, start: initial.recurrence.start, end: initial.recurrence.end } : undefined,
      audience: initial?.audience ? Object.fromEntries(Object.entries(initial.audience).filter(([, v]) => v != null)) : undefined,
    };
    const out = {};
    for (const k of code ? ["code", "recurrence", "audience"] : ["recurrence", "audience"]) {
      const a = k === "code" && now.code ? now.code.toUpperCase() : now[k];
      if (JSON.stringify(a) !== JSON.stringify(was[k])) out[k] = now[k] === undefined ? null : now[k];
    }
    return out;
  };
  return { node, read, changes };
}

/** Whether a promotion or template may still change its targeting (not yet approved). */
export const retargetable = (x) => x.status === "draft" || x.status === "pending";

/** One line for a list: "SPRING2027 · Wednesdays 18:00–21:00 · V3+" ("—": untargeted,
 * as the other columns say "none"). */
export function targetingText(x) {
  const parts = [];
  if (x.code) parts.push(x.code);
  if (x.recurrence) {
    const days = x.recurrence.weekdays.map((d) => t(`targeting.day.${d}`)).join(" ");
    parts.push(`${days} ${x.recurrence.start}–${x.recurrence.end}`);
  }
  if (x.audience?.min_level) parts.push(t("targeting.level_up", { level: x.audience.min_level }));
  if (x.audience?.segment_id) parts.push(t("targeting.in_segment", { segment: x.audience.segment_id }));
  return parts.length ? parts.join(" · ") : "—";
}
