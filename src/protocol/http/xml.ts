// XML of the HTTP protocol. Responses are written by hand so their shape is exactly what the SDKs parse: a root
// with the MQ namespace and plain child elements without attributes; message bodies and properties go in CDATA.
// Requests are read with fast-xml-parser, leniently (CDATA or escaped text, any whitespace).
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { HttpError } from "./http-error.js";

const NS = "http://mq.aliyuncs.com/doc/v1/";
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

/** A CDATA section; a "]]>" inside is split across two sections. */
export function cdata(s: string): string {
  return `<![CDATA[${s.replaceAll("]]>", "]]]]><![CDATA[>")}]]>`;
}

/** Child elements in order; undefined values are left out. Values are escaped unless already CDATA. */
export function elements(fields: [string, string | number | undefined][]): string {
  let out = "";
  for (const [name, v] of fields) {
    if (v === undefined) continue;
    const s = String(v);
    out += `<${name}>${s.startsWith("<![CDATA[") ? s : escapeText(s)}</${name}>`;
  }
  return out;
}

export function document(root: string, inner: string): string {
  return `${DECL}<${root} xmlns="${NS}">${inner}</${root}>`;
}

export function errorDocument(code: string, message: string, requestId: string, hostId: string): string {
  return document(
    "Error",
    elements([
      ["Code", code],
      ["Message", message],
      ["RequestId", requestId],
      ["HostId", hostId],
    ]),
  );
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => name === "ReceiptHandle",
});

/** Parses a request body whose root must be `root`; malformed XML is MalformedXML. */
export function parseRequest(body: Buffer | undefined, root: string): Record<string, unknown> {
  const text = body?.toString("utf8") ?? "";
  if (text.trim() === "") throw new HttpError(400, "MalformedXML", `the request needs a <${root}> XML body`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new HttpError(
      400,
      "MalformedXML",
      `the XML body is malformed: ${valid.err.msg} (line ${valid.err.line})`,
    );
  }
  if (strayCdataEnd(text)) {
    // The SDKs wrap a body in one CDATA section without splitting a "]]>" inside it; read leniently, the body
    // would be stored cut and reordered ("a ]]> b" as "a  b]]>") under an MD5 the sender never computed.
    throw new HttpError(
      400,
      "MalformedXML",
      'the XML body is malformed: "]]>" outside a CDATA section (a body that contains "]]>" cannot be sent in one CDATA section)',
    );
  }
  const doc = parser.parse(text) as Record<string, unknown>;
  const node = doc[root] === "" ? {} : doc[root];
  if (node === undefined || node === null || typeof node !== "object") {
    throw new HttpError(400, "MalformedXML", `the XML root must be <${root}>`);
  }
  return node as Record<string, unknown>;
}

/** True when a "]]>" stands outside CDATA, which XML allows only as a CDATA section's end (XML 1.0, 2.4). */
function strayCdataEnd(text: string): boolean {
  let from = 0;
  for (;;) {
    const end = text.indexOf("]]>", from);
    if (end < 0) return false;
    const open = text.indexOf("<![CDATA[", from);
    if (open < 0 || end < open) return true;
    const close = text.indexOf("]]>", open + 9);
    if (close < 0) return false; // unterminated: the validator has refused it already
    from = close + 3;
  }
}

/** The text of a child element ("" when empty, undefined when absent). */
export function textOf(node: Record<string, unknown>, name: string): string | undefined {
  const v = node[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "object" && "#text" in (v as object))
    return String((v as Record<string, unknown>)["#text"]);
  if (typeof v === "object") return "";
  return String(v);
}
