//! Memory-shaped attacks from components written by hand (see `wat`): each
//! is pushed beside `no-wip`, must fail with cause `memory` naming what
//! grew, and the hookrt process's peak RSS, as the kernel measured it, must
//! stay under the policy's `memory_mib` plus the overhead docs/security.md
//! states. Without the bound, each of these takes hundreds of MiB to GiBs.

use super::wat::{ACCEPT, ALLOCATOR, policy, repeat};
use super::{assert_failed, assert_peak_under, attack_with};
use crate::support::{Server, example_policy, guests};

/// The memory cap the attacks run under, in MiB.
const CAP_MIB: u64 = 64;
/// What hookrt itself may hold beyond a policy's cap while it runs one, in
/// MiB: docs/security.md states it.
pub const OVERHEAD_MIB: u64 = 40;

/// The elements each table is grown to: 8 MiB of pointers.
const ELEMENTS: u32 = 1 << 20;

/// Pushes `wasm` as the hostile policy under a 64 MiB cap and checks the
/// failure line, its audit record and the peak RSS.
fn memory_attack(name: &str, wasm: &[u8], line: &str) {
    let (pushed, record, peak_kib) = attack_with(name, wasm, &format!("[policy.hostile]\nmemory_mib = {CAP_MIB}\n"));
    eprintln!("{name}: peak RSS {} MiB", peak_kib >> 10);
    assert_failed(&pushed, &record, "memory", &format!("hookrt: policy hostile: {line}"));
    assert_peak_under(peak_kib, CAP_MIB);
}

/// `count` empty tables (and the function `$nothing` to fill them with),
/// to declare in a core module, and the instructions that grow each to
/// 2^20 elements and fill it, so that every element is written.
fn filled_tables(count: usize) -> (String, String) {
    let tables = repeat(count, "(table $t{i} 0 funcref)\n") + "(elem declare func $nothing)\n(func $nothing)\n";
    let fill = repeat(
        count,
        &format!(
            "(drop (table.grow $t{{i}} (ref.null func) (i32.const {ELEMENTS})))\n\
             (table.fill $t{{i}} (i32.const 0) (ref.func $nothing) (i32.const {ELEMENTS}))\n"
        ),
    );
    (tables, fill)
}

/// Forty tables, each grown to 2^20 elements and filled (one `table.fill`
/// each, a few fuel): 320 MiB of tables from a handful of instructions.
#[test]
fn tables_grown_and_filled_count_against_the_memory_cap() {
    let (tables, fill) = filled_tables(40);
    let wasm = policy(&format!(
        r#"(core module $m
             (memory (export "memory") 1)
             {ALLOCATOR}
             {tables}
             (func (export "check") (param i32) (result i32)
               {fill}
               (i32.store8 (i32.const 16) (i32.const 0))
               (i32.const 16)))
           (core instance $main (instantiate $m))"#,
    ));
    memory_attack(
        "tables-filled",
        &wasm,
        "exceeded its memory limit (64 MiB): a table grew to 1048576 elements; the policy's memories and tables would \
         take 64.1 MiB",
    );
}

/// A start function that grows and fills four tables (32 MiB), in a module
/// the component instantiates eight times (256 MiB): the memory is taken
/// while the component is instantiated, before `check` is ever called, and
/// the third instance is refused, as the first two took the whole cap.
#[test]
fn a_module_instantiated_many_times_is_counted_once_per_instance() {
    let (tables, fill) = filled_tables(4);
    let wasm = policy(&format!(
        r#"(core module $hog
             {tables}
             (func $start {fill})
             (start $start))
           {instances}
           (core module $m
             (memory (export "memory") 1)
             {ALLOCATOR}
             {ACCEPT})
           (core instance $main (instantiate $m))"#,
        instances = repeat(8, "(core instance $hog{i} (instantiate $hog))\n"),
    ));
    memory_attack(
        "instances-with-tables",
        &wasm,
        "exceeded its memory limit (64 MiB): a table grew to 1048576 elements; the policy's memories and tables would \
         take 72.0 MiB",
    );
}

/// A start function that grows its memory to 1 GiB and touches every page
/// of it (one `memory.fill`).
#[test]
fn a_start_function_growing_memory_is_stopped_while_instantiating() {
    let wasm = policy(&format!(
        r#"(core module $m
             (memory (export "memory") 1)
             {ALLOCATOR}
             (func $start
               (drop (memory.grow (i32.const 16384)))
               (memory.fill (i32.const 0) (i32.const 1) (i32.const 0x40000000)))
             (start $start)
             {ACCEPT})
           (core instance $main (instantiate $m))"#
    ));
    memory_attack(
        "start-memory",
        &wasm,
        "exceeded its memory limit (64 MiB): a linear memory grew to 1024.1 MiB; the policy's memories and tables \
         would take 1024.1 MiB",
    );
}

/// More core instances, tables or memories than any real component makes.
/// Each is refused when it is created, whatever its size.
#[test]
fn counts_of_instances_tables_and_memories_are_capped() {
    let instances = policy(&format!(
        r#"(core module $empty)
           {}
           (core module $m (memory (export "memory") 1) {ALLOCATOR} {ACCEPT})
           (core instance $main (instantiate $m))"#,
        repeat(100, "(core instance $e{i} (instantiate $empty))\n")
    ));
    memory_attack(
        "many-instances",
        &instances,
        "exceeded its memory limit (64 MiB): it created more core instances than the 64 hookrt allows in one run",
    );

    let tables = policy(&format!(
        r#"(core module $m (memory (export "memory") 1) {} {ALLOCATOR} {ACCEPT})
           (core instance $main (instantiate $m))"#,
        repeat(100, "(table $t{i} 1 funcref)\n")
    ));
    memory_attack(
        "many-tables",
        &tables,
        "exceeded its memory limit (64 MiB): it created more tables than the 64 hookrt allows in one run",
    );

    let memories = policy(&format!(
        r#"(core module $m (memory (export "memory") 1) {} {ALLOCATOR} {ACCEPT})
           (core instance $main (instantiate $m))"#,
        repeat(20, "(memory $m{i} 1)\n")
    ));
    memory_attack(
        "many-memories",
        &memories,
        "exceeded its memory limit (64 MiB): it created more linear memories than the 16 hookrt allows in one run",
    );
}

/// A verdict of 2^20 vetoes, each pointing at the same 64 KiB summary: 36
/// MiB in the policy's memory, but 64 GiB of strings if the host lifted it
/// whole.
#[test]
fn a_verdict_of_a_million_vetoes_is_refused_before_it_is_copied() {
    let wasm = policy(&format!(
        r#"(core module $m
             (memory (export "memory") 1)
             {ALLOCATOR}
             (func (export "check") (param i32) (result i32)
               (local $n i32)
               ;; The records start at 1 MiB: 36 bytes each, 36 MiB in all.
               (drop (memory.grow (i32.const 640)))
               ;; The summary: 64 KiB of `x` at 64 KiB (above the host's
               ;; allocations, which start there too, but the push is read
               ;; already).
               (memory.fill (i32.const 0x20000) (i32.const 120) (i32.const 0x10000))
               ;; Veto 0: summary, empty detail and ref name, no commit.
               (i32.store (i32.const 0x100000) (i32.const 0x20000))
               (i32.store (i32.const 0x100004) (i32.const 0x10000))
               (i32.store (i32.const 0x100008) (i32.const 0x20000))
               (i32.store (i32.const 0x10000c) (i32.const 0))
               (i32.store (i32.const 0x100010) (i32.const 0x20000))
               (i32.store (i32.const 0x100014) (i32.const 0))
               (i32.store8 (i32.const 0x100018) (i32.const 0))
               ;; Double the records until there are 2^20.
               (local.set $n (i32.const 1))
               (loop $double
                 (memory.copy (i32.add (i32.const 0x100000) (i32.mul (local.get $n) (i32.const 36)))
                              (i32.const 0x100000) (i32.mul (local.get $n) (i32.const 36)))
                 (local.set $n (i32.shl (local.get $n) (i32.const 1)))
                 (br_if $double (i32.lt_u (local.get $n) (i32.const 0x100000))))
               ;; reject(list): case 1, then the list's pointer and length.
               (i32.store8 (i32.const 16) (i32.const 1))
               (i32.store (i32.const 20) (i32.const 0x100000))
               (i32.store (i32.const 24) (i32.const 0x100000))
               (i32.const 16)))
           (core instance $main (instantiate $m))"#
    ));
    memory_attack(
        "huge-verdict",
        &wasm,
        "exceeded its memory limit (64 MiB): it handed hookrt more than 16 MiB at once (its verdict, or what it passed to one host call)",
    );
}

/// 100 MiB that do not compress: what a policy reads the start of.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            // xorshift64: fast, and incompressible enough for zlib.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// A policy reads every file a push adds as far as `blob_read_kib` lets
/// it (1 MiB), and the file is 100 MiB, stored in the push's quarantine
/// as `stored`: loose, packed whole, or as a delta against the version the
/// repository has. hookrt's memory must follow the 1 MiB read, not the
/// 100 MiB blob.
fn a_100_mib_blob_read(stored: &str) {
    let _heavy = crate::support::heavy();
    let server = Server::new();
    // With a pack of more than one object, receive-pack keeps the pack
    // (`receive.unpackLimit`) instead of writing loose objects.
    if stored != "loose" {
        server.server_git(&["config", "receive.unpackLimit", "1"]);
    }
    let mut data = random_bytes(100 << 20, 7);
    if stored == "delta" {
        server.write_file("big.bin", &data);
        server.commit("add the data");
        server.push(&["origin", "main"]).assert_ok();
        data[50 << 20..(50 << 20) + 4096].fill(0);
    }
    server.add_policy("hostile", guests::HOSTILE);
    server.add_policy("no-wip", example_policy("no-wip"));
    server.write_config(&format!(
        "[policy.hostile]\nmemory_mib = {CAP_MIB}\n[policy.hostile.settings]\nattack = \"read-blobs\"\n"
    ));
    server.write_file("big.bin", &data);
    server.commit("WIP: vetoed by no-wip after the blob is read");
    let peak = server.measure_pre_receive();
    let pushed = server.push(&["origin", "main"]).assert_rejected();
    pushed.assert_line("[hostile] read-blobs: big.bin: read 1048576 of 104857600 bytes");
    pushed.assert_line("hookrt: policy no-wip vetoed refs/heads/main");
    eprintln!("{stored} blob: peak RSS {} MiB", peak.kib() >> 10);
    assert_peak_under(peak.kib(), CAP_MIB);
}

#[test]
fn reading_1_mib_of_a_100_mib_loose_blob_costs_a_read() {
    a_100_mib_blob_read("loose");
}

#[test]
fn reading_1_mib_of_a_100_mib_packed_blob_costs_a_read() {
    a_100_mib_blob_read("packed");
}

#[test]
fn reading_1_mib_of_a_100_mib_blob_stored_as_a_delta_costs_a_read() {
    a_100_mib_blob_read("delta");
}
