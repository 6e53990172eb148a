/**
 * Contrast between two colours as WCAG 2.1 defines it: the relative
 * luminance of each sRGB colour, and `(L1 + 0.05) / (L2 + 0.05)`. One
 * function for two readers: the widget picks the text colour on the
 * organization's `widget.color`, and `policy check` warns (`low-contrast`)
 * when white text on it falls under 4.5:1, the AA minimum for body text.
 *
 * Pure and browser-safe, without imports: it sits in `policy/`, the floor
 * the widget may bundle from until the wire contract's floor (`wire/`)
 * holds what the policy and the widget share.
 *
 * @module
 */

/** WCAG 2.1 AA's minimum contrast for body text. */
export const MIN_TEXT_CONTRAST = 4.5;

/**
 * WCAG 2.1 relative luminance of a hex colour.
 *
 * @param hex `#rgb` or `#rrggbb`
 * @returns 0 (black) to 1 (white)
 */
export function relativeLuminance(hex: string): number {
  let digits = hex.slice(1);
  if (digits.length === 3) digits = digits.replace(/./g, "$&$&");
  const channel = (offset: number): number => {
    const value = parseInt(digits.slice(offset, offset + 2), 16) / 255;
    return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

/**
 * The contrast ratio of two hex colours.
 *
 * @returns 1 (none) to 21 (black on white)
 * @example White on Parley's default blue
 * ```ts
 * contrastRatio("#fff", "#0b5fff"); // ≈ 5.1
 * ```
 */
export function contrastRatio(first: string, second: string): number {
  const [lighter, darker] = [
    relativeLuminance(first),
    relativeLuminance(second),
  ]
    .sort((a, b) => b - a);
  return (lighter! + 0.05) / (darker! + 0.05);
}

/**
 * The text colour that reads better on a background: white or near-black.
 * Their contrasts are equal where `1.05 / (L + 0.05) = (L + 0.05) / 0.05`,
 * at a luminance of about 0.179.
 *
 * @param background `#rgb` or `#rrggbb`
 * @returns `#fff` or `#111`
 */
export function readableTextOn(background: string): "#fff" | "#111" {
  return relativeLuminance(background) > 0.179 ? "#111" : "#fff";
}
