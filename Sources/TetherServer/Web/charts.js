// The dashboard's plots, drawn as SVG with no library: a project's pool over the last hour (from
// GET /v1/projects/{id}/history plus the counts the dashboard reads live), and histograms of RTT and detection
// lateness read from /metrics (Prometheus text). The parsing and bucketing are plain functions, exported for
// the browser test.

const SVG = "http://www.w3.org/2000/svg";
const HOUR_MS = 3_600_000;

/** The pool series the plot draws, bottom of the legend to top. */
export const POOL_SERIES = ["idle", "connected", "suspended", "grace", "queued"];

function svg(tag, attributes = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(name, String(value));
  }
  if (text !== null) node.textContent = String(text);
  return node;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * The x axis's span: the last hour, or less while the history is younger (from its first sample, at least
 * five minutes), so that a fresh server's plot is not a sliver at the right edge.
 */
export function chartSpan(samples, now) {
  const first = samples.length ? samples[0].at : now;
  return Math.min(HOUR_MS, Math.max(5 * 60_000, now - first));
}

/**
 * The pool of one project over the hour before `now`: one step line per series of POOL_SERIES (samples are
 * instants; each value holds until the next sample), the y axis from 0 to the largest value (at least the
 * pool's size), the x axis the last hour (or since the first sample, see chartSpan).
 */
export function poolChart(projectId, samples, now) {
  const width = 640, height = 170, left = 34, right = 110, top = 10, bottom = 22;
  const plotW = width - left - right, plotH = height - top - bottom;
  const shown = samples.filter((s) => s.at > now - HOUR_MS && s.at <= now);
  const span = chartSpan(shown, now);
  const from = now - span;
  const yMax = Math.max(1, ...shown.map((s) => Math.max(s.total, ...POOL_SERIES.map((k) => s[k] ?? 0))));
  const x = (at) => left + ((at - from) / span) * plotW;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const root = svg("svg", {
    class: "chart pool-chart", "data-project": projectId, "data-samples": shown.length,
    viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": `pool of ${projectId} over the last hour`,
  });
  root.append(svg("rect", { class: "plot", x: left, y: top, width: plotW, height: plotH }));
  for (const v of [0, yMax]) {
    root.append(svg("text", { class: "axis", x: left - 4, y: y(v) + 4, "text-anchor": "end" }, v));
  }
  root.setAttribute("data-span-ms", span);
  for (let i = 0; i <= 4; i++) {
    const at = from + (i * span) / 4;
    root.append(svg("text", { class: "axis", x: x(at), y: height - 6, "text-anchor": "middle" },
      i === 4 ? "now" : clock(at)));
  }
  const last = shown[shown.length - 1];
  POOL_SERIES.forEach((key, i) => {
    const points = [];
    shown.forEach((s, j) => {
      const next = shown[j + 1];
      points.push(`${x(s.at).toFixed(1)},${y(s[key] ?? 0).toFixed(1)}`);
      points.push(`${x(next ? next.at : now).toFixed(1)},${y(s[key] ?? 0).toFixed(1)}`);
    });
    root.append(svg("polyline", { class: `series ${key}`, "data-series": key, "data-points": shown.length,
      points: points.join(" ") }));
    const ly = top + 12 + i * 16;
    root.append(svg("line", { class: `series ${key}`, x1: width - right + 10, y1: ly - 4, x2: width - right + 24,
      y2: ly - 4 }));
    root.append(svg("text", { class: "legend", "data-legend": key, x: width - right + 28, y: ly },
      `${key} ${last ? last[key] ?? 0 : "–"}`));
  });
  return root;
}

/**
 * A histogram family of Prometheus text: the cumulative `_bucket` counts of every series of `name` whose
 * labels match `match` (summed across series), by upper bound. Returns [{le, cumulative}] in ascending `le`
 * (+Inf last), or [] when the family is absent.
 */
export function parseHistogram(text, name, match = {}) {
  const sums = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf("}");
    if (close < 0) continue;
    const labels = {};
    for (const part of line.slice(prefix.length, close).matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[part[1]] = part[2];
    }
    if (!Object.entries(match).every(([k, v]) => labels[k] === v) || labels.le === undefined) continue;
    const value = Number(line.slice(close + 1).trim().split(/\s+/)[0]);
    if (!Number.isFinite(value)) continue;
    sums.set(labels.le, (sums.get(labels.le) ?? 0) + value);
  }
  return [...sums.entries()]
    .map(([le, cumulative]) => ({ le: le === "+Inf" ? Infinity : Number(le), cumulative }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
}

/** Per-bucket counts from cumulative ones: [{le, count}]. */
export function bucketCounts(buckets) {
  let before = 0;
  return buckets.map((b) => {
    const count = Math.max(0, b.cumulative - before);
    before = Math.max(before, b.cumulative);
    return { le: b.le, count };
  });
}

/** The smallest bucket bound under which at least `q` of the samples fall (Infinity past the last), or null. */
export function quantileBound(buckets, q) {
  const total = buckets.length ? buckets[buckets.length - 1].cumulative : 0;
  if (total === 0) return null;
  return buckets.find((b) => b.cumulative >= q * total)?.le ?? Infinity;
}

function boundText(seconds) {
  if (seconds === Infinity) return "+Inf";
  const ms = seconds * 1000;
  return ms >= 1 ? `${Math.round(ms * 100) / 100}` : `${Math.round(ms * 1000) / 1000}`;
}

/** A bar chart of one histogram family's buckets (seconds in /metrics, shown in ms). */
export function histogramChart(kind, title, buckets) {
  const width = 470, height = 190, left = 34, right = 8, top = 26, bottom = 40;
  const plotW = width - left - right, plotH = height - top - bottom;
  const counts = bucketCounts(buckets);
  const total = buckets.length ? buckets[buckets.length - 1].cumulative : 0;
  const highest = Math.max(1, ...counts.map((c) => c.count));
  const root = svg("svg", { class: "chart histogram", "data-histogram": kind, "data-total": total,
    viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title });
  const p50 = quantileBound(buckets, 0.5), p99 = quantileBound(buckets, 0.99);
  const summary = total === 0 ? "no samples yet"
    : `n = ${total} · p50 ≤ ${boundText(p50)} ms · p99 ≤ ${boundText(p99)} ms`;
  root.append(svg("text", { class: "title", x: left, y: 12 }, title));
  root.append(svg("text", { class: "axis", x: left, y: 23 }, summary));
  root.append(svg("rect", { class: "plot", x: left, y: top, width: plotW, height: plotH }));
  root.append(svg("text", { class: "axis", x: left - 4, y: top + 8, "text-anchor": "end" }, highest));
  const slot = counts.length ? plotW / counts.length : plotW;
  counts.forEach((c, i) => {
    const h = (c.count / highest) * plotH;
    const bx = left + i * slot;
    root.append(svg("rect", { class: "bar", "data-le": boundText(c.le), "data-count": c.count,
      x: (bx + 1).toFixed(1), y: (top + plotH - h).toFixed(1), width: Math.max(1, slot - 2).toFixed(1),
      height: h.toFixed(1) }));
    const tx = bx + slot / 2, ty = top + plotH + 10;
    root.append(svg("text", { class: "axis", x: tx.toFixed(1), y: ty, "text-anchor": "end",
      transform: `rotate(-45 ${tx.toFixed(1)} ${ty})` }, `≤${boundText(c.le)}`));
  });
  return root;
}
