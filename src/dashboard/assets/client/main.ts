/*
 * The entry point: the hash router (#/q/<queue>/<state>[/job/<id>]) and the poll loop. One
 * overview request a second keeps counts and the chart live; the job list reloads when its
 * count moves. scripts/build-dashboard.mjs bundles this and what it imports into app.js.
 */
import { drawChart } from "./chart.js";
import { $ } from "./dom.js";
import { detailIsWaiting, loadDetail, loadJobs, onAction, renderActions, renderTabs } from "./jobs.js";
import { renderOverview, renderQueues, setStatus } from "./overview.js";
import { getJson, messageOf } from "./requests.js";
import { pollSchedules } from "./schedules.js";
import { isJobState, latest, sizeOf, view } from "./state.js";
import type { JobState, Overview } from "./wire.js";

const POLL_MS = 1000;

interface Route {
  queue: string | null;
  state: JobState;
  jobId: number | null;
}

function parseHash(): Route {
  const home: Route = { queue: null, state: "pending", jobId: null };
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] !== "q" || !parts[1]) return home;
  let queue: string;
  try {
    queue = decodeURIComponent(parts[1]);
  } catch {
    return home;
  }
  const state = isJobState(parts[2]) ? parts[2] : "pending";
  const jobId = parts[3] === "job" && /^\d+$/.test(parts[4] ?? "") ? Number(parts[4]) : null;
  return { queue, state, jobId };
}

function route(): void {
  const next = parseHash();
  const listChanged = next.queue !== view.queue || next.state !== view.state;
  view.queue = next.queue;
  view.state = next.state;
  view.jobId = next.jobId;
  if (listChanged) {
    view.cursors = [0];
    view.next = null;
  }
  $("browser").hidden = view.queue === null;
  if (view.queue === null) {
    $("detail").hidden = true;
    return;
  }
  $("browser-title").textContent = `Jobs in ${view.queue}`;
  renderTabs(view.queue);
  renderActions(view.queue);
  if (listChanged) void loadJobs(view.queue);
  void loadDetail(view.queue);
  if (latest.overview) renderQueues(latest.overview);
}

async function refreshAll(): Promise<void> {
  await poll();
  if (view.queue === null) return;
  void loadJobs(view.queue);
  void loadDetail(view.queue);
}

async function poll(): Promise<void> {
  const chosen = $("chart-queue", HTMLSelectElement).value;
  try {
    const data = await getJson<Overview>(
      `api/overview${chosen ? `?queue=${encodeURIComponent(chosen)}` : ""}`,
    );
    latest.overview = data;
    renderOverview(data);
    await pollSchedules(data.now);
    if (view.queue !== null) {
      renderTabs(view.queue);
      renderActions(view.queue);
      // Any count of this queue moving may change the page shown (a job left or joined it).
      const size = sizeOf(view.queue);
      if (size && view.loadedCount !== null && JSON.stringify(size) !== view.loadedCount) {
        void loadJobs(view.queue);
        // The job shown may be one that moved (a waiting job released, a reserved one done).
        void loadDetail(view.queue);
      } else if (detailIsWaiting()) void loadDetail(view.queue);
    }
  } catch (error) {
    setStatus("error", `Disconnected · ${messageOf(error)}`);
  }
}

function loop(): void {
  void poll().then(() => {
    // A hidden tab polls slowly: nobody is watching, but the chart should not go stale.
    window.setTimeout(loop, document.hidden ? POLL_MS * 10 : POLL_MS);
  });
}

function closeDetail(): void {
  if (view.queue !== null) location.hash = `#/q/${encodeURIComponent(view.queue)}/${view.state}`;
}

$("page-next").addEventListener("click", () => {
  if (view.next === null || view.queue === null) return;
  view.cursors.push(view.next);
  void loadJobs(view.queue);
});
$("page-prev").addEventListener("click", () => {
  if (view.cursors.length < 2 || view.queue === null) return;
  view.cursors.pop();
  void loadJobs(view.queue);
});
$("chart-queue").addEventListener("change", () => void poll());
$("detail-close").addEventListener("click", closeDetail);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && view.jobId !== null) closeDetail();
});
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => {
  if (latest.overview) drawChart($("chart"), latest.overview.throughput, latest.overview.now);
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void poll();
});
onAction(() => void refreshAll());

route();
loop();
