// The gRPC endpoint for RocketMQ 5.x clients: apache.rocketmq.v2.MessagingService over plaintext HTTP/2 (the
// official clients use no TLS unless told to). Handlers translate and call the broker; failures become a Status
// in the response (never a gRPC error, which the clients report as a transport failure). Requests beyond
// maxInflightRequests (unary calls and receives in progress) are answered TOO_MANY_REQUESTS at once. With access
// control on, every call is checked before its handler runs (access-check.ts).
import { isIPv6 } from "node:net";
import * as grpc from "@grpc/grpc-js";
import type { Broker } from "../../broker/broker.js";
import type { RemotingLogger } from "../remoting/logger.js";
import { silentLogger } from "../remoting/logger.js";
import { checkAccess } from "./access-check.js";
import type { CallInfo } from "./access-check.js";
import { ackMessage, changeInvisibleDuration, forwardToDeadLetter } from "./ack-message.js";
import { heartbeat, notifyClientTermination } from "./client-lifecycle.js";
import { callerOf } from "./context.js";
import type { Caller, GrpcContext } from "./context.js";
import { endTransaction } from "./end-transaction.js";
import { recallMessage } from "./recall-message.js";
import { syncLiteSubscription } from "./lite-subscription.js";
import { MAX_BODY_BYTES } from "./message-codec.js";
import { messagingServiceDefinition } from "./proto.js";
import { ReceiptRenewals } from "./receipt-renewals.js";
import type { RenewalOptions } from "./receipt-renewals.js";
import { receiveMessage } from "./receive-message.js";
import { ReceivePolls } from "./receive-polls.js";
import { queryAssignment, queryRoute } from "./route.js";
import { sendMessage } from "./send-message.js";
import { Code, statusOf } from "./status.js";
import type {
  ReceiveMessageRequest,
  RecallMessageRequest,
  ReceiveMessageResponse,
  SyncLiteSubscriptionRequest,
  Status,
  TelemetryCommand,
} from "./wire-types.js";
import { SessionRegistry } from "./telemetry-session.js";
import { SniffingListener, sniffingAcceptor } from "../tls-sniff.js";
import type { TlsMaterial, TlsMode } from "../tls-sniff.js";
import { handleTelemetry } from "./telemetry.js";

export interface GrpcServerOptions {
  logger?: RemotingLogger;
  /** Unary calls and receives in progress beyond which requests get TOO_MANY_REQUESTS (default 10,000). */
  maxInflightRequests?: number;
  /** Auto-renewal of what push consumers hold (tests shorten it). */
  renewal?: RenewalOptions;
  /** TLS on the port (see tls-sniff.ts); default: plaintext only. */
  tls?: { mode: TlsMode; material: () => Promise<TlsMaterial> };
}

/** Room for a full-size body plus the message's properties and the request around it. */
const MAX_MESSAGE_BYTES = MAX_BODY_BYTES + 1024 * 1024;

const BUSY: Status = { code: Code.TOO_MANY_REQUESTS, message: "too many requests in flight, retry later" };

type ReceiveHandler = grpc.handleServerStreamingCall<ReceiveMessageRequest, ReceiveMessageResponse>;
type UnaryFn<Req> = (req: Req, caller: Caller) => { status: Status } | Promise<{ status: Status }>;

export class GrpcServer {
  readonly sessions: SessionRegistry;
  private readonly renewals: ReceiptRenewals;
  private readonly server: grpc.Server;
  private readonly logger: RemotingLogger;
  private readonly maxInflight: number;
  private readonly tls: GrpcServerOptions["tls"];
  private front: SniffingListener | undefined;
  private readonly polls = new ReceivePolls();
  private inflight = 0;
  private boundPort = 0;
  private readonly ctx: GrpcContext;

  constructor(
    private readonly broker: Broker,
    opts: GrpcServerOptions = {},
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.maxInflight = opts.maxInflightRequests ?? 10_000;
    this.tls = opts.tls;
    this.renewals = new ReceiptRenewals(broker, opts.renewal, (id) => this.sessions.get(id)?.seenAt);
    this.sessions = new SessionRegistry((clientId) => {
      broker.lite.dropClient(clientId);
      this.renewals.dropClient(clientId);
    });
    this.ctx = {
      broker,
      sessions: this.sessions,
      polls: this.polls,
      renewals: this.renewals,
      logger: this.logger,
      endpoint: () => ({ host: broker.config.advertisedHost, port: this.boundPort }),
    };
    this.server = new grpc.Server({ "grpc.max_receive_message_length": MAX_MESSAGE_BYTES });
    const ctx = this.ctx;
    const notSupported = (name: string) =>
      this.unary(name, () => ({
        status: { code: Code.NOT_IMPLEMENTED, message: `${name} is not supported by this broker` },
      }));
    this.server.addService(messagingServiceDefinition(), {
      QueryRoute: this.unary("QueryRoute", (r) => queryRoute(ctx, r)),
      Heartbeat: this.unary("Heartbeat", (r, c) => heartbeat(ctx, r, c)),
      SendMessage: this.unary("SendMessage", (r, c) => sendMessage(ctx, r, c)),
      QueryAssignment: this.unary("QueryAssignment", (r, c) => queryAssignment(ctx, r, c)),
      ReceiveMessage: ((call) => this.receive(call)) satisfies ReceiveHandler,
      AckMessage: this.unary("AckMessage", (r) => ackMessage(ctx, r)),
      ForwardMessageToDeadLetterQueue: this.unary("ForwardMessageToDeadLetterQueue", (r) =>
        forwardToDeadLetter(ctx, r),
      ),
      PullMessage: ((call) => {
        call.write({ status: { code: Code.NOT_IMPLEMENTED, message: "PullMessage is not supported" } });
        call.end();
      }) satisfies grpc.handleServerStreamingCall<unknown, { status: Status }>,
      UpdateOffset: notSupported("UpdateOffset"),
      GetOffset: notSupported("GetOffset"),
      QueryOffset: notSupported("QueryOffset"),
      EndTransaction: this.unary("EndTransaction", (r) => endTransaction(ctx, r)),
      Telemetry: ((call) => this.telemetry(call)) satisfies grpc.handleBidiStreamingCall<
        TelemetryCommand,
        TelemetryCommand
      >,
      NotifyClientTermination: this.unary("NotifyClientTermination", (r, c) =>
        notifyClientTermination(ctx, r, c),
      ),
      ChangeInvisibleDuration: this.unary("ChangeInvisibleDuration", (r) => changeInvisibleDuration(ctx, r)),
      RecallMessage: this.unary("RecallMessage", (r: RecallMessageRequest, c) => recallMessage(ctx, r, c)),
      SyncLiteSubscription: this.unary("SyncLiteSubscription", (r: SyncLiteSubscriptionRequest, c) =>
        syncLiteSubscription(ctx, r, c),
      ),
    });
  }

  /** The bound port, once listening. */
  get port(): number {
    return this.boundPort;
  }

  /** Telemetry sessions open now: one per connected client (metrics count them as gRPC connections). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  private unary<Req>(name: string, fn: UnaryFn<Req>): grpc.handleUnaryCall<Req, { status: Status }> {
    return (call, callback) => {
      if (this.inflight >= this.maxInflight) {
        callback(null, { status: BUSY });
        return;
      }
      this.inflight++;
      const caller = callerOf(call);
      new Promise<{ status: Status }>((resolve) => {
        checkAccess(this.broker.acl, call, name, call.request);
        resolve(fn(call.request, caller));
      })
        .catch((e: unknown) => {
          this.logger.debug({ rpc: name, clientId: caller.clientId, err: String(e) }, "gRPC request failed");
          return { status: statusOf(e) };
        })
        .then((res) => {
          this.inflight--;
          callback(null, res);
        });
    };
  }

  private receive(call: grpc.ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>): void {
    if (this.inflight >= this.maxInflight) {
      call.write({ status: BUSY });
      call.end();
      return;
    }
    const refused = this.refusal(call, "ReceiveMessage", call.request);
    if (refused) {
      call.write({ status: refused });
      call.end();
      return;
    }
    this.inflight++;
    const abort = new AbortController();
    const done = this.polls.add(callerOf(call).clientId, abort);
    call.on("cancelled", () => abort.abort());
    void receiveMessage(this.ctx, call, abort.signal).finally(() => {
      this.inflight--;
      done();
    });
  }

  // The opening needs a valid account; each Settings command on the stream is checked by handleTelemetry. A
  // refusal is a bare status and the end of the call, as for a stream without a client id: the client's
  // startup fails with it.
  private telemetry(call: grpc.ServerDuplexStream<TelemetryCommand, TelemetryCommand>): void {
    const refused = this.refusal(call, "Telemetry", undefined);
    if (refused) {
      call.write({ status: refused });
      call.end();
      return;
    }
    handleTelemetry(this.ctx, call);
  }

  /** The status refusing a streaming call by access control, or undefined when it may go on. */
  private refusal(call: CallInfo, rpc: string, req: unknown): Status | undefined {
    try {
      checkAccess(this.broker.acl, call, rpc, req);
      return undefined;
    } catch (e) {
      this.logger.debug({ rpc, clientId: callerOf(call).clientId, err: String(e) }, "gRPC request refused");
      return statusOf(e);
    }
  }

  async listen(port: number, host: string): Promise<number> {
    const tls = this.tls;
    if (tls !== undefined && tls.mode !== "disabled") {
      // TLS beside plaintext (see tls-sniff.ts): grpc-js takes each sniffed socket through a connection injector
      // for its credentials, and its shutdown closes them (GOAWAY) as it does its own listener's.
      const plain = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
      const acceptor = sniffingAcceptor(
        tls,
        {
          plain: (s) => plain.injectConnection(s),
          tls: (m) => {
            // Client certificates are not asked for; the CA argument is given only so that grpc-js does not read
            // its default roots (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH) for a server.
            const creds = grpc.ServerCredentials.createSsl(m.cert, [
              { private_key: m.key, cert_chain: m.cert },
            ]);
            const secure = this.server.createConnectionInjector(creds);
            return (s) => secure.injectConnection(s);
          },
        },
        (msg, err) => this.logger.warn({ err }, `gRPC port: ${msg}`),
      );
      this.front = new SniffingListener(acceptor);
      this.boundPort = await this.front.listen(port, host);
      return this.boundPort;
    }
    const target = isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return this.boundPort;
  }

  /** Ends telemetry streams and long polls, then waits (up to 3 s) for calls in progress. */
  async close(): Promise<void> {
    this.front?.stopAccepting();
    this.renewals.close();
    this.sessions.closeAll();
    this.polls.abortAll();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 3000);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    this.front?.close();
  }
}
