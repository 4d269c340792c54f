// Transactional send throughput over remoting: our SDK's TransactionProducer against a broker in a child process
// (bench/remoting-server.ts), each transaction = half message + local executor (commits at once) + END_TRANSACTION.
// Cases: one transaction in flight, and 128 in flight. One JSON line per case, then a small table.
//
//   npx tsc -p . && node dist/bench/transactions.js [--quick]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Message, TransactionProducer, TransactionStatus } from "../src/client/index.js";

const QUICK = process.argv.includes("--quick");
const TOPIC = "TxBench";
const body = Buffer.alloc(1024, 0x61);

function startServer(dir: string): Promise<{ namesrvPort: number; stop: () => Promise<void> }> {
  const entry = fileURLToPath(new URL("./remoting-server.js", import.meta.url));
  const child = spawn(process.execPath, [entry, "--data-dir", dir, "--topics", TOPIC], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("broker child did not start")), 30_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /ready (\{.*\})/.exec(out);
      if (m) {
        clearTimeout(timer);
        const info = JSON.parse(m[1]!) as { namesrvPort: number };
        resolve({
          namesrvPort: info.namesrvPort,
          stop: async () => {
            child.kill("SIGTERM");
            await exited;
          },
        });
      }
    });
    child.on("error", reject);
  });
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function run(producer: TransactionProducer, name: string, total: number, inFlight: number) {
  const lat = new Float64Array(total);
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const s = performance.now();
      const r = await producer.sendMessageInTransaction(
        new Message(TOPIC, "T", body),
        () => TransactionStatus.CommitTransaction,
      );
      if (r.transactionStatus !== TransactionStatus.CommitTransaction)
        throw new Error(`transaction ${i} ended ${r.transactionStatus}`);
      lat[i] = performance.now() - s;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const secs = (performance.now() - t0) / 1000;
  lat.sort();
  const line = {
    case: name,
    msgsPerSec: Math.round(total / secs),
    p50Ms: +pct(lat, 0.5).toFixed(3),
    p99Ms: +pct(lat, 0.99).toFixed(3),
    transactions: total,
    inFlight,
  };
  console.log(JSON.stringify(line));
  return line;
}

const dir = mkdtempSync(join(tmpdir(), "rmq-txbench-"));
const server = await startServer(dir);
const producer = new TransactionProducer({
  nameServer: `127.0.0.1:${server.namesrvPort}`,
  groupId: "GID_TXBENCH",
  checker: () => TransactionStatus.CommitTransaction,
});
try {
  await producer.start();
  await run(producer, "warmup", 2000, 32);
  const a = await run(producer, "tx-1-in-flight", QUICK ? 2000 : 10_000, 1);
  const b = await run(producer, "tx-128-in-flight", QUICK ? 20_000 : 100_000, 128);
  console.log("\n| case | tx/s | p50 ms | p99 ms |\n|---|---:|---:|---:|");
  for (const l of [a, b])
    console.log(`| ${l.case} | ${l.msgsPerSec.toLocaleString("en-US")} | ${l.p50Ms} | ${l.p99Ms} |`);
} finally {
  await producer.shutdown();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
