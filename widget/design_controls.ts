/**
 * The design system's tokens as CSS custom properties (`themeCss`), and the
 * look of buttons (`.primary`, `.quiet`), inputs, selects, textareas,
 * checkboxes and the focus ring on them (`CONTROLS_CSS`), for pages: the
 * agent inbox. The widget takes the tokens it needs straight from
 * `design_tokens.ts`.
 *
 * @module
 */

import {
  DARK,
  FOCUS_RING,
  FONT_STACK,
  LIGHT,
  type Palette,
  RADIUS,
  SPACE,
  TYPE,
} from "./design_tokens.ts";

/** A palette as `--p-<name>` custom properties. */
function paletteProperties(palette: Palette): string {
  return Object.entries(palette)
    .map(([name, value]) =>
      `--p-${
        name.replace(/[A-Z]/g, (upper) => `-${upper.toLowerCase()}`)
      }:${value};`
    )
    .join("");
}

/**
 * Every token as custom properties on `selector`, light by default and dark
 * under `prefers-color-scheme: dark`: `--p-surface`, `--p-text`,
 * `--p-space-md`, `--p-radius-control`, `--p-font`, …
 *
 * @param selector Where the properties are declared (`:root` for a page).
 * @returns CSS text.
 */
export function themeCss(selector: string): string {
  const scale = [
    ...Object.entries(SPACE).map(([name, px]) => `--p-space-${name}:${px}px;`),
    ...Object.entries(RADIUS).map(([name, px]) =>
      `--p-radius-${name}:${px}px;`
    ),
    ...Object.entries(TYPE).map(([name, [size, line]]) =>
      `--p-type-${name}:${size}px/${line}px;`
    ),
  ].join("");
  return `${selector}{color-scheme:light dark;--p-font:${FONT_STACK};${scale}${
    paletteProperties(LIGHT)
  }}
@media (prefers-color-scheme:dark){${selector}{${paletteProperties(DARK)}}}
`;
}

/**
 * Buttons (`.primary`, `.quiet`), inputs, selects, textareas, checkboxes and
 * the focus ring, on the custom properties of {@linkcode themeCss}.
 */
export const CONTROLS_CSS: string = `
button,input,select,textarea{font:inherit;color:inherit;margin:0}
button{display:inline-flex;align-items:center;justify-content:center;gap:var(--p-space-xs);min-height:36px;padding:0 var(--p-space-md);border:1px solid var(--p-line);border-radius:var(--p-radius-control);background:var(--p-surface);color:var(--p-text);font-weight:600;cursor:pointer;white-space:nowrap}
button:hover{background:var(--p-raised)}
button.primary{background:var(--p-accent);border-color:var(--p-accent);color:var(--p-on-accent)}
button.primary:hover{background:var(--p-accent);filter:brightness(1.08)}
button.quiet{border-color:transparent;background:transparent}
button.quiet:hover{background:var(--p-soft)}
button:disabled{cursor:not-allowed;opacity:.6}
input:not([type=checkbox]):not([type=radio]),select,textarea{min-height:36px;padding:7px 10px;border:1px solid var(--p-line);border-radius:var(--p-radius-control);background:var(--p-surface);color:var(--p-text)}
select{padding-right:28px}
textarea{resize:none;line-height:20px}
input::placeholder,textarea::placeholder{color:var(--p-muted);opacity:1}
input[type=checkbox]{width:16px;height:16px;accent-color:var(--p-accent)}
[aria-invalid=true]{border-color:var(--p-danger)!important}
:focus{outline:none}
:focus-visible{outline:${FOCUS_RING.width}px solid var(--p-focus);outline-offset:${FOCUS_RING.offset}px}
@media (prefers-reduced-motion:reduce){*{transition:none!important;animation:none!important}}
`;
