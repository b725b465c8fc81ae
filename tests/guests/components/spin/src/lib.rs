//! Test guest: never finishes. Fuel (or the deadline) must stop it.

use hookrt_guest::{Push, Verdict};

fn check(_push: &Push) -> Verdict {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

hookrt_guest::policy!(check);
