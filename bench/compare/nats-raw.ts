// A lean JetStream publisher speaking the NATS text protocol directly (written here from the protocol
// description: INFO / CONNECT / SUB / PUB / MSG / PING / PONG). Each publish is `PUB <subject> <reply> <len>`
// with a reply subject under one wildcard inbox subscription; JetStream answers on it with its PubAck JSON
// ({"stream":…,"seq":…} or {"error":{…}}). Writes are gathered per event-loop turn into one socket write.
// The perf-anchors research found the official nats.js client costing up to 3× on this machine; bench:compare
// reports both.
import * as net from "node:net";

const CRLF = Buffer.from("\r\n");

export class RawNatsPublisher {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private out: Buffer[] = [];
  private flushQueued = false;
  private seq = 0;
  private readonly inbox = `_INBOX.raw${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  private readonly pending = new Map<number, { res: () => void; rej: (e: Error) => void }>();
  private pong: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(host: string, port: number) {
    this.sock = net.connect({ host, port });
    this.sock.setNoDelay(true);
    this.sock.on("data", (d: Buffer) => this.onData(d));
    this.sock.on("error", (e) => this.fail(e));
    this.sock.on("close", () => this.fail(new Error("connection closed")));
  }

  static async connect(host: string, port: number): Promise<RawNatsPublisher> {
    const p = new RawNatsPublisher(host, port);
    const opts = { verbose: false, pedantic: false, headers: false, lang: "raw-node", version: "0" };
    p.write(Buffer.from(`CONNECT ${JSON.stringify(opts)}\r\nSUB ${p.inbox}.* 1\r\nPING\r\n`));
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error("no PONG from nats-server in 5 s")), 5000);
      p.pong = () => {
        clearTimeout(t);
        res();
      };
    });
    return p;
  }

  publish(subject: string, body: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.seq;
    this.write(Buffer.from(`PUB ${subject} ${this.inbox}.${id} ${body.length}\r\n`));
    this.write(body);
    this.write(CRLF);
    return new Promise((res, rej) => this.pending.set(id, { res, rej }));
  }

  close(): void {
    this.failure ??= new Error("closed");
    this.sock.destroy();
  }

  private write(b: Buffer): void {
    this.out.push(b);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        const chunks = this.out;
        this.out = [];
        this.sock.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      });
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.rej(this.failure);
    this.pending.clear();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let off = 0;
    while (true) {
      const nl = this.buf.indexOf(CRLF, off);
      if (nl < 0) break;
      const line = this.buf.toString("latin1", off, nl);
      if (line.startsWith("MSG ")) {
        // MSG <subject> <sid> [reply] <bytes>
        const parts = line.split(" ");
        const len = Number(parts[parts.length - 1]);
        if (this.buf.length < nl + 2 + len + 2) break; // payload not complete yet
        const payload = this.buf.toString("utf8", nl + 2, nl + 2 + len);
        off = nl + 2 + len + 2;
        const id = Number(parts[1]!.slice(this.inbox.length + 1));
        const p = this.pending.get(id);
        if (p) {
          this.pending.delete(id);
          if (payload.includes('"error"')) p.rej(new Error(`JetStream: ${payload}`));
          else p.res();
        }
        continue;
      }
      off = nl + 2;
      if (line === "PING") this.write(Buffer.from("PONG\r\n"));
      else if (line === "PONG") this.pong?.();
      else if (line.startsWith("-ERR")) this.fail(new Error(`nats-server: ${line}`));
      // INFO and +OK need nothing.
    }
    this.buf = off >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }
}
