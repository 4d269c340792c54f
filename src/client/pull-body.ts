// PULL_MESSAGE bodies (stored records back to back, src/common/message-record.ts layout) decoded straight into
// the listener's ReceivedMessage. This is the consumer's hot path, so it reads the fields in place instead of
// going through decodeRecord + toReceivedMessage: no host Buffers, no intermediate record, one pass over the
// properties for both maps, and the strings that repeat from message to message (topic, hosts, the offsetMsgId
// prefix) are kept from the last message and reused while their bytes are the same. The result is the same as
// toReceivedMessage(decodeRecord(...)) field for field (test/client/units.test.ts compares them).
import { deliveredBody } from "../common/compressed-body.js";
import { createOffsetMsgId } from "../common/message-id.js";
import { MAGIC_V2, RecordFormatError, SysFlag, checkedRecordSize } from "../common/message-record.js";
import { decodeProperties } from "../common/properties.js";
import { formatHost } from "../common/socket-address.js";
import type { HostAddress } from "../common/socket-address.js";
import { receivedMessage, userProperties } from "./message.js";
import type { ReceivedMessage } from "./message.js";

const TWO_32 = 4294967296;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, "0"));

/** A host address as stored (4 or 16 bytes of ip, then a 4-byte port), remembered with its strings. */
class HostAt {
  private ip = Buffer.alloc(0);
  private port = -1;
  private addr: HostAddress | undefined;
  text = "";
  /** The offsetMsgId up to the offset's low 32 bits, for offsets whose high 32 bits are idHigh. */
  private idPrefix = "";
  private idHigh = -1;

  /** Makes `buf[pos..]` (ip of `n` bytes + port) the current host; a byte loop is cheaper than a native call. */
  private use(buf: Buffer, pos: number, n: number): void {
    const port = buf.readInt32BE(pos + n);
    const ip = this.ip;
    if (port === this.port && ip.length === n) {
      let i = 0;
      while (i < n && ip[i] === buf[pos + i]) i++;
      if (i === n) return;
    }
    this.ip = Buffer.from(buf.subarray(pos, pos + n));
    this.port = port;
    this.addr = { ip: this.ip, port };
    this.text = formatHost(this.addr);
    this.idPrefix = "";
  }

  format(buf: Buffer, pos: number, n: number): string {
    this.use(buf, pos, n);
    return this.text;
  }

  /**
   * createOffsetMsgId(host, phyOffset) with the host part and the offset's high 32 bits reused (they change
   * every 4 GiB of commit log); format() must have been called first. Byte lookups instead of
   * toString(16).toUpperCase().padStart: this runs once per message.
   */
  offsetMsgId(phyOffset: number): string {
    if (!Number.isSafeInteger(phyOffset) || phyOffset < 0) return createOffsetMsgId(this.addr!, phyOffset);
    const hi = Math.floor(phyOffset / TWO_32);
    if (this.idPrefix === "" || hi !== this.idHigh) {
      const id = createOffsetMsgId(this.addr!, hi * TWO_32);
      this.idPrefix = id.slice(0, id.length - 8);
      this.idHigh = hi;
    }
    const lo = phyOffset >>> 0;
    return (
      this.idPrefix + (HEX[lo >>> 24]! + HEX[(lo >>> 16) & 255]! + HEX[(lo >>> 8) & 255]! + HEX[lo & 255]!)
    );
  }
}

/** The last topic decoded, kept as bytes and string: a pull's records nearly always share it. */
class TopicAt {
  private bytes = Buffer.alloc(0);
  private text = "";

  read(buf: Buffer, pos: number, len: number): string {
    const b = this.bytes;
    if (b.length === len && len <= 64) {
      let i = 0;
      while (i < len && b[i] === buf[pos + i]) i++;
      if (i === len) return this.text;
    }
    this.text = buf.toString("utf8", pos, pos + len);
    this.bytes = Buffer.from(buf.subarray(pos, pos + len));
    return this.text;
  }
}

const bornHosts = new HostAt();
const storeHosts = new HostAt();
const topics = new TopicAt();

function overrun(): never {
  throw new RecordFormatError("record fields overrun its declared size");
}

/** Decodes the record at `pos` as decodeRecord would (same checks, same errors) into a ReceivedMessage. */
function decodeReceived(buf: Buffer, pos: number, brokerName: string): ReceivedMessage {
  const total = checkedRecordSize(buf, pos);
  const magic = buf.readInt32BE(pos + 4);
  const end = pos + total;
  if (pos + 48 > end) overrun();
  const sysFlag = buf.readInt32BE(pos + 36);
  let p = pos + 48;
  const bornN = sysFlag & SysFlag.BORNHOST_V6 ? 16 : 4;
  if (p + bornN + 12 > end) overrun();
  const bornHost = bornHosts.format(buf, p, bornN);
  p += bornN + 4;
  const storeTimestamp = buf.readInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4);
  p += 8;
  const storeN = sysFlag & SysFlag.STOREHOST_V6 ? 16 : 4;
  if (p + storeN + 20 > end) overrun();
  const storeHost = storeHosts.format(buf, p, storeN);
  p += storeN + 4;
  const reconsumeTimes = buf.readInt32BE(p);
  const bodyLen = buf.readInt32BE(p + 12);
  p += 16;
  if (bodyLen < 0) throw new RecordFormatError("negative body length");
  if (p + bodyLen > end) overrun();
  const stored = buf.subarray(p, p + bodyLen);
  p += bodyLen;
  let topicLen: number;
  if (magic === MAGIC_V2) {
    if (p + 2 > end) overrun();
    topicLen = buf.readInt16BE(p);
    p += 2;
  } else {
    if (p + 1 > end) overrun();
    topicLen = buf[p]!;
    p += 1;
  }
  if (p + topicLen + 2 > end) overrun();
  const pulledTopic = topics.read(buf, p, topicLen);
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  if (propsLen < 0) throw new RecordFormatError("negative properties length");
  if (p + propsLen > end) overrun();
  const s = propsLen === 0 ? "" : buf.toString("utf8", p, p + propsLen);
  p += propsLen;
  if (p !== end) throw new RecordFormatError(`record declares ${total} bytes but its fields take ${p - pos}`);

  const props = decodeProperties(s);
  const user = userProperties(props);

  const body = deliveredBody(stored, sysFlag);
  const physicalOffset = buf.readInt32BE(pos + 28) * TWO_32 + buf.readUInt32BE(pos + 32);
  return receivedMessage(
    props,
    user,
    body,
    pulledTopic,
    brokerName,
    storeHosts.offsetMsgId(physicalOffset),
    buf.readInt32BE(pos + 12),
    buf.readInt32BE(pos + 20) * TWO_32 + buf.readUInt32BE(pos + 24),
    physicalOffset,
    reconsumeTimes,
    buf.readInt32BE(pos + 40) * TWO_32 + buf.readUInt32BE(pos + 44),
    storeTimestamp,
    bornHost,
    storeHost,
    sysFlag,
    buf.readInt32BE(pos + 16),
  );
}

/**
 * Splits a PULL_MESSAGE body into messages. A record that does not decode ends the batch (the rest are skipped;
 * their offsets are still passed by nextBeginOffset, as the Java client does when decoding fails).
 */
export function decodePullBody(body: Buffer | undefined, brokerName: string): ReceivedMessage[] {
  const out: ReceivedMessage[] = [];
  if (!body) return out;
  let p = 0;
  while (p + 4 <= body.length) {
    let m: ReceivedMessage;
    try {
      m = decodeReceived(body, p, brokerName);
    } catch {
      break;
    }
    out.push(m);
    p += body.readInt32BE(p);
  }
  return out;
}
