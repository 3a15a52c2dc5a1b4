/*
 * Building the page. Every piece of data goes in through textContent or a text node, never
 * through innerHTML: payloads and error messages are user data and may hold markup.
 */

/** The page's element `#id`, of the given class when one is named (the page is static: it exists). */
export function $<T extends HTMLElement = HTMLElement>(id: string, type?: new () => T): T {
  const node = document.getElementById(id);
  if (node === null || (type !== undefined && !(node instanceof type))) {
    throw new Error(`the page has no ${type?.name ?? "element"} #${id}`);
  }
  return node as T;
}

/** The page's first element matching a CSS selector. */
export function one(selector: string): HTMLElement {
  const node = document.querySelector<HTMLElement>(selector);
  if (node === null) throw new Error(`the page has no ${selector}`);
  return node;
}

export interface Props {
  className?: string;
  /** Set as textContent, so markup in it stays text. */
  text?: string | number | null;
  title?: string;
  href?: string;
  type?: string;
  /** data-* attributes, by their dataset name (`jobId` is `data-job-id`). */
  data?: Record<string, string | number>;
  on?: Record<string, EventListener>;
}

/** A child: a node, or a string added as a text node; null and undefined are skipped. */
export type Child = Node | string | null | undefined;

/** Creates an element with its props and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  children: readonly Child[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.title) node.title = props.title;
  if (props.href) node.setAttribute("href", props.href);
  if (props.type) node.setAttribute("type", props.type);
  for (const [key, value] of Object.entries(props.data ?? {})) node.dataset[key] = String(value);
  for (const [event, listener] of Object.entries(props.on ?? {})) node.addEventListener(event, listener);
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** The coloured dot that stands for a job state. */
export function stateDot(state: string): HTMLSpanElement {
  return h("span", { className: `state-dot s-${state}` });
}

let toastTimer: number | undefined;

/** A short message at the bottom of the page; errors stay up longer. */
export function toast(message: string, isError = false): void {
  const node = $("toast");
  node.textContent = message;
  node.className = isError ? "toast error" : "toast";
  node.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(
    () => {
      node.hidden = true;
    },
    isError ? 6000 : 3000,
  );
}
