// One client's Telemetry stream and what the broker knows through it. The stream is the only way the broker can
// reach a gRPC client, so the session is that client's ClientChannel: producers are registered under the gRPC
// producer group of each topic they publish to (from Settings.publishing.topics and from their sends), and a
// transaction check for such a group is written to the stream as recover_orphaned_transaction_command.
// Consumers are registered under their group with their subscriptions. Heartbeats refresh the registrations;
// the end of the stream drops them.
import type { Broker } from "../../broker/broker.js";
import type { ClientChannel, ConsumerHeartbeat } from "../../broker/client-manager.js";
import { buildSubscription } from "../../broker/subscription.js";
import type { TransactionCheck } from "../../broker/transaction-service.js";
import { decodeRecord } from "../../common/message-record.js";
import { encodeDeliveredMessage } from "./message-codec.js";
import { groupOf, topicOf } from "./request-fields.js";
import { encodeTransactionId, producerGroupOfTopic } from "./transaction-ids.js";
import type { Settings, TelemetryCommand } from "./wire-types.js";

let seq = 0;

export class TelemetrySession {
  readonly channel: ClientChannel;
  private readonly producerTopics = new Set<string>();
  private consumer: ConsumerHeartbeat | undefined;
  private closed = false;
  /** What the client's Settings said it is (PRODUCER, PUSH_CONSUMER, LITE_PUSH_CONSUMER, ...). */
  clientType: string | undefined;
  /** Last Settings or Heartbeat from the client (they come every 10 s), ms since the epoch. */
  seenAt = Date.now();

  constructor(
    readonly clientId: string,
    peer: string,
    private readonly broker: Broker,
    private readonly stream: { write(cmd: TelemetryCommand): void; end(): void },
  ) {
    this.channel = {
      id: `grpc-${++seq}-${clientId}`,
      remoteAddress: peer,
      checkTransactionState: (c) => this.checkTransaction(c),
    };
  }

  write(cmd: TelemetryCommand): void {
    if (!this.closed) this.stream.write(cmd);
  }

  /** Registers what the client's Settings say it is; throws (nothing registered) on a bad group or filter. */
  applySettings(s: Settings): void {
    this.seenAt = Date.now();
    if (s.clientType) this.clientType = s.clientType;
    if (s.subscription) {
      const groupName = groupOf(s.subscription.group);
      const subscriptions = (s.subscription.subscriptions ?? []).map((e) => {
        const topic = topicOf(e.topic);
        const type = e.expression?.type === "SQL" ? "SQL92" : "TAG";
        return buildSubscription(topic, e.expression?.expression ?? "*", type);
      });
      const consumer: ConsumerHeartbeat = {
        groupName,
        consumeType: "CONSUME_POP",
        messageModel: "CLUSTERING",
        subscriptions,
      };
      this.heartbeat([], [consumer]);
      this.consumer = consumer;
    }
    for (const t of s.publishing?.topics ?? []) this.addProducerTopic(topicOf(t));
  }

  /** The client publishes to `topic`: it may be asked about that topic's transactions. */
  addProducerTopic(topic: string): void {
    if (this.closed || this.producerTopics.has(topic)) return;
    this.producerTopics.add(topic);
    this.heartbeat([producerGroupOfTopic(topic)], []);
  }

  /** A Heartbeat RPC: keeps every registration alive. */
  refresh(): void {
    if (this.closed) return;
    this.seenAt = Date.now();
    this.heartbeat([...this.producerTopics].map(producerGroupOfTopic), this.consumer ? [this.consumer] : []);
  }

  private heartbeat(producerGroups: string[], consumers: ConsumerHeartbeat[]): void {
    this.broker.heartbeat(this.channel, {
      clientId: this.clientId,
      language: "HTTP",
      producerGroups,
      consumers,
    });
  }

  private checkTransaction(c: TransactionCheck): void {
    const rec = decodeRecord(c.record);
    this.write({
      recoverOrphanedTransactionCommand: {
        message: encodeDeliveredMessage(rec, { queueId: rec.queueId, queueOffset: rec.queueOffset }),
        transactionId: encodeTransactionId(c),
      },
    });
  }

  /** Drops the client's registrations; `endStream` also finishes the call (the broker is stopping). */
  close(endStream = false): void {
    if (this.closed) return;
    this.closed = true;
    this.broker.channelClosed(this.channel.id);
    if (endStream) this.stream.end();
  }
}

/** Live sessions by x-mq-client-id (a reconnecting client replaces its old session). */
export class SessionRegistry {
  private readonly sessions = new Map<string, TelemetrySession>();

  /** `onGone`: a client left for good (what the broker keeps for it alone can go). */
  constructor(private readonly onGone: (clientId: string) => void = () => undefined) {}

  add(s: TelemetrySession): void {
    const old = this.sessions.get(s.clientId);
    this.sessions.set(s.clientId, s);
    if (old && old !== s) old.close();
  }

  /** The client said goodbye (NotifyClientTermination), with or without a telemetry stream. */
  gone(clientId: string): void {
    const s = this.sessions.get(clientId);
    if (s) this.remove(s);
    else this.onGone(clientId);
  }

  get(clientId: string | undefined): TelemetrySession | undefined {
    return clientId === undefined ? undefined : this.sessions.get(clientId);
  }

  /** The client is gone for good (its stream ended or it said goodbye), unless it has reconnected meanwhile. */
  remove(s: TelemetrySession): void {
    if (this.sessions.get(s.clientId) === s) {
      this.sessions.delete(s.clientId);
      this.onGone(s.clientId);
    }
    s.close();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Ends every stream (server shutdown); clients reconnect on their own. */
  closeAll(): void {
    for (const s of this.sessions.values()) s.close(true);
    this.sessions.clear();
  }
}
