/*
 * Client helpers (browser JavaScript kept as a string; no build step). Every piece of data goes
 * into the page through textContent or a text node, never through innerHTML: payloads and error
 * messages are user data and may hold markup.
 */
export const UTIL_JS = `
var CSRF = document.querySelector('meta[name="spool-csrf"]').getAttribute("content");
var STATES = ["pending", "delayed", "reserved", "completed", "dead"];

function $(id) { return document.getElementById(id); }

/** Creates an element; props: className, text, title, href, data (object), on (object). */
function h(tag, props, children) {
  var node = document.createElement(tag);
  props = props || {};
  if (props.className) node.className = props.className;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.title) node.title = String(props.title);
  if (props.href) node.setAttribute("href", props.href);
  if (props.type) node.setAttribute("type", props.type);
  if (props.data) for (var k in props.data) node.dataset[k] = String(props.data[k]);
  if (props.on) for (var ev in props.on) node.addEventListener(ev, props.on[ev]);
  (children || []).forEach(function (c) {
    if (c !== null && c !== undefined) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  });
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function request(method, path, body) {
  var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method === "POST") {
    init.headers["Content-Type"] = "application/json";
    init.headers["X-Spool-CSRF"] = CSRF;
    init.body = JSON.stringify(body || {});
  }
  return fetch(path, init).then(function (res) {
    return res.json().catch(function () { return {}; }).then(function (data) {
      if (!res.ok) { var err = new Error(data.error || ("HTTP " + res.status)); err.status = res.status; throw err; }
      return data;
    });
  });
}
function getJson(path) { return request("GET", path); }
function postJson(path, body) { return request("POST", path, body); }

function queuePath(name) { return "api/queues/" + encodeURIComponent(name); }

function fmtInt(n) { return Number(n).toLocaleString("en-US"); }

function fmtRate(x) {
  if (!x) return "0";
  if (x < 10) return x.toFixed(1);
  return fmtInt(Math.round(x));
}

/** "4s", "3m 12s", "2h 5m", "3d 4h". */
function fmtAge(ms) {
  if (ms === null || ms === undefined) return "—";
  var s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + "s";
  var m = Math.floor(s / 60);
  if (m < 60) return m + "m " + (s % 60) + "s";
  var hr = Math.floor(m / 60);
  if (hr < 48) return hr + "h " + (m % 60) + "m";
  return Math.floor(hr / 24) + "d " + (hr % 24) + "h";
}

function pad(n) { return n < 10 ? "0" + n : String(n); }

/** Local time, "2025-03-04 14:05:09". */
function fmtTime(ms) {
  if (ms === null || ms === undefined) return "—";
  var d = new Date(ms);
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
    pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
}

/** "in 3m 2s" / "5s ago". */
function fmtRelative(ms, now) {
  if (ms === null || ms === undefined) return "";
  var delta = ms - now;
  return delta > 0 ? "in " + fmtAge(delta) : fmtAge(-delta) + " ago";
}

var toastTimer = null;
function toast(message, isError) {
  var node = $("toast");
  node.textContent = message;
  node.className = isError ? "toast error" : "toast";
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(function () { node.hidden = true; }, isError ? 6000 : 3000);
}

function stateDot(state) { return h("span", { className: "state-dot s-" + state }); }
`;
