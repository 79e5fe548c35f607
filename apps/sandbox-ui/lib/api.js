// The GraphQL endpoint, the page's operations (fetched from operations/*.graphql) and requests.

export const DEFAULT_ENDPOINT = "http://127.0.0.1:8000/graphql";
const TIMEOUT_MS = 20000;

/** The API was not reached at all (network error, CORS refusal, timeout, not a GraphQL answer). */
export class Unreachable extends Error {}

/** The API answered with GraphQL errors; `code` is the first error's `extensions.code`. */
export class RequestError extends Error {
  constructor(errors) {
    super(errors.map((error) => error.message).join("; "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code || null;
  }
}

/**
 * `?api=` wins; a page served by the API itself (under /sandbox/) uses the same origin;
 * otherwise (python3 -m http.server and the like) the API on 127.0.0.1:8000.
 */
export function endpointFor(location) {
  const override = new URLSearchParams(location.search).get("api");
  if (override && override.trim()) return new URL(override.trim(), location.href).href;
  const path = location.pathname;
  if (path === "/sandbox" || path.startsWith("/sandbox/")) return `${location.origin}/graphql`;
  return DEFAULT_ENDPOINT;
}

const TOKEN_KEY = "cavra-gql-token";

/** The bearer token for servers that require one: kept for this browser tab only. */
export function savedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function saveToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage refused (private mode): the token lasts until the page reloads
  }
}

const operations = new Map();

/** The text of operations/<name>.graphql, fetched once (relative to the page). */
export function operationText(name) {
  if (!operations.has(name)) {
    const request = fetch(`operations/${name}.graphql`).then((response) => {
      if (!response.ok) throw new Error(`operations/${name}.graphql: HTTP ${response.status}`);
      return response.text();
    });
    request.catch(() => operations.delete(name));
    operations.set(name, request);
  }
  return operations.get(name);
}

/** A source that sends the page's operations to a GraphQL endpoint. */
export function apiSource(endpoint) {
  return {
    kind: "api",
    endpoint,
    async run(name, variables) {
      const query = await operationText(name);
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
      let response;
      try {
        const headers = {
          "content-type": "application/json",
          accept: "application/json",
          ...authHeaders(),
        };
        response = await fetch(endpoint, {
          method: "POST",
          headers,
          body: JSON.stringify({ query, variables }),
          signal: controller.signal,
        });
      } catch (error) {
        const why =
          error.name === "AbortError"
            ? `no answer within ${TIMEOUT_MS / 1000} s`
            : "connection refused, offline, or blocked by CORS";
        throw new Unreachable(`Cannot reach the API at ${endpoint} (${why}).`);
      } finally {
        clearTimeout(timer);
      }
      let body;
      try {
        body = await response.json();
      } catch {
        throw new Unreachable(`${endpoint} answered HTTP ${response.status}, not GraphQL.`);
      }
      if (body && Array.isArray(body.errors) && body.errors.length)
        throw new RequestError(body.errors);
      if (!response.ok || !body || !body.data) {
        throw new RequestError([{ message: `HTTP ${response.status} without data` }]);
      }
      return body.data;
    },
  };
}

const EXPORT_PATH = "/runtime/go-pilot/rollback-drill-notifications/export";

/** The REST export URL of the API serving `endpoint`: GraphQL variable names become the
 * REST query names (providerCategory -> provider_category). */
export function exportUrl(endpoint, variables, format) {
  const url = new URL(EXPORT_PATH, endpoint);
  url.searchParams.set("format", format);
  for (const [name, value] of Object.entries(variables)) {
    url.searchParams.set(name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value);
  }
  return url.href;
}

/** The request headers that carry the saved token, if any. */
export function authHeaders() {
  const token = savedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}
