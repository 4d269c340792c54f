import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createRequest,
  createResponse,
  type RemotingCommand,
} from "../../../src/protocol/remoting/command.js";
import { decodeCommand, encodeCommand } from "../../../src/protocol/remoting/frame-codec.js";
import { encodeJsonHeader } from "../../../src/protocol/remoting/json-header.js";
import { jsonHeaderSize, writeJsonHeader } from "../../../src/protocol/remoting/json-header-writer.js";

// Deterministic so a failure can be replayed.
let seed = 0x1234;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

/** Mostly printable ASCII, with every character JSON escapes, sometimes a non-ASCII one. */
function randomText(max: number, asciiOnly: boolean): string {
  let s = "";
  for (let i = 0, n = rnd(max + 1); i < n; i++) {
    const r = rnd(20);
    if (r === 0) s += String.fromCharCode(rnd(0x20));
    else if (r === 1) s += rnd(2) ? '"' : "\\";
    else if (r === 2 && !asciiOnly) s += ["é", "主", "🚀", "\ud800", "\u2028"][rnd(5)];
    else if (r === 3) s += "\x7f";
    else s += String.fromCharCode(0x20 + rnd(0x5f));
  }
  return s;
}

function randomInt(): number {
  switch (rnd(5)) {
    case 0:
      return 0;
    case 1:
      return -rnd(1000);
    case 2:
      return 0xffffffff - rnd(3);
    case 3:
      return -0x80000000 + rnd(3);
    default:
      return rnd(100000);
  }
}

function randomCommand(asciiOnly: boolean): RemotingCommand {
  const ext: Record<string, string> = {};
  for (let i = 0, n = rnd(12); i < n; i++) ext[randomText(6, asciiOnly)] = randomText(200, asciiOnly);
  const cmd = createRequest(randomInt(), ext);
  cmd.opaque = randomInt();
  cmd.flag = randomInt();
  cmd.version = randomInt();
  if (rnd(3) === 0) cmd.language = rnd(2) ? "GO" : randomText(5, asciiOnly);
  if (rnd(3) === 0) cmd.remark = randomText(80, asciiOnly);
  return cmd;
}

function written(cmd: RemotingCommand): string | undefined {
  const n = jsonHeaderSize(cmd);
  if (n < 0) return undefined;
  const buf = Buffer.alloc(n + 8, 0xee);
  const end = writeJsonHeader(cmd, buf, 4);
  assert.equal(end, 4 + n, "size and written bytes agree");
  assert.equal(buf[3], 0xee);
  assert.equal(buf[end], 0xee, "nothing written past the measured size");
  return buf.toString("utf8", 4, end);
}

test("the direct JSON header writer produces exactly the string encoder's bytes", () => {
  for (let i = 0; i < 3000; i++) {
    const cmd = randomCommand(true);
    assert.equal(written(cmd), encodeJsonHeader(cmd), `command ${i}: ${JSON.stringify(cmd)}`);
  }
});

test("headers the writer does not cover are measured as -1 and still encode through the string path", () => {
  let covered = 0;
  for (let i = 0; i < 2000; i++) {
    const cmd = randomCommand(false);
    const w = written(cmd);
    if (w !== undefined) {
      covered++;
      assert.equal(w, encodeJsonHeader(cmd));
    }
    const back = decodeCommand(encodeCommand(cmd));
    assert.deepEqual(back.extFields, { ...cmd.extFields });
    assert.equal(back.remark, cmd.remark === undefined ? undefined : JSON.parse(JSON.stringify(cmd.remark)));
  }
  assert.ok(covered > 0 && covered < 2000);
  const odd = createRequest(10, { a: 1 as unknown as string, b: undefined as unknown as string });
  assert.equal(jsonHeaderSize(odd), -1);
  assert.deepEqual(decodeCommand(encodeCommand(odd)).extFields, { a: "1" });
  const huge = createRequest(10, {});
  huge.opaque = 2 ** 60;
  assert.equal(jsonHeaderSize(huge), -1);
});

test("typical send request and response headers are written directly and decode back", () => {
  const req = createRequest(310, {
    a: "group",
    b: "Topic",
    i: "TAGS\u0001a\u0002UNIQ_KEY\u00017F0000010001\u0002",
    k: "false",
  });
  const res = createResponse(req, 0, undefined, { msgId: "7F000001", queueId: "3", queueOffset: "42" });
  for (const cmd of [req, res]) {
    assert.ok(jsonHeaderSize(cmd) > 0);
    const back = decodeCommand(encodeCommand(cmd));
    assert.deepEqual(back.extFields, cmd.extFields);
    assert.equal(back.opaque, cmd.opaque);
    assert.equal(back.flag, cmd.flag);
  }
  assert.equal(jsonHeaderSize(createRequest(34)), Buffer.byteLength(encodeJsonHeader(createRequest(34))));
});
