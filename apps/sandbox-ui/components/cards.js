// Health cards: the server's dashboard figures, shown as computed (never recounted here).
import { count, h, percent, pill, when } from "../lib/dom.js";

export const OPERATION = "dashboard-cards";
const ROOT = "rollbackDrillNotificationDashboard";

// Fields of the operation this component renders; tests compare this list (kept a JSON array
// literal) with the selection of operations/dashboard-cards.graphql.
export const RENDERS = [
  "rollbackDrillNotificationDashboard.generatedAt",
  "rollbackDrillNotificationDashboard.alertLevel",
  "rollbackDrillNotificationDashboard.planCount",
  "rollbackDrillNotificationDashboard.deliveryCount",
  "rollbackDrillNotificationDashboard.healthStatus",
  "rollbackDrillNotificationDashboard.acknowledgementAuditDeliveryHealth",
  "rollbackDrillNotificationDashboard.acknowledgementAuditDeliveryPlanCount",
  "rollbackDrillNotificationDashboard.acknowledgementAuditDeliveryCount",
  "rollbackDrillNotificationDashboard.failedAcknowledgementAuditDeliveryCount",
  "rollbackDrillNotificationDashboard.acknowledgementAuditDeliverySuccessCount",
  "rollbackDrillNotificationDashboard.acknowledgementAuditDeliverySuccessRate",
  "rollbackDrillNotificationDashboard.failedDeliveryCount",
  "rollbackDrillNotificationDashboard.acknowledgementCount",
  "rollbackDrillNotificationDashboard.outstandingAcknowledgementCount",
];
export const USES = [];

const HEALTH_HINT = {
  HEALTHY: "no failed sends",
  DEGRADED: "failures, all destinations recovered",
  CRITICAL: "a destination's latest send failed",
  UNKNOWN: "no audit sends in view",
};

// key, label, field, how to show it, and a hint under the value.
const CARDS = [
  {
    key: "status",
    label: "Status",
    field: "alertLevel",
    show: "level",
    hint: () => "critical on any failed send or outstanding ack",
  },
  { key: "plans", label: "Plans", field: "planCount", hint: () => "notification plans" },
  {
    key: "deliveries",
    label: "Deliveries",
    field: "deliveryCount",
    hint: () => "connector sends, both sources",
  },
  {
    key: "audit-health",
    label: "Audit Delivery Health",
    field: "healthStatus",
    show: "level",
    hint: (d) => HEALTH_HINT[d.healthStatus] || "",
    extra: "acknowledgementAuditDeliveryHealth",
  },
  {
    key: "audit-plans",
    label: "Audit Plans",
    field: "acknowledgementAuditDeliveryPlanCount",
    hint: () => "audit delivery plans",
  },
  {
    key: "audit-sends",
    label: "Audit Sends",
    field: "acknowledgementAuditDeliveryCount",
    hint: () => "audit package send attempts",
  },
  {
    key: "audit-failed",
    label: "Audit Failed",
    field: "failedAcknowledgementAuditDeliveryCount",
    bad: true,
    hint: () => "failed audit sends",
  },
  {
    key: "audit-success",
    label: "Audit Success",
    field: "acknowledgementAuditDeliverySuccessRate",
    show: "rate",
    extra: "acknowledgementAuditDeliverySuccessCount",
  },
  {
    key: "failed-delivery",
    label: "Failed Delivery",
    field: "failedDeliveryCount",
    bad: true,
    hint: () => "failed connector sends",
  },
  {
    key: "acknowledgements",
    label: "Acknowledgements",
    field: "acknowledgementCount",
    hint: () => "in any state",
  },
  {
    key: "outstanding",
    label: "Outstanding",
    field: "outstandingAcknowledgementCount",
    warn: true,
    hint: () => "routes awaiting acknowledgement",
  },
];

function valueOf(card, data) {
  const value = data[card.field];
  const attrs = { class: "card-value", "data-field": `${ROOT}.${card.field}` };
  if (card.show === "level") return pill(value, { ...attrs, class: "card-value level" });
  if (card.show === "rate") return h("span", attrs, percent(value));
  return h("span", attrs, count(value));
}

function toneOf(card, data) {
  const value = data[card.field];
  if (card.show === "level") return String(value).toLowerCase();
  if (card.bad && value > 0) return "bad";
  if (card.warn && value > 0) return "warn";
  if (card.show === "rate" && value !== null && value < 1) return value < 0.9 ? "bad" : "warn";
  return "";
}

function extraOf(card, data) {
  if (card.extra === "acknowledgementAuditDeliveryHealth") {
    return h(
      "span",
      { class: "card-extra" },
      "legacy flag: ",
      h("span", { "data-field": `${ROOT}.${card.extra}` }, data[card.extra]),
    );
  }
  if (card.extra === "acknowledgementAuditDeliverySuccessCount") {
    return h(
      "span",
      { class: "card-extra" },
      h("span", { "data-field": `${ROOT}.${card.extra}` }, count(data[card.extra])),
      ` of ${count(data.acknowledgementAuditDeliveryCount)} sends succeeded`,
    );
  }
  return null;
}

function render(root, data) {
  root.replaceChildren(
    ...CARDS.map((card) =>
      h(
        "article",
        {
          class: "card",
          id: `card-${card.key}`,
          "data-card": card.key,
          "data-tone": toneOf(card, data) || null,
          "data-value": JSON.stringify(data[card.field]),
        },
        h("h3", { class: "card-label" }, card.label),
        valueOf(card, data),
        card.hint ? h("span", { class: "card-hint" }, card.hint(data)) : null,
        extraOf(card, data),
      ),
    ),
  );
}

/** The cards component; `load(run, variables)` asks the server and renders. */
export function createCards(root, { loader, provenance, describe }) {
  const section = loader(root, { busyText: "Loading the dashboard…" });
  // The figures on screen: the live stream starts by repeating what the page just loaded,
  // and redrawing equal cards would only make them flicker (and lose a reader's selection).
  let shown = null;
  const show = (dashboard) => {
    const { generatedAt, ...figures } = dashboard;
    const key = JSON.stringify(figures);
    if (key !== shown) {
      render(section.content, dashboard);
      shown = key;
    }
    provenance.replaceChildren(
      ...describe(
        h(
          "time",
          { "data-field": `${ROOT}.generatedAt`, datetime: dashboard.generatedAt },
          when(dashboard.generatedAt, { seconds: true }),
        ),
      ),
    );
  };
  const load = (run, variables) => {
    shown = null; // the section shows its busy state, not the cards
    return section.run(
      () => run(OPERATION, variables),
      (data) => show(data[ROOT]),
      () => load(run, variables),
    );
  };
  // `show` also takes the live dashboard (components/live-cards.js): the same figures.
  return { load, show };
}
