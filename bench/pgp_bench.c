/*
 * pgp_bench.c: the built-in OpenPGP engine on one file, for
 * bench/openpgp_vs_gpg.sh: encrypt and decrypt with each deflate level,
 * with and without stored blocks for incompressible data, and print
 * seconds, output size and block counts.  Linked against libarca.a.
 *
 *   pgp_bench FILE [REPEAT]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/openpgp.h"
#include "util/ctx.h"

/*
 * CPU seconds of this process: the machine is shared and noisy, and the
 * engine runs on one core, so CPU time is the steadier measure.
 */
static double
now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
run(struct arca_pgp *p, int enc, const char *in, const char *out)
{
	struct arca_ctx ctx = { 0 };
	int ifd = open(in, O_RDONLY), ofd;
	double t;
	int r;

	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (ifd < 0 || ofd < 0) {
		perror(in);
		exit(2);
	}
	(void)ctx;
	t = now();
	r = enc ? arca_pgp_encrypt_fd(p, ifd, ofd, in) :
	    arca_pgp_decrypt_fd(p, ifd, ofd, in);
	t = now() - t;
	close(ifd);
	close(ofd);
	if (r != 0) {
		fprintf(stderr, "failed: %d\n", r);
		exit(1);
	}
	return t;
}

int
main(int argc, char **argv)
{
	static const struct { const char *name; int level, flags; } v[] = {
		{ "level 0, stored blocks", 0, 0 },
		{ "level 1, stored blocks (default)", 1, 0 },
		{ "level 2, stored blocks", 2, 0 },
		{ "level 3, stored blocks", 3, 0 },
		{ "level 1, no stored blocks", 1, ARCA_PGP_NO_STORE },
		{ "no compression", 1, ARCA_PGP_NO_COMPRESS },
	};
	struct arca_ctx ctx = { 0 };
	struct arca_pgp_opts o;
	struct arca_pgp_stats st;
	struct arca_pgp *p;
	struct stat sb;
	char enc[4096], dec[4096];
	double te, td, be, bd;
	int i, k, rep = argc > 2 ? atoi(argv[2]) : 3;

	if (argc < 2) {
		fprintf(stderr, "usage: pgp_bench FILE [REPEAT]\n");
		return 2;
	}
	snprintf(enc, sizeof(enc), "%s.bench.gpg", argv[1]);
	snprintf(dec, sizeof(dec), "%s.bench.out", argv[1]);
	printf("| variant | encrypt CPU s | decrypt CPU s | output MiB | stored/deflated blocks |\n");
	printf("|---|---|---|---|---|\n");
	for (i = 0; i < (int)(sizeof(v) / sizeof(v[0])); i++) {
		arca_pgp_opts_init(&o);
		o.passphrase = "bench";
		o.level = v[i].level;
		o.flags = v[i].flags;
		if (arca_pgp_new(&ctx, &o, &p) != 0)
			return 1;
		/* The one key derivation, outside the timing. */
		run(p, 1, "/dev/null", enc);
		be = bd = 1e9;
		for (k = 0; k < rep; k++) {
			te = run(p, 1, argv[1], enc);
			td = run(p, 0, enc, dec);
			be = te < be ? te : be;
			bd = td < bd ? td : bd;
		}
		stat(enc, &sb);
		arca_pgp_stats(p, &st);
		printf("| %s | %.2f | %.2f | %.1f | %llu/%llu |\n", v[i].name,
		    be, bd, (double)sb.st_size / 1048576.0,
		    (unsigned long long)st.stored_blocks / (unsigned)(rep + 1),
		    (unsigned long long)st.deflated_blocks / (unsigned)(rep + 1));
		fflush(stdout);
		arca_pgp_free(p);
	}
	unlink(enc);
	unlink(dec);
	return 0;
}
