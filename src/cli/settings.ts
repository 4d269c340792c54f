// Start-up settings: defaults, overridden by a JSON config file, then by ROCKETMQ_TS_* environment variables,
// then by command-line flags. Only the CLI reads these sources; it hands typed configs to the factories.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { FlushMode } from "../store/store-config.js";
import { emptyAclConfig, parseAccountList, readAclConfig } from "../broker/acl/acl-config.js";
import type { AclConfig } from "../broker/acl/acl-config.js";

export interface Settings {
  dataDir: string;
  namesrvPort: number;
  brokerPort: number;
  /** Port of the gRPC endpoint (RocketMQ 5 clients). */
  grpcPort: number;
  /** TLS on the gRPC port: permissive (plaintext and TLS), enforcing (TLS only) or disabled. */
  tlsMode: string;
  /** PEM certificate and key for TLS; empty: a self-signed pair kept under the data directory. */
  tlsCert: string;
  tlsKey: string;
  /** Port of the HTTP endpoint (Alibaba Cloud MQ HTTP protocol). */
  httpPort: number;
  /**
   * How long a message consumed over HTTP stays invisible before it comes back unless acked: 300 s, the
   * protocol's own 5 minutes. Shorter suits development and tests.
   */
  httpInvisibleSeconds: number;
  /**
   * "accessKey:secretKey,...": accounts with every right on all three protocols (access control is on once any
   * account exists). Rights per topic and group go in aclFile.
   */
  accounts: string;
  /** The older name of `accounts`, from when only the HTTP endpoint checked signatures. */
  httpAccounts: string;
  /** A JSON file in the shape of RocketMQ's plain_acl.yml: accounts, rights, white lists. */
  aclFile: string;
  /** Bearer token the admin API and console require; empty: open (fine on a machine of one's own only). */
  adminToken: string;
  /** URL POSTed to when a backlog alarm fires or clears; empty: none. */
  alarmWebhook: string;
  host: string;
  advertisedHost: string;
  namesrv: string[];
  brokerName: string;
  clusterName: string;
  brokerId: number;
  /** ASYNC_MASTER, SYNC_MASTER or SLAVE; empty: SLAVE when brokerId > 0, else ASYNC_MASTER. */
  brokerRole: string;
  /** A master's port for its slaves; 0: a free one (slaves learn it from the NameServer). */
  haPort: number;
  /** A slave's master HA address ("host:port"); empty: the one the NameServer names. */
  haMasterAddress: string;
  /** A master suggests that consumers far behind read from its slave. */
  slaveReadEnable: boolean;
  flushMode: FlushMode;
  autoCreateTopic: boolean;
  /** Lite topics the broker keeps at most (RocketMQ's maxLmqConsumeQueueNum). */
  maxLiteTopics: number;
  logLevel: string;
}

export const DEFAULT_SETTINGS: Settings = {
  dataDir: "./data",
  namesrvPort: 9876,
  brokerPort: 10911,
  grpcPort: 8081,
  httpPort: 8080,
  httpInvisibleSeconds: 300,
  tlsMode: "permissive",
  tlsCert: "",
  tlsKey: "",
  accounts: "",
  httpAccounts: "",
  aclFile: "",
  adminToken: "",
  alarmWebhook: "",
  host: "0.0.0.0",
  advertisedHost: "127.0.0.1",
  namesrv: [],
  brokerName: "broker-a",
  clusterName: "DefaultCluster",
  brokerId: 0,
  brokerRole: "",
  haPort: 0,
  haMasterAddress: "",
  slaveReadEnable: false,
  flushMode: "async",
  autoCreateTopic: true,
  maxLiteTopics: 20_000,
  logLevel: "info",
};

const ENV: Record<keyof Settings, string> = {
  dataDir: "ROCKETMQ_TS_DATA_DIR",
  namesrvPort: "ROCKETMQ_TS_NAMESRV_PORT",
  brokerPort: "ROCKETMQ_TS_BROKER_PORT",
  grpcPort: "ROCKETMQ_TS_GRPC_PORT",
  httpPort: "ROCKETMQ_TS_HTTP_PORT",
  httpInvisibleSeconds: "ROCKETMQ_TS_HTTP_INVISIBLE_SECONDS",
  tlsMode: "ROCKETMQ_TS_TLS_MODE",
  tlsCert: "ROCKETMQ_TS_TLS_CERT",
  tlsKey: "ROCKETMQ_TS_TLS_KEY",
  accounts: "ROCKETMQ_TS_ACCOUNTS",
  httpAccounts: "ROCKETMQ_TS_HTTP_ACCOUNTS",
  aclFile: "ROCKETMQ_TS_ACL_FILE",
  adminToken: "ROCKETMQ_TS_ADMIN_TOKEN",
  alarmWebhook: "ROCKETMQ_TS_ALARM_WEBHOOK",
  host: "ROCKETMQ_TS_HOST",
  advertisedHost: "ROCKETMQ_TS_ADVERTISED_HOST",
  namesrv: "ROCKETMQ_TS_NAMESRV",
  brokerName: "ROCKETMQ_TS_BROKER_NAME",
  clusterName: "ROCKETMQ_TS_CLUSTER_NAME",
  brokerId: "ROCKETMQ_TS_BROKER_ID",
  brokerRole: "ROCKETMQ_TS_BROKER_ROLE",
  haPort: "ROCKETMQ_TS_HA_PORT",
  haMasterAddress: "ROCKETMQ_TS_HA_MASTER_ADDRESS",
  slaveReadEnable: "ROCKETMQ_TS_SLAVE_READ_ENABLE",
  flushMode: "ROCKETMQ_TS_FLUSH_MODE",
  autoCreateTopic: "ROCKETMQ_TS_AUTO_CREATE_TOPIC",
  maxLiteTopics: "ROCKETMQ_TS_MAX_LITE_TOPICS",
  logLevel: "ROCKETMQ_TS_LOG_LEVEL",
};

/** Turns one raw value (string from env/flags, or JSON value from the file) into the field's type. */
function coerce(key: keyof Settings, raw: unknown): Settings[keyof Settings] {
  const def = DEFAULT_SETTINGS[key];
  if (Array.isArray(def)) {
    const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(/[;,]/);
    return list.map((s) => s.trim()).filter(Boolean);
  }
  if (typeof def === "number") {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`setting ${key}: expected a non-negative integer, got ${String(raw)}`);
    if (key === "httpInvisibleSeconds" && n < 1)
      throw new Error(`setting httpInvisibleSeconds: expected at least 1, got ${String(raw)}`);
    return n;
  }
  if (typeof def === "boolean") {
    if (raw === true || raw === "true" || raw === "1") return true;
    if (raw === false || raw === "false" || raw === "0") return false;
    throw new Error(`setting ${key}: expected true or false, got ${String(raw)}`);
  }
  if (key === "brokerRole" && !["", "ASYNC_MASTER", "SYNC_MASTER", "SLAVE"].includes(String(raw))) {
    throw new Error(`setting brokerRole: expected ASYNC_MASTER, SYNC_MASTER or SLAVE, got ${String(raw)}`);
  }
  if (key === "tlsMode" && !["disabled", "permissive", "enforcing"].includes(String(raw))) {
    throw new Error(`setting tlsMode: expected disabled, permissive or enforcing, got ${String(raw)}`);
  }
  if (key === "flushMode" && raw !== "async" && raw !== "sync") {
    throw new Error(`setting flushMode: expected "async" or "sync", got ${String(raw)}`);
  }
  return String(raw);
}

export function loadSettings(
  flags: Partial<Record<keyof Settings, unknown>>,
  configFile: string | undefined,
  env: NodeJS.ProcessEnv,
): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS };
  const set = (k: keyof Settings, v: unknown) => {
    (s as unknown as Record<string, unknown>)[k] = coerce(k, v);
  };
  if (configFile) {
    let file: Record<string, unknown>;
    try {
      file = JSON.parse(readFileSync(resolve(configFile), "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`config file ${configFile}: ${(e as Error).message}`);
    }
    for (const [k, v] of Object.entries(file)) {
      if (!(k in DEFAULT_SETTINGS)) throw new Error(`config file ${configFile}: unknown setting "${k}"`);
      set(k as keyof Settings, v);
    }
  }
  for (const [k, name] of Object.entries(ENV) as [keyof Settings, string][]) {
    if (env[name] !== undefined && env[name] !== "") set(k, env[name]);
  }
  for (const [k, v] of Object.entries(flags) as [keyof Settings, unknown][]) {
    if (v !== undefined) set(k, v);
  }
  return s;
}

/** The broker's access control from the settings: the ACL file's accounts plus those of `accounts`. */
export function aclConfigOf(s: Settings): AclConfig {
  let cfg = emptyAclConfig();
  if (s.aclFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(resolve(s.aclFile), "utf8"));
    } catch (e) {
      throw new Error(`ACL file ${s.aclFile}: ${(e as Error).message}`);
    }
    cfg = readAclConfig(raw, `ACL file ${s.aclFile}`);
  }
  for (const a of [...parseAccountList(s.accounts), ...parseAccountList(s.httpAccounts)]) {
    if (cfg.accounts.some((x) => x.accessKey === a.accessKey))
      throw new Error(`setting accounts: ${a.accessKey} is configured twice`);
    cfg.accounts.push(a);
  }
  return cfg;
}
