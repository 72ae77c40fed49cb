/** WebAssembly memory is sized in pages of this many bytes. */
export const WASM_PAGE = 64 * 1024;

/**
 * WebAssembly memory of `bytes` (a whole number of pages) that cannot grow. It is mapped with the
 * page allocator, so it starts on a page boundary: Node has no other aligned allocation. Shared
 * memory's buffer is a SharedArrayBuffer that a worker thread can see too.
 */
export function wasmMemory(bytes: number, shared = false): WebAssembly.Memory {
  const pages = bytes / WASM_PAGE;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
}

/**
 * Memories whose bytes others may hash where they lie, each with a free XXH64_STATE_BYTES area,
 * 8-aligned, for the hash state while it does (see BufferHasher): the decoder's slots offer one, so
 * the raw digest hashes decoded output without copying it.
 */
const inPlaceHashing = new WeakMap<ArrayBufferLike, { memory: WebAssembly.Memory; stateAt: number }>();

export function offerInPlaceHashing(memory: WebAssembly.Memory, stateAt: number): void {
  inPlaceHashing.set(memory.buffer, { memory, stateAt });
}

export function inPlaceHashingOf(buffer: ArrayBufferLike): { memory: WebAssembly.Memory; stateAt: number } | undefined {
  return inPlaceHashing.get(buffer);
}
