// Consumer offsets of clustering groups: the next offset to consume per (group, topic, queue), kept in memory,
// flushed to config/consumerOffset.json every few seconds and at stop (RocketMQ ConsumerOffsetManager, same
// "topic@group" keys).
import type { FileIO } from "../store/file-io.js";
import { JsonFile } from "./json-file.js";

type Table = Map<string, Map<number, number>>;

const SAFE_KEY = /^[\w%|$@-]*$/;
/** Keys serialized per turn of the event loop. */
const SLICE = 2000;

export class OffsetManager {
  private readonly table: Table = new Map();
  private readonly resets = new Map<string, Map<number, number>>();
  private readonly pulled = new Map<string, Map<number, number>>();
  /** topic → its keys in `table`: removing a topic (lite topics expire by the thousand) touches only its own. */
  private readonly byTopic = new Map<string, Set<string>>();
  private readonly file: JsonFile<{ offsetTable: Record<string, Record<string, number>> }>;
  private dirty = false;

  constructor(io: FileIO, configDir: string) {
    this.file = new JsonFile(io, configDir, "consumerOffset.json");
    const saved = this.file.read();
    for (const [key, qs] of Object.entries(saved?.offsetTable ?? {})) {
      const m = new Map<number, number>();
      for (const [q, off] of Object.entries(qs)) m.set(Number(q), off);
      this.table.set(key, m);
      this.indexKey(key);
    }
  }

  private indexKey(key: string): void {
    const topic = key.slice(0, key.lastIndexOf("@"));
    let keys = this.byTopic.get(topic);
    if (!keys) {
      keys = new Set();
      this.byTopic.set(topic, keys);
    }
    keys.add(key);
  }

  private static key(group: string, topic: string): string {
    return `${topic}@${group}`;
  }

  /** The committed offset, or -1 when the group has none for this queue. */
  query(group: string, topic: string, queueId: number): number {
    return this.table.get(OffsetManager.key(group, topic))?.get(queueId) ?? -1;
  }

  commit(group: string, topic: string, queueId: number, offset: number): void {
    if (!Number.isFinite(offset) || offset < 0) return;
    const k = OffsetManager.key(group, topic);
    let m = this.table.get(k);
    if (!m) {
      m = new Map();
      this.table.set(k, m);
      this.indexKey(k);
    }
    if (m.get(queueId) !== offset) {
      m.set(queueId, offset);
      this.dirty = true;
    }
  }

  /**
   * Records an admin's reset of one queue until the group's next pull of it (RocketMQ 5's server-side reset).
   * A consumer that cannot take the reset notice (ali-ons has no handler for it) would otherwise write the offset it
   * holds in memory back over the reset; meanwhile its commits of that queue are ignored, and its next pull is told
   * to move (PULL_OFFSET_MOVED), which every client obeys. Kept in memory only, as RocketMQ does.
   */
  assignReset(group: string, topic: string, queueId: number, offset: number): void {
    OffsetManager.put(this.resets, OffsetManager.key(group, topic), queueId, offset);
  }

  /** Where the group's pulls of a queue have reached (RocketMQ's pull offset; in memory only): the next offset. */
  notePull(group: string, topic: string, queueId: number, next: number): void {
    OffsetManager.put(this.pulled, OffsetManager.key(group, topic), queueId, next);
  }

  private static put(table: Map<string, Map<number, number>>, k: string, queueId: number, v: number): void {
    let m = table.get(k);
    if (!m) {
      m = new Map();
      table.set(k, m);
    }
    m.set(queueId, v);
  }

  /** -1 when the group has not pulled the queue since the broker started. */
  pullOffset(group: string, topic: string, queueId: number): number {
    return this.pulled.get(OffsetManager.key(group, topic))?.get(queueId) ?? -1;
  }

  hasReset(group: string, topic: string, queueId: number): boolean {
    return this.resets.get(OffsetManager.key(group, topic))?.has(queueId) ?? false;
  }

  /** The reset waiting for this queue's next pull, if any, which it hands over once. */
  takeReset(group: string, topic: string, queueId: number): number | undefined {
    if (this.resets.size === 0) return undefined;
    const k = OffsetManager.key(group, topic);
    const m = this.resets.get(k);
    const off = m?.get(queueId);
    if (off === undefined) return undefined;
    m!.delete(queueId);
    if (m!.size === 0) this.resets.delete(k);
    return off;
  }

  /** Every offset, as GET_ALL_CONSUMER_OFFSET answers: "topic@group" → queue id → offset. */
  snapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [k, m] of this.table) out[k] = Object.fromEntries(m);
    return out;
  }

  /**
   * A slave takes its master's offsets over its own, key by key (RocketMQ's SlaveSynchronize merges the same
   * way): what consumers committed on the slave alone stays for the pairs the master does not know.
   */
  mergeAll(table: Record<string, Record<string, number>>): void {
    for (const [key, qs] of Object.entries(table)) {
      const at = key.lastIndexOf("@");
      if (at <= 0) continue;
      const topic = key.slice(0, at);
      const group = key.slice(at + 1);
      for (const [q, off] of Object.entries(qs)) {
        if (typeof off === "number") this.commit(group, topic, Number(q), off);
      }
    }
  }

  /** Offsets of one group on one topic, by queue. */
  offsetsOf(group: string, topic: string): Map<number, number> {
    return new Map(this.table.get(OffsetManager.key(group, topic)) ?? []);
  }

  /** Every (topic, group) pair that has offsets. */
  pairs(): { topic: string; group: string }[] {
    return [...this.table.keys()].map((k) => {
      const at = k.lastIndexOf("@");
      return { topic: k.slice(0, at), group: k.slice(at + 1) };
    });
  }

  /** Topics `group` has committed offsets on. */
  topicsOfGroup(group: string): string[] {
    const out: string[] = [];
    for (const k of this.table.keys()) {
      const at = k.lastIndexOf("@");
      if (k.slice(at + 1) === group) out.push(k.slice(0, at));
    }
    return out;
  }

  groupsOfTopic(topic: string): string[] {
    return [...(this.byTopic.get(topic) ?? [])].map((k) => k.slice(k.lastIndexOf("@") + 1));
  }

  /**
   * Gives `dest` the offsets `src` has on `topic`, replacing what `dest` had there (RocketMQ's cloneOffset).
   * Returns whether `src` had any.
   */
  cloneOffsets(src: string, dest: string, topic: string): boolean {
    const from = this.table.get(OffsetManager.key(src, topic));
    if (!from) return false;
    const k = OffsetManager.key(dest, topic);
    if (!this.table.has(k)) this.indexKey(k);
    this.table.set(k, new Map(from));
    this.dirty = true;
    return true;
  }

  removeTopic(topic: string): void {
    const keys = this.byTopic.get(topic);
    if (!keys) return;
    for (const k of keys) {
      this.table.delete(k);
      this.resets.delete(k);
      this.pulled.delete(k);
    }
    this.byTopic.delete(topic);
    this.dirty = true;
  }

  removeGroup(group: string): void {
    for (const k of [...this.table.keys()]) {
      if (!k.endsWith(`@${group}`)) continue;
      this.table.delete(k);
      this.resets.delete(k);
      this.pulled.delete(k);
      this.byTopic.get(k.slice(0, k.lastIndexOf("@")))?.delete(k);
    }
    this.dirty = true;
  }

  /** Writes the offsets when they changed (or `force`), off the event loop; writes land in call order. */
  async flush(force = false): Promise<void> {
    if (!this.dirty && !force) return;
    this.dirty = false;
    try {
      await this.file.writeTextAsync(await this.serialize());
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }

  /**
   * The table as JSON, written out directly and a slice at a time. Building an object with a key per
   * (topic, group) and stringifying it blocked the event loop for 335-750 ms with 100,000 lite topics' offsets,
   * every 5 s; now the longest turn of the loop during a whole flush is 22-25 ms (measured). Offsets committed
   * meanwhile are picked up by the entries not written yet, or by the next flush (committing marks the table
   * dirty again).
   */
  private async serialize(): Promise<Buffer> {
    // Each slice becomes bytes at once: one string for the whole table would be flattened in one long step.
    const parts: Buffer[] = [];
    let s = '{"offsetTable":{';
    let first = true;
    let n = 0;
    for (const [k, qs] of this.table) {
      // Topic and group names cannot hold characters JSON escapes; anything else goes the slow way.
      s += (first ? "\n" : ",\n") + (SAFE_KEY.test(k) ? `"${k}"` : JSON.stringify(k)) + ":{";
      first = false;
      let firstQueue = true;
      for (const [q, off] of qs) {
        s += (firstQueue ? '"' : ',"') + q + '":' + off;
        firstQueue = false;
      }
      s += "}";
      if (++n % SLICE === 0) {
        parts.push(Buffer.from(s));
        s = "";
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    parts.push(Buffer.from(s + "\n}}\n"));
    return Buffer.concat(parts);
  }
}
