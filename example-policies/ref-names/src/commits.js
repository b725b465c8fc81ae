// Lazy commit walks for hookrt policies written in JavaScript.
//
// The host walks a ref's history only as far as the policy reads, so a
// policy that stops at the first bad commit pays for one commit, not the
// whole push. `commits()` turns a walk into a generator: a `for...of` loop
// over it reads from the host as it goes, and leaving the loop early
// (`break`, `return`, an exception) ends the walk.

import { open } from 'hookrt:policy/commits@0.1.0';

// The host returns at most this many commits per `nextBatch` call, so asking
// for more would gain nothing.
const MAX_BATCH = 1024;

/**
 * The commits `filter` selects for the update of `refName`, newest first.
 *
 * The first read asks for one commit, so stopping at the first costs one;
 * later reads ask for doubling batches, so a long walk makes few host calls
 * (each costs the JavaScript engine about a third of what a commit does).
 *
 * @param {string} refName a ref of the push, e.g. `refs/heads/main`
 * @param {'added-to-ref' | 'added-to-repository' | 'removed-from-ref' | 'removed-from-repository'} filter
 * @returns {Generator<Commit>} commits as the contract's `commit` record:
 *   `{ id, parentIds, author, committer, message, messageRaw }`
 */
export function* commits(refName, filter) {
  const walk = hostCall(refName, () => open(refName, filter));
  try {
    let batchSize = 1;
    for (;;) {
      const batch = hostCall(refName, () => walk.nextBatch(batchSize));
      if (batch.length === 0) return;
      yield* batch;
      batchSize = Math.min(batchSize * 2, MAX_BATCH);
    }
  } finally {
    // Runs when the walk is done or the loop over it is left early. Disposing
    // is the only way the walk is dropped: the engine's garbage collector
    // never hands a resource back to the host, which would keep it open
    // until the policy ends.
    walk[Symbol.dispose]();
  }
}

/** The first line of a commit message. */
export function subject(commit) {
  return commit.message.split('\n', 1)[0];
}

// A WIT `result` error arrives as an exception whose `payload` is the
// `walk-error` variant, `{ tag: 'unknown-ref' | 'repository', val: text }`;
// its own message says only "[object Object]". Rethrown with the payload in
// the message, it ends the policy with a reason the pusher can read (an
// uncaught exception traps, and the push is rejected: hookrt fails closed).
function hostCall(refName, call) {
  try {
    return call();
  } catch (error) {
    if (error.payload === undefined) throw error;
    const { tag, val } = error.payload;
    throw new Error(`cannot read the commits of ${refName}: ${tag}: ${val}`);
  }
}
