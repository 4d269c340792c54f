// Java's String.hashCode over UTF-16 code units, as a signed 32-bit int. It is part of the protocol: tag hash
// codes in consume queues and SubscriptionData.codeSet, and index key hashes, must match the Java side bit for bit.
export function javaStringHashCode(s: string): number {
  return javaHashContinue(0, s);
}

/** The hash of `prefix + s` given the hash of `prefix`: lets callers hash "topic#key" without building it. */
export function javaHashContinue(prefixHash: number, s: string): number {
  let h = prefixHash;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  }
  return h;
}
