// grpc-js reads GRPC_DEFAULT_SSL_ROOTS_FILE_PATH when it is loaded, and the file at its first TLS channel. A test
// that needs a client without its own CA option (the official client's `sslEnabled`) to trust a broker's
// certificate imports this module before anything that loads grpc-js, then copies the certificate to ROOTS_FILE
// before that client connects.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOTS_FILE = join(tmpdir(), `rmq-grpc-roots-${process.pid}.pem`);
process.env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = ROOTS_FILE;
process.on("exit", () => rmSync(ROOTS_FILE, { force: true }));
