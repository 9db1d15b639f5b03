// The stores this account may see, loaded once per sign-in: pages need their names and
// time zones (times are shown in the store's zone) and the store pickers.

import { get } from "./api.js";
import { DEFAULT_TZ } from "./format.js";
import { t } from "./i18n.js";
import { homeStore, isHq } from "./session.js";
import { select } from "./dom.js";

let cache = null;

export async function list() {
  if (!cache) cache = get("/admin/stores").then((r) => r.items);
  try {
    return await cache;
  } catch (err) {
    cache = null;
    throw err;
  }
}

export function forget() {
  cache = null;
}

export async function timezoneOf(storeId) {
  const found = (await list()).find((s) => s.store_id === storeId);
  return found ? found.timezone : DEFAULT_TZ;
}

export async function nameOf(storeId) {
  const found = (await list()).find((s) => s.store_id === storeId);
  return found ? found.name : storeId;
}

/** The store a page works on: the one asked for (head office), else the account's own,
 * else the first one. */
export async function chosen(requested) {
  const all = await list();
  if (!isHq()) return homeStore();
  if (requested && all.some((s) => s.store_id === requested)) return requested;
  return all.length ? all[0].store_id : null;
}

/** A store picker; staff see their store only (and cannot change it). */
export async function picker(value, { allOption = false, id } = {}) {
  const all = await list();
  const options = all.map((s) => [s.store_id, `${s.name} (${s.store_id})`]);
  if (allOption) options.unshift(["", t("common.all_stores")]);
  return select(options, value ?? "", { id, disabled: isHq() ? null : "" });
}
