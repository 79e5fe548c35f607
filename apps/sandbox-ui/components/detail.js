// Detail panel: one record's key typed fields and the whole stored record, pretty-printed.
// Every field the operation returns is rendered (generically, in answer order).
import { errorMessage, h, muted, pill, when } from "../lib/dom.js";
import { KIND_LABELS } from "./history.js";

export const OPERATION = "record-detail";
const ROOT = "rollbackDrillNotification";

// Fields of the operation this component renders (a JSON array literal: tests read it).
export const RENDERS = [
  "rollbackDrillNotification.id",
  "rollbackDrillNotification.metadataKind",
  "rollbackDrillNotification.createdAt",
  "rollbackDrillNotification.status",
  "rollbackDrillNotification.providers",
  "rollbackDrillNotification.connectorDeliverySource",
  "rollbackDrillNotification.eventType",
  "rollbackDrillNotification.eventId",
  "rollbackDrillNotification.auditId",
  "rollbackDrillNotification.deliveryId",
  "rollbackDrillNotification.deliverySuccess",
  "rollbackDrillNotification.failedProviders",
  "rollbackDrillNotification.attemptCount",
  "rollbackDrillNotification.delivery.deliveries.provider",
  "rollbackDrillNotification.delivery.deliveries.success",
  "rollbackDrillNotification.delivery.deliveries.statusCode",
  "rollbackDrillNotification.delivery.deliveries.attemptCount",
  "rollbackDrillNotification.delivery.deliveries.error",
  "rollbackDrillNotification.planId",
  "rollbackDrillNotification.scheduleId",
  "rollbackDrillNotification.alertLevel",
  "rollbackDrillNotification.acknowledgementRequiredProviders",
  "rollbackDrillNotification.acknowledgementId",
  "rollbackDrillNotification.provider",
  "rollbackDrillNotification.acknowledgementState",
  "rollbackDrillNotification.acknowledgement.acknowledgedBy",
  "rollbackDrillNotification.acknowledgement.acknowledgedAt",
  "rollbackDrillNotification.acknowledgement.externalRef",
  "rollbackDrillNotification.acknowledgement.notes",
  "rollbackDrillNotification.escalationPlan.outstandingCount",
  "rollbackDrillNotification.escalationPlan.breachedCount",
  "rollbackDrillNotification.routeCount",
  "rollbackDrillNotification.acknowledgementCount",
  "rollbackDrillNotification.outstandingCount",
  "rollbackDrillNotification.acknowledgementAuditDeliveryPlan.cadence",
  "rollbackDrillNotification.acknowledgementAuditDeliveryPlan.scheduleRef",
  "rollbackDrillNotification.acknowledgementAuditDeliveryPlan.nextDeliveryAt",
  "rollbackDrillNotification.record",
];
export const USES = [];

const LABELS = {
  id: "Session ID",
  createdAt: "Created",
  metadataKind: "Metadata kind",
  auditId: "Audit ID",
  deliveryId: "Delivery ID",
  eventId: "Event ID",
  planId: "Plan ID",
  scheduleId: "Schedule ID",
  acknowledgementId: "Acknowledgement ID",
  statusCode: "HTTP status",
  externalRef: "External reference",
};
const PILLS = new Set(["status", "alertLevel", "acknowledgementState"]);

function humanize(key) {
  if (LABELS[key]) return LABELS[key];
  const words = key.replace(/([A-Z])/g, " $1").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function value(key, v, field) {
  const attrs = { "data-field": field };
  if (v === null || v === undefined || v === "") return muted("—", attrs);
  if (typeof v === "boolean")
    return h("span", { ...attrs, class: `pill tone-${v ? "good" : "bad"}` }, v ? "yes" : "no");
  if (PILLS.has(key)) return pill(v, attrs);
  if (Array.isArray(v)) {
    return v.length
      ? h(
          "span",
          { ...attrs, class: "chips" },
          v.map((item) => h("span", { class: "chip" }, String(item))),
        )
      : muted("none", attrs);
  }
  if (/At$/.test(key) && typeof v === "string" && !Number.isNaN(Date.parse(v))) {
    return h("time", { ...attrs, datetime: v, title: v }, when(v, { seconds: true }));
  }
  if (key === "metadataKind") return h("span", { ...attrs, title: v }, KIND_LABELS[v] || v);
  if (/Id$|^id$/.test(key)) return h("code", attrs, v);
  return h("span", attrs, String(v));
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function section(title, ...children) {
  return h("section", { class: "detail-section" }, h("h3", null, title), children);
}

/** Scalars as a definition list, nested objects as sub-sections, object lists as tables. */
function fields(object, path, prefix = "") {
  const entries = Object.entries(object).filter(
    ([key]) => key !== "record" && key !== "__typename",
  );
  const isList = (v) => Array.isArray(v) && v.some(isObject);
  const flat = entries.filter(([, v]) => !isObject(v) && !isList(v));
  const parts = flat.length
    ? [
        h(
          "dl",
          { class: "kv" },
          flat.map(([key, v]) => [
            h("dt", null, humanize(key)),
            h("dd", null, value(key, v, `${path}.${key}`)),
          ]),
        ),
      ]
    : [];
  for (const [key, v] of entries) {
    const title = `${prefix}${humanize(key)}`;
    if (isList(v)) {
      parts.push(table(title, v, `${path}.${key}`));
    } else if (isObject(v)) {
      const onlyLists = Object.values(v).every(isList);
      parts.push(
        onlyLists
          ? fields(v, `${path}.${key}`, `${title} › `)
          : section(title, fields(v, `${path}.${key}`)),
      );
    }
  }
  return parts;
}

function table(title, list, path) {
  const columns = [...new Set(list.flatMap((item) => Object.keys(item)))];
  return section(
    title,
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "grid-table compact" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            columns.map((c) => h("th", { scope: "col" }, humanize(c))),
          ),
        ),
        h(
          "tbody",
          null,
          list.map((item) =>
            h(
              "tr",
              null,
              columns.map((c) => h("td", null, value(c, item[c], `${path}.${c}`))),
            ),
          ),
        ),
      ),
    ),
  );
}

function render(body, title, item) {
  title.replaceChildren(KIND_LABELS[item.metadataKind] || "Record", " ", pill(item.status));
  const json = JSON.stringify(item.record, null, 2);
  const copy = h("button", { type: "button", class: "button small" }, "Copy JSON");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(json);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Copy failed: select the text";
    }
  });
  body.replaceChildren(
    section("Key fields", fields(item, ROOT)),
    h(
      "section",
      { class: "detail-section" },
      h(
        "div",
        { class: "section-title-row" },
        h(
          "h3",
          null,
          "Whole record ",
          h("span", { class: "muted small" }, "as stored, secrets redacted"),
        ),
        copy,
      ),
      h(
        "pre",
        {
          class: "json",
          tabindex: "0",
          "data-field": `${ROOT}.record`,
          "aria-label": "The whole record as JSON",
        },
        json,
      ),
    ),
  );
}

/**
 * The panel; `open({id, metadataKind, createdAt}, opener)` looks the record up by session id
 * (narrowed by kind and time when known). `onClose` runs when the panel closes.
 */
export function createDetail(dialog, { run, onClose }) {
  const body = dialog.querySelector("#detail-body");
  const title = dialog.querySelector("#detail-title");
  let opener = null;
  let ticket = 0;

  dialog.querySelector("#detail-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    ticket += 1;
    if (opener && opener.isConnected) opener.focus();
    opener = null;
    onClose();
  });

  async function open(wanted, from) {
    const mine = ++ticket;
    opener = from || null;
    title.replaceChildren(KIND_LABELS[wanted.metadataKind] || "Record");
    body.replaceChildren(
      h(
        "p",
        { class: "section-status", role: "status" },
        h("span", { class: "spinner", "aria-hidden": "true" }),
        "Loading the record…",
      ),
    );
    dialog.setAttribute("aria-busy", "true");
    if (!dialog.open) dialog.showModal();
    try {
      const data = await run(OPERATION, { id: wanted.id });
      if (mine !== ticket) return;
      const item = data[ROOT];
      if (item) render(body, title, item);
      else
        body.replaceChildren(
          h("p", { class: "empty" }, `No record with session ID ${wanted.id} is in the history.`),
        );
    } catch (error) {
      if (mine !== ticket) return;
      body.replaceChildren(
        h(
          "p",
          { class: "error-text", role: "alert" },
          `Could not load the record: ${errorMessage(error)}`,
        ),
      );
    } finally {
      if (mine === ticket) dialog.removeAttribute("aria-busy");
    }
  }

  return { open, close: () => dialog.open && dialog.close(), isOpen: () => dialog.open };
}
