/* The queue table, the chart's queue picker and the live status, redrawn on each poll. */
import { drawChart } from "./chart.js";
import { $, clear, h, one } from "./dom.js";
import { fmtAge, fmtInt, fmtRate, fmtTime } from "./format.js";
import { JOB_STATES, view } from "./state.js";
import type { JobState, Overview } from "./wire.js";

function countCell(name: string, state: JobState, value: number): HTMLTableCellElement {
  const cls = `count${value === 0 ? " zero" : ""}${state === "dead" ? " dead" : ""}`;
  const link = h("a", {
    href: `#/q/${encodeURIComponent(name)}/${state}`,
    className: cls,
    text: fmtInt(value),
  });
  return h("td", { className: "num", data: { state } }, [link]);
}

export function renderQueues(data: Overview): void {
  const body = one("#queues tbody");
  clear(body);
  for (const q of data.queues) {
    const row = h("tr", { data: { queue: q.name }, className: view.queue === q.name ? "selected" : "" }, [
      h("td", {}, [
        h("a", { className: "queue-name", href: `#/q/${encodeURIComponent(q.name)}/pending`, text: q.name }),
        q.size.paused ? h("span", { className: "badge paused", text: "paused", data: { paused: "" } }) : null,
        q.limits === null
          ? null
          : h("span", {
              className: "badge limits",
              text: q.limits,
              data: { limits: "" },
              title: "stored limits",
            }),
      ]),
    ]);
    for (const state of JOB_STATES) row.appendChild(countCell(q.name, state, q.size[state]));
    row.appendChild(h("td", { className: "num", data: { state: "total" }, text: fmtInt(q.size.total) }));
    row.appendChild(
      h("td", { className: "num", data: { field: "oldest" }, text: fmtAge(q.oldestPendingAge) }),
    );
    row.appendChild(h("td", { className: "num", text: fmtRate(q.rate.completed) }));
    body.appendChild(row);
  }
  $("no-queues").hidden = data.queues.length > 0;
  $("queue-count").textContent = data.queues.length === 1 ? "1 queue" : `${data.queues.length} queues`;
}

function renderChartPicker(data: Overview): void {
  const select = $("chart-queue", HTMLSelectElement);
  const names = data.queues.map((q) => q.name);
  const have = Array.from(select.options, (o) => o.value).slice(1);
  if (have.join("\n") === names.join("\n")) return;
  const chosen = select.value;
  while (select.options.length > 1) select.remove(1);
  for (const name of names) select.appendChild(h("option", { text: name }));
  select.value = names.includes(chosen) ? chosen : "";
}

export function setStatus(state: "live" | "error", text: string): void {
  $("status").dataset.state = state;
  $("status-text").textContent = text;
}

export function renderOverview(data: Overview): void {
  $("target").textContent = data.target;
  $("kind").textContent = data.kind;
  renderQueues(data);
  renderChartPicker(data);
  drawChart($("chart"), data.throughput, data.now);
  setStatus("live", `Live · ${fmtTime(data.now).slice(11)}`);
}
