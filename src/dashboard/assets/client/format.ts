/* How numbers, durations and times read on the page. */

export function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

/** A rate per second: one decimal below 10, whole above. */
export function fmtRate(x: number): string {
  if (!x) return "0";
  if (x < 10) return x.toFixed(1);
  return fmtInt(Math.round(x));
}

/** "4s", "3m 12s", "2h 5m", "3d 4h". */
export function fmtAge(ms: number | null): string {
  if (ms === null) return "—";
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr}h ${m % 60}m`;
  return `${Math.floor(hr / 24)}d ${hr % 24}h`;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Local time, "2025-03-04 14:05:09". */
export function fmtTime(ms: number | null): string {
  if (ms === null) return "—";
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** "in 3m 2s" / "5s ago". */
export function fmtRelative(ms: number | null, now: number): string {
  if (ms === null) return "";
  const delta = ms - now;
  return delta > 0 ? `in ${fmtAge(delta)}` : `${fmtAge(-delta)} ago`;
}
