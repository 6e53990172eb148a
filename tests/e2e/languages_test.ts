/**
 * The widget speaks the visitor's language, in real Chromium: the browser's
 * language (a context's `locale`) or `boot({ language })` chooses it, the
 * root carries `lang` and `dir`, right-to-left locales mirror the panel, every
 * locale file reaches the send button, and the organization's greeting is
 * matched per locale. One server and one browser for every row. Writes
 * `widget-open-de.png` and `widget-open-ar.png` (see `screenshot_folder.ts`).
 */

import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { SUPPORTED_LOCALES } from "../../wire/locale_match.ts";
import { animationsFinished, widgetParts, widgetReady } from "./browser.ts";
import { screenshotPath } from "./screenshot_folder.ts";
import { e2ePolicy, openWidgetFixture } from "./widget_fixture.ts";

/** The e2e organizations, and `intl`: German by default, a greeting per locale. */
function policy(shopOrigin: string, webhookUrl: string): string {
  return `${e2ePolicy(shopOrigin, webhookUrl)}  intl:
    name: Intl Shop
    domains: { mode: enforce, allow: ["${shopOrigin}"] }
    jwt: { mode: off }
    widget:
      language: de
      title: { en: Shop Support, de: Shop-Hilfe }
      greeting:
        en: "Hi! How can we help?"
        de: "Hallo! Wie können wir helfen?"
`;
}

/** A locale file of the widget, as the server serves it. */
async function localeFile(locale: string): Promise<Record<string, unknown>> {
  return JSON.parse(
    await Deno.readTextFile(
      new URL(`../../widget/locales/${locale}.json`, import.meta.url),
    ),
  );
}

/** The widget's root element (inside the shadow root), which carries lang and dir. */
function widgetRoot(page: Page): Locator {
  return page.locator("parley-chat .root");
}

/** Waits until the widget speaks `locale`, then returns its root's lang and dir. */
async function spoken(
  page: Page,
  locale: string,
): Promise<{ lang: string | null; dir: string | null }> {
  const root = widgetRoot(page);
  await page.waitForFunction(
    (wanted) =>
      document.querySelector("parley-chat")?.shadowRoot?.querySelector(".root")
        ?.getAttribute("lang") === wanted,
    locale,
    { timeout: 15_000 },
  );
  return {
    lang: await root.getAttribute("lang"),
    dir: await root.getAttribute("dir"),
  };
}

function sendButton(page: Page): Locator {
  return page.locator("parley-chat form.composer button.send");
}

Deno.test("the widget speaks the visitor's language", async (t) => {
  await using fixture = await openWidgetFixture({ policy });

  await t.step("a de-DE browser gets lang=de and German strings", async () => {
    const german = await localeFile("de");
    const { page } = await fixture.visit({ page: { locale: "de-DE" } });
    await widgetReady(page);
    assert.deepEqual(await spoken(page, "de"), { lang: "de", dir: "ltr" });
    assert.equal(await sendButton(page).textContent(), german.send);
    assert.equal(
      await page.locator("parley-chat textarea").getAttribute("placeholder"),
      german.messagePlaceholder,
    );
    assert.equal(
      await page.locator("parley-chat button.close").getAttribute("aria-label"),
      german.closeChat,
    );
    const { launcher, panel } = widgetParts(page);
    await launcher.click();
    await animationsFinished(panel);
    await page.screenshot({ path: await screenshotPath("widget-open-de.png") });
    await page.context().close();
  });

  await t.step(
    "boot({ language: 'fr' }) wins over a German browser",
    async () => {
      const french = await localeFile("fr");
      const { page } = await fixture.visit({
        boot: { language: "fr" },
        page: { locale: "de-DE" },
      });
      await widgetReady(page);
      assert.deepEqual(await spoken(page, "fr"), { lang: "fr", dir: "ltr" });
      assert.equal(await sendButton(page).textContent(), french.send);
      await page.context().close();
    },
  );

  /** Boxes of the open panel's parts: input, send button, greeting bubble, log. */
  const boxes = async (page: Page) => {
    const { launcher, panel, log } = widgetParts(page);
    await launcher.click();
    await panel.waitFor({ state: "visible" });
    await animationsFinished(panel);
    const box = async (locator: Locator) => (await locator.boundingBox())!;
    return {
      input: await box(page.locator("parley-chat textarea")),
      send: await box(sendButton(page)),
      greeting: await box(page.locator("parley-chat li.greeting")),
      log: await box(log),
    };
  };

  const { page: english } = await fixture.visit({ page: { locale: "en-US" } });
  await widgetReady(english);
  assert.deepEqual(await spoken(english, "en"), { lang: "en", dir: "ltr" });
  const ltr = await boxes(english);
  assert.ok(
    ltr.input.x < ltr.send.x,
    "left to right: the send button follows the input",
  );
  await english.context().close();

  const rightToLeft: readonly (readonly [string, string])[] = [
    ["ar-EG", "ar"],
    ["he-IL", "he"],
    ["fa-IR", "fa"],
  ];
  for (const [browser, locale] of rightToLeft) {
    await t.step(
      `a ${browser} browser gets dir=rtl and the panel mirrored`,
      async () => {
        const { page } = await fixture.visit({ page: { locale: browser } });
        await widgetReady(page);
        assert.deepEqual(await spoken(page, locale), {
          lang: locale,
          dir: "rtl",
        });
        const rtl = await boxes(page);
        // The panel keeps its place (the organization's corner); inside it,
        // the send button and the agent's bubble swap sides.
        assert.equal(rtl.log.x, ltr.log.x);
        assert.ok(rtl.send.x < rtl.input.x, JSON.stringify(rtl));
        assert.equal(
          Math.round(rtl.send.x - rtl.log.x),
          Math.round(ltr.log.x + ltr.log.width - (ltr.send.x + ltr.send.width)),
          "the send button sits at the end edge, as far from it",
        );
        const ltrGap = ltr.greeting.x - ltr.log.x;
        const rtlGap = rtl.log.x + rtl.log.width -
          (rtl.greeting.x + rtl.greeting.width);
        assert.equal(
          Math.round(rtlGap),
          Math.round(ltrGap),
          "the greeting starts at the start edge",
        );
        if (locale === "ar") {
          await page.screenshot({
            path: await screenshotPath("widget-open-ar.png"),
          });
        }
        await page.context().close();
      },
    );
  }

  await t.step(
    `each of the ${
      SUPPORTED_LOCALES.length - 1
    } locale files gives the send button its label, not English's`,
    async () => {
      const { page } = await fixture.visit({ page: { locale: "en-US" } });
      await widgetReady(page);
      const english = await sendButton(page).textContent();
      assert.equal(english, "Send");
      for (
        const locale of SUPPORTED_LOCALES.filter((locale) => locale !== "en")
      ) {
        const file = await localeFile(locale);
        await page.evaluate(
          (language) =>
            (globalThis as unknown as {
              ChatWidget: {
                update(options: { language: string }): Promise<void>;
              };
            }).ChatWidget.update({ language }),
          locale,
        );
        await spoken(page, locale);
        const label = await sendButton(page).textContent();
        const placeholder = await page.locator("parley-chat textarea")
          .getAttribute("placeholder");
        assert.equal(label, file.send, locale);
        assert.equal(placeholder, file.messagePlaceholder, locale);
        // Danish and Norwegian write "Send" as English does: there, the
        // placeholder ("Skriv en besked…", "Skriv en melding…") shows the
        // file was read.
        if (locale === "da" || locale === "nb") {
          assert.notEqual(placeholder, "Write a message…", locale);
        } else assert.notEqual(label, english, locale);
      }
      await page.context().close();
    },
  );

  await t.step(
    "a de-AT browser gets the organization's de greeting",
    async () => {
      const { page } = await fixture.visit({
        boot: { organizationId: "intl" },
        page: { locale: "de-AT" },
      });
      await widgetReady(page);
      assert.equal((await spoken(page, "de")).lang, "de");
      await widgetParts(page).launcher.click();
      await page.locator("parley-chat li.greeting", {
        hasText: "Hallo! Wie können wir helfen?",
      }).waitFor();
      assert.equal(
        await page.locator("parley-chat h2").textContent(),
        "Shop-Hilfe",
      );
      await page.context().close();
    },
  );

  await t.step(
    "a ja browser with widget.language de reads Japanese controls and the de greeting",
    async () => {
      const japanese = await localeFile("ja");
      const { page } = await fixture.visit({
        boot: { organizationId: "intl" },
        page: { locale: "ja-JP" },
      });
      await widgetReady(page);
      assert.equal((await spoken(page, "ja")).lang, "ja");
      await widgetParts(page).launcher.click();
      await page.locator("parley-chat li.greeting", {
        hasText: "Hallo! Wie können wir helfen?",
      }).waitFor();
      assert.equal(await sendButton(page).textContent(), japanese.send);
      await page.context().close();
    },
  );
});
