// One adapter per measured system: its usual Node client, its durable setting, and the few operations the
// workloads need (create a destination with n queues, publish to queue i and wait for the ack, consume queue i
// and ack, delete). A "destination" is a name unique to one case: a RocketMQ topic, a JetStream stream with one
// subject per queue, one Redis stream per queue, one RabbitMQ quorum queue per queue.
import amqp from "amqplib";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { Redis } from "ioredis";
import { AckPolicy, StorageType, connect as natsConnect } from "nats";
import type { NatsConnection } from "nats";
import { Action, Consumer, Message, MessageModel, Producer } from "../../src/client/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawNatsPublisher } from "./nats-raw.js";
import { log } from "./procs.js";
import type { Server } from "./servers.js";

export type Durability = "page-cache" | "fsync";

export interface Publisher {
  /** Resolves when the system has acknowledged the message (durable by its setting). */
  publish(queue: number, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface Subscription {
  close(): Promise<void>;
  /** A consumer that shares its group's queues: whether the rebalance has given it any yet. */
  assigned?(): boolean;
}

export interface System {
  id: string;
  /** The server and its durable setting, as printed. */
  label: string;
  client: string;
  durability: Durability;
  server: Server;
  /** Queues per destination a single consumer reads (RocketMQ topics use their usual 8 queues). */
  singleQueues: number;
  create(name: string, queues: number): Promise<void>;
  publisher(name: string): Promise<Publisher>;
  /** Consumes queue `queue` of `name` from its start (ours: the whole topic, shared by `group`), acking each. */
  subscribe(
    name: string,
    queue: number,
    group: string,
    onMsg: (body: Uint8Array) => void,
  ): Promise<Subscription>;
  drop(name: string, queues: number): Promise<void>;
  /** Closes the adapter's own admin connection, if it has one. */
  close?(): Promise<void>;
}

const HOST = "127.0.0.1";

// ---- Redis Streams (ioredis) ------------------------------------------------------------------------------

export function redisSystem(server: Server, fsync: "everysec" | "always", version: string): System {
  const key = (name: string, q: number): string => `${name}:${q}`;
  const conn = (): Redis => {
    const r = new Redis({ host: HOST, port: server.port, maxRetriesPerRequest: 1 });
    r.on("error", () => {}); // a failed command rejects its promise; no second report (e.g. after Ctrl-C)
    return r;
  };
  return {
    id: `redis-${fsync}`,
    label: `Redis ${version} Streams, AOF appendfsync ${fsync}`,
    client: "ioredis",
    durability: fsync === "always" ? "fsync" : "page-cache",
    server,
    singleQueues: 1,
    async create() {},
    async publisher(name) {
      const r = conn();
      return {
        publish: async (q, body) => {
          await r.xadd(key(name, q), "*", "d", body);
        },
        close: async () => {
          r.disconnect();
        },
      };
    },
    async subscribe(name, queue, group, onMsg) {
      const r = conn();
      const k = key(name, queue);
      await r.xgroup("CREATE", k, group, "0", "MKSTREAM");
      let running = true;
      const loop = (async () => {
        while (running) {
          const res = (await r.callBuffer("XREADGROUP", [
            "GROUP",
            group,
            "c",
            "COUNT",
            1000,
            "BLOCK",
            100,
            "STREAMS",
            k,
            ">",
          ])) as unknown[] | null;
          if (!res || res.length === 0) continue;
          // [[key, entries]] from Redis; ioredis 6 hands a single stream's reply back as [key, entries].
          const one = (Buffer.isBuffer(res[0]) ? res : res[0]) as [Buffer, [Buffer, Buffer[]][]];
          const entries = one[1] ?? [];
          const ids: Buffer[] = [];
          for (const [id, fields] of entries) {
            onMsg(fields[1]!);
            ids.push(id);
          }
          if (ids.length > 0) r.xack(k, group, ...ids).catch(() => {});
        }
      })().catch((e: unknown) => log(`consumer loop ended: ${String(e)}`));
      return {
        close: async () => {
          running = false;
          await Promise.race([loop, new Promise((res) => setTimeout(res, 2000))]);
          r.disconnect();
        },
      };
    },
    async drop(name, queues) {
      const r = conn();
      for (let q = 0; q < queues; q++) await r.del(key(name, q));
      r.disconnect();
    },
  };
}

// ---- NATS JetStream (nats.js) -----------------------------------------------------------------------------

/**
 * With `raw`, publishing goes through the lean raw-protocol publisher (nats-raw.ts) and consuming still through
 * nats.js; the two variants share one nats-server, their streams apart by name.
 */
export async function natsSystem(server: Server, raw: boolean): Promise<System> {
  const servers = `${HOST}:${server.port}`;
  const admin: NatsConnection = await natsConnect({ servers });
  const jsm = await admin.jetstreamManager();
  const sname = (name: string): string => (raw ? `${name}_raw` : name);
  return {
    id: raw ? "nats-js-raw" : "nats-js",
    label: `NATS ${server.version.replace(/^nats-server:\s*/, "")} JetStream, file storage, R1`,
    client: raw
      ? "raw NATS protocol publisher (bench/compare/nats-raw.ts), nats.js consumer"
      : "nats (nats.js)",
    durability: "page-cache",
    server,
    singleQueues: 1,
    async create(name) {
      const n = sname(name);
      await jsm.streams.add({ name: n, subjects: [`${n}.*`], storage: StorageType.File });
    },
    async publisher(name) {
      const n = sname(name);
      if (raw) {
        const p = await RawNatsPublisher.connect(HOST, server.port);
        return { publish: (q, body) => p.publish(`${n}.${q}`, body), close: async () => p.close() };
      }
      const nc = await natsConnect({ servers });
      const js = nc.jetstream();
      return {
        publish: async (q, body) => {
          await js.publish(`${n}.${q}`, body);
        },
        close: async () => {
          await nc.close();
        },
      };
    },
    async subscribe(name, queue, group, onMsg) {
      const n = sname(name);
      const nc = await natsConnect({ servers });
      const durable = `${group}_${queue}`;
      await jsm.consumers.add(n, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        filter_subject: `${n}.${queue}`,
      });
      const consumer = await nc.jetstream().consumers.get(n, durable);
      const iter = await consumer.consume({ max_messages: 1000 });
      const loop = (async () => {
        for await (const m of iter) {
          onMsg(m.data);
          m.ack();
        }
      })().catch((e: unknown) => log(`consumer loop ended: ${String(e)}`));
      return {
        close: async () => {
          await iter.close().catch(() => {});
          await Promise.race([loop, new Promise((res) => setTimeout(res, 2000))]);
          await nc.close();
        },
      };
    },
    async drop(name) {
      await jsm.streams.delete(sname(name));
    },
    async close() {
      await admin.close();
    },
  };
}

// ---- RabbitMQ quorum queues (amqplib) ---------------------------------------------------------------------

export async function rabbitSystem(server: Server): Promise<System> {
  const url = `amqp://guest:guest@${HOST}:${server.port}`;
  const admin: ChannelModel = await amqp.connect(url);
  const ach = await admin.createChannel();
  const qname = (name: string, q: number): string => `${name}.${q}`;
  return {
    id: "rabbitmq-quorum",
    label: `${server.version}, durable quorum queue, persistent, publisher confirms`,
    client: "amqplib",
    durability: "fsync",
    server,
    singleQueues: 1,
    async create(name, queues) {
      for (let q = 0; q < queues; q++) {
        await ach.assertQueue(qname(name, q), { durable: true, arguments: { "x-queue-type": "quorum" } });
      }
    },
    async publisher(name) {
      const conn = await amqp.connect(url);
      const ch: ConfirmChannel = await conn.createConfirmChannel();
      return {
        publish: (q, body) =>
          new Promise<void>((res, rej) => {
            ch.publish("", qname(name, q), body, { persistent: true }, (err: unknown) =>
              err ? rej(err instanceof Error ? err : new Error(String(err))) : res(),
            );
          }),
        close: async () => {
          await conn.close().catch(() => {});
        },
      };
    },
    async subscribe(name, queue, _group, onMsg) {
      const conn = await amqp.connect(url);
      const ch = await conn.createChannel();
      await ch.prefetch(1000);
      await ch.consume(qname(name, queue), (m) => {
        if (!m) return;
        onMsg(m.content);
        ch.ack(m);
      });
      return {
        close: async () => {
          await conn.close().catch(() => {});
        },
      };
    },
    async drop(name, queues) {
      for (let q = 0; q < queues; q++) await ach.deleteQueue(qname(name, q));
    },
    async close() {
      await admin.close().catch(() => {});
    },
  };
}

// ---- ours: rocketmq-ts SDK over remoting ------------------------------------------------------------------

/**
 * `autoBatch`: the producer sends what the caller publishes in one turn as SEND_BATCH_MESSAGE requests
 * (ProducerOptions.autoBatch); each publish is still its own call with its own acknowledgement. A publisher
 * waiting for each answer sends one by one either way.
 */
export function oursSystem(server: Server, flush: "async" | "sync", autoBatch: boolean): System {
  const nameServer = `${HOST}:${server.port}`;
  return {
    id: `ours-${flush}`,
    label: `rocketmq-ts, ${flush} flush${flush === "sync" ? " (group commit, fdatasync before ack)" : ""}`,
    client: `rocketmq-ts SDK (src/client, remoting${autoBatch ? ", autoBatch" : ""})`,
    durability: flush === "sync" ? "fsync" : "page-cache",
    server,
    singleQueues: 8,
    // Topics are created by the broker child at start (bench/remoting-server.js --topics).
    async create() {},
    async publisher(name) {
      const p = new Producer({
        nameServer,
        groupId: `P_${name}`,
        clientIP: HOST,
        instanceName: uniq(),
        autoBatch,
      });
      await p.start();
      return {
        publish: async (_q, body) => {
          await p.send(new Message(name, "TagA", body));
        },
        close: () => p.shutdown(),
      };
    },
    async subscribe(name, _queue, group, onMsg) {
      const c = new Consumer({
        nameServer,
        groupId: group,
        clientIP: HOST,
        instanceName: uniq(),
        messageModel: MessageModel.CLUSTERING,
        consumeFromWhere: "FIRST",
        consumeThreadNums: 64,
        pullBatchSize: 32,
      });
      c.subscribe(name, "*", (m) => {
        onMsg(m.body);
        return Action.CommitMessage;
      });
      await c.start();
      return { close: () => c.shutdown(), assigned: () => c.assignedQueues().length > 0 };
    },
    async drop() {},
  };
}

// ---- ours over gRPC (the official RocketMQ 5.x Node.js client) ---------------------------------------------

type GrpcClient = typeof import("rocketmq-client-nodejs");

let grpcClient: GrpcClient | undefined;
/** The client writes its log under $HOME: point HOME at a temp dir before loading it. */
function loadGrpcClient(): GrpcClient {
  if (!grpcClient) {
    const home = mkdtempSync(join(tmpdir(), "cmp-grpc-home-"));
    process.env.HOME = home;
    process.on("exit", () => rmSync(home, { recursive: true, force: true }));
    grpcClient = createRequire(import.meta.url)("rocketmq-client-nodejs") as GrpcClient;
  }
  return grpcClient;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

export function oursGrpcSystem(server: Server): System {
  const endpoints = `${HOST}:${server.grpcPort}`;
  return {
    id: "ours-grpc",
    label: "rocketmq-ts, async flush, gRPC endpoint",
    client: "rocketmq-client-nodejs (official 5.x client, grpc-js)",
    durability: "page-cache",
    server,
    singleQueues: 8,
    async create() {},
    async publisher(name) {
      const p = new (loadGrpcClient().Producer)({ endpoints, namespace: "", topic: name, logger: quiet });
      await p.startup();
      return {
        publish: async (_q, body) => {
          await p.send({ topic: name, tag: "TagA", body });
        },
        close: () => p.shutdown(),
      };
    },
    async subscribe(name, _queue, group, onMsg) {
      const c = new (loadGrpcClient().SimpleConsumer)({
        endpoints,
        namespace: "",
        consumerGroup: group,
        subscriptions: new Map([[name, "*"]]),
        awaitDuration: 2000,
        logger: quiet,
      });
      await c.startup();
      let open = true;
      const loop = async () => {
        while (open) {
          const got = await c.receive(32, 30_000).catch(() => []);
          for (const m of got) onMsg(m.body);
          await Promise.all(got.map((m) => c.ack(m).catch(() => undefined)));
        }
      };
      // Four receive loops, as a SimpleConsumer application would run to keep the pipe full.
      const loops = [loop(), loop(), loop(), loop()];
      return {
        close: async () => {
          open = false;
          await Promise.all(loops);
          await c.shutdown();
        },
      };
    },
    async drop() {},
  };
}

let seq = 0;
function uniq(): string {
  return `cmp${process.pid}_${++seq}`;
}
