// Provider health: one row per destination, grouped by category, with the server's figures.
import { ago, count, h, muted, percent, pill, shortWhen } from "../lib/dom.js";

export const OPERATION = "provider-health";
const ROOT = "rollbackDrillNotificationDashboard";

// Fields of the operation this component renders (a JSON array literal: tests read it).
export const RENDERS = [
  "rollbackDrillNotificationDashboard.providerHealth.provider",
  "rollbackDrillNotificationDashboard.providerHealth.attempts",
  "rollbackDrillNotificationDashboard.providerHealth.failures",
  "rollbackDrillNotificationDashboard.providerHealth.successRate",
  "rollbackDrillNotificationDashboard.providerHealth.lastSuccessAt",
  "rollbackDrillNotificationDashboard.providerHealth.lastFailureAt",
  "rollbackDrillNotificationDashboard.providerHealth.status",
  "rollbackDrillNotificationDashboard.categoryHealth.category",
  "rollbackDrillNotificationDashboard.categoryHealth.attempts",
  "rollbackDrillNotificationDashboard.categoryHealth.failures",
  "rollbackDrillNotificationDashboard.categoryHealth.successRate",
  "rollbackDrillNotificationDashboard.categoryHealth.status",
];
// Read, not shown: the provider's category places its row in a group.
export const USES = ["rollbackDrillNotificationDashboard.providerHealth.category"];

const GROUPS = [
  ["siem", "SIEM"],
  ["itsm", "ITSM"],
  ["chatops", "ChatOps"],
  ["webhook", "Webhook"],
];

function bar(rate, field) {
  if (rate === null || rate === undefined) return muted("n/a", { "data-field": field });
  const width = Math.max(0, Math.min(100, rate * 100));
  const level = rate >= 0.98 ? "good" : rate >= 0.9 ? "warn" : "bad";
  return h(
    "div",
    { class: "rate" },
    h(
      "div",
      {
        class: `rate-bar tone-${level}`,
        role: "meter",
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": String(Math.round(rate * 1000) / 10),
        "aria-label": "Success rate",
      },
      h("span", { style: `width: ${width}%` }),
    ),
    h("span", { class: "rate-text", "data-field": field }, percent(rate, 1)),
  );
}

function moment(iso, field, now) {
  if (!iso) return muted("never", { "data-field": field });
  return h(
    "span",
    { class: "moment" },
    h("time", { datetime: iso, "data-field": field, title: iso }, shortWhen(iso)),
    h("span", { class: "muted small" }, ago(iso, now)),
  );
}

function categoryRow(category, name) {
  const f = (key) => `${ROOT}.categoryHealth.${key}`;
  return h(
    "tr",
    { class: "group-row", "data-category": category.category },
    h("th", { scope: "rowgroup" }, h("span", { "data-field": f("category") }, name)),
    h(
      "td",
      { class: "num", "data-label": "Attempts", "data-field": f("attempts") },
      count(category.attempts),
    ),
    h(
      "td",
      {
        class: `num${category.failures ? " bad-text" : ""}`,
        "data-label": "Failures",
        "data-field": f("failures"),
      },
      count(category.failures),
    ),
    h("td", { class: "rate-cell" }, bar(category.successRate, f("successRate"))),
    h("td", { colspan: "2", class: "muted small combined" }, `${name} destinations combined`),
    h("td", { class: "status-cell" }, pill(category.status, { "data-field": f("status") })),
  );
}

function providerRow(p, now) {
  const f = (key) => `${ROOT}.providerHealth.${key}`;
  return h(
    "tr",
    { class: "provider-row", "data-provider": p.provider, "data-status": p.status },
    h(
      "th",
      { scope: "row", class: "provider-name" },
      h("span", { "data-field": f("provider") }, p.provider),
    ),
    h(
      "td",
      { class: "num", "data-label": "Attempts", "data-field": f("attempts") },
      count(p.attempts),
    ),
    h(
      "td",
      {
        class: `num${p.failures ? " bad-text" : ""}`,
        "data-label": "Failures",
        "data-field": f("failures"),
      },
      count(p.failures),
    ),
    h("td", { class: "rate-cell" }, bar(p.successRate, f("successRate"))),
    h("td", { "data-label": "Last success" }, moment(p.lastSuccessAt, f("lastSuccessAt"), now)),
    h("td", { "data-label": "Last failure" }, moment(p.lastFailureAt, f("lastFailureAt"), now)),
    h("td", { class: "status-cell" }, pill(p.status, { "data-field": f("status") })),
  );
}

function render(root, data, now) {
  const providers = data.providerHealth;
  const known = new Set(GROUPS.map(([key]) => key));
  const groups = [...GROUPS];
  if (providers.some((p) => !known.has(p.category))) groups.push([null, "Other"]);
  const bodies = groups.map(([key, name]) => {
    const rows = providers.filter((p) =>
      key === null ? !known.has(p.category) : p.category === key,
    );
    const category = data.categoryHealth.find((c) => c.category === key);
    return h(
      "tbody",
      { "data-group": key || "other" },
      category
        ? categoryRow(category, name)
        : h("tr", { class: "group-row" }, h("th", { scope: "rowgroup", colspan: "7" }, name)),
      rows.map((p) => providerRow(p, now)),
      rows.length
        ? null
        : h(
            "tr",
            { class: "empty-row" },
            h("td", { colspan: "7" }, `No audit sends to ${name} destinations in this view.`),
          ),
    );
  });
  root.replaceChildren(
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "grid-table providers-table" },
        h(
          "caption",
          { class: "visually-hidden" },
          "Audit delivery health per provider, grouped by category",
        ),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col" }, "Provider"),
            h("th", { scope: "col", class: "num" }, "Attempts"),
            h("th", { scope: "col", class: "num" }, "Failures"),
            h("th", { scope: "col" }, "Success rate"),
            h("th", { scope: "col" }, "Last success"),
            h("th", { scope: "col" }, "Last failure"),
            h("th", { scope: "col" }, "Status"),
          ),
        ),
        bodies,
      ),
    ),
  );
}

export function createProviderHealth(root, { loader, now }) {
  const section = loader(root, { busyText: "Loading provider health…" });
  const load = (run, variables) =>
    section.run(
      () => run(OPERATION, variables),
      (data) => render(section.content, data[ROOT], now()),
      () => load(run, variables),
    );
  return { load };
}
