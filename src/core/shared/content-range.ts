/** A 206 answer's `Content-Range: bytes <start>-<end>/<total>` (total `*` when the server does not say). */
export interface ContentRange {
  start: number;
  /** The last byte's offset (inclusive). */
  end: number;
  total: number | undefined;
}

export function contentRange(header: string | string[] | undefined): ContentRange | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(header ?? '').trim());
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3]) };
}
