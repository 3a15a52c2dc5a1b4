/*
 * The throughput chart, drawn as SVG by hand: two rate lines (completed, failed) over the
 * sampler's window, a gap wherever sampling paused, a "nice" y scale, minute ticks on x.
 */
import { $, clear } from "./dom.js";
import { fmtInt, fmtRate } from "./format.js";
import type { Rates, ThroughputPoint, ThroughputSeries } from "./wire.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A y-axis step from 1, 2, 2.5 or 5 × 10^k, so that four steps cover x (at least 0.1 each). */
function niceStep(x: number): number {
  const raw = Math.max(x / 4, 0.1);
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * p >= raw - 1e-9) return step * p;
  return 10 * p;
}

/** Axis labels are exact (0.25, not 0.3). */
function fmtAxis(v: number): string {
  return v >= 1000 ? fmtInt(v) : String(Math.round(v * 100) / 100);
}

/** Runs of points with no sampling gap between them. */
function runs(points: readonly ThroughputPoint[], maxGap: number): ThroughputPoint[][] {
  const out: ThroughputPoint[][] = [];
  let current: ThroughputPoint[] = [];
  let previous: ThroughputPoint | undefined;
  for (const p of points) {
    if (previous !== undefined && p.t - previous.t > maxGap) {
      out.push(current);
      current = [];
    }
    current.push(p);
    previous = p;
  }
  if (current.length) out.push(current);
  return out;
}

export function drawChart(container: HTMLElement, series: ThroughputSeries, now: number): void {
  const width = Math.max(320, container.clientWidth || 800);
  const height = container.clientHeight || 220;
  const [padL, padR, padT, padB] = [44, 14, 10, 24];
  const innerW = width - padL - padR;
  const innerH = height - padT - padB;
  const from = now - series.windowMs;
  const points = series.points.filter((p) => p.t >= from);
  let peak = 0;
  for (const p of points) peak = Math.max(peak, p.completed, p.failed);
  const top = niceStep(peak === 0 ? 4 : peak * 1.1) * 4;
  const x = (t: number) => padL + ((t - from) / series.windowMs) * innerW;
  const y = (v: number) => padT + innerH - (v / top) * innerH;

  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", preserveAspectRatio: "none" });
  // Hooks for tests and curious users: how much the window holds, in jobs.
  chart.setAttribute("data-points", String(points.length));
  chart.setAttribute("data-completed", String(series.totals.completed));
  chart.setAttribute("data-failed", String(series.totals.failed));
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    chart.appendChild(svg("line", { class: "grid-line", x1: padL, x2: width - padR, y1: y(v), y2: y(v) }));
    chart.appendChild(
      svg("text", { class: "axis", x: padL - 8, y: y(v) + 4, "text-anchor": "end" }, fmtAxis(v)),
    );
  }
  const minutes = Math.round(series.windowMs / 60000);
  for (let m = 0; m <= minutes; m++) {
    const t = now - m * 60000;
    const label = m === 0 ? "now" : `−${m}m`;
    const anchor = m === 0 ? "end" : m === minutes ? "start" : "middle";
    chart.appendChild(svg("text", { class: "axis", x: x(t), y: height - 6, "text-anchor": anchor }, label));
  }
  const maxGap = series.intervalMs * 3.5;
  for (const key of ["completed", "failed"] as const) {
    for (const run of runs(points, maxGap)) {
      const line = run
        .map((p, j) => `${j ? "L" : "M"}${x(p.t).toFixed(1)} ${y(p[key]).toFixed(1)}`)
        .join(" ");
      const first = run[0];
      const last = run[run.length - 1];
      if (run.length > 1 && first !== undefined && last !== undefined) {
        const area = `${line} L${x(last.t).toFixed(1)} ${y(0)} L${x(first.t).toFixed(1)} ${y(0)} Z`;
        chart.appendChild(svg("path", { class: `area ${key}`, d: area }));
      }
      chart.appendChild(svg("path", { class: `line ${key}`, d: line }));
    }
  }
  clear(container);
  container.appendChild(chart);

  // The legend shows the last five seconds, so it reacts quickly but does not flicker.
  const recent = points.filter((p) => p.t > now - 5000);
  const average = (key: keyof Rates) =>
    recent.length ? recent.reduce((sum, p) => sum + p[key], 0) / recent.length : 0;
  $("rate-completed").textContent = fmtRate(average("completed"));
  $("rate-failed").textContent = fmtRate(average("failed"));
}
