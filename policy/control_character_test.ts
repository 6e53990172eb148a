import { strictEqual } from "node:assert/strict";
import { hasControlCharacter } from "./control_character.ts";

/** `[what, text, refused anywhere, refused in message text]` */
const ROWS: [string, string, boolean, boolean][] = [
  ["plain text", "Where is my order?", false, false],
  ["accents, emoji and RTL", "Où est ma commande ? 📦 مرحبا", false, false],
  ["NUL", "a\u0000b", true, true],
  ["a bell", "a\u0007b", true, true],
  ["a backspace", "a\u0008b", true, true],
  ["tab", "a\tb", true, false],
  ["line feed", "a\nb", true, false],
  ["carriage return", "a\r\nb", true, false],
  ["vertical tab", "a\u000bb", true, true],
  ["form feed", "a\u000cb", true, true],
  ["a terminal escape", "\u001b[2J", true, true],
  ["unit separator", "a\u001fb", true, true],
  ["DEL", "a\u007fb", true, true],
  ["NEL (C1)", "a\u0085b", true, true],
  ["CSI (C1)", "a\u009bb", true, true],
  ["no-break space", "a\u00a0b", false, false],
  ["line separator", "a\u2028b", false, false],
];

for (const [what, text, anywhere, inMessage] of ROWS) {
  Deno.test(`hasControlCharacter() ${anywhere ? "finds" : "allows"} ${what}${anywhere !== inMessage ? ", which message text keeps" : ""}`, () => {
    strictEqual(hasControlCharacter(text), anywhere);
    strictEqual(hasControlCharacter(text, true), inMessage);
  });
}
