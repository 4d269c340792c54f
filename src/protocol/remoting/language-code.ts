// Client languages as the remoting header names them. JSON headers carry the name ("JAVA"); the binary
// "ROCKETMQ" header carries the byte, numbered as in RocketMQ's LanguageCode.java.

const LANGUAGES = [
  "JAVA",
  "CPP",
  "DOTNET",
  "PYTHON",
  "DELPHI",
  "ERLANG",
  "RUBY",
  "OTHER",
  "HTTP",
  "GO",
  "PHP",
  "OMS",
  "RUST",
  "NODE_JS",
] as const;

const OTHER = 7;
const byName = new Map<string, number>(LANGUAGES.map((n, i) => [n, i]));

/** Byte for the binary header; names we do not know travel as OTHER. */
export function languageToByte(name: string): number {
  return byName.get(name) ?? OTHER;
}

/** Name for a binary-header byte; Java maps an unknown byte to null, we call it OTHER. */
export function languageFromByte(b: number): string {
  return LANGUAGES[b] ?? "OTHER";
}
