/* Client: the job browser (one queue, one state, paged by id) and the job detail drawer. */
export const JOBS_JS = String.raw`
var PAGE_SIZE = 25;
var TIME_COLUMN = { pending: "Run at", delayed: "Run at", reserved: "Lease until", completed: "Finished", dead: "Finished" };

function sizeOf(name) {
  if (!lastOverview) return null;
  for (var i = 0; i < lastOverview.queues.length; i++) if (lastOverview.queues[i].name === name) return lastOverview.queues[i].size;
  return null;
}

function renderTabs() {
  var nav = $("state-tabs");
  clear(nav);
  var size = sizeOf(view.queue);
  STATES.forEach(function (state) {
    var label = state.charAt(0).toUpperCase() + state.slice(1);
    nav.appendChild(h("a", {
      href: "#/q/" + encodeURIComponent(view.queue) + "/" + state,
      className: state === view.state ? "active" : "",
      data: { tab: state },
    }, [stateDot(state), label, h("span", { className: "pill", text: size ? fmtInt(size[state]) : "0" })]));
  });
}

function confirmThen(message, action) {
  if (window.confirm(message)) action();
}

function act(promise, done) {
  promise.then(function (res) { toast(done(res)); refreshAll(); })
    .catch(function (err) { toast(err.message, true); });
}

function renderActions() {
  var box = $("browser-actions");
  clear(box);
  var q = view.queue;
  var size = sizeOf(q) || { dead: 0, completed: 0 };
  if (view.state === "dead") {
    box.appendChild(h("button", { type: "button", className: "primary", text: "Retry all dead", data: { action: "retry-all" },
      on: { click: function () { confirmThen("Move every dead job of " + q + " back to pending?", function () {
        act(postJson(queuePath(q) + "/retry", { all: true }), function (r) { return r.moved + " job(s) moved to pending"; });
      }); } } }));
  }
  if (view.state === "dead" || view.state === "completed") {
    var state = view.state;
    var purge = h("button", { type: "button", className: "danger", text: "Purge " + state, data: { action: "purge" },
      on: { click: function () { confirmThen("Delete every " + state + " job of " + q + "? This cannot be undone.", function () {
        act(postJson(queuePath(q) + "/purge", { state: state }), function (r) { return r.deleted + " job(s) deleted"; });
      }); } } });
    purge.disabled = size[state] === 0;
    box.appendChild(purge);
  }
}

function jobRow(job) {
  var when = view.state === "completed" || view.state === "dead" ? job.finishedAt : job.runAt;
  var link = "#/q/" + encodeURIComponent(view.queue) + "/" + view.state + "/job/" + job.id;
  return h("tr", { data: { jobId: job.id }, className: view.jobId === job.id ? "selected" : "" }, [
    h("td", { className: "num" }, [h("a", { href: link, text: "#" + job.id })]),
    h("td", {}, [h("a", { href: link }, [h("div", { className: "preview", text: job.preview, title: job.preview })])]),
    h("td", { className: "num", text: job.attempts + " / " + job.maxAttempts }),
    h("td", { className: "num", text: job.priority }),
    h("td", { className: "nowrap", text: fmtTime(job.createdAt) }),
    h("td", { className: "nowrap", text: view.state === "reserved" ? "—" : fmtTime(when), title: fmtRelative(when, Date.now()) }),
    h("td", {}, [job.lastError ? h("div", { className: "error-cell", text: job.lastError, title: job.lastError }) : null]),
  ]);
}

function loadJobs() {
  var want = { queue: view.queue, state: view.state, after: view.cursors[view.cursors.length - 1] };
  var url = queuePath(want.queue) + "/jobs?state=" + want.state + "&limit=" + PAGE_SIZE + "&after=" + want.after;
  // A queue whose last job just went (purged, deleted) is unknown to the server: show it empty.
  var page404 = function (err) { if (err.status === 404) return { jobs: [], next: null }; throw err; };
  return getJson(url).catch(page404).then(function (page) {
    if (want.queue !== view.queue || want.state !== view.state) return;
    var body = document.querySelector("#jobs tbody");
    clear(body);
    page.jobs.forEach(function (job) { body.appendChild(jobRow(job)); });
    view.next = page.next;
    view.loadedCount = JSON.stringify(sizeOf(view.queue));
    $("no-jobs").hidden = page.jobs.length > 0;
    $("page-prev").disabled = view.cursors.length < 2;
    $("page-next").disabled = page.next === null;
    $("page-info").textContent = page.jobs.length ? "#" + page.jobs[0].id + " – #" + page.jobs[page.jobs.length - 1].id : "";
    $("time-col").textContent = TIME_COLUMN[view.state];
  }).catch(function (err) { toast(err.message, true); });
}

function field(list, name, value) {
  list.appendChild(h("dt", { text: name }));
  list.appendChild(h("dd", { text: value, data: { field: name.toLowerCase().replace(/ /g, "-") } }));
}

function valueBlock(title, shown, key) {
  if (shown.kind === "none") return null;
  var box = h("section", { data: { section: key } }, [h("h3", { text: title })]);
  if (shown.kind === "binary") {
    box.appendChild(h("p", { className: "muted", text: "Binary · " + fmtInt(shown.size) + " bytes" + (shown.truncated ? " (first 512 shown)" : "") }));
    box.appendChild(h("pre", { className: "block", text: shown.hex }));
  } else {
    box.appendChild(h("pre", { className: "block", text: shown.text + (shown.truncated ? "\n… (truncated)" : "") }));
  }
  return box;
}

function renderDetail(job) {
  $("detail-title").textContent = "Job #" + job.id + " · " + job.queue;
  var body = $("detail-body");
  clear(body);
  var now = Date.now();
  var fields = h("dl", { className: "fields" });
  fields.appendChild(h("dt", { text: "State" }));
  fields.appendChild(h("dd", { data: { field: "state" } }, [h("span", { className: "state-label" }, [stateDot(job.state), job.state])]));
  field(fields, "Attempts", job.attempts + " of " + job.maxAttempts);
  field(fields, "Priority", String(job.priority));
  if (job.key !== null) field(fields, "Key", job.key);
  field(fields, "Created", fmtTime(job.createdAt) + " (" + fmtRelative(job.createdAt, now) + ")");
  field(fields, "Run at", fmtTime(job.runAt) + " (" + fmtRelative(job.runAt, now) + ")");
  if (job.leaseUntil !== null) field(fields, "Lease until", fmtTime(job.leaseUntil) + " (" + fmtRelative(job.leaseUntil, now) + ")");
  if (job.finishedAt !== null) field(fields, "Finished", fmtTime(job.finishedAt) + " (" + fmtRelative(job.finishedAt, now) + ")");
  var actions = h("div", { className: "actions start" });
  if (job.state === "dead") {
    actions.appendChild(h("button", { type: "button", className: "primary", text: "Retry", data: { action: "retry" }, on: { click: function () {
      act(postJson(queuePath(job.queue) + "/retry", { ids: [job.id] }), function (r) { return r.moved ? "Job #" + job.id + " moved to pending" : "Job #" + job.id + " was not dead"; });
    } } }));
  }
  actions.appendChild(h("button", { type: "button", className: "danger", text: "Delete", data: { action: "delete" }, on: { click: function () {
    confirmThen("Delete job #" + job.id + "? This cannot be undone.", function () {
      act(postJson(queuePath(job.queue) + "/jobs/" + job.id + "/delete", {}), function (r) {
        location.hash = "#/q/" + encodeURIComponent(job.queue) + "/" + view.state;
        return r.removed ? "Job #" + job.id + " deleted" : "Job #" + job.id + " was already gone";
      });
    });
  } } }));
  body.appendChild(fields);
  body.appendChild(actions);
  if (job.lastError !== null) body.appendChild(h("section", { data: { section: "error" } }, [h("h3", { text: "Last error" }), h("pre", { className: "block error", text: job.lastError })]));
  var payload = valueBlock("Payload", job.payload, "payload");
  if (payload) body.appendChild(payload);
  var result = valueBlock("Result", job.result, "result");
  if (result) body.appendChild(result);
}

function loadDetail() {
  if (view.jobId === null) { $("detail").hidden = true; return Promise.resolve(); }
  var want = view.jobId;
  return getJson(queuePath(view.queue) + "/jobs/" + want).then(function (job) {
    if (view.jobId !== want) return;
    renderDetail(job);
    $("detail").hidden = false;
  }).catch(function (err) {
    toast(err.message, true);
    $("detail").hidden = true;
  });
}
`;
