/*
 * replay.c: run a fuzz target over saved inputs without libFuzzer.
 *
 *   fuzz_replay_<target> PATH...
 *
 * Each PATH is a file or a directory (its regular files, in name order).
 * Every input is passed once to LLVMFuzzerTestOneInput; a crash is the
 * sanitizers' (or abort's) business, so reaching the end means success.
 * CTest runs this on fuzz/corpus/<target>/ as fuzz.replay.<target>, in
 * every build and under ASan+UBSan in the asan preset.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int
replay_file(const char *path, unsigned long *count)
{
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, got;
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *nd;

			cap = cap ? cap * 2 : 65536;
			if ((nd = realloc(data, cap)) == NULL) {
				fprintf(stderr, "%s: out of memory\n", path);
				rc = 1;
				goto out;
			}
			data = nd;
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", path);
		rc = 1;
		goto out;
	}
	/* An exact-size copy, so ASan sees reads past the input's end. */
	{
		unsigned char *exact = malloc(len ? len : 1);

		if (exact == NULL) {
			rc = 1;
			goto out;
		}
		if (len > 0)
			memcpy(exact, data, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	(*count)++;
out:
	free(data);
	fclose(f);
	return rc;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
replay_path(const char *path, unsigned long *count)
{
	struct dirent **ents = NULL;
	struct stat st;
	char sub[4096];
	int i, n, rc = 0;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, count);
	if ((n = scandir(path, &ents, NULL, by_name)) == -1) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    ents[i]->d_name) < sizeof(sub) &&
		    stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			rc |= replay_file(sub, count);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	unsigned long count = 0;
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++)
		rc |= replay_path(argv[i], &count);
	printf("%lu inputs replayed without a crash\n", count);
	if (count == 0) {
		fprintf(stderr, "no inputs found\n");
		return 1;
	}
	return rc;
}
