/* The job browser (one queue, one state, paged by id) and the job detail drawer. */
import { $, clear, h, one, stateDot, toast } from "./dom.js";
import { fmtInt, fmtRelative, fmtTime } from "./format.js";
import { getJson, messageOf, postJson, queuePath, RequestError } from "./requests.js";
import { JOB_STATES, sizeOf, view } from "./state.js";
import type {
  JobDependencies,
  JobDetail,
  JobPage,
  JobRow,
  JobState,
  PauseResult,
  ShownValue,
} from "./wire.js";

const PAGE_SIZE = 25;
const TIME_COLUMN: Record<JobState, string> = {
  waiting: "Run at",
  pending: "Run at",
  delayed: "Run at",
  reserved: "Lease until",
  completed: "Finished",
  dead: "Finished",
};

/**
 * What runs after an action changed the store: main.ts sets it to reload everything. A
 * callback, so this module does not import the poll loop that imports it.
 */
let afterAction = (): void => {};
export function onAction(callback: () => void): void {
  afterAction = callback;
}

/** Runs an action; on success toasts what `done` says it did and reloads, else toasts the error. */
function act<T>(promise: Promise<T>, done: (result: T) => string): void {
  promise
    .then((result) => {
      toast(done(result));
      afterAction();
    })
    .catch((error: unknown) => toast(messageOf(error), true));
}

function confirmThen(message: string, action: () => void): void {
  if (window.confirm(message)) action();
}

function listLink(queue: string, state: JobState): string {
  return `#/q/${encodeURIComponent(queue)}/${state}`;
}

export function renderTabs(queue: string): void {
  const nav = $("state-tabs");
  clear(nav);
  const size = sizeOf(queue);
  for (const state of JOB_STATES) {
    const label = state.charAt(0).toUpperCase() + state.slice(1);
    nav.appendChild(
      h(
        "a",
        {
          href: listLink(queue, state),
          className: state === view.state ? "active" : "",
          data: { tab: state },
        },
        [stateDot(state), label, h("span", { className: "pill", text: size ? fmtInt(size[state]) : "0" })],
      ),
    );
  }
}

/** Pause (confirmed: it stops every worker's claims) or resume the queue. */
function pauseButton(queue: string, paused: boolean): HTMLButtonElement {
  const toggle = () => {
    const post = () =>
      act(postJson<PauseResult>(`${queuePath(queue)}/${paused ? "resume" : "pause"}`, {}), (r) =>
        r.paused ? `${queue} paused` : `${queue} resumed`,
      );
    if (paused) post();
    else
      confirmThen(`Pause ${queue}? Workers in every process stop taking its jobs until it is resumed.`, post);
  };
  return h("button", {
    type: "button",
    className: paused ? "primary" : "ghost",
    text: paused ? "Resume queue" : "Pause queue",
    data: { action: paused ? "resume" : "pause" },
    on: { click: toggle },
  });
}

export function renderActions(queue: string): void {
  const box = $("browser-actions");
  clear(box);
  const size = sizeOf(queue);
  const state = view.state;
  box.appendChild(pauseButton(queue, size?.paused === true));
  if (state === "dead") {
    const retryAll = () =>
      confirmThen(`Move every dead job of ${queue} back to pending?`, () =>
        act(postJson<{ moved: number }>(`${queuePath(queue)}/retry`, { all: true }), (r) => {
          return `${r.moved} job(s) moved to pending`;
        }),
      );
    box.appendChild(
      h("button", {
        type: "button",
        className: "primary",
        text: "Retry all dead",
        data: { action: "retry-all" },
        on: { click: retryAll },
      }),
    );
  }
  if (state === "dead" || state === "completed") {
    const purgeAll = () =>
      confirmThen(`Delete every ${state} job of ${queue}? This cannot be undone.`, () =>
        act(postJson<{ deleted: number }>(`${queuePath(queue)}/purge`, { state }), (r) => {
          return `${r.deleted} job(s) deleted`;
        }),
      );
    const purge = h("button", {
      type: "button",
      className: "danger",
      text: `Purge ${state}`,
      data: { action: "purge" },
      on: { click: purgeAll },
    });
    purge.disabled = (size?.[state] ?? 0) === 0;
    box.appendChild(purge);
  }
}

function jobRow(queue: string, job: JobRow): HTMLTableRowElement {
  const when = view.state === "completed" || view.state === "dead" ? job.finishedAt : job.runAt;
  const link = `${listLink(queue, view.state)}/job/${job.id}`;
  return h("tr", { data: { jobId: job.id }, className: view.jobId === job.id ? "selected" : "" }, [
    h("td", { className: "num" }, [h("a", { href: link, text: `#${job.id}` })]),
    h("td", {}, [
      h("a", { href: link }, [h("div", { className: "preview", text: job.preview, title: job.preview })]),
    ]),
    h("td", { className: "num", text: `${job.attempts} / ${job.maxAttempts}` }),
    h("td", { className: "num", text: job.priority }),
    h("td", { className: "nowrap", text: fmtTime(job.createdAt) }),
    h("td", {
      className: "nowrap",
      text: view.state === "reserved" ? "—" : fmtTime(when),
      title: fmtRelative(when, Date.now()),
    }),
    h("td", {}, [
      job.lastError ? h("div", { className: "error-cell", text: job.lastError, title: job.lastError }) : null,
    ]),
  ]);
}

/** Loads the page of jobs the view points at; an answer for a view since left is dropped. */
export async function loadJobs(queue: string): Promise<void> {
  const want = { queue, state: view.state, after: view.cursors.at(-1) ?? 0 };
  const url = `${queuePath(want.queue)}/jobs?state=${want.state}&limit=${PAGE_SIZE}&after=${want.after}`;
  try {
    const page = await getJson<JobPage>(url).catch((error: unknown): JobPage => {
      // A queue whose last job just went (purged, deleted) is unknown to the server: show it empty.
      if (error instanceof RequestError && error.status === 404) return { jobs: [], next: null };
      throw error;
    });
    if (want.queue !== view.queue || want.state !== view.state) return;
    const body = one("#jobs tbody");
    clear(body);
    for (const job of page.jobs) body.appendChild(jobRow(queue, job));
    view.next = page.next;
    view.loadedCount = JSON.stringify(sizeOf(queue));
    const first = page.jobs[0];
    const last = page.jobs[page.jobs.length - 1];
    $("no-jobs").hidden = page.jobs.length > 0;
    $("page-prev", HTMLButtonElement).disabled = view.cursors.length < 2;
    $("page-next", HTMLButtonElement).disabled = page.next === null;
    $("page-info").textContent = first && last ? `#${first.id} – #${last.id}` : "";
    $("time-col").textContent = TIME_COLUMN[view.state];
  } catch (error) {
    toast(messageOf(error), true);
  }
}

function field(list: HTMLElement, name: string, value: string): void {
  list.appendChild(h("dt", { text: name }));
  list.appendChild(h("dd", { text: value, data: { field: name.toLowerCase().replace(/ /g, "-") } }));
}

function valueBlock(title: string, shown: ShownValue, key: string): HTMLElement | null {
  if (shown.kind === "none") return null;
  const box = h("section", { data: { section: key } }, [h("h3", { text: title })]);
  if (shown.kind === "binary") {
    const note = `Binary · ${fmtInt(shown.size)} bytes${shown.truncated ? " (first 512 shown)" : ""}`;
    box.appendChild(h("p", { className: "muted", text: note }));
    box.appendChild(h("pre", { className: "block", text: shown.hex }));
  } else {
    box.appendChild(
      h("pre", { className: "block", text: shown.text + (shown.truncated ? "\n… (truncated)" : "") }),
    );
  }
  return box;
}

/**
 * "Depends on": each dependency listed links to its own detail (it may be in another queue),
 * with its state; one no longer stored shows as gone (completed, when it completed first).
 */
function dependenciesBlock(deps: JobDependencies): HTMLElement {
  const box = h("section", { data: { section: "dependencies" } }, [h("h3", { text: "Depends on" })]);
  const summary = `${fmtInt(deps.done)} of ${fmtInt(deps.total)} completed`;
  box.appendChild(h("p", { className: "muted", text: summary, data: { field: "dependencies" } }));
  const list = h("ul", { className: "deps" });
  for (const dep of deps.items) {
    const state = dep.state ?? "gone";
    const label = `#${dep.id}`;
    const target =
      dep.queue === null
        ? h("span", { text: label })
        : h("a", {
            href: `${listLink(dep.queue, dep.state ?? "pending")}/job/${dep.id}`,
            text: label,
          });
    list.appendChild(
      h("li", { data: { depId: dep.id, depState: state } }, [
        target,
        h("span", { className: "state-label" }, [stateDot(state), state]),
        dep.queue === null ? null : h("span", { className: "dep-queue", text: dep.queue }),
      ]),
    );
  }
  box.appendChild(list);
  if (deps.more > 0) {
    box.appendChild(h("p", { className: "muted", text: `and ${fmtInt(deps.more)} more not listed` }));
  }
  if (deps.done > 0) {
    box.appendChild(
      h("p", {
        className: "note",
        text: "The results of completed dependencies are kept for this job (context.results()).",
      }),
    );
  }
  return box;
}

function timeField(list: HTMLElement, name: string, ms: number, now: number): void {
  field(list, name, `${fmtTime(ms)} (${fmtRelative(ms, now)})`);
}

/**
 * Whether the drawer shows a waiting job: its dependencies (in any queue) move without this
 * queue's counts moving, so the poll reloads it (one small request a poll, while it waits).
 */
let showingWaiting = false;
export function detailIsWaiting(): boolean {
  return showingWaiting && view.jobId !== null;
}

function renderDetail(job: JobDetail): void {
  showingWaiting = job.state === "waiting";
  $("detail-title").textContent = `Job #${job.id} · ${job.queue}`;
  const body = $("detail-body");
  clear(body);
  const now = Date.now();
  const fields = h("dl", { className: "fields" });
  fields.appendChild(h("dt", { text: "State" }));
  fields.appendChild(
    h("dd", { data: { field: "state" } }, [
      h("span", { className: "state-label" }, [stateDot(job.state), job.state]),
    ]),
  );
  field(fields, "Attempts", `${job.attempts} of ${job.maxAttempts}`);
  field(fields, "Priority", String(job.priority));
  if (job.key !== null) field(fields, "Key", job.key);
  if (job.group !== null) field(fields, "Group", job.group);
  timeField(fields, "Created", job.createdAt, now);
  timeField(fields, "Run at", job.runAt, now);
  if (job.leaseUntil !== null) timeField(fields, "Lease until", job.leaseUntil, now);
  if (job.finishedAt !== null) timeField(fields, "Finished", job.finishedAt, now);
  if (job.progress !== null) field(fields, "Progress", job.progress);

  const actions = h("div", { className: "actions start" });
  if (job.state === "dead") {
    const retry = () =>
      act(postJson<{ moved: number }>(`${queuePath(job.queue)}/retry`, { ids: [job.id] }), (r) =>
        r.moved ? `Job #${job.id} moved to pending` : `Job #${job.id} was not dead`,
      );
    actions.appendChild(
      h("button", {
        type: "button",
        className: "primary",
        text: "Retry",
        data: { action: "retry" },
        on: { click: retry },
      }),
    );
  }
  const remove = () =>
    confirmThen(`Delete job #${job.id}? This cannot be undone.`, () =>
      act(postJson<{ removed: boolean }>(`${queuePath(job.queue)}/jobs/${job.id}/delete`, {}), (r) => {
        location.hash = listLink(job.queue, view.state);
        return r.removed ? `Job #${job.id} deleted` : `Job #${job.id} was already gone`;
      }),
    );
  actions.appendChild(
    h("button", {
      type: "button",
      className: "danger",
      text: "Delete",
      data: { action: "delete" },
      on: { click: remove },
    }),
  );
  body.appendChild(fields);
  body.appendChild(actions);
  if (job.lastError !== null) {
    body.appendChild(
      h("section", { data: { section: "error" } }, [
        h("h3", { text: "Last error" }),
        h("pre", { className: "block error", text: job.lastError }),
      ]),
    );
  }
  if (job.dependencies !== null) body.appendChild(dependenciesBlock(job.dependencies));
  const payload = valueBlock("Payload", job.payload, "payload");
  if (payload) body.appendChild(payload);
  const result = valueBlock("Result", job.result, "result");
  if (result) body.appendChild(result);
}

/** Shows the job the view points at in the drawer, or closes the drawer. */
export async function loadDetail(queue: string): Promise<void> {
  if (view.jobId === null) {
    $("detail").hidden = true;
    return;
  }
  const want = view.jobId;
  try {
    const job = await getJson<JobDetail>(`${queuePath(queue)}/jobs/${want}`);
    if (view.jobId !== want) return;
    renderDetail(job);
    $("detail").hidden = false;
  } catch (error) {
    toast(messageOf(error), true);
    $("detail").hidden = true;
  }
}
