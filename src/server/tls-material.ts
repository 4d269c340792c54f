// The key and certificate the gRPC port's TLS uses: the configured files, else a self-signed pair kept in
// <dataDir>/tls (made once, as RocketMQ's proxy makes one in its TLS test mode). The RocketMQ 5 Java client
// accepts any certificate; clients that verify one need the configured pair, or the kept certificate as a
// trusted root.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { TlsMaterial } from "../protocol/tls-sniff.js";

export interface TlsFiles {
  /** PEM files; both empty: the self-signed pair under `dir`. */
  certPath: string;
  keyPath: string;
  dir: string;
  /** Names and addresses the self-signed certificate is for (besides localhost; wildcards are left out). */
  hosts: string[];
}

export async function loadTlsMaterial(f: TlsFiles): Promise<TlsMaterial> {
  if (f.certPath || f.keyPath) {
    if (!f.certPath || !f.keyPath) throw new Error("TLS: give both tlsCertPath and tlsKeyPath, or neither");
    return { cert: readPem(f.certPath, "tlsCertPath"), key: readPem(f.keyPath, "tlsKeyPath") };
  }
  const cert = join(f.dir, "broker.crt");
  const key = join(f.dir, "broker.key");
  if (existsSync(cert) && existsSync(key)) return { cert: readFileSync(cert), key: readFileSync(key) };
  const made = await selfSigned(f.hosts);
  mkdirSync(f.dir, { recursive: true });
  writeFileSync(key, made.key, { mode: 0o600 });
  writeFileSync(cert, made.cert);
  return made;
}

function readPem(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`TLS: ${setting} ${path}: ${(e as Error).message}`);
  }
}

async function selfSigned(hosts: string[]): Promise<TlsMaterial> {
  // Loaded only here: a broker that never serves TLS never loads it.
  const { generate } = await import("selfsigned");
  // Wildcard listen addresses name no host a client would connect to.
  const names = [...new Set(["localhost", "127.0.0.1", "::1", ...hosts])].filter(
    (h) => h !== "" && h !== "0.0.0.0" && h !== "::",
  );
  const now = Date.now();
  const pems = await generate([{ name: "commonName", value: "rocketmq-ts broker" }], {
    keyType: "ec",
    curve: "P-256",
    notBeforeDate: new Date(now - 24 * 3600_000),
    notAfterDate: new Date(now + 10 * 365 * 24 * 3600_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
      },
    ],
  });
  return { key: Buffer.from(pems.private), cert: Buffer.from(pems.cert) };
}

/** loadTlsMaterial, once: later calls share the first result; a failure is not kept (a pair put in place later). */
export function tlsMaterialLoader(f: TlsFiles): () => Promise<TlsMaterial> {
  let loaded: Promise<TlsMaterial> | undefined;
  return () => {
    loaded ??= loadTlsMaterial(f);
    loaded.catch(() => (loaded = undefined));
    return loaded;
  };
}
