// Who is signed in. The token lives in sessionStorage: closing the tab signs out, which
// suits a shared counter tablet. Roles only shape what the site shows; the API checks
// every call anyway.

const KEY = "daojia.session";

export const HQ = "hq_admin";
export const MANAGER = "store_manager";
export const STAFF = "store_staff";
export const BACK_OFFICE = [HQ, MANAGER, STAFF];

let current = null;

// `expires_at` is UTC ISO-8601 like every API time (a session saved before that change
// holds epoch seconds).
const expiresMs = (value) => (typeof value === "number" ? value * 1000 : Date.parse(value));

export function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (saved && expiresMs(saved.expires_at) > Date.now()) current = saved;
    else sessionStorage.removeItem(KEY);
  } catch {
    current = null;
  }
  return current;
}

export function save(session) {
  current = { token: session.token, expires_at: session.expires_at, staff: session.staff };
  sessionStorage.setItem(KEY, JSON.stringify(current));
}

export function clear() {
  current = null;
  sessionStorage.removeItem(KEY);
}

export const session = () => current;
export const token = () => (current ? current.token : null);
export const role = () => (current ? current.staff.role : null);
export const isHq = () => role() === HQ;
export const homeStore = () => (current ? current.staff.store_id : null);
export const allowed = (roles) => Boolean(current) && roles.includes(role());
