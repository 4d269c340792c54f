// Requests as a Java client sends them over remoting, for tests that talk to a broker with a bare RemotingClient.
import { createRequest } from "../../src/protocol/remoting/command.js";
import type { RemotingCommand } from "../../src/protocol/remoting/command.js";
import { RequestCode } from "../../src/protocol/remoting/request-code.js";
import { encodeProperties } from "../../src/common/properties.js";

/** SEND_MESSAGE_V2 from producer group PG, with the one-letter header fields of SendMessageRequestHeaderV2. */
export function sendV2Request(
  topic: string,
  queueId: number,
  body: string,
  props: Record<string, string>,
): RemotingCommand {
  return createRequest(
    RequestCode.SEND_MESSAGE_V2,
    {
      a: "PG",
      b: topic,
      c: "TBW102",
      d: "4",
      e: String(queueId),
      f: "0",
      g: String(Date.now()),
      h: "0",
      i: encodeProperties(props),
      j: "0",
      k: "false",
    },
    Buffer.from(body),
  );
}

/** PULL_MESSAGE with its subscription in the request; `suspend` > 0 lets the broker hold it that long. */
export function pullRequest(
  group: string,
  topic: string,
  queueId: number,
  offset: number,
  sub = "*",
  suspend = 0,
): RemotingCommand {
  return createRequest(RequestCode.PULL_MESSAGE, {
    consumerGroup: group,
    topic,
    queueId: String(queueId),
    queueOffset: String(offset),
    maxMsgNums: "32",
    sysFlag: String(suspend ? 6 : 4),
    commitOffset: "0",
    suspendTimeoutMillis: String(suspend),
    subscription: sub,
    subVersion: "0",
  });
}
