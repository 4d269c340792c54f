// The admin API's JSON shapes (src/protocol/http/admin/admin-routes.ts) and a fetch helper. Every request goes
// to the page's own origin: the console is served by the broker it shows. The shapes the ops modules compute are
// shared with the broker (src/broker/ops/views.ts, types only); the rest are declared here.
import type {
  AlarmRule,
  AlarmStatus,
  GroupClients,
  GroupSummary,
  MessageView,
  QueueProgress,
  TraceEvent,
} from "../../src/broker/ops/views.js";

export type { AlarmRule, AlarmStatus, GroupClients, GroupSummary, MessageView, QueueProgress, TraceEvent };

export interface ClusterBroker {
  cluster: string;
  name: string;
  id: number;
  addr: string;
}

export interface BrokerStatus {
  name: string;
  cluster: string;
  id: number;
  addr: string;
  startedAt: number;
  uptimeMs: number;
  produced: number;
  consumed: number;
  store: { commitLogBytes: number; diskUsedRatio?: number; [k: string]: unknown };
  timersPending: number;
  halfMessagesPending: number;
  connections: Record<string, number>;
  topics: number;
  groups: number;
  /** A master: its slaves and the furthest one's lag; a slave: its master's HA address and link. */
  replication?: {
    role: string;
    slaves?: number;
    slaveLagBytes?: number | null;
    masterHaAddress?: string | null;
    connected?: boolean;
  };
}

export interface Rates {
  produce: Record<string, number>;
  consume: Record<string, Record<string, number>>;
}

export interface TopicInfo {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order: boolean;
  messages: number;
  attributes?: Record<string, string>;
}

export interface QueueStat {
  queueId: number;
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

export interface TopicRoute {
  topic: string;
  local: { broker: string; addr: string; readQueueNums: number; writeQueueNums: number; perm: number };
  namesrv?: {
    queueDatas: { brokerName: string; readQueueNums: number; writeQueueNums: number; perm: number }[];
    brokerDatas: { cluster: string; brokerName: string; brokerAddrs: Record<string, string> }[];
  };
}

export interface GroupProgress {
  group: string;
  backlog: number;
  queues: QueueProgress[];
}

export interface DeadLetter extends MessageView {
  dlqOffset: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "rocketmq-ts-admin-token";

function send(path: string, init: { method?: string; body?: unknown } | undefined): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init?.body !== undefined) headers["content-type"] = "application/json";
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers["authorization"] = `Bearer ${token}`;
  return fetch(path, {
    method: init?.method ?? "GET",
    headers,
    ...(init?.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

/** A broker started with --admin-token answers 401 until the console sends that token; ask for it once. */
let asking: Promise<boolean> | undefined;
/** Cancelled once: the pages show the 401 errors until a reload rather than asking on every refresh. */
let declined = false;
function askToken(): Promise<boolean> {
  if (declined) return Promise.resolve(false);
  asking ??= Promise.resolve().then(() => {
    const t = window.prompt("This broker's admin API needs its token (the broker's --admin-token):");
    asking = undefined;
    if (!t) {
      declined = true;
      return false;
    }
    localStorage.setItem(TOKEN_KEY, t.trim());
    return true;
  });
  return asking;
}

export async function api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> {
  let res = await send(path, init);
  if (res.status === 401 && (await askToken())) res = await send(path, init);
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(res.status, "BAD_RESPONSE", `${res.status} ${res.statusText}`);
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(res.status, err?.code ?? "HTTP_" + res.status, err?.message ?? res.statusText);
  }
  return data as T;
}

export const enc = encodeURIComponent;
