import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createRequest,
  SerializeType,
  type RemotingCommand,
} from "../../../src/protocol/remoting/command.js";
import { decodeCommand, encodeCommand } from "../../../src/protocol/remoting/frame-codec.js";
import { FrameError } from "../../../src/protocol/remoting/frame-error.js";

// Deterministic so a failure can be replayed.
let seed = 0xb1a;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

function randomText(max: number): string {
  let s = "";
  for (let i = 0, n = rnd(max + 1); i < n; i++) {
    const r = rnd(12);
    if (r === 0) s += ["é", "主", "🚀", "\u0001", "\u0002", "\u007f", "\u0080"][rnd(7)];
    else s += String.fromCharCode(0x20 + rnd(0x5f));
  }
  return s;
}

function randomCommand(): RemotingCommand {
  const ext: Record<string, string> = {};
  for (let i = 0, n = rnd(14); i < n; i++) {
    // One-character keys take the decoder's shortcut; mix them with longer and non-ASCII ones.
    const key = rnd(2) ? String.fromCharCode(rnd(2) ? 0x61 + rnd(13) : rnd(0x80)) : randomText(8);
    ext[key] = randomText(rnd(4) === 0 ? 400 : 30);
  }
  const cmd = createRequest(rnd(0x7fff), ext, rnd(2) ? Buffer.from(randomText(50)) : undefined);
  cmd.serializeType = SerializeType.ROCKETMQ;
  cmd.opaque = rnd(0x7fffffff);
  cmd.flag = rnd(4);
  cmd.version = rnd(0x7fff);
  if (rnd(3) === 0) cmd.remark = randomText(60) || "r";
  return cmd;
}

test("binary headers round-trip random ASCII and non-ASCII keys, values and remarks", () => {
  for (let i = 0; i < 3000; i++) {
    const cmd = randomCommand();
    const back = decodeCommand(encodeCommand(cmd));
    assert.deepEqual(back.extFields, { ...cmd.extFields }, `command ${i}`);
    assert.equal(back.remark, cmd.remark);
    assert.equal(back.code, cmd.code);
    assert.equal(back.opaque, cmd.opaque);
    assert.equal(back.flag, cmd.flag);
    assert.equal(back.version, cmd.version);
    assert.equal(back.serializeType, SerializeType.ROCKETMQ);
    assert.deepEqual(back.body ?? Buffer.alloc(0), cmd.body ?? Buffer.alloc(0));
  }
});

test("binary headers: every truncation or corrupted length word is a FrameError, never another error", () => {
  for (let i = 0; i < 300; i++) {
    const frame = encodeCommand(randomCommand());
    const hl = frame.readUInt32BE(4) & 0xffffff;
    for (let k = 0; k < 8; k++) {
      const bad = Buffer.from(frame);
      const at = 8 + rnd(Math.max(hl, 1));
      bad.writeInt32BE(rnd(2) ? -1 - rnd(100) : rnd(1000), Math.min(at, bad.length - 4));
      try {
        decodeCommand(bad);
      } catch (e) {
        assert.ok(e instanceof FrameError, `unexpected ${String(e)}`);
      }
    }
  }
});
