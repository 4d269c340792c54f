// Summary of bench:compare: median [min..max] over the rounds per (system, workload), ratios ours/best peer of
// the same durability class, and the targets of issue #7, as Markdown.
import { round } from "../bench-util.js";
import type { Durability } from "./systems.js";

export interface Row {
  system: string;
  label: string;
  client: string;
  durability: Durability;
  workload: string;
  round: number;
  error?: string;
  [k: string]: unknown;
}

export interface SystemInfo {
  id: string;
  label: string;
  client: string;
  durability: Durability;
}

export const WORKLOADS = [
  "publish-1",
  "publish-pipelined",
  "consume-backlog",
  "fixed-rate",
  "fan-16x16",
] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

function stat(values: number[]): Stat | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

export class Summary {
  /** Pooled fixed-rate latency percentiles per system (all rounds' samples together). */
  pooled = new Map<string, Record<string, number>>();
  constructor(
    readonly rows: Row[],
    readonly systems: SystemInfo[],
  ) {}

  get(system: string, workload: Workload, field: string): Stat | undefined {
    return stat(
      this.rows
        .filter((r) => r.system === system && r.workload === workload && !r.error)
        .map((r) => Number(r[field])),
    );
  }

  /** The fixed-rate latency: pooled over the rounds when available, else the median of the rounds. */
  latency(system: string, field: string): number | undefined {
    return this.pooled.get(system)?.[field] ?? this.get(system, "fixed-rate", field)?.median;
  }
}

const fmtN = (x: number): string =>
  Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : String(round(x, Math.abs(x) >= 10 ? 1 : 3));

function fmt(s: Stat | undefined): string {
  if (!s) return "—";
  return s.n > 1 ? `${fmtN(s.median)} [${fmtN(s.min)}..${fmtN(s.max)}]` : fmtN(s.median);
}

const HIGHER_BETTER = new Set(["msgsPerSec"]);

interface Metric {
  workload: Workload;
  field: string;
  title: string;
  pooled?: boolean;
}

const RATIO_METRICS: Metric[] = [
  { workload: "publish-1", field: "msgsPerSec", title: "publish, 1 in flight: msg/s" },
  { workload: "publish-1", field: "ackP50Ms", title: "publish, 1 in flight: ack p50 ms" },
  { workload: "publish-pipelined", field: "msgsPerSec", title: "publish, 1,000 in flight: msg/s" },
  { workload: "consume-backlog", field: "msgsPerSec", title: "consume backlog: msg/s" },
  { workload: "fixed-rate", field: "ackP50Ms", title: "5,000 msg/s: ack p50 ms", pooled: true },
  { workload: "fixed-rate", field: "ackP99Ms", title: "5,000 msg/s: ack p99 ms", pooled: true },
  { workload: "fixed-rate", field: "ackP999Ms", title: "5,000 msg/s: ack p99.9 ms", pooled: true },
  { workload: "fixed-rate", field: "e2eP50Ms", title: "5,000 msg/s: end-to-end p50 ms", pooled: true },
  { workload: "fixed-rate", field: "e2eP99Ms", title: "5,000 msg/s: end-to-end p99 ms", pooled: true },
  { workload: "fan-16x16", field: "msgsPerSec", title: "16 × 16 on 16 queues: msg/s" },
  ...(["publish-1", "publish-pipelined", "consume-backlog", "fixed-rate", "fan-16x16"] as const).flatMap(
    (w) => [
      { workload: w, field: "serverCpuSecPer100k", title: `${w}: server CPU-s / 100k msgs` },
      { workload: w, field: "clientCpuSecPer100k", title: `${w}: client CPU-s / 100k msgs` },
    ],
  ),
];

function value(s: Summary, system: string, m: Metric): number | undefined {
  return m.pooled ? s.latency(system, m.field) : s.get(system, m.workload, m.field)?.median;
}

/** The best peer of `ours`'s class for one metric. */
function bestPeer(s: Summary, ours: SystemInfo, m: Metric): { id: string; v: number } | undefined {
  let best: { id: string; v: number } | undefined;
  for (const p of s.systems) {
    if (p.id.startsWith("ours") || p.durability !== ours.durability) continue;
    const v = value(s, p.id, m);
    if (v === undefined) continue;
    if (!best || (HIGHER_BETTER.has(m.field) ? v > best.v : v < best.v)) best = { id: p.id, v };
  }
  return best;
}

export function markdown(s: Summary, head: string[]): string {
  const out: string[] = [...head, ""];
  const sys = s.systems;
  out.push("Systems:", "");
  for (const x of sys) out.push(`- **${x.id}**: ${x.label}; client ${x.client}; ${x.durability} ack class`);
  out.push("");

  const table = (title: string, workload: Workload, cols: [string, string][]): void => {
    out.push(`### ${title}`, "", `| system | client | ${cols.map((c) => c[1]).join(" | ")} |`);
    out.push(`|---|---|${cols.map(() => "---").join("|")}|`);
    for (const x of sys) {
      out.push(`| ${x.id} | ${x.client} | ${cols.map(([f]) => fmt(s.get(x.id, workload, f))).join(" | ")} |`);
    }
    out.push("");
  };
  const cpu: [string, string][] = [
    ["serverCpuSecPer100k", "server CPU-s/100k"],
    ["clientCpuSecPer100k", "client CPU-s/100k"],
  ];
  table("Publish, one in flight", "publish-1", [
    ["msgsPerSec", "msg/s"],
    ["ackP50Ms", "ack p50 ms"],
    ["ackP99Ms", "ack p99 ms"],
    ["ackP999Ms", "ack p99.9 ms"],
    ...cpu,
  ]);
  table("Publish pipelined (1,000 in flight)", "publish-pipelined", [
    ["msgsPerSec", "msg/s"],
    ["ackP50Ms", "ack p50 ms"],
    ["ackP99Ms", "ack p99 ms"],
    ...cpu,
  ]);
  table("Consume the backlog (one consumer, acked)", "consume-backlog", [["msgsPerSec", "msg/s"], ...cpu]);
  table("Fixed rate 5,000 msg/s, one consumer attached (per-round medians)", "fixed-rate", [
    ["msgsPerSec", "achieved msg/s"],
    ["ackP50Ms", "ack p50"],
    ["ackP99Ms", "ack p99"],
    ["ackP999Ms", "ack p99.9"],
    ["e2eP50Ms", "e2e p50"],
    ["e2eP99Ms", "e2e p99"],
    ...cpu,
  ]);
  if (s.pooled.size > 0) {
    out.push("Fixed rate, all rounds' samples pooled (ms):", "");
    out.push(
      "| system | samples | ack p50 | ack p99 | ack p99.9 | e2e p50 | e2e p99 |",
      "|---|---|---|---|---|---|---|",
    );
    for (const x of sys) {
      const p = s.pooled.get(x.id);
      if (!p) continue;
      out.push(
        `| ${x.id} | ${p.samples} | ${[p.ackP50Ms, p.ackP99Ms, p.ackP999Ms, p.e2eP50Ms, p.e2eP99Ms].map((v) => (v === undefined ? "—" : fmtN(v))).join(" | ")} |`,
      );
    }
    out.push("");
  }
  table("16 producers × 16 consumers on 16 queues (produced and consumed together)", "fan-16x16", [
    ["msgsPerSec", "consumed msg/s"],
    ["publishMsgsPerSec", "published msg/s"],
    ["ackP99Ms", "ack p99 ms"],
    ...cpu,
  ]);

  out.push("### Ratios ours / best peer of the same durability class", "");
  out.push(
    "Throughput: > 1 means ours is faster. Latency and CPU: < 1 means ours is lower (better). Latencies at 5,000 msg/s use the pooled samples.",
    "",
  );
  const ours = sys.filter((x) => x.id.startsWith("ours"));
  out.push(`| metric | ${ours.map((o) => `${o.id} vs best ${o.durability} peer`).join(" | ")} |`);
  out.push(`|---|${ours.map(() => "---").join("|")}|`);
  for (const m of RATIO_METRICS) {
    const cells = ours.map((o) => {
      const v = value(s, o.id, m);
      const b = bestPeer(s, o, m);
      if (v === undefined || !b) return "—";
      return `**${round(v / b.v, 2)}×** (${fmtN(v)} vs ${b.id} ${fmtN(b.v)})`;
    });
    out.push(`| ${m.title} | ${cells.join(" | ")} |`);
  }
  out.push("");
  out.push("### Targets of issue #7", "", "| class | target | measured | met? |", "|---|---|---|---|");
  for (const line of targets(s)) out.push(line);
  out.push("");
  return out.join("\n");
}

function targets(s: Summary): string[] {
  const lines: string[] = [];
  const ratio = (
    ours: string,
    m: Metric,
  ): { r: number; v: number; b: { id: string; v: number } } | undefined => {
    const o = s.systems.find((x) => x.id === ours);
    if (!o) return undefined;
    const v = value(s, ours, m);
    const b = bestPeer(s, o, m);
    return v === undefined || !b ? undefined : { r: v / b.v, v, b };
  };
  const check = (cls: string, what: string, ok: boolean | undefined, measured: string): void => {
    lines.push(
      `| ${cls} | ${what} | ${measured} | ${ok === undefined ? "not measured" : ok ? "**met**" : "missed"} |`,
    );
  };
  const ratioTarget = (cls: string, ours: string, m: Metric, need: number, what: string): void => {
    const r = ratio(ours, m);
    check(
      cls,
      what,
      r && r.r >= need,
      r
        ? `${round(r.r, 2)}× (${fmtN(r.v)} vs ${r.b.id} ${fmtN(r.b.v)} msg/s)${r.r < need ? `: ${round((1 - r.r / need) * 100, 0)} % short` : ""}`
        : "—",
    );
  };
  const maxTarget = (cls: string, v: number | undefined, limit: number, what: string): void =>
    check(
      cls,
      what,
      v === undefined ? undefined : v <= limit,
      v === undefined ? "—" : `${fmtN(v)} ms${v > limit ? ` (${round(v / limit, 1)}× the limit)` : ""}`,
    );
  const m = (workload: Workload, field: string): Metric => ({ workload, field, title: "" });
  const pc = "page-cache (ours-async)";
  ratioTarget(pc, "ours-async", m("publish-1", "msgsPerSec"), 1, "one in flight ≥ best peer");
  maxTarget(pc, s.get("ours-async", "publish-1", "ackP50Ms")?.median, 0.1, "one in flight ack p50 ≤ 0.1 ms");
  ratioTarget(pc, "ours-async", m("publish-pipelined", "msgsPerSec"), 1, "pipelined ≥ best peer");
  ratioTarget(pc, "ours-async", m("consume-backlog", "msgsPerSec"), 1, "backlog drain ≥ best peer");
  maxTarget(pc, s.latency("ours-async", "ackP99Ms"), 1.3, "ack p99 ≤ 1.3 ms at 5,000 msg/s");
  maxTarget(pc, s.latency("ours-async", "e2eP99Ms"), 5, "end-to-end p99 ≤ 5 ms at 5,000 msg/s");
  const fs = "fsync (ours-sync)";
  ratioTarget(fs, "ours-sync", m("publish-pipelined", "msgsPerSec"), 1.5, "pipelined ≥ 1.5× best peer");
  ratioTarget(fs, "ours-sync", m("publish-1", "msgsPerSec"), 1, "one in flight ≥ best peer");
  maxTarget(fs, s.latency("ours-sync", "ackP99Ms"), 10, "ack p99 ≤ 10 ms at 5,000 msg/s");
  return lines;
}
