/**
 * Parley's one small design system, shared by the visitor's widget and the
 * agent inbox — its tokens: a spacing and type scale, radii, the colours of
 * the light and the `prefers-color-scheme: dark` theme, and one focus ring.
 * The look of buttons, inputs, selects and textareas on these tokens is
 * `design_controls.ts`.
 *
 * The values are plain constants, so the widget's shadow-root stylesheet
 * takes only the few it needs (its bundle has a size budget); the inbox
 * takes all of them as CSS custom properties (`--p-…`). Sizes are px: the
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
