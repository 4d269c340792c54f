// Processes started by bench:compare: spawned in their own process group, remembered by pid, stopped by pid (the
// group) at the end, on failure, on Ctrl-C/SIGTERM and, as a last resort, on process 'exit'. Also: CPU time of a
// process tree from /proc, free loopback ports, bounded waiting.
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess, SpawnOptions } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import { join } from "node:path";

export function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
}

const started: Started[] = [];
const tempDirs: string[] = [];

/**
 * Every process group started, one `pid command` line each, so that a run killed too hard to clean up (SIGKILL,
 * out of memory) has its leftovers stopped by the next run (reapLeftovers).
 */
const PID_FILE = join(os.tmpdir(), "rocketmq-ts-bench-compare.pids");

function remember(child: ChildProcess): void {
  // A node child is recognised by its script, anything else by its executable.
  const what = child.spawnargs.find((a) => a.endsWith(".js")) ?? child.spawnargs[0] ?? "";
  const name = what.split("/").pop();
  if (child.pid !== undefined && name) fs.appendFileSync(PID_FILE, `${child.pid} ${name}\n`);
}

/** Kills the process groups a previous run recorded and never stopped (only if the pid still runs that command). */
export function reapLeftovers(): void {
  let lines: string[];
  try {
    lines = fs.readFileSync(PID_FILE, "utf8").split("\n");
  } catch {
    return;
  }
  for (const line of lines) {
    const [pidText, cmd] = line.split(" ");
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid <= 1 || !cmd) continue;
    let cmdline = "";
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmdline.includes(cmd)) continue;
    log(`stopping ${cmd} (pid ${pid}) left over from an earlier run`);
    killGroup(pid, "SIGKILL");
  }
  fs.rmSync(PID_FILE, { force: true });
}

export function alive(c: ChildProcess): boolean {
  return c.exitCode === null && c.signalCode === null;
}

/** Spawns `cmd` in a new process group (detached, so Ctrl-C in the terminal reaches only us), output to `logFile`. */
export function start(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  opts: SpawnOptions = {},
): Started {
  const out = fs.openSync(logFile, "a");
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  remember(child);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.once("error", (e) => log(`[${name}] spawn failed: ${e.message}`));
  const s = { name, child, exited };
  started.push(s);
  return s;
}

/** Also tracks a child spawned elsewhere (our broker, which needs a stdin pipe). */
export function track(name: string, child: ChildProcess): Started {
  remember(child);
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const s = { name, child, exited };
  started.push(s);
  return s;
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the process group of `s`, SIGKILL after `graceMs`. */
export async function stop(s: Started, graceMs = 15_000): Promise<void> {
  const pid = s.child.pid;
  if (pid === undefined || !alive(s.child)) return;
  killGroup(pid, "SIGTERM");
  const t = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
  if ((await Promise.race([s.exited, t])) === "timeout") {
    log(`[${s.name}] pid ${pid} did not stop in ${graceMs / 1000} s; SIGKILL to its group`);
    killGroup(pid, "SIGKILL");
    await Promise.race([s.exited, sleep(3000)]);
  }
  // Stragglers of the group (e.g. RabbitMQ's erl_child_setup) go too.
  killGroup(pid, "SIGKILL");
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    started
      .splice(0)
      .reverse()
      .map((s) => stop(s)),
  );
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(PID_FILE, { force: true });
}

export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(join(os.tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

// Last resort: whatever is still running is killed by pid (group), temp dirs are removed.
process.on("exit", () => {
  for (const s of started) if (s.child.pid !== undefined && alive(s.child)) killGroup(s.child.pid, "SIGKILL");
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      // nothing more to do while exiting
    }
  }
});

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
    s.setTimeout(1000, () => {
      s.destroy();
      res(false);
    });
  });
}

/** Polls `check` every 200 ms until it returns true, for at most `seconds`; false on timeout or an exited child. */
export async function waitFor(check: () => Promise<boolean>, seconds: number, s?: Started): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (s && !alive(s.child)) return false;
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  return false;
}

export function lastLines(file: string, n: number): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join(" | ");
  } catch {
    return "(no log)";
  }
}

const CLK_TCK = 100;

/** utime+stime (ms) of `pid` and every live descendant, from /proc. */
export function treeCpuMs(pid: number): number {
  const parents = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const s = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(f[1]);
      cpu.set(Number(e), ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
      const l = parents.get(ppid);
      if (l) l.push(Number(e));
      else parents.set(ppid, [Number(e)]);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    total += cpu.get(p) ?? 0;
    todo.push(...(parents.get(p) ?? []));
  }
  return total;
}

/** Busy and steal ms of the whole machine. */
export function hostCpuMs(): { busy: number; steal: number } {
  const v = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return {
    busy: ((v[0]! + v[1]! + v[2]! + v[5]! + v[6]!) * 1000) / CLK_TCK,
    steal: ((v[7] ?? 0) * 1000) / CLK_TCK,
  };
}

export function which(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

export function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  return `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n")[0] ?? "";
}
