/* peer.c - Lab 04 reference solution: the peer program, started with exec
 * by a process it shares no memory with; they meet through two named
 * channels.
 *
 * Usage: ./peer REQ REP
 * Opens the existing channels REQ and REP, answers every message on REQ
 * with the same bytes, letters in upper case, on REP, until an empty
 * message arrives; then prints "peer: answered N requests" and exits 0.
 * Exit status 2 for a wrong command line, 1 if a channel call fails.
 */
#include "chan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

/* Answer requests until the empty one. Returns how many, or -1. */
static long serve(struct chan *req, struct chan *rep)
{
    unsigned char buf[CHAN_MAX];
    long answered = 0;

    for (;;) {
        ssize_t n = chan_recv(req, buf, sizeof buf);
        if (n == -1) {
            perror("peer: chan_recv");
            return -1;
        }
        if (n == 0)
            return answered;
        for (ssize_t i = 0; i < n; i++)
            buf[i] = (unsigned char)toupper(buf[i]);
        if (chan_send(rep, buf, (size_t)n) == -1) {
            perror("peer: chan_send");
            return -1;
        }
        answered++;
    }
}

int main(int argc, char **argv)
{
    struct chan req, rep;
    long answered;

    if (argc != 3) {
        fprintf(stderr, "usage: %s REQ REP\n", argv[0]);
        return 2;
    }
    if (chan_open(&req, argv[1]) == -1) {
        perror(argv[1]);
        return EXIT_FAILURE;
    }
    if (chan_open(&rep, argv[2]) == -1) {
        perror(argv[2]);
        chan_close(&req);
        return EXIT_FAILURE;
    }
    answered = serve(&req, &rep);
    int closed = chan_close(&req);      /* close both, whatever happens */
    if (chan_close(&rep) == -1 || closed == -1) {
        perror("peer: chan_close");
        answered = -1;
    }
    if (answered == -1)
        return EXIT_FAILURE;
    if (printf("peer: answered %ld requests\n", answered) < 0)
        return EXIT_FAILURE;
    return EXIT_SUCCESS;
}
