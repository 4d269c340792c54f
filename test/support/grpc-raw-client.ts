// A bare MessagingService client (grpc-js, our proto copy) for tests that send what the official clients never
// would. Responses decode as the server's requests do: enums by name, so `status.code` reads "OK", "BAD_REQUEST".
import * as grpc from "@grpc/grpc-js";
import { messagingServiceClient } from "../../src/protocol/grpc/proto.js";

export interface RawStatus {
  code?: string;
  message?: string;
}

type Callback = (e: grpc.ServiceError | null, r: unknown) => void;
type UnaryMethod = (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void;
type StreamMethod = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
) => grpc.ClientReadableStream<unknown>;

export class RawClient {
  readonly client: grpc.Client;

  constructor(
    addr: string,
    readonly clientId = `raw-${process.pid}-${Math.random().toString(36).slice(2)}`,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const Ctor = messagingServiceClient();
    this.client = new Ctor(addr, credentials);
  }

  metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set("x-mq-client-id", this.clientId);
    md.set("x-mq-protocol", "v2");
    md.set("x-mq-language", "HTTP");
    return md;
  }

  unary<T = { status?: RawStatus } & Record<string, unknown>>(
    method: string,
    req: unknown,
    timeoutMs = 10_000,
  ): Promise<T> {
    const m = (this.client as unknown as Record<string, UnaryMethod>)[method]!.bind(this.client);
    return new Promise((resolve, reject) =>
      m(req, this.metadata(), { deadline: Date.now() + timeoutMs }, (e, r) =>
        e ? reject(e) : resolve(r as T),
      ),
    );
  }

  /** A server-streaming call read to its end. */
  async stream<T = Record<string, unknown>>(method: string, req: unknown, timeoutMs = 10_000): Promise<T[]> {
    const m = (this.client as unknown as Record<string, StreamMethod>)[method]!.bind(this.client);
    const s = m(req, this.metadata(), { deadline: Date.now() + timeoutMs });
    const out: T[] = [];
    for await (const f of s) out.push(f as T);
    return out;
  }

  /** The Settings frame a consumer opens its Telemetry stream with. */
  static consumerSettings(clientType: string, group: string, topic: string, tags = "*") {
    return {
      settings: {
        clientType,
        subscription: {
          group: { name: group },
          subscriptions: [{ topic: { name: topic }, expression: { type: "TAG", expression: tags } }],
        },
      },
    };
  }

  /** Opens this client's Telemetry stream; `frames` collects what the broker writes on it. */
  telemetry<F = Record<string, unknown>>(): {
    stream: grpc.ClientDuplexStream<unknown, F>;
    frames: F[];
    ended: Promise<void>;
  } {
    const stream = (
      this.client as unknown as { Telemetry(md: grpc.Metadata): grpc.ClientDuplexStream<unknown, F> }
    ).Telemetry(this.metadata());
    const frames: F[] = [];
    stream.on("data", (f: F) => frames.push(f));
    const ended = new Promise<void>((resolve) => stream.on("end", resolve).on("error", () => resolve()));
    return { stream, frames, ended };
  }

  close(): void {
    this.client.close();
  }
}
