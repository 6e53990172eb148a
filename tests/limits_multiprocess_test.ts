import assert from "node:assert/strict";
import type { WorkerReport } from "./fixtures/charge_worker.ts";
import { testEachEngine } from "./store_engines.ts";

const WORKER = new URL("./fixtures/charge_worker.ts", import.meta.url).pathname;
/** 30 s into a minute: every worker charges the same 20/minute window. */
const NOW = Date.UTC(2026, 0, 1, 12, 0, 30);

/** Starts `processes` workers on one store, all charging at the same instant. */
async function race(
  location: string,
  processes: number,
  chargesEach: number,
  callersEach: number,
  rate: string,
): Promise<WorkerReport[]> {
  // Far enough ahead for every child to have started and opened the store.
  const startAt = Date.now() + 1_500;
  const children = Array.from(
    { length: processes },
    () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--unstable-kv",
          WORKER,
          location,
          String(startAt),
          String(chargesEach),
          String(callersEach),
          rate,
          String(NOW),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output(),
  );
  return (await Promise.all(children)).map(({ code, stdout, stderr }) => {
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    return JSON.parse(new TextDecoder().decode(stdout)) as WorkerReport;
  });
}

testEachEngine(
  "charge() admits exactly the limit across processes sharing one store",
  async (engine) => {
    const cases: [string, number, number, number, string, number][] = [
      // [name, processes, charges each, concurrent callers each, count/windowMs, admitted]
      ["3 processes × 40-charge burst on 20/minute", 3, 40, 40, "20/60000", 20],
      ["2 processes × 40-charge burst on 20/minute", 2, 40, 40, "20/60000", 20],
      [
        "3 processes × 8 callers × 60 sequential on 1000/minute",
        3,
        480,
        8,
        "1000/60000",
        1000,
      ],
    ];
    for (
      const [name, processes, chargesEach, callersEach, rate, expected] of cases
    ) {
      {
        const reports = await race(
          await engine.location(),
          processes,
          chargesEach,
          callersEach,
          rate,
        );
        const total = (field: "admitted" | "rejected" | "failed") =>
          reports.reduce((sum, report) => sum + report[field], 0);
        const maxMs = Math.max(...reports.map((report) => report.maxMs));
        console.log(
          `${name}: ${JSON.stringify(reports)} slowest charge ${maxMs} ms`,
        );
        assert.equal(total("failed"), 0, name);
        assert.equal(total("admitted"), expected, name);
        assert.equal(
          total("rejected"),
          processes * chargesEach - expected,
          name,
        );
        assert.ok(maxMs < 1_500, `${name}: slowest charge took ${maxMs} ms`);
      }
    }
  },
);
