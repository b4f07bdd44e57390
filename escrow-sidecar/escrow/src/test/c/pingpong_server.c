/*
 * pingpong_server.c: the bare AF_UNIX ping-pong that issue 17's throughput benchmark runs beside the
 * two escrow daemons, as the same run's floor (EscrowBenchmark#throughputAgainstTheCDaemon compiles it):
 *
 *     pingpong_server PATH
 *
 * It serves escrow_bench.c with the least a daemon must do per request, one recvmsg(2) and one
 * sendmsg(2), and nothing else: no parsing beyond the opcode, no checks, one descriptor kept (a
 * descriptor that arrives replaces and closes the one kept). A GET is answered with a 32-byte ADD
 * carrying the kept descriptor (SCM_RIGHTS), every other request with REP 0 "". It is not an escrow:
 * the difference between it and a daemon is the daemon's own work per request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: pingpong_server PATH\n");
                return 2;
        }
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
        int listener = socket(AF_UNIX, SOCK_STREAM, 0);
        if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 16) != 0) {
                perror("pingpong_server: listen");
                return 1;
        }
        static uint8_t in[16 + 32768];
        static uint8_t add[32] = { 1, 0 };       /* ADD, tag 0, idx 0, ufd 0, nob 16, 16 payload bytes */
        static const uint8_t rep[7] = { 3, 0, 0, 0, 1, 0, 0 }; /* REP, rc 0, nob 1, "" */
        add[12] = 16;
        int kept = -1;
        for (;;) {
                int sock = accept(listener, NULL, NULL);
                if (sock < 0) {
                        continue;
                }
                for (;;) {
                        union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
                        struct iovec  iov = { .iov_base = in, .iov_len = sizeof in };
                        struct msghdr mh  = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
                        ssize_t n = recvmsg(sock, &mh, 0);
                        if (n <= 0) {
                                break;
                        }
                        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                        if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                                if (kept >= 0) {
                                        close(kept);
                                }
                                memcpy(&kept, CMSG_DATA(c), sizeof kept);
                        }
                        struct msghdr out = { .msg_iovlen = 1 };
                        struct iovec  oiov;
                        out.msg_iov = &oiov;
                        if (in[0] == 6 && kept >= 0) {   /* GET */
                                oiov.iov_base = add;
                                oiov.iov_len  = sizeof add;
                                out.msg_control    = control.buf;
                                out.msg_controllen = sizeof control.buf;
                                c = CMSG_FIRSTHDR(&out);
                                c->cmsg_level = SOL_SOCKET;
                                c->cmsg_type  = SCM_RIGHTS;
                                c->cmsg_len   = CMSG_LEN(sizeof(int));
                                memcpy(CMSG_DATA(c), &kept, sizeof kept);
                        } else {
                                oiov.iov_base = (void *)rep;
                                oiov.iov_len  = sizeof rep;
                        }
                        if (sendmsg(sock, &out, MSG_NOSIGNAL) < 0) {
                                break;
                        }
                }
                close(sock);
        }
}
