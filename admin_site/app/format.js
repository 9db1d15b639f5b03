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

/** A datetime-local value ("2026-11-25T10:00", in the browser's zone, China time at
 * head office) -> UTC ISO "2026-11-25T02:00:00Z", or null when empty or not a time. */
export function isoFromLocal(value) {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The datetime-local value for now + `offsetHours`, in the browser's zone. */
export function localInput(offsetHours = 0) {
  const d = new Date(Date.now() + offsetHours * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
