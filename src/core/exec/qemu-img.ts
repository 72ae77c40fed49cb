import { runTool } from './run-tool.js';

/** The part of `qemu-img info --output=json` that basecow relies on. */
export interface ImageInfo {
  format: string;
  'virtual-size': number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'backing-filename-format'?: string;
}

export async function imageInfo(path: string, format?: string): Promise<ImageInfo> {
  const args = ['qemu-img', 'info', '--output=json', '-U'];
  if (format) args.push('-f', format);
  const { stdout } = await runTool([...args, path]);
  return JSON.parse(stdout) as ImageInfo;
}

export interface OverlayParams {
  /** Absolute path of the raw backing file, recorded in the overlay as given. */
  base: string;
  /** Virtual size in bytes; omitted means the base's size. */
  sizeBytes?: number;
  /** qcow2 creation options such as 'lazy_refcounts=on'. */
  options?: string;
}

export async function createOverlayImage(path: string, params: OverlayParams): Promise<void> {
  const args = ['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', params.base];
  if (params.options) args.push('-o', params.options);
  args.push(path);
  if (params.sizeBytes !== undefined) args.push(String(params.sizeBytes));
  await runTool(args);
}
