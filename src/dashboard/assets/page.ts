/*
 * The one HTML page. Static apart from the CSRF token, which is base64url (no character that
 * needs escaping in an attribute). Everything dynamic is built by app.js with textContent.
 */

/** A small queue glyph as the favicon, inline so the page asks for nothing external. */
const FAVICON =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#3b5bdb"/>' +
      '<rect x="7" y="9" width="18" height="3.5" rx="1.75" fill="#fff"/><rect x="7" y="14.25" width="13" height="3.5" rx="1.75" fill="#fff" opacity=".8"/>' +
      '<rect x="7" y="19.5" width="8" height="3.5" rx="1.75" fill="#fff" opacity=".6"/></svg>',
  );

export function renderPage(csrfToken: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(csrfToken)) throw new Error("CSRF token must be base64url");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="spool-csrf" content="${csrfToken}">
<title>Spool dashboard</title>
<link rel="icon" href="${FAVICON}">
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body>
<header class="topbar">
  <div class="brand"><img src="${FAVICON}" alt="" width="22" height="22"><span>Spool</span></div>
  <div class="target"><span id="kind" class="badge"></span><code id="target"></code></div>
  <div id="status" class="status" data-state="connecting"><span class="dot"></span><span id="status-text">Connecting…</span></div>
</header>
<main>
  <section class="card">
    <div class="card-head">
      <h2>Throughput</h2>
      <div class="legend">
        <span class="key completed">Completed <strong id="rate-completed">0</strong>/s</span>
        <span class="key failed">Failed <strong id="rate-failed">0</strong>/s</span>
      </div>
      <label class="select">Queue <select id="chart-queue"><option value="">All queues</option></select></label>
    </div>
    <div id="chart" class="chart" aria-label="Completed and failed jobs per second over the last minutes"></div>
    <p class="note">Sampled every second from the counts: completed/s is the growth of completed jobs, failed/s of dead ones (retried attempts are not counted).</p>
  </section>
  <section class="card">
    <div class="card-head"><h2>Queues</h2><span id="queue-count" class="muted"></span></div>
    <div class="table-wrap">
      <table id="queues" class="grid">
        <thead><tr>
          <th>Queue</th><th class="num">Waiting</th><th class="num">Pending</th><th class="num">Delayed</th><th class="num">Reserved</th>
          <th class="num">Completed</th><th class="num">Dead</th><th class="num">Total</th>
          <th class="num">Oldest pending</th><th class="num">Done/s (1 min)</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="no-queues" class="empty" hidden>No queue holds any job yet.</p>
  </section>
  <section id="schedules-card" class="card">
    <div class="card-head"><h2>Schedules</h2><span id="schedule-count" class="muted"></span></div>
    <div class="table-wrap">
      <table id="schedules" class="grid">
        <thead><tr>
          <th>Name</th><th>Cron</th><th>Zone</th><th>Queue</th><th>Next</th><th>Last</th><th>Catch-up</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="no-schedules" class="empty" hidden>No cron schedule is stored.</p>
  </section>
  <section id="browser" class="card" hidden>
    <div class="card-head">
      <h2 id="browser-title"></h2>
      <div id="browser-actions" class="actions"></div>
    </div>
    <nav id="state-tabs" class="tabs"></nav>
    <div class="table-wrap">
      <table id="jobs" class="grid">
        <thead><tr>
          <th class="num">ID</th><th>Payload</th><th class="num">Attempts</th><th class="num">Priority</th>
          <th>Created</th><th id="time-col">Run at</th><th>Last error</th>
        </tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p id="no-jobs" class="empty" hidden>No job in this state.</p>
    <div class="pager">
      <button id="page-prev" type="button" class="ghost">← Previous</button>
      <button id="page-next" type="button" class="ghost">Next →</button>
      <span id="page-info" class="muted"></span>
    </div>
  </section>
</main>
<aside id="detail" class="drawer" hidden aria-labelledby="detail-title">
  <div class="drawer-head">
    <h2 id="detail-title"></h2>
    <button id="detail-close" type="button" class="ghost" aria-label="Close">✕</button>
  </div>
  <div id="detail-body" class="drawer-body"></div>
</aside>
<div id="toast" class="toast" role="status" hidden></div>
</body>
</html>
`;
}
