/**
 * The control characters no identifier, name, address or page field of
 * Parley's wire holds: C0 (U+0000–U+001F), DEL and C1 (U+007F–U+009F).
 * PostgreSQL cannot store a NUL, and the others are invisible or rewrite the
 * terminal or log line they are printed to (ESC and C1's CSI start escapes).
 * Message text may keep tab, line feed and carriage return. The wire
 * (`rpc/params.ts`) and the user token's `sub` (`verify_user_token.ts`) both
 * hold to this.
 *
 * @module
 */

// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/** The same, less tab, line feed and carriage return. */
const TEXT_CONTROL_CHARACTER =
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/**
 * @param value A string from a client.
 * @param keepLineBreaks Whether tab, line feed and carriage return are allowed (message text).
 * @returns Whether it holds a control character it may not hold.
 */
export function hasControlCharacter(
  value: string,
  keepLineBreaks = false,
): boolean {
  return (keepLineBreaks ? TEXT_CONTROL_CHARACTER : CONTROL_CHARACTER).test(
    value,
  );
}
