/**
 * The environment as a policy reads it: every variable its `{ env: NAME }`
 * secrets name, and which of them are unset — for the server's start-up
 * line, so an operator learns in one line what to export instead of reading
 * one `env-missing` problem per key (or "0 organizations" with no reason).
 *
 * @module
 */

/** Records the variables looked up through it. */
export class EnvironmentReads {
  readonly #env: (name: string) => string | undefined;
  /** Name → whether it was set (non-empty) when last read. */
  readonly #seen = new Map<string, boolean>();

  /** @param env The real lookup (`(name) => Deno.env.get(name)`). */
  constructor(env: (name: string) => string | undefined) {
    this.#env = env;
  }

  /** The lookup to hand the policy compiler; records each name it is asked. */
  readonly lookup = (name: string): string | undefined => {
    const value = this.#env(name);
    this.#seen.set(name, value !== undefined && value !== "");
    return value;
  };

  /** Every name looked up, in first-read order. */
  get named(): readonly string[] {
    return [...this.#seen.keys()];
  }

  /** The names that were unset or empty when last read. */
  get missing(): readonly string[] {
    return [...this.#seen].filter(([, set]) => !set).map(([name]) => name);
  }
}
