// The Prometheus text format read by a real parser (parse-prometheus-text-format, prom2json's
// shape), typed for the tests: metric families by name.
// @ts-expect-error the parser ships no types; its output shape is declared below.
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface Sample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface Family {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: Sample[];
}

/** Every family of `text` by name. */
export function parseExposition(text: string): Map<string, Family> {
  const families = (parsePrometheusTextFormat as (text: string) => Family[])(text);
  return new Map(families.map((f) => [f.name, f]));
}

/** The sample of `family` whose labels include `labels`; its value as a number (NaN if none). */
export function sampleValue(
  families: Map<string, Family>,
  family: string,
  labels: Record<string, string>,
): number {
  const sample = families
    .get(family)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return sample === undefined ? Number.NaN : Number(sample.value ?? sample.count);
}
