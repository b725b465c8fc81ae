/* A lazy reader over the commits of one ref update: the C counterpart of
 * the Rust SDK's commit iterator. Copy it into your own C policy.
 *
 * The host walks the history only as far as the policy reads, so the reader
 * asks for one commit first (a policy that stops at the first commit costs
 * the host one commit), then for batches that double up to
 * COMMIT_READER_MAX_BATCH (a full walk of 10,000 commits takes about 50 host
 * calls, not 10,000).
 *
 * Errors: a walk that cannot be opened or go on (a commit git cannot read
 * either, an unreadable repository) ends the reading early, as its end
 * does: commit_reader_next returns NULL. Check commit_reader_failed after
 * the loop (before commit_reader_close, which forgets the error), and veto
 * the ref with commit_reader_veto: what the policy did not see, it cannot
 * pass. So a policy never traps on history it cannot read.
 *
 * Ownership: the reader owns the walk, every commit it has read and the
 * error. A commit returned by commit_reader_next is borrowed: it stays
 * valid until the next call to commit_reader_next or commit_reader_close;
 * copy what you need to keep (policy_string_dup). commit_reader_close frees
 * everything, whether or not the walk was read to the end. */
#ifndef LINE_LENGTH_COMMITS_H
#define LINE_LENGTH_COMMITS_H

#include "policy.h"

#define COMMIT_READER_MAX_BATCH 256

typedef struct {
    hookrt_policy_commits_own_commit_walk_t walk;
    /* Whether `walk` is a handle to drop: false when open failed. */
    bool walk_open;
    /* The commits of the last batch; those before `next` were handed out. */
    hookrt_policy_commits_list_commit_t batch;
    size_t next;
    /* How many commits to ask the host for next time. */
    uint32_t batch_size;
    bool done;
    /* Why the walk stopped early, when `failed`. */
    bool failed;
    hookrt_policy_commits_walk_error_t error;
} commit_reader_t;

/* Opens a walk over the commits `filter` selects for the update of `ref`.
 * When the host refuses, the reader reads nothing and has failed. */
void commit_reader_open(commit_reader_t *reader, const policy_string_t *ref,
                        hookrt_policy_commits_filter_t filter);

/* The next commit, newest first, or NULL when the walk is done or failed. */
const hookrt_policy_types_commit_t *commit_reader_next(commit_reader_t *reader);

/* Whether the walk ended in an error rather than at its end. */
bool commit_reader_failed(const commit_reader_t *reader);

/* Fills `veto` (every string copied with malloc, as a verdict needs) for the
 * error of a failed reader over `ref`: what happened, naming the commit
 * for a malformed one, and what the pusher can do about it. */
void commit_reader_veto(const commit_reader_t *reader, const policy_string_t *ref,
                        hookrt_policy_types_veto_t *veto);

/* Sets `ret` to a copy of `detail` (from malloc, as a verdict needs) for
 * a veto about `commit`, adding what is damaged when the commit is
 * malformed (its `damage` is not empty: a repaired author or committer
 * line): the header, git fsck's name for the problem and the line as
 * stored. It tells the pusher why the policy saw, say, an empty e-mail. */
void commit_veto_detail(policy_string_t *ret, const hookrt_policy_types_commit_t *commit,
                        const char *detail);

/* Ends the walk (the host stops walking) and frees what the reader holds. */
void commit_reader_close(commit_reader_t *reader);

#endif
