// Serves the web console's built files (console/ built by Vite into dist/console) at /console on the HTTP port.
// /console and /console/ serve index.html, and so does any path under /console that names no file, so deep links
// land on the single-page app; a missing asset (a path with an extension) is a 404. Hashed assets are cached for
// good, index.html never.
import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

export function registerConsole(app: FastifyInstance, dir: string): void {
  const root = resolve(dir);

  const index = async (reply: FastifyReply) => {
    try {
      const html = await readFile(join(root, "index.html"));
      return reply.header("content-type", TYPES[".html"]).header("cache-control", "no-cache").send(html);
    } catch {
      return reply
        .code(404)
        .header("content-type", TYPES[".txt"])
        .send(`the console is not built (no ${join(root, "index.html")}): run npm run build\n`);
    }
  };

  app.get("/console", (_req, reply) => index(reply));
  app.get("/console/*", async (req, reply) => {
    const rest = (req.params as { "*"?: string })["*"] ?? "";
    const file = resolve(root, rest);
    if (!rest || (file !== root && !file.startsWith(root + sep))) return index(reply);
    try {
      const data = await readFile(file);
      const ext = extname(file).toLowerCase();
      return reply
        .header("content-type", TYPES[ext] ?? "application/octet-stream")
        .header(
          "cache-control",
          rest.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        )
        .send(data);
    } catch {
      if (extname(rest)) {
        return reply.code(404).header("content-type", TYPES[".txt"]).send(`no such file: ${rest}\n`);
      }
      return index(reply);
    }
  });
}
