/* Client: the queue table, the chart's queue picker and the live status, redrawn on each poll. */
export const OVERVIEW_JS = String.raw`
function countCell(name, state, value) {
  var cls = "count" + (value === 0 ? " zero" : "") + (state === "dead" ? " dead" : "");
  var link = h("a", { href: "#/q/" + encodeURIComponent(name) + "/" + state, className: cls, text: fmtInt(value) });
  return h("td", { className: "num", data: { state: state } }, [link]);
}

function renderQueues(data) {
  var body = document.querySelector("#queues tbody");
  clear(body);
  data.queues.forEach(function (q) {
    var row = h("tr", { data: { queue: q.name }, className: view.queue === q.name ? "selected" : "" }, [
      h("td", {}, [h("a", { className: "queue-name", href: "#/q/" + encodeURIComponent(q.name) + "/pending", text: q.name })]),
    ]);
    STATES.forEach(function (state) { row.appendChild(countCell(q.name, state, q.size[state])); });
    row.appendChild(h("td", { className: "num", data: { state: "total" }, text: fmtInt(q.size.total) }));
    row.appendChild(h("td", { className: "num", data: { field: "oldest" }, text: fmtAge(q.oldestPendingAge) }));
    row.appendChild(h("td", { className: "num", text: fmtRate(q.rate.completed) }));
    body.appendChild(row);
  });
  $("no-queues").hidden = data.queues.length > 0;
  $("queue-count").textContent = data.queues.length === 1 ? "1 queue" : data.queues.length + " queues";
}

function renderChartPicker(data) {
  var select = $("chart-queue");
  var names = data.queues.map(function (q) { return q.name; });
  var have = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
  if (have.join("\n") === names.join("\n")) return;
  var chosen = select.value;
  while (select.options.length > 1) select.remove(1);
  names.forEach(function (name) { select.appendChild(h("option", { text: name })); });
  select.value = names.indexOf(chosen) >= 0 ? chosen : "";
}

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status-text").textContent = text;
}

function renderOverview(data) {
  $("target").textContent = data.target;
  $("kind").textContent = data.kind;
  renderQueues(data);
  renderChartPicker(data);
  drawChart($("chart"), data.throughput, data.now);
  setStatus("live", "Live · " + fmtTime(data.now).slice(11));
}
`;
