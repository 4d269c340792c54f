// NameServer side of the remoting protocol: body codec, request handlers and the client calls brokers and
// our SDK make to a NameServer.

export * from "./body-codec.js";
export { NamesrvHeaderError } from "./header.js";
export type { NamesrvHandlerContext } from "./header.js";
export { registerNamesrvHandlers, NAMESRV_REQUEST_CODES } from "./handlers.js";
export * from "./namesrv-client.js";
