//! Test guest: allocates without bound. The memory cap must stop it.

use hookrt_guest::{Push, Verdict};

fn check(_push: &Push) -> Verdict {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Touch the pages so nothing is optimized away.
        hoard.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

hookrt_guest::policy!(check);
