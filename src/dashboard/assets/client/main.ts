/*
 * Client: the hash router (#/q/<queue>/<state>[/job/<id>]) and the poll loop. One overview
 * request a second keeps counts and the chart live; the job list reloads when its count moves.
 */
export const MAIN_JS = String.raw`
var view = { queue: null, state: "pending", jobId: null, cursors: [0], next: null, loadedCount: null };
var lastOverview = null;
var POLL_MS = 1000;

function parseHash() {
  var parts = location.hash.replace(/^#\/?/, "").split("/");
  if (parts[0] !== "q" || !parts[1]) return { queue: null, state: "pending", jobId: null };
  var queue;
  try { queue = decodeURIComponent(parts[1]); } catch (e) { return { queue: null, state: "pending", jobId: null }; }
  var state = STATES.indexOf(parts[2]) >= 0 ? parts[2] : "pending";
  var jobId = parts[3] === "job" && /^\d+$/.test(parts[4] || "") ? Number(parts[4]) : null;
  return { queue: queue, state: state, jobId: jobId };
}

function route() {
  var next = parseHash();
  var listChanged = next.queue !== view.queue || next.state !== view.state;
  view.queue = next.queue;
  view.state = next.state;
  view.jobId = next.jobId;
  if (listChanged) { view.cursors = [0]; view.next = null; }
  $("browser").hidden = view.queue === null;
  if (view.queue === null) { $("detail").hidden = true; return; }
  $("browser-title").textContent = "Jobs in " + view.queue;
  renderTabs();
  renderActions();
  if (listChanged) loadJobs();
  loadDetail();
  if (lastOverview) renderQueues(lastOverview);
}

function refreshAll() {
  return poll().then(function () {
    if (view.queue === null) return;
    loadJobs();
    loadDetail();
  });
}

function poll() {
  var chosen = $("chart-queue").value;
  return getJson("api/overview" + (chosen ? "?queue=" + encodeURIComponent(chosen) : "")).then(function (data) {
    lastOverview = data;
    renderOverview(data);
    if (view.queue !== null) {
      renderTabs();
      renderActions();
      // Any count of this queue moving may change the page shown (a job left or joined it).
      var size = sizeOf(view.queue);
      if (size && view.loadedCount !== null && JSON.stringify(size) !== view.loadedCount) loadJobs();
    }
  }).catch(function (err) {
    setStatus("error", "Disconnected · " + err.message);
  });
}

function loop() {
  poll().then(function () {
    // A hidden tab polls slowly: nobody is watching, but the chart should not go stale.
    setTimeout(loop, document.hidden ? POLL_MS * 10 : POLL_MS);
  });
}

$("page-next").addEventListener("click", function () {
  if (view.next === null) return;
  view.cursors.push(view.next);
  loadJobs();
});
$("page-prev").addEventListener("click", function () {
  if (view.cursors.length < 2) return;
  view.cursors.pop();
  loadJobs();
});
$("chart-queue").addEventListener("change", function () { poll(); });
function closeDetail() {
  if (view.queue !== null) location.hash = "#/q/" + encodeURIComponent(view.queue) + "/" + view.state;
}
$("detail-close").addEventListener("click", closeDetail);
document.addEventListener("keydown", function (e) { if (e.key === "Escape" && view.jobId !== null) closeDetail(); });
window.addEventListener("hashchange", route);
window.addEventListener("resize", function () { if (lastOverview) drawChart($("chart"), lastOverview.throughput, lastOverview.now); });
document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });

route();
loop();
`;
