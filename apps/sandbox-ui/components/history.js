// History table: one page at a time from the server, "Load more" follows pageInfo.endCursor.
import { count, errorMessage, h, muted, pill, when } from "../lib/dom.js";

export const OPERATION = "history-page";
const ROOT = "rollbackDrillNotifications";
const PAGE_SIZE = 50;

// Fields of the operation this component renders (a JSON array literal: tests read it).
export const RENDERS = [
  "rollbackDrillNotifications.total",
  "rollbackDrillNotifications.items.createdAt",
  "rollbackDrillNotifications.items.metadataKind",
  "rollbackDrillNotifications.items.connectorDeliverySource",
  "rollbackDrillNotifications.items.status",
  "rollbackDrillNotifications.items.failedProviders",
  "rollbackDrillNotifications.items.providers",
  "rollbackDrillNotifications.items.auditId",
  "rollbackDrillNotifications.items.deliveryId",
  "rollbackDrillNotifications.items.eventId",
  "rollbackDrillNotifications.items.scheduleId",
  "rollbackDrillNotifications.items.planId",
];
// Read, not shown: the row's id opens the record; pageInfo drives "Load more".
export const USES = [
  "rollbackDrillNotifications.items.id",
  "rollbackDrillNotifications.pageInfo.hasNextPage",
  "rollbackDrillNotifications.pageInfo.endCursor",
];

export const KIND_LABELS = {
  "go-backend-rollback-drill-notification-plan": "Notification plan",
  "go-backend-rollback-drill-notification-ack": "Acknowledgement",
  "go-backend-rollback-drill-notification-escalation-plan": "Escalation plan",
  "go-backend-rollback-drill-acknowledgement-audit-package": "Audit package",
  "go-backend-rollback-drill-acknowledgement-audit-delivery-plan": "Audit delivery plan",
  "release-connector-delivery": "Connector send",
};
const SOURCE_LABELS = {
  go_backend_rollback_drill_notification: "drill notification",
  go_backend_rollback_drill_acknowledgement_audit: "acknowledgement audit",
};

const f = (key) => `${ROOT}.items.${key}`;

function reference(item) {
  const audit = item.connectorDeliverySource === "go_backend_rollback_drill_acknowledgement_audit";
  const found = [
    ["deliveryId", "delivery"],
    ["eventId", audit ? "delivery" : "schedule"],
    ["scheduleId", "schedule"],
    ["planId", "plan"],
  ].filter(([key]) => item[key]);
  if (!found.length) return [];
  return found.map(([key, name]) =>
    h(
      "span",
      { class: "ref" },
      h("span", { class: "ref-label" }, name),
      " ",
      h("code", { "data-field": f(key), title: item[key] }, item[key]),
    ),
  );
}

function row(item, open) {
  const failed = item.failedProviders || [];
  const refs = reference(item);
  return h(
    "tr",
    {
      "data-id": item.id,
      class: "history-row",
      onclick: (event) => {
        if (!event.target.closest("button"))
          open(item, event.currentTarget.querySelector("button"));
      },
    },
    h(
      "td",
      { class: "nowrap" },
      h(
        "button",
        {
          type: "button",
          class: "row-open",
          "aria-label": `Open ${KIND_LABELS[item.metadataKind] || "record"} ${item.id} of ${when(item.createdAt, { seconds: true })}`,
          onclick: (event) => open(item, event.currentTarget),
        },
        h(
          "time",
          { "data-field": f("createdAt"), datetime: item.createdAt },
          when(item.createdAt, { seconds: true, zone: false }),
        ),
      ),
    ),
    h(
      "td",
      { class: "kind-cell" },
      h(
        "span",
        { "data-field": f("metadataKind"), title: item.metadataKind },
        KIND_LABELS[item.metadataKind] || item.metadataKind,
      ),
      item.connectorDeliverySource
        ? h(
            "span",
            {
              class: "sub",
              "data-field": f("connectorDeliverySource"),
              title: item.connectorDeliverySource,
            },
            SOURCE_LABELS[item.connectorDeliverySource] || item.connectorDeliverySource,
          )
        : null,
    ),
    h(
      "td",
      { class: "status-cell" },
      pill(item.status, { "data-field": f("status") }),
      failed.length
        ? h(
            "span",
            { class: "sub bad-text", "data-field": f("failedProviders") },
            `failed: ${failed.join(", ")}`,
          )
        : null,
    ),
    h(
      "td",
      { class: "providers-cell" },
      h(
        "span",
        { class: "chips", "data-field": f("providers") },
        item.providers.length
          ? item.providers.map((p) =>
              h("span", { class: `chip${failed.includes(p) ? " chip-failed" : ""}` }, p),
            )
          : muted("none"),
      ),
    ),
    item.auditId
      ? h(
          "td",
          { "data-label": "Audit" },
          h("code", { "data-field": f("auditId"), title: item.auditId }, item.auditId),
        )
      : h("td", { class: "is-empty" }, muted("—")),
    refs.length ? h("td", null, refs) : h("td", { class: "is-empty" }, muted("—")),
  );
}

export function createHistory(root, { loader, counter, open }) {
  const section = loader(root, { busyText: "Loading the history…" });
  let state = null;

  const more = h("button", { type: "button", class: "button", id: "load-more" }, "Load more");
  const moreStatus = h("span", { class: "more-status", role: "status", "aria-live": "polite" });
  const footer = h("div", { class: "table-footer" }, more, moreStatus);
  const body = h("tbody");
  const table = h(
    "div",
    { class: "table-scroll history-scroll" },
    h(
      "table",
      { class: "grid-table history-table" },
      h(
        "caption",
        { class: "visually-hidden" },
        "Rollback drill notification history, newest first",
      ),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", { scope: "col" }, "Created (UTC)"),
          h("th", { scope: "col" }, "Kind"),
          h("th", { scope: "col" }, "Status"),
          h("th", { scope: "col" }, "Providers"),
          h("th", { scope: "col" }, "Audit ID"),
          h("th", { scope: "col" }, "Reference"),
        ),
      ),
      body,
    ),
  );

  function showCount() {
    const shown = body.rows.length;
    counter.replaceChildren(
      "Showing ",
      h("strong", null, count(shown)),
      " of ",
      h("strong", { "data-field": `${ROOT}.total`, id: "history-total" }, count(state.total)),
      state.total === 1 ? " record" : " records",
    );
    more.hidden = !state.hasNextPage;
    moreStatus.textContent = state.hasNextPage ? "" : shown ? "End of the history." : "";
  }

  function append(page) {
    const seen = new Set([...body.rows].map((r) => r.dataset.id));
    for (const item of page.items) if (!seen.has(item.id)) body.append(row(item, open));
    state.total = page.total;
    state.hasNextPage = page.pageInfo.hasNextPage;
    state.after = page.pageInfo.endCursor;
    showCount();
  }

  const load = (run, variables) => {
    state = { run, variables, total: 0, hasNextPage: false, after: null };
    counter.textContent = "";
    return section.run(
      () => run(OPERATION, { ...variables, limit: PAGE_SIZE }),
      (data) => {
        body.replaceChildren();
        moreStatus.textContent = "";
        const page = data[ROOT];
        if (!page.items.length) {
          section.content.replaceChildren(
            h("p", { class: "empty" }, "No records match these filters."),
          );
          append(page);
          return;
        }
        section.content.replaceChildren(table, footer);
        append(page);
      },
      () => load(run, variables),
    );
  };

  /** A write's rows, live: new ones on top, replaced ones redrawn in place; then the total. */
  function prepend(items) {
    const current = state;
    if (!current || !items.length) return;
    const shown = new Map([...body.rows].map((r) => [r.dataset.id, r]));
    const fresh = [];
    for (const item of items) {
      const drawn = row(item, open);
      if (shown.has(item.id)) shown.get(item.id).replaceWith(drawn);
      else fresh.push(drawn);
    }
    for (const drawn of fresh) drawn.classList.add("live-new");
    body.prepend(...fresh);
    if (!table.isConnected) section.content.replaceChildren(table, footer);
    showCount();
    current
      .run(OPERATION, { ...current.variables, limit: 0 })
      .then((data) => {
        if (current !== state) return;
        state.total = data[ROOT].total;
        showCount();
      })
      .catch(() => {}); // the count stays as it was; the rows are shown
  }

  more.addEventListener("click", async () => {
    const current = state;
    more.disabled = true;
    moreStatus.textContent = "Loading the next page…";
    try {
      const data = await current.run(OPERATION, {
        ...current.variables,
        limit: PAGE_SIZE,
        after: current.after,
      });
      if (current !== state) return;
      append(data[ROOT]);
    } catch (error) {
      if (current === state)
        moreStatus.replaceChildren(
          h("span", { class: "error-text" }, `Could not load more: ${errorMessage(error)}`),
        );
    } finally {
      more.disabled = false;
    }
  });

  return { load, prepend };
}
