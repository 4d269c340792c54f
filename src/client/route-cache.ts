// Topic routes from the NameServers (RocketMQ MQClientInstance.updateTopicRouteInfoFromNameServer). One
// NameServer, picked at random, is used until a call to it fails; then the next ones are tried in turn. A route
// the NameServers no longer know is kept (as Java does), so a broker restart does not empty the route table.
// Queues are listed sorted by broker name then queue id: the order sharding-key hashing and rebalancing use.
import type { RemotingClient } from "../protocol/remoting/client.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import type { TopicRouteData } from "../protocol/remoting/namesrv/body-codec.js";
import { getRouteInfoByTopic } from "../protocol/remoting/namesrv/namesrv-client.js";
import { MQClientError, errorMessage } from "./errors.js";

/** PermName bits. */
const PERM_READ = 4;
const PERM_WRITE = 2;
const PERM_INHERIT = 1;
const MASTER_ID = "0";
/**
 * Queues used on TBW102's route for an unknown topic, and asked of the broker that creates it on the first send:
 * 4, as Java's DefaultMQProducer.defaultTopicQueueNums and ali-ons. One value for every client, so that a topic
 * created by one client's first send has the route the NameServer guessed for all of them (see the NameServer's
 * autoCreateQueueNums): a consumer that subscribed first polls only queues that will exist.
 */
export const DEFAULT_TOPIC_QUEUE_NUMS = 4;
export const DEFAULT_TOPIC = "TBW102";

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

export function mqKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

interface TopicInfo {
  route: TopicRouteData;
  /** Writable queues on brokers with a master, sorted. */
  publish: MessageQueue[];
  /** Readable queues, sorted. */
  subscribe: MessageQueue[];
  /** Built from TBW102 because the topic itself has no route yet. */
  fromDefault: boolean;
  storedAt: number;
}

function sameRoute(a: TopicRouteData, b: TopicRouteData): boolean {
  const norm = (r: TopicRouteData) =>
    JSON.stringify({
      q: [...r.queueDatas].sort((x, y) => (x.brokerName < y.brokerName ? -1 : 1)),
      b: [...r.brokerDatas]
        .sort((x, y) => (x.brokerName < y.brokerName ? -1 : 1))
        .map((d) => [d.brokerName, Object.entries(d.brokerAddrs).sort()]),
    });
  return norm(a) === norm(b);
}

export class RouteCache {
  private readonly namesrvs: string[];
  private current: number;
  private readonly topics = new Map<string, TopicInfo>();
  /** brokerName → brokerId → address, merged from every route seen. */
  private readonly brokers = new Map<string, Record<string, string>>();
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(
    private readonly remoting: RemotingClient,
    namesrvs: string[],
    private readonly timeoutMs: number,
    private readonly logger: RemotingLogger,
    private readonly onRouteChanged: (topic: string) => void = () => {},
  ) {
    this.namesrvs = namesrvs;
    this.current = Math.floor(Math.random() * namesrvs.length);
  }

  get nameServers(): readonly string[] {
    return this.namesrvs;
  }

  /** The NameServer in use now. */
  get currentNameServer(): string {
    return this.namesrvs[this.current]!;
  }

  knownTopics(): string[] {
    return [...this.topics.keys()];
  }

  /**
   * Asks the NameServers for `topic`'s route, trying each once starting at the current one. Resolves true when
   * the stored route changed. Rejects (NO_NAMESERVER) only when no NameServer answered at all; a topic the
   * NameServer does not know resolves false.
   */
  update(topic: string): Promise<boolean> {
    let p = this.inflight.get(topic);
    if (!p) {
      p = this.fetch(topic).finally(() => this.inflight.delete(topic));
      this.inflight.set(topic, p);
    }
    return p;
  }

  private async fetch(topic: string): Promise<boolean> {
    const route = await this.lookup(topic);
    if (route === undefined) return false;
    return this.store(topic, route, false);
  }

  /** The route from the first NameServer that answers; undefined when it has none. */
  async lookup(topic: string): Promise<TopicRouteData | undefined> {
    let lastErr: unknown;
    for (let i = 0; i < this.namesrvs.length; i++) {
      const idx = (this.current + i) % this.namesrvs.length;
      const addr = this.namesrvs[idx]!;
      try {
        const route = await getRouteInfoByTopic(this.remoting, addr, topic, this.timeoutMs);
        if (idx !== this.current) {
          this.logger.info({ from: this.currentNameServer, to: addr }, "switched NameServer");
          this.current = idx;
        }
        return route;
      } catch (e) {
        lastErr = e;
        this.logger.warn({ namesrv: addr, topic, err: errorMessage(e) }, "route lookup failed");
      }
    }
    throw new MQClientError(
      "NO_NAMESERVER",
      `no NameServer answered for topic ${topic}: ${errorMessage(lastErr)}`,
      {
        cause: lastErr,
      },
    );
  }

  private store(topic: string, route: TopicRouteData, fromDefault: boolean): boolean {
    for (const bd of route.brokerDatas) this.brokers.set(bd.brokerName, { ...bd.brokerAddrs });
    const old = this.topics.get(topic);
    if (old && !old.fromDefault && sameRoute(old.route, route)) return false;
    const masters = new Set(
      route.brokerDatas.filter((b) => b.brokerAddrs[MASTER_ID]).map((b) => b.brokerName),
    );
    const publish: MessageQueue[] = [];
    const subscribe: MessageQueue[] = [];
    for (const qd of route.queueDatas) {
      if (qd.perm & PERM_WRITE && masters.has(qd.brokerName)) {
        for (let q = 0; q < qd.writeQueueNums; q++)
          publish.push({ topic, brokerName: qd.brokerName, queueId: q });
      }
      if (qd.perm & PERM_READ) {
        for (let q = 0; q < qd.readQueueNums; q++)
          subscribe.push({ topic, brokerName: qd.brokerName, queueId: q });
      }
    }
    publish.sort(compareQueues);
    subscribe.sort(compareQueues);
    this.topics.set(topic, { route, publish, subscribe, fromDefault, storedAt: Date.now() });
    if (!fromDefault) this.onRouteChanged(topic);
    return true;
  }

  /**
   * Writable queues for `topic`, fetching the route when it is not known. Like the Java producer, a topic with
   * no route is sent to on TBW102's brokers (those whose TBW102 carries INHERIT), 4 queues each; the broker
   * creates the topic on that first send.
   */
  /** The writable queues of `topic` when the cache can answer without asking a NameServer. */
  cachedPublishQueues(topic: string): MessageQueue[] | undefined {
    const info = this.topics.get(topic);
    // A route borrowed from TBW102 is replaced by the topic's own once the broker registers it; ask again
    // at most once a second meanwhile.
    if (!info || info.publish.length === 0 || (info.fromDefault && Date.now() - info.storedAt > 1000))
      return undefined;
    return info.publish;
  }

  async publishQueues(topic: string): Promise<MessageQueue[]> {
    const cached = this.cachedPublishQueues(topic);
    if (cached !== undefined) return cached;
    let info = this.topics.get(topic);
    try {
      await this.update(topic);
    } catch (e) {
      if (!info || info.publish.length === 0) throw e;
    }
    info = this.topics.get(topic);
    if ((!info || info.publish.length === 0) && topic !== DEFAULT_TOPIC) {
      const def = await this.lookup(DEFAULT_TOPIC);
      if (def) {
        const queueDatas = def.queueDatas
          .filter((q) => q.perm & PERM_INHERIT)
          .map((q) => ({
            ...q,
            readQueueNums: Math.min(q.readQueueNums, DEFAULT_TOPIC_QUEUE_NUMS),
            writeQueueNums: Math.min(q.writeQueueNums, DEFAULT_TOPIC_QUEUE_NUMS),
            perm: PERM_READ | PERM_WRITE,
          }));
        if (queueDatas.length > 0) this.store(topic, { ...def, queueDatas }, true);
        info = this.topics.get(topic);
      }
    }
    if (!info || info.publish.length === 0) {
      throw new MQClientError("NO_ROUTE", `no route to a writable queue of topic ${topic}`);
    }
    return info.publish;
  }

  /** Readable queues known for `topic` (undefined when no route has been seen). */
  subscribeQueues(topic: string): MessageQueue[] | undefined {
    const info = this.topics.get(topic);
    return info && !info.fromDefault ? info.subscribe : undefined;
  }

  /** The master's address of a broker group. */
  masterAddress(brokerName: string): string | undefined {
    return this.brokers.get(brokerName)?.[MASTER_ID];
  }

  /**
   * Where a broker group's consumer offsets are read and committed: its master, else (the master gone from the
   * route) a slave, which keeps them until the master is back (RocketMQ's findBrokerAddressInAdmin).
   */
  adminAddress(brokerName: string): string | undefined {
    return this.pullAddress(brokerName, 0);
  }

  /** The broker a pull should go to: the suggested id, else the master, else any. */
  pullAddress(brokerName: string, suggestedId: number): string | undefined {
    const addrs = this.brokers.get(brokerName);
    if (!addrs) return undefined;
    return addrs[String(suggestedId)] ?? addrs[MASTER_ID] ?? Object.values(addrs)[0];
  }

  /** Some broker serving `topic` (a master when there is one): where group-wide questions go. */
  anyBrokerFor(topic: string): string | undefined {
    const info = this.topics.get(topic);
    if (!info) return undefined;
    const names = info.route.brokerDatas.map((b) => b.brokerName);
    if (names.length === 0) return undefined;
    const start = Math.floor(Math.random() * names.length);
    for (let i = 0; i < names.length; i++) {
      const addr = this.pullAddress(names[(start + i) % names.length]!, 0);
      if (addr) return addr;
    }
    return undefined;
  }

  /** Every broker address seen, with whether it is a master. */
  allBrokers(): { brokerName: string; addr: string; master: boolean }[] {
    const out: { brokerName: string; addr: string; master: boolean }[] = [];
    for (const [brokerName, addrs] of this.brokers) {
      for (const [id, addr] of Object.entries(addrs))
        out.push({ brokerName, addr, master: id === MASTER_ID });
    }
    return out;
  }
}
