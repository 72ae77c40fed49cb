// The one API both front ends (src/cli, src/action) call. Nothing here knows of flags, inputs or
// GitHub Actions: values come typed (src/inputs parses user syntax), problems come back as
// BasecowError codes with facts, and warnings go to the caller's sink.
export { BasecowError, SourceError, UsageError } from './errors.js';
export type { Warning, WarningSink } from './warnings.js';
export { ensureBase, type BaseResult, type CacheHit, type EnsureBaseOptions, type Progress } from './store/ensure-base.js';
export { defaultCacheDir, storeLayout } from './store/layout.js';
export { validateKey } from './store/key.js';
export { readSidecar, type BaseSidecar } from './store/sidecar.js';
export { up, type UpOptions } from './testnet/up.js';
export { down, type DownOptions, type DownResult } from './testnet/down.js';
export { readManifest, type Manifest, type ManifestVm } from './testnet/manifest.js';
export type { NicSpec, VmSpec, ExtraDiskSpec } from './testnet/types.js';
export { DEFAULT_QCOW2_OPTIONS } from './testnet/overlay.js';
export { DEFAULT_CONNECT_URI } from './libvirt/virsh.js';
export type { DomainType } from './libvirt/domain-type.js';
export { writeEntry, type WriteEntryOptions, type WriteEntryResult } from './entry/write.js';
export { readEntryIndex, type EntryIndex, type EntryFrame } from './entry/read.js';
export { computeRawDigest, RawDigest, RAW_DIGEST_ALGORITHM } from './extract/raw-digest.js';
