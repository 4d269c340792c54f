// Every consume queue of the store, by topic and queue id.
import { join } from "node:path";
import { ConsumeQueue } from "./consume-queue.js";
import { FileHandles } from "./file-handles.js";
import type { FileIO } from "./file-io.js";

export class ConsumeQueueStore {
  readonly root: string;
  private readonly topics = new Map<string, Map<number, ConsumeQueue>>();

  private readonly handles: FileHandles;

  /** `maxOpenFiles`: queue files kept open at once (see FileHandles); `syncOnClose` in sync flush mode. */
  constructor(
    storeDir: string,
    private readonly io: FileIO,
    private readonly entriesPerFile: number,
    maxOpenFiles = 1024,
    syncOnClose = false,
  ) {
    this.handles = new FileHandles(io, maxOpenFiles, syncOnClose);
    this.root = join(storeDir, "consumequeue");
    this.io.mkdirp(this.root);
  }

  /** Loads every queue on disk; returns the problems found (gaps between files). */
  load(): string[] {
    const problems: string[] = [];
    for (const topic of this.io.readdir(this.root)) {
      for (const qid of this.io.readdir(join(this.root, topic))) {
        if (!/^\d+$/.test(qid)) continue;
        const q = new ConsumeQueue(this.root, topic, Number(qid), this.io, this.entriesPerFile, this.handles);
        const p = q.load();
        if (p) problems.push(p);
        this.queuesOf(topic, true)!.set(Number(qid), q);
      }
    }
    return problems;
  }

  private queuesOf(topic: string, create: boolean): Map<number, ConsumeQueue> | undefined {
    let m = this.topics.get(topic);
    if (!m && create) {
      m = new Map();
      this.topics.set(topic, m);
    }
    return m;
  }

  get(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.topics.get(topic)?.get(queueId);
  }

  getOrCreate(topic: string, queueId: number): ConsumeQueue {
    const m = this.queuesOf(topic, true)!;
    let q = m.get(queueId);
    if (!q) {
      q = new ConsumeQueue(this.root, topic, queueId, this.io, this.entriesPerFile, this.handles);
      m.set(queueId, q);
    }
    return q;
  }

  *all(): IterableIterator<ConsumeQueue> {
    for (const m of this.topics.values()) yield* m.values();
  }

  queueIds(topic: string): number[] {
    return [...(this.topics.get(topic)?.keys() ?? [])].sort((a, b) => a - b);
  }

  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  flush(sync: boolean, touched?: number[]): void {
    for (const q of this.all()) q.flush(sync, touched);
  }

  maxOffsets(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [topic, m] of this.topics) {
      const t: Record<string, number> = {};
      for (const [qid, q] of m) t[qid] = q.maxOffset;
      out[topic] = t;
    }
    return out;
  }

  deleteTopic(topic: string): void {
    const m = this.topics.get(topic);
    if (!m) return;
    for (const q of m.values()) q.destroy();
    this.io.rmrf(join(this.root, topic));
    this.topics.delete(topic);
  }

  /** Removes every queue (before a full rebuild from the commit log). */
  destroyAll(): void {
    for (const q of this.all()) q.close();
    this.topics.clear();
    this.io.rmrf(this.root);
    this.io.mkdirp(this.root);
  }

  close(): void {
    for (const q of this.all()) q.close();
  }
}
