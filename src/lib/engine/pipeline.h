/*
 * pipeline.h: decoding a volume on a second thread while its plaintext is
 * read, for restores: the decryption (or gunzip) of volume N runs on one
 * core while the files it holds are written from the other, no plaintext
 * temp file is written, and a reader that has what it wants (a one-file
 * restore) stops without decoding the rest.
 *
 * Call only after the volume's hash was checked against its manifest:
 * the plaintext arrives before the OpenPGP MDC at its end is checked, so
 * it is trusted for its SHA1, and the MDC result only comes with
 * arca_decoder_finish().
 */
#ifndef ARCA_ENGINE_PIPELINE_H
#define ARCA_ENGINE_PIPELINE_H

struct arca_engine;
struct arca_decoder;
struct arca_source;

/*
 * Start decrypting in_fd (borrowed, from offset 0; it must stay open until
 * arca_decoder_free) as remote file `name` (borrowed, kept) on a new
 * thread, with the built-in OpenPGP engine.  *read_fd (owned by the
 * decoder) is a pipe giving the plaintext.  Returns 0; ARCA_ERR_USAGE when
 * this file is GnuPG's to decrypt (public keys, --sign-key): the engine
 * that serves it is not for several threads; ARCA_ERR_IO / ARCA_ERR_NOMEM
 * when no pipe or thread can be had.  On any error decode in place
 * instead, with arca_engine_decode.
 */
int arca_decoder_start(struct arca_engine *e, const char *name, int in_fd,
    struct arca_decoder **out, int *read_fd);

/*
 * A source reading the decoder's pipe in large pieces (what a tar reader
 * should use rather than the bare fd), owned by the caller; do not read
 * it after arca_decoder_finish/fail/free.  NULL when out of memory.
 */
struct arca_source *arca_decoder_source(struct arca_decoder *d);

/*
 * The reader reached the end of what it wants from a complete volume:
 * read and drop what is left, wait for the thread, and return its result:
 * 0, or its error (message on the context), e.g. ARCA_ERR_CORRUPT for a
 * bad MDC.
 */
int arca_decoder_finish(struct arca_decoder *d);

/*
 * The reader failed with error r (message on the context): stop the
 * thread and return the error that explains it best: the thread's, with
 * its message, if decoding failed first (the reader then saw a truncated
 * stream), else r with the reader's message kept.
 */
int arca_decoder_fail(struct arca_decoder *d, int r);

/* Stop (closing the pipe ends decoding early), wait and free; NULL is a
 * no-op.  The context's message is left as it was. */
void arca_decoder_free(struct arca_decoder *d);

#endif /* !ARCA_ENGINE_PIPELINE_H */
