/**
 * The icon served at `/favicon.ico` for the demo page and the agent inbox:
 * a chat bubble in the demo's blue, drawn here rather than kept as a binary
 * file so it can be read and changed. An ICO holding one 32×32 image in the
 * uncompressed 32-bit BMP form (every browser reads it, and it needs no
 * compressor); edges are smoothed by sampling each pixel 4×4 times.
 *
 * @module
 */

const SIZE = 32;
const SAMPLES = 4;
const BLUE = [0x0b, 0x5f, 0xff] as const;

/** Whether a point (in pixels) is inside the bubble, and whether on a dot. */
function paint(x: number, y: number): "bubble" | "dot" | "none" {
  const dot = [10, 16, 22].some((cx) => (x - cx) ** 2 + (y - 14) ** 2 <= 5.3);
  // A rounded rectangle from (2,4) to (30,24), corner radius 7…
  const [left, top, right, bottom, radius] = [2, 4, 30, 24, 7];
  const cx = Math.min(Math.max(x, left + radius), right - radius);
  const cy = Math.min(Math.max(y, top + radius), bottom - radius);
  const inBox = x >= left && x <= right && y >= top && y <= bottom &&
    (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
  // …and a tail below its left side, from (7,23) down to (7,30), up to (15,23).
  const inTail = y >= 23 && y <= 30 && x >= 7 && x - 7 <= (30 - y) * (8 / 7);
  if (!inBox && !inTail) return "none";
  return dot && inBox ? "dot" : "bubble";
}

/**
 * Draws the icon.
 *
 * @returns The bytes of a `.ico` file.
 */
export function faviconIco(): Uint8Array<ArrayBuffer> {
  const pixelBytes = SIZE * SIZE * 4;
  const maskBytes = SIZE * (SIZE / 8); // 1 bit a pixel, rows already 4-byte aligned
  const imageBytes = 40 + pixelBytes + maskBytes;
  const bytes = new Uint8Array(6 + 16 + imageBytes);
  const view = new DataView(bytes.buffer);
  // ICONDIR: reserved, type 1 (icon), one image.
  view.setUint16(2, 1, true);
  view.setUint16(4, 1, true);
  // ICONDIRENTRY: 32×32, no palette, 1 plane, 32 bits, its size and offset.
  view.setUint8(6, SIZE);
  view.setUint8(7, SIZE);
  view.setUint16(10, 1, true);
  view.setUint16(12, 32, true);
  view.setUint32(14, imageBytes, true);
  view.setUint32(18, 22, true);
  // BITMAPINFOHEADER; the height counts the colour image and the mask.
  const header = 22;
  view.setUint32(header, 40, true);
  view.setInt32(header + 4, SIZE, true);
  view.setInt32(header + 8, SIZE * 2, true);
  view.setUint16(header + 12, 1, true);
  view.setUint16(header + 14, 32, true);
  view.setUint32(header + 20, pixelBytes + maskBytes, true);
  // Pixels, BGRA, bottom row first; the all-zero mask defers to alpha.
  const pixels = header + 40;
  for (let row = 0; row < SIZE; row++) {
    const y = SIZE - 1 - row;
    for (let x = 0; x < SIZE; x++) {
      let covered = 0;
      let dots = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const at = paint(
            x + (sx + 0.5) / SAMPLES,
            y + (sy + 0.5) / SAMPLES,
          );
          if (at !== "none") covered++;
          if (at === "dot") dots++;
        }
      }
      const offset = pixels + (row * SIZE + x) * 4;
      const white = covered === 0 ? 0 : dots / covered;
      bytes[offset] = Math.round(BLUE[2] + (255 - BLUE[2]) * white);
      bytes[offset + 1] = Math.round(BLUE[1] + (255 - BLUE[1]) * white);
      bytes[offset + 2] = Math.round(BLUE[0] + (255 - BLUE[0]) * white);
      bytes[offset + 3] = Math.round((covered / SAMPLES ** 2) * 255);
    }
  }
  return bytes;
}
