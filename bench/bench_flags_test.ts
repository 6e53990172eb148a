import { strictEqual, throws } from "node:assert/strict";
import { benchFlags, engineFlag, wholeFlag } from "./bench_flags.ts";

Deno.test("wholeFlag() reads a whole number within its range, ends included", () => {
  strictEqual(wholeFlag("rounds", "1", 1, 9), 1);
  strictEqual(wholeFlag("rounds", "9", 1, 9), 9);
  strictEqual(wholeFlag("warmup", "0", 0, 60), 0);
});

Deno.test("wholeFlag() refuses what is not a whole number in range, naming the flag", () => {
  for (const text of [undefined, "", "0", "10", "2.5", "ten", "1e9"]) {
    throws(() => wholeFlag("rounds", text, 1, 9), {
      name: "RangeError",
      message: `"--rounds" must be a whole number from 1 to 9, got "${text}"`,
    });
  }
});

Deno.test("engineFlag() takes kv and postgres, nothing else", () => {
  strictEqual(engineFlag("kv"), "kv");
  strictEqual(engineFlag("postgres"), "postgres");
  for (const text of [undefined, "", "pg", "KV"]) {
    throws(() => engineFlag(text), {
      name: "RangeError",
      message: `"--engine" is kv or postgres, got "${text}"`,
    });
  }
});

Deno.test("benchFlags() gives each flag its text from the command line, or its default", () => {
  const flags = benchFlags(
    { rounds: "5", engine: "kv", compare: undefined },
    ["--rounds", "9", "--compare=/tmp/before"],
  );
  strictEqual(flags.rounds, "9");
  strictEqual(flags.engine, "kv");
  strictEqual(flags.compare, "/tmp/before");
  strictEqual(benchFlags({ compare: undefined }, []).compare, undefined);
});

Deno.test("benchFlags() refuses a flag the benchmark does not take, and one without a value", () => {
  throws(() => benchFlags({ rounds: "5" }, ["--round", "9"]), {
    name: "TypeError",
    code: "ERR_PARSE_ARGS_UNKNOWN_OPTION",
  });
  throws(() => benchFlags({ rounds: "5" }, ["--rounds"]), {
    name: "TypeError",
    code: "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
  });
});
