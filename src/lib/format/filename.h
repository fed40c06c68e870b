/*
 * filename.h: duplicity's remote file names (spec §2).
 */
#ifndef ARCA_FORMAT_FILENAME_H
#define ARCA_FORMAT_FILENAME_H

#include <stddef.h>
#include <stdint.h>

enum arca_fkind {
	ARCA_FK_FULL_VOL = 1,	/* duplicity-full.T.volN.difftar */
	ARCA_FK_FULL_MANIFEST,	/* duplicity-full.T.manifest */
	ARCA_FK_INC_VOL,	/* duplicity-inc.T1.to.T2.volN.difftar */
	ARCA_FK_INC_MANIFEST,	/* duplicity-inc.T1.to.T2.manifest */
	ARCA_FK_FULL_SIG,	/* duplicity-full-signatures.T.sigtar */
	ARCA_FK_NEW_SIG		/* duplicity-new-signatures.T1.to.T2.sigtar */
};

struct arca_fname {
	enum arca_fkind kind;
	int64_t start;		/* inc/new-sig: start time; full: equals end */
	int64_t end;		/* full: its time; inc/new-sig: end time */
	unsigned vol;		/* volume number (volumes only), from 1 */
	int partial;		/* ".part" present */
	int encrypted;		/* ends in .gpg / .g */
	int compressed;		/* ends in gz / .z */
};

/* File name prefixes (--file-prefix*); NULL members mean "". */
struct arca_fprefix {
	const char *base;
	const char *archive;
	const char *manifest;
	const char *signature;
};

/*
 * Classify a file name as duplicity does (§2.4): long and short forms,
 * legacy times, prefixes.  pfx may be NULL.  Names ending in ".par2" are
 * never duplicity files.
 * Returns 1 and fills *out when recognised, 0 when not a duplicity file.
 */
int arca_fname_parse(const char *name, const struct arca_fprefix *pfx,
    struct arca_fname *out);

/*
 * Build the long name for f into buf (bufsz bytes): suffix ".gpg" when
 * f->encrypted, ".gz" when f->compressed (never for manifests), ".part"
 * before the suffix when f->partial.  Returns 0 or ARCA_ERR_USAGE if the
 * buffer is too small.
 */
int arca_fname_make(const struct arca_fname *f, const struct arca_fprefix *pfx,
    char *buf, size_t bufsz);

/*
 * The key used to pair archive-dir and remote copies (§14.2): the name with
 * one trailing .gpg, .g, .gz, .z or .part removed (repeatedly).  Writes into
 * buf; returns 0 or ARCA_ERR_USAGE if too small.
 */
int arca_fname_key(const char *name, char *buf, size_t bufsz);

#endif /* !ARCA_FORMAT_FILENAME_H */
