import assert from "node:assert/strict";
import { waitFor } from "../tests/server_process.ts";
import { testEachEngine } from "../tests/store_engines.ts";
import { AgentPresence } from "./agent_presence.ts";

testEachEngine(
  "AgentPresence: a held stream is online here at once and on another host, until released",
  async (engine) => {
    await using here = await engine.open();
    await using there = await engine.open(here.location);
    const clock = { ms: Date.UTC(2026, 0, 15, 12) };
    const local = new AgentPresence(here.presence, () => clock.ms);
    const remote = new AgentPresence(there.presence, () => clock.ms);
    assert.equal(await remote.online("acme"), false);
    const release = local.hold("acme", "ada");
    assert.equal(await local.online("acme"), true);
    clock.ms += 3_000; // past the remote read cache
    // The first beat is written in the background; wait until the store holds it.
    await waitFor(async () =>
      (await there.presence.present("acme", clock.ms)).length > 0
    );
    assert.equal(await remote.online("acme"), true);
    assert.equal(await remote.online("globex"), false);
    release();
    release(); // idempotent
    assert.equal(await local.online("acme"), false);
    // The leave is written in the background too.
    await waitFor(async () =>
      (await there.presence.present("acme", clock.ms)).length === 0
    );
    clock.ms += 3_000;
    assert.equal(await remote.online("acme"), false);
  },
);

testEachEngine(
  "AgentPresence: a host that dies leaves no agent online once its lease lapses",
  async (engine) => {
    await using store = await engine.open();
    const clock = { ms: Date.UTC(2026, 0, 15, 12) };
    // A beat as a dead host left it: never renewed, never released.
    await store.presence.beat(
      "acme",
      "dead-host-stream",
      "ada",
      clock.ms + 45_000,
    );
    const presence = new AgentPresence(store.presence, () => clock.ms);
    assert.equal(await presence.online("acme"), true);
    clock.ms += 46_000;
    assert.equal(await presence.online("acme"), false);
  },
);
