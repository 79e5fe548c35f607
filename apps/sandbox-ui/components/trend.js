// Trend chart: audit sends per UTC day or hour as stacked SVG bars (succeeded + failed).
import { count, h, s, when } from "../lib/dom.js";

export const OPERATION = "trend";
const ROOT = "auditDeliveryTrend";

// Fields of the operation this component renders (a JSON array literal: tests read it).
export const RENDERS = [
  "auditDeliveryTrend.start",
  "auditDeliveryTrend.attempts",
  "auditDeliveryTrend.successes",
  "auditDeliveryTrend.failures",
];
export const USES = [];

const HOUR = 3600e3;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The bucket to ask for: the user's choice, else hours for ranges of three days or less. */
export function bucketFor(choice, filters, now) {
  if (choice) return choice.toUpperCase();
  const after = Date.parse(filters.createdAfter || "");
  const before = filters.createdBefore ? Date.parse(filters.createdBefore) : now;
  if (!Number.isNaN(after) && !Number.isNaN(before) && before - after <= 72 * HOUR) return "HOUR";
  return "DAY";
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= raw) || 10 * power;
  return Math.max(1, Math.ceil(step));
}

/** Hours between x-axis labels: a UTC-aligned step that leaves ~64 px per label. */
function labelStep(points, bucket, plotW) {
  const unit = bucket === "DAY" ? 24 : 1;
  const room = Math.max(1, Math.floor(plotW / 64));
  const steps = [1, 2, 3, 6, 12, 24, 48, 72, 168, 336, 672, 1344, 2688, 8736].filter(
    (h) => h % unit === 0,
  );
  return steps.find((h) => (points.length * unit) / h <= room) || steps[steps.length - 1];
}

function tickLabel(iso) {
  const date = new Date(iso);
  if (date.getUTCHours() === 0) return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`;
  return `${String(date.getUTCHours()).padStart(2, "0")}:00`;
}

function chart(points, bucket, width) {
  const height = width < 520 ? 210 : 290;
  const m = { top: 24, right: 18, bottom: 30, left: 44 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const top = Math.max(1, ...points.map((p) => p.attempts));
  const step = niceStep(top, height < 240 ? 4 : 5);
  const yMax = Math.ceil(top / step) * step;
  const y = (v) => m.top + plotH - (v / yMax) * plotH;
  const band = plotW / points.length;
  const barW = Math.max(1, Math.min(28, band * 0.72));
  const grid = [];
  for (let v = 0; v <= yMax; v += step) {
    grid.push(s("line", { class: "grid", x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }));
    grid.push(
      s(
        "text",
        { class: "axis-label", x: m.left - 6, y: y(v) + 4, "text-anchor": "end" },
        count(v),
      ),
    );
  }
  const every = labelStep(points, bucket, plotW);
  const bars = points.map((p, index) => {
    const x = m.left + index * band + (band - barW) / 2;
    const period = bucket === "DAY" ? new Date(p.start).toISOString().slice(0, 10) : when(p.start);
    const label = `${period}: ${count(p.attempts)} sends, ${count(p.successes)} succeeded, ${count(p.failures)} failed`;
    const parts = [s("title", null, label)];
    if (p.attempts > 0) {
      parts.push(
        s("rect", {
          class: "bar-ok",
          "data-field": `${ROOT}.successes`,
          x,
          width: barW,
          y: y(p.successes),
          height: y(0) - y(p.successes),
        }),
      );
      parts.push(
        s("rect", {
          class: "bar-failed",
          "data-field": `${ROOT}.failures`,
          x,
          width: barW,
          y: y(p.attempts),
          height: y(0) - y(p.failures),
        }),
      );
    }
    parts.push(
      s("rect", {
        class: "bar-hit",
        "data-field": `${ROOT}.attempts`,
        "data-attempts": p.attempts,
        x: m.left + index * band,
        width: band,
        y: m.top,
        height: plotH,
      }),
    );
    const labelled = Math.round(Date.parse(p.start) / HOUR) % every === 0;
    const tick = labelled
      ? s(
          "text",
          {
            class: "axis-label",
            "data-field": `${ROOT}.start`,
            x: m.left + index * band + band / 2,
            y: height - m.bottom + 16,
            "text-anchor": "middle",
          },
          tickLabel(p.start),
        )
      : null;
    return s("g", { class: "bucket", "data-start": p.start }, parts, tick);
  });
  return s(
    "svg",
    {
      class: "trend-chart",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `Audit sends per ${bucket === "DAY" ? "day" : "hour"}, ${points.length} buckets from ${when(points[0].start)} to ${when(points[points.length - 1].start)}`,
    },
    grid,
    s("line", { class: "axis", x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }),
    s(
      "text",
      { class: "axis-title", x: 4, y: 12 },
      `sends per ${bucket === "DAY" ? "day" : "hour"}`,
    ),
    bars,
  );
}

function legend() {
  return h(
    "ul",
    { class: "legend", "aria-label": "Legend" },
    h("li", null, h("span", { class: "swatch swatch-ok", "aria-hidden": "true" }), "Succeeded"),
    h("li", null, h("span", { class: "swatch swatch-failed", "aria-hidden": "true" }), "Failed"),
    h("li", { class: "muted" }, "Bar height: all send attempts"),
  );
}

export function createTrend(root, { loader, caption }) {
  const section = loader(root, { busyText: "Loading the trend…" });
  let shown = null;
  const draw = () => {
    if (!shown) return;
    const { points, bucket } = shown;
    if (!points.length) {
      section.content.replaceChildren(h("p", { class: "empty" }, "No audit sends in this view."));
      return;
    }
    const width = Math.max(280, Math.floor(section.content.clientWidth || root.clientWidth || 600));
    section.content.replaceChildren(chart(points, bucket, width), legend());
  };
  let frame = 0;
  new ResizeObserver(() => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      if (shown && Math.abs((section.content.clientWidth || 0) - shown.width) > 8) {
        shown.width = section.content.clientWidth;
        draw();
      }
    });
  }).observe(section.content);

  const load = (run, variables, bucket, fallback) =>
    section.run(
      () => run(OPERATION, { ...variables, bucket }),
      (data) => {
        const points = data[ROOT];
        // Without a date range the history may span only a few days: show it per hour then.
        if (fallback && bucket === "DAY" && points.length > 0 && points.length <= 7) {
          load(run, variables, "HOUR", false);
          return;
        }
        shown = { points, bucket, width: section.content.clientWidth };
        const first = points[0]?.start;
        const last = points[points.length - 1]?.start;
        const at = (iso) => (bucket === "DAY" ? iso.slice(0, 10) : when(iso, { zone: false }));
        caption.textContent = points.length
          ? `Acknowledgement audit sends per ${bucket === "DAY" ? "UTC day" : "UTC hour"}, ${at(first)} to ${at(last)}.`
          : "Acknowledgement audit sends per bucket (UTC).";
        draw();
      },
      () => load(run, variables, bucket, fallback),
    );
  return { load };
}
