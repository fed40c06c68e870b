/*
 * sftp_internal.h: state shared by the sftp:// backend (sftp.c) and its
 * SCP fallback for servers without the SFTP subsystem (scp.c).
 */
#ifndef ARCA_BACKEND_SFTP_INTERNAL_H
#define ARCA_BACKEND_SFTP_INTERNAL_H

#include <libssh2.h>
#include <libssh2_sftp.h>

struct arca_ctx;
struct arca_ssh;
struct arca_strlist;

struct sftp_state {
	struct arca_ctx *ctx;
	struct arca_ssh *ssh;
	LIBSSH2_SFTP *sftp;	/* NULL when not connected, or in SCP mode */
	char *path;		/* URL path: "/rel" or "//abs" */
	char *dir;		/* the target directory, absolute, once known */
	int create;		/* make a missing target (backups) */
	int scp_allowed;	/* scp:// (or --use-scp): SCP if no SFTP */
	int scp;		/* talking SCP + shell, not SFTP */
	long pid;		/* for temp names */
};

/* ".<name>.arca-tmp-<pid>": an upload in progress, never listed. */
int arca_sftp_is_tmp(const char *name);

/*
 * SCP mode (scp.c): the same contract as the backend operations, on a
 * connection where SFTP is unavailable.  arca_scp_ready connects if
 * needed and finds the target directory.
 */
int arca_scp_ready(struct sftp_state *st);
int arca_scp_put(struct sftp_state *st, const char *local_path,
    const char *name);
int arca_scp_get(struct sftp_state *st, const char *name,
    const char *local_path);
int arca_scp_list(struct sftp_state *st, struct arca_strlist *out);
int arca_scp_del(struct sftp_state *st, const char *name);

/* Close the backend state (the ops table's close). */
void arca_sftp_close(void *st);

#endif /* !ARCA_BACKEND_SFTP_INTERNAL_H */
