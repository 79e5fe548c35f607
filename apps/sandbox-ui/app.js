// The console: reads the view from the URL, asks the API (or, when it cannot be reached, the
// bundled sample) for each component's operation, and keeps the URL in step with the filters.
import {
  apiSource,
  endpointFor,
  exportUrl,
  saveToken,
  savedToken,
  Unreachable,
} from "./lib/api.js";
import { h, loader, when } from "./lib/dom.js";
import {
  activeCount,
  readForm,
  readState,
  toSearch,
  variablesOf,
  writeForm,
} from "./lib/filters.js";
import { createCards } from "./components/cards.js";
import { createDetail } from "./components/detail.js";
import { createExport } from "./components/export.js";
import { createHistory } from "./components/history.js";
import { createProviderHealth } from "./components/provider-health.js";
import { bucketFor, createTrend } from "./components/trend.js";
import { followCards } from "./components/live-cards.js";
import { followHistory } from "./components/live-history.js";
import { createLive } from "./lib/live.js";

const $ = (id) => document.getElementById(id);
const form = $("filters");
const apiParam = new URLSearchParams(location.search).get("api") || "";
const endpoint = endpointFor(location);

let source = apiSource(endpoint);
let connected = false;
let sampling = null;
let sampleNow = null;

// ---- where answers come from -------------------------------------------------------------

function setConnection(state, text) {
  const badge = $("connection");
  badge.dataset.state = state;
  badge.textContent = text;
}

async function enterSampleMode(reason) {
  sampling ||= import("./sample-mode.js").then(async ({ loadSample }) => {
    const sample = await loadSample();
    source = sample;
    sampleNow = Date.parse(sample.about.now);
    document.body.classList.add("sample-mode");
    live.stop(); // the sample does not change
    setConnection("sample", "Sample data");
    $("mode-banner-text").replaceChildren(
      h("strong", null, "The API cannot be reached, so this page shows sample data. "),
      `${reason.message} `,
      `What you see is a bundled sample of the demo history (${sample.about.records} records, the ${sample.about.days} days before ${when(sample.about.now)}). `,
      "In sample mode every figure is computed in your browser from those records, following SPEC §3 and §4, not by the server. ",
      "Start the API (cavra-gql api --demo) or point ?api= at it, then retry.",
    );
    $("mode-banner").hidden = false;
    $("graphiql-link").hidden = true;
    $("filters-hint").textContent =
      "Applied in your browser to the bundled sample, as the server would apply them. The address bar keeps them: share the link.";
  });
  try {
    await sampling;
  } catch (error) {
    sampling = null;
    throw new Error(
      `${reason.message} The bundled sample could not be loaded either: ${error.message}`,
    );
  }
}

/** Run an operation on the current source; the first unreachable API switches to the sample. */
async function run(name, variables) {
  if (source.kind === "api") {
    try {
      const data = await source.run(name, variables);
      setConnection("api", "Live API");
      connected = true;
      answered();
      return data;
    } catch (error) {
      if (error.code === "UNAUTHENTICATED" || error.code === "FORBIDDEN") {
        askForToken(error); // it answered: not without a (reader) token
        throw error;
      }
      if (!(error instanceof Unreachable)) {
        setConnection("api", "Live API"); // it answered, with errors
        connected = true;
        answered();
        if (error.code === "BAD_USER_INPUT") reportFilterError(error);
        throw error;
      }
      if (connected) {
        setConnection("down", "API unreachable");
        throw error;
      }
      await enterSampleMode(error);
    }
  }
  try {
    return await source.run(name, variables);
  } catch (error) {
    if (error.code === "BAD_USER_INPUT") reportFilterError(error);
    throw error;
  }
}

// ---- credentials (servers with an auth configuration) ---------------------------------------

function askForToken(error) {
  const form = $("token-form");
  if (!form.hidden) return;
  setConnection("down", "Token needed");
  const tried = savedToken() ? ` The saved token was refused: ${error.message}` : "";
  $("token-reason").replaceChildren(
    h("strong", null, "This server requires an API token."),
    ` Ask its operator for a reader token; it is kept in this tab only.${tried}`,
  );
  form.hidden = false;
  $("token-input").focus();
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  saveToken($("token-input").value.trim());
  location.reload();
});

// ---- filter errors (shown next to the filters) ----------------------------------------------

const filterErrors = new Set();

function reportFilterError(error) {
  for (const e of error.errors || [error]) filterErrors.add(e.message);
  const box = $("filter-error");
  box.replaceChildren(
    h(
      "strong",
      null,
      source.kind === "sample" ? "The filters were refused: " : "The server refused the filters: ",
    ),
    h(
      "ul",
      null,
      [...filterErrors].map((message) => h("li", null, message)),
    ),
  );
  box.hidden = false;
}

function clearFilterErrors() {
  filterErrors.clear();
  $("filter-error").hidden = true;
  $("filter-error").replaceChildren();
}

// ---- components ---------------------------------------------------------------------------

const now = () => sampleNow ?? Date.now();
const cards = createCards($("cards"), {
  loader,
  provenance: $("cards-provenance"),
  describe: (time) =>
    source.kind === "sample"
      ? ["Computed in your browser from the bundled sample at ", time, "."]
      : ["Computed by the server at ", time, "."],
});
const providers = createProviderHealth($("providers"), { loader, now });
const trend = createTrend($("trend"), { loader, caption: $("trend-caption") });
const detail = createDetail($("detail"), {
  run,
  onClose: () => {
    const state = readState(location.search);
    if (state.record)
      history.replaceState(
        null,
        "",
        toSearch({ ...state, record: "" }, apiParam) || location.pathname,
      );
  },
});
const historyTable = createHistory($("history-table"), {
  loader,
  counter: $("history-count"),
  open: (item, opener) => {
    const state = readState(location.search);
    history.replaceState(null, "", toSearch({ ...state, record: item.id }, apiParam));
    detail.open(item, opener);
  },
});

// ---- live updates (one WebSocket; re-subscribed when the filters change) ------------------

const LIVE_TEXT = { connecting: "Connecting live…", live: "Live", offline: "Offline", idle: "" };
const live = createLive(endpoint, {
  onState: (state) => {
    const badge = $("live");
    badge.dataset.state = state;
    badge.textContent = LIVE_TEXT[state];
    badge.hidden = state === "idle";
  },
});
let following = [];
let followed = null; // the filters followed (JSON), or asked for last
let answered;
// No WebSocket before the API has answered over HTTP: an unreachable one means sample mode.
const apiAnswered = new Promise((resolve) => (answered = resolve));

async function follow(variables) {
  const key = JSON.stringify(variables);
  if (key === followed && following.length) return; // same filters (a trend or record view)
  followed = key;
  await apiAnswered;
  if (followed !== key || source.kind !== "api") return;
  // The new subscriptions first: the socket never runs out of subscriptions, so it stays
  // open (no new connection and credential check per change of filters).
  const old = following;
  following = [followCards(live, cards, variables), followHistory(live, historyTable, variables)];
  for (const stop of old) stop();
}

createExport($("export-form"), $("export-status"), {
  target: (format) =>
    source.kind === "api"
      ? exportUrl(endpoint, variablesOf(readState(location.search).filters), format)
      : "Exports come from the API: the bundled sample cannot be exported.",
});

// ---- the view: URL -> controls -> requests ------------------------------------------------

function showState(state) {
  writeForm(form, state.filters);
  $("trend-bucket").value = state.bucket;
  const active = activeCount(state.filters);
  $("filters-title").textContent = active ? `Filters (${active} active)` : "Filters";
}

function loadView(state) {
  clearFilterErrors();
  const variables = variablesOf(state.filters);
  cards.load(run, variables);
  providers.load(run, variables);
  trend.load(
    run,
    variables,
    bucketFor(state.bucket, state.filters, now()),
    !state.bucket && !state.filters.createdAfter,
  );
  historyTable.load(run, variables);
  follow(variables);
  if (state.record && !detail.isOpen()) detail.open({ id: state.record });
  if (!state.record && detail.isOpen()) detail.close();
}

function navigate(state) {
  const search = toSearch(state, apiParam);
  if (search !== location.search) history.pushState(null, "", search || location.pathname);
  showState(state);
  loadView(state);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const state = readState(location.search);
  navigate({ ...state, filters: readForm(form), record: "" });
});
form.addEventListener("change", (event) => {
  if (event.target.tagName === "SELECT") form.requestSubmit();
});
form.addEventListener("reset", (event) => {
  event.preventDefault();
  navigate({ ...readState(""), bucket: readState(location.search).bucket });
});
for (const button of form.querySelectorAll("[data-range]")) {
  button.addEventListener("click", () => {
    const hours = Number(button.dataset.range);
    const hour = 3600e3;
    form.elements.createdAfter.value = hours
      ? new Date(Math.floor((now() - hours * hour) / hour) * hour)
          .toISOString()
          .replace(".000Z", "Z")
      : "";
    form.elements.createdBefore.value = "";
    form.requestSubmit();
  });
}
$("trend-bucket").addEventListener("change", (event) => {
  navigate({ ...readState(location.search), bucket: event.target.value });
});
$("retry-api").addEventListener("click", () => location.reload());
window.addEventListener("popstate", () => {
  const state = readState(location.search);
  showState(state);
  loadView(state);
});

$("endpoint-label").textContent = endpoint;
const graphiql = $("graphiql-link");
graphiql.href = endpoint;
graphiql.hidden = false;
const initial = readState(location.search);
showState(initial);
loadView(initial);
