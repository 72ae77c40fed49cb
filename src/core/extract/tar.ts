// Placeholder: the tar member reader is being written (see extractTarMember contract below).
import type { SparseWriter } from './sparse-writer.js';

export interface TarMemberResult {
  /** Apparent size of the extracted member (its real size for sparse members). */
  size: number;
}

export async function extractTarMember(
  _chunks: AsyncIterable<Buffer>,
  _member: string,
  _writer: SparseWriter,
  _source: string,
): Promise<TarMemberResult> {
  throw new Error('not implemented');
}
