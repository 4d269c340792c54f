// Delay levels (RocketMQ 4.x ScheduleMessageService). A message sent with DELAY=n (or a retry, which waits level
// 3 + reconsumeTimes) is stored in SCHEDULE_TOPIC_XXXX, queue n-1, with its real topic and queue in REAL_TOPIC /
// REAL_QID. Every message of a level waits the same time, so each level queue is in due order: one cursor per
// level walks it and re-puts each message into its real topic when due. Cursors are persisted; after a crash a
// message may be delivered twice, never lost.
import { decodeRecord, SysFlag } from "../common/message-record.js";
import { Prop, decodeProperties, encodeProperties } from "../common/properties.js";
import { SystemTopic } from "../common/topic.js";
import type { FileIO } from "../store/file-io.js";
import type { MessageStore, PutMessageInput } from "../store/message-store.js";
import { JsonFile } from "./json-file.js";

export class DelayService {
  private readonly offsets: number[];
  private readonly file: JsonFile<{ offsetTable: Record<string, number> }>;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private dirty = false;

  constructor(
    private readonly store: MessageStore,
    io: FileIO,
    configDir: string,
    readonly levels: number[],
    private readonly tickMs = 100,
  ) {
    this.file = new JsonFile(io, configDir, "delayOffset.json");
    const saved = this.file.read()?.offsetTable ?? {};
    this.offsets = levels.map((_, i) => saved[String(i + 1)] ?? 0);
  }

  get maxLevel(): number {
    return this.levels.length;
  }

  /** Rewrites a message to wait at `level` (clamped to the highest level). */
  schedule(m: PutMessageInput, level: number): PutMessageInput {
    const lv = Math.min(Math.max(1, level), this.maxLevel);
    const props = decodeProperties(m.properties ?? "");
    props.set(Prop.REAL_TOPIC, m.topic);
    props.set(Prop.REAL_QID, String(m.queueId));
    props.set(Prop.DELAY, String(lv));
    // Object.assign, not a spread: `properties` may be absent from `m` (see bodyResult in the store).
    return Object.assign({}, m, {
      topic: SystemTopic.SCHEDULE,
      queueId: lv - 1,
      properties: encodeProperties(props),
    });
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** Delivers every due message; returns how many were delivered. */
  async tick(now = Date.now()): Promise<number> {
    if (this.running || this.stopped) return 0;
    this.running = true;
    let delivered = 0;
    try {
      for (let i = 0; i < this.levels.length; i++) delivered += await this.deliverLevel(i, now);
    } finally {
      this.running = false;
    }
    return delivered;
  }

  private async deliverLevel(i: number, now: number): Promise<number> {
    const delay = this.levels[i]!;
    let n = 0;
    for (;;) {
      const offset = this.offsets[i]!;
      const min = this.store.getMinOffset(SystemTopic.SCHEDULE, i);
      if (offset < min) this.offsets[i] = min;
      const r = this.store.getMessages(SystemTopic.SCHEDULE, i, this.offsets[i]!, 32);
      if (r.status !== "FOUND") return n;
      for (let k = 0; k < r.messages.length; k++) {
        const rec = decodeRecord(r.messages[k]!);
        if (rec.storeTimestamp + delay > now) return n;
        if (this.stopped) return n;
        const props = decodeProperties(rec.properties);
        const realTopic = props.get(Prop.REAL_TOPIC);
        const realQid = Number(props.get(Prop.REAL_QID));
        if (realTopic && Number.isInteger(realQid)) {
          props.delete(Prop.DELAY);
          await this.store.putMessage({
            topic: realTopic,
            queueId: realQid,
            body: Buffer.from(rec.body),
            properties: encodeProperties(props),
            flag: rec.flag,
            sysFlag: rec.sysFlag & ~SysFlag.TRANSACTION_MASK,
            bornTimestamp: rec.bornTimestamp,
            bornHost: rec.bornHost,
            reconsumeTimes: rec.reconsumeTimes,
          });
          n++;
        }
        this.offsets[i] = r.offsets[k]! + 1;
        this.dirty = true;
      }
    }
  }

  /** Messages waiting per level (for stats). */
  backlog(): number[] {
    return this.levels.map((_, i) =>
      Math.max(0, this.store.getMaxOffset(SystemTopic.SCHEDULE, i) - this.offsets[i]!),
    );
  }

  /** Writes the levels' progress when it changed, off the event loop. */
  async flush(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.file.writeAsync({
        offsetTable: Object.fromEntries(this.offsets.map((o, i) => [String(i + 1), o])),
      });
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
