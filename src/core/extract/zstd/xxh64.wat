;; The hot loop of XXH64 (the hash behind a zstd frame's content checksum), for Xxh64 in xxh64.ts.
;; scripts/assemble-wasm.mjs turns this into xxh64-wasm.ts; everything outside the loop (partial
;; stripes, the final mix) is cheap and stays in TypeScript.
(module
  ;; The memory the decoder thread decodes into: hashing reads the output where it lies.
  (import "env" "memory" (memory 1 65536 shared))

  ;; Folds the whole 32-byte stripes of [at, at + length) into the four lane accumulators stored
  ;; at lanes .. lanes + 32 (little-endian u64s); a tail shorter than a stripe is left alone.
  (func (export "stripes") (param $at i32) (param $length i32) (param $lanes i32)
    (local $v1 i64) (local $v2 i64) (local $v3 i64) (local $v4 i64) (local $end i32)
    (local.set $v1 (i64.load offset=0 (local.get $lanes)))
    (local.set $v2 (i64.load offset=8 (local.get $lanes)))
    (local.set $v3 (i64.load offset=16 (local.get $lanes)))
    (local.set $v4 (i64.load offset=24 (local.get $lanes)))
    (local.set $end (i32.add (local.get $at) (i32.and (local.get $length) (i32.const -32))))
    (block $done
      (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
      (loop $stripe
        ;; lane = rotl(lane + input * PRIME64_2, 31) * PRIME64_1
        (local.set $v1 (i64.mul (i64.rotl (i64.add (local.get $v1) (i64.mul (i64.load offset=0 (local.get $at)) (i64.const 0xC2B2AE3D27D4EB4F))) (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
        (local.set $v2 (i64.mul (i64.rotl (i64.add (local.get $v2) (i64.mul (i64.load offset=8 (local.get $at)) (i64.const 0xC2B2AE3D27D4EB4F))) (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
        (local.set $v3 (i64.mul (i64.rotl (i64.add (local.get $v3) (i64.mul (i64.load offset=16 (local.get $at)) (i64.const 0xC2B2AE3D27D4EB4F))) (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
        (local.set $v4 (i64.mul (i64.rotl (i64.add (local.get $v4) (i64.mul (i64.load offset=24 (local.get $at)) (i64.const 0xC2B2AE3D27D4EB4F))) (i64.const 31)) (i64.const 0x9E3779B185EBCA87)))
        (local.set $at (i32.add (local.get $at) (i32.const 32)))
        (br_if $stripe (i32.lt_u (local.get $at) (local.get $end)))))
    (i64.store offset=0 (local.get $lanes) (local.get $v1))
    (i64.store offset=8 (local.get $lanes) (local.get $v2))
    (i64.store offset=16 (local.get $lanes) (local.get $v3))
    (i64.store offset=24 (local.get $lanes) (local.get $v4)))
)
