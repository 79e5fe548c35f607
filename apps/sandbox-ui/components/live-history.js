// The history table, live: each write's new or replaced rows go to the top of the table (a
// replaced row is redrawn where it is, never shown twice); the history component draws them.
export const OPERATION = "live-history";
const ROOT = "rollbackDrillNotificationAdded";

// The same row fields as operations/history-page.graphql (a JSON array literal: tests read it).
export const RENDERS = [
  "rollbackDrillNotificationAdded.records.createdAt",
  "rollbackDrillNotificationAdded.records.metadataKind",
  "rollbackDrillNotificationAdded.records.connectorDeliverySource",
  "rollbackDrillNotificationAdded.records.status",
  "rollbackDrillNotificationAdded.records.failedProviders",
  "rollbackDrillNotificationAdded.records.providers",
  "rollbackDrillNotificationAdded.records.auditId",
  "rollbackDrillNotificationAdded.records.deliveryId",
  "rollbackDrillNotificationAdded.records.eventId",
  "rollbackDrillNotificationAdded.records.scheduleId",
  "rollbackDrillNotificationAdded.records.planId",
];
// Read, not shown: the row's id (no duplicates, opens the record); seq orders the writes.
export const USES = [
  "rollbackDrillNotificationAdded.seq",
  "rollbackDrillNotificationAdded.records.id",
];

/** Keep `table` (components/history.js) current; returns the function that stops it. */
export function followHistory(live, table, variables) {
  let seen = 0;
  return live.subscribe(OPERATION, variables, (data) => {
    const change = data[ROOT];
    if (change.seq <= seen) return; // delivered again after a reconnect
    seen = change.seq;
    table.prepend(change.records);
  });
}
