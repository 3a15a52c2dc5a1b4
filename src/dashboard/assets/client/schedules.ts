/* The cron schedules table: name, cron, zone, queue, next and last fire, catch-up; redrawn on each poll. */
import { $, clear, h, one } from "./dom.js";
import { fmtRelative, fmtTime } from "./format.js";
import { getJson } from "./requests.js";
import type { SchedulePage } from "./wire.js";

export function renderSchedules(data: SchedulePage, now: number): void {
  const body = one("#schedules tbody");
  clear(body);
  for (const s of data.schedules) {
    const next = `${fmtTime(s.next)} (${fmtRelative(s.next, now)})`;
    body.appendChild(
      h("tr", { data: { schedule: s.name } }, [
        h("td", { text: s.name }),
        h("td", {}, [h("code", { text: s.cron })]),
        h("td", { text: s.tz }),
        h("td", {}, [h("a", { href: `#/q/${encodeURIComponent(s.queue)}/pending`, text: s.queue })]),
        h("td", { data: { field: "next" }, text: next }),
        h("td", { data: { field: "last" }, text: fmtTime(s.last) }),
        h("td", { text: s.catchUp }),
      ]),
    );
  }
  $("no-schedules").hidden = data.schedules.length > 0;
  const n = data.schedules.length;
  $("schedule-count").textContent = n === 1 ? "1 schedule" : `${n} schedules`;
}

/** Reads and shows the schedules; a failure is the overview's to report (same server). */
export async function pollSchedules(now: number): Promise<void> {
  renderSchedules(await getJson<SchedulePage>("api/schedules"), now);
}
