/*
 * escrow_bench.c: the request loop of issue 17's comparison, in C, so that the same client measures
 * the seed's C escrowd and ours (EscrowBenchmark#throughputAgainstTheCDaemon compiles and runs it):
 *
 *     escrow_bench PATH CYCLES
 *
 * Each cycle ADDs an accepted loopback TCP socket with a 16-byte payload at tag 0 idx 0, GETs it
 * back (closing the received copy) and DELs it: three requests, each timed from before its sendmsg
 * to after its reply. As the seed's library does, every message is one sendmsg(2) of the C struct
 * (the descriptor as SCM_RIGHTS) and every reply one recvmsg(2) of up to a whole message, which both
 * daemons answer with one message per write. Prints one line:
 *
 *     requests_per_s R p50_us P p99_us Q add_p50_us A get_p50_us G del_p50_us D
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum opcode { HEL, ADD, DEL, REP, TAG, INF, GET };
enum { MAX_PAYLOAD = 1 << 15 };

struct m_add { int16_t opcode; int16_t tag; int32_t idx; int32_t ufd; int32_t nob; uint8_t data[MAX_PAYLOAD]; };
struct m_get { int16_t opcode; int16_t tag; int32_t idx; };

static void fail(const char *what) {
        fprintf(stderr, "FAIL: %s (errno %d: %s)\n", what, errno, strerror(errno));
        exit(1);
}

static void send_msg(int sock, const void *msg, size_t size, int fd) {
        struct iovec  iov = { .iov_base = (void *)msg, .iov_len = size };
        struct msghdr mh  = { .msg_iov = &iov, .msg_iovlen = 1 };
        union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
        if (fd >= 0) {
                mh.msg_control    = control.buf;
                mh.msg_controllen = sizeof control.buf;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type  = SCM_RIGHTS;
                c->cmsg_len   = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        if (sendmsg(sock, &mh, 0) != (ssize_t)size) {
                fail("sendmsg");
        }
}

/* One reply in one recvmsg, as the seed's library reads it; returns its opcode, *fd the descriptor or -1. */
static int recv_msg(int sock, struct m_add *m, int *fd) {
        struct iovec  iov = { .iov_base = m, .iov_len = sizeof *m };
        union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
        *fd = -1;
        ssize_t n = recvmsg(sock, &mh, 0);
        if (n <= 0) {
                fail(n == 0 ? "escrowd closed the session" : "recvmsg");
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        memcpy(fd, CMSG_DATA(c), sizeof *fd);
                }
        }
        return m->opcode;
}

static double now_us(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double percentile(double *v, int n, double p) {
        qsort(v, (size_t)n, sizeof *v, compare);
        return v[(int)(n * p)];
}

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: escrow_bench PATH CYCLES\n");
                return 2;
        }
        int cycles = atoi(argv[2]);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strncpy(addr.sun_path, argv[1], sizeof addr.sun_path - 1);
        int sock = socket(AF_UNIX, SOCK_STREAM, 0);
        if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
                fail("connect to escrowd");
        }
        /* A loopback TCP connection: the descriptor that travels. */
        struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof in;
        int listener = socket(AF_INET, SOCK_STREAM, 0);
        if (listener < 0 || bind(listener, (struct sockaddr *)&in, sizeof in) != 0 || listen(listener, 1) != 0
            || getsockname(listener, (struct sockaddr *)&in, &len) != 0) {
                fail("listen on loopback");
        }
        int client = socket(AF_INET, SOCK_STREAM, 0);
        if (client < 0 || connect(client, (struct sockaddr *)&in, sizeof in) != 0) {
                fail("connect on loopback");
        }
        int accepted = accept(listener, NULL, NULL);
        if (accepted < 0) {
                fail("accept");
        }

        static struct m_add add, reply;
        struct m_get get = { .opcode = GET, .tag = 0, .idx = 0 };
        struct m_get del = { .opcode = DEL, .tag = 0, .idx = 0 };
        add.opcode = ADD;
        add.ufd    = accepted;
        add.nob    = 16;
        memcpy(add.data, "client 123456789", 16);
        double *all = malloc(sizeof(double) * 3 * (size_t)cycles);
        double *adds = malloc(sizeof(double) * (size_t)cycles);
        double *gets = malloc(sizeof(double) * (size_t)cycles);
        double *dels = malloc(sizeof(double) * (size_t)cycles);
        int fd;
        double started = now_us();
        for (int i = 0; i < cycles; i++) {
                double t0 = now_us();
                send_msg(sock, &add, 16 + 16, accepted);
                if (recv_msg(sock, &reply, &fd) != REP || ((int16_t *)&reply)[1] != 0) {
                        errno = EPROTO;
                        fail("ADD answered with an error");
                }
                double t1 = now_us();
                send_msg(sock, &get, sizeof get, -1);
                if (recv_msg(sock, &reply, &fd) != ADD || fd < 0 || reply.nob != 16) {
                        errno = EPROTO;
                        fail("GET did not answer the descriptor");
                }
                close(fd);
                double t2 = now_us();
                send_msg(sock, &del, sizeof del, -1);
                if (recv_msg(sock, &reply, &fd) != REP || ((int16_t *)&reply)[1] != 0) {
                        errno = EPROTO;
                        fail("DEL answered with an error");
                }
                double t3 = now_us();
                adds[i] = t1 - t0;
                gets[i] = t2 - t1;
                dels[i] = t3 - t2;
                all[3 * i] = adds[i];
                all[3 * i + 1] = gets[i];
                all[3 * i + 2] = dels[i];
        }
        double elapsed = now_us() - started;
        printf("requests_per_s %.0f p50_us %.1f p99_us %.1f add_p50_us %.1f get_p50_us %.1f del_p50_us %.1f\n",
               3.0 * cycles / (elapsed / 1e6), percentile(all, 3 * cycles, 0.5), percentile(all, 3 * cycles, 0.99),
               percentile(adds, cycles, 0.5), percentile(gets, cycles, 0.5), percentile(dels, cycles, 0.5));
        return 0;
}
