/* line-length: commit messages that read well in `git log`, `git
 * format-patch` e-mails and narrow terminals.
 *
 * Every commit new to the repository (filter added-to-repository) must have
 *   - a subject (its first line) of at most MAX_SUBJECT_LENGTH characters;
 *   - a blank second line when a body follows;
 *   - body lines of at most MAX_BODY_LINE_LENGTH characters, except a line
 *     that wrapping can't shorten (its indentation plus its longest word
 *     are over the limit: a URL, a path) and the trailer block at the end
 *     (Signed-off-by:, Co-authored-by: ...).
 * Lengths count characters (Unicode code points), not bytes; trailing
 * whitespace is not counted. Merge commits, whose messages git writes, are
 * skipped unless CHECK_MERGE_COMMITS is 1. The limits are in message.h.
 *
 * The walk is lazy and stops at the first bad commit on each ref: one is
 * enough to reject the push, and the veto names the commit and the line
 * (and, for a commit with a damaged author or committer line, the damage).
 * History the host cannot walk (a commit git cannot read either) vetoes
 * the ref, naming the commit and what to do.
 *
 * Memory: `push` belongs to this function (free it with policy_push_free);
 * every string of the verdict must be heap-allocated (policy_string_dup),
 * because the bindings free the verdict after the host has copied it. */
#include <stdio.h>
#include <stdlib.h>

#include "commits.h"
#include "message.h"
#include "policy.h"

#define CHECK_MERGE_COMMITS 0

/* How much of the offending line a veto quotes, in characters. */
#define QUOTE_LENGTH 60

/* One line: what is wrong, and where. */
static void format_summary(char *out, size_t size, const message_problem_t *problem) {
    switch (problem->kind) {
    case SUBJECT_TOO_LONG:
        snprintf(out, size, "commit subject (line %zu) is %zu characters long, over the limit of %d",
                 problem->line, problem->length, MAX_SUBJECT_LENGTH);
        break;
    case NO_BLANK_LINE_AFTER_SUBJECT:
        snprintf(out, size, "commit message line %zu must be blank, between the subject and the body",
                 problem->line);
        break;
    default:
        snprintf(out, size, "commit message line %zu is %zu characters long, over the limit of %d",
                 problem->line, problem->length, MAX_BODY_LINE_LENGTH);
        break;
    }
}

/* What to do about it. Each line fits a terminal: git prefixes it with
 * "remote: " and hookrt indents it. */
static const char *advice(message_problem_kind_t kind) {
    switch (kind) {
    case SUBJECT_TOO_LONG:
        return "Shorten the subject; details belong in the body, after a blank line.";
    case NO_BLANK_LINE_AFTER_SUBJECT:
        return "Put a blank line after the subject: git takes everything up to the\n"
               "first blank line as the subject.";
    default:
        return "Wrap the body. Only a line that wrapping can't shorten (a long URL)\n"
               "may run longer; trailers (Signed-off-by: ...) are not counted.";
    }
}

/* A piece of the offending line to quote: QUOTE_LENGTH characters from
 * character `from` on, cut before a byte that starts a character, never
 * inside one. */
typedef struct {
    const char *text;
    int bytes;
    const char *ellipsis;
} quote_t;

static quote_t quote(const message_problem_t *problem, size_t from) {
    size_t start = 0;
    size_t characters = 0;
    for (; start < problem->text_len; start++) {
        if ((problem->text[start] & 0xC0) != 0x80 && characters++ == from) {
            break;
        }
    }
    size_t end = start;
    characters = 0;
    for (; end < problem->text_len; end++) {
        if ((problem->text[end] & 0xC0) != 0x80 && characters++ == QUOTE_LENGTH) {
            break;
        }
    }
    return (quote_t){(const char *)problem->text + start, (int)(end - start),
                     end < problem->text_len ? "..." : ""};
}

static void make_veto(hookrt_policy_types_veto_t *veto, const hookrt_policy_types_ref_update_t *update,
                      const hookrt_policy_types_commit_t *commit, const message_problem_t *problem) {
    char summary[160];
    format_summary(summary, sizeof summary, problem);

    /* The line's start, and for a line too long, what runs past the limit.
     * Room for two quotes of QUOTE_LENGTH four-byte characters: a string
     * cut inside a character would not be UTF-8, and the host would refuse
     * the veto. */
    char where[640];
    quote_t line = quote(problem, 0);
    int n = snprintf(where, sizeof where, "line %zu: \"%.*s%s\"", problem->line, line.bytes, line.text,
                     line.ellipsis);
    if (problem->kind != NO_BLANK_LINE_AFTER_SUBJECT) {
        size_t limit = problem->kind == SUBJECT_TOO_LONG ? MAX_SUBJECT_LENGTH : MAX_BODY_LINE_LENGTH;
        quote_t past = quote(problem, limit);
        snprintf(where + n, sizeof where - (size_t)n, "\npast character %zu: \"%.*s%s\"", limit, past.bytes,
                 past.text, past.ellipsis);
    }

    char detail[1024];
    snprintf(detail, sizeof detail,
             "%s\n%s\n"
             "Reword the commit (git commit --amend if it is the newest, otherwise\n"
             "git rebase -i and mark it \"reword\"), then push again. Older commits\n"
             "of this ref were not checked yet.",
             where, advice(problem->kind));

    policy_string_dup(&veto->summary, summary);
    commit_veto_detail(&veto->detail, commit, detail);
    policy_string_dup_n(&veto->ref_name, (const char *)update->name.ptr, update->name.len);
    veto->commit_id.is_some = true;
    policy_string_dup_n(&veto->commit_id.val, (const char *)commit->id.ptr, commit->id.len);
}

/* Reads the commits the ref adds to the repository, newest first, until
 * the first bad one, or until the walk fails. Returns whether it filled in
 * `veto`. */
static bool check_ref(const hookrt_policy_types_ref_update_t *update, hookrt_policy_types_veto_t *veto) {
    commit_reader_t reader;
    commit_reader_open(&reader, &update->name, HOOKRT_POLICY_COMMITS_FILTER_ADDED_TO_REPOSITORY);
    bool vetoed = false;
    const hookrt_policy_types_commit_t *commit;
    while (!vetoed && (commit = commit_reader_next(&reader)) != NULL) {
        if (commit->parent_ids.len > 1 && !CHECK_MERGE_COMMITS) {
            continue;
        }
        message_problem_t problem = message_check(commit->message.ptr, commit->message.len);
        if (problem.kind != MESSAGE_OK) {
            make_veto(veto, update, commit, &problem);
            vetoed = true;
        }
    }
    /* History the policy could not read, it cannot pass. */
    if (!vetoed && commit_reader_failed(&reader)) {
        commit_reader_veto(&reader, &update->name, veto);
        vetoed = true;
    }
    /* Stops the host's walk and frees the commits read: `commit` points
     * into them, so the veto holds copies. */
    commit_reader_close(&reader);
    return vetoed;
}

void exports_policy_check(policy_push_t *push, policy_verdict_t *ret) {
    /* At most one veto per ref. */
    size_t updates = push->ref_updates.len;
    hookrt_policy_types_veto_t *vetoes = calloc(updates ? updates : 1, sizeof *vetoes);
    if (vetoes == NULL) {
        abort();
    }
    size_t count = 0;
    for (size_t i = 0; i < updates; i++) {
        const hookrt_policy_types_ref_update_t *update = &push->ref_updates.ptr[i];
        /* A deleted ref adds no commits. */
        if (update->kind != HOOKRT_POLICY_TYPES_REF_KIND_DELETE && check_ref(update, &vetoes[count])) {
            count++;
        }
    }
    policy_push_free(push);

    if (count == 0) {
        free(vetoes);
        ret->tag = HOOKRT_POLICY_TYPES_VERDICT_ACCEPT;
    } else {
        ret->tag = HOOKRT_POLICY_TYPES_VERDICT_REJECT;
        ret->val.reject = (hookrt_policy_types_list_veto_t){vetoes, count};
    }
}
