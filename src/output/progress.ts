import type { Progress } from '../core/store/base-source.js';

const PHASE_LABEL: Record<Progress['phase'], string> = {
  hash: 'hashing',
  wait: 'waiting for another process',
  restore: 'restoring from the remote cache',
  download: 'downloading',
  build: 'building',
  extract: 'extracting',
};

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/**
 * Progress on stderr: one self-rewriting line on a terminal, and on a log (CI) a plain line every
 * few seconds so that a slow extraction is visible without flooding the log.
 */
export function progressReporter(stream: NodeJS.WriteStream, plainEveryMs = 5000): { report: (p: Progress) => void; end: () => void } {
  const tty = stream.isTTY === true;
  // Per phase: two can run at once (a local image is hashed while it is extracted).
  const phases = new Map<Progress['phase'], { started: number; lastPrinted: number }>();
  let lineOpen = false;
  const interval = tty ? 200 : plainEveryMs;
  return {
    report(p) {
      const now = performance.now();
      let state = phases.get(p.phase);
      if (!state) {
        state = { started: now, lastPrinted: now };
        phases.set(p.phase, state);
      }
      // A phase that ends within the first interval prints nothing: quick work needs no meter.
      const finished = p.total > 0 && p.done >= p.total && state.lastPrinted > state.started;
      if (now - state.lastPrinted < interval && !finished) return;
      state.lastPrinted = now;
      const line = describe(p, (now - state.started) / 1000);
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        lineOpen = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    end() {
      if (lineOpen) stream.write('\n');
      lineOpen = false;
    },
  };
}

function describe(p: Progress, elapsed: number): string {
  if (p.phase === 'wait') return `basecow: ${PHASE_LABEL.wait} (${elapsed.toFixed(0)} s)`;
  const rate = elapsed > 0 ? p.done / elapsed : 0;
  // A download without a length, or a build's output, has no total: bytes and rate only.
  if (p.total <= 0) return `basecow: ${PHASE_LABEL[p.phase]} ${formatBytes(p.done)} (${formatBytes(rate)}/s)`;
  const eta = rate > 0 ? (p.total - p.done) / rate : 0;
  const percent = p.total > 0 ? ((100 * p.done) / p.total).toFixed(0) : '100';
  return `basecow: ${PHASE_LABEL[p.phase]} ${formatBytes(p.done)} / ${formatBytes(p.total)} (${percent}%, ${formatBytes(rate)}/s, ETA ${eta.toFixed(0)} s)`;
}
