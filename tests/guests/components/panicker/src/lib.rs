//! Test guest: panics with a message the pusher must see.

use hookrt_guest::{Push, Verdict};

fn check(push: &Push) -> Verdict {
    panic!("policy bug: cannot handle {} ref updates", push.updates().len());
}

hookrt_guest::policy!(check);
