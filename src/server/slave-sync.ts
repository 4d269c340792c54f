// A slave's copy of its master's metadata (RocketMQ's SlaveSynchronize): topics, subscription groups and consumer
// offsets, fetched over remoting (GET_ALL_TOPIC_CONFIG, GET_ALL_SUBSCRIPTIONGROUP_CONFIG, GET_ALL_CONSUMER_OFFSET)
// when the master becomes known and every slaveSyncIntervalMs after. The commit log itself comes over the HA
// connection (src/protocol/ha). A failed round is logged and retried on the next.
import type { Broker } from "../broker/broker.js";
import type { GroupConfig } from "../broker/group-manager.js";
import type { TopicConfig } from "../common/topic.js";
import type { RemotingClient } from "../protocol/remoting/client.js";
import { createRequest } from "../protocol/remoting/command.js";
import type { RemotingLogger } from "../protocol/remoting/logger.js";
import {
  parseJsonBody,
  topicConfigFromJson,
  dataVersionFromJson,
} from "../protocol/remoting/namesrv/body-codec.js";
import { RequestCode } from "../protocol/remoting/request-code.js";
import { ResponseCode } from "../protocol/remoting/response-code.js";

export class SlaveSync {
  private masterAddr: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly client: RemotingClient,
    private readonly logger: RemotingLogger,
  ) {}

  /** The master's remoting address; a new one is synchronised with at once. */
  setMasterAddress(addr: string | undefined): void {
    if (addr === this.masterAddr) return;
    this.masterAddr = addr;
    if (addr) void this.syncNow();
  }

  start(): void {
    this.timer = setInterval(() => void this.syncNow(), this.broker.config.slaveSyncIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One round (or the one under way). */
  syncNow(): Promise<void> {
    this.running ??= this.syncOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async syncOnce(): Promise<void> {
    const addr = this.masterAddr;
    if (!addr || addr === this.broker.address) return;
    try {
      const topics = (await this.fetch(addr, RequestCode.GET_ALL_TOPIC_CONFIG)) as {
        topicConfigTable?: Record<string, unknown>;
        dataVersion?: unknown;
      };
      const table: Record<string, TopicConfig> = {};
      for (const [name, tc] of Object.entries(topics.topicConfigTable ?? {})) {
        table[name] = topicConfigFromJson(tc, `topicConfigTable.${name}`, name);
      }
      const groups = (await this.fetch(addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)) as {
        subscriptionGroupTable?: Record<string, GroupConfig>;
      };
      const offsets = (await this.fetch(addr, RequestCode.GET_ALL_CONSUMER_OFFSET)) as {
        offsetTable?: Record<string, Record<string, number>>;
      };
      this.broker.applyMasterMetadata({
        topics: { table, dataVersion: dataVersionFromJson(topics.dataVersion) },
        groups: groups.subscriptionGroupTable ?? {},
        offsets: offsets.offsetTable ?? {},
      });
    } catch (e) {
      this.logger.warn({ master: addr, err: (e as Error).message }, "slave sync with the master failed");
    }
  }

  private async fetch(addr: string, code: number): Promise<unknown> {
    const res = await this.client.invoke(addr, createRequest(code, {}), 5000);
    if (res.code !== ResponseCode.SUCCESS) {
      throw new Error(`request ${code} answered ${res.code}: ${res.remark ?? ""}`);
    }
    return parseJsonBody(res.body, `answer to request ${code}`) ?? {};
  }
}
