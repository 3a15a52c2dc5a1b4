/*
 * The throughput chart, drawn as SVG by hand: two rate lines (completed, failed) over the
 * sampler's window, a gap wherever sampling paused, a "nice" y scale, minute ticks on x.
 */
export const CHART_JS = `
var SVG_NS = "http://www.w3.org/2000/svg";

function s(tag, attrs, text) {
  var node = document.createElementNS(SVG_NS, tag);
  for (var k in attrs) node.setAttribute(k, String(attrs[k]));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A y-axis step from 1, 2, 2.5 or 5 × 10^k, so that four steps cover x (at least 0.1 each). */
function niceStep(x) {
  var raw = Math.max(x / 4, 0.1);
  var p = Math.pow(10, Math.floor(Math.log10(raw)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * p >= raw - 1e-9) return steps[i] * p;
  return 10 * p;
}

/** Axis labels are exact (0.25, not 0.3). */
function fmtAxis(v) {
  return v >= 1000 ? fmtInt(v) : String(Math.round(v * 100) / 100);
}

/** Runs of points with no sampling gap between them. */
function runs(points, maxGap) {
  var out = [];
  var cur = [];
  points.forEach(function (p, i) {
    if (i > 0 && p.t - points[i - 1].t > maxGap) { out.push(cur); cur = []; }
    cur.push(p);
  });
  if (cur.length) out.push(cur);
  return out;
}

function drawChart(container, series, now) {
  var width = Math.max(320, container.clientWidth || 800);
  var height = container.clientHeight || 220;
  var padL = 44, padR = 14, padT = 10, padB = 24;
  var innerW = width - padL - padR, innerH = height - padT - padB;
  var from = now - series.windowMs;
  var points = series.points.filter(function (p) { return p.t >= from; });
  var peak = 0;
  points.forEach(function (p) { peak = Math.max(peak, p.completed, p.failed); });
  var top = niceStep(peak === 0 ? 4 : peak * 1.1) * 4;
  function x(t) { return padL + (t - from) / series.windowMs * innerW; }
  function y(v) { return padT + innerH - v / top * innerH; }

  var svg = s("svg", { viewBox: "0 0 " + width + " " + height, role: "img", preserveAspectRatio: "none" });
  // Hooks for tests and curious users: how much the window holds, in jobs.
  svg.setAttribute("data-points", String(points.length));
  svg.setAttribute("data-completed", String(series.totals.completed));
  svg.setAttribute("data-failed", String(series.totals.failed));
  for (var i = 0; i <= 4; i++) {
    var v = top * i / 4;
    svg.appendChild(s("line", { class: "grid-line", x1: padL, x2: width - padR, y1: y(v), y2: y(v) }));
    svg.appendChild(s("text", { class: "axis", x: padL - 8, y: y(v) + 4, "text-anchor": "end" }, fmtAxis(v)));
  }
  var minutes = Math.round(series.windowMs / 60000);
  for (var m = 0; m <= minutes; m++) {
    var t = now - m * 60000;
    var label = m === 0 ? "now" : "−" + m + "m";
    var anchor = m === 0 ? "end" : m === minutes ? "start" : "middle";
    svg.appendChild(s("text", { class: "axis", x: x(t), y: height - 6, "text-anchor": anchor }, label));
  }
  var maxGap = series.intervalMs * 3.5;
  ["completed", "failed"].forEach(function (key) {
    runs(points, maxGap).forEach(function (run) {
      var line = run.map(function (p, j) {
        return (j ? "L" : "M") + x(p.t).toFixed(1) + " " + y(p[key]).toFixed(1);
      }).join(" ");
      if (run.length > 1) {
        var area = line + " L" + x(run[run.length - 1].t).toFixed(1) + " " + y(0) +
          " L" + x(run[0].t).toFixed(1) + " " + y(0) + " Z";
        svg.appendChild(s("path", { class: "area " + key, d: area }));
      }
      svg.appendChild(s("path", { class: "line " + key, d: line }));
    });
  });
  clear(container);
  container.appendChild(svg);

  // The legend shows the last five seconds, so it reacts quickly but does not flicker.
  var recent = points.filter(function (p) { return p.t > now - 5000; });
  function avg(key) {
    if (!recent.length) return 0;
    return recent.reduce(function (sum, p) { return sum + p[key]; }, 0) / recent.length;
  }
  $("rate-completed").textContent = fmtRate(avg("completed"));
  $("rate-failed").textContent = fmtRate(avg("failed"));
}
`;
