// Who is signed in. The token lives in localStorage so that an order opened in a new tab
// is signed in too (issue 13 item 8); it is dropped when it expires, and signing out in
// one tab signs out every tab (the storage event, see `watch`). XSS: any script of the
// site could read the token from sessionStorage just as well; the site's CSP
// (infra/admin_site_hosting.py: script-src 'self', no inline script) is what keeps
// foreign scripts out, and the token's lifetime bounds what a stolen one is worth.
// Roles only shape what the site shows; the API checks every call anyway.

const KEY = "daojia.session";

export const HQ = "hq_admin";
export const MANAGER = "store_manager";
export const STAFF = "store_staff";
export const BACK_OFFICE = [HQ, MANAGER, STAFF];

let current = null;
let expiredOnLoad = false;

// `expires_at` is UTC ISO-8601 like every API time (a session saved before that change
// holds epoch seconds).
const expiresMs = (value) => (typeof value === "number" ? value * 1000 : Date.parse(value));

export function load() {
  current = null;
  expiredOnLoad = false;
  try {
    sessionStorage.removeItem(KEY); // where sessions lived before: never read again
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    if (saved && expiresMs(saved.expires_at) > Date.now()) current = saved;
    else if (saved) {
      expiredOnLoad = true;
      localStorage.removeItem(KEY);
    }
  } catch {
    current = null;
  }
  return current;
}

/** True when `load` found a saved session that had expired (say so on the sign-in page). */
export const expired = () => expiredOnLoad;

/** Milliseconds until the current session expires (null when signed out). */
export const msLeft = () => (current ? expiresMs(current.expires_at) - Date.now() : null);

export function save(session) {
  current = { token: session.token, expires_at: session.expires_at, staff: session.staff };
  localStorage.setItem(KEY, JSON.stringify(current));
}

export function clear() {
  current = null;
  localStorage.removeItem(KEY);
}

/** Call `changed(signedIn)` when another tab signs in or out (not for this tab's own
 * changes: browsers fire the storage event in the other tabs only). */
export function watch(changed) {
  window.addEventListener("storage", (event) => {
    if (event.key !== KEY && event.key !== null) return;
    load();
    changed(Boolean(current));
  });
}

export const session = () => current;
export const token = () => (current ? current.token : null);
export const role = () => (current ? current.staff.role : null);
export const isHq = () => role() === HQ;
export const homeStore = () => (current ? current.staff.store_id : null);
export const allowed = (roles) => Boolean(current) && roles.includes(role());
