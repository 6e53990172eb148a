import assert from "node:assert/strict";
import { ACME_ADMIN_KEY, openWidgetFixture } from "./widget_fixture.ts";

Deno.test("a wrong admin key in the inbox: a plain message that it was not accepted for that organization, the organization kept, the key cleared; the right key then signs in", async () => {
  await using fixture = await openWidgetFixture();
  const { page } = await fixture.newPage();
  await page.goto(`${fixture.server.baseUrl}/agent?org=acme`);
  const organization = page.getByLabel("Organization id");
  const key = page.getByLabel("Admin key");
  assert.equal(await organization.inputValue(), "acme");
  await key.fill("not-the-key-0123456789abcdef0123456789");
  await page.getByRole("button", { name: "Open inbox" }).click();

  const alert = page.getByRole("alert");
  await alert.filter({ hasText: "not accepted" }).waitFor();
  assert.equal(await alert.getAttribute("data-code"), "SESSION_INVALID");
  assert.equal(
    await alert.textContent(),
    "This admin key was not accepted for organization “acme”. Check the key (it is case-sensitive) and that it belongs to this organization.",
  );
  assert.equal(await organization.inputValue(), "acme", "organization kept");
  assert.equal(await key.inputValue(), "", "key cleared");
  assert.equal(await key.getAttribute("aria-invalid"), "true");
  assert.ok(
    await key.evaluate((input) => input === document.activeElement),
    "the key field has the focus",
  );
  // Not small grey text: the message is at the form's size, in its own colour.
  const style = await alert.evaluate((element) => {
    const computed = getComputedStyle(element);
    return { size: parseFloat(computed.fontSize), color: computed.color };
  });
  assert.ok(style.size >= 15, `font size ${style.size}px`);
  assert.notEqual(style.color, "rgb(136, 136, 136)");

  await key.fill(ACME_ADMIN_KEY);
  await page.getByRole("button", { name: "Open inbox" }).click();
  await page.getByRole("status").filter({ hasText: "Live" }).waitFor();
  assert.equal(await alert.isVisible(), false, "the message goes on success");
});
