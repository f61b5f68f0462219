/**
 * Embedding vectors in OpenAI's `encoding_format: "base64"` form: the bytes of little-endian float32
 * values, base64-encoded (PROTOCOLS.md §1.6).
 */

/** @example toBase64Float32([1]) // 'AACAPw==' */
export function toBase64Float32(values: number[]): string {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => {
    buffer.writeFloatLE(value, i * 4);
  });
  return buffer.toString('base64');
}

/** The inverse of {@link toBase64Float32}. */
export function fromBase64Float32(text: string): number[] {
  const buffer = Buffer.from(text, 'base64');
  return Array.from({ length: Math.floor(buffer.length / 4) }, (_, i) => buffer.readFloatLE(i * 4));
}
