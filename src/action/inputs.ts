import * as core from '@actions/core';
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { DomainType } from '../core/libvirt/domain-type.js';
import type { BaseSource } from '../core/store/base-source.js';
import { localImage } from '../core/store/local-image.js';
import type { NicSpec, VmSpec } from '../core/testnet/types.js';
import { parseBoolean, parseDomainType, parsePositiveInt } from '../inputs/numbers.js';
import { parseSize } from '../inputs/size.js';
import { parseNetwork, parseVmList } from '../inputs/vms.js';
import { defaultRunnerCacheDir, defaultRunnerWorkDir } from './defaults.js';

/** How the action names an input in messages, so an error points at the workflow's own words. */
export const label = (name: string): string => `input '${name}'`;

const input = (name: string): string | undefined => {
  const value = core.getInput(name).trim();
  return value === '' ? undefined : value;
};

function workspace(): string {
  return process.env.GITHUB_WORKSPACE ?? process.cwd();
}

/** Paths in inputs are relative to the workspace, as they are everywhere else in a workflow. */
const fromWorkspace = (path: string): string => (isAbsolute(path) ? path : resolve(workspace(), path));

export interface BaseInputs {
  source: BaseSource;
  key?: string;
  member?: string;
  cacheDir: string;
  remote: 'actions' | 'none';
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

/** Exactly one source: an image, a URL with its digest, or a build command with its key files. */
async function sourceFromInputs(member: string | undefined): Promise<BaseSource> {
  const image = input('image');
  const url = input('url');
  const build = input('build');
  const given = [image && 'image', url && 'url', build && 'build'].filter(Boolean);
  if (given.length !== 1) {
    throw new UsageError(`give exactly one source: ${label('image')}, ${label('url')} with ${label('sha256')}, or ${label('build')} with ${label('key-files')}${given.length > 1 ? ` (got ${given.join(', ')})` : ''}`);
  }
  if (image) return localImage(fromWorkspace(image), { member });
  throw new UsageError(`${given[0]} sources are not available in this build of the action`);
}

export async function readBaseInputs(): Promise<BaseInputs> {
  const member = input('member');
  const remote = input('remote-cache') ?? 'actions';
  if (remote !== 'actions' && remote !== 'none') throw new UsageError(`${label('remote-cache')} must be actions or none, got ${JSON.stringify(remote)}`);
  const cacheDir = input('cache-dir');
  return {
    source: await sourceFromInputs(member),
    key: input('key'),
    member,
    cacheDir: cacheDir ? fromWorkspace(cacheDir) : defaultRunnerCacheDir(),
    remote,
  };
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
