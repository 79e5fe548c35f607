// The health cards, live: the dashboard subscription redraws them whenever the server says
// the filtered figures changed (the cards component renders; this only feeds it).
export const OPERATION = "live-dashboard";
const ROOT = "rollbackDrillNotificationDashboardChanged";

// The same figures as operations/dashboard-cards.graphql (a JSON array literal: tests read it).
export const RENDERS = [
  "rollbackDrillNotificationDashboardChanged.generatedAt",
  "rollbackDrillNotificationDashboardChanged.alertLevel",
  "rollbackDrillNotificationDashboardChanged.planCount",
  "rollbackDrillNotificationDashboardChanged.deliveryCount",
  "rollbackDrillNotificationDashboardChanged.healthStatus",
  "rollbackDrillNotificationDashboardChanged.acknowledgementAuditDeliveryHealth",
  "rollbackDrillNotificationDashboardChanged.acknowledgementAuditDeliveryPlanCount",
  "rollbackDrillNotificationDashboardChanged.acknowledgementAuditDeliveryCount",
  "rollbackDrillNotificationDashboardChanged.failedAcknowledgementAuditDeliveryCount",
  "rollbackDrillNotificationDashboardChanged.acknowledgementAuditDeliverySuccessCount",
  "rollbackDrillNotificationDashboardChanged.acknowledgementAuditDeliverySuccessRate",
  "rollbackDrillNotificationDashboardChanged.failedDeliveryCount",
  "rollbackDrillNotificationDashboardChanged.acknowledgementCount",
  "rollbackDrillNotificationDashboardChanged.outstandingAcknowledgementCount",
];
export const USES = [];

/** Keep `cards` (components/cards.js) current; returns the function that stops it. */
export function followCards(live, cards, variables) {
  return live.subscribe(OPERATION, variables, (data) => cards.show(data[ROOT]));
}
