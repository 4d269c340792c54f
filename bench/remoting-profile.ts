// Summarises a V8 .cpuprofile (as written by `node --cpu-prof` or `node dist/bench/remoting.js --cpu-prof <dir>`):
// idle / GC / program shares, the top functions by self time and by inclusive time, and self time per file.
// A .heapprofile (`node --heap-prof`, sampled allocations) gets the top allocating functions instead.
//
//   node dist/bench/remoting-profile.js <file.cpuprofile|file.heapprofile> [--top 25] [--filter <substring>]
import * as fs from "node:fs";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith("--") && !/^\d+$/.test(a));
if (!file) throw new Error("usage: remoting-profile.js <file.cpuprofile> [--top n] [--filter s]");
const topI = argv.indexOf("--top");
const TOP = topI >= 0 ? Number(argv[topI + 1]) : 25;
const filterI = argv.indexOf("--filter");
const FILTER = filterI >= 0 ? argv[filterI + 1] : undefined;

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

if (file.endsWith(".heapprofile")) {
  heapSummary(JSON.parse(fs.readFileSync(file, "utf8")) as { head: HeapNode });
  process.exit(0);
}

function heapSummary(h: { head: HeapNode }): void {
  const self = new Map<string, number>();
  const stacks = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode, path: string[]): void => {
    const k = frameKey(n.callFrame);
    const here = [...path, k];
    if (n.selfSize > 0) {
      total += n.selfSize;
      self.set(k, (self.get(k) ?? 0) + n.selfSize);
      const st = here.slice(-5).join(" < ");
      stacks.set(st, (stacks.get(st) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, here);
  };
  walk(h.head, []);
  const mb = (b: number): string => (b / 1e6).toFixed(1).padStart(8) + " MB";
  console.log(`${file}: ${mb(total)} sampled allocations`);
  console.log("\nTop allocating functions (self):");
  for (const [k, b] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${mb(b)}  ${k}`);
  console.log("\nTop allocating stacks (innermost last 5 frames, caller → callee reversed):");
  for (const [k, b] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${mb(b)}  ${k}`);
}

function frameKey(f: CallFrame): string {
  const name = f.functionName || "(anonymous)";
  return f.url ? `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}` : name;
}

const p = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
const byId = new Map<number, ProfileNode>();
for (const n of p.nodes) byId.set(n.id, n);
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time of sample i is the gap to the next sample (the last one gets the mean gap), in µs.
const selfUs = new Map<number, number>();
const total = p.endTime - p.startTime;
const mean = total / Math.max(1, p.samples.length);
for (let i = 0; i < p.samples.length; i++) {
  const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1]! : mean;
  const id = p.samples[i]!;
  selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
}

function shortUrl(url: string): string {
  const i = url.indexOf("/dist/");
  if (i >= 0) return url.slice(i + 6);
  const j = url.indexOf("node_modules/");
  if (j >= 0) return url.slice(j);
  return url.replace(/^file:\/\//, "");
}
function key(n: ProfileNode): string {
  return frameKey(n.callFrame);
}

const SPECIAL = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);
const self = new Map<string, number>();
const perFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id)!;
  const k = key(n);
  self.set(k, (self.get(k) ?? 0) + us);
  const f = n.callFrame.url ? shortUrl(n.callFrame.url) : SPECIAL.has(k) ? k : "(native/builtin)";
  perFile.set(f, (perFile.get(f) ?? 0) + us);
}

// Inclusive time per function, counting a node only when no ancestor is the same function (recursion).
const inclusive = new Map<string, number>();
const subtree = new Map<number, number>();
function sub(id: number): number {
  const cached = subtree.get(id);
  if (cached !== undefined) return cached;
  let t = selfUs.get(id) ?? 0;
  for (const c of byId.get(id)!.children ?? []) t += sub(c);
  subtree.set(id, t);
  return t;
}
for (const n of p.nodes) {
  const k = key(n);
  let a = parent.get(n.id);
  let recursive = false;
  while (a !== undefined) {
    if (key(byId.get(a)!) === k) {
      recursive = true;
      break;
    }
    a = parent.get(a);
  }
  if (!recursive) inclusive.set(k, (inclusive.get(k) ?? 0) + sub(n.id));
}

const ms = (us: number): string => (us / 1000).toFixed(0).padStart(7);
const pct = (us: number): string => ((us / total) * 100).toFixed(1).padStart(5) + " %";
console.log(`${file}: ${(total / 1e6).toFixed(2)} s, ${p.samples.length} samples`);
for (const s of SPECIAL)
  if (self.has(s)) console.log(`  ${s.padEnd(22)} ${ms(self.get(s)!)} ms ${pct(self.get(s)!)}`);
const show = (title: string, m: Map<string, number>, skipSpecial: boolean): void => {
  console.log(`\n${title}`);
  const rows = [...m.entries()]
    .filter(([k]) => !(skipSpecial && SPECIAL.has(k)))
    .filter(([k]) => !FILTER || k.includes(FILTER))
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP);
  for (const [k, us] of rows) console.log(`  ${ms(us)} ms ${pct(us)}  ${k}`);
};
show("Top self time (ms, % of wall):", self, true);
show("Top inclusive time:", inclusive, true);
show("Self time per file:", perFile, true);
