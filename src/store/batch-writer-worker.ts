// The batch writer's thread (see batch-writer.ts): scans a write batch (body CRCs, tag and key hashes), writes it
// at its file position, and answers with the scan's output or the error.
import { writeSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { ScanOut, scanBatch } from "./record-scan.js";
import type { WriteReply, WriteRequest } from "./batch-writer.js";

const out = new ScanOut(64 * 1024);
const port = parentPort!;

port.on("message", (r: WriteRequest) => {
  const buf = Buffer.from(r.ab, 0, r.len);
  let reply: WriteReply;
  try {
    scanBatch(buf, r.len, out);
    let off = 0;
    while (off < r.len) {
      const n = writeSync(r.fd, buf, off, r.len - off, r.pos + off);
      if (n <= 0) throw new Error("write returned no progress");
      off += n;
    }
    const meta = out.take();
    reply = { id: r.id, ab: r.ab, meta };
    port.postMessage(reply, [r.ab, meta.buffer]);
    return;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    reply = { id: r.id, ab: r.ab, error: err.message, ...(err.code ? { code: err.code } : {}) };
  }
  port.postMessage(reply, [r.ab]);
});
