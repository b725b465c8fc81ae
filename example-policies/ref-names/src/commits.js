// Lazy commit walks for hookrt policies written in JavaScript.
//
// The host walks a ref's history only as far as the policy reads, so a
// policy that stops at the first bad commit pays for one commit, not the
// whole push. `commits()` turns a walk into a generator: a `for...of` loop
// over it reads from the host as it goes, and leaving the loop early
// (`break`, `return`, an exception) ends the walk. A walk error never
// escapes it (uncaught, it would end the policy with a trap): it ends the
// loop and leaves a veto that names the commit and what to do.

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
 * A walk error (a commit git cannot read either, an unreadable repository)
 * ends the loop early and pushes a veto for it onto `failures`: what the
 * policy did not see, it cannot pass.
 *
 * @param {string} refName a ref of the push, e.g. `refs/heads/main`
 * @param {'added-to-ref' | 'added-to-repository' | 'removed-from-ref' | 'removed-from-repository'} filter
 * @param {Veto[]} failures where the veto for a walk error goes
 * @returns {Generator<Commit>} commits as the contract's `commit` record:
 *   `{ id, parentIds, author, committer, message, messageRaw, damage, ... }`
 */
export function* commits(refName, filter, failures) {
  let walk;
  try {
    walk = open(refName, filter);
  } catch (error) {
    failures.push(walkVeto(refName, walkError(error)));
    return;
  }
  try {
    let batchSize = 1;
    for (;;) {
      let batch;
      try {
        batch = walk.nextBatch(batchSize);
      } catch (error) {
        failures.push(walkVeto(refName, walkError(error)));
        return;
      }
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

/**
 * A veto for a walk that could not go on: what happened, naming the commit
 * where there is one, and what the pusher can do about it.
 *
 * @param {string} refName the ref whose walk failed
 * @param {{ tag: 'unknown-ref' | 'repository', val: string } | { tag: 'malformed', val: { id: string, problem: string } }} error
 *   the contract's `walk-error`
 */
export function walkVeto(refName, error) {
  switch (error.tag) {
    case 'malformed': {
      const { id, problem } = error.val;
      return {
        summary: `this commit cannot be read: ${problem}`,
        detail:
          'git cannot read past this commit either, so the policy could not check what it brings.\n' +
          'Run `git fsck` in your clone to see the damage, then rewrite the commit (e.g. with ' +
          "`git rebase -i` or `git filter-repo`), or ask the server's admin to exempt this ref.",
        refName,
        commitId: id,
      };
    }
    case 'repository':
      return {
        summary: `the commits of ${refName} could not be read`,
        detail: `${error.val}\nTry the push again; if it keeps failing, tell the server's admin.`,
        refName,
      };
    default:
      return {
        summary: `the policy asked for the commits of ${error.val}, which this push does not update`,
        detail: 'This is a bug in the policy; tell its author.',
        refName,
      };
  }
}

/**
 * What a commit's damage is, for the detail of a veto about it: the header,
 * git fsck's name for the problem and the line as stored; `undefined` for a
 * well-formed commit. It tells the pusher why the policy saw, say, an empty
 * e-mail.
 */
export function damageNote(commit) {
  if (commit.damage.length === 0) return undefined;
  const decoder = new TextDecoder();
  const lines = commit.damage.map(({ header, problem, raw }) =>
    raw.length === 0 ? `  ${header}: ${problem} (no such line)` : `  ${header}: ${problem} (\`${decoder.decode(raw)}\`)`,
  );
  return (
    `Commit ${commit.id.slice(0, 12)} is malformed (\`git fsck\` reports it); ` +
    `the policy read it the way hookrt repairs it:\n${lines.join('\n')}`
  );
}

// A WIT `result` error arrives as an exception whose `payload` is the
// `walk-error` variant (its own message says only "[object Object]").
// Anything else is a bug in this file: rethrown, it ends the policy.
function walkError(error) {
  if (error.payload === undefined) throw error;
  return error.payload;
}
