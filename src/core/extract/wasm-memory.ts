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
