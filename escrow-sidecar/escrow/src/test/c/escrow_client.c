/*
 * escrow_client.c: a small escrow client in C, written from the wire format in docs/escrow.md,
 * to show that a non-JVM service can use our escrowd. Run by CClientIT:
 *
 *     escrow_client PATH
 *
 * Each message is one sendmsg(2) of the C struct, with at most one descriptor as SCM_RIGHTS, as
 * the seed's library does. Replies are read by opcode, exactly the announced size.
 * Prints "ok: ..." per step; exits 1 with "FAIL: ..." on the first surprise.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum opcode { HEL, ADD, DEL, REP, TAG, INF, GET };
enum { MAX_PAYLOAD = 1 << 15, MAX_REPLY = 1 << 10 };

struct m_add { int16_t opcode; int16_t tag; int32_t idx; int32_t ufd; int32_t nob; uint8_t data[MAX_PAYLOAD]; };
struct m_get { int16_t opcode; int16_t tag; int32_t idx; };
struct m_tag { int16_t opcode; int16_t tag; };
struct m_inf { int16_t opcode; int16_t pad; int32_t nr; int32_t total; };
struct m_rep { int16_t opcode; int16_t rc; int16_t nob; char text[MAX_REPLY]; };

union reply {
        int16_t      opcode;
        struct m_add add;
        struct m_inf inf;
        struct m_rep rep;
};

_Static_assert(offsetof(struct m_add, data) == 16, "ADD header is 16 bytes");
_Static_assert(offsetof(struct m_rep, text) == 6, "REP header is 6 bytes");
_Static_assert(sizeof(struct m_inf) == 12, "INF is 12 bytes");
_Static_assert(sizeof(struct m_get) == 8, "GET is 8 bytes");

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

/* Reads exactly size bytes; a descriptor that comes with them is stored in *fd. */
static void recv_exact(int sock, void *buf, size_t size, int *fd) {
        size_t got = 0;
        while (got < size) {
                struct iovec  iov = { .iov_base = (char *)buf + got, .iov_len = size - got };
                union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                                     .msg_control = control.buf, .msg_controllen = sizeof control.buf };
                ssize_t n = recvmsg(sock, &mh, 0);
                if (n <= 0) {
                        fail(n == 0 ? "escrowd closed the session" : "recvmsg");
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                                memcpy(fd, CMSG_DATA(c), sizeof *fd);
                        }
                }
                got += (size_t)n;
        }
}

/* One reply, parsed by opcode; *fd is the descriptor that came with it, or -1. */
static void recv_reply(int sock, union reply *r, int *fd) {
        *fd = -1;
        memset(r, 0, sizeof *r);
        recv_exact(sock, r, 2, fd);
        switch (r->opcode) {
        case ADD:
                recv_exact(sock, (char *)r + 2, 14, fd);
                if (r->add.nob < 0 || r->add.nob > MAX_PAYLOAD) {
                        fail("ADD reply with a bad nob");
                }
                recv_exact(sock, r->add.data, (size_t)r->add.nob, fd);
                break;
        case REP:
                recv_exact(sock, (char *)r + 2, 4, fd);
                if (r->rep.nob < 0 || r->rep.nob > MAX_REPLY) {
                        fail("REP reply with a bad nob");
                }
                recv_exact(sock, r->rep.text, (size_t)r->rep.nob, fd);
                break;
        case INF:
                recv_exact(sock, (char *)r + 2, 10, fd);
                break;
        default:
                errno = EPROTO;
                fail("unexpected reply opcode");
        }
}

static void add(int sock, int16_t tag, int32_t idx, int fd, int32_t ufd, const char *payload) {
        static struct m_add m;
        union reply r;
        int got_fd;
        m.opcode = ADD;
        m.tag    = tag;
        m.idx    = idx;
        m.ufd    = ufd;
        m.nob    = (int32_t)strlen(payload);
        memcpy(m.data, payload, strlen(payload));
        send_msg(sock, &m, offsetof(struct m_add, data) + (size_t)m.nob, fd);
        recv_reply(sock, &r, &got_fd);
        if (r.opcode != REP || r.rep.rc != 0) {
                errno = EPROTO;
                fprintf(stderr, "ADD %d/%d answered %d \"%s\"\n", tag, idx, r.rep.rc, r.rep.text);
                fail("ADD was not accepted");
        }
}

static void get(int sock, int16_t tag, int32_t idx, union reply *r, int *fd) {
        struct m_get m = { .opcode = GET, .tag = tag, .idx = idx };
        send_msg(sock, &m, sizeof m, -1);
        recv_reply(sock, r, fd);
}

static struct m_inf tag_info(int sock, int16_t tag) {
        struct m_tag m = { .opcode = TAG, .tag = tag };
        union reply r;
        int fd;
        send_msg(sock, &m, sizeof m, -1);
        recv_reply(sock, &r, &fd);
        if (r.opcode != INF) {
                errno = EPROTO;
                fail("TAG was not answered with INF");
        }
        return r.inf;
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: %s PATH\n", argv[0]);
                return 2;
        }
        int sock = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un address = { .sun_family = AF_UNIX };
        strncpy(address.sun_path, argv[1], sizeof address.sun_path - 1);
        if (sock < 0 || connect(sock, (struct sockaddr *)&address, sizeof address) < 0) {
                fail("connect");
        }

        /* A pipe's write end goes into the escrow and comes back as a new descriptor. */
        int p[2];
        if (pipe(p) < 0) {
                fail("pipe");
        }
        add(sock, 2, 7, p[1], p[1], "written by C");
        printf("ok: ADD pipe\n");
        close(p[1]);

        union reply r;
        int fd;
        get(sock, 2, 7, &r, &fd);
        if (r.opcode != ADD || fd < 0 || r.add.nob != 12 || memcmp(r.add.data, "written by C", 12) != 0) {
                errno = EPROTO;
                fail("GET did not return the pipe and its payload");
        }
        char buf[32] = { 0 };
        if (write(fd, "via escrow", 10) != 10 || read(p[0], buf, sizeof buf) != 10 || strcmp(buf, "via escrow") != 0) {
                fail("the revived pipe does not reach the read end");
        }
        close(fd);
        printf("ok: GET pipe (ufd %d, new fd %d)\n", r.add.ufd, fd);

        struct m_inf info = tag_info(sock, 2);
        if (info.nr != 1 || info.total != 12) {
                errno = EPROTO;
                fail("TAG 2 is not 1 slot of 12 bytes");
        }
        printf("ok: TAG 2: %d slots, %d bytes\n", info.nr, info.total);

        /* Payload only: the seed promises it, the C daemon refuses it (ufd < 0), ours stores it. */
        add(sock, 2, 8, -1, -1, "p");
        if (tag_info(sock, 2).nr != 2) {
                errno = EPROTO;
                fail("the payload-only slot is not counted");
        }
        printf("ok: payload-only ADD\n");

        get(sock, 2, 99, &r, &fd);
        if (r.opcode != REP || r.rep.rc != -2) {
                errno = EPROTO;
                fail("GET of an empty slot did not answer -ENOENT");
        }
        printf("ok: GET empty slot %d \"%s\"\n", r.rep.rc, r.rep.text);

        /* A TCP socket the Java test put in the escrow: write to its client through it. */
        get(sock, 3, 1, &r, &fd);
        if (r.opcode != ADD || fd < 0 || r.add.nob != 9 || memcmp(r.add.data, "from Java", 9) != 0) {
                errno = EPROTO;
                fail("GET 3/1 did not return the Java socket");
        }
        if (write(fd, "hello from C\n", 13) != 13) {
                fail("write to the Java socket");
        }
        close(fd);
        printf("ok: GET Java socket\n");

        close(sock);
        return 0;
}
