/*
 * fuzz.h: helpers shared by the libFuzzer targets in fuzz/.
 *
 * Every target defines LLVMFuzzerTestOneInput() and nothing else; the same
 * source links either with libFuzzer (clang, -fsanitize=fuzzer) or with
 * replay.c, a plain main() that feeds it every file of a corpus directory
 * (the CTest tests fuzz.replay.<target>).
 */
#ifndef ARCA_FUZZ_H
#define ARCA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A context that drops everything: the library must not print anyway. */
static inline void
fuzz_ctx_init(struct arca_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->verbosity = -1;
}

/* A NUL-terminated copy of the input (abort on no memory: not a finding). */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Split the input at the first occurrence of the 4-byte separator "\n--\n"
 * (libFuzzer's dictionaries and mutators find it quickly): part one is
 * data[0..*n1), part two the rest.  Without a separator, all is part one.
 */
static inline void
fuzz_split(const uint8_t *data, size_t size, size_t *n1, const uint8_t **p2,
    size_t *n2)
{
	size_t i;

	for (i = 0; i + 4 <= size; i++) {
		if (memcmp(data + i, "\n--\n", 4) == 0) {
			*n1 = i;
			*p2 = data + i + 4;
			*n2 = size - i - 4;
			return;
		}
	}
	*n1 = size;
	*p2 = data + size;
	*n2 = 0;
}

/* Crash loudly when an invariant the parser promises does not hold. */
#define FUZZ_CHECK(cond) do { if (!(cond)) abort(); } while (0)

#endif /* !ARCA_FUZZ_H */
