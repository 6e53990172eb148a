import assert from "node:assert/strict";
import {
  contrastRatio,
  readableTextOn,
  relativeLuminance,
} from "./contrast.ts";

Deno.test("relativeLuminance() is 0 for black and 1 for white, in short and long hex", () => {
  assert.equal(relativeLuminance("#000"), 0);
  assert.equal(relativeLuminance("#ffffff"), 1);
  assert.equal(relativeLuminance("#FFF"), 1);
});

Deno.test("contrastRatio() gives WCAG's 21:1 for black on white, either order", () => {
  assert.equal(contrastRatio("#000", "#fff"), 21);
  assert.equal(contrastRatio("#fff", "#000"), 21);
});

Deno.test("contrastRatio() of white on Parley's default blue passes AA (4.5:1)", () => {
  assert.ok(contrastRatio("#fff", "#0b5fff") >= 4.5);
});

Deno.test("contrastRatio() of white on a light yellow fails AA", () => {
  assert.ok(contrastRatio("#fff", "#ffd400") < 4.5);
});

Deno.test("readableTextOn() picks white on dark colours and near-black on light ones", () => {
  assert.equal(readableTextOn("#0b5fff"), "#fff");
  assert.equal(readableTextOn("#1b1b1f"), "#fff");
  assert.equal(readableTextOn("#ffd400"), "#111");
  assert.equal(readableTextOn("#fff"), "#111");
});
