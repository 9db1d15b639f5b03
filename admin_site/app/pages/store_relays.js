// The store page's print relays (issue 13 item 7): head office issues, lists and revokes
// the store's relay tokens; a new token is shown once, with a config for `daojia-relay`
// ready to paste (print_relay/relay.example.toml is the full form); head office and the
// store's manager print a test slip and follow it until it prints.

import { apiBase, get, post } from "../api.js";
import { badge, busy, errorBox, h, okBox, slot, table } from "../dom.js";
import { columnsTable, tableExportButton } from "../export.js";
import { age, clockTime, dateTime } from "../format.js";
import { t } from "../i18n.js";
import { HQ, MANAGER, allowed, isHq } from "../session.js";

const HEALTH_TONE = { ok: "ok", never_seen: "warn", stale: "bad", shared_token: "bad", printer_fault: "bad", revoked: "" };
const POLL_MS = 1000;
const POLL_FOR_MS = 120_000; // then the page stops asking; the job keeps its state

// A TOML basic string: JSON's escapes (\" \\ \n \uXXXX) are TOML's too.
const tomlString = (s) => JSON.stringify(String(s));
// Comments hold one line each: a name cannot end the comment early.
const oneLine = (s) => String(s).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, " ");

/** The relay's config file for this store and token, exactly as `daojia-relay` reads it
 * (print_relay/config.py): the printers stay a commented placeholder to fill in on the
 * store PC, prefilled from the store's printers when they name an IP:port. */
export function relayConfig({ store, token, relayName, apiUrl }) {
  const printers = (store.printers || []).map((p) => {
    const m = /^([\w.-]+):(\d{1,5})$/.exec(p.connection || "");
    return { name: p.name, paper: p.paper_mm || 80, host: m ? m[1] : "192.168.1.50", port: m ? m[2] : "9100" };
  });
  if (!printers.length) printers.push({ name: "front", paper: 80, host: "192.168.1.50", port: "9100" });
  const lines = [
    `# daojia-relay: ${oneLine(store.name)} (${store.store_id}), relay “${oneLine(relayName)}”`,
    "# Save as relay.toml on the store PC, fill in the printer below, then run",
    "#   daojia-relay check --config relay.toml",
    "#   daojia-relay --config relay.toml",
    "# Keep this file private: the token is the relay's only credential.",
    "",
    `store_id = ${tomlString(store.store_id)}`,
    `api_url = ${tomlString(apiUrl)}`,
    `token = ${tomlString(token)}`,
    "",
    "# One [[printers]] section per receipt printer; types: network (TCP 9100), usb,",
    "# serial, file (see relay.example.toml). Remove the leading '# ' to use one.",
  ];
  for (const p of printers) {
    lines.push(
      "# [[printers]]",
      `# name = ${tomlString(p.name)}`,
      '# type = "network"',
      `# host = ${tomlString(p.host)}`,
      `# port = ${p.port}`,
      `# paper_mm = ${p.paper}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Copy `text`; true when it reached the clipboard. Falls back to selecting `field`. */
async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (field) {
      field.focus();
      field.select();
    }
    return false;
  }
}

function copyable(label, text, { rows, testid }) {
  const area = h("textarea", { readonly: "", rows: String(rows), spellcheck: "false", class: "mono copy-text", "aria-label": label, "data-testid": testid }, text);
  area.value = text;
  const note = h("span", { class: "muted", "aria-live": "polite" });
  const button = h("button", { type: "button", onclick: async () => {
    note.textContent = (await copyText(text, area)) ? t("relays.copied") : t("relays.copy_manually");
  } }, t("relays.copy", { what: label }));
  return h("div", { class: "copy-block" }, h("label", {}, label), area, h("div", { class: "row" }, button, note));
}

function jobState(job) {
  if (job.status === "printed") return { tone: "ok", text: t("relays.test_printed", { time: clockTime(job.printed_at) }) };
  if (job.status === "missed" || job.status === "resolved") {
    const last = (job.history || []).at(-1);
    return { tone: "error", text: t("relays.test_failed", { reason: (last && last.reason) || job.status }) };
  }
  return { tone: "warn", text: t("relays.test_queued") };
}

/** The section (after its relays are loaded). */
export async function relaySection(ctx, store) {
  const hq = isHq();
  const canTest = allowed([HQ, MANAGER]);
  const messages = slot();
  const issued = slot({ "data-testid": "issued-relay" });
  const listing = slot({ "data-testid": "relays" });
  const testStatus = slot({ "data-testid": "test-print-status" });
  let relays = [];
  let following = null; // {jobId, until}

  const load = async () => {
    try {
      const got = await get(`/admin/stores/${store.store_id}/relays`);
      if (!ctx.isCurrent()) return;
      relays = got.items;
      // Not a live status: the page's own messages (e.g. "saved") are the status here.
      listing.show(relays.length ? relayTable() : h("p", { class: "msg warn" }, t("relays.none")));
    } catch (err) {
      if (ctx.isCurrent()) messages.show(errorBox(err));
    }
  };

  const follow = async () => {
    if (!following) return;
    try {
      const job = await get(`/admin/print-jobs/${following.jobId}`);
      if (!ctx.isCurrent()) return;
      const state = jobState(job);
      testStatus.show(h("div", { class: `msg ${state.tone}`, role: "status", "data-status": job.status }, state.text));
      if (job.status === "printed" || job.status === "missed" || job.status === "resolved" || Date.now() > following.until) following = null;
    } catch (err) {
      following = null;
      if (ctx.isCurrent()) testStatus.show(errorBox(err));
    }
  };
  ctx.every(POLL_MS, follow);

  const testPrint = (button, relay) =>
    busy(button, messages, async () => {
      // One key per click: a retried request (lost answer) queues the same slip once.
      const key = `test-${store.store_id}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
      testStatus.clear();
      const job = await post(`/admin/stores/${store.store_id}/test-print`, relay ? { relay_id: relay.relay_id } : {}, {
        headers: { "Idempotency-Key": key },
      });
      following = { jobId: job.job_id, until: Date.now() + POLL_FOR_MS };
      testStatus.show(h("div", { class: "msg warn", role: "status", "data-status": job.status }, t("relays.test_queued")));
      await follow();
    });

  const revoke = (button, relay) => {
    if (!window.confirm(t("relays.revoke_confirm", { name: relay.name }))) return;
    busy(button, messages, async () => {
      await post(`/admin/relays/${relay.relay_id}/revoke`);
      messages.show(okBox(t("relays.revoked", { name: relay.name })));
      await load();
    });
  };

  const relayColumns = () => [
      { label: t("relays.name"), cell: (r) => [r.name, h("div", { class: "muted small" }, r.relay_id)], csv: (r) => r.name },
      { label: "relay_id", cell: () => null, csv: (r) => r.relay_id, hidden: true },
      { label: t("relays.status"), cell: (r) => (r.status === "revoked" ? badge(t("relays.status.revoked"), "") : badge(t(`relay.health.${r.health}`), HEALTH_TONE[r.health])) },
      { label: t("print.last_heartbeat"), cell: (r) => (!r.last_heartbeat_at ? "—" : r.heartbeat_age_s == null ? clockTime(r.last_heartbeat_at) : `${clockTime(r.last_heartbeat_at)} (${age(r.heartbeat_age_s)})`) },
      { label: t("relays.issued"), cell: (r) => `${dateTime(r.created_at)} · ${r.created_by}` },
      { label: t("relays.revoked_at"), cell: (r) => (r.revoked_at ? dateTime(r.revoked_at) : "—") },
      {
        label: t("common.actions"),
        csv: false,
        cell: (r) =>
          r.status === "active"
            ? [
                canTest ? h("button", { type: "button", onclick: (e) => testPrint(e.currentTarget, r) }, t("relays.test_print")) : null,
                " ",
                hq ? h("button", { type: "button", class: "danger", onclick: (e) => revoke(e.currentTarget, r) }, t("relays.revoke")) : null,
              ]
            : "—",
      },
    ];
  // The tokens themselves are never listed (shown once when issued): the file has none.
  const relayTable = () => [
    h("div", { class: "row" }, h("div", { class: "spacer" }),
      tableExportButton(() => columnsTable(`relays_${store.store_id}`, relayColumns(), relays), { name: "relays" })),
    table(t("relays.title"), relayColumns().filter((c) => !c.hidden), relays, { rowClass: (r) => (r.status === "revoked" ? "muted" : null) }),
  ];

  const name = h("input", { name: "relay_name", required: true, maxlength: "60", placeholder: t("relays.name_placeholder"), "aria-label": t("relays.name") });
  const issue = h("button", { type: "submit", class: "primary" }, t("relays.issue"));
  const issueForm = hq
    ? h(
        "form",
        {
          class: "row",
          onsubmit: (e) => {
            e.preventDefault();
            busy(issue, messages, async () => {
              const relay = await post(`/admin/stores/${store.store_id}/relays`, { name: name.value.trim() });
              name.value = "";
              const config = relayConfig({ store, token: relay.token, relayName: relay.name, apiUrl: apiBase() });
              issued.show(
                h(
                  "div",
                  { class: "card issued" },
                  h("h3", {}, t("relays.issued_title", { name: relay.name })),
                  h("p", { class: "msg warn", role: "status" }, t("relays.shown_once", { expires: dateTime(relay.token_expires_at) })),
                  copyable(t("relays.token"), relay.token, { rows: 3, testid: "relay-token" }),
                  copyable(t("relays.config"), config, { rows: 16, testid: "relay-config" }),
                  h("button", { type: "button", onclick: () => issued.clear() }, t("relays.hide")),
                ),
              );
              await load();
            });
          },
        },
        name,
        issue,
      )
    : null;

  await load();
  return h(
    "section",
    { class: "card relays", "aria-labelledby": "relays-title" },
    h("h2", { id: "relays-title" }, t("relays.title")),
    h("p", { class: "muted" }, t(hq ? "relays.hint_hq" : "relays.hint_store")),
    issueForm,
    messages,
    issued,
    listing,
    canTest ? h("div", { class: "row" }, h("button", { type: "button", "data-testid": "test-print-any", onclick: (e) => testPrint(e.currentTarget, null) }, t("relays.test_print_store"))) : null,
    testStatus,
  );
}
