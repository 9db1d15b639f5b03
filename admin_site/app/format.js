// Money and time, the way staff read them. Money arrives as integer fen and never
// passes through a float; times arrive as UTC ISO-8601 and are shown in the store's
// time zone.

import { currentLanguage } from "./i18n.js";

export const DEFAULT_TZ = "Asia/Shanghai";

/** 1234 -> "¥12.34", -5 -> "-¥0.05". */
export function money(fen) {
  if (fen === null || fen === undefined) return "—";
  const n = Math.trunc(Number(fen));
  const sign = n < 0 ? "-" : "";
  const abs = Math.abs(n);
  const yuan = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}¥${yuan}.${String(abs % 100).padStart(2, "0")}`;
}

/** For tight labels (chart bars): "¥80" for whole yuan, otherwise every fen ("¥79.70"),
 * never rounded or cut: a label must not read less than the amount. */
export function moneyCompact(fen) {
  const text = money(fen);
  return text.endsWith(".00") ? text.slice(0, -3) : text;
}

/** "12.34" / "12" / "12.3" -> 1234 fen, or null when it is not an amount. */
export function parseYuan(text) {
  const m = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(String(text ?? ""));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
}

/** 1234 -> "12.34": the value of a yuan input. */
export function yuanInput(fen) {
  const n = Math.trunc(Number(fen || 0));
  return `${Math.floor(n / 100)}.${String(n % 100).padStart(2, "0")}`;
}

const formatters = new Map();
function formatter(tz, withDate) {
  const key = `${currentLanguage()}|${tz}|${withDate}`;
  if (!formatters.has(key)) {
    const opts = { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    if (withDate) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
    formatters.set(key, new Intl.DateTimeFormat(currentLanguage(), opts));
  }
  return formatters.get(key);
}

/** An ISO time in time zone `tz`: "2026/11/24 10:30:00". */
export function dateTime(iso, tz = DEFAULT_TZ) {
  if (!iso) return "—";
  return formatter(tz || DEFAULT_TZ, true).format(new Date(iso));
}

/** Only the clock time, for today's lists. */
export function clockTime(iso, tz = DEFAULT_TZ) {
  if (!iso) return "—";
  return formatter(tz || DEFAULT_TZ, false).format(new Date(iso));
}

/** Today's date (YYYY-MM-DD) in time zone `tz`: the store's business day. */
export function today(tz = DEFAULT_TZ) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz || DEFAULT_TZ, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date());
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** Seconds as "42 s" / "3 min" / "2 h". */
export function age(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

// datetime-local inputs carry no zone. They are read and filled in the zone the tables
// show (the store's, China time by default), never the browser's: a laptop set to
// another zone must not shift a sale's start by hours.

/** How far `tz`'s wall clock is ahead of UTC at the instant `utcMs`, in ms. */
function zoneOffsetMs(tz, utcMs) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/** A datetime-local value ("2026-11-25T10:00") read in time zone `tz` -> UTC ISO
 * "2026-11-25T02:00:00Z", or null when empty or not a time. */
export function isoFromLocal(value, tz = DEFAULT_TZ) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(value || ""));
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  if (Number.isNaN(wall)) return null;
  const zone = tz || DEFAULT_TZ;
  // Twice: the offset at the guessed instant can differ across a DST change.
  const guess = wall - zoneOffsetMs(zone, wall);
  const utc = wall - zoneOffsetMs(zone, guess);
  return new Date(utc).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The datetime-local value for now + `offsetHours`, on the wall clock of `tz`. */
export function localInput(offsetHours = 0, tz = DEFAULT_TZ) {
  const utc = Date.now() + offsetHours * 3600 * 1000;
  const d = new Date(utc + zoneOffsetMs(tz || DEFAULT_TZ, utc));
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** The datetime-local value ("2026-11-25T10:00") of UTC ISO `iso` on the wall clock of
 * `tz` (to the minute: what the control can hold). */
export function localFromIso(iso, tz = DEFAULT_TZ) {
  const utc = new Date(iso).getTime();
  if (Number.isNaN(utc)) return "";
  const d = new Date(utc + zoneOffsetMs(tz || DEFAULT_TZ, utc));
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}
