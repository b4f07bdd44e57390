/*
 * The ceiling of a relay on this machine, for RelayBenchmark (docs/benchmarks.md): the least a
 * process can do to carry bytes between two TCP connections, to measure the bridge's relay against.
 *
 *   relay splice|copy [CHUNK]
 *
 * Listens on a free loopback port and prints it on a line; then, forever, accepts two connections
 * and copies each one's bytes to the other (a thread each way), until both have ended. `splice`
 * moves them socket to pipe to socket with splice(2), never into this process's memory (zero
 * copy in user space; the kernel still receives and sends every byte); `copy` reads and writes them
 * through a buffer, as the bridge does. CHUNK (65536, the bridge's slice) bounds one call.
 * Ends when its standard input does, so it never outlives the benchmark that started it.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int use_splice;
static size_t chunk = 65536;

struct leg {
    int from;
    int to;
};

static void fail(const char *what) {
    perror(what);
    exit(1);
}

static int pump_splice(int from, int to) {
    int pipe_ends[2];
    if (pipe2(pipe_ends, O_CLOEXEC) < 0) {
        fail("pipe2");
    }
    /* A pipe holds 16 pages unless told otherwise: room for one chunk at least. */
    if ((size_t) fcntl(pipe_ends[1], F_GETPIPE_SZ) < chunk && fcntl(pipe_ends[1], F_SETPIPE_SZ, (int) chunk) < 0) {
        fail("F_SETPIPE_SZ");
    }
    int result = 0;
    for (;;) {
        ssize_t in = splice(from, NULL, pipe_ends[1], NULL, chunk, SPLICE_F_MOVE | SPLICE_F_MORE);
        if (in <= 0) {
            result = in == 0 ? 0 : -errno;
            break;
        }
        while (in > 0) {
            ssize_t out = splice(pipe_ends[0], NULL, to, NULL, (size_t) in, SPLICE_F_MOVE | SPLICE_F_MORE);
            if (out <= 0) {
                result = out == 0 ? -EPIPE : -errno;
                goto done;
            }
            in -= out;
        }
    }
done:
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    return result;
}

static int pump_copy(int from, int to) {
    char *buffer = malloc(chunk);
    if (buffer == NULL) {
        fail("malloc");
    }
    int result = 0;
    for (;;) {
        ssize_t in = read(from, buffer, chunk);
        if (in <= 0) {
            result = in == 0 ? 0 : -errno;
            break;
        }
        for (ssize_t sent = 0; sent < in;) {
            ssize_t out = write(to, buffer + sent, (size_t) (in - sent));
            if (out <= 0) {
                result = out == 0 ? -EPIPE : -errno;
                goto done;
            }
            sent += out;
        }
    }
done:
    free(buffer);
    return result;
}

/* 0 at the end of the stream, -errno when a call failed (the cleanup after it may change errno). */
static void *pump(void *arg) {
    struct leg *leg = arg;
    int result = use_splice ? pump_splice(leg->from, leg->to) : pump_copy(leg->from, leg->to);
    if (result < 0 && result != -ECONNRESET && result != -EPIPE) {
        fprintf(stderr, "relay: %s\n", strerror(-result));
    }
    shutdown(leg->to, SHUT_WR);
    return NULL;
}

/* The benchmark closes our standard input when it is done with us, or dies. */
static void *watch_stdin(void *arg) {
    (void) arg;
    char ignored[64];
    while (read(STDIN_FILENO, ignored, sizeof ignored) > 0) {
    }
    exit(0);
}

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "splice") != 0 && strcmp(argv[1], "copy") != 0)) {
        fprintf(stderr, "usage: relay splice|copy [CHUNK]\n");
        return 2;
    }
    use_splice = strcmp(argv[1], "splice") == 0;
    if (argc > 2) {
        chunk = strtoul(argv[2], NULL, 10);
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *) &address, sizeof address) < 0 || listen(listener, 8) < 0
            || getsockname(listener, (struct sockaddr *) &address, &length) < 0) {
        fail("listen");
    }
    printf("%d\n", ntohs(address.sin_port));
    fflush(stdout);
    pthread_t watcher;
    pthread_create(&watcher, NULL, watch_stdin, NULL);
    for (;;) {
        int first = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        int second = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (first < 0 || second < 0) {
            fail("accept");
        }
        struct leg there = {first, second};
        struct leg back = {second, first};
        pthread_t threads[2];
        pthread_create(&threads[0], NULL, pump, &there);
        pthread_create(&threads[1], NULL, pump, &back);
        pthread_join(threads[0], NULL);
        pthread_join(threads[1], NULL);
        close(first);
        close(second);
    }
}
