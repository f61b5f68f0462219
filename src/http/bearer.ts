/**
 * The one reader of `Authorization: Bearer <token>` (the /v1 data plane and the /api guards both use it).
 * The scheme is case-insensitive (RFC 9110 §11.1) and may be followed by spaces or tabs; the token is
 * trimmed; an empty token counts as none.
 * @example bearerToken('Bearer sk-abc ') // 'sk-abc'
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8) return undefined;
  const gap = header.charCodeAt(6);
  if ((gap !== 32 && gap !== 9) || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}
