/**
 * Base64url as tokens use it (RFC 7515 §2): no padding, and one text per byte
 * string, so a token cannot be re-spelled and still verify.
 *
 * @module
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;
const INDEX =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Decodes strict base64url: the alphabet only, no padding, and the unused bits
 * of the last character zero.
 *
 * @param text A token segment.
 * @returns The bytes, or `undefined` when `text` is not canonical base64url.
 */
export function decodeBase64url(
  text: string,
): Uint8Array<ArrayBuffer> | undefined {
  const tail = text.length % 4;
  if (tail === 1 || !ALPHABET.test(text)) return undefined;
  if (tail !== 0) {
    const last = INDEX.indexOf(text[text.length - 1]!);
    if ((last & (tail === 2 ? 0x0f : 0x03)) !== 0) return undefined;
  }
  return Uint8Array.fromBase64(text, {
    alphabet: "base64url",
  }) as Uint8Array<ArrayBuffer>;
}

/**
 * Encodes bytes as unpadded base64url.
 *
 * @param bytes Any bytes.
 * @returns Their canonical base64url text.
 */
export function encodeBase64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}
