// Auto-renewal of invisible time. Push consumers (plain, FIFO and lite) receive with auto_renew and no
// invisible_duration, then keep messages in a local cache and retry failures locally with backoff, for minutes
// when a FIFO or lite message keeps failing. Were the message to become visible meanwhile, it would be handed out
// again while the first copy is still being worked on. So, as RocketMQ's proxy does, the endpoint keeps such a
// message invisible, a slice at a time, for as long as the client that holds it is connected, until it is acked,
// its invisible time is changed by the client, it is dead-lettered, or `maxMs` have passed since it was received.
// A client with a telemetry stream that stops heartbeating (they do every 10 s) for `silentMs` counts as gone.
import type { Broker } from "../../broker/broker.js";
import { isBrokerError } from "../../common/errors.js";

export interface RenewalOptions {
  /** The invisible time of an auto-renewed receive, and of each renewal. */
  sliceMs: number;
  /** Renew once the invisible time left is this short. */
  aheadMs: number;
  /** Stop renewing this long after the receive (the message then comes back as usual). */
  maxMs: number;
  /** How often held messages are looked at. */
  tickMs: number;
  /** A client with a telemetry stream and no heartbeat for this long counts as gone. */
  silentMs: number;
}

export const DEFAULT_RENEWAL: RenewalOptions = {
  sliceMs: 30_000,
  aheadMs: 10_000,
  maxMs: 3 * 3600_000,
  tickMs: 1000,
  silentMs: 60_000,
};

interface Held {
  clientId: string;
  group: string;
  topic: string;
  handle: string;
  deadline: number;
  until: number;
}

export class ReceiptRenewals {
  private readonly held = new Map<string, Held>();
  private readonly timer: NodeJS.Timeout;
  private busy = false;

  /**
   * `lastSeen`: when the client last showed signs of life (undefined: it has no telemetry stream to judge by). A
   * connection can die without the server noticing (no reset, no keepalive); a client silent for `silentMs` has
   * its messages come back rather than held for hours.
   */
  constructor(
    private readonly broker: Broker,
    readonly options: RenewalOptions = DEFAULT_RENEWAL,
    private readonly lastSeen: (clientId: string) => number | undefined = () => undefined,
  ) {
    this.timer = setInterval(() => void this.tick(), options.tickMs);
    this.timer.unref();
  }

  /** A message handed to `clientId` under `handle`, invisible until `deadline`. */
  track(
    clientId: string,
    group: string,
    topic: string,
    handle: string,
    deadline: number,
    now = Date.now(),
  ): void {
    this.held.set(handle, { clientId, group, topic, handle, deadline, until: now + this.options.maxMs });
  }

  /** The client settled the message (ack, change, dead letter): no more renewals. */
  settled(handle: string): void {
    this.held.delete(handle);
  }

  /** The client is gone: what it held comes back when its current slice ends. */
  dropClient(clientId: string): void {
    for (const [h, e] of this.held) if (e.clientId === clientId) this.held.delete(h);
  }

  get size(): number {
    return this.held.size;
  }

  private async tick(now = Date.now()): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const due: Held[] = [];
      for (const e of this.held.values()) {
        if (e.deadline - now > this.options.aheadMs) continue;
        const seen = this.lastSeen(e.clientId);
        if (now >= e.until || (seen !== undefined && now - seen >= this.options.silentMs))
          this.held.delete(e.handle);
        else due.push(e);
      }
      for (const e of due) {
        const ms = Math.min(this.options.sliceMs, e.until - now);
        try {
          await this.broker.renewInvisible(e.group, e.topic, e.handle, ms);
          e.deadline = now + ms;
        } catch (err) {
          // Settled meanwhile (or already handed out again): nothing left to keep.
          if (isBrokerError(err, "INVALID_RECEIPT_HANDLE") || this.held.get(e.handle) !== e)
            this.held.delete(e.handle);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.held.clear();
  }
}
