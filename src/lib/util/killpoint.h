/*
 * killpoint.h: a test hook that makes the process kill itself (SIGKILL) at
 * a named point, to prove that a run that dies at any instant leaves the
 * target and the archive dir consistent.
 *
 * ARCA_TEST_KILL_AT=<point>:<n> kills at the n-th time <point> is reached
 * (n from 1; ":<n>" may be left out for 1).  Without the variable every
 * call is a cheap no-op.  ARCA_TEST_STOP_AT=<point>:<n> stops the process
 * there (SIGSTOP) instead, holding its locks, until SIGCONT.  Points are
 * named where they are placed; the list is in docs/RETENTION.md.
 */
#ifndef ARCA_UTIL_KILLPOINT_H
#define ARCA_UTIL_KILLPOINT_H

/* Count one pass through point; SIGKILL ourselves if it is the chosen one. */
void arca_killpoint(const char *point);

#endif /* !ARCA_UTIL_KILLPOINT_H */
