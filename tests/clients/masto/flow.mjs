#!/usr/bin/env node
// Drive a running Cascade server with the real masto.js client (npm `masto`,
// pinned in package.json; `npm ci` here installs it, scripts/test does so).
//
//     node flow.mjs BASE_URL
//
// BASE_URL is e.g. http://127.0.0.1:PORT. The flow: create an app
// (v1.apps.create), get an app token with client_credentials (masto's OAuth
// client), register alice_<rand> and bob_<rand> (v1.accounts.create, which
// masto sends as multipart/form-data), verify both, bob follows alice, alice
// posts twice, the first post reaches bob's home timeline (fan-out is
// asynchronous, so this polls), bob favourites and reblogs it, alice's post then
// counts one of each, and the public timeline and alice's statuses are read two
// pages deep with limit=1 through masto's paginator, which follows the Link
// header. Last, alice uploads a picture with alt text (v2.media.create, multipart),
// posts it, and the attachment's file is served as an image.
//
// Each step is printed; any failure prints "FAIL: ..." and exits 1.

import { randomBytes } from "node:crypto";
import { createOAuthAPIClient, createRestAPIClient } from "masto";

const TIMEOUT_MS = 30_000;
const POLL_MS = 10_000;
const SCOPES = "read write follow push";
const OOB = "urn:ietf:wg:oauth:2.0:oob";

class FlowError extends Error {}

function step(message) {
  console.log(`==> ${message}`);
}

function ensure(condition, message) {
  if (!condition) {
    throw new FlowError(message);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls probe until it returns something truthy, for up to POLL_MS. */
async function poll(what, probe) {
  const deadline = Date.now() + POLL_MS;
  for (;;) {
    const result = await probe();
    if (result) {
      return result;
    }
    if (Date.now() >= deadline) {
      throw new FlowError(`timed out after ${POLL_MS / 1000} s waiting for ${what}`);
    }
    await sleep(250);
  }
}

/** The first two pages of a masto paginator, as arrays. */
async function twoPages(what, paginator) {
  const pages = paginator.values();
  const first = await pages.next();
  ensure(!first.done && Array.isArray(first.value), `${what}: no first page`);
  ensure(first.value.length === 1, `${what}: limit=1 gave ${first.value.length} statuses on page 1`);
  const second = await pages.next();
  ensure(
    !second.done,
    `${what}: no second page; the first response carried no Link header with rel="next"`,
  );
  ensure(Array.isArray(second.value), `${what}: page 2 is not an array`);
  ensure(second.value.length === 1, `${what}: limit=1 gave ${second.value.length} statuses on page 2`);
  await pages.return?.();
  return [first.value, second.value];
}

/** Ids are strings; when both are numeric, newer is larger. */
function newer(a, b) {
  return /^\d+$/.test(a) && /^\d+$/.test(b) ? BigInt(a) > BigInt(b) : a !== b;
}

async function register(url, appToken, username) {
  const api = createRestAPIClient({ url, accessToken: appToken, timeout: TIMEOUT_MS });
  const token = await api.v1.accounts.create({
    username,
    email: `${username}@example.com`,
    password: randomBytes(18).toString("base64url"),
    agreement: true,
    locale: "en",
  });
  ensure(typeof token.accessToken === "string" && token.accessToken, `no accessToken for ${username}`);
  ensure(
    typeof token.tokenType === "string" && token.tokenType.toLowerCase() === "bearer",
    `tokenType for ${username} is ${JSON.stringify(token.tokenType)}`,
  );
  return createRestAPIClient({ url, accessToken: token.accessToken, timeout: TIMEOUT_MS });
}

async function run(url) {
  const suffix = randomBytes(4).toString("hex");
  const aliceName = `alice_${suffix}`;
  const bobName = `bob_${suffix}`;

  step("create app: POST /api/v1/apps (v1.apps.create)");
  const anon = createRestAPIClient({ url, timeout: TIMEOUT_MS });
  const app = await anon.v1.apps.create({
    clientName: "cascade-masto-js-flow",
    redirectUris: OOB,
    scopes: SCOPES,
    website: "https://example.com/masto-flow",
  });
  ensure(app.name === "cascade-masto-js-flow", `app name is ${JSON.stringify(app.name)}`);
  ensure(app.clientId && app.clientSecret, `the app has no clientId/clientSecret: ${JSON.stringify(app)}`);

  step("app token: POST /oauth/token grant_type=client_credentials (masto OAuth client)");
  const oauth = createOAuthAPIClient({ url, timeout: TIMEOUT_MS });
  const appToken = await oauth.token.create({
    grantType: "client_credentials",
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUri: OOB,
    scope: SCOPES,
  });
  ensure(appToken.accessToken, `no accessToken in ${JSON.stringify(appToken)}`);

  step("app credentials: GET /api/v1/apps/verify_credentials");
  const appApi = createRestAPIClient({ url, accessToken: appToken.accessToken, timeout: TIMEOUT_MS });
  const verifiedApp = await appApi.v1.apps.verifyCredentials();
  ensure(verifiedApp.name === "cascade-masto-js-flow", `verified app is ${JSON.stringify(verifiedApp.name)}`);

  step(`register ${aliceName} and ${bobName}: POST /api/v1/accounts (v1.accounts.create, multipart)`);
  const alice = await register(url, appToken.accessToken, aliceName);
  const bob = await register(url, appToken.accessToken, bobName);

  step("verify credentials: GET /api/v1/accounts/verify_credentials");
  const aliceMe = await alice.v1.accounts.verifyCredentials();
  const bobMe = await bob.v1.accounts.verifyCredentials();
  ensure(aliceMe.username === aliceName, `alice is ${JSON.stringify(aliceMe.username)}`);
  ensure(bobMe.username === bobName, `bob is ${JSON.stringify(bobMe.username)}`);
  ensure(aliceMe.acct === aliceName, `local acct should be the bare username, got ${JSON.stringify(aliceMe.acct)}`);
  ensure(typeof aliceMe.id === "string", `account id is a ${typeof aliceMe.id}, not a string`);
  ensure(aliceMe.source && typeof aliceMe.source === "object", "verify_credentials has no source");

  step(`${bobName} follows ${aliceName}: POST /api/v1/accounts/:id/follow`);
  const relationship = await bob.v1.accounts.$select(aliceMe.id).follow();
  ensure(relationship.id === aliceMe.id, "the relationship is about another account");
  ensure(relationship.following === true, `bob is not following alice: ${JSON.stringify(relationship)}`);

  step(`${aliceName} posts twice: POST /api/v1/statuses (v1.statuses.create)`);
  const post = await alice.v1.statuses.create({
    status: `Hello from ${aliceName}, via masto.js`,
    visibility: "public",
  });
  ensure(post.account?.id === aliceMe.id, "the new status has another author");
  ensure(post.visibility === "public", `visibility is ${JSON.stringify(post.visibility)}`);
  ensure(post.favouritesCount === 0 && post.reblogsCount === 0, "a new status has nonzero counts");
  const second = await alice.v1.statuses.create({
    status: `A second post from ${aliceName}`,
    visibility: "public",
  });
  ensure(second.id !== post.id, "two posts got the same id");

  step(`${bobName}'s home timeline shows it: GET /api/v1/timelines/home (polling)`);
  await poll("alice's post in bob's home timeline", async () => {
    const home = await bob.v1.timelines.home.list({ limit: 40 });
    ensure(Array.isArray(home), "the home timeline is not an array");
    return home.some((s) => s.id === post.id);
  });

  step(`${bobName} favourites it: POST /api/v1/statuses/:id/favourite`);
  const favourited = await bob.v1.statuses.$select(post.id).favourite();
  ensure(favourited.id === post.id, "favourite returned another status");
  ensure(favourited.favourited === true, "the favourited status says favourited != true");

  step(`${bobName} reblogs it: POST /api/v1/statuses/:id/reblog`);
  const reblog = await bob.v1.statuses.$select(post.id).reblog();
  ensure(reblog.reblog?.id === post.id, "reblog did not return a status wrapping alice's post");
  ensure(reblog.reblog.reblogged === true, "the reblogged status says reblogged != true");

  step(`${aliceName}'s post counts 1 favourite and 1 reblog: GET /api/v1/statuses/:id`);
  let last;
  try {
    await poll("favouritesCount, reblogsCount == 1, 1", async () => {
      last = await alice.v1.statuses.$select(post.id).fetch();
      return last.favouritesCount === 1 && last.reblogsCount === 1;
    });
  } catch (e) {
    if (!(e instanceof FlowError) || !last) throw e;
    throw new FlowError(
      `counts on alice's post: favouritesCount=${last.favouritesCount}, ` +
        `reblogsCount=${last.reblogsCount}; expected 1, 1`,
    );
  }
  const seen = await bob.v1.statuses.$select(post.id).fetch();
  ensure(
    seen.favourited === true && seen.reblogged === true,
    `bob sees favourited=${seen.favourited}, reblogged=${seen.reblogged}`,
  );

  step("public timeline, two pages of limit=1: GET /api/v1/timelines/public, then its Link rel=next");
  const [pub1, pub2] = await twoPages("public timeline", bob.v1.timelines.public.list({ limit: 1 }));
  ensure(pub1[0].id !== pub2[0].id, `both public pages hold status ${pub1[0].id}`);
  ensure(newer(pub1[0].id, pub2[0].id), `public page 2 (${pub2[0].id}) is not older than page 1 (${pub1[0].id})`);
  console.log(`    pages: ${pub1[0].id}, ${pub2[0].id}`);

  step(`${aliceName}'s statuses, two pages of limit=1: GET /api/v1/accounts/:id/statuses, then Link rel=next`);
  const [acc1, acc2] = await twoPages(
    "account statuses",
    bob.v1.accounts.$select(aliceMe.id).statuses.list({ limit: 1 }),
  );
  ensure(acc1[0].id === second.id, `page 1 is ${acc1[0].id}, expected alice's newest post ${second.id}`);
  ensure(acc2[0].id === post.id, `page 2 is ${acc2[0].id}, expected alice's first post ${post.id}`);
  console.log(`    pages: ${acc1[0].id}, ${acc2[0].id}`);

  step(`${aliceName} uploads a picture: POST /api/v2/media (v2.media.create, multipart)`);
  // A 1×1 PNG.
  const png = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
    "base64",
  );
  const media = await alice.v2.media.create({
    file: new Blob([png], { type: "image/png" }),
    description: "One orange dot",
  });
  ensure(media.type === "image", `the upload is a ${JSON.stringify(media.type)}`);
  ensure(media.description === "One orange dot", `description is ${JSON.stringify(media.description)}`);
  ensure(typeof media.url === "string" && media.url, "the processed upload has no url");

  step(`${aliceName} posts it: POST /api/v1/statuses with media_ids`);
  const pictured = await alice.v1.statuses.create({ status: "A dot", mediaIds: [media.id] });
  ensure(pictured.mediaAttachments.length === 1, "the status has no attachment");
  ensure(pictured.mediaAttachments[0].id === media.id, "the status has another attachment");
  const served = await fetch(pictured.mediaAttachments[0].url);
  ensure(served.ok, `the file answers ${served.status}`);
  const type = served.headers.get("content-type") ?? "";
  ensure(type.startsWith("image/"), `the file is served as ${JSON.stringify(type)}`);
}

function describe(error) {
  if (error instanceof FlowError) {
    return error.message;
  }
  // MastoHttpError and friends carry what the server said.
  const parts = [`${error?.name ?? "Error"}: ${error?.message ?? error}`];
  if (error?.statusCode !== undefined) parts.push(`HTTP ${error.statusCode}`);
  if (error?.description) parts.push(`description: ${error.description}`);
  if (error?.details) parts.push(`details: ${JSON.stringify(error.details)}`);
  const cause = error?.cause;
  if (cause instanceof Response) {
    parts.push(`${cause.url}`);
  } else if (cause) {
    parts.push(`caused by ${cause.name ?? ""}: ${cause.message ?? cause}`);
  }
  return parts.join("; ");
}

async function main(argv) {
  if (argv.length !== 1) {
    console.error("usage: node flow.mjs BASE_URL");
    return 2;
  }
  const url = argv[0].replace(/\/+$/, "");
  try {
    await run(url);
  } catch (error) {
    console.error(`FAIL: ${describe(error)}`);
    if (!(error instanceof FlowError) && error?.stack) {
      console.error(error.stack);
    }
    return 1;
  }
  console.log("PASS: masto.js flow (register, follow, post, home, favourite, reblog, counts, pagination, media)");
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
