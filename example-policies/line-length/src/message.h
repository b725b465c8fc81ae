/* The commit message rules of line-length, on plain text: no hookrt types
 * here, so the rules read (and could be tested) on their own. */
#ifndef LINE_LENGTH_MESSAGE_H
#define LINE_LENGTH_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

/* The limits, in characters (Unicode code points, not bytes: "é" and "漢"
 * count one each). 72 leaves room for the four columns `git log` indents
 * by, and for quoting in an e-mail reply, within 80. */
#define MAX_SUBJECT_LENGTH 72
#define MAX_BODY_LINE_LENGTH 72

typedef enum {
    MESSAGE_OK,
    /* The subject is longer than MAX_SUBJECT_LENGTH. */
    SUBJECT_TOO_LONG,
    /* A body follows the subject without a blank line between them. */
    NO_BLANK_LINE_AFTER_SUBJECT,
    /* A body line is longer than MAX_BODY_LINE_LENGTH and could be wrapped. */
    BODY_LINE_TOO_LONG,
} message_problem_kind_t;

typedef struct {
    message_problem_kind_t kind;
    /* The offending line: its number (the message's first line is 1), its
     * length in characters, and its text (pointing into the message,
     * trailing whitespace left out). */
    size_t line;
    size_t length;
    const uint8_t *text;
    size_t text_len;
} message_problem_t;

/* The first problem of a UTF-8 commit message, or kind MESSAGE_OK. */
message_problem_t message_check(const uint8_t *message, size_t len);

/* The number of characters (code points) of UTF-8 text. */
size_t utf8_length(const uint8_t *text, size_t len);

#endif
