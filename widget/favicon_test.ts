import assert from "node:assert/strict";
import { faviconIco } from "./favicon.ts";

Deno.test("faviconIco() is one 32×32, 32-bit image in an ICO, opaque in the bubble and clear around it", () => {
  const bytes = faviconIco();
  const view = new DataView(bytes.buffer);
  assert.deepEqual(
    [view.getUint16(0, true), view.getUint16(2, true), view.getUint16(4, true)],
    [0, 1, 1],
    "ICONDIR: reserved, icon, one image",
  );
  assert.equal(bytes[6], 32);
  assert.equal(bytes[7], 32);
  assert.equal(view.getUint16(12, true), 32, "bits per pixel");
  const size = view.getUint32(14, true);
  const offset = view.getUint32(18, true);
  assert.equal(offset + size, bytes.byteLength);
  assert.equal(view.getUint32(offset, true), 40, "BITMAPINFOHEADER");
  assert.equal(view.getInt32(offset + 8, true), 64, "image and mask");
  // Alpha of a pixel, rows stored bottom up.
  const alpha = (x: number, y: number) =>
    bytes[offset + 40 + ((31 - y) * 32 + x) * 4 + 3];
  assert.equal(alpha(0, 0), 0, "a corner is clear");
  assert.equal(alpha(5, 8), 255, "inside the bubble");
  assert.equal(alpha(8, 26), 255, "the tail");
});
