//! Policy components written by hand in the component text format, as no
//! SDK would emit them: core modules that declare many tables, components
//! that instantiate one module many times, start functions that grow
//! memory, verdicts laid out to be huge. Each is built from its text by the
//! `wat` crate when the test runs.

/// What every policy component here imports: the contract's types, as
/// `wit-component` lays them out for the `policy` world, named `$push` and
/// `$verdict` for the export. (A component may import fewer interfaces than
/// the world offers; this one needs none of the host's functions.)
const TYPES: &str = r#"
  (type $types (instance
    (type $hook (enum "pre-receive" "update" "post-receive" "reference-transaction" "post-update"
                      "push-to-checkout" "proc-receive" "pre-push" "commit-msg"))
    (export "hook" (type $hook-e (eq $hook)))
    (type $object-id string)
    (export "object-id" (type $object-id-e (eq $object-id)))
    (type $ref-kind (enum "create" "update" "delete"))
    (export "ref-kind" (type $ref-kind-e (eq $ref-kind)))
    (type $ref-class (enum "branch" "tag" "other"))
    (export "ref-class" (type $ref-class-e (eq $ref-class)))
    (type $ref-update (record (field "name" string) (field "old-id" $object-id-e) (field "new-id" $object-id-e)
                              (field "kind" $ref-kind-e) (field "class" $ref-class-e)))
    (export "ref-update" (type $ref-update-e (eq $ref-update)))
    (type $opt-string (option string))
    (type $pusher (record (field "name" string) (field "email" $opt-string) (field "id" $opt-string)
                          (field "source" string)))
    (export "pusher" (type $pusher-e (eq $pusher)))
    (type $pull-request (record (field "author" $opt-string) (field "head" $opt-string) (field "base" $opt-string)))
    (export "pull-request" (type $pull-request-e (eq $pull-request)))
    (type $certificate (record (field "id" $object-id-e) (field "signer" $opt-string) (field "key" $opt-string)
                               (field "status" string) (field "nonce" $opt-string) (field "nonce-status" $opt-string)))
    (export "push-certificate" (type $certificate-e (eq $certificate)))
    (type $opt-pull-request (option $pull-request-e))
    (type $opt-certificate (option $certificate-e))
    (type $variables (list (tuple string string)))
    (type $context (record (field "project" $opt-string) (field "protocol" $opt-string)
                           (field "remote-address" $opt-string) (field "pull-request" $opt-pull-request)
                           (field "certificate" $opt-certificate) (field "variables" $variables)))
    (export "push-context" (type $context-e (eq $context)))
    (type $object-format (enum "sha1" "sha256"))
    (export "object-format" (type $object-format-e (eq $object-format)))
    (type $ref-updates (list $ref-update-e))
    (type $strings (list string))
    (type $opt-pusher (option $pusher-e))
    (type $push (record (field "hook" $hook-e) (field "repository" string) (field "ref-updates" $ref-updates)
                        (field "push-options" $strings) (field "pusher" $opt-pusher) (field "context" $context-e)
                        (field "default-branch" $opt-string) (field "object-format" $object-format-e)))
    (export "push" (type $push-e (eq $push)))
    (type $opt-id (option $object-id-e))
    (type $veto (record (field "summary" string) (field "detail" string) (field "ref-name" string)
                        (field "commit-id" $opt-id)))
    (export "veto" (type $veto-e (eq $veto)))
    (type $vetoes (list $veto-e))
    (type $verdict (variant (case "accept") (case "reject" $vetoes)))
    (export "verdict" (type $verdict-e (eq $verdict)))
  ))
  (import "hookrt:policy/types@0.1.0" (instance $types-i (type $types)))
  (alias export $types-i "push" (type $push-t))
  (import "push" (type $push (eq $push-t)))
  (alias export $types-i "verdict" (type $verdict-t))
  (import "verdict" (type $verdict (eq $verdict-t)))
"#;

/// A bump allocator for `cabi_realloc` (the host writes the push into the
/// guest's memory through it) and nothing else: what every core module
/// below starts with. The heap starts at 64 KiB; memory grows as needed.
pub const ALLOCATOR: &str = r#"
    (global $heap (mut i32) (i32.const 65536))
    (func $realloc (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $heap) (i32.sub (local.get 2) (i32.const 1)))
                              (i32.sub (i32.const 0) (local.get 2))))
      (global.set $heap (i32.add (local.get $at) (local.get 3)))
      (block $fits
        (br_if $fits (i32.le_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536))))
        (drop (memory.grow (i32.add (i32.shr_u (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))
                                               (i32.const 16))
                                    (i32.const 1)))))
      (local.get $at))
"#;

/// `check` that accepts: the canonical ABI's return area holds the
/// verdict's case, 0 for `accept`.
pub const ACCEPT: &str = r#"
    (func (export "check") (param i32) (result i32)
      (i32.store8 (i32.const 16) (i32.const 0))
      (i32.const 16))
"#;

/// A policy component: the contract's types, then `body` (core modules and
/// their instances), then `check` lifted from the core instance `$main`,
/// which exports `memory`, `cabi_realloc` and `check`.
pub fn policy(body: &str) -> Vec<u8> {
    let text = format!(
        r#"(component
  {TYPES}
  {body}
  (func (export "check") (param "push" $push) (result $verdict)
    (canon lift (core func $main "check") (memory (core memory $main "memory"))
                (realloc (core func $main "cabi_realloc"))))
)"#
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("the component text does not parse: {e}\n{text}"))
}

/// `body` repeated `count` times, `{i}` in it replaced by 0, 1, 2…: WAT
/// has no loops at the module level.
pub fn repeat(count: usize, body: &str) -> String {
    (0..count).map(|i| body.replace("{i}", &i.to_string())).collect()
}
