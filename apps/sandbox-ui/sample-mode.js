// Sample mode, used only when the API cannot be reached: the page's own operations are answered
// from the bundled sample-data.json, computed in the browser after SPEC §3 (filters, order,
// keyset paging) and §4 (dashboard, provider health, trend). Answers are cut to each
// operation's selection, so the components cannot tell the two sources apart.

import { operationText } from "./lib/api.js";

const KIND = {
  plan: "go-backend-rollback-drill-notification-plan",
  ack: "go-backend-rollback-drill-notification-ack",
  escalation: "go-backend-rollback-drill-notification-escalation-plan",
  audit: "go-backend-rollback-drill-acknowledgement-audit-package",
  auditPlan: "go-backend-rollback-drill-acknowledgement-audit-delivery-plan",
  send: "release-connector-delivery",
};
const TYPENAME = {
  [KIND.plan]: "NotificationPlan",
  [KIND.ack]: "NotificationAcknowledgement",
  [KIND.escalation]: "EscalationPlan",
  [KIND.audit]: "AcknowledgementAuditPackage",
  [KIND.auditPlan]: "AcknowledgementAuditDeliveryPlan",
  [KIND.send]: "ConnectorDelivery",
};
const NOTIFICATION = "go_backend_rollback_drill_notification";
const AUDIT = "go_backend_rollback_drill_acknowledgement_audit";
const CATEGORIES = {
  siem: ["splunk", "sentinel", "datadog"],
  itsm: ["jira", "servicenow"],
  chatops: ["slack", "teams"],
  webhook: ["webhook"],
};
const HOUR = 3600e3;
const MAX_POINTS = 2000;

class BadInput extends Error {
  code = "BAD_USER_INPUT";
}

const str = (value) => (typeof value === "string" ? value : null);
const strs = (value) => (Array.isArray(value) ? value.filter((v) => typeof v === "string") : []);
const objs = (value) =>
  Array.isArray(value) ? value.filter((v) => v && typeof v === "object") : [];
const inner = (record, parent, key) => {
  const value = record[parent];
  return value && typeof value === "object" ? str(value[key]) : null;
};
const camel = (key) => key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z").replace("Z", "+00:00");

/** ISO-8601 date-time, no offset read as UTC; anything else is the server's BAD_USER_INPUT. */
function instant(name, text) {
  const m =
    /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)([Zz]|[+-]\d{2}:?\d{2})?$/.exec(
      text.trim(),
    );
  const zone = m && m[3] ? m[3].toUpperCase().replace(/^([+-]\d{2})(\d{2})$/, "$1:$2") : "Z";
  const ms = m ? Date.parse(`${m[1]}T${m[2]}${zone}`) : NaN;
  if (Number.isNaN(ms)) throw new BadInput(`${name}: not an ISO-8601 date-time: '${text}'`);
  return ms;
}

/** §3 derived fields of a stored record, computed once. */
function prepare(record) {
  const kind = record.metadata_kind;
  const names = new Set(
    strs(record.selected_providers).concat(strs(record.providers), strs(record.failed_providers)),
  );
  if (str(record.provider) !== null) names.add(record.provider);
  for (const route of objs(record.acknowledgement_audit_package?.routes)) {
    if (str(route.provider) !== null) names.add(route.provider);
  }
  names.delete("");
  const success = record.delivery_success === true;
  let status = str(record.alert_level);
  if (kind === KIND.ack) status = str(record.acknowledgement_state);
  if (kind === KIND.send) status = success ? "delivered" : "delivery_failed";
  let outstanding = false;
  if (kind === KIND.escalation)
    outstanding = objs(record.escalation_plan?.routes).some((r) => r.acknowledged === false);
  if (kind === KIND.audit) {
    outstanding = objs(record.acknowledgement_audit_package?.routes).some(
      (r) => r.acknowledgement_state === "outstanding",
    );
  }
  if (kind === KIND.auditPlan)
    outstanding = typeof record.outstanding_count === "number" && record.outstanding_count > 0;
  return {
    record,
    kind,
    status,
    outstanding,
    success,
    id: record.session_id,
    ms: instant("created_at", record.created_at),
    source: str(record.connector_delivery_source),
    providers: [...names].sort(),
  };
}

function inHistory(item) {
  if (item.kind === KIND.send) return item.source === NOTIFICATION || item.source === AUDIT;
  return Object.values(KIND).includes(item.kind);
}

function byHistoryOrder(a, b) {
  return b.ms - a.ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** §3 filters; all combine with AND, blank means no filter. */
function matcher(v) {
  const set = (name) => (typeof v[name] === "string" && v[name].trim() !== "" ? v[name] : null);
  const tests = [];
  const source = set("connectorDeliverySource");
  if (source)
    tests.push(
      (i) =>
        i.source === source ||
        (source === AUDIT && (i.kind === KIND.audit || i.kind === KIND.auditPlan)),
    );
  const provider = set("provider");
  if (provider) tests.push((i) => i.providers.includes(provider));
  const category = set("providerCategory");
  if (category) {
    const members = CATEGORIES[category.trim().toLowerCase()];
    if (!members)
      throw new BadInput(
        `providerCategory: expected one of siem, itsm, chatops, webhook, got '${category}'`,
      );
    tests.push((i) => i.providers.some((p) => members.includes(p)));
  }
  const state = set("state");
  if (state) tests.push((i) => i.status === state || (state === "outstanding" && i.outstanding));
  const kind = set("metadataKind");
  if (kind) tests.push((i) => i.kind === kind);
  const audit = set("auditId");
  if (audit)
    tests.push(
      (i) =>
        i.record.audit_id === audit ||
        inner(i.record, "acknowledgement_audit_delivery_plan", "audit_id") === audit,
    );
  const delivery = set("deliveryId");
  if (delivery)
    tests.push((i) => [i.record.delivery_id, i.record.event_id, i.id].includes(delivery));
  const cadence = set("cadence");
  if (cadence)
    tests.push(
      (i) => inner(i.record, "acknowledgement_audit_delivery_plan", "cadence") === cadence,
    );
  const after = set("createdAfter");
  const afterMs = after === null ? null : instant("createdAfter", after);
  if (afterMs !== null) tests.push((i) => i.ms >= afterMs);
  const before = set("createdBefore");
  const beforeMs = before === null ? null : instant("createdBefore", before);
  if (beforeMs !== null) tests.push((i) => i.ms < beforeMs);
  return { test: (i) => tests.every((t) => t(i)), afterMs, beforeMs };
}

/** successes / attempts rounded half up to 4 decimals, in integers; null without attempts. */
function rate(successes, attempts) {
  return attempts ? Math.floor((20000 * successes + attempts) / (2 * attempts)) / 10000 : null;
}

function figures(attempts) {
  const failed = attempts.filter((a) => a.failed);
  const latest = (list) => (list.length ? iso(Math.max(...list.map((a) => a.ms))) : null);
  return {
    attempts: attempts.length,
    failures: failed.length,
    successes: attempts.length - failed.length,
    successRate: rate(attempts.length - failed.length, attempts.length),
    lastSuccessAt: latest(attempts.filter((a) => !a.failed)),
    lastFailureAt: latest(failed),
  };
}

/** Recovery-aware status over per-provider attempt lists (each newest first). */
function healthStatus(lists) {
  if (!lists.some((l) => l.length)) return "UNKNOWN";
  if (!lists.some((l) => l.some((a) => a.failed))) return "HEALTHY";
  return lists.some((l) => l.length && l[0].failed) ? "CRITICAL" : "DEGRADED";
}

/** §4 outstanding acknowledgements: per schedule, its first plan's required providers. */
function outstandingCount(matched) {
  const done = new Set();
  for (const i of matched) {
    if (
      i.kind === KIND.ack &&
      ["acknowledged", "resolved"].includes(i.record.acknowledgement_state)
    ) {
      done.add(`${i.record.schedule_id}\u0000${i.record.provider}`);
    }
  }
  const seen = new Set();
  let total = 0;
  for (const i of matched) {
    if (i.kind !== KIND.plan) continue;
    const schedule = str(i.record.schedule_id) || inner(i.record, "plan", "schedule_id");
    if (!schedule || seen.has(schedule)) continue;
    seen.add(schedule);
    let required = strs(i.record.acknowledgement_required_providers);
    if (!required.length) required = strs(i.record.plan?.acknowledgement_required_providers);
    total += required.filter((p) => p && !done.has(`${schedule}\u0000${p}`)).length;
  }
  return total;
}

function dashboard(matched) {
  const of = (kind) => matched.filter((i) => i.kind === kind);
  const sends = of(KIND.send);
  const audit = sends.filter((i) => i.source === AUDIT);
  const auditOk = audit.filter((i) => i.success).length;
  const outstanding = outstandingCount(matched);
  const attempts = new Map();
  for (const i of audit) {
    const failed = new Set(strs(i.record.failed_providers).filter(Boolean));
    const tried = new Set([...strs(i.record.providers).filter(Boolean), ...failed]);
    for (const name of tried) {
      if (!attempts.has(name)) attempts.set(name, []);
      attempts.get(name).push({ ms: i.ms, failed: failed.has(name) });
    }
  }
  const named = new Set(attempts.keys());
  for (const i of of(KIND.auditPlan))
    strs(i.record.selected_providers).forEach((p) => p && named.add(p));
  const categoryOf = (p) => Object.keys(CATEGORIES).find((c) => CATEGORIES[c].includes(p)) || null;
  return {
    generatedAt: iso(Date.now()),
    alertLevel: sends.some((i) => !i.success) || outstanding ? "critical" : "healthy",
    planCount: of(KIND.plan).length,
    deliveryCount: sends.length,
    failedDeliveryCount: sends.filter((i) => !i.success).length,
    acknowledgementCount: of(KIND.ack).length,
    acknowledgementAuditDeliveryPlanCount: of(KIND.auditPlan).length,
    acknowledgementAuditDeliveryCount: audit.length,
    failedAcknowledgementAuditDeliveryCount: audit.length - auditOk,
    acknowledgementAuditDeliverySuccessCount: auditOk,
    acknowledgementAuditDeliverySuccessRate: rate(auditOk, audit.length),
    acknowledgementAuditDeliveryHealth: audit.length > auditOk ? "critical" : "healthy",
    outstandingAcknowledgementCount: outstanding,
    healthStatus: healthStatus([...attempts.values()]),
    providerHealth: [...named].sort().map((provider) => ({
      provider,
      category: categoryOf(provider),
      ...figures(attempts.get(provider) || []),
      status: healthStatus([attempts.get(provider) || []]),
    })),
    categoryHealth: Object.entries(CATEGORIES).map(([category, members]) => {
      const lists = members.map((p) => attempts.get(p) || []);
      return {
        category,
        ...figures(lists.flat()),
        status: healthStatus(lists),
      };
    }),
  };
}

function trend(matched, v, filter) {
  const step = v.bucket === "HOUR" ? HOUR : 24 * HOUR;
  const counts = new Map();
  for (const i of matched) {
    if (i.kind !== KIND.send || i.source !== AUDIT) continue;
    const start = Math.floor(i.ms / step) * step;
    const [attempts, failures] = counts.get(start) || [0, 0];
    counts.set(start, [attempts + 1, failures + (i.success ? 0 : 1)]);
  }
  const starts = [...counts.keys()];
  if (filter.afterMs !== null) starts.push(Math.floor(filter.afterMs / step) * step);
  if (filter.beforeMs !== null) starts.push(Math.floor((filter.beforeMs - 1) / step) * step);
  if (!starts.length) return [];
  const first = Math.min(...starts);
  const last = Math.max(...starts);
  if ((last - first) / step + 1 > MAX_POINTS) {
    throw new BadInput(`bucket: more than ${MAX_POINTS} buckets: use DAY or a shorter range`);
  }
  const points = [];
  for (let start = first; start <= last; start += step) {
    const [attempts, failures] = counts.get(start) || [0, 0];
    points.push({ start: iso(start), attempts, failures, successes: attempts - failures });
  }
  return points;
}

/** A history item: the record's top-level fields in camelCase, then the §3 typed fields. */
function typed(i) {
  const fields = { __typename: TYPENAME[i.kind] };
  for (const [key, value] of Object.entries(i.record)) fields[camel(key)] = camelDeep(value);
  return Object.assign(fields, {
    id: i.id,
    createdAt: iso(i.ms),
    metadataKind: i.kind,
    status: i.status,
    providers: i.providers,
    record: i.record,
  });
}

function camelDeep(value) {
  if (Array.isArray(value)) return value.map(camelDeep);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), camelDeep(v)]));
}

function page(matched, v) {
  let rest = matched;
  if (v.after) {
    let cursor;
    try {
      cursor = JSON.parse(atob(v.after));
    } catch {
      throw new BadInput(`after: not a cursor issued by this API: '${v.after}'`);
    }
    const [ms, id] = cursor;
    rest = matched.filter((i) => i.ms < ms || (i.ms === ms && i.id > id));
  }
  const limit = Math.min(typeof v.limit === "number" ? v.limit : 50, 500);
  const items = rest.slice(0, limit);
  const last = items[items.length - 1];
  return {
    total: matched.length,
    pageInfo: {
      hasNextPage: rest.length > limit,
      endCursor: last ? btoa(JSON.stringify([last.ms, last.id])) : null,
    },
    items: items.map(typed),
  };
}

/** The selection of an operation's root field: [{name, fields}|{on, fields}], arguments skipped. */
function selectionOf(text) {
  const tokens = text.replace(/#[^\n]*/g, "").match(/\.\.\.|[A-Za-z_]\w*|"(?:[^"\\]|\\.)*"|\S/g);
  let at = tokens.indexOf("{");
  const set = () => {
    const fields = [];
    at += 1;
    while (tokens[at] !== "}") {
      if (tokens[at] === "...") {
        const on = tokens[at + 2];
        at += 3;
        fields.push({ on, fields: set() });
        continue;
      }
      const name = tokens[at++];
      if (tokens[at] === "(") {
        for (let depth = 0; ; at += 1) {
          depth += tokens[at] === "(" ? 1 : tokens[at] === ")" ? -1 : 0;
          if (depth === 0) break;
        }
        at += 1;
      }
      fields.push({ name, fields: tokens[at] === "{" ? set() : null });
    }
    at += 1;
    return fields;
  };
  return set()[0];
}

/** Keep only the selected fields (inline fragments apply to the item's own type). */
function shape(value, fields) {
  if (Array.isArray(value)) return value.map((v) => shape(v, fields));
  if (!value || typeof value !== "object") return value ?? null;
  const out = {};
  for (const field of fields) {
    if (field.on) {
      if (field.on === value.__typename) Object.assign(out, shape(value, field.fields));
    } else {
      const v = value[field.name];
      out[field.name] = field.fields ? shape(v, field.fields) : (v ?? null);
    }
  }
  return out;
}

/** Load the bundled sample and return a source that answers the page's operations. */
export async function loadSample(url = "sample-data.json") {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const body = await response.json();
  const items = body.items.map(prepare).filter(inHistory).sort(byHistoryOrder);
  const selections = new Map();
  return {
    kind: "sample",
    about: { ...body.sample, records: items.length },
    async run(name, variables = {}) {
      if (!selections.has(name)) selections.set(name, selectionOf(await operationText(name)));
      const root = selections.get(name);
      const filter = matcher(variables);
      const matched = items.filter(filter.test);
      let value;
      if (root.name === "rollbackDrillNotificationDashboard") value = dashboard(matched);
      else if (root.name === "auditDeliveryTrend") value = trend(matched, variables, filter);
      else if (root.name === "rollbackDrillNotifications") value = page(matched, variables);
      else if (root.name === "rollbackDrillNotification") {
        const found = items.find((i) => i.id === variables.id);
        value = found ? typed(found) : null;
      }
      else throw new Error(`sample mode cannot answer ${root.name}`);
      return { [root.name]: shape(value, root.fields) };
    },
  };
}
