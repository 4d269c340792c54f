// Big-endian integers in a Buffer, for the hot codecs. Buffer's readInt32BE and friends cost ~25 ns a call on
// this VM (argument checks V8 does not remove); these inline to a few instructions. Callers check the bounds.

export function i16(b: Buffer, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16;
}

export function i32(b: Buffer, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

export function put16(b: Buffer, p: number, v: number): void {
  b[p] = v >>> 8;
  b[p + 1] = v;
}

export function put32(b: Buffer, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}
