/**
 * The `/agent` inbox's Security view: the organization's security report
 * (`agent.securityReport`) in words (`security_summary.ts`), a chart of boots
 * per hour drawn as inline SVG (no library, nothing inline the page's strict
 * CSP would refuse), every key with what to do about it, and the origins.
 * The inbox hooks it in with a button and an empty section.
 *
 * @module
 */

import type { SecurityReport, SecurityReportHour } from "../wire/mod.ts";
import { element } from "./dom_element.ts";
import { inboxText } from "./inbox_strings.ts";
import { summarizeSecurityReport } from "./security_summary.ts";

/** Reads the signed-in organization's report over the last `hours`. */
export type ReadSecurityReport = (hours: number) => Promise<SecurityReport>;

/** The inbox's handle on the view. */
export interface SecurityView {
  /** Signed in: the Security button appears. */
  enable(): void;
  /** Signed out: the view and its button go away. */
  disable(): void;
}

/** The elements the inbox page provides. */
export interface SecurityViewElements {
  /** Toggles between the conversations and the report. */
  readonly toggle: HTMLButtonElement;
  /** Empty; the view fills it. */
  readonly section: HTMLElement;
  /** The conversations, hidden while the report shows. */
  readonly inbox: HTMLElement;
}

const SVG = "http://www.w3.org/2000/svg";
/** The chart's series, bottom up, with their colours. */
const SERIES: readonly {
  readonly key: "verified" | "absent" | "invalid";
  readonly label: string;
  readonly color: string;
}[] = [
  { key: "verified", label: inboxText("seriesVerified"), color: "#1a7f37" },
  { key: "absent", label: inboxText("seriesAbsent"), color: "#8c959f" },
  { key: "invalid", label: inboxText("seriesInvalid"), color: "#cf222e" },
];
const BLOCKED_COLOR = "#9a6700";
const CHART_HEIGHT = 120;

/**
 * Installs the Security view behind its button.
 *
 * @param elements The button, the section to fill and the inbox.
 * @param read Reads the report as the signed-in agent.
 * @returns The handle the inbox enables on sign-in and disables on sign-out.
 */
export function installSecurityView(
  elements: SecurityViewElements,
  read: ReadSecurityReport,
): SecurityView {
  const { toggle, section, inbox } = elements;
  const heading = element("h2", { id: "security-title" }, [
    inboxText("securityHeading"),
  ]);
  const hours = element("select", {
    "aria-label": inboxText("reportWindowLabel"),
  });
  const windows: readonly (readonly [string, string])[] = [
    ["24", inboxText("reportWindowDay")],
    ["168", inboxText("reportWindowWeek")],
  ];
  for (const [value, label] of windows) {
    hours.append(element("option", { value }, [label]));
  }
  const refresh = element("button", { type: "button" }, [
    inboxText("refresh"),
  ]);
  const state = element("p", { role: "status", class: "security-state" });
  const body = element("div", { class: "security-body" });
  section.replaceChildren(
    element("div", { class: "security-bar" }, [heading, hours, refresh]),
    state,
    body,
  );
  section.setAttribute("aria-labelledby", "security-title");
  let showing = false;
  let loading = 0;

  async function load(): Promise<void> {
    const ticket = ++loading;
    state.textContent = inboxText("loading");
    try {
      const report = await read(Number(hours.value));
      if (ticket !== loading) return;
      body.replaceChildren(...renderReport(report, Date.now()));
      state.textContent = inboxText("reportUpdated", {
        time: new Date().toLocaleTimeString(),
      });
    } catch (error) {
      if (ticket !== loading) return;
      state.textContent = inboxText("reportFailed", {
        code: error instanceof Error && "code" in error
          ? String(error.code)
          : "error",
      });
    }
  }

  function show(next: boolean): void {
    showing = next;
    section.hidden = !next;
    inbox.hidden = next;
    toggle.textContent = next
      ? inboxText("conversationsToggle")
      : inboxText("securityToggle");
    toggle.setAttribute("aria-pressed", String(next));
    if (next) void load();
  }

  toggle.addEventListener("click", () => show(!showing));
  hours.addEventListener("change", () => void load());
  refresh.addEventListener("click", () => void load());
  return {
    enable() {
      toggle.hidden = false;
      show(false);
    },
    disable() {
      showing = false;
      loading++;
      toggle.hidden = true;
      section.hidden = true;
      body.replaceChildren();
    },
  };
}

/** The report's parts, top to bottom. */
function renderReport(report: SecurityReport, now: number): Element[] {
  const summary = summarizeSecurityReport(report, now);
  const words = element(
    "div",
    { class: "security-summary" },
    [
      summary.tokens,
      summary.required,
      summary.enforced,
      summary.invalid,
      summary.throttle,
    ].filter((text): text is string => text !== undefined).map((text) =>
      element("p", {}, codeSpans(text))
    ),
  );
  const keys = element(
    "ul",
    { class: "security-keys", "aria-label": inboxText("keysHeading") },
    summary.keys.map((key) =>
      element("li", { "data-advice": key.advice }, [key.text])
    ),
  );
  const origins = element("table", { class: "security-origins" }, [
    element("thead", {}, [
      element("tr", {}, [
        element("th", { scope: "col" }, [inboxText("originColumn")]),
        element("th", { scope: "col" }, [inboxText("bootsColumn")]),
        element("th", { scope: "col" }, [inboxText("refusedColumn")]),
      ]),
    ]),
    element(
      "tbody",
      {},
      report.origins.map((origin) =>
        element("tr", {}, [
          element("td", {}, [origin.origin]),
          element("td", {}, [origin.boots.toLocaleString("en-US")]),
          element("td", {}, [origin.refused.toLocaleString("en-US")]),
        ])
      ),
    ),
  ]);
  return [
    words,
    chart(report.hourly, summary.window),
    element("h3", {}, [inboxText("keysHeading")]),
    report.keys.length === 0 ? element("p", {}, [inboxText("noKeys")]) : keys,
    element("h3", {}, [inboxText("originsHeading")]),
    report.origins.length === 0
      ? element("p", {}, [inboxText("noBoots")])
      : origins,
  ];
}

/** Stacked bars of boots per hour by token state, blocked requests marked above. */
function chart(hours: readonly SecurityReportHour[], window: string): Element {
  const barWidth = 10;
  const width = Math.max(1, hours.length) * barWidth;
  const highest = Math.max(
    0,
    ...hours.map((hour) => hour.verified + hour.absent + hour.invalid),
  );
  const scale = Math.max(1, highest);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${CHART_HEIGHT + 8}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("class", "security-chart");
  svg.setAttribute("aria-label", inboxText("chartLabel", { window }));
  hours.forEach((hour, index) => {
    const group = document.createElementNS(SVG, "g");
    const title = document.createElementNS(SVG, "title");
    const counts = SERIES.map((series) =>
      inboxText("chartCount", { count: hour[series.key], series: series.label })
    ).join(", ");
    const when = new Date(hour.hour).toLocaleString();
    title.textContent = hour.blocked > 0
      ? inboxText("chartHourBlocked", {
        hour: when,
        counts,
        blocked: hour.blocked,
      })
      : inboxText("chartHour", { hour: when, counts });
    group.append(title);
    let top = CHART_HEIGHT + 8;
    for (const series of SERIES) {
      const value = hour[series.key];
      if (value === 0) continue;
      const height = (value / scale) * CHART_HEIGHT;
      top -= height;
      group.append(
        rect(index * barWidth + 1, top, barWidth - 2, height, series.color),
      );
    }
    if (hour.blocked > 0) {
      group.append(
        rect(index * barWidth + 1, 0, barWidth - 2, 4, BLOCKED_COLOR),
      );
    }
    svg.append(group);
  });
  const legend = element(
    "p",
    { class: "security-legend" },
    [...SERIES, { label: inboxText("seriesBlocked"), color: BLOCKED_COLOR }]
      .map((series) =>
        element("span", {}, [swatch(series.color), ` ${series.label}`])
      ),
  );
  // The baseline, so an empty hour still reads as a zero.
  svg.append(rect(0, CHART_HEIGHT + 7, width, 1, "#8c959f"));
  const caption = element("figcaption", {}, [
    inboxText("chartCaption", {
      window,
      busiest: highest.toLocaleString("en-US"),
    }),
  ]);
  return element("figure", { class: "security-figure" }, [
    caption,
    svg,
    legend,
  ]);
}

function rect(
  x: number,
  y: number,
  width: number,
  height: number,
  fill: string,
): SVGRectElement {
  const shape = document.createElementNS(SVG, "rect");
  shape.setAttribute("x", String(x));
  shape.setAttribute("y", String(y));
  shape.setAttribute("width", String(width));
  shape.setAttribute("height", String(height));
  shape.setAttribute("fill", fill);
  return shape;
}

function swatch(color: string): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 10 10");
  svg.setAttribute("width", "10");
  svg.setAttribute("height", "10");
  svg.setAttribute("aria-hidden", "true");
  svg.append(rect(0, 0, 10, 10, color));
  return svg;
}

/** Text with its `backquoted` parts as `<code>`. */
function codeSpans(text: string): (string | Element)[] {
  return text.split("`").map((part, index) =>
    index % 2 === 1 ? element("code", {}, [part]) : part
  );
}
