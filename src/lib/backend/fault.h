/*
 * fault.h: ARCA_TEST_FAULTS, a fault-injecting wrapper around any backend,
 * for tests only (see fault.c and docs/RETENTION.md for the rule syntax).
 */
#ifndef ARCA_BACKEND_FAULT_H
#define ARCA_BACKEND_FAULT_H

struct arca_ctx;
struct arca_backend_ops;

/*
 * When ARCA_TEST_FAULTS is set (and not empty), replace *ops and *state by
 * a wrapper that passes every operation to them, except those a rule
 * picks, which fail, are truncated or are delayed.  The wrapper owns the
 * inner state from then on (its close closes both).  Without the variable
 * nothing changes.  Returns 0, ARCA_ERR_USAGE for a malformed variable
 * (*ops and *state unchanged), or ARCA_ERR_NOMEM.
 */
int arca_fault_wrap(struct arca_ctx *ctx, const struct arca_backend_ops **ops,
    void **state);

#endif /* !ARCA_BACKEND_FAULT_H */
