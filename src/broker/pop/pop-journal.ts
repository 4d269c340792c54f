// The receive state survives restarts through an append-only journal of small text records, replayed at start and
// rewritten as a snapshot of what is still in flight once it grows past a limit (and at a clean stop):
//   Q id group topic queueId         declares a queue state (once per file)
//   S id start cursor                its bounds when declared
//   P id offset phy seq attempt maxAttempts firstAt deadline msgGroup   a delivery or an invisible-time change
//   H id offset phy msgGroup         a FIFO message held back behind an earlier one of its group
//   A id offset                      finished: acked or dead-lettered
//   R id                             the state was dropped (offset reset, topic deleted)
// Fields are tab-separated; the message group is URI-encoded. A torn last line (crash mid-write) is ignored.
// Replies to receive and ack wait until their records reached the OS, as the commit log's async flush mode does.
import { join } from "node:path";
import { BrokerError } from "../../common/errors.js";
import type { FileIO } from "../../store/file-io.js";
import { PopQueue } from "./pop-queue.js";
import type { Held, InFlight } from "./pop-queue.js";

const FILE = "pop-journal.log";

export class PopJournal {
  private readonly path: string;
  private fd: number;
  private size: number;
  private lines: string[] = [];
  private readonly declared = new Set<number>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly io: FileIO,
    dir: string,
    private readonly compactBytes: number,
    /** Every queue state, for snapshots. */
    private readonly all: () => Iterable<PopQueue>,
  ) {
    io.mkdirp(dir);
    this.path = join(dir, FILE);
    this.fd = io.open(this.path, "a");
    this.size = io.size(this.fd);
  }

  /** Replays the journal into queue states; also returns the highest delivery sequence seen. */
  load(): { queues: PopQueue[]; maxSeq: number } {
    const byId = new Map<number, PopQueue>();
    let maxSeq = 0;
    const text = this.io.exists(this.path) ? this.io.readFile(this.path).toString("utf8") : "";
    const end = text.lastIndexOf("\n");
    for (const line of end < 0 ? [] : text.slice(0, end).split("\n")) {
      const f = line.split("\t");
      const id = Number(f[1]);
      if (f[0] === "Q" && f.length === 5) {
        byId.set(id, new PopQueue(id, f[2]!, f[3]!, Number(f[4]), 0, 0));
        continue;
      }
      const q = byId.get(id);
      if (!q) continue;
      const off = Number(f[2]);
      if (f[0] === "S" && f.length === 4) {
        q.start = Math.max(q.start, off);
        q.cursor = Math.max(q.cursor, Number(f[3]), q.start);
      } else if (f[0] === "P" && f.length === 10) {
        const e: InFlight = {
          phyOffset: Number(f[3]),
          seq: Number(f[4]),
          attempt: Number(f[5]),
          maxAttempts: Number(f[6]),
          firstAt: Number(f[7]),
          deadline: Number(f[8]),
          msgGroup: decodeURIComponent(f[9]!),
        };
        q.held.delete(off);
        q.inflight.set(off, e);
        q.cursor = Math.max(q.cursor, off + 1);
        maxSeq = Math.max(maxSeq, e.seq);
      } else if (f[0] === "H" && f.length === 5) {
        q.held.set(off, { phyOffset: Number(f[3]), msgGroup: decodeURIComponent(f[4]!) });
        q.cursor = Math.max(q.cursor, off + 1);
      } else if (f[0] === "R" && f.length === 2) {
        byId.delete(id);
      } else if (f[0] === "A" && f.length === 3) {
        q.inflight.delete(off);
        q.held.delete(off);
      }
    }
    for (const q of byId.values()) {
      // A dead-lettering that did not finish before the stop is retried.
      for (const e of q.inflight.values()) if (!Number.isFinite(e.deadline)) e.deadline = 0;
      q.advance();
    }
    return { queues: [...byId.values()], maxSeq };
  }

  private declare(q: PopQueue): void {
    if (this.declared.has(q.id)) return;
    this.declared.add(q.id);
    this.lines.push(
      `Q\t${q.id}\t${q.group}\t${q.topic}\t${q.queueId}\n`,
      `S\t${q.id}\t${q.start}\t${q.cursor}\n`,
    );
  }

  delivered(q: PopQueue, offset: number, e: InFlight): void {
    this.declare(q);
    this.lines.push(deliveryLine(q, offset, e));
  }

  held(q: PopQueue, offset: number, h: Held): void {
    this.declare(q);
    this.lines.push(heldLine(q, offset, h));
  }

  finished(q: PopQueue, offset: number): void {
    this.declare(q);
    this.lines.push(`A\t${q.id}\t${offset}\n`);
  }

  dropped(q: PopQueue): void {
    if (!this.declared.has(q.id)) return;
    this.lines.push(`R\t${q.id}\n`);
  }

  /** Resolves when every record so far has been written to the file. */
  flush(): Promise<void> {
    const next = this.chain.then(() => this.writeOut());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async writeOut(): Promise<void> {
    if (this.lines.length === 0) return;
    const buf = Buffer.from(this.lines.join(""), "utf8");
    this.lines = [];
    let done = 0;
    try {
      while (done < buf.length) {
        done += await this.io.write(this.fd, buf, done, buf.length - done, this.size + done);
      }
    } catch (e) {
      throw new BrokerError("STORE_WRITE_FAILED", `pop journal: ${(e as Error).message}`, { cause: e });
    } finally {
      this.size += done;
    }
    if (this.size > this.compactBytes) await this.compact(true);
  }

  /** Rewrites the journal as a snapshot of the current state. */
  private async compact(async: boolean): Promise<void> {
    // Records not yet written are covered by the snapshot, which is taken from the state itself.
    this.lines = [];
    this.declared.clear();
    const parts: string[] = [];
    for (const q of this.all()) {
      if (q.inflight.size === 0 && q.held.size === 0 && q.start === q.cursor && q.start === 0) continue;
      this.declared.add(q.id);
      parts.push(
        `Q\t${q.id}\t${q.group}\t${q.topic}\t${q.queueId}\n`,
        `S\t${q.id}\t${q.start}\t${q.cursor}\n`,
      );
      for (const [off, e] of q.inflight) parts.push(deliveryLine(q, off, e));
      for (const [off, h] of q.held) parts.push(heldLine(q, off, h));
    }
    const data = parts.join("");
    if (async) await this.io.writeFileAtomicAsync(this.path, data);
    else this.io.writeFileAtomic(this.path, data);
    this.io.close(this.fd);
    this.fd = this.io.open(this.path, "a");
    this.size = this.io.size(this.fd);
  }

  /** Clean stop: waits for pending writes, then leaves a compact snapshot. */
  async close(): Promise<void> {
    await this.chain;
    await this.compact(false);
    this.io.close(this.fd);
  }
}

function deliveryLine(q: PopQueue, offset: number, e: InFlight): string {
  return `P\t${q.id}\t${offset}\t${e.phyOffset}\t${e.seq}\t${e.attempt}\t${e.maxAttempts}\t${e.firstAt}\t${e.deadline}\t${encodeURIComponent(e.msgGroup)}\n`;
}

function heldLine(q: PopQueue, offset: number, h: Held): string {
  return `H\t${q.id}\t${offset}\t${h.phyOffset}\t${encodeURIComponent(h.msgGroup)}\n`;
}
