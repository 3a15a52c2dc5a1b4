// `spool.flow(tree)`: a tree of jobs added in one transaction, each parent depending on its
// children (AddOptions.dependsOn), so a parent runs once all of its children completed.
import type { FlowInsert } from "./backend.js";
import type { SpoolContext } from "./context.js";
import { SpoolError, show } from "./errors.js";
import { Queue } from "./queue.js";
import type { FlowJob } from "./types.js";
import { checkKnownKeys, checkName, checkObject, MAX_DEPENDENCIES } from "./validate.js";

/** The most jobs one flow adds: one transaction, held in memory while it is checked. */
export const MAX_FLOW_JOBS = 100_000;

/** A node met while flattening the tree, with the path that names it in messages. */
interface Visit {
  /** The node as given (its identity tells a cycle). */
  raw: unknown;
  /** Its own keys, copied once: what is checked is what is used. */
  node: Record<string, unknown>;
  path: string;
  /** Index of its entry in the insert order, once its children are placed. */
  children: FlowJob[];
  result: FlowJob;
}

/**
 * Checks and encodes every node (all before anything is written), inserts them children first
 * in one transaction, and returns the tree's shape with each job's id.
 */
export async function addFlow(ctx: SpoolContext, tree: unknown): Promise<FlowJob> {
  ctx.assertOpen();
  const handles = new Map<string, Queue<unknown, unknown>>();
  const handleOf = (queue: unknown, path: string): Queue<unknown, unknown> => {
    if (queue instanceof Queue) {
      if (queue.ctx !== ctx)
        throw new SpoolError("INVALID_ARGUMENT", `${path}.queue is a queue of another Spool`);
      return queue as Queue<unknown, unknown>;
    }
    const name = checkName(queue, `${path}.queue`);
    let handle = handles.get(name);
    if (handle === undefined) {
      handle = new Queue<unknown>(ctx, name, undefined);
      handles.set(name, handle);
    }
    return handle;
  };

  // Post-order without recursion (a chain may be deep): each node after all of its children.
  const order: { visit: Visit; children: Visit[]; queue: Queue<unknown, unknown> }[] = [];
  const index = new Map<Visit, number>();
  const root = visitOf(tree, "flow");
  const stack: { visit: Visit; kids: Visit[]; next: number }[] = [
    { visit: root, kids: kidsOf(root), next: 0 },
  ];
  // The nodes on the path from the root to the one being visited: a node met again among them
  // is a cycle (a tree that contains itself), which would never end.
  const onPath = new Set<unknown>([root.raw]);
  // Counted when met, not when done: a huge or endless tree is refused before it is all read.
  let count = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    if (top.next < top.kids.length) {
      const kid = top.kids[top.next++] as Visit;
      if (onPath.has(kid.raw)) {
        throw new SpoolError("INVALID_ARGUMENT", `${kid.path} is one of its own ancestors: a flow is a tree`);
      }
      if (++count > MAX_FLOW_JOBS) {
        throw new SpoolError(
          "INVALID_ARGUMENT",
          `a flow adds at most ${MAX_FLOW_JOBS} jobs; this one has more`,
        );
      }
      onPath.add(kid.raw);
      stack.push({ visit: kid, kids: kidsOf(kid), next: 0 });
      continue;
    }
    stack.pop();
    onPath.delete(top.visit.raw);
    index.set(top.visit, order.length);
    order.push({
      visit: top.visit,
      children: top.kids,
      queue: handleOf(top.visit.node.queue, top.visit.path),
    });
  }

  const inserts: FlowInsert[] = [];
  for (const { visit, children, queue } of order) {
    const job = await queue.prepareChecked(visit.node.payload, visit.node.options as never);
    // Its children and its own dependsOn are its dependencies: bounded as dependsOn is.
    if (children.length + (job.dependsOn?.length ?? 0) > MAX_DEPENDENCIES) {
      throw new SpoolError(
        "INVALID_ARGUMENT",
        `${visit.path} would depend on ${children.length + (job.dependsOn?.length ?? 0)} jobs (children and dependsOn); at most ${MAX_DEPENDENCIES}`,
      );
    }
    inserts.push({ queue: queue.name, job, children: children.map((kid) => index.get(kid) as number) });
  }
  ctx.assertOpen();
  const ids = await ctx.backend.enqueueFlow(inserts);
  const added = new Map<string, number>();
  for (const [i, { visit, queue }] of order.entries()) {
    visit.result.id = ids[i] as number;
    visit.result.queue = queue.name;
    added.set(queue.name, (added.get(queue.name) ?? 0) + 1);
  }
  for (const [name, n] of added) {
    (handles.get(name) ?? order.find((o) => o.queue.name === name)?.queue)?.held.meter.addedJobs(n);
    ctx.signal(name);
  }
  return root.result;
}

function visitOf(raw: unknown, path: string): Visit {
  const node = checkObject(raw, path);
  checkKnownKeys(node, ["queue", "payload", "options", "children"], path);
  if (node.queue === undefined) throw new SpoolError("INVALID_ARGUMENT", `${path}.queue is missing`);
  if (node.children !== undefined && !Array.isArray(node.children)) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `${path}.children must be an array of nodes, got ${show(node.children)}`,
    );
  }
  if (
    node.options !== undefined &&
    typeof node.options === "object" &&
    node.options !== null &&
    "client" in node.options
  ) {
    throw new SpoolError(
      "INVALID_ARGUMENT",
      `${path}.options: a flow runs in its own transaction; it takes no client`,
    );
  }
  const children: FlowJob[] = [];
  return { raw, node, path, children, result: { queue: "", id: 0, children } };
}

/** A node's children as visits, each linked into the parent's result tree. */
function kidsOf(parent: Visit): Visit[] {
  const raw = (parent.node.children ?? []) as unknown[];
  return raw.map((child, i) => {
    const visit = visitOf(child, `${parent.path}.children[${i}]`);
    parent.children.push(visit.result);
    return visit;
  });
}
