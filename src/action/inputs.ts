import * as core from '@actions/core';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { DomainType } from '../core/libvirt/domain-type.js';
import type { BaseSource } from '../core/store/base-source.js';
import type { NicSpec, VmSpec } from '../core/testnet/types.js';
import { parseBoolean, parseDomainType, parsePositiveInt } from '../inputs/numbers.js';
import { parseSize } from '../inputs/size.js';
import { parseBudget, parseDurability, parseVerify } from '../inputs/lifecycle.js';
import type { Durability } from '../core/store/durability.js';
import type { VerifyMode } from '../core/store/verify.js';
import { parseSourceChoice, type SourceLabels } from '../inputs/source.js';
import { parseNetwork, parseVmList } from '../inputs/vms.js';
import { sourceFromChoice } from '../sources/index.js';
import { defaultRunnerCacheDir, defaultRunnerWorkDir } from './defaults.js';

/** How the action names an input in messages, so an error points at the workflow's own words. */
export const label = (name: string): string => `input '${name}'`;

const input = (name: string): string | undefined => {
  const value = core.getInput(name).trim();
  return value === '' ? undefined : value;
};

/** Where the runner starts node actions and where workflow paths are relative to. */
export function workspace(): string {
  return process.env.GITHUB_WORKSPACE ?? process.cwd();
}

/** Paths in inputs are relative to the workspace, as they are everywhere else in a workflow. */
export const fromWorkspace = (path: string): string => (isAbsolute(path) ? path : resolve(workspace(), path));

export interface BaseInputs {
  source: string | BaseSource;
  key?: string;
  member?: string;
  cacheDir: string;
  remote: 'actions' | 'none';
  maxWorkers?: number;
  verify?: VerifyMode;
  durability?: Durability;
  /** The text of `cache-budget` (checked here, parsed again in post). */
  cacheBudget?: string;
}

export interface TestnetInputs {
  vms: VmSpec[];
  workDir: string;
  template?: string;
  start: boolean;
  domainType: 'auto' | DomainType;
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  memoryMiB?: number;
  vcpus?: number;
  network?: NicSpec;
  minSizeBytes?: number;
  connect?: string;
}

const SOURCE_LABELS: SourceLabels = { image: label('image'), member: label('member'), url: label('url'), sha256: label('sha256'), build: label('build'), keyFiles: label('key-files') };

/** Exactly one source: an image, a URL with its digest, or a build command with its key files. */
async function sourceFromInputs(): Promise<{ source: string | BaseSource; member?: string }> {
  const choice = parseSourceChoice(
    { image: input('image'), member: input('member'), url: input('url'), sha256: input('sha256'), build: core.getInput('build'), keyFiles: input('key-files') },
    SOURCE_LABELS,
  );
  if (choice.kind === 'image') choice.image = fromWorkspace(choice.image);
  return { source: await sourceFromChoice(choice, { workspace: workspace(), output: process.stdout }), member: choice.member };
}

export async function readBaseInputs(): Promise<BaseInputs> {
  const { source, member } = await sourceFromInputs();
  const remote = input('remote-cache') ?? 'actions';
  if (remote !== 'actions' && remote !== 'none') throw new UsageError(`${label('remote-cache')} must be actions or none, got ${JSON.stringify(remote)}`);
  const cacheBudget = input('cache-budget');
  // Checked in main, so that a typo fails the step that has it rather than post's clean-up.
  if (cacheBudget !== undefined) parseBudget(cacheBudget, label('cache-budget'));
  return {
    verify: parseVerify(input('verify'), label('verify')),
    durability: parseDurability(input('durability'), label('durability')),
    cacheBudget,
    source,
    key: input('key'),
    member,
    cacheDir: readCacheDir(),
    remote,
    maxWorkers: parsePositiveInt(input('decode-workers'), label('decode-workers')),
  };
}

/** The runner-local store: `cache-dir` relative to the workspace, or the runner default. */
export function readCacheDir(): string {
  const cacheDir = input('cache-dir');
  return cacheDir ? fromWorkspace(cacheDir) : defaultRunnerCacheDir();
}

/** The testnet part of the inputs, or undefined when `vms` is not given (main then only prepares the base). */
export function readTestnetInputs(cacheDir: string): TestnetInputs | undefined {
  const vms = input('vms');
  if (vms === undefined) return undefined;
  const workDir = input('work-dir');
  const template = input('template');
  const kernel = input('kernel');
  const initrd = input('initrd');
  const network = input('network');
  const minSize = input('min-size');
  return {
    vms: parseVmList(vms, label('vms'), workspace()),
    workDir: workDir ? fromWorkspace(workDir) : defaultRunnerWorkDir(cacheDir),
    template: template && fromWorkspace(template),
    start: parseBoolean(input('start'), label('start'), false),
    domainType: parseDomainType(input('domain-type') ?? 'auto', label('domain-type')),
    kernel: kernel && fromWorkspace(kernel),
    initrd: initrd && fromWorkspace(initrd),
    cmdline: input('cmdline'),
    memoryMiB: parsePositiveInt(input('memory'), label('memory')),
    vcpus: parsePositiveInt(input('vcpus'), label('vcpus')),
    network: network === undefined ? undefined : parseNetwork(network, label('network')),
    minSizeBytes: minSize === undefined ? undefined : parseSize(minSize, label('min-size')),
    connect: input('connect'),
  };
}
