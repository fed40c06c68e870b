/*
 * arca_error.h: error codes returned by every libarca function.
 *
 * Functions return 0 on success and one of these negative values on failure;
 * the human-readable message is kept on the context (arca_ctx_error()).
 */
#ifndef ARCA_ERROR_H
#define ARCA_ERROR_H

enum arca_err {
	ARCA_OK = 0,
	ARCA_ERR_NOMEM = -1,	/* out of memory */
	ARCA_ERR_IO = -2,	/* local I/O failed (read, write, disk full) */
	ARCA_ERR_CORRUPT = -3,	/* data from the target is malformed */
	ARCA_ERR_AUTH = -4,	/* wrong passphrase or missing key */
	ARCA_ERR_NOTFOUND = -5,	/* a requested file or path does not exist */
	ARCA_ERR_USAGE = -6,	/* bad option, argument or URL */
	ARCA_ERR_RETRY = -7,	/* transient failure, worth retrying */
	ARCA_ERR_FAILED = -8,	/* this item failed; the run may go on */
	ARCA_ERR_FATAL = -9,	/* the run cannot continue */
	ARCA_ERR_UNSAFE = -10,	/* path policy refused a member (.., /, symlink) */
	ARCA_ERR_EXISTS = -11,	/* restore target exists and is not empty */
	ARCA_ERR_HASH = -12,	/* volume hash differs from the manifest */
	ARCA_ERR_CRYPTO = -13,	/* OpenPGP processing failed */
	ARCA_ERR_NOCHAIN = -14,	/* incremental asked for, but no chain exists */
	ARCA_ERR_LOCKED = -15,	/* another run holds the lock */
	ARCA_ERR_MISMATCH = -16,	/* hostname/source differ from the chain's */
	ARCA_ERR_BACKEND = -17,	/* the storage backend failed */
	ARCA_ERR_SOURCE = -18,	/* backup source missing or unreadable */
	ARCA_ERR_DIFFERS = -19,	/* verify found differences */
	ARCA_ERR_PARTIAL = -20,	/* run completed, but some files were skipped */
	ARCA_ERR_NODATA = -21,	/* nothing to restore / no backup found */
	ARCA_ERR_SIGNATURE = -22	/* --sign-key: volume unsigned, badly or foreign signed */
};

#endif /* !ARCA_ERROR_H */
