/**
 * The Parley server, configured from the environment.
 *
 * `deno task start` (or `deno run -A server.ts`) listens on `HOSTNAME:PORT`,
 * restarting the listener when accepting fails (descriptor exhaustion), and
 * warns at start when the open-file limit is low; `serve.ts` exports the same
 * handler for `deno serve --parallel`.
 *
 * Environment: `PORT` (8787), `HOSTNAME` (127.0.0.1), `PARLEY_POLICY`
 * (a policy file or directory; default `policy.yaml` if present, else the
 * built-in demo policy),
 * `PARLEY_STORE` (alias `PARLEY_KV`; default `.parley/kv.sqlite`, or a
 * `postgres://` URL), `PARLEY_SESSION_SECRET`, `PARLEY_SESSION_LIFETIME`
 * (default `30m`),
 * `PARLEY_DECISION_LOG` (a file; default stdout).
 *
 * @module
 */

import { ListenerSupervisor } from "./listener/listener_supervisor.ts";
import {
  openFileLimitWarning,
  readSoftOpenFileLimit,
} from "./listener/open_file_limit.ts";
import { agentPage } from "./widget/agent_page.ts";
import { buildAgentInbox, buildWidget } from "./widget/build.ts";
import { demoPage } from "./widget/demo_page.ts";
import { openStore } from "./store/open_store.ts";
import type { Store } from "./store/store.ts";
import { compilePolicy } from "./policy/compile.ts";
import { parseDuration } from "./policy/rate.ts";
import { PolicyError } from "./policy/error.ts";
import { openDecisionLogWriter } from "./rpc/decision_log_writer.ts";
import { demoPolicyText, randomDemoAdminKey } from "./rpc/demo_policy.ts";
import {
  createHandler,
  type ParleyHandler,
  type PolicySource,
} from "./rpc/handler.ts";
import { Metrics } from "./rpc/metrics.ts";
import { PolicyDirectorySource } from "./rpc/policy_directory_source.ts";
import { problemLogLines } from "./rpc/policy_log_lines.ts";
import {
  type FileReloadResult,
  PolicyFileSource,
} from "./rpc/policy_file_source.ts";

/** A configured server, before it listens. */
export interface ServerSetup {
  readonly handler: ParleyHandler;
  /** The policy file or directory, or `null` for the built-in demo policy. */
  readonly policyFile: string | null;
  readonly policy: PolicySource;
  /** Where counters, sessions and conversations live. */
  readonly store: Store;
  /** The agent inbox key of the built-in demo policy (absent with a policy file). */
  readonly demoAdminKey?: string;
  /** Re-targets the demo policy at the port actually bound (for `PORT=0`). */
  listeningOn(port: number): void;
  close(): Promise<void>;
}

/**
 * Reads the environment, opens the store, compiles the policy and builds the
 * widget.
 *
 * @returns The configured handler and its parts.
 * @throws {PolicyError} When the policy file (or a directory's `_parley.yaml`) does not compile.
 */
export async function setupFromEnvironment(): Promise<ServerSetup> {
  const port = Number(Deno.env.get("PORT") ?? "8787");
  const policyFile = Deno.env.get("PARLEY_POLICY") ??
    (await exists("policy.yaml") ? "policy.yaml" : null);
  const metrics = new Metrics();
  const store = await openStore(storeLocation());

  const demoAdminKey = randomDemoAdminKey();
  let fileSource: PolicyFileSource | PolicyDirectorySource | undefined;
  let demoSource: {
    current: ReturnType<typeof compilePolicy>;
    lastReloadError: null;
  } | undefined;
  if (policyFile !== null) {
    const onReload = ({ ok, file }: FileReloadResult) =>
      metrics.reload(ok ? "ok" : "error", file);
    // A directory holds one file per organization, each reloaded on its own.
    fileSource = (await Deno.stat(policyFile)).isDirectory
      ? await PolicyDirectorySource.open(policyFile, { onReload })
      : await PolicyFileSource.open(policyFile, { onReload });
    fileSource.watch();
  } else {
    demoSource = {
      // With PORT=0 the real port is known only once listening (listeningOn).
      current: compilePolicy(demoPolicyText(port || 8787, demoAdminKey)),
      lastReloadError: null,
    };
  }
  const policy: PolicySource = fileSource ?? demoSource!;
  const [widget, agentScript] = await Promise.all([
    buildWidget(),
    buildAgentInbox(),
  ]);
  const sessionLifetimeMs = sessionLifetime(
    Deno.env.get("PARLEY_SESSION_LIFETIME"),
  );
  const decisionLogPath = Deno.env.get("PARLEY_DECISION_LOG");
  const decisionLog = openDecisionLogWriter(
    decisionLogPath === "" ? undefined : decisionLogPath,
    { onDrop: () => metrics.decisionLogDropped() },
  );
  const sessionSecret = Deno.env.get("PARLEY_SESSION_SECRET");
  const handler = createHandler({
    policy,
    store,
    widget,
    agentScript,
    metrics,
    decisionLog: decisionLog.write,
    pages: {
      agent: agentPage(),
      ...(policy.current.organization("demo") === undefined
        ? {}
        : { home: demoPage({ organizationId: "demo" }) }),
    },
    ...(sessionSecret === undefined ? {} : { sessionSecret }),
    ...(sessionLifetimeMs === undefined ? {} : { sessionLifetimeMs }),
  });
  return {
    handler,
    policyFile,
    policy,
    ...(demoSource === undefined ? {} : { demoAdminKey }),
    listeningOn(actualPort: number): void {
      if (demoSource !== undefined && actualPort !== port) {
        demoSource.current = compilePolicy(
          demoPolicyText(actualPort, demoAdminKey),
        );
      }
    },
    store,
    async close(): Promise<void> {
      fileSource?.close();
      await handler.close();
      await decisionLog.close();
      await store.close();
    },
  };
}

/**
 * `PARLEY_SESSION_LIFETIME` as milliseconds: a duration from 1 s to 24 h.
 *
 * @throws {RangeError} For anything else.
 */
function sessionLifetime(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1_000 || ms > 24 * 60 * 60 * 1000) {
    throw new RangeError(
      `PARLEY_SESSION_LIFETIME must be a duration from 1s to 24h, got "${text}"`,
    );
  }
  return ms;
}

/** `PARLEY_STORE`, else its older name `PARLEY_KV`; unset or empty means the default file. */
function storeLocation(): string | undefined {
  const store = Deno.env.get("PARLEY_STORE");
  return store !== undefined && store !== ""
    ? store
    : Deno.env.get("PARLEY_KV");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  let setup: ServerSetup;
  try {
    setup = await setupFromEnvironment();
  } catch (error) {
    if (error instanceof PolicyError) {
      console.error(`parley: the policy has errors, not starting:`);
      const policyPath = Deno.env.get("PARLEY_POLICY") ?? "policy.yaml";
      const byFile = Map.groupBy(
        error.problems,
        (problem) =>
          problem.file === undefined
            ? policyPath
            : `${policyPath.replace(/\/+$/, "")}/${problem.file}`,
      );
      for (const [file, problems] of byFile) {
        for (const line of problemLogLines(file, problems, error.omitted)) {
          console.error(line);
        }
      }
    } else {
      console.error(
        `parley: cannot start: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    }
    Deno.exit(1);
  }
  const warning = openFileLimitWarning(await readSoftOpenFileLimit());
  if (warning !== undefined) console.error(warning);
  const hostname = Deno.env.get("HOSTNAME") ?? "127.0.0.1";
  const port = Number(Deno.env.get("PORT") ?? "8787");
  let listener: ListenerSupervisor;
  try {
    // Restarts the listener whenever accept() fails (EMFILE) instead of exiting.
    listener = new ListenerSupervisor({
      hostname,
      port,
      handler: setup.handler,
      onListen({ hostname, port }) {
        setup.listeningOn(port);
        console.error(
          `parley: listening on http://${hostname}:${port}/ · policy ${
            setup.policyFile ?? "built-in demo"
          } · revision ${setup.policy.current.revision} · store ${setup.store.engine} ${setup.store.location}`,
        );
        if (setup.demoAdminKey !== undefined) {
          console.error(
            `parley: agent inbox http://${hostname}:${port}/agent?org=demo · admin key ${setup.demoAdminKey}`,
          );
        }
      },
    });
  } catch (error) {
    console.error(
      `parley: cannot listen on ${hostname}:${port}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    await setup.close();
    Deno.exit(1);
  }
  const stop = async () => {
    // Open streams would hold the listener's shutdown until clients leave.
    setup.handler.closeStreams();
    await listener.shutdown();
    await setup.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
