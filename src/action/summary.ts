import * as core from '@actions/core';
import type { BaseResult } from '../core/store/ensure-base.js';
import type { Manifest } from '../core/testnet/manifest.js';
import { formatBytes } from '../output/progress.js';

const ORIGIN_WORDS: Record<BaseResult['origin'], string> = {
  store: 'found in this runner’s store (l1)',
  remote: 'restored from the Actions cache (l2)',
  extracted: 'extracted from the image now (miss)',
  downloaded: 'downloaded and extracted now (miss)',
  built: 'built and extracted now (miss)',
};

/** One line for the log: where the base came from, its sizes, how long it took. */
export function baseResultLine(base: BaseResult): string {
  return `base ${base.key} ${whereFrom(base)}: ${base.base} (${formatBytes(base.apparentBytes)} apparent, ${formatBytes(base.allocatedBytes)} allocated) in ${base.seconds.toFixed(2)} s`;
}

/** Where the base came from; for an L2 hit, also whether the entry was decoded while it downloaded. */
function whereFrom(base: BaseResult): string {
  const decoding = base.timings.entryDecoding;
  if (base.origin !== 'remote' || !decoding) return ORIGIN_WORDS[base.origin];
  const when = { streamed: 'decoded as it streamed in', 'while-restoring': 'decoded while it downloaded', 'after-restore': 'decoded after the restore' }[decoding.when];
  return `${ORIGIN_WORDS[base.origin]}, ${when}${decoding.note ? ` (${decoding.note})` : ''}`;
}

function phases(base: BaseResult, testnetSeconds: number | undefined): [string, number][] {
  const t = base.timings;
  const rows: [string, number][] = [
    ['hash the source', t.hashSeconds],
    ['wait for another job', t.waitSeconds],
    ['restore from the Actions cache', t.restoreSeconds],
    ['download or build the source', t.sourceSeconds],
    ['extract', t.extractSeconds],
  ];
  if (testnetSeconds !== undefined) rows.push(['overlays, disks, domains', testnetSeconds]);
  return rows.filter(([, seconds]) => seconds > 0.0005);
}

/** The job summary of main: the base, the phases (a table and a chart), and the VMs. */
export async function writeMainSummary(base: BaseResult, manifest: Manifest | undefined, testnetSeconds: number | undefined): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const summary = core.summary.addHeading('basecow', 3);
  summary.addTable([
    [{ data: 'key', header: true }, { data: base.key }],
    [{ data: 'where from', header: true }, { data: whereFrom(base) }],
    [{ data: 'base image', header: true }, { data: base.base }],
    [{ data: 'size', header: true }, { data: `${formatBytes(base.apparentBytes)} apparent, ${formatBytes(base.allocatedBytes)} allocated` }],
  ]);
  const rows = phases(base, testnetSeconds);
  if (rows.length > 0) {
    summary.addHeading('Phases', 4);
    summary.addTable([[{ data: 'phase', header: true }, { data: 'seconds', header: true }], ...rows.map(([name, s]) => [name, s.toFixed(2)])]);
    // A horizontal bar per phase; Mermaid's xychart takes the labels and values as two lists.
    const labels = rows.map(([name]) => JSON.stringify(name)).join(', ');
    const values = rows.map(([, s]) => s.toFixed(2)).join(', ');
    summary.addCodeBlock(`xychart-beta horizontal\n  title "seconds per phase"\n  x-axis [${labels}]\n  bar [${values}]`, 'mermaid');
  }
  if (manifest) {
    summary.addHeading(`Testnet (${manifest.vms.length} VMs, ${manifest.domainType}${manifest.started ? ', started' : ''})`, 4);
    summary.addTable([
      [{ data: 'VM', header: true }, { data: 'overlay', header: true }, { data: 'MAC', header: true }, { data: 'console log', header: true }],
      ...manifest.vms.map((vm) => [vm.name, vm.overlay, vm.mac, vm.consoleLog]),
    ]);
  }
  await summary.write();
}
