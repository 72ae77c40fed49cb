import binding from 'zstd-napi/binding.js';

/**
 * The largest window zstd can write (2 GiB, `zstd --long=31`). The decoder's default stops at
 * 128 MiB to protect against hostile input; a source image is the user's own, and big images are
 * often compressed with --long. A frame's window is allocated only as large as it declares (no
 * larger than its content, where the frame records its size; a frame compressed from a pipe
 * reserves all of it, and its pages are touched as the window fills), so ordinary images use no
 * more memory than before.
 */
const WINDOW_LOG_MAX = 31;
/**
 * ZSTD_d_forceIgnoreChecksum, an experimental parameter that zstd-napi does not name. libzstd's
 * zstd.h (1.5.x) defines it as `#define ZSTD_d_forceIgnoreChecksum ZSTD_d_experimentalParam3`, with
 * `ZSTD_d_experimentalParam3=1002` in enum ZSTD_dParameter. With it set, the decoder skips the
 * frame checksum and its caller checks frames instead (see Xxh64). If a libzstd ever ignored it,
 * damaged frames would still be refused (by libzstd, in its words): test/zstd-checksum.test.ts
 * tells the two apart and fails.
 */
const ZSTD_D_FORCE_IGNORE_CHECKSUM = 1002;

/**
 * A zstd decoder with the settings every decoder of basecow's uses: windows up to 2 GiB, and frame
 * checksums left to the caller where `callerChecksFrames` (the pipelined decoder hashes output on
 * the other thread; an entry decoded while it downloads is checked whole by its raw digest) or
 * checked by libzstd (everything else).
 */
export function newDecoder(callerChecksFrames: boolean): InstanceType<typeof binding.DCtx> {
  const dctx = new binding.DCtx();
  dctx.setParameter(binding.DParameter.windowLogMax, WINDOW_LOG_MAX);
  if (callerChecksFrames) dctx.setParameter(ZSTD_D_FORCE_IGNORE_CHECKSUM, 1);
  return dctx;
}
