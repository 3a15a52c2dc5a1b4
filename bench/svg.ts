// Horizontal bar charts as standalone SVG, on a log scale: the peers span five orders of
// magnitude, so a linear axis would show only the fastest. No browser, no dependency.

const WIDTH = 780;
const LABEL_W = 190;
const VALUE_W = 110;
const BAR_H = 13;
const GAP = 4;
const PLOT_W = WIDTH - LABEL_W - VALUE_W - 20;

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export interface Bar {
  label: string;
  /** null draws no bar, only `text` (e.g. "timeout"). */
  value: number | null;
  text: string;
  /** Drawn darker: Spool's own bar. */
  strong?: boolean;
}

export interface BarChart {
  title: string;
  subtitle: string;
  /** What the numbers are, e.g. "jobs/s (log scale, longer is better)". */
  axis: string;
  groups: Array<{ title: string; bars: Bar[] }>;
}

export function barChart({ title, subtitle, axis, groups }: BarChart): string {
  const values = groups
    .flatMap((g) => g.bars.map((b) => b.value))
    .filter((v): v is number => v !== null && v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const span = Math.log10(hi) - Math.log10(lo);
  const x = (v: number): number =>
    LABEL_W + (Math.max(0, Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * PLOT_W;

  const parts: string[] = [];
  let y = 58;
  for (const group of groups) {
    parts.push(`<text x="10" y="${y + 11}" class="group">${esc(group.title)}</text>`);
    y += 18;
    for (const bar of group.bars) {
      const cls = bar.strong ? "bar strong" : "bar";
      parts.push(
        `<text x="${LABEL_W - 8}" y="${y + 10}" class="label" text-anchor="end">${esc(bar.label)}</text>`,
      );
      if (bar.value !== null && bar.value > 0) {
        const w = Math.max(1, x(bar.value) - LABEL_W);
        parts.push(
          `<rect x="${LABEL_W}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" class="${cls}"/>`,
        );
        parts.push(
          `<text x="${(LABEL_W + w + 5).toFixed(1)}" y="${y + 10}" class="value">${esc(bar.text)}</text>`,
        );
      } else {
        parts.push(`<text x="${LABEL_W + 5}" y="${y + 10}" class="value muted">${esc(bar.text)}</text>`);
      }
      y += BAR_H + GAP;
    }
    y += 10;
  }
  const height = y + 30;
  const grid: string[] = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const gx = x(d).toFixed(1);
    grid.push(`<line x1="${gx}" y1="50" x2="${gx}" y2="${height - 28}" class="grid"/>`);
    grid.push(`<text x="${gx}" y="${height - 14}" class="tick" text-anchor="middle">${esc(tick(d))}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" role="img" aria-labelledby="chart-title">
<title id="chart-title">${esc(title)}</title>
<style>
.title{font-size:15px;font-weight:600;fill:#111}.sub{font-size:11px;fill:#555}.group{font-size:12px;font-weight:600;fill:#222}
.label{font-size:11px;fill:#333}.value{font-size:10.5px;fill:#222}.muted{fill:#888;font-style:italic}
.bar{fill:#9bb4d6}.strong{fill:#1f5fbf}.grid{stroke:#e3e3e3;stroke-width:1}.tick{font-size:10px;fill:#777}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="title">${esc(title)}</text>
<text x="10" y="40" class="sub">${esc(subtitle)} — ${esc(axis)}</text>
${grid.join("\n")}
${parts.join("\n")}
</svg>
`;
}

function tick(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(v);
}
