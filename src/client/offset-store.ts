// Consumer offsets: the next offset to consume per queue. Clustering groups keep them on the broker
// (RemoteBrokerOffsetStore: QUERY_CONSUMER_OFFSET / UPDATE_CONSUMER_OFFSET, plus the pull's commitOffset);
// broadcasting consumers keep them in a local JSON file (LocalFileOffsetStore), one per client id and group:
//   <offsetStoreDir>/<clientId>/<group>/offsets.json = {"offsetTable":{"<topic>@<brokerName>@<queueId>":n}}
// written to a temp file, fsynced, then renamed over the old one, so a crash leaves the old or the new file.
import { mkdir, open, readFile, rename } from "node:fs/promises";
import { join } from "node:path";
import { queryConsumerOffset, updateConsumerOffset } from "./broker-api.js";
import { MQClientError, errorMessage } from "./errors.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import type { MQClient } from "./mq-client.js";
import type { MessageQueue } from "./route-cache.js";
import { mqKey } from "./route-cache.js";

export interface OffsetStore {
  load(): Promise<void>;
  /** The stored offset (broker or file), or undefined when there is none. Rejects when it cannot be read. */
  readFromStore(mq: MessageQueue): Promise<number | undefined>;
  /** The offset in memory, or undefined. */
  read(mq: MessageQueue): number | undefined;
  /** Sets the in-memory offset; with increaseOnly it never moves back. */
  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  /** Writes the offsets of `mqs` to the store; failures are logged, not thrown. */
  persist(mqs: readonly MessageQueue[]): Promise<void>;
  /** Forgets a queue's in-memory offset (after a rebalance took it away). */
  remove(mq: MessageQueue): void;
}

interface Entry {
  mq: MessageQueue;
  offset: number;
}

/**
 * mqKey per queue object: update runs once per consumed message, and building and hashing a fresh key string
 * each time showed in profiles. The consumer passes the same MessageQueue object for a queue throughout.
 */
const keys = new WeakMap<MessageQueue, string>();

function keyOf(mq: MessageQueue): string {
  let k = keys.get(mq);
  if (k === undefined) {
    k = mqKey(mq);
    keys.set(mq, k);
  }
  return k;
}

abstract class MemoryTable {
  protected readonly table = new Map<string, Entry>();

  read(mq: MessageQueue): number | undefined {
    return this.table.get(keyOf(mq))?.offset;
  }

  update(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const k = keyOf(mq);
    const cur = this.table.get(k);
    if (!cur) this.table.set(k, { mq, offset });
    else if (!increaseOnly || offset > cur.offset) cur.offset = offset;
  }

  remove(mq: MessageQueue): void {
    this.table.delete(keyOf(mq));
  }
}

export class RemoteOffsetStore extends MemoryTable implements OffsetStore {
  constructor(
    private readonly client: MQClient,
    private readonly group: string,
    private readonly logger: RemotingLogger,
  ) {
    super();
  }

  async load(): Promise<void> {}

  private async brokerAddr(mq: MessageQueue): Promise<string> {
    let addr = this.client.routes.adminAddress(mq.brokerName);
    if (!addr) {
      await this.client.routes.update(mq.topic);
      addr = this.client.routes.adminAddress(mq.brokerName);
    }
    if (!addr) throw new MQClientError("NO_ROUTE", `no address for broker ${mq.brokerName}`);
    return addr;
  }

  async readFromStore(mq: MessageQueue): Promise<number | undefined> {
    const addr = await this.brokerAddr(mq);
    const off = await queryConsumerOffset(
      this.client.remoting,
      addr,
      this.group,
      mq.topic,
      mq.queueId,
      this.client.requestTimeoutMs,
    );
    if (off !== undefined) this.update(mq, off, false);
    return off;
  }

  async persist(mqs: readonly MessageQueue[]): Promise<void> {
    await Promise.all(
      mqs.map(async (mq) => {
        const off = this.read(mq);
        if (off === undefined || off < 0) return;
        try {
          await updateConsumerOffset(
            this.client.remoting,
            await this.brokerAddr(mq),
            this.group,
            mq.topic,
            mq.queueId,
            off,
            this.client.requestTimeoutMs,
          );
        } catch (e) {
          this.logger.warn({ mq: mqKey(mq), offset: off, err: errorMessage(e) }, "offset commit failed");
        }
      }),
    );
  }
}

export class LocalFileOffsetStore extends MemoryTable implements OffsetStore {
  readonly path: string;
  /** What the file held at load; entries of queues not in memory are written back unchanged. */
  private readonly fromFile = new Map<string, number>();
  private writing: Promise<void> = Promise.resolve();
  private seq = 0;

  constructor(
    dir: string,
    clientId: string,
    group: string,
    private readonly logger: RemotingLogger,
  ) {
    super();
    // Client ids contain "@" and maybe ":" (IPv6); keep the path portable.
    this.path = join(dir, clientId.replace(/[^A-Za-z0-9@._#-]/g, "_"), group, "offsets.json");
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    try {
      const parsed = JSON.parse(text) as { offsetTable?: Record<string, unknown> };
      for (const [k, v] of Object.entries(parsed.offsetTable ?? {})) {
        if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) this.fromFile.set(k, v);
      }
    } catch (e) {
      // A corrupt file is not fatal: the consumer starts as if it had none (from consumeFromWhere).
      this.logger.error({ path: this.path, err: errorMessage(e) }, "offset file unreadable; ignored");
    }
  }

  readFromStore(mq: MessageQueue): Promise<number | undefined> {
    const off = this.fromFile.get(mqKey(mq));
    if (off !== undefined) this.update(mq, off, false);
    return Promise.resolve(off);
  }

  /** Writes every known offset; `mqs` only says which queues changed (all are written anyway). */
  persist(mqs: readonly MessageQueue[]): Promise<void> {
    void mqs;
    const next = this.writing.then(() => this.writeFile());
    this.writing = next.catch(() => {});
    return next.catch((e: unknown) => {
      this.logger.error({ path: this.path, err: errorMessage(e) }, "cannot write offset file");
    });
  }

  private async writeFile(): Promise<void> {
    const all: Record<string, number> = {};
    for (const [k, v] of this.fromFile) all[k] = v;
    for (const [k, e] of this.table) {
      all[k] = e.offset;
      this.fromFile.set(k, e.offset);
    }
    const dir = join(this.path, "..");
    await mkdir(dir, { recursive: true });
    const tmp = `${this.path}.${process.pid}.${++this.seq}.tmp`;
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(JSON.stringify({ offsetTable: all }, null, 2));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}
