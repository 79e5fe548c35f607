// The view's state: the server-side filters (GraphQL argument names, also the URL's query
// names), the trend bucket and the open record. The URL is the single source of truth.

export const FILTERS = [
  "connectorDeliverySource",
  "provider",
  "providerCategory",
  "state",
  "metadataKind",
  "auditId",
  "deliveryId",
  "cadence",
  "createdAfter",
  "createdBefore",
];

const BUCKETS = ["day", "hour"];

/** The state a query string describes. */
export function readState(search) {
  const params = new URLSearchParams(search);
  const filters = {};
  for (const name of FILTERS) filters[name] = (params.get(name) || "").trim();
  const bucket = (params.get("bucket") || "").toLowerCase();
  return {
    filters,
    bucket: BUCKETS.includes(bucket) ? bucket : "",
    record: (params.get("record") || "").trim(),
  };
}

/** The query string of a state; `api` (if given) is kept first. */
export function toSearch(state, api) {
  const params = new URLSearchParams();
  if (api) params.set("api", api);
  for (const name of FILTERS) if (state.filters[name]) params.set(name, state.filters[name]);
  if (state.bucket) params.set("bucket", state.bucket);
  if (state.record) params.set("record", state.record);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** GraphQL variables: only the filters that are set (blank means no filter). */
export function variablesOf(filters) {
  const variables = {};
  for (const name of FILTERS) if (filters[name]) variables[name] = filters[name];
  return variables;
}

export function activeCount(filters) {
  return FILTERS.filter((name) => filters[name]).length;
}

/** Put the state's filters into the form, adding an option for a value the list lacks. */
export function writeForm(form, filters) {
  for (const name of FILTERS) {
    const control = form.elements.namedItem(name);
    if (!control) continue;
    const value = filters[name] || "";
    if (control.tagName === "SELECT" && ![...control.options].some((o) => o.value === value)) {
      control.append(new Option(value, value));
    }
    control.value = value;
  }
}

export function readForm(form) {
  const filters = {};
  for (const name of FILTERS) {
    const control = form.elements.namedItem(name);
    filters[name] = control ? control.value.trim() : "";
  }
  return filters;
}
