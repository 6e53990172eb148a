import assert from "node:assert/strict";
import {
  type Catalogue,
  ENGLISH_CATALOGUE,
  readCatalogue,
} from "./catalogue.ts";
import { ENGLISH, type MessageKey } from "./english.ts";
import { SUPPORTED_LOCALES } from "../../wire/locale_match.ts";
import { translate, translateParts } from "./translate.ts";

async function shipped(locale: string): Promise<Catalogue> {
  if (locale === "en") return ENGLISH_CATALOGUE;
  const url = new URL(`../locales/${locale}.json`, import.meta.url);
  return readCatalogue(locale, JSON.parse(await Deno.readTextFile(url)));
}

/** Each row: a locale, a count, and the unread label it reads. */
const UNREAD: readonly (readonly [string, number, string])[] = [
  ["en", 1, "Acme (1 unread)"],
  ["en", 2, "Acme (2 unread)"],
  ["ar", 0, "Acme (لا توجد رسائل غير مقروءة)"],
  ["ar", 1, "Acme (رسالة واحدة غير مقروءة)"],
  ["ar", 2, "Acme (رسالتان غير مقروءتين)"],
  ["ar", 3, "Acme (3 رسائل غير مقروءة)"],
  ["ar", 10, "Acme (10 رسائل غير مقروءة)"],
  ["ar", 11, "Acme (11 رسالة غير مقروءة)"],
  ["ar", 99, "Acme (99 رسالة غير مقروءة)"],
  ["ar", 100, "Acme (100 رسالة غير مقروءة)"],
  ["ru", 1, "Acme (1 непрочитанное сообщение)"],
  ["ru", 2, "Acme (2 непрочитанных сообщения)"],
  ["ru", 5, "Acme (5 непрочитанных сообщений)"],
  ["ru", 11, "Acme (11 непрочитанных сообщений)"],
  ["ru", 21, "Acme (21 непрочитанное сообщение)"],
  ["ru", 22, "Acme (22 непрочитанных сообщения)"],
  ["ru", 1.5, "Acme (1,5 непрочитанного сообщения)"],
  ["pl", 1, "Acme (1 nieprzeczytana wiadomość)"],
  ["pl", 2, "Acme (2 nieprzeczytane wiadomości)"],
  ["pl", 5, "Acme (5 nieprzeczytanych wiadomości)"],
  ["pl", 12, "Acme (12 nieprzeczytanych wiadomości)"],
  ["pl", 22, "Acme (22 nieprzeczytane wiadomości)"],
  ["pl", 25, "Acme (25 nieprzeczytanych wiadomości)"],
  ["ja", 1, "Acme（未読 1 件）"],
  ["ja", 5, "Acme（未読 5 件）"],
  ["he", 1, "Acme (הודעה אחת שלא נקראה)"],
  ["he", 2, "Acme (שתי הודעות שלא נקראו)"],
  ["he", 3, "Acme (3 הודעות שלא נקראו)"],
  ["fr", 1, "Acme (1 message non lu)"],
  ["fr", 2, "Acme (2 messages non lus)"],
  ["fr", 1_000_000, "Acme (1\u202f000\u202f000 de messages non lus)"],
  ["fa", 3, "Acme (۳ پیام خوانده‌نشده)"],
];

for (const [locale, count, expected] of UNREAD) {
  Deno.test(`translate() picks ${locale}'s plural form for ${count}`, async () => {
    const catalogue = await shipped(locale);
    assert.equal(
      translate(catalogue, "launcherUnread", { title: "Acme", count }),
      expected,
    );
  });
}

Deno.test("translate() fills named placeholders wherever the translation puts them", async () => {
  assert.equal(
    translate(ENGLISH_CATALOGUE, "agentTyping", { agent: "Ada" }),
    "Ada is typing…",
  );
  assert.equal(
    translate(await shipped("tr"), "emailSaved", { email: "pat@example.com" }),
    "Yanıtımızı pat@example.com adresine göndereceğiz. Buradan yazmaya devam edebilirsiniz.",
  );
  assert.equal(translate(await shipped("de"), "send"), "Senden");
});

Deno.test("translate() reads a key the catalogue lacks in English", () => {
  const partial = readCatalogue("de", { send: "Senden" });
  assert.equal(translate(partial, "send"), "Senden");
  assert.equal(translate(partial, "closeChat"), "Close chat");
  assert.equal(
    translate(partial, "launcherUnread", { title: "Acme", count: 1 }),
    "Acme (1 unread)",
  );
});

Deno.test("translate() reads a plural form the catalogue lacks as its other form", () => {
  const catalogue = readCatalogue("ar", {
    launcherUnread: { other: "{title} ({count} رسالة غير مقروءة)" },
  });
  assert.equal(
    translate(catalogue, "launcherUnread", { title: "Acme", count: 2 }),
    "Acme (2 رسالة غير مقروءة)",
  );
});

Deno.test("translate() writes numbers in the locale's digits and separators", async () => {
  assert.equal(
    translate(await shipped("fa"), "badgeOverflow", { count: 99 }),
    "۹۹+",
  );
  assert.equal(
    translate(await shipped("de"), "sendRateLimited", { count: 1200 }),
    "Zu viele Nachrichten. Bitte versuchen Sie es in 1.200 Sekunden erneut.",
  );
});

Deno.test("translateParts() places a non-text value, such as a button, where the translation puts it", async () => {
  // Any node will do: the function only places it.
  const button = { nodeName: "BUTTON" } as unknown as Node;
  assert.deepEqual(
    translateParts(ENGLISH_CATALOGUE, "sendFailed", { retry: button }),
    ["Not sent — ", button],
  );
  assert.deepEqual(
    translateParts(await shipped("ja"), "sendFailed", { retry: button }),
    ["送信できませんでした。", button],
  );
});

Deno.test("translate() leaves no placeholder unfilled in any locale, for any key and count", async () => {
  const counts = [...Array(121).keys(), 1.5, 1_000_000];
  for (const locale of SUPPORTED_LOCALES) {
    const catalogue = await shipped(locale);
    for (const key of Object.keys(ENGLISH) as MessageKey[]) {
      for (const count of counts) {
        const text = (translate as (
          catalogue: Catalogue,
          key: MessageKey,
          params: Record<string, string | number>,
        ) => string)(catalogue, key, {
          title: "Acme",
          agent: "Ada",
          email: "pat@example.com",
          retry: "↻",
          count,
        });
        assert.doesNotMatch(text, /[{}]/, `${locale} ${key} ${count}: ${text}`);
        assert.notEqual(text.trim(), "", `${locale} ${key} ${count}`);
        if (typeof ENGLISH[key] === "string") break;
      }
    }
  }
});

Deno.test("translate() takes exactly the placeholders of the key's English text (checked by the compiler)", () => {
  // @ts-expect-error agentTyping needs {agent}
  const unfilled = translate(ENGLISH_CATALOGUE, "agentTyping", {});
  // Untyped callers see the gap rather than a wrong word.
  assert.equal(unfilled, "{agent} is typing…");
  // @ts-expect-error count is a number
  translate(ENGLISH_CATALOGUE, "badgeOverflow", { count: "99" });
  // @ts-expect-error send takes no parameters
  translate(ENGLISH_CATALOGUE, "send", { count: 1 });
});
