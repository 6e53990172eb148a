/**
 * What agents see of an anonymous visitor's identity: not the `visitorId`,
 * which is the visitor's credential (whoever boots with it reads and writes
 * the visitor's conversation), but a reference derived from it: `v.` and the
 * first 128 bits of an HMAC-SHA256 of the id, base64url, under a key derived
 * from the session secret. It is stable per visitor on every host (they share
 * the secret), tells agents two conversations apart, and cannot be turned
 * back into the id; its `.` is outside the `visitorId` alphabet, so
 * `chat.boot` treats it as no id and starts a new, empty conversation.
 *
 * Synchronous HMAC (`hmac_sha256.ts`), as the session signer uses: agent
 * lists summarise up to 100 conversations a call.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { encodeBase64url } from "../policy/base64url.ts";
import { type HmacSha256, hmacSha256 } from "../policy/hmac_sha256.ts";
import { VISITOR_REFERENCE_PREFIX } from "../wire/mod.ts";

/** Bytes of the HMAC kept: collisions stay out of reach, references short. */
const REFERENCE_BYTES = 16;
/** Separates the reference key from every other use of the session secret. */
const KEY_LABEL = "parley visitor reference v1";

/** Turns visitor ids into the references agents see. */
export class VisitorReferences {
  readonly #mac: HmacSha256;

  /** @param secret The session secret (the key is derived from it, never it). */
  constructor(secret: Uint8Array) {
    this.#mac = hmacSha256(
      createHmac("sha256", secret).update(KEY_LABEL).digest(),
    );
  }

  /**
   * @param visitorId An anonymous visitor's id.
   * @returns Its reference, `v.` and 22 base64url characters.
   */
  of(visitorId: string): string {
    const mac = this.#mac(visitorId);
    return VISITOR_REFERENCE_PREFIX +
      encodeBase64url(mac.subarray(0, REFERENCE_BYTES));
  }
}
