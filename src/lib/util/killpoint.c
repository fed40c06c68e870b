/*
 * killpoint.c: ARCA_TEST_KILL_AT, see killpoint.h.
 *
 * The environment is read once.  The hook is for tests only, but it is
 * harmless in production: without the variable it does nothing, and with
 * it the only effect is the process ending as if killed by a signal,
 * which arca must survive anyway.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/killpoint.h"

struct hook {
	const char *env;
	int sig;
	char point[64];
	unsigned long n, seen;
};

static int inited;
static struct hook hooks[] = {
	{ "ARCA_TEST_KILL_AT", SIGKILL, "", 0, 0 },
	{ "ARCA_TEST_STOP_AT", SIGSTOP, "", 0, 0 },
};

static void
hook_init(struct hook *h)
{
	const char *v = getenv(h->env);
	const char *colon;
	size_t n;

	if (v == NULL || *v == '\0')
		return;
	colon = strrchr(v, ':');
	n = colon ? (size_t)(colon - v) : strlen(v);
	if (n == 0 || n >= sizeof(h->point))
		return;
	memcpy(h->point, v, n);
	h->point[n] = '\0';
	h->n = colon ? strtoul(colon + 1, NULL, 10) : 1;
	if (h->n == 0)
		h->point[0] = '\0';
}

void
arca_killpoint(const char *point)
{
	size_t i;

	if (!inited) {
		inited = 1;
		for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
			hook_init(&hooks[i]);
	}
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		struct hook *h = &hooks[i];

		if (h->point[0] == '\0' || strcmp(point, h->point) != 0 ||
		    ++h->seen != h->n)
			continue;
		raise(h->sig);
		if (h->sig == SIGKILL)
			_exit(137);	/* not reached */
	}
}
