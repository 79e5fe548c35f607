// DOM building, formatting and the loading/error life cycle shared by the components.
// Record data is always inserted as text, never as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** An HTML element: h("td", {class: "num"}, "12"). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function count(value) {
  return typeof value === "number" ? value.toLocaleString("en-US") : "—";
}

/** A 0..1 ratio as a percentage, rounded half up on the server's 4 decimals; `n/a` for null. */
export function percent(rate, digits = 0) {
  if (rate === null || rate === undefined) return "n/a";
  const basisPoints = Math.round(rate * 10000);
  const scale = 10 ** digits;
  return `${(Math.round((basisPoints * scale) / 100) / scale).toFixed(digits)}%`;
}

function parsed(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "2026-11-28 04:55 UTC" (or with seconds). */
export function when(iso, { seconds = false, zone = true } = {}) {
  const date = iso ? parsed(iso) : null;
  if (!date) return "—";
  const text = date.toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, seconds ? 19 : 16)}${zone ? " UTC" : ""}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Nov 28 04:55" in UTC: short, for dense tables (the full instant goes in a title). */
export function shortWhen(iso) {
  const date = iso ? parsed(iso) : null;
  if (!date) return "—";
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${date.toISOString().slice(11, 16)}`;
}

/** "3 h ago", relative to `now` (ms). */
export function ago(iso, now) {
  const date = iso ? parsed(iso) : null;
  if (!date) return "";
  const minutes = Math.round((now - date.getTime()) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

const TONES = {
  critical: "bad",
  delivery_failed: "bad",
  escalated: "bad",
  failing: "bad",
  healthy: "good",
  delivered: "good",
  acknowledged: "good",
  resolved: "good",
  warning: "warn",
  degraded: "warn",
  outstanding: "warn",
  dismissed: "neutral",
  unknown: "neutral",
};

export function tone(value) {
  return TONES[String(value || "").toLowerCase()] || "neutral";
}

export function label(value) {
  return String(value ?? "—")
    .toLowerCase()
    .replaceAll("_", " ");
}

/** A coloured status pill. */
export function pill(value, attrs = {}) {
  const text = value === null || value === undefined ? "—" : label(value);
  const classes = `pill tone-${tone(value)}${attrs.class ? ` ${attrs.class}` : ""}`;
  return h("span", { ...attrs, class: classes }, text);
}

export function muted(text, attrs = {}) {
  return h("span", { class: "muted", ...attrs }, text);
}

/** A GraphQL or network error as one readable line. */
export function errorMessage(error) {
  return error && error.message ? error.message : String(error);
}

/**
 * Runs a component's request: marks the root busy, ignores answers that a newer request
 * superseded, and shows an error (with Retry) in the root when the request fails.
 */
export function loader(root, { busyText = "Loading…" } = {}) {
  let ticket = 0;
  const status = h("div", { class: "section-status", role: "status", "aria-live": "polite" });
  const content = h("div", { class: "section-content" });
  root.replaceChildren(status, content);
  return {
    content,
    async run(request, render, retry) {
      const mine = ++ticket;
      root.setAttribute("aria-busy", "true");
      root.classList.add("is-loading");
      status.classList.remove("is-error");
      status.replaceChildren(h("span", { class: "spinner", "aria-hidden": "true" }), busyText);
      status.hidden = false;
      try {
        const data = await request();
        if (mine !== ticket) return;
        status.hidden = true;
        status.replaceChildren();
        render(data);
      } catch (error) {
        if (mine !== ticket) return;
        const refused = error && error.code === "BAD_USER_INPUT";
        status.replaceChildren(
          ...[
            h(
              "span",
              { class: "error-text" },
              refused
                ? "Not loaded: the filters were refused (see the message under the filters)."
                : `Could not load: ${errorMessage(error)}`,
            ),
            retry && !refused
              ? h("button", { type: "button", class: "button small", onclick: retry }, "Retry")
              : null,
          ].filter(Boolean),
        );
        status.hidden = false;
        status.classList.add("is-error");
        content.replaceChildren();
      } finally {
        if (mine === ticket) {
          root.removeAttribute("aria-busy");
          root.classList.remove("is-loading");
        }
      }
    },
  };
}
