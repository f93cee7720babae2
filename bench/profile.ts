/**
 * npm run bench:profile [-- --duration S] [--warmup S] [--loadgen auto|node]
 * (also `npm run bench -- --profile`)
 *
 * V8 CPU profiles of the service, and of the ceilings, under load (bench/scenarios/profile.ts);
 * the .cpuprofile files and a summary per scenario in bench/.cache/profiles/<time>/.
 */
import { runBenchEntry } from "./lib/entry.js";
import { profileUnderLoad } from "./scenarios/profile.js";

await runBenchEntry(profileUnderLoad, { profile: true });
