/**
 * The Parley server, configured from the environment.
 *
 * `deno task start` (or `deno run -A server.ts`) listens on `HOSTNAME:PORT`,
 * restarting the listener when accepting fails (descriptor exhaustion), and
 * warns at start when the open-file limit is low; `serve.ts` exports the same
 * handler for `deno serve --parallel`.
 *
 * Environment (checked at start, see `server_settings.ts`): `PORT` (8787),
 * `HOSTNAME` (127.0.0.1), `PARLEY_POLICY` (a policy file or directory;
 * default `policy.yaml` if present, else the built-in demo policy),
 * `PARLEY_STORE` (alias `PARLEY_KV`; default `.parley/kv.sqlite`, or
 * `:memory:`, or a `postgres://` URL), `PARLEY_SESSION_SECRET`,
 * `PARLEY_SESSION_LIFETIME` (default `30m`), `PARLEY_DECISION_LOG` (a file;
 * default stdout), `PARLEY_DEMO_ADMIN_KEY` (the built-in demo's inbox key).
 *
 * @module
 */

import { ListenerSupervisor } from "./listener/listener_supervisor.ts";
import {
  openFileLimitWarning,
  readSoftOpenFileLimit,
} from "./listener/open_file_limit.ts";
import { compilePolicy } from "./policy/compile.ts";
import { classifyPolicyFile } from "./policy/policy_directory.ts";
import {
  type SecretVariable,
  secretVariables,
} from "./policy/secret_variables.ts";
import { policyFileNames } from "./policy_io/policy_directory_reader.ts";
import { readPolicyFile } from "./policy_io/policy_file_reader.ts";
import { openDecisionLogWriter } from "./observability/decision_log_writer.ts";
import {
  DEMO_ORGANIZATION,
  DEMO_POLICY_FILE,
  demoAdminKey,
  demoPolicyText,
} from "./policy_source/demo_policy.ts";
import {
  createHandler,
  type ParleyHandler,
  type PolicySource,
} from "./rpc/handler.ts";
import { Metrics } from "./observability/metrics.ts";
import { PolicyDirectorySource } from "./policy_source/policy_directory_source.ts";
import {
  type FileReloadResult,
  PolicyFileSource,
} from "./policy_source/policy_file_source.ts";
import {
  cannotBuildLine,
  cannotListenLine,
  cannotStartLines,
  listeningLines,
  type PolicyVariables,
  policyVariablesLine,
  startLines,
} from "./server_messages.ts";
import { readServerSettings, type ServerSettings } from "./server_settings.ts";
import { openStore } from "./store/open_store.ts";
import { watchOutages } from "./store/outage_watch.ts";
import type { Store } from "./store/store.ts";
import { agentPage } from "./widget/agent_page.ts";
import {
  buildAgentInbox,
  buildLocales,
  buildStylesheet,
  buildWidget,
  stopBuilds,
} from "./widget/build.ts";
import { INBOX_CSS } from "./widget/inbox_styles.ts";
import { DEMO_CSS, demoPage } from "./widget/demo_page.ts";
import { faviconIco } from "./widget/favicon.ts";

/** A configured server, before it listens. */
export interface ServerSetup {
  readonly handler: ParleyHandler;
  /**
   * Settles once the widget, the inbox's script, the stylesheets and the
   * locale files are built (the handler serves them from then on); rejects
   * when one cannot be.
   */
  readonly assetsBuilt: Promise<void>;
  /** The settings read from the environment. */
  readonly settings: ServerSettings;
  /** The policy file or directory, or `null` for the built-in demo policy. */
  readonly policyFile: string | null;
  readonly policy: PolicySource;
  /** Where counters, sessions and conversations live. */
  readonly store: Store;
  /** The agent inbox key of the built-in demo policy (absent with a policy file). */
  readonly demoAdminKey?: string;
  /**
   * Re-targets the demo policy at the port actually bound (for `PORT=0`).
   *
   * @returns The start-up lines to print: where it listens, the demo's key.
   */
  listeningOn(hostname: string, port: number): string[];
  close(): Promise<void>;
}

/**
 * Reads and checks the environment, opens the store, compiles the policy and
 * starts building the widget.
 *
 * @returns The configured handler and its parts.
 * @throws {ServerSettingsError} When a variable cannot be used.
 * @throws {PolicyError} When the policy file (or a directory's `_parley.yaml`) does not compile.
 */
export async function setupFromEnvironment(): Promise<ServerSetup> {
  return await setupServer(await readServerSettings(environment));
}

/**
 * Opens the store, compiles the policy and starts building the widget, as
 * `settings` say.
 *
 * @param settings Checked settings.
 * @returns The configured handler and its parts.
 * @throws {PolicyError} When the policy file (or a directory's `_parley.yaml`) does not compile.
 */
export async function setupServer(
  settings: ServerSettings,
): Promise<ServerSetup> {
  const { port, policyPath } = settings;
  const metrics = new Metrics();
  // esbuild builds in its own process while the store opens, the policy
  // compiles and the server starts listening: a request for a file waits.
  const widget = buildWidget();
  const agentScript = buildAgentInbox();
  const agentStyles = buildStylesheet(INBOX_CSS);
  const homeStyles = buildStylesheet(DEMO_CSS);
  const locales = buildLocales().then((built) =>
    new Map(built.map((locale) => [locale.locale, locale]))
  );
  let closing = false;
  const assetsBuilt = Promise.all([
    widget,
    agentScript,
    agentStyles,
    homeStyles,
    locales,
  ]).then(() => {}, (error) => {
    // A server that stops ends the builds under way: that is no failure.
    if (!closing) throw error;
  });
  // Handled here, so a start that fails first leaves no rejection unhandled.
  assetsBuilt.catch(() => {});
  const endBuilds = async () => {
    closing = true;
    await stopBuilds();
  };
  const store = watchOutages(
    await openStore(settings.store).catch(async (error) => {
      await endBuilds();
      throw error;
    }),
    { log: (line) => console.error(line) },
  );
  try {
    let fileSource: PolicyFileSource | PolicyDirectorySource | undefined;
    let demo: { text: string; adminKey: string } | undefined;
    let demoSource: {
      current: ReturnType<typeof compilePolicy>;
      lastReloadError: null;
    } | undefined;
    if (policyPath !== null) {
      const onReload = ({ ok, file }: FileReloadResult) =>
        metrics.reload(ok ? "ok" : "error", file);
      const options = { onReload };
      // A directory holds one file per organization, each reloaded on its own.
      fileSource = (await Deno.stat(policyPath)).isDirectory
        ? await PolicyDirectorySource.open(policyPath, options)
        : await PolicyFileSource.open(policyPath, options);
      fileSource.watch();
    } else {
      demo = {
        text: await Deno.readTextFile(DEMO_POLICY_FILE),
        adminKey: await demoAdminKey(store.settings, settings.demoAdminKey),
      };
      demoSource = {
        // With PORT=0 the real port is known only once listening (listeningOn).
        current: compilePolicy(
          demoPolicyText(demo.text, port || 8787, demo.adminKey),
        ),
        lastReloadError: null,
      };
    }
    const policy: PolicySource = fileSource ?? demoSource!;
    const hasDemo =
      policy.current.organization(DEMO_ORGANIZATION) !== undefined;
    const decisionLog = openDecisionLogWriter(
      settings.decisionLogPath ?? undefined,
      { onDrop: () => metrics.decisionLogDropped() },
    );
    const handler = createHandler({
      policy,
      store,
      widget,
      agentScript,
      locales,
      favicon: faviconIco(),
      metrics,
      decisionLog: decisionLog.write,
      pages: {
        agent: agentPage(),
        ...(hasDemo
          ? { home: demoPage({ organizationId: DEMO_ORGANIZATION }) }
          : {}),
      },
      styles: { agent: agentStyles, ...(hasDemo ? { home: homeStyles } : {}) },
      ...(settings.sessionSecret === null
        ? {}
        : { sessionSecret: settings.sessionSecret }),
      ...(settings.sessionLifetimeMs === null
        ? {}
        : { sessionLifetimeMs: settings.sessionLifetimeMs }),
    });
    return {
      handler,
      assetsBuilt,
      settings,
      policyFile: policyPath,
      policy,
      ...(demo === undefined ? {} : { demoAdminKey: demo.adminKey }),
      listeningOn(hostname: string, actualPort: number): string[] {
        if (demo !== undefined && demoSource !== undefined) {
          const text = demoPolicyText(demo.text, actualPort, demo.adminKey);
          const current = compilePolicy(text);
          if (current.revision !== demoSource.current.revision) {
            demoSource.current = current;
          }
        }
        return listeningLines({
          hostname,
          port: actualPort,
          policyPath,
          revision: policy.current.revision,
          store,
          ...(demo === undefined ? {} : { demoAdminKey: demo.adminKey }),
        });
      },
      store,
      async close(): Promise<void> {
        await endBuilds();
        fileSource?.close();
        await handler.close();
        await decisionLog.close();
        await store.close();
      },
    };
  } catch (error) {
    await endBuilds();
    await store.close();
    throw error;
  }
}

/**
 * The start of both entries (`deno run server.ts`, `deno serve serve.ts`):
 * sets up from the environment, prints what the operator needs (the policy's
 * variables, how to sign in), or why it cannot start and exits 1, as it
 * does when the widget cannot be built.
 *
 * @returns The configured server.
 */
export async function setupOrExit(): Promise<ServerSetup> {
  const policyPath = Deno.env.get("PARLEY_POLICY") || null;
  try {
    const setup = await setupFromEnvironment();
    const variables = await policyVariablesOf(setup.policyFile);
    const lines = startLines(
      setup.policy.current,
      variables,
      variables.adminKeys,
    );
    for (const line of lines) console.error(line);
    setup.assetsBuilt.catch((error) => {
      console.error(cannotBuildLine(error));
      Deno.exit(1);
    });
    return setup;
  } catch (error) {
    const line = policyVariablesLine(await policyVariablesOf(policyPath));
    if (line !== undefined) console.error(line);
    for (const line of cannotStartLines(error, policyPath)) console.error(line);
    Deno.exit(1);
  }
}

/**
 * The variables the policy at `path` names for its secrets (read from its
 * text: the files are validated in a worker), which are unset, and which
 * are admin keys'; none when it cannot be read.
 */
async function policyVariablesOf(
  path: string | null,
): Promise<PolicyVariables & { adminKeys: readonly string[] }> {
  const found: SecretVariable[] = [];
  try {
    if (path !== null && (await Deno.stat(path)).isDirectory) {
      const within = await Deno.realPath(path);
      for (const name of await policyFileNames(path)) {
        if (classifyPolicyFile(name).kind !== "organization") continue;
        const read = await readPolicyFile(`${path}/${name}`, { within });
        if (read.kind === "text") found.push(...secretVariables(read.text));
      }
    } else if (path !== null) {
      const read = await readPolicyFile(path);
      if (read.kind === "text") found.push(...secretVariables(read.text));
    }
  } catch {
    // Unreadable: the policy's own problems say why.
  }
  const named = [...new Set(found.map((variable) => variable.name))];
  return {
    named,
    missing: named.filter((name) => !environment(name)),
    adminKeys: found.filter((variable) => variable.adminKey).map((variable) =>
      variable.name
    ),
  };
}

function environment(name: string): string | undefined {
  return Deno.env.get(name);
}

if (import.meta.main) {
  const setup = await setupOrExit();
  const warning = openFileLimitWarning(await readSoftOpenFileLimit());
  if (warning !== undefined) console.error(warning);
  const { hostname, port } = setup.settings;
  let listener: ListenerSupervisor;
  try {
    // Restarts the listener whenever accept() fails (EMFILE) instead of exiting.
    listener = new ListenerSupervisor({
      hostname,
      port,
      handler: setup.handler,
      onListen({ hostname, port }) {
        for (const line of setup.listeningOn(hostname, port)) {
          console.error(line);
        }
      },
    });
  } catch (error) {
    console.error(cannotListenLine(hostname, port, error));
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
