/**
 * axe-core in a Playwright (Chromium) page: the WCAG 2.0 and 2.1 A and AA
 * rules, run over the whole document, open shadow roots included (axe walks
 * them itself; the widget's root is open), and a check that fails on every
 * serious or critical violation with its rule id, impact and target.
 *
 * axe is injected through `page.evaluate`, which the page's CSP does not
 * govern, so the strict-CSP pages are audited as they are served.
 *
 * @module
 */

import axe from "axe-core";
import type { Page } from "playwright-core";

/** The rule tags of WCAG 2.1 levels A and AA (2.0's included). */
export const WCAG_21_AA_TAGS: readonly string[] = [
  "wcag2a",
  "wcag2aa",
  "wcag21a",
  "wcag21aa",
];

/** The impacts that fail an audit. */
const FAILING_IMPACTS: readonly string[] = ["serious", "critical"];

/** One rule an audit found broken, on every element that breaks it. */
export interface AxeViolation {
  /** The rule id, e.g. `color-contrast`. */
  readonly id: string;
  /** `minor`, `moderate`, `serious` or `critical`. */
  readonly impact: string;
  readonly help: string;
  readonly helpUrl: string;
  readonly nodes: readonly AxeNode[];
}

/** One element that breaks a rule. */
export interface AxeNode {
  /**
   * Its selector, through shadow hosts (`parley-chat >>> button.launcher`),
   * and through frames (`iframe / button`) if a page had any.
   */
  readonly target: string;
  readonly html: string;
  /** What to fix, in axe's words. */
  readonly failureSummary: string;
}

/** Where an audit looks. */
export interface AxeScope {
  /**
   * Selectors to audit instead of the whole document; a selector inside a
   * shadow root is written as the path of selectors through its hosts
   * (`["parley-chat", ".panel"]`).
   */
  readonly include?: readonly (string | readonly string[])[];
  /** Selectors to leave out, written the same way. */
  readonly exclude?: readonly (string | readonly string[])[];
}

/**
 * Audits a page with the WCAG 2.1 A and AA rules.
 *
 * @param scope the part of the page to audit (default: all of it)
 * @returns every violation, whatever its impact
 */
export async function runAxe(
  page: Page,
  scope: AxeScope = {},
): Promise<AxeViolation[]> {
  const injected = await page.evaluate(() => "axe" in globalThis);
  if (!injected) await page.evaluate(axe.source);
  const results = await page.evaluate(
    ({ scope, tags }) => {
      const context = scope.include || scope.exclude
        ? {
          include: scope.include ?? [document],
          ...(scope.exclude ? { exclude: scope.exclude } : {}),
        }
        : document;
      const run = (globalThis as unknown as {
        axe: {
          run(
            context: unknown,
            options: unknown,
          ): Promise<{ violations: axe.Result[] }>;
        };
      }).axe.run;
      return run(context, {
        runOnly: { type: "tag", values: tags },
        resultTypes: ["violations"],
      });
    },
    {
      scope: scope as {
        include?: (string | string[])[];
        exclude?: (string | string[])[];
      },
      tags: [...WCAG_21_AA_TAGS],
    },
  );
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact ?? "unknown",
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.map(selectorText).join(" / "),
      html: node.html,
      failureSummary: node.failureSummary ?? "",
    })),
  }));
}

/**
 * The violations that fail an audit: serious and critical ones.
 *
 * @returns those violations, in axe's order
 */
export function seriousViolations(
  violations: readonly AxeViolation[],
): AxeViolation[] {
  return violations.filter((violation) =>
    FAILING_IMPACTS.includes(violation.impact)
  );
}

/**
 * Fails when any violation is serious or critical, naming each one's rule,
 * impact, targets and fix in the message.
 *
 * @param state what was audited, for the message (`"launcher closed"`)
 * @throws {Error} listing every serious or critical violation
 */
export function assertNoSeriousViolations(
  violations: readonly AxeViolation[],
  state: string,
): void {
  const failing = seriousViolations(violations);
  if (failing.length === 0) return;
  const lines = failing.flatMap((violation) => [
    `${violation.id} (${violation.impact}): ${violation.help} — ${violation.helpUrl}`,
    ...violation.nodes.map((node) =>
      `  at ${node.target}: ${node.failureSummary.replace(/\s*\n\s*/g, "; ")}`
    ),
  ]);
  throw new Error(
    `axe found ${failing.length} serious or critical violation(s) in ${state}:\n${
      lines.join("\n")
    }`,
  );
}

/**
 * Audits a page and fails on any serious or critical violation.
 *
 * @param state what is audited, for the message
 * @param scope the part of the page to audit (default: all of it)
 * @returns every violation found (the minor and moderate ones too)
 * @throws {Error} listing every serious or critical violation
 */
export async function expectAccessible(
  page: Page,
  state: string,
  scope: AxeScope = {},
): Promise<AxeViolation[]> {
  const violations = await runAxe(page, scope);
  assertNoSeriousViolations(violations, state);
  return violations;
}

/** A target as one string: shadow paths joined by ` >>> `. */
function selectorText(selector: unknown): string {
  if (Array.isArray(selector)) return selector.map(selectorText).join(" >>> ");
  if (typeof selector === "string") return selector;
  return JSON.stringify(selector);
}
