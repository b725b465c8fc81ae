/* The commit message rules of line-length (see message.h and the header of
 * line_length.c). The message is scanned in place: nothing is allocated. */
#include "message.h"

#include <stdbool.h>
#include <string.h>

/* One line of the message, trailing whitespace (and the `\r` of a CRLF
 * line) left out: it is invisible, and git's default cleanup strips it. */
typedef struct {
    const uint8_t *text;
    size_t len;
    size_t number;
} line_t;

typedef struct {
    const uint8_t *next;
    const uint8_t *end;
    size_t number;
} lines_t;

static bool is_blank(uint8_t c) { return c == ' ' || c == '\t'; }

static bool is_space(uint8_t c) { return is_blank(c) || c == '\r' || c == '\v' || c == '\f'; }

static bool next_line(lines_t *lines, line_t *line) {
    if (lines->next == lines->end) {
        return false;
    }
    const uint8_t *start = lines->next;
    const uint8_t *newline = memchr(start, '\n', (size_t)(lines->end - start));
    const uint8_t *stop = newline ? newline : lines->end;
    lines->next = newline ? newline + 1 : lines->end;
    while (stop > start && is_space(stop[-1])) {
        stop--;
    }
    *line = (line_t){start, (size_t)(stop - start), ++lines->number};
    return true;
}

size_t utf8_length(const uint8_t *text, size_t len) {
    size_t count = 0;
    for (size_t i = 0; i < len; i++) {
        /* Every code point has exactly one byte that is not 10xxxxxx. */
        count += (text[i] & 0xC0) != 0x80;
    }
    return count;
}

/* `Token: value`, as git interpret-trailers reads a trailer
 * (Signed-off-by:, Co-authored-by:, Reviewed-by:, Fixes:, ...), or the
 * line `git cherry-pick -x` adds. */
static bool is_trailer(const line_t *line) {
    static const char cherry_pick[] = "(cherry picked from commit ";
    if (line->len >= sizeof cherry_pick - 1 &&
        memcmp(line->text, cherry_pick, sizeof cherry_pick - 1) == 0) {
        return true;
    }
    size_t i = 0;
    while (i < line->len && (line->text[i] == '-' || (line->text[i] >= '0' && line->text[i] <= '9') ||
                             ((line->text[i] | 0x20) >= 'a' && (line->text[i] | 0x20) <= 'z'))) {
        i++;
    }
    if (i == 0 || line->text[0] == '-') {
        return false;
    }
    while (i < line->len && is_blank(line->text[i])) {
        i++;
    }
    return i < line->len && line->text[i] == ':';
}

/* The number of the first line of the trailer block, or 0 when there is
 * none. The trailer block is the last paragraph, when it is not the
 * subject's and every line of it is a trailer or continues one (a folded
 * value starts with whitespace). Its lines hold names, e-mail addresses
 * and links that can't be wrapped, so they are not measured. */
static size_t trailer_block_start(const uint8_t *message, size_t len) {
    lines_t lines = {message, message + len, 0};
    line_t line;
    size_t paragraphs = 0;
    size_t paragraph_start = 0;
    bool in_paragraph = false;
    bool all_trailers = false;
    while (next_line(&lines, &line)) {
        if (line.len == 0) {
            in_paragraph = false;
            continue;
        }
        if (!in_paragraph) {
            in_paragraph = true;
            paragraphs++;
            paragraph_start = line.number;
            all_trailers = true;
        }
        bool continues = line.number > paragraph_start && is_blank(line.text[0]);
        all_trailers = all_trailers && (is_trailer(&line) || continues);
    }
    return paragraphs >= 2 && all_trailers ? paragraph_start : 0;
}

/* Wrapping breaks a line at blanks, so it cannot help a line whose
 * indentation and longest word alone are too long: a URL, a path, a long
 * identifier. Such a line may stay as it is. */
static bool is_unwrappable(const line_t *line) {
    size_t i = 0;
    while (i < line->len && is_blank(line->text[i])) {
        i++;
    }
    size_t indentation = i;
    size_t longest = 0;
    while (i < line->len) {
        size_t start = i;
        while (i < line->len && !is_blank(line->text[i])) {
            i++;
        }
        size_t word = utf8_length(line->text + start, i - start);
        longest = word > longest ? word : longest;
        while (i < line->len && is_blank(line->text[i])) {
            i++;
        }
    }
    return indentation + longest > MAX_BODY_LINE_LENGTH;
}

static message_problem_t problem(message_problem_kind_t kind, const line_t *line) {
    return (message_problem_t){kind, line->number, utf8_length(line->text, line->len), line->text,
                               line->len};
}

message_problem_t message_check(const uint8_t *message, size_t len) {
    const message_problem_t ok = {MESSAGE_OK, 0, 0, NULL, 0};
    lines_t lines = {message, message + len, 0};
    line_t line;

    /* The subject is the first line that is not blank (git log skips
     * leading blank lines too). An empty message has nothing to measure. */
    do {
        if (!next_line(&lines, &line)) {
            return ok;
        }
    } while (line.len == 0);
    if (utf8_length(line.text, line.len) > MAX_SUBJECT_LENGTH) {
        return problem(SUBJECT_TOO_LONG, &line);
    }

    if (!next_line(&lines, &line)) {
        return ok;
    }
    if (line.len != 0) {
        return problem(NO_BLANK_LINE_AFTER_SUBJECT, &line);
    }

    size_t trailers = trailer_block_start(message, len);
    while (next_line(&lines, &line)) {
        if (trailers != 0 && line.number >= trailers) {
            break;
        }
        if (utf8_length(line.text, line.len) > MAX_BODY_LINE_LENGTH && !is_unwrappable(&line)) {
            return problem(BODY_LINE_TOO_LONG, &line);
        }
    }
    return ok;
}
