import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createRequest,
  createResponse,
  FLAG_RESPONSE,
  isOneway,
  isResponse,
  SerializeType,
  type RemotingCommand,
} from "../../../src/protocol/remoting/command.js";
import {
  decodeCommand,
  encodeCommand,
  FrameDecoder,
  prepareFrame,
  writeFrame,
} from "../../../src/protocol/remoting/frame-codec.js";
import { FrameError } from "../../../src/protocol/remoting/frame-error.js";
import { RequestCode } from "../../../src/protocol/remoting/request-code.js";
import { ResponseCode } from "../../../src/protocol/remoting/response-code.js";

function frame(type: number, header: Buffer, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(8);
  b.writeInt32BE(4 + header.length + body.length, 0);
  b.writeUInt32BE(((type << 24) | header.length) >>> 0, 4);
  return Buffer.concat([b, header, body]);
}

function jsonFrame(header: unknown, body?: Buffer): Buffer {
  return frame(0, Buffer.from(typeof header === "string" ? header : JSON.stringify(header)), body);
}

function sample(serializeType: 0 | 1, body?: Buffer): RemotingCommand {
  const cmd = createRequest(
    RequestCode.SEND_MESSAGE_V2,
    { a: "group-1", b: "主题-topic", k: "false", emoji: "🚀 ok", "": "empty key", empty: "" },
    body,
  );
  cmd.remark = "备注 remark ✓";
  cmd.serializeType = serializeType;
  return cmd;
}

function assertSame(actual: RemotingCommand, expected: RemotingCommand): void {
  const { body: eb, ...eh } = expected;
  const { body: ab, ...ah } = actual;
  assert.deepEqual(ah, eh);
  // A zero-length body is not distinguishable from none on the wire.
  assert.deepEqual(ab ?? Buffer.alloc(0), eb ?? Buffer.alloc(0));
}

for (const [name, type] of [
  ["JSON", SerializeType.JSON],
  ["ROCKETMQ binary", SerializeType.ROCKETMQ],
] as const) {
  test(`${name} header round-trips unicode remark and ext fields with no, empty, small and large bodies`, () => {
    for (const body of [undefined, Buffer.alloc(0), Buffer.from("hello"), Buffer.alloc(5 * 1024 * 1024, 7)]) {
      const cmd = sample(type, body);
      const bytes = encodeCommand(cmd);
      assert.equal(bytes.readInt32BE(0), bytes.length - 4);
      assert.equal(bytes[4], type, "serialize type in the high byte");
      assertSame(decodeCommand(bytes), cmd);
      // Writing the header part alone and the body after it (how connections send large bodies) gives the same bytes.
      // A binary header is given room for 3 bytes a character and its true size is known once written.
      const f = prepareFrame(cmd);
      if (type === SerializeType.JSON) assert.equal(f.frameBytes, bytes.length);
      else assert.ok(f.frameBytes >= bytes.length, `room ${f.frameBytes} for a ${bytes.length}-byte frame`);
      const head = Buffer.alloc(f.frameBytes - (body?.length ?? 0));
      const end = writeFrame(f, head, 0, false);
      assert.equal(end, bytes.length - (body?.length ?? 0));
      assert.deepEqual(Buffer.concat([head.subarray(0, end), body ?? Buffer.alloc(0)]), bytes);
    }
  });

  test(`${name} response keeps opaque, sets the response flag and the request's serialize type`, () => {
    const req = sample(type);
    const res = createResponse(
      req,
      ResponseCode.TOPIC_NOT_EXIST,
      "no such topic",
      { x: "1" },
      Buffer.from("b"),
    );
    assert.equal(res.opaque, req.opaque);
    assert.ok(isResponse(res));
    assert.ok(!isOneway(res));
    assert.equal(res.serializeType, type);
    const back = decodeCommand(encodeCommand(res));
    assertSame(back, res);
    assert.equal(back.flag & FLAG_RESPONSE, FLAG_RESPONSE);
  });
}

test("createRequest gives each request a fresh opaque", () => {
  const a = createRequest(RequestCode.HEART_BEAT);
  const b = createRequest(RequestCode.HEART_BEAT);
  assert.notEqual(a.opaque, b.opaque);
  assert.equal(a.flag, 0);
  assert.deepEqual(a.extFields, {});
});

test("the JSON header has Java's shape: fields sorted by name, nulls and empty extFields left out", () => {
  const req = createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "T" });
  req.opaque = 5;
  const bytes = encodeCommand(req);
  const header = bytes.toString("utf8", 8, 8 + (bytes.readInt32BE(4) & 0xffffff));
  assert.equal(
    header,
    '{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":5,' +
      '"serializeTypeCurrentRPC":"JSON","version":401}',
  );
  const res = createResponse(req, ResponseCode.SUCCESS, "ok");
  const rb = encodeCommand(res);
  assert.equal(
    rb.toString("utf8", 8),
    '{"code":0,"flag":1,"language":"JAVA","opaque":5,"remark":"ok","serializeTypeCurrentRPC":"JSON","version":401}',
  );
});

test("decodes the GET_ROUTEINFO_BY_TOPIC frame captured from ali-ons", () => {
  const header =
    '{"code":105,"language":"JAVA","opaque":1,"flag":0,"version":121,"extFields":{"topic":"TP_TEST"}}';
  const bytes = Buffer.concat([Buffer.from("0000006400000060", "hex"), Buffer.from(header)]);
  assert.equal(bytes.length, 104);
  const cmd = decodeCommand(bytes);
  assert.deepEqual(cmd, {
    code: 105,
    language: "JAVA",
    version: 121,
    opaque: 1,
    flag: 0,
    extFields: { topic: "TP_TEST" },
    serializeType: 0,
  });
});

test("JSON ext-field numbers and booleans (as ali-ons sends them) become strings; nulls are dropped", () => {
  const cmd = decodeCommand(
    jsonFrame({
      code: "310",
      opaque: 9,
      extFields: { e: 1, g: 1795471187436, k: false, n: null, o: { x: 1 } },
    }),
  );
  assert.equal(cmd.code, 310);
  assert.deepEqual(cmd.extFields, { e: "1", g: "1795471187436", k: "false", o: '{"x":1}' });
  assert.equal(cmd.language, "JAVA");
  assert.equal(cmd.version, 0);
});

test("a __proto__ ext field stays a plain field in both header types", () => {
  const j = decodeCommand(jsonFrame('{"code":1,"extFields":{"__proto__":"x","a":1}}'));
  assert.equal(Object.getPrototypeOf(j.extFields), Object.prototype);
  assert.deepEqual(Object.keys(j.extFields), ["__proto__", "a"]);
  const cmd = createRequest(1);
  cmd.extFields = j.extFields;
  cmd.serializeType = SerializeType.ROCKETMQ;
  const b = decodeCommand(encodeCommand(cmd));
  assert.equal(Object.getPrototypeOf(b.extFields), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(b.extFields, "__proto__")?.value, "x");
});

test("the binary header refuses codes that do not fit 16 bits instead of truncating them like Java", () => {
  const cmd = createRequest(RequestCode.POP_MESSAGE);
  cmd.serializeType = SerializeType.ROCKETMQ;
  assert.throws(() => encodeCommand(cmd), RangeError);
  cmd.serializeType = SerializeType.JSON;
  assert.equal(decodeCommand(encodeCommand(cmd)).code, 200050);
});

test("a stream of frames split at every byte boundary decodes identically", () => {
  const cmds = [
    sample(0),
    sample(1, Buffer.from("body one")),
    createResponse(sample(0), 0),
    sample(0, Buffer.alloc(3000, 1)),
    sample(1),
  ];
  const stream = Buffer.concat(cmds.map(encodeCommand));
  const whole = new FrameDecoder().push(stream);
  assert.equal(whole.length, cmds.length);
  cmds.forEach((c, i) => assertSame(whole[i] as RemotingCommand, c));
  for (let cut = 0; cut <= stream.length; cut++) {
    const d = new FrameDecoder();
    const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(got, whole, `split at ${cut}`);
    d.finish();
  }
  // Three pieces, and one byte at a time.
  for (let cut = 1; cut < stream.length; cut += 7) {
    const d = new FrameDecoder();
    const got = [
      ...d.push(stream.subarray(0, cut)),
      ...d.push(stream.subarray(cut, cut + 5)),
      ...d.push(stream.subarray(cut + 5)),
    ];
    assert.deepEqual(got, whole, `split at ${cut} and ${cut + 5}`);
  }
  const d = new FrameDecoder();
  const got: RemotingCommand[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
  assert.deepEqual(got, whole);
});

test("a 100 MiB length prefix is rejected as soon as its 4 bytes arrive, before anything is allocated", () => {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(100 * 1024 * 1024, 0);
  const before = process.memoryUsage().arrayBuffers;
  const d = new FrameDecoder();
  assert.deepEqual(d.push(prefix.subarray(0, 2)), []);
  assert.throws(
    () => d.push(prefix.subarray(2)),
    (e: unknown) => e instanceof FrameError && e.reason === "frame-too-large",
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 8 * 1024 * 1024);
  // The decoder stays failed: the stream has lost its framing.
  assert.throws(() => d.push(Buffer.alloc(1)), FrameError);
  // A configured limit applies the same way.
  const small = new FrameDecoder({ maxFrameBytes: 100 });
  const big = encodeCommand(sample(0, Buffer.alloc(200)));
  assert.throws(
    () => small.push(big),
    (e: unknown) => e instanceof FrameError && e.reason === "frame-too-large",
  );
});

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof FrameError, `expected FrameError, got ${String(e)}`);
    return e.reason;
  }
  return "no error";
}

test("malformed frames fail with a typed FrameError naming the reason", () => {
  const neg = Buffer.from("ffffff00", "hex");
  assert.equal(
    reasonOf(() => new FrameDecoder().push(neg)),
    "bad-length",
  );
  assert.equal(
    reasonOf(() => new FrameDecoder().push(Buffer.from("00000002abcd", "hex"))),
    "bad-length",
  );
  // Header length 0x000100 with a 10-byte frame.
  assert.equal(
    reasonOf(() => decodeCommand(Buffer.from("0000000a00000100" + "00".repeat(6), "hex"))),
    "header-too-long",
  );
  assert.equal(
    reasonOf(() => decodeCommand(frame(2, Buffer.from("{}")))),
    "unknown-serialize-type",
  );
  assert.equal(
    reasonOf(() => decodeCommand(frame(0x7f, Buffer.from("{}")))),
    "unknown-serialize-type",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame("{not json"))),
    "bad-json-header",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame("[1,2]"))),
    "bad-json-header",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame("42"))),
    "bad-json-header",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame({ opaque: 1 }))),
    "bad-json-header",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame({ code: "ten" }))),
    "bad-json-header",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame({ code: 1.5 }))),
    "bad-json-header",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame({ code: 1, extFields: [1] }))),
    "bad-json-header",
  );
  assert.equal(
    reasonOf(() => decodeCommand(jsonFrame(""))),
    "bad-json-header",
  );
  // Whole-frame decoding of a cut frame.
  const good = encodeCommand(sample(0, Buffer.from("xyz")));
  assert.equal(
    reasonOf(() => decodeCommand(good.subarray(0, good.length - 1))),
    "truncated",
  );
  assert.equal(
    reasonOf(() => decodeCommand(good.subarray(0, 3))),
    "truncated",
  );
  // A stream that ends inside a frame.
  const d = new FrameDecoder();
  assert.deepEqual(d.push(good.subarray(0, 20)), []);
  assert.equal(d.bufferedBytes, 16);
  assert.equal(
    reasonOf(() => d.finish()),
    "truncated",
  );
});

test("a bad JSON header that shows its opaque reports it, so the server can answer", () => {
  try {
    decodeCommand(jsonFrame({ opaque: 77, flag: 0 }));
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof FrameError);
    assert.equal(e.opaque, 77);
    assert.equal(e.flag, 0);
  }
});

test("malformed binary headers fail with bad-binary-header", () => {
  const good = encodeCommand(sample(1));
  const hl = good.readInt32BE(4) & 0xffffff;
  const header = good.subarray(8, 8 + hl);
  const mutate = (f: (h: Buffer) => Buffer): string =>
    reasonOf(() => decodeCommand(frame(1, f(Buffer.from(header)))));
  assert.equal(
    mutate((h) => h.subarray(0, 20)),
    "bad-binary-header",
  );
  assert.equal(
    mutate((h) => {
      h.writeInt32BE(-1, 13);
      return h;
    }),
    "bad-binary-header",
  );
  assert.equal(
    mutate((h) => {
      h.writeInt32BE(1 << 20, 13);
      return h;
    }),
    "bad-binary-header",
  );
  assert.equal(
    mutate((h) => h.subarray(0, h.length - 1)),
    "bad-binary-header",
  );
  assert.equal(
    mutate((h) => Buffer.concat([h, Buffer.from([0])])),
    "bad-binary-header",
  );
  const remarkLen = header.readInt32BE(13);
  const mapAt = 17 + remarkLen;
  assert.equal(
    mutate((h) => {
      h.writeInt16BE(-5, mapAt + 4);
      return h;
    }),
    "bad-binary-header",
  );
  assert.equal(
    mutate((h) => {
      h.writeInt16BE(0x7fff, mapAt + 4);
      return h;
    }),
    "bad-binary-header",
  );
  // The fixed part was readable, so the opaque is known.
  try {
    decodeCommand(frame(1, header.subarray(0, header.length - 1)));
  } catch (e) {
    assert.ok(e instanceof FrameError);
    assert.equal(e.opaque, header.readInt32BE(5));
  }
});

test("frames decoded before a bad one in the same chunk are handed back on the error", () => {
  const a = sample(0);
  const b = sample(1);
  const chunk = Buffer.concat([encodeCommand(a), encodeCommand(b), jsonFrame("nope")]);
  try {
    new FrameDecoder().push(chunk);
    assert.fail("should throw");
  } catch (e) {
    assert.ok(e instanceof FrameError);
    assert.equal(e.decoded.length, 2);
    assertSame(e.decoded[0] as RemotingCommand, a);
    assertSame(e.decoded[1] as RemotingCommand, b);
  }
});

test("random bytes and mutated frames never make the decoder throw anything but FrameError", () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const valid = [encodeCommand(sample(0, Buffer.from("abc"))), encodeCommand(sample(1, Buffer.from("abc")))];
  const deadline = Date.now() + 3000;
  for (let i = 0; i < 20000 && Date.now() < deadline; i++) {
    let input: Buffer;
    if (i % 3 === 0) {
      input = Buffer.alloc(rnd(64));
      for (let j = 0; j < input.length; j++) input[j] = rnd(256);
    } else {
      input = Buffer.from(valid[i % 2] as Buffer);
      for (let k = 0, m = 1 + rnd(4); k < m; k++) input[rnd(input.length)] = rnd(256);
      if (rnd(4) === 0) input = input.subarray(0, rnd(input.length));
    }
    const d = new FrameDecoder({ maxFrameBytes: 1024 });
    try {
      const cut = rnd(input.length + 1);
      d.push(input.subarray(0, cut));
      d.push(input.subarray(cut));
    } catch (e) {
      assert.ok(e instanceof FrameError, `input ${input.toString("hex")} threw ${String(e)}`);
    }
  }
});

test("binary header: short and long text, ASCII, accented, CJK and surrogate pairs, byte for byte as Java writes them", () => {
  const texts = [
    "",
    "x",
    "false",
    "a".repeat(23),
    "b".repeat(24),
    "TAGS\u0001TagA\u0002KEYS\u0001k1 k2\u0002".repeat(3),
  ];
  for (const extra of ["é", "主题", "🚀"]) for (const t of [...texts]) texts.push(t + extra, extra + t);
  const ext: Record<string, string> = {};
  texts.forEach((t, i) => (ext[`k${i}${t.slice(0, 30)}`] = t));
  const cmd = createRequest(RequestCode.SEND_MESSAGE_V2, ext, Buffer.from("body"));
  cmd.serializeType = SerializeType.ROCKETMQ;
  cmd.remark = texts[texts.length - 1]!;
  // RocketMQSerializable.rocketMQProtocolEncode, written out with Buffer.from for every string.
  const parts: Buffer[] = [];
  const fixed = Buffer.alloc(13);
  fixed.writeInt16BE(cmd.code, 0);
  fixed[2] = 0; // JAVA
  fixed.writeInt16BE(cmd.version, 3);
  fixed.writeInt32BE(cmd.opaque, 5);
  fixed.writeInt32BE(cmd.flag, 9);
  parts.push(fixed);
  const len32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  const remark = Buffer.from(cmd.remark, "utf8");
  parts.push(len32(remark.length), remark);
  const map: Buffer[] = [];
  for (const [k, v] of Object.entries(ext)) {
    const kb = Buffer.from(k, "utf8");
    const vb = Buffer.from(v, "utf8");
    const kl = Buffer.alloc(2);
    kl.writeInt16BE(kb.length);
    map.push(kl, kb, len32(vb.length), vb);
  }
  const mapBytes = Buffer.concat(map);
  parts.push(len32(mapBytes.length), mapBytes);
  const header = Buffer.concat(parts);
  const expected = frame(SerializeType.ROCKETMQ, header, Buffer.from("body"));
  const bytes = encodeCommand(cmd);
  assert.deepEqual(bytes, expected);
  assertSame(decodeCommand(bytes), cmd);
});
