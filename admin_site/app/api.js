// The API client. Every error becomes an ApiError carrying the API's own message
// ({"error": {"code", "message", "details"}}), which pages show as it is.

import { t } from "./i18n.js";

let baseUrl = "";
let tokenSource = () => null;
let onUnauthorised = () => {};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function configure({ apiUrl, token, unauthorised }) {
  baseUrl = String(apiUrl || "").replace(/\/$/, "");
  tokenSource = token;
  onUnauthorised = unauthorised;
}

/** The API's absolute URL (the relay config names it: a store PC calls the same API). */
export function apiBase() {
  return new URL(baseUrl || ".", location.href).href.replace(/\/$/, "");
}

function url(path, query) {
  const u = new URL(baseUrl + path);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
  }
  return u.toString();
}

/** fetch the API. `body` is sent as JSON unless `raw` (a File/Blob/string) with its
 * `contentType` is given. Resolves to the parsed JSON (or null for an empty body). */
export async function request(method, path, { query, body, raw, contentType, headers } = {}) {
  const h = { Accept: "application/json", ...(headers || {}) };
  const token = tokenSource();
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    h["Content-Type"] = contentType;
  } else if (body !== undefined || method !== "GET") {
    payload = JSON.stringify(body ?? {});
    h["Content-Type"] = "application/json";
  }
  let resp;
  try {
    resp = await fetch(url(path, query), { method, headers: h, body: payload, cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, "network", t("error.network"), null);
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    const err = data && data.error;
    if (resp.status === 401 && token) onUnauthorised();
    throw new ApiError(
      resp.status,
      (err && err.code) || `http_${resp.status}`,
      (err && err.message) || t("error.http", { status: resp.status }),
      err ? err.details : null,
    );
  }
  return data;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body, opts = {}) => request("POST", path, { body, ...opts });
export const patch = (path, body) => request("PATCH", path, { body });

/** Every page of a cursor-paginated list (bounded, for small lists like stores). */
export async function all(path, query = {}, maxPages = 20) {
  const items = [];
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const page = await get(path, { ...query, cursor });
    items.push(...(page.items || []));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}
