/* A lazy reader over the commits of one ref update (see commits.h). */
#include "commits.h"

#include <stdio.h>
#include <stdlib.h>

/* A walk error is not something a policy can decide on: the repository
 * could not be read. Ending the policy makes hookrt reject the push (it
 * fails closed) and show this message to the pusher. */
static void fail(const char *what, hookrt_policy_commits_walk_error_t *err) {
    const char *kind = err->tag == HOOKRT_POLICY_COMMITS_WALK_ERROR_UNKNOWN_REF
                           ? "not a ref of this push"
                           : "repository error";
    /* Both cases carry a string, in the same place of the union. */
    policy_string_t *text = &err->val.repository;
    fprintf(stderr, "%s: %s: %.*s\n", what, kind, (int)text->len, (const char *)text->ptr);
    hookrt_policy_commits_walk_error_free(err);
    abort();
}

void commit_reader_open(commit_reader_t *reader, const policy_string_t *ref,
                        hookrt_policy_commits_filter_t filter) {
    hookrt_policy_commits_walk_error_t err;
    /* The binding takes the name by pointer but only reads it: the caller
     * keeps ownership of `ref`. */
    if (!hookrt_policy_commits_open((policy_string_t *)ref, filter, &reader->walk, &err)) {
        fail("cannot walk the commits of the push", &err);
    }
    reader->batch = (hookrt_policy_commits_list_commit_t){NULL, 0};
    reader->next = 0;
    reader->batch_size = 1;
    reader->done = false;
}

const hookrt_policy_types_commit_t *commit_reader_next(commit_reader_t *reader) {
    if (reader->next == reader->batch.len) {
        if (reader->done) {
            return NULL;
        }
        /* Everything of the last batch was handed out: free it, then ask
         * for the next one. */
        hookrt_policy_commits_list_commit_free(&reader->batch);
        reader->next = 0;
        hookrt_policy_commits_walk_error_t err;
        hookrt_policy_commits_borrow_commit_walk_t walk =
            hookrt_policy_commits_borrow_commit_walk(reader->walk);
        if (!hookrt_policy_commits_method_commit_walk_next_batch(walk, reader->batch_size,
                                                                 &reader->batch, &err)) {
            reader->batch = (hookrt_policy_commits_list_commit_t){NULL, 0};
            fail("cannot read the next commits of the push", &err);
        }
        if (reader->batch_size < COMMIT_READER_MAX_BATCH) {
            reader->batch_size *= 2;
        }
        /* An empty batch is the end of the walk. */
        if (reader->batch.len == 0) {
            reader->done = true;
            return NULL;
        }
    }
    return &reader->batch.ptr[reader->next++];
}

void commit_reader_close(commit_reader_t *reader) {
    hookrt_policy_commits_list_commit_free(&reader->batch);
    reader->batch = (hookrt_policy_commits_list_commit_t){NULL, 0};
    reader->next = 0;
    reader->done = true;
    hookrt_policy_commits_commit_walk_drop_own(reader->walk);
}
