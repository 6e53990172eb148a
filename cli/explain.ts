/**
 * `deno task policy explain POLICY --org ID [--origin URL] [--token JWT]
 * [--user-id U] [--app-id A] [--method M] [--language TAG] [--json]`: the
 * decision the evaluator makes for one request, with the trace that led to
 * it; with `--language`, also the language the widget speaks to a visitor
 * whose browser names that tag, and which of the organization's texts
 * (title, greeting, away message) they read.
 *
 * Exit codes: 0 the request is allowed, 1 it is refused (or the policy does
 * not compile), 2 bad usage or an unreadable policy.
 *
 * @module
 */

import type {
  Explanation,
  Facts,
  LocalizedText,
  WidgetSettings,
} from "../policy/types.ts";
import { chooseAdminText, type ChosenAdminText } from "../wire/admin_text.ts";
import { chooseLanguage, type LanguageChoice } from "../wire/locale_match.ts";
import { organizationArguments } from "./arguments.ts";
import { organizationPolicy } from "./organization_policy.ts";
import { printJson } from "./output.ts";

/**
 * Runs `explain`.
 *
 * @param args The arguments after `explain`.
 * @returns The exit code.
 * @throws {UsageError} When the policy or `--org` is missing, or an option is unknown.
 */
export async function explain(args: readonly string[]): Promise<number> {
  const { path, organizationId, values } = organizationArguments(args, {
    origin: { type: "string" },
    token: { type: "string" },
    "user-id": { type: "string" },
    "app-id": { type: "string" },
    method: { type: "string" },
    language: { type: "string" },
    json: { type: "boolean" },
  });
  const evaluator = await organizationPolicy(path, organizationId);
  if (evaluator === undefined) return 1;
  const facts: Facts = {
    organizationId,
    origin: values.origin ?? null,
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(values["user-id"] === undefined ? {} : { userId: values["user-id"] }),
    ...(values["app-id"] === undefined ? {} : { appId: values["app-id"] }),
    method: values.method ?? "chat.boot",
  };
  const explanation = await evaluator.explain(facts);
  const organization = evaluator.organization(organizationId);
  const language = values.language === undefined || organization === undefined
    ? undefined
    : widgetLanguage(organization.spec.widget, values.language);
  if (values.json) {
    printJson(
      language === undefined ? explanation : {
        ...explanation,
        language,
      },
    );
  } else {
    for (const line of explanationLines(explanation)) console.log(line);
    if (language !== undefined) {
      for (const line of languageLines(language)) console.log(line);
    }
  }
  return explanation.allowed ? 0 : 1;
}

/** What a visitor reading one language gets of the widget. */
export interface WidgetLanguage extends LanguageChoice {
  /** The tag asked about, as given. */
  readonly asked: string;
  /** The organization's texts for it; `default` where the policy sets none. */
  readonly texts: {
    readonly [name in "title" | "greeting" | "awayMessage"]:
      | ChosenAdminText
      | "default";
  };
}

/**
 * The widget's language and texts for a visitor whose browser names `tag`,
 * by the rules the widget applies (`chooseLanguage`, `chooseAdminText`).
 *
 * @param widget The organization's widget settings.
 * @param tag The visitor's language, e.g. `de-AT`.
 * @returns The language and the texts.
 */
export function widgetLanguage(
  widget: WidgetSettings,
  tag: string,
): WidgetLanguage {
  const choice = chooseLanguage({
    browser: [tag],
    organization: widget.language,
  });
  const text = (value: LocalizedText | undefined) =>
    value === undefined
      ? "default" as const
      : chooseAdminText(value, choice, widget.language);
  return {
    asked: tag,
    ...choice,
    texts: {
      title: text(widget.title),
      greeting: text(widget.greeting),
      awayMessage: text(widget.awayMessage),
    },
  };
}

/**
 * A widget language as text.
 *
 * @param language What `widgetLanguage` found.
 * @returns The lines to print.
 */
export function languageLines(language: WidgetLanguage): string[] {
  const lines = [
    `language  ${language.asked} → widget speaks ${language.locale} (${language.dir})`,
  ];
  const names = { title: "title", greeting: "greeting", awayMessage: "away" };
  for (const [key, name] of Object.entries(names)) {
    const text = language.texts[key as keyof typeof names];
    lines.push(
      `${name.padEnd(9)} ${
        text === "default"
          ? key === "title"
            ? "the organization's name"
            : `the widget's own, in ${language.locale}`
          : `${JSON.stringify(text.text)}${
            text.from === undefined ? "" : ` (from ${text.from})`
          }`
      }`,
    );
  }
  return lines;
}

/**
 * An explanation as text: the verdict, the origin and rule, the identity,
 * what enforcement would do in report mode, and the trace.
 *
 * @param explanation The evaluator's explanation.
 * @returns The lines to print.
 */
export function explanationLines(explanation: Explanation): string[] {
  const lines = [
    explanation.allowed
      ? `ALLOWED ${explanation.reason}`
      : `REFUSED ${explanation.code ?? ""} ${explanation.reason}`,
  ];
  if (explanation.origin) lines.push(`origin    ${explanation.origin}`);
  if (explanation.rule) lines.push(`rule      ${explanation.rule}`);
  const identity = explanation.identity;
  lines.push(
    `identity  ${
      identity.verified
        ? `verified, sub ${JSON.stringify(identity.subject ?? "")}${
          identity.keyId ? `, key ${JSON.stringify(identity.keyId)}` : ""
        }`
        : "anonymous"
    }`,
  );
  if (explanation.reportOnly) {
    lines.push(
      `report    enforcement would refuse: ${explanation.reportOnly.code} ${explanation.reportOnly.reason}`,
    );
  }
  lines.push("trace");
  for (const step of explanation.trace) {
    lines.push(
      `  ${step.outcome.padEnd(6)} ${step.check.padEnd(20)} ${step.reason}${
        step.detail ? `  ${step.detail}` : ""
      }`,
    );
  }
  return lines;
}
