// A broker in a child process (test/broker/fixtures/broker-child.ts), for tests where killing it is the point.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const child = fileURLToPath(new URL("../broker/fixtures/broker-child.js", import.meta.url));

export interface BrokerProcess {
  proc: ChildProcess;
  /** The remoting port it listens on. */
  port: number;
  /** SIGKILL (no flush, no checkpoint); resolves once it has exited. */
  kill(): Promise<void>;
}

/** Starts a broker on `dataDir` with `config` (BrokerConfig fields) and resolves once it listens. */
export function startBrokerProcess(dataDir: string, config: object = {}): Promise<BrokerProcess> {
  const proc = spawn(process.execPath, [child, dataDir, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const kill = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("broker child did not start")), 20_000);
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), kill });
      }
    });
    void exited.then(() => reject(new Error("broker child exited before it was ready")));
  });
}
