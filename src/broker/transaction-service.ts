// Transactional messages. A half message is stored on RMQ_SYS_TRANS_HALF_TOPIC (queue 0) with its real topic and
// queue in REAL_TOPIC / REAL_QID, so no consumer sees it. END_TRANSACTION commits it (a copy goes to the real topic
// with the COMMIT sysflag and preparedTransactionOffset pointing at the half) or rolls it back (nothing is
// delivered). Either way an op record goes to RMQ_SYS_TRANS_OP_HALF_TOPIC, which is what makes the outcome durable.
// An unresolved half message is checked back with a live producer of its group after its CheckImmunityTime
// (without one, the transaction timeout: 6 s), then every 5 s, up to 15 checks; then it is discarded to
// TRANS_CHECK_MAX_TIME_TOPIC.
//
// Op records are small text bodies: "commit <halfOffset>", "rollback <halfOffset>", "discard <halfOffset>",
// "check <halfOffset> <n>". On start both queues are read back to rebuild the unresolved set, so half and op state
// survive restarts. Unlike RocketMQ we record checks as op records instead of re-appending the half message.
import { BrokerError } from "../common/errors.js";
import { SysFlag, decodeRecord, encodeMessageRecord } from "../common/message-record.js";
import type { MessageRecord } from "../common/message-record.js";
import { createOffsetMsgId } from "../common/message-id.js";
import { Prop, decodeProperties, encodeProperties, getProperty } from "../common/properties.js";
import { SystemTopic } from "../common/topic.js";
import type { MessageStore, PutMessageInput } from "../store/message-store.js";
import type { ClientManager } from "./client-manager.js";

export const TRANSACTION_ID = "__transactionId__";

/**
 * Producer group of half messages whose producers ask for due checks themselves (the HTTP protocol's
 * consumeHalfMessage) instead of being called back; the checker never calls anyone for them.
 */
export const PULL_CHECK_GROUP = "%PULL_CHECK%";

/**
 * When a half message is first checked: its producer's CHECK_IMMUNITY_TIME_IN_SECONDS, shorter or longer than the
 * broker's transaction timeout, as RocketMQ reads it; without one (or an unreadable or negative one) the timeout.
 */
function firstCheckDelay(props: string, transactionTimeoutMs: number): number {
  const v = getProperty(props, Prop.CHECK_IMMUNITY_TIME_IN_SECONDS);
  const seconds = v === undefined || v.trim() === "" ? NaN : Number(v);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : transactionTimeoutMs;
}

/** A half message handed to a producer that pulls its checks. */
export interface DueTransaction {
  halfQueueOffset: number;
  commitLogOffset: number;
  /** Checks so far, this one included. */
  checks: number;
  /** The half message as the producer sent it (real topic and queue). */
  record: MessageRecord;
}

export type TransactionResolution = "commit" | "rollback";

export interface TransactionCheck {
  producerGroup: string;
  halfQueueOffset: number;
  commitLogOffset: number;
  transactionId: string;
  msgId: string;
  offsetMsgId: string;
  /** The half message as the producer sent it (real topic and queue), in stored-record form. */
  record: Buffer;
}

export interface TransactionOptions {
  /** First check this long after the half message, unless the message asks for more (default 6 s). */
  firstCheckMs: number;
  /** Then every this long (default 5 s). */
  checkIntervalMs: number;
  /** Checks before the half message is discarded (default 15). */
  maxChecks: number;
  /** Pulled checks before the half message is discarded (default 8640: a day of checks every 10 s). */
  maxPullChecks: number;
  /** How often the checker looks for due checks. */
  tickMs: number;
}

interface Pending {
  phy: number;
  size: number;
  group: string;
  /** The topic the message is for. */
  topic: string;
  checks: number;
  nextCheckAt: number;
}

const HALF = SystemTopic.TRANS_HALF;
const OP = SystemTopic.TRANS_OP_HALF;

export class TransactionService {
  private readonly pending = new Map<number, Pending>();
  private readonly resolved = new Map<number, TransactionResolution | "discard">();
  private halfReadOffset = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly options: TransactionOptions;
  /** Called for every check sent, discard and resolution (tests and logs). */
  onEvent: ((e: { type: string; halfQueueOffset: number; detail?: string }) => void) | undefined;

  constructor(
    private readonly store: MessageStore,
    private readonly clients: ClientManager,
    options: Partial<TransactionOptions> = {},
  ) {
    this.options = {
      firstCheckMs: 6000,
      checkIntervalMs: 5000,
      maxChecks: 15,
      maxPullChecks: 8640,
      tickMs: 500,
      ...options,
    };
    this.recover();
  }

  /** Rewrites a prepared message into a half message (invisible until committed). */
  prepare(input: PutMessageInput, producerGroup: string): PutMessageInput {
    const props = decodeProperties(input.properties ?? "");
    props.set(Prop.REAL_TOPIC, input.topic);
    props.set(Prop.REAL_QID, String(input.queueId));
    props.set(Prop.PRODUCER_GROUP, producerGroup || props.get(Prop.PRODUCER_GROUP) || "");
    props.set(TRANSACTION_ID, props.get(Prop.UNIQ_KEY) ?? "");
    return {
      ...input,
      topic: HALF,
      queueId: 0,
      // Half messages take a queue entry (the checker walks them), so the prepared bits are cleared here.
      sysFlag: (input.sysFlag ?? 0) & ~SysFlag.TRANSACTION_MASK,
      properties: encodeProperties(props),
    };
  }

  /** A half message was stored: track it for checks. */
  tracked(halfQueueOffset: number, phy: number, size: number, props: string, storeTimestamp: number): void {
    if (this.pending.has(halfQueueOffset) || this.resolved.has(halfQueueOffset)) return;
    const immunity = firstCheckDelay(props, this.options.firstCheckMs);
    this.pending.set(halfQueueOffset, {
      phy,
      size,
      group: getProperty(props, Prop.PRODUCER_GROUP) ?? "",
      topic: getProperty(props, Prop.REAL_TOPIC) ?? "",
      checks: Number(getProperty(props, Prop.TRANSACTION_CHECK_TIMES) ?? 0),
      nextCheckAt: storeTimestamp + immunity,
    });
    this.halfReadOffset = Math.max(this.halfReadOffset, halfQueueOffset + 1);
  }

  /**
   * Commits or rolls back. Repeating the same decision is harmless; a decision that contradicts an earlier one,
   * or comes after the half message was discarded, is refused with a clear error.
   */
  async end(
    producerGroup: string,
    halfQueueOffset: number,
    commitLogOffset: number,
    decision: TransactionResolution,
  ): Promise<void> {
    this.catchUp();
    const done = this.resolved.get(halfQueueOffset);
    if (done === decision) return;
    if (done === "discard") {
      throw new BrokerError(
        "NO_PERMISSION",
        `transaction at half offset ${halfQueueOffset} was discarded after too many checks`,
      );
    }
    if (done)
      throw new BrokerError(
        "NO_PERMISSION",
        `transaction at half offset ${halfQueueOffset} was already ${done}ed`,
      );
    const half = this.readHalf(commitLogOffset);
    if (!half || half.queueOffset !== halfQueueOffset) {
      throw new BrokerError(
        "MESSAGE_NOT_FOUND",
        `no half message at commit log offset ${commitLogOffset} / half offset ${halfQueueOffset}`,
      );
    }
    const group = getProperty(half.properties, Prop.PRODUCER_GROUP) ?? "";
    if (producerGroup && group && producerGroup !== group) {
      throw new BrokerError(
        "NO_PERMISSION",
        `half message belongs to producer group ${group}, not ${producerGroup}`,
      );
    }
    if (decision === "commit") await this.store.putMessage(this.committed(half, commitLogOffset));
    await this.writeOp(`${decision} ${halfQueueOffset}`);
    this.remember(halfQueueOffset, decision);
    this.pending.delete(halfQueueOffset);
    this.onEvent?.({ type: decision, halfQueueOffset });
  }

  private committed(half: MessageRecord, halfPhy: number): PutMessageInput {
    const props = decodeProperties(half.properties);
    const topic = props.get(Prop.REAL_TOPIC) ?? half.topic;
    const queueId = Number(props.get(Prop.REAL_QID) ?? 0);
    props.delete(Prop.REAL_TOPIC);
    props.delete(Prop.REAL_QID);
    props.delete(Prop.TRANSACTION_CHECK_TIMES);
    return {
      topic,
      queueId,
      body: Buffer.from(half.body),
      properties: encodeProperties(props),
      flag: half.flag,
      sysFlag: (half.sysFlag & ~SysFlag.TRANSACTION_MASK) | SysFlag.TRANSACTION_COMMIT,
      bornTimestamp: half.bornTimestamp,
      bornHost: half.bornHost,
      reconsumeTimes: half.reconsumeTimes,
      preparedTransactionOffset: halfPhy,
    };
  }

  private readHalf(phy: number): MessageRecord | undefined {
    const raw = this.store.readAt(phy);
    if (!raw) return undefined;
    const rec = decodeRecord(raw);
    return rec.topic === HALF ? rec : undefined;
  }

  private async writeOp(body: string): Promise<void> {
    await this.store.putMessage({
      topic: OP,
      queueId: 0,
      body: Buffer.from(body),
      properties: encodeProperties({ TAGS: "d" }),
    });
  }

  /** Rebuilds the unresolved set from the half and op queues. */
  private recover(): void {
    for (let off = this.store.getMinOffset(OP, 0); ;) {
      const r = this.store.getMessages(OP, 0, off, 256);
      if (r.status !== "FOUND") break;
      for (const m of r.messages) this.applyOp(decodeRecord(m).body.toString());
      off = r.nextBeginOffset;
    }
    this.halfReadOffset = this.store.getMinOffset(HALF, 0);
    this.catchUp();
    for (const [off, p] of this.checkCounts) {
      const pend = this.pending.get(off);
      if (pend) {
        pend.checks = Math.max(pend.checks, p);
        pend.nextCheckAt = Date.now() + this.options.checkIntervalMs;
      }
    }
    this.checkCounts.clear();
  }

  private readonly checkCounts = new Map<number, number>();

  private applyOp(op: string): void {
    const [kind, offStr, n] = op.split(" ");
    const off = Number(offStr);
    if (!Number.isInteger(off)) return;
    if (kind === "commit" || kind === "rollback" || kind === "discard") {
      this.remember(off, kind);
      this.pending.delete(off);
    } else if (kind === "check") {
      this.checkCounts.set(off, Math.max(this.checkCounts.get(off) ?? 0, Number(n) || 0));
    }
  }

  /** Tracks half messages stored since the last look (the broker stores them; this reads them back). */
  private catchUp(): void {
    for (;;) {
      const r = this.store.getMessages(HALF, 0, this.halfReadOffset, 256);
      if (r.status !== "FOUND") {
        if (r.status === "OFFSET_TOO_SMALL") {
          this.halfReadOffset = r.nextBeginOffset;
          continue;
        }
        return;
      }
      for (let i = 0; i < r.messages.length; i++) {
        const rec = decodeRecord(r.messages[i]!);
        this.tracked(
          r.offsets[i]!,
          rec.physicalOffset,
          r.messages[i]!.length,
          rec.properties,
          rec.storeTimestamp,
        );
      }
      this.halfReadOffset = r.nextBeginOffset;
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.check().finally(() => (this.running = undefined));
    }, this.options.tickMs);
    this.timer.unref();
  }

  /** One checker round: asks producers about due transactions, discards the ones checked too often. */
  async check(now = Date.now()): Promise<void> {
    this.catchUp();
    for (const [off, p] of this.pending) {
      if (p.nextCheckAt > now || p.group === PULL_CHECK_GROUP) continue;
      if (p.checks >= this.options.maxChecks) {
        await this.discard(off, p);
        continue;
      }
      const channels = [...(this.clients.producers.get(p.group)?.values() ?? [])].filter(
        (c) => c.channel.checkTransactionState,
      );
      if (channels.length === 0) {
        // No producer of the group is online: ask again later without spending one of its checks.
        p.nextCheckAt = now + this.options.checkIntervalMs;
        continue;
      }
      const half = this.readHalf(p.phy);
      if (!half) {
        this.pending.delete(off);
        continue;
      }
      const props = decodeProperties(half.properties);
      const asSent = this.asSent(half);
      const target = channels[Math.floor(Math.random() * channels.length)]!;
      p.checks++;
      p.nextCheckAt = now + this.options.checkIntervalMs;
      await this.writeOp(`check ${off} ${p.checks}`);
      target.channel.checkTransactionState!({
        producerGroup: p.group,
        halfQueueOffset: off,
        commitLogOffset: p.phy,
        transactionId: props.get(TRANSACTION_ID) || props.get(Prop.UNIQ_KEY) || "",
        msgId: props.get(Prop.UNIQ_KEY) ?? "",
        offsetMsgId: createOffsetMsgId(half.storeHost, p.phy),
        record: encodeMessageRecord(asSent),
      });
      this.onEvent?.({ type: "check", halfQueueOffset: off, detail: String(p.checks) });
    }
  }

  /**
   * For producers that pull their checks: up to `max` unresolved half messages of `topic` whose check is due.
   * Each counts as a check and is due again `intervalMs` later unless it is resolved first.
   */
  async pullDue(topic: string, max: number, intervalMs: number, now = Date.now()): Promise<DueTransaction[]> {
    this.catchUp();
    const out: DueTransaction[] = [];
    for (const [off, p] of this.pending) {
      if (out.length >= max) break;
      if (p.topic !== topic || p.group !== PULL_CHECK_GROUP || p.nextCheckAt > now) continue;
      if (p.checks >= this.options.maxPullChecks) {
        await this.discard(off, p);
        continue;
      }
      const half = this.readHalf(p.phy);
      if (!half) {
        this.pending.delete(off);
        continue;
      }
      p.checks++;
      p.nextCheckAt = now + intervalMs;
      await this.writeOp(`check ${off} ${p.checks}`);
      out.push({ halfQueueOffset: off, commitLogOffset: p.phy, checks: p.checks, record: this.asSent(half) });
    }
    return out;
  }

  /** A half message with the topic and queue its producer sent it to. */
  private asSent(half: MessageRecord): MessageRecord {
    const props = decodeProperties(half.properties);
    return {
      ...half,
      topic: props.get(Prop.REAL_TOPIC) ?? half.topic,
      queueId: Number(props.get(Prop.REAL_QID) ?? 0),
    };
  }

  private async discard(off: number, p: Pending): Promise<void> {
    const half = this.readHalf(p.phy);
    if (half) {
      await this.store.putMessage({
        topic: SystemTopic.TRANS_CHECK_MAX_TIME,
        queueId: 0,
        body: Buffer.from(half.body),
        properties: half.properties,
        flag: half.flag,
        bornTimestamp: half.bornTimestamp,
        bornHost: half.bornHost,
      });
    }
    await this.writeOp(`discard ${off}`);
    this.remember(off, "discard");
    this.pending.delete(off);
    this.onEvent?.({ type: "discard", halfQueueOffset: off, detail: `after ${p.checks} checks` });
  }

  /**
   * Outcomes are remembered so a repeated or contradicting END_TRANSACTION gets the right answer; the oldest are
   * forgotten past a bound so the map cannot grow without limit.
   */
  private remember(off: number, outcome: TransactionResolution | "discard"): void {
    this.resolved.set(off, outcome);
    if (this.resolved.size > 1_000_000) this.resolved.delete(this.resolved.keys().next().value as number);
  }

  /** Unresolved transactions (for stats). */
  get unresolved(): number {
    return this.pending.size;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
