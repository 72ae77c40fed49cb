import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Mustache from 'mustache';
import { UsageError } from '../errors.js';
import { packageRoot } from '../shared/package-root.js';
import type { DomainType } from './domain-type.js';

export interface DiskView {
  /** libvirt user alias ('ua-' prefix), so teardown and tests can find a disk by role. */
  alias: string;
  role: 'primary' | 'extra';
  path: string;
  format: 'qcow2' | 'raw';
  target: string;
  cache: string;
  discard: string;
  /**
   * The shared raw base under a primary overlay. The template names it as the end of the backing
   * chain with DAC relabelling off: under libvirt's dynamic ownership every VM start would otherwise
   * chown the one base all VMs share (and parallel starts and stops race to chown it back). The base
   * is world-readable (0444), so QEMU needs no relabelling to read it.
   */
  backingFile?: string;
}

export interface NicView {
  type: 'bridge' | 'network' | 'ethernet';
  mac: string;
  alias: string;
  bridge?: string;
  network?: string;
  tap?: string;
}

/** Everything a domain template can use; README.md documents it for caller templates. */
export interface DomainView {
  name: string;
  vmName: string;
  group: string;
  index: number;
  uuid: string;
  mac: string;
  domainType: DomainType;
  arch: string;
  machine: string;
  memoryMiB: number;
  vcpus: number;
  hostCpu: boolean;
  onReboot: 'restart' | 'destroy';
  emulator?: string;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  loader?: { path: string; nvram?: string };
  disks: DiskView[];
  nics: NicView[];
  consoleLog: string;
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Mustache escapes for HTML by default ('&#39;', '&#x2F;'); domain XML wants the five XML entities only. */
export function xmlEscape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}

export function renderDomain(template: string, view: DomainView): string {
  return Mustache.render(template, view, {}, { escape: xmlEscape });
}

/** Expands {{vmName}}-style fields in a per-VM string (a kernel cmdline) without any escaping. */
export function renderField(text: string, view: Partial<DomainView>): string {
  return Mustache.render(text, view, {}, { escape: String });
}

export function defaultTemplatePath(): string {
  return join(packageRoot(), 'templates', 'domain.xml.mustache');
}

export async function loadTemplate(path?: string): Promise<{ path: string; text: string }> {
  const resolved = path ?? defaultTemplatePath();
  try {
    const text = await readFile(resolved, 'utf8');
    Mustache.parse(text);
    return { path: resolved, text };
  } catch (error) {
    throw new UsageError(`domain template ${resolved}: ${(error as Error).message}`, 'bad-template', { template: resolved });
  }
}
