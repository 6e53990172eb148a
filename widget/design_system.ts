/**
 * Parley's one small design system, shared by the visitor's widget and the
 * agent inbox: a spacing and type scale, radii, the colours of the light and
 * the `prefers-color-scheme: dark` theme, one focus ring, and the look of
 * buttons, inputs, selects and textareas.
 *
 * The values are plain constants, so the widget's shadow-root stylesheet
 * takes only the few it needs (its bundle has a size budget); the inbox
 * takes all of them as CSS custom properties (`--p-…`, {@linkcode themeCss})
 * with the controls' rules ({@linkcode CONTROLS_CSS}). Sizes are px: the
 * widget lives on pages that own the root font size.
 *
 * The focus ring is a colour none of the interface uses (dark orange on
 * light, amber on dark), so it shows on the accent, on surfaces and on a
 * host page's own background alike, with at least 3:1 against each theme's
 * surface.
 *
 * @module
 */

/** The spacing scale, px. */
export const SPACE = { xs: 4, sm: 8, md: 12, lg: 16, xl: 24, xxl: 32 } as const;

/** The type scale: font size and line height, px. */
export const TYPE = {
  small: [12, 16],
  caption: [13, 18],
  body: [14, 20],
  large: [16, 22],
  title: [20, 28],
} as const;

/** Corner radii, px. */
export const RADIUS = { control: 8, card: 12, bubble: 14, pill: 999 } as const;

/** The font stack: the system's own, so text looks native everywhere. */
export const FONT_STACK =
  'system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif';

/** The colours of one theme. */
export interface Palette {
  /** Behind the panels. */
  readonly canvas: string;
  /** Panels, cards, fields. */
  readonly surface: string;
  /** A surface under the pointer. */
  readonly raised: string;
  /** The other side's bubbles, quiet fills. */
  readonly soft: string;
  /** Borders and rules. */
  readonly line: string;
  /** Body text: at least 12:1 on `surface`. */
  readonly text: string;
  /** Secondary text: at least 4.5:1 on `surface`, `canvas` and `soft`. */
  readonly muted: string;
  /** Primary actions, own bubbles, the unread dot. */
  readonly accent: string;
  /** Text on `accent`: at least 4.5:1. */
  readonly onAccent: string;
  /** The selected row's fill. */
  readonly accentSoft: string;
  /** Errors: text, and its fill and border. */
  readonly danger: string;
  readonly dangerSoft: string;
  readonly dangerLine: string;
  /** "Live", verified. */
  readonly success: string;
  /** The focus ring. */
  readonly focus: string;
}

/** The light theme. */
export const LIGHT: Palette = {
  canvas: "#f4f5f7",
  surface: "#ffffff",
  raised: "#f7f8fa",
  soft: "#eef0f4",
  line: "#d5d8de",
  text: "#1b1b1f",
  muted: "#575c66",
  accent: "#0b5fff",
  onAccent: "#ffffff",
  accentSoft: "#e7eeff",
  danger: "#8c1d18",
  dangerSoft: "#fde7e9",
  dangerLine: "#e8a5a8",
  success: "#1a7f37",
  focus: "#c2410c",
};

/** The dark theme (`prefers-color-scheme: dark`). */
export const DARK: Palette = {
  canvas: "#131418",
  surface: "#1d1e23",
  raised: "#25272d",
  soft: "#2e3038",
  line: "#3d4049",
  text: "#ececf1",
  muted: "#aeb2bc",
  accent: "#7aa7ff",
  onAccent: "#0b1530",
  accentSoft: "#233050",
  danger: "#ffdad6",
  dangerSoft: "#5c1a17",
  dangerLine: "#a8413c",
  success: "#6fdd8b",
  focus: "#f5a623",
};

/** The focus ring's width and its gap from the element, px. */
export const FOCUS_RING = { width: 3, offset: 2 } as const;

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
