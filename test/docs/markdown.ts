// Just enough Markdown reading for the API reference test: headings, the section under each,
// and the code a section shows (inline spans and fenced blocks), which is where names live.

export interface Section {
  heading: string;
  level: number;
  /** The section's text up to the next heading of the same or a higher level. */
  body: string;
}

export function sections(markdown: string): Section[] {
  const lines = markdown.split("\n");
  const starts: { heading: string; level: number; line: number }[] = [];
  let fenced = false;
  for (const [index, line] of lines.entries()) {
    if (line.startsWith("```")) fenced = !fenced;
    const match = fenced ? null : /^(#{1,6})\s+(.*)$/.exec(line);
    if (match) starts.push({ heading: match[2] ?? "", level: match[1]?.length ?? 0, line: index });
  }
  return starts.map((start, i) => {
    const end = starts.slice(i + 1).find((next) => next.level <= start.level);
    return {
      heading: start.heading,
      level: start.level,
      body: lines.slice(start.line, end === undefined ? lines.length : end.line).join("\n"),
    };
  });
}

/** The code a text shows: each fenced block whole, and each inline `span`. */
export function codeSpans(text: string): string[] {
  const spans: string[] = [];
  const outside = text.replace(/^```[^\n]*\n([\s\S]*?)^```/gm, (_block, code: string) => {
    spans.push(code);
    return "";
  });
  // A span may wrap onto the next line, as Markdown allows.
  for (const match of outside.matchAll(/`([^`]+)`/g)) spans.push((match[1] ?? "").replace(/\s+/g, " "));
  return spans;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** True when a heading names `name` as code: `Queue<T>`, `Spool`, `spool add <db>`… */
export function headingNames(heading: string, name: string): boolean {
  return new RegExp(`\`${escapeRegExp(name)}(?![\\w$-])`).test(heading);
}
