// The remoting protocol layer: codec (no I/O) and the TCP server/client built on it.

export * from "./command.js";
export * from "./request-code.js";
export * from "./response-code.js";
export * from "./frame-error.js";
export * from "./frame-codec.js";
export * from "./remoting-errors.js";
export * from "./logger.js";
export { RemotingConnection } from "./connection.js";
export type { CloseListener } from "./connection.js";
export { RequestDispatcher, remotingCodeOf } from "./request-dispatcher.js";
export type { RequestHandler } from "./request-dispatcher.js";
export { RemotingServer } from "./server.js";
export type { RemotingServerOptions, RemotingServerEvents } from "./server.js";
export { RemotingClient, parseAddress } from "./client.js";
export type { RemotingClientOptions, RemotingClientEvents } from "./client.js";
