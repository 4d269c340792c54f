// The broker's topics: created by admins, auto-created on first use when allowed, persisted to
// config/topics.json. Every change bumps the data version so the NameServer registration is refreshed.
import { BrokerError } from "../common/errors.js";
import { Perm, SystemTopic, topicConfig, topicNameProblem } from "../common/topic.js";
import type { TopicConfig } from "../common/topic.js";
import type { FileIO } from "../store/file-io.js";
import { JsonFile } from "./json-file.js";

export interface DataVersion {
  timestamp: number;
  counter: number;
}

interface TopicsFile {
  topicConfigTable: Record<string, TopicConfig>;
  dataVersion: DataVersion;
}

export class TopicManager {
  private readonly topics = new Map<string, TopicConfig>();
  private readonly file: JsonFile<TopicsFile>;
  dataVersion: DataVersion = { timestamp: Date.now(), counter: 0 };
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    io: FileIO,
    configDir: string,
    private autoCreate: boolean,
    private defaultQueueNums: number,
  ) {
    this.file = new JsonFile(io, configDir, "topics.json");
    const saved = this.file.read();
    if (saved) {
      for (const [name, tc] of Object.entries(saved.topicConfigTable))
        this.topics.set(name, { ...topicConfig(name, 1), ...tc });
      this.dataVersion = saved.dataVersion ?? this.dataVersion;
    }
    // TBW102 with INHERIT tells NameServers (and Java clients) that this broker creates topics on first use.
    const tbwPerm = autoCreate ? Perm.READ_WRITE | Perm.INHERIT : Perm.READ_WRITE;
    this.ensure(topicConfig(SystemTopic.DEFAULT, defaultQueueNums, tbwPerm), true);
    this.ensure(topicConfig(SystemTopic.SCHEDULE, 18), false);
    this.ensure(topicConfig(SystemTopic.TRANS_HALF, 1), false);
    this.ensure(topicConfig(SystemTopic.TRANS_OP_HALF, 1), false);
    this.ensure(topicConfig(SystemTopic.TRACE, 1), false);
  }

  private ensure(tc: TopicConfig, overwritePerm: boolean): void {
    const cur = this.topics.get(tc.topicName);
    if (!cur) this.topics.set(tc.topicName, tc);
    else if (overwritePerm && cur.perm !== tc.perm) {
      cur.perm = tc.perm;
      // A saved table whose TBW102 perm changed (autoCreate turned on or off between runs) is a new version, or
      // a NameServer that still holds the old one would keep the old perm (see RouteRegistry.registerBroker).
      this.dataVersion = { timestamp: Date.now(), counter: this.dataVersion.counter + 1 };
    }
  }

  /**
   * Turns creation on first use on or off at runtime (admin UPDATE_BROKER_CONFIG). TBW102's INHERIT bit follows,
   * as at start-up, and the change bumps the data version so the NameServers learn it.
   */
  setAutoCreate(on: boolean): void {
    this.autoCreate = on;
    const tbw = this.topics.get(SystemTopic.DEFAULT);
    const perm = on ? Perm.READ_WRITE | Perm.INHERIT : Perm.READ_WRITE;
    if (tbw && tbw.perm !== perm) {
      tbw.perm = perm;
      this.changed();
    }
  }

  /** Queues of a topic auto-created from now on (TBW102 keeps the count it was made with, as in RocketMQ). */
  setDefaultQueueNums(n: number): void {
    this.defaultQueueNums = n;
  }

  onChange(l: () => void): void {
    this.changeListeners.push(l);
  }

  get(topic: string): TopicConfig | undefined {
    return this.topics.get(topic);
  }

  all(): TopicConfig[] {
    return [...this.topics.values()];
  }

  /** The topic, created with the default queue count when auto-creation is on; otherwise TOPIC_NOT_EXIST. */
  getOrCreate(topic: string, queueNums = this.defaultQueueNums, perm: number = Perm.READ_WRITE): TopicConfig {
    const cur = this.topics.get(topic);
    if (cur) return cur;
    if (!this.autoCreate)
      throw new BrokerError("TOPIC_NOT_EXIST", `topic ${topic} does not exist on this broker`);
    return this.createOrUpdate(topicConfig(topic, queueNums, perm));
  }

  /** Creates a topic the broker itself needs (retry and dead-letter topics), whatever autoCreate says. */
  getOrCreateSystem(topic: string, queueNums: number, perm: number = Perm.READ_WRITE): TopicConfig {
    return this.topics.get(topic) ?? this.createOrUpdate(topicConfig(topic, queueNums, perm));
  }

  createOrUpdate(tc: TopicConfig): TopicConfig {
    const problem = topicNameProblem(tc.topicName);
    if (problem) throw new BrokerError("ILLEGAL_TOPIC", problem);
    if (!(
      tc.readQueueNums >= 1 &&
      tc.writeQueueNums >= 1 &&
      tc.readQueueNums <= 1024 &&
      tc.writeQueueNums <= 1024
    )) {
      throw new BrokerError("BAD_REQUEST", "queue numbers must be between 1 and 1024");
    }
    this.topics.set(tc.topicName, tc);
    this.changed();
    return tc;
  }

  delete(topic: string): boolean {
    const had = this.topics.delete(topic);
    if (had) this.changed();
    return had;
  }

  /**
   * A slave takes its master's table whole (RocketMQ's SlaveSynchronize), when its data version differs from the
   * one last taken. Returns whether anything was replaced.
   */
  replaceAll(table: Record<string, TopicConfig>, dataVersion: DataVersion): boolean {
    const v = this.dataVersion;
    if (v.timestamp === dataVersion.timestamp && v.counter === dataVersion.counter) return false;
    this.topics.clear();
    for (const [name, tc] of Object.entries(table)) this.topics.set(name, { ...topicConfig(name, 1), ...tc });
    this.dataVersion = { timestamp: dataVersion.timestamp, counter: dataVersion.counter };
    this.persist();
    for (const l of this.changeListeners) l();
    return true;
  }

  private changed(): void {
    this.dataVersion = { timestamp: Date.now(), counter: this.dataVersion.counter + 1 };
    this.persist();
    for (const l of this.changeListeners) l();
  }

  persist(): void {
    this.file.write({ topicConfigTable: Object.fromEntries(this.topics), dataVersion: this.dataVersion });
  }
}
