#!/usr/bin/env node
// The command line: `start` runs a NameServer and a broker in one process on embedded defaults; `start namesrv`
// and `start broker --namesrv a:9876;b:9876` run the roles apart. SIGTERM/SIGINT stop cleanly (flush, checkpoint).
import { Command, CommanderError, Option } from "commander";
import { watchFile } from "node:fs";
import { join, resolve } from "node:path";
import type { AccessControl } from "../broker/acl/access-control.js";
import type { TlsMode, TlsOption } from "../protocol/tls-sniff.js";
import { tlsMaterialLoader } from "../server/tls-material.js";
import { createNamesrv } from "../namesrv/namesrv.js";
import type { BrokerConfig, BrokerRole } from "../broker/broker-config.js";
import { createBroker } from "../server/create-broker.js";
import { createLogger } from "../server/logger.js";
import { AdminError, adminCommand } from "./admin.js";
import { aclConfigOf, loadSettings } from "./settings.js";
import type { Settings } from "./settings.js";

interface Stoppable {
  stop(): Promise<void>;
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option("--data-dir <dir>", "where the store and config files live (default ./data)")
    .option("--namesrv-port <port>", "NameServer port (default 9876)")
    .option("--broker-port <port>", "broker remoting port (default 10911)")
    .option("--grpc-port <port>", "gRPC port for RocketMQ 5.x clients (default 8081)")
    .option("--http-port <port>", "HTTP endpoint port, Alibaba Cloud MQ HTTP protocol (default 8080)")
    .addOption(
      new Option("--tls-mode <mode>", "TLS on the gRPC port (default permissive: plaintext and TLS)").choices(
        ["disabled", "permissive", "enforcing"],
      ),
    )
    .option("--tls-cert <file>", "PEM certificate for TLS (default: a self-signed one under the data dir)")
    .option("--tls-key <file>", "PEM key for --tls-cert")
    .option("--accounts <list>", "'ak:sk,ak2:sk2': access control on, these accounts may do anything")
    .option("--http-accounts <list>", "older name of --accounts")
    .option("--acl-file <file>", "JSON access control in the shape of RocketMQ's plain_acl.yml")
    .option("--admin-token <token>", "require this bearer token on the admin API and console")
    .option("--alarm-webhook <url>", "POST backlog alarm events (JSON) to this URL")
    .option("--host <host>", "interface to listen on (default 0.0.0.0)")
    .option("--advertised-host <host>", "address clients are told to use (default 127.0.0.1)")
    .option("--namesrv <addrs>", "NameServers for the broker, 'a:9876;b:9876'")
    .option("--broker-name <name>")
    .option("--cluster-name <name>")
    .option("--broker-id <id>", "0 = master, > 0 = slave of the master with the same broker name")
    .addOption(
      new Option("--broker-role <role>", "default: SLAVE when broker id > 0").choices([
        "ASYNC_MASTER",
        "SYNC_MASTER",
        "SLAVE",
      ]),
    )
    .option(
      "--ha-port <port>",
      "a master's port for its slaves (default: a free one, named to slaves by the NameServer)",
    )
    .option("--ha-master-address <addr>", "a slave's master HA address (default: from the NameServer)")
    .option("--slave-read-enable", "suggest that consumers far behind read from the slave")
    .addOption(new Option("--flush-mode <mode>", "commit log flush").choices(["async", "sync"]))
    .option("--max-lite-topics <n>", "lite topics the broker keeps at most (default 20000)")
    .option(
      "--http-invisible-seconds <n>",
      "how long a message consumed over HTTP stays invisible before it comes back unless acked (default 300)",
    )
    .option("--log-level <level>", "pino level (default info)")
    .option("--config <file>", "JSON file of settings (overridden by ROCKETMQ_TS_* variables, then flags)");
}

function settingsFrom(opts: Record<string, unknown>): Settings {
  return loadSettings(
    {
      dataDir: opts["dataDir"],
      namesrvPort: opts["namesrvPort"],
      brokerPort: opts["brokerPort"],
      grpcPort: opts["grpcPort"],
      httpPort: opts["httpPort"],
      tlsMode: opts["tlsMode"],
      tlsCert: opts["tlsCert"],
      tlsKey: opts["tlsKey"],
      accounts: opts["accounts"],
      httpAccounts: opts["httpAccounts"],
      aclFile: opts["aclFile"],
      adminToken: opts["adminToken"],
      alarmWebhook: opts["alarmWebhook"],
      host: opts["host"],
      advertisedHost: opts["advertisedHost"],
      namesrv: opts["namesrv"],
      brokerName: opts["brokerName"],
      clusterName: opts["clusterName"],
      brokerId: opts["brokerId"],
      brokerRole: opts["brokerRole"],
      haPort: opts["haPort"],
      haMasterAddress: opts["haMasterAddress"],
      slaveReadEnable: opts["slaveReadEnable"],
      flushMode: opts["flushMode"],
      maxLiteTopics: opts["maxLiteTopics"],
      httpInvisibleSeconds: opts["httpInvisibleSeconds"],
      logLevel: opts["logLevel"],
    },
    opts["config"] as string | undefined,
    process.env,
  );
}

/** One loader of the TLS key and certificate for every server of the process (they share data/tls). */
function tlsOf(s: Settings): TlsOption {
  return {
    mode: s.tlsMode as TlsMode,
    material: tlsMaterialLoader({
      certPath: s.tlsCert ? resolve(s.tlsCert) : "",
      keyPath: s.tlsKey ? resolve(s.tlsKey) : "",
      dir: join(resolve(s.dataDir), "tls"),
      hosts: [s.advertisedHost, s.host],
    }),
  };
}

async function runNamesrv(
  s: Settings,
  log: ReturnType<typeof createLogger>,
  tls: TlsOption,
): Promise<Stoppable> {
  const ns = createNamesrv({
    host: s.host,
    port: s.namesrvPort,
    logger: log.child("namesrv"),
    tls,
  });
  await ns.start();
  log.info({ port: ns.port }, `NameServer listening on ${s.host}:${ns.port}`);
  return ns;
}

/**
 * Applies edits of the ACL file while running, as RocketMQ watches plain_acl.yml: checked every 2 s; a file that
 * does not read or check keeps the accounts in force, and says why.
 */
function watchAclFile(s: Settings, acl: AccessControl, log: ReturnType<typeof createLogger>): void {
  watchFile(resolve(s.aclFile), { interval: 2000, persistent: false }, (cur, prev) => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size) return;
    try {
      const cfg = aclConfigOf(s);
      acl.update(cfg);
      log.info({ file: s.aclFile, accounts: cfg.accounts.length }, "ACL file reloaded");
    } catch (e) {
      log.error(
        { file: s.aclFile, err: (e as Error).message },
        "ACL file not applied; the previous one stays",
      );
    }
  });
}

async function runBroker(
  s: Settings,
  namesrv: string[],
  log: ReturnType<typeof createLogger>,
  tls: TlsOption,
): Promise<Stoppable> {
  const b = createBroker(
    {
      dataDir: resolve(s.dataDir),
      port: s.brokerPort,
      grpcPort: s.grpcPort,
      tlsMode: s.tlsMode as BrokerConfig["tlsMode"],
      tlsCertPath: s.tlsCert ? resolve(s.tlsCert) : "",
      tlsKeyPath: s.tlsKey ? resolve(s.tlsKey) : "",
      listenHost: s.host,
      advertisedHost: s.advertisedHost,
      namesrvAddrs: namesrv,
      brokerName: s.brokerName,
      clusterName: s.clusterName,
      brokerId: s.brokerId,
      ...(s.brokerRole ? { brokerRole: s.brokerRole as BrokerRole } : {}),
      ...(s.haPort ? { haListenPort: s.haPort } : {}),
      haMasterAddress: s.haMasterAddress,
      slaveReadEnable: s.slaveReadEnable,
      autoCreateTopicEnable: s.autoCreateTopic,
      maxLiteTopics: s.maxLiteTopics,
      store: { flushMode: s.flushMode },
      acl: aclConfigOf(s),
    },
    {
      logger: log.child("broker"),
      http: {
        port: s.httpPort,
        host: s.host,
        adminToken: s.adminToken,
        invisibleMs: s.httpInvisibleSeconds * 1000,
      },
      ...(s.alarmWebhook ? { alarmWebhook: s.alarmWebhook } : {}),
      tlsMaterial: tls.material,
    },
  );
  await b.start();
  if (s.aclFile) watchAclFile(s, b.broker.acl, log);
  const r = b.broker.store.recovery;
  log.info({ recovery: { aborted: r.aborted, end: r.end, warnings: r.warnings.length } }, "store opened");
  log.info(
    { port: b.port, grpcPort: b.grpcPort, namesrv },
    `broker ${s.brokerName} listening on ${s.host}:${b.port} (remoting) and ${s.host}:${b.grpcPort} (gRPC)`,
  );
  log.info({ port: b.httpPort }, `HTTP endpoint listening on ${s.host}:${b.httpPort}`);
  if (s.tlsMode !== "disabled")
    log.info(
      { tlsMode: s.tlsMode },
      `TLS ${s.tlsMode} on every port, ${s.tlsCert ? `certificate ${s.tlsCert}` : `self-signed certificate kept in ${join(resolve(s.dataDir), "tls")} (made at the first TLS connection)`}`,
    );
  const acl = b.broker.acl.describe();
  if (acl.enabled)
    log.info({ accounts: acl.accounts.length }, `access control on: ${acl.accounts.length} account(s)`);
  const role = b.broker.config.brokerRole;
  if (role === "SLAVE")
    log.info({ role }, `slave ${s.brokerName}/${s.brokerId}: replicating from its master`);
  else log.info({ role, haPort: b.haPort }, `${role}: slaves connect to ${s.host}:${b.haPort}`);
  if (!s.adminToken) {
    log.warn(
      {},
      "the admin API and console are open to anyone who can reach the HTTP port: set --admin-token",
    );
  }
  return b;
}

function stopOnSignals(parts: Stoppable[], log: ReturnType<typeof createLogger>): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    for (const p of [...parts].reverse()) {
      try {
        await p.stop();
      } catch (e) {
        log.error({ err: (e as Error).message }, "stop failed");
      }
    }
    log.info({}, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

async function main(): Promise<void> {
  const program = new Command("rocketmq-ts").description("A RocketMQ-compatible message broker");
  const start = commonOptions(
    program.command("start").description("start a NameServer and a broker in one process"),
  );
  start.action(async (opts: Record<string, unknown>) => {
    const s = settingsFrom(opts);
    const log = createLogger(s.logLevel, "rocketmq-ts");
    const tls = tlsOf(s);
    const ns = await runNamesrv(s, log, tls);
    const addr = `127.0.0.1:${(ns as unknown as { port: number }).port}`;
    const b = await runBroker(s, [addr, ...s.namesrv], log, tls);
    stopOnSignals([ns, b], log);
    log.info(
      {},
      `ready: NameServer 127.0.0.1:${s.namesrvPort}, broker ${s.advertisedHost}:${s.brokerPort}, gRPC ${s.advertisedHost}:${s.grpcPort}, HTTP ${s.advertisedHost}:${s.httpPort}`,
    );
  });
  commonOptions(start.command("namesrv").description("start a NameServer only")).action(
    async (opts: Record<string, unknown>) => {
      const s = settingsFrom({ ...start.opts(), ...opts });
      const log = createLogger(s.logLevel, "rocketmq-ts");
      stopOnSignals([await runNamesrv(s, log, tlsOf(s))], log);
    },
  );
  commonOptions(start.command("broker").description("start a broker only")).action(
    async (opts: Record<string, unknown>) => {
      const s = settingsFrom({ ...start.opts(), ...opts });
      const log = createLogger(s.logLevel, "rocketmq-ts");
      if (s.namesrv.length === 0)
        log.warn({}, "no --namesrv given: clients will not find this broker through a NameServer");
      stopOnSignals([await runBroker(s, s.namesrv, log, tlsOf(s))], log);
    },
  );
  program.addCommand(adminCommand());
  // Commander would exit 1 on a usage error by itself; we document 2 for bad usage (see admin.ts).
  const throwInstead = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(throwInstead);
  };
  throwInstead(program);
  await program.parseAsync(process.argv);
}

main().catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // Commander has printed the message (or the help) already.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  console.error(e instanceof Error ? e.message : e);
  process.exit(e instanceof AdminError ? e.exitCode : 1);
});
