import assert from "node:assert/strict";
import { EMAIL_CASES } from "../tests/email_cases.ts";
import { isEmailAddress } from "./email_address.ts";

for (const [address, valid, what] of EMAIL_CASES) {
  Deno.test(`isEmailAddress() ${valid ? "accepts" : "rejects"} ${what}`, () => {
    assert.equal(isEmailAddress(address), valid);
  });
}
