;; A hostile contract that needs the most native stack the execution limits allow: each frame
;; recurses `frames` Wasm frames deep (input bytes 0..4, little-endian), then calls itself with
;; the same input (it opts in to re-entry), down to the call-depth limit; then every frame, from
;; the deepest up, recurses without bound until its Wasm stack overflows. With `frames` just
;; under what one frame's Wasm stack holds, the thread's native stack must hold every level at
;; its limit at once. Input byte 4 = 1 is the probe mode: descend `frames`, then return without
;; calling (to find how many frames one frame's stack holds). Input byte 4 = 2 is the holding
;; mode: the deepest frame loops until the fuel runs out, holding an instance at every level.
(module
  (import "salus" "input_read" (func $input_read (param i32)))
  (import "salus" "self_address" (func $self_address (param i32)))
  (import "salus" "call" (func $call (param i32 i32 i32 i32 i64) (result i32)))
  (@custom "salus_reentrant" "")
  (memory (export "memory") 1)
  ;; Memory: 0..20 own address, 32..48 the value sent (zero), 64..69 the input.
  (func $descend (param $n i32) (param $a i64) (param $b i64) (param $c i64) (param $d i64) (result i64)
    (if (result i64) (i32.eqz (local.get $n))
      (then (call $bottom))
      (else
        (i64.add
          (call $descend (i32.sub (local.get $n) (i32.const 1))
            (local.get $b) (local.get $c) (local.get $d) (local.get $a))
          (local.get $a)))))
  (func $bottom (result i64)
    (if (result i64) (i32.eq (i32.load8_u (i32.const 68)) (i32.const 1))
      (then (i64.const 0))
      (else
        (call $self_address (i32.const 0))
        (drop (call $call (i32.const 0) (i32.const 64) (i32.const 5) (i32.const 32) (i64.const 0)))
        (if (i32.eq (i32.load8_u (i32.const 68)) (i32.const 2))
          (then (loop $spin (br $spin))))
        (call $forever (i64.const 1)))))
  (func $forever (param $x i64) (result i64)
    (i64.add (call $forever (local.get $x)) (local.get $x)))
  (func (export "call")
    (call $input_read (i32.const 64))
    (drop (call $descend (i32.load (i32.const 64))
      (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)))))
