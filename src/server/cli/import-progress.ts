import cliProgress from "cli-progress";
import type { ImportProgress } from "../../store/import-inventory.js";

export interface ImportProgressOptions {
  file: string;
  /** Where progress goes (stderr; the summary line goes to stdout). */
  stream: NodeJS.WriteStream;
  /** Off a terminal: least time between two progress lines. */
  intervalMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const PHASES: Record<ImportProgress["phase"], string> = {
  reading: "reading",
  checking: "checking ids",
  merging: "merging",
  done: "done",
};

/**
 * The progress of one file's import: on a terminal a progress bar (cli-progress) over the
 * file's bytes with records read and written, rate and elapsed time; off a terminal one
 * log line per interval and at every phase change.
 */
export function createImportProgress(options: ImportProgressOptions) {
  const { file, stream } = options;
  const started = performance.now();
  const elapsedMs = () => performance.now() - started;
  const rate = (records: number) => Math.round(records / Math.max(elapsedMs() / 1000, 0.001));
  let bar: cliProgress.SingleBar | undefined;
  let lastLine = Number.NEGATIVE_INFINITY;
  let lastPhase = "";

  const line = (p: ImportProgress) => {
    const where = p.phase === "merging" && p.step ? `merging ${p.step}` : PHASES[p.phase];
    const bytes = p.totalBytes ? `, ${Math.round((100 * p.bytes) / p.totalBytes)}% of the file` : "";
    stream.write(
      `${file}: ${where}: ${p.read} records read, ${p.written} written${bytes}, ${rate(p.read)} records/s, ${seconds(elapsedMs())} elapsed\n`,
    );
  };

  return {
    update(p: ImportProgress) {
      if (stream.isTTY) {
        bar ??= new cliProgress.SingleBar(
          {
            stream,
            format: `${file} [{bar}] {percentage}% | {phase} | {read} read, {written} written | {rate} records/s | {elapsed}`,
            hideCursor: true,
            clearOnComplete: true,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        const payload = {
          phase: p.phase === "merging" && p.step ? `merging ${p.step}` : PHASES[p.phase],
          read: p.read,
          written: p.written,
          rate: rate(p.read),
          elapsed: seconds(elapsedMs()),
        };
        if (!bar.isActive) bar.start(Math.max(p.totalBytes, 1), p.bytes, payload);
        else bar.update(p.bytes, payload);
        return;
      }
      const now = performance.now();
      const phase = `${p.phase}${p.step ?? ""}`;
      if (phase !== lastPhase || now - lastLine >= options.intervalMs) {
        lastLine = now;
        lastPhase = phase;
        line(p);
      }
    },
    stop() {
      bar?.stop();
    },
    elapsed() {
      return seconds(elapsedMs());
    },
  };
}
