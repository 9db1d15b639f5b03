// Boot: read config.json (which names the API), load the language, restore the session,
// then route #/path?query to a page from pages/index.js.

import * as api from "./api.js";
import { h, errorBox, fitTables } from "./dom.js";
import { LANGUAGES, currentLanguage, loadLanguage, savedLanguage, t, translateStatic } from "./i18n.js";
import { NAV_GROUPS, PAGES, groupOf, pagesOf } from "./pages/index.js";
import * as session from "./session.js";
import * as stores from "./stores.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const top = document.getElementById("top");
const banner = document.getElementById("banner");

let timers = [];
let pollers = [];
let renderSeq = 0;
let baseTitle = "";

/** Split "#/orders/261124AB?store=x" into a page and its params. */
function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  const query = Object.fromEntries(new URLSearchParams(qs || ""));
  for (const page of PAGES) {
    const names = [];
    const pattern = new RegExp(
      "^" + page.path.replace(/:(\w+)/g, (_, n) => (names.push(n), "([^/]+)")) + "/?$",
    );
    const m = pattern.exec(path);
    if (m) {
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
      return { page, params, query };
    }
  }
  return { page: null, params: {}, query };
}

export function navigate(path, query) {
  const qs = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v != null)).toString() : "";
  const target = `#${path}${qs ? `?${qs}` : ""}`;
  if (location.hash === target) render();
  else location.hash = target;
}

function homePath() {
  const first = PAGES.find((p) => p.nav && session.allowed(p.roles));
  return first ? first.path : "/signin";
}

function renderShell() {
  const signedIn = Boolean(session.session());
  top.hidden = !signedIn;
  translateStatic();
  const other = LANGUAGES.find((l) => l !== currentLanguage());
  const langButton = document.getElementById("lang");
  langButton.textContent = t(`lang.switch.${other}`);
  langButton.setAttribute("lang", other);
  if (!signedIn) return;
  const box = document.getElementById("search-q");
  box.placeholder = t("search.placeholder");
  if (document.activeElement !== box) box.value = parseHash().page?.id === "search" ? parseHash().query.q || "" : "";
  const staff = session.session().staff;
  document.getElementById("who").textContent = t("shell.who", {
    name: staff.display_name,
    role: t(`role.${staff.role}`),
    store: staff.store_id || t("shell.all_stores"),
  });
  const current = parseHash().page;
  const currentGroup = groupOf(current) || "operations";
  const groups = NAV_GROUPS.map((g) => ({ g, pages: pagesOf(g).filter((p) => session.allowed(p.roles)) }))
    .filter(({ pages }) => pages.length > 0);
  // Tabs for the groups; every group's page links are in the DOM, only the current
  // group's shown (the others are hidden, so one can still find a page by its name).
  nav.replaceChildren(
    h(
      "div",
      { class: "nav-groups" },
      ...groups.map(({ g, pages }) =>
        h(
          "a",
          {
            href: `#${pages[0].path}`,
            class: "nav-group",
            "data-group": g.id,
            "aria-current": g.id === currentGroup ? "true" : null,
          },
          t(g.label),
        ),
      ),
    ),
    ...groups.map(({ g, pages }) =>
      h(
        "div",
        { class: "nav-pages", "data-group": g.id, hidden: g.id !== currentGroup || pages.length < 2 ? true : null },
        ...pages.map((p) =>
          h(
            "a",
            { href: `#${p.path}`, "aria-current": current && (current.section || current.id) === p.id ? "page" : null },
            t(p.nav),
          ),
        ),
      ),
    ),
  );
}

function clearTimers() {
  for (const id of timers) clearInterval(id);
  timers = [];
  pollers = [];
}

/** A page's refresh: every `ms` while the tab is visible, never two runs at once; a
 * hidden tab makes no calls, and one that becomes visible again refreshes at once. */
function poll(ms, fn) {
  let running = false;
  const run = async () => {
    if (running || document.hidden) return;
    running = true;
    try {
      await fn();
    } finally {
      running = false;
    }
  };
  timers.push(setInterval(run, ms));
  pollers.push(run);
}

/** The tab's title, with a count in front when the page has news: "(2) 订单 · …". */
function setBadge(count) {
  document.title = count > 0 ? `(${count}) ${baseTitle}` : baseTitle;
}

async function render() {
  clearTimers();
  const seq = ++renderSeq;
  let { page, params, query } = parseHash();
  if (!session.session() && (!page || !page.public)) {
    location.hash = "#/signin";
    return;
  }
  if (!page || (!page.public && !session.allowed(page.roles))) {
    location.hash = `#${homePath()}`;
    return;
  }
  renderShell();
  baseTitle = `${t(page.title)} · ${t("shell.brand")}`;
  document.title = baseTitle;
  const ctx = {
    params,
    query,
    navigate,
    rerender: () => render(),
    // A page refreshing on its own: paused while the tab is hidden, cleared when the
    // user leaves the page.
    every: (ms, fn) => poll(ms, () => (seq === renderSeq ? fn() : undefined)),
    badge: (count) => seq === renderSeq && setBadge(count),
    isCurrent: () => seq === renderSeq,
  };
  main.setAttribute("aria-busy", "true");
  if (!main.querySelector("h1") || main.dataset.page !== page.id) {
    main.replaceChildren(h("h1", {}, t(page.title)), h("p", { class: "muted" }, t("common.loading")));
  }
  main.dataset.page = page.id;
  try {
    const content = await page.render(ctx);
    if (seq !== renderSeq) return; // the user moved on while this page loaded
    main.replaceChildren(content);
  } catch (err) {
    if (seq !== renderSeq) return;
    main.replaceChildren(h("h1", {}, t(page.title)), errorBox(err));
  } finally {
    if (seq === renderSeq) main.removeAttribute("aria-busy");
  }
}

let expiryTimer = null;

/** Sign out with "session expired" when the token runs out while the site is open. */
function watchExpiry() {
  clearTimeout(expiryTimer);
  const left = session.msLeft();
  // setTimeout holds at most ~24.8 days; tokens live hours.
  if (left !== null) expiryTimer = setTimeout(() => signOut(t("signin.expired")), Math.max(left, 0));
}

function signOut(reason) {
  clearTimeout(expiryTimer);
  session.clear();
  stores.forget();
  clearTimers();
  if (reason) sessionStorage.setItem("daojia.signin_reason", reason);
  else sessionStorage.removeItem("daojia.signin_reason");
  location.hash = "#/signin";
  render();
}

async function boot() {
  try {
    await loadLanguage(savedLanguage());
    const config = await (await fetch("config.json", { cache: "no-store" })).json();
    api.configure({
      apiUrl: config.apiUrl,
      token: session.token,
      unauthorised: () => signOut(t("signin.expired")),
    });
    document.body.dataset.stage = config.stage || "";
  } catch (err) {
    banner.hidden = false;
    banner.textContent = t("error.config", { error: String(err) });
    return;
  }
  if (!session.load() && session.expired()) {
    sessionStorage.setItem("daojia.signin_reason", t("signin.expired"));
  }
  // Signed out (or in as someone else) in another tab: this tab follows.
  session.watch((signedIn) => {
    stores.forget();
    if (signedIn) render();
    else signOut();
  });
  watchExpiry();
  window.addEventListener("daojia:signed-in", watchExpiry);
  document.getElementById("signout").addEventListener("click", () => signOut());
  // The shell's search box: any page, Enter opens the results (pages/search.js).
  document.getElementById("search").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("search-q").value.trim();
    if (q) navigate("/search", { q });
  });
  document.getElementById("lang").addEventListener("click", async () => {
    const other = LANGUAGES.find((l) => l !== currentLanguage());
    await loadLanguage(other);
    render();
  });
  window.addEventListener("hashchange", () => {
    render();
    main.focus({ preventScroll: true });
  });
  window.addEventListener("daojia:signed-in", () => navigate(homePath()));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) for (const run of pollers) run();
  });
  // Tables that do not fit the width are stacked (dom.fitTables), checked whenever the
  // page's content or the window's width changes.
  let fitQueued = false;
  const fitSoon = () => {
    if (fitQueued) return;
    fitQueued = true;
    requestAnimationFrame(() => {
      fitQueued = false;
      fitTables(main);
    });
  };
  new MutationObserver(fitSoon).observe(main, { childList: true, subtree: true });
  window.addEventListener("resize", fitSoon);
  render();
}

boot();
