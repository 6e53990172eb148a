// Mints a chat widget user token with Node's `jsonwebtoken` (the claims are
// described in docs/policy.md, User tokens). Run with Node (after `npm install jsonwebtoken`) or
// with Deno, which resolves the same package through deno.json:
//
//   CHAT_JWT_SECRET=... CHAT_ISSUER=https://your-domain.com \
//   CHAT_ORG_ID=your_organization_id \
//   deno run --allow-env examples/token-server/node-jsonwebtoken.mjs user_123 "Ada" ada@example.com
//
// It prints the token on standard output. In a real server the token is
// returned by an authenticated route such as `GET /chat-token`.
import process from "node:process";
import jwt from "jsonwebtoken";

function generateChatJWT(userInfo, organizationSecret) {
  const payload = {
    iss: process.env.CHAT_ISSUER, // Your domain, as the page's origin (required)
    aud: "chat-widget", // Fixed audience (required)
    sub: userInfo.id, // User identifier (required)
    exp: Math.floor(Date.now() / 1000) + 900, // Expires in 15 minutes (required)
    iat: Math.floor(Date.now() / 1000), // Issued at (optional)
    org_id: process.env.CHAT_ORG_ID, // Your organization ID (required)
    user_data: {
      // Optional user data
      name: userInfo.name,
      email: userInfo.email,
      custom_fields: {
        department: "support",
        tier: "premium",
      },
    },
  };

  return jwt.sign(payload, organizationSecret, { algorithm: "HS256" });
}

const [id = "user_123", name = "User Name", email = "user@example.com"] =
  process.argv.slice(2);
if (
  !process.env.CHAT_JWT_SECRET || !process.env.CHAT_ISSUER ||
  !process.env.CHAT_ORG_ID
) {
  console.error("Set CHAT_JWT_SECRET, CHAT_ISSUER and CHAT_ORG_ID");
  process.exit(2);
}
console.log(generateChatJWT({ id, name, email }, process.env.CHAT_JWT_SECRET));
