// The HTTP endpoint (Alibaba Cloud MQ HTTP protocol) on fastify: routing, signatures, request ids, and every
// error as an XML <Error> with Content-Type text/xml, which is all the SDKs look at.
import { SniffingListener, tlsAcceptor } from "../tls-sniff.js";
import type { TlsOption } from "../tls-sniff.js";
import { randomBytes } from "node:crypto";
import Fastify from "fastify";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Broker } from "../../broker/broker.js";
import { UniqueIdGenerator } from "../../common/message-id.js";
import { withNamespace } from "../../common/topic.js";
import { hostAddress } from "../../common/socket-address.js";
import type { HostAddress } from "../../common/socket-address.js";
import type { HttpEndpointConfig } from "./http-config.js";
import { HttpError, toHttpError } from "./http-error.js";
import { ack, consume, publish } from "./handlers.js";
import type { HttpContext, Reply } from "./handlers.js";
import { checkAccess } from "./access-check.js";
import { checkContentMd5 } from "./signature.js";
import { errorDocument } from "./xml.js";

const XML = "text/xml;charset=utf-8";

export interface HttpEndpoint {
  readonly port: number;
  /** Open client connections. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Each keep-alive connection's address, parsed once (a client's requests reuse a few connections). */
const remotes = new WeakMap<object, HostAddress>();

function remote(req: FastifyRequest): HostAddress {
  let h = remotes.get(req.socket);
  if (h !== undefined) return h;
  try {
    h = hostAddress(req.socket.remoteAddress ?? "127.0.0.1", req.socket.remotePort ?? 0);
  } catch {
    h = hostAddress("127.0.0.1", 0);
  }
  remotes.set(req.socket, h);
  return h;
}

/**
 * Serves the MQ HTTP protocol; `more` mounts other routes on the same port (the admin API, metrics, the console).
 */
export async function startHttpEndpoint(
  broker: Broker,
  config: HttpEndpointConfig,
  more?: (app: FastifyInstance) => void | Promise<void>,
  tls?: TlsOption,
): Promise<HttpEndpoint> {
  const ctx: HttpContext = { broker, config, ids: new UniqueIdGenerator(broker.storeHost.ip) };
  const app = Fastify({
    // The body holds one message of up to maxBodyBytes, XML-wrapped (and possibly escaped).
    bodyLimit: config.maxBodyBytes * 2 + 64 * 1024,
    // A topic name may be 127 characters (more once percent-encoded); find-my-way's default limit is 100.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 1024 },
    // The router's own refusals (a bad percent-encoding, an over-long path segment) answer in the protocol's
    // XML like every other error: the SDK reads an error only from an <Error> document.
    frameworkErrors: (e, req, reply) =>
      fail(req, reply, new HttpError(e.statusCode ?? 400, "InvalidArgument", e.message)),
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
  });
  let port = 0;
  const hostId = () => `http://${broker.config.advertisedHost}:${port}`;
  const send = (reply: FastifyReply, r: Reply) => {
    reply.code(r.status);
    if (r.body === undefined) return reply.send();
    return reply.header("content-type", XML).send(r.body);
  };
  const fail = (req: FastifyRequest, reply: FastifyReply, e: unknown) => {
    const err = toHttpError(e);
    const id = String(reply.getHeader("x-mq-request-id") ?? req.id);
    return reply
      .code(err.status)
      .header("content-type", XML)
      .send(errorDocument(err.code, err.message, id, hostId()));
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  app.addHook("onRequest", async (_req, reply) => {
    reply.header("x-mq-request-id", randomBytes(12).toString("hex").toUpperCase());
  });
  app.setErrorHandler((e: Error & { statusCode?: number }, req, reply) => {
    if (e.statusCode === 413) {
      return fail(
        req,
        reply,
        new HttpError(413, "InvalidArgument", `the request body is larger than the limit`),
      );
    }
    if (e.statusCode && e.statusCode < 500)
      return fail(req, reply, new HttpError(e.statusCode, "InvalidArgument", e.message));
    return fail(req, reply, e);
  });
  app.setNotFoundHandler((req, reply) =>
    fail(req, reply, new HttpError(404, "InvalidRequestURL", `no such resource: ${req.method} ${req.url}`)),
  );

  app.route({
    method: ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"],
    url: "/topics/:topic/messages",
    handler: async (req, reply) => {
      try {
        const body = Buffer.isBuffer(req.body) ? req.body : undefined;
        const signed = { method: req.method, url: req.raw.url ?? req.url, headers: req.headers, body };
        checkContentMd5(signed);
        const raw = req.query as Record<string, string | undefined>;
        // An instance id (ns) puts the topic and group in that instance's namespace, where a TCP client with the
        // same namespace (ali-ons, the ONS SDKs) finds them.
        const ns = raw["ns"];
        const topic = withNamespace(ns, (req.params as { topic: string }).topic);
        const group = raw["consumer"];
        const query = group ? { ...raw, consumer: withNamespace(ns, group) } : raw;
        checkAccess(ctx.broker.acl, signed, req.ip, req.method, topic, query, config.maxClockSkewMs);
        switch (req.method) {
          case "POST":
            return send(reply, await publish(ctx, topic, body, remote(req)));
          case "GET": {
            // A long poll ends early when the client goes away.
            const ac = new AbortController();
            reply.raw.on("close", () => ac.abort());
            return send(reply, await consume(ctx, topic, query, ac.signal));
          }
          case "DELETE":
            return send(reply, await ack(ctx, topic, query, body));
          default:
            throw new HttpError(405, "MethodNotAllowed", `${req.method} is not allowed on ${req.url}`);
        }
      } catch (e) {
        return fail(req, reply, e);
      }
    },
  });

  await more?.(app);
  let open = 0;
  app.server.on("connection", (s) => {
    open++;
    s.on("close", () => open--);
  });
  if (tls === undefined || tls.mode === "disabled") {
    await app.listen({ port: config.port, host: config.host });
    const addr = app.server.address();
    port = typeof addr === "object" && addr ? addr.port : config.port;
    return {
      get port() {
        return port;
      },
      get connections() {
        return open;
      },
      close: () => app.close(),
    };
  }
  // HTTPS beside HTTP on the one port (see tls-sniff.ts): our listener sniffs each connection and hands fastify's
  // server the socket, or a TLS socket over it, as if that server had accepted it.
  await app.ready();
  const front = new SniffingListener(
    tlsAcceptor(
      tls,
      (s) => app.server.emit("connection", s),
      (msg, err) => app.log.warn({ err }, `HTTP port: ${msg}`),
    ),
  );
  port = await front.listen(config.port, config.host);
  return {
    get port() {
      return port;
    },
    get connections() {
      return open;
    },
    close: async () => {
      front.close();
      await app.close();
    },
  };
}
