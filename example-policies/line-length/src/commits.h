/* A lazy reader over the commits of one ref update: the C counterpart of
 * the Rust SDK's commit iterator. Copy it into your own C policy.
 *
 * The host walks the history only as far as the policy reads, so the reader
 * asks for one commit first (a policy that stops at the first commit costs
 * the host one commit), then for batches that double up to
 * COMMIT_READER_MAX_BATCH (a full walk of 10,000 commits takes about 50 host
 * calls, not 10,000).
 *
 * Ownership: the reader owns the walk and every commit it has read. A
 * commit returned by commit_reader_next is borrowed: it stays valid until
 * the next call to commit_reader_next or commit_reader_close; copy what you
 * need to keep (policy_string_dup). commit_reader_close frees everything,
 * whether or not the walk was read to the end. */
#ifndef LINE_LENGTH_COMMITS_H
#define LINE_LENGTH_COMMITS_H

#include "policy.h"

#define COMMIT_READER_MAX_BATCH 256

typedef struct {
    hookrt_policy_commits_own_commit_walk_t walk;
    /* The commits of the last batch; those before `next` were handed out. */
    hookrt_policy_commits_list_commit_t batch;
    size_t next;
    /* How many commits to ask the host for next time. */
    uint32_t batch_size;
    bool done;
} commit_reader_t;

/* Opens a walk over the commits `filter` selects for the update of `ref`.
 * A repository error ends the policy (hookrt then rejects the push), as a
 * panic does in Rust. */
void commit_reader_open(commit_reader_t *reader, const policy_string_t *ref,
                        hookrt_policy_commits_filter_t filter);

/* The next commit, newest first, or NULL when the walk is done. */
const hookrt_policy_types_commit_t *commit_reader_next(commit_reader_t *reader);

/* Ends the walk (the host stops walking) and frees what the reader holds. */
void commit_reader_close(commit_reader_t *reader);

#endif
