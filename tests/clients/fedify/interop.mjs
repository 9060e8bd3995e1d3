#!/usr/bin/env node
// A small Fedify federation server (npm `@fedify/fedify`, pinned in package.json;
// `npm ci` here installs it, scripts/test does so) talking ActivityPub to a running
// Cascade server, as an independent implementation would.
//
//     node interop.mjs CASCADE_BASE_URL HANDLE NOTE_URL
//
// e.g. `node interop.mjs http://127.0.0.1:4000 alice@127.0.0.1:4000
// http://127.0.0.1:4000/users/alice/statuses/123`. It listens on a free loopback port
// over plain http as the actor `fedi` (an RSA key pair for HTTP Signatures and an
// Ed25519 one for Object Integrity Proofs, as Fedify's documentation sets actors up),
// with its own inbox and a shared inbox, and then:
//
//  (a) looks up HANDLE through WebFinger and the actor by its URL, checks the
//      actor's fields and its handle (WebFinger asked with the actor's URL), looks up the public Note at NOTE_URL, and reads the server's
//      NodeInfo (strictly);
//  (b) sends a signed Follow to the actor and waits for its Accept;
//  (c) waits for the Create(Note) of a post the account makes afterwards (the test
//      that runs this makes it, once it has read the "accepted" line);
//  (d) sends a signed, public Create(Note) that mentions the account.
//
// Each thing seen is one JSON line on stdout (`{"event": ...}`), which the Rust test
// (crates/cascade-server/tests/api/fedify.rs) reads and checks; Fedify's own log goes
// to stderr. Any failure prints {"event":"fail",...} and exits 1.
//
// Test-only settings: `allowPrivateAddress` lets Fedify fetch from loopback, and a
// wrapper around fetch sends WebFinger requests for Cascade's host over http (Fedify
// always asks https for an acct: resource; Cascade here serves plain http). Nothing
// else is bent: signatures are made and checked by Fedify as in production.

import http from "node:http";
import { Temporal } from "@js-temporal/polyfill";
import { configure, defaultTextFormatter } from "@logtape/logtape";
import {
  Accept,
  Create,
  createFederation,
  Endpoints,
  Follow,
  generateCryptoKeyPair,
  isActor,
  lookupWebFinger,
  MemoryKvStore,
  Mention,
  Note,
  Person,
  PUBLIC_COLLECTION,
} from "@fedify/fedify";

const WAIT_MS = 60_000;
const ME = "fedi";

const [cascadeBase, handle, noteUrl] = process.argv.slice(2);
if (!cascadeBase || !handle || !noteUrl) {
  console.error("usage: node interop.mjs CASCADE_BASE_URL HANDLE NOTE_URL");
  process.exit(2);
}
const cascadeHost = new URL(cascadeBase).host;

class InteropError extends Error {}

function emit(event, fields = {}) {
  console.log(JSON.stringify({ event, ...fields }));
}

function ensure(condition, message) {
  if (!condition) throw new InteropError(message);
}

await configure({
  sinks: {
    stderr: (record) => process.stderr.write(defaultTextFormatter(record)),
  },
  loggers: [
    { category: "fedify", lowestLevel: "debug", sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ],
});

// Fedify asks https://HOST/.well-known/webfinger for an acct: resource; Cascade under
// test answers plain http on loopback (as Cascade itself does under
// --insecure-allow-private-outgoing), so only those requests are rewritten.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = typeof input === "string" || input instanceof URL ? String(input) : input.url;
  const prefix = `https://${cascadeHost}/.well-known/webfinger`;
  if (url.startsWith(prefix)) {
    const plain = `http://${cascadeHost}/.well-known/webfinger${url.slice(prefix.length)}`;
    return realFetch(plain, init ?? (typeof input === "object" && !(input instanceof URL) ? input : undefined));
  }
  return realFetch(input, init);
};

const keyPairs = [
  await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  await generateCryptoKeyPair("Ed25519"),
];

const federation = createFederation({
  kv: new MemoryKvStore(),
  allowPrivateAddress: true,
});

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== ME) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Fedify interop",
      summary: "An independent ActivityPub server, built with Fedify.",
      url: ctx.getActorUri(identifier),
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      followers: ctx.getFollowersUri(identifier),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((k) => k.multikey),
    });
  })
  .setKeyPairsDispatcher((_ctx, identifier) => (identifier === ME ? keyPairs : []));

federation.setFollowersDispatcher("/users/{identifier}/followers", () => ({ items: [] }));

// What arrives in the inboxes, for the steps to wait on.
const arrived = [];
const waiters = [];
function arrive(kind, value) {
  arrived.push({ kind, value });
  for (const w of [...waiters]) {
    if (w.kind === kind && w.match(value)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(value);
    }
  }
}
function waitFor(kind, what, match = () => true) {
  const done = arrived.find((a) => a.kind === kind && match(a.value));
  if (done) return Promise.resolve(done.value);
  return new Promise((resolve, reject) => {
    const w = { kind, match, resolve };
    waiters.push(w);
    setTimeout(() => {
      const at = waiters.indexOf(w);
      if (at >= 0) {
        waiters.splice(at, 1);
        reject(new InteropError(`no ${what} arrived in ${WAIT_MS} ms`));
      }
    }, WAIT_MS);
  });
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, async (ctx, accept) => {
    const follow = await accept.getObject({ documentLoader: ctx.documentLoader });
    arrive("accept", {
      id: accept.id?.href,
      actor: accept.actorId?.href,
      follow: follow instanceof Follow ? follow.id?.href : accept.objectId?.href,
      followObject: follow instanceof Follow ? follow.objectId?.href : null,
      inbox: ctx.recipient ?? "shared",
    });
  })
  .on(Create, async (ctx, create) => {
    const note = await create.getObject({ documentLoader: ctx.documentLoader });
    arrive("create", {
      id: create.id?.href,
      actor: create.actorId?.href,
      inbox: ctx.recipient ?? "shared",
      object: note instanceof Note
        ? {
          type: "Note",
          id: note.id?.href,
          attributedTo: note.attributionId?.href,
          content: note.content?.toString(),
          url: note.url?.href ?? null,
          to: note.toIds.map((u) => u.href),
          cc: note.ccIds.map((u) => u.href),
          published: note.published?.toString() ?? null,
        }
        : { type: note?.constructor?.name ?? null },
    });
  })
  .onError((_ctx, error) => {
    console.error(`inbox error: ${error?.stack ?? error}`);
  });

// Node's http server in front of federation.fetch().
const server = http.createServer(async (req, res) => {
  try {
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks);
    const request = new Request(new URL(req.url, `http://${req.headers.host}`), {
      method: req.method,
      headers,
      body,
    });
    const response = await federation.fetch(request, { contextData: undefined });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    console.error(`request failed: ${error?.stack ?? error}`);
    res.writeHead(500);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const ctx = federation.createContext(new URL(origin), undefined);
const me = ctx.getActorUri(ME);
emit("listening", { origin, actor: me.href });

function actorFields(actor) {
  return {
    type: actor.constructor.name,
    id: actor.id?.href,
    preferredUsername: actor.preferredUsername?.toString(),
    name: actor.name?.toString() ?? null,
    url: actor.url?.href ?? null,
    inbox: actor.inboxId?.href,
    outbox: actor.outboxId?.href ?? null,
    followers: actor.followersId?.href ?? null,
    following: actor.followingId?.href ?? null,
    featured: actor.featuredId?.href ?? null,
    sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
    manuallyApprovesFollowers: actor.manuallyApprovesFollowers,
    discoverable: actor.discoverable,
    indexable: actor.indexable,
    publicKeyId: actor.publicKeyId?.href ?? null,
  };
}

async function run() {
  // (a) Lookups.
  const jrd = await lookupWebFinger(`acct:${handle}`, { allowPrivateAddress: true });
  ensure(jrd != null, `WebFinger found nothing for acct:${handle}`);
  const self = jrd.links?.find((l) => l.rel === "self" && l.type === "application/activity+json");
  ensure(self != null, `WebFinger for ${handle} has no self link: ${JSON.stringify(jrd)}`);
  emit("webfinger", { subject: jrd.subject, self: self.href });

  const byHandle = await ctx.lookupObject(`@${handle}`);
  ensure(isActor(byHandle), `@${handle} is not an actor: ${byHandle}`);
  emit("actor", { via: "handle", ...actorFields(byHandle) });

  const byUrl = await ctx.lookupObject(self.href);
  ensure(isActor(byUrl), `${self.href} is not an actor: ${byUrl}`);
  ensure(byUrl.id?.href === self.href, `${self.href} names itself ${byUrl.id?.href}`);
  const key = await byUrl.getPublicKey({ documentLoader: ctx.documentLoader });
  ensure(key?.publicKey != null, `${self.href} has no usable public key`);
  ensure(key.ownerId?.href === self.href, `the key's owner is ${key.ownerId?.href}`);
  // The handle from the actor's URL, as Fedify's getActorHandle finds it: WebFinger
  // asked with the URL names the acct: (getActorHandle itself cannot be used here: it
  // normalizes the domain with domainToUnicode, which empties a host with a port).
  const back = await lookupWebFinger(byUrl.id, { allowPrivateAddress: true });
  ensure(back != null, `WebFinger found nothing for ${byUrl.id.href}`);
  const actorHandle = back.subject?.replace(/^acct:/, "@");
  emit("actor", {
    via: "url",
    ...actorFields(byUrl),
    handle: actorHandle,
    keyAlgorithm: key.publicKey.algorithm.name,
    keyOwner: key.ownerId?.href,
  });

  const note = await ctx.lookupObject(noteUrl);
  ensure(note instanceof Note, `${noteUrl} is not a Note: ${note}`);
  const tags = [];
  for await (const tag of note.getTags({ documentLoader: ctx.documentLoader })) {
    tags.push({ type: tag.constructor.name, name: tag.name?.toString(), href: tag.href?.href });
  }
  emit("note", {
    id: note.id?.href,
    attributedTo: note.attributionId?.href,
    content: note.content?.toString(),
    url: note.url?.href ?? null,
    to: note.toIds.map((u) => u.href),
    cc: note.ccIds.map((u) => u.href),
    published: note.published?.toString() ?? null,
    tags,
  });

  const nodeInfo = await ctx.lookupNodeInfo(cascadeBase, { parse: "strict" });
  ensure(nodeInfo != null, `${cascadeBase} has no NodeInfo that Fedify reads strictly`);
  emit("nodeinfo", {
    software: nodeInfo.software.name,
    protocols: nodeInfo.protocols,
    users: nodeInfo.usage.users.total ?? null,
    localPosts: nodeInfo.usage.localPosts,
  });

  // (b) Follow, and Cascade's Accept.
  const followId = new URL(`${origin}/follows/${Date.now()}`);
  await ctx.sendActivity(
    { identifier: ME },
    byUrl,
    new Follow({ id: followId, actor: me, object: byUrl.id }),
  );
  emit("follow-sent", { id: followId.href });
  const accept = await waitFor("accept", "Accept", (a) => a.follow === followId.href);
  emit("accepted", accept);

  // (c) The next post of the account, delivered as Create(Note).
  const create = await waitFor("create", "Create", (c) => c.actor === byUrl.id?.href);
  emit("create", create);

  // (d) A public note mentioning the account.
  const noteId = new URL(`${origin}/users/${ME}/notes/${Date.now()}`);
  const content = `<p>Hello <span class="h-card"><a href="${byUrl.url?.href ?? byUrl.id.href}" ` +
    `class="u-url mention">@<span>${byUrl.preferredUsername}</span></a></span> from Fedify</p>`;
  const mention = new Note({
    id: noteId,
    attribution: me,
    to: PUBLIC_COLLECTION,
    ccs: [ctx.getFollowersUri(ME), byUrl.id],
    content,
    tags: [new Mention({ href: byUrl.id, name: `@${handle}` })],
    published: Temporal.Now.instant(),
  });
  await ctx.sendActivity(
    { identifier: ME },
    byUrl,
    new Create({
      id: new URL(`${noteId.href}/activity`),
      actor: me,
      object: mention,
      to: PUBLIC_COLLECTION,
      ccs: [ctx.getFollowersUri(ME), byUrl.id],
      published: mention.published,
    }),
  );
  emit("mention-sent", { id: noteId.href, content });
}

try {
  await run();
  emit("done");
  server.close();
  process.exit(0);
} catch (error) {
  emit("fail", { message: String(error?.message ?? error), stack: error?.stack });
  process.exit(1);
}
