/* A lazy reader over the commits of one ref update (see commits.h). */
#include "commits.h"

#include <stdlib.h>
#include <string.h>

/* A walk error is kept for commit_reader_veto; the reader then reads no
 * further, as at the end of the walk. */
static void fail(commit_reader_t *reader, const hookrt_policy_commits_walk_error_t *err) {
    reader->failed = true;
    reader->error = *err;
    reader->done = true;
}

void commit_reader_open(commit_reader_t *reader, const policy_string_t *ref,
                        hookrt_policy_commits_filter_t filter) {
    reader->batch = (hookrt_policy_commits_list_commit_t){NULL, 0};
    reader->next = 0;
    reader->batch_size = 1;
    reader->done = false;
    reader->failed = false;
    hookrt_policy_commits_walk_error_t err;
    /* The binding takes the name by pointer but only reads it: the caller
     * keeps ownership of `ref`. */
    reader->walk_open = hookrt_policy_commits_open((policy_string_t *)ref, filter, &reader->walk, &err);
    if (!reader->walk_open) {
        fail(reader, &err);
    }
}

const hookrt_policy_types_commit_t *commit_reader_next(commit_reader_t *reader) {
    if (reader->next == reader->batch.len) {
        if (reader->done) {
            return NULL;
        }
        /* Everything of the last batch was handed out: free it, then ask
         * for the next one. */
        hookrt_policy_commits_list_commit_free(&reader->batch);
        reader->batch = (hookrt_policy_commits_list_commit_t){NULL, 0};
        reader->next = 0;
        hookrt_policy_commits_walk_error_t err;
        hookrt_policy_commits_borrow_commit_walk_t walk =
            hookrt_policy_commits_borrow_commit_walk(reader->walk);
        if (!hookrt_policy_commits_method_commit_walk_next_batch(walk, reader->batch_size,
                                                                 &reader->batch, &err)) {
            reader->batch = (hookrt_policy_commits_list_commit_t){NULL, 0};
            fail(reader, &err);
            return NULL;
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

bool commit_reader_failed(const commit_reader_t *reader) {
    return reader->failed;
}

/* Text that grows as it is written, for strings of any length: the host's
 * texts and a commit's raw lines have no bound. Its buffer is from malloc,
 * so it can become a string of the verdict as is. */
typedef struct {
    char *ptr;
    size_t len;
    size_t cap;
} text_t;

static void text_add(text_t *text, const void *bytes, size_t len) {
    if (text->len + len + 1 > text->cap) {
        size_t cap = text->cap ? text->cap : 128;
        while (cap < text->len + len + 1) {
            cap *= 2;
        }
        char *ptr = realloc(text->ptr, cap);
        if (ptr == NULL) {
            abort();
        }
        text->ptr = ptr;
        text->cap = cap;
    }
    memcpy(text->ptr + text->len, bytes, len);
    text->len += len;
    text->ptr[text->len] = '\0';
}

static void text_add_str(text_t *text, const char *s) {
    text_add(text, s, strlen(s));
}

static void text_add_string(text_t *text, const policy_string_t *s) {
    text_add(text, s->ptr, s->len);
}

/* The first 12 characters of a commit id, as git abbreviates it. */
static void text_add_short_id(text_t *text, const policy_string_t *id) {
    text_add(text, id->ptr, id->len < 12 ? id->len : 12);
}

/* `bytes` as UTF-8, each broken sequence replaced by U+FFFD (as Rust's
 * `String::from_utf8_lossy` does): the host refuses a verdict whose
 * strings are not UTF-8. */
static void text_add_lossy(text_t *text, const uint8_t *bytes, size_t len) {
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t i = 0;
    while (i < len) {
        uint8_t lead = bytes[i];
        size_t need = 0;
        uint8_t low = 0x80, high = 0xBF;
        if (lead < 0x80) {
            text_add(text, &bytes[i++], 1);
            continue;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            need = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            need = 2;
            low = lead == 0xE0 ? 0xA0 : 0x80;
            high = lead == 0xED ? 0x9F : 0xBF;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            need = 3;
            low = lead == 0xF0 ? 0x90 : 0x80;
            high = lead == 0xF4 ? 0x8F : 0xBF;
        }
        size_t end = i + 1;
        for (size_t k = 0; k < need && end < len; k++, end++) {
            uint8_t b = bytes[end];
            if (b < (k == 0 ? low : 0x80) || b > (k == 0 ? high : 0xBF)) {
                break;
            }
        }
        if (need > 0 && end == i + 1 + need) {
            text_add(text, &bytes[i], end - i);
        } else {
            /* One replacement for the longest start of a sequence. */
            text_add(text, replacement, 3);
        }
        i = end;
    }
}

static policy_string_t text_string(text_t *text) {
    return (policy_string_t){(uint8_t *)text->ptr, text->len};
}

void commit_reader_veto(const commit_reader_t *reader, const policy_string_t *ref,
                        hookrt_policy_types_veto_t *veto) {
    text_t summary = {0}, detail = {0};
    const hookrt_policy_commits_walk_error_t *err = &reader->error;
    veto->commit_id.is_some = false;
    switch (err->tag) {
    case HOOKRT_POLICY_COMMITS_WALK_ERROR_MALFORMED:
        text_add_str(&summary, "this commit cannot be read: ");
        text_add_string(&summary, &err->val.malformed.problem);
        text_add_str(&detail,
                     "git cannot read past this commit either, so the policy could not check what it brings.\n"
                     "Run `git fsck` in your clone to see the damage, then rewrite the commit (e.g. with "
                     "`git rebase -i` or `git filter-repo`), or ask the server's admin to exempt this ref.");
        veto->commit_id.is_some = true;
        policy_string_dup_n(&veto->commit_id.val, (const char *)err->val.malformed.id.ptr,
                            err->val.malformed.id.len);
        break;
    case HOOKRT_POLICY_COMMITS_WALK_ERROR_REPOSITORY:
        text_add_str(&summary, "the commits of ");
        text_add_string(&summary, ref);
        text_add_str(&summary, " could not be read");
        text_add_string(&detail, &err->val.repository);
        text_add_str(&detail, "\nTry the push again; if it keeps failing, tell the server's admin.");
        break;
    default:
        text_add_str(&summary, "the policy asked for the commits of ");
        text_add_string(&summary, &err->val.unknown_ref);
        text_add_str(&summary, ", which this push does not update");
        text_add_str(&detail, "This is a bug in the policy; tell its author.");
        break;
    }
    veto->summary = text_string(&summary);
    veto->detail = text_string(&detail);
    policy_string_dup_n(&veto->ref_name, (const char *)ref->ptr, ref->len);
}

void commit_veto_detail(policy_string_t *ret, const hookrt_policy_types_commit_t *commit,
                        const char *detail) {
    text_t text = {0};
    text_add_str(&text, detail);
    if (commit->damage.len > 0) {
        if (text.len > 0) {
            text_add_str(&text, "\n");
        }
        text_add_str(&text, "Commit ");
        text_add_short_id(&text, &commit->id);
        text_add_str(&text, " is malformed (`git fsck` reports it); the policy read it the way hookrt repairs it:");
        for (size_t i = 0; i < commit->damage.len; i++) {
            const hookrt_policy_types_damage_t *damage = &commit->damage.ptr[i];
            text_add_str(&text, "\n  ");
            text_add_string(&text, &damage->header);
            text_add_str(&text, ": ");
            text_add_string(&text, &damage->problem);
            if (damage->raw.len == 0) {
                text_add_str(&text, " (no such line)");
            } else {
                text_add_str(&text, " (`");
                text_add_lossy(&text, damage->raw.ptr, damage->raw.len);
                text_add_str(&text, "`)");
            }
        }
    }
    if (text.len == 0) {
        /* Nothing was written: an empty string the bindings may free. */
        policy_string_dup(ret, "");
        return;
    }
    *ret = text_string(&text);
}

void commit_reader_close(commit_reader_t *reader) {
    hookrt_policy_commits_list_commit_free(&reader->batch);
    reader->batch = (hookrt_policy_commits_list_commit_t){NULL, 0};
    reader->next = 0;
    reader->done = true;
    if (reader->failed) {
        hookrt_policy_commits_walk_error_free(&reader->error);
        reader->failed = false;
    }
    if (reader->walk_open) {
        hookrt_policy_commits_commit_walk_drop_own(reader->walk);
        reader->walk_open = false;
    }
}
