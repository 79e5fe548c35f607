// Live updates: one graphql-transport-ws WebSocket to the API for every subscription of the
// page, re-subscribing after a reconnect (with backoff). A client of the protocol's few
// messages, hand-written: no package, no build step.
import { authHeaders, operationText } from "./api.js";

const PROTOCOL = "graphql-transport-ws";
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30000;
// Closed for a credential: reconnecting with the same token would be refused again.
const REFUSED = new Set([4401, 4403]);

/** The WebSocket URL of a GraphQL endpoint (ws:// for http://, wss:// for https://). */
export function socketUrl(endpoint) {
  const url = new URL(endpoint);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * The page's live connection. `onState(state)` hears "connecting", "live" and "offline".
 * `subscribe(name, variables, onData)` runs operations/<name>.graphql
 * and returns a function that ends it; the socket is open while any subscription is.
 */
export function createLive(endpoint, { onState }) {
  const subscriptions = new Map(); // id -> { name, variables, onData }
  let socket = null;
  let acknowledged = false;
  let retries = 0;
  let timer = null;
  let counter = 0;

  const send = (message) => {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };

  async function start(id) {
    const wanted = subscriptions.get(id);
    if (!wanted || !acknowledged) return;
    const query = await operationText(wanted.name);
    if (subscriptions.get(id) !== wanted || !acknowledged) return;
    send({ id, type: "subscribe", payload: { query, variables: wanted.variables } });
  }

  function receive(event) {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    const wanted = subscriptions.get(message.id);
    if (message.type === "connection_ack") {
      acknowledged = true;
      retries = 0;
      onState("live");
      for (const id of subscriptions.keys()) start(id);
    } else if (message.type === "ping") {
      send({ type: "pong" });
    } else if (message.type === "next" && wanted) {
      if (message.payload.data) wanted.onData(message.payload.data);
    } else if (message.type === "error" && wanted) {
      subscriptions.delete(message.id); // refused (a bad filter): not retried
    } else if (message.type === "complete" && wanted) {
      setTimeout(() => start(message.id), FIRST_DELAY_MS); // ended by the server: again
    }
  }

  function connect() {
    clearTimeout(timer);
    if (socket || !subscriptions.size) return;
    onState("connecting");
    acknowledged = false;
    const opened = new WebSocket(socketUrl(endpoint), PROTOCOL);
    socket = opened;
    opened.addEventListener("open", () => {
      opened.send(JSON.stringify({ type: "connection_init", payload: authHeaders() }));
    });
    opened.addEventListener("message", receive);
    opened.addEventListener("close", (event) => {
      if (socket !== opened) return;
      socket = null;
      acknowledged = false;
      if (!subscriptions.size) return;
      onState("offline");
      if (REFUSED.has(event.code)) return;
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** retries);
      retries += 1;
      timer = setTimeout(connect, delay * (0.5 + Math.random() / 2));
    });
  }

  function subscribe(name, variables, onData) {
    counter += 1;
    const id = `${name}-${counter}`;
    subscriptions.set(id, { name, variables, onData });
    if (socket) start(id);
    else connect();
    return () => {
      if (!subscriptions.delete(id)) return;
      send({ id, type: "complete" });
      if (!subscriptions.size && socket) {
        const closing = socket;
        socket = null;
        closing.close(1000, "no subscriptions");
        onState("idle");
      }
    };
  }

  /** End every subscription and the socket (sample mode has nothing to follow). */
  function stop() {
    for (const id of [...subscriptions.keys()]) send({ id, type: "complete" });
    subscriptions.clear();
    clearTimeout(timer);
    if (socket) {
      const closing = socket;
      socket = null;
      closing.close(1000, "stopped");
    }
    onState("idle");
  }

  return { subscribe, stop };
}
