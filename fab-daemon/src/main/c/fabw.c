/*
 * fabw, native, for one user (docs/fab.md, "Processes"): the parent of one daemon, fabd or faba. It
 * does what dev.fabric.fab.daemon.Fabw does when no credentials change hands, in a megabyte or two
 * instead of a JVM: a session of its own, fabd/lock held for its whole life (fabd's fabw), the child
 * started with stdin from /dev/null and stdout/stderr appended to logs, FAB_PARENT_PID set so the child
 * can tie itself to this process; when the child ends: its pid directory removed, a fabd that asked
 * to be re-executed (status 75) started again, else fabd/exit and fabd/error recorded for the command
 * in progress (FABDFAIL), CHILD_DIED (SIGCHLD) rung to the waiting fab, and faba's process group killed.
 *
 * Everything else is the Java fabw's (bin/fabw-jvm, exec'd with the same arguments): --system (the
 * root service) and --user (the credential model: credentials change hands only in Java, as
 * documented), and any argument this program does not know. So privilege separation is exactly the
 * Java code's: this program changes no credentials and runs only as the user whose fab started it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum { FABDFAIL = 14, REEXEC = 75 };

static char **original_argv;

static void __attribute__((noreturn)) hand_over(void) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self - 1) {
        fprintf(stderr, "fabw: cannot find this program's own path (/proc/self/exe): %s\n", strerror(errno));
        exit(128);
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL) {
        exit(128);
    }
    *slash = '\0';
    char jvm[PATH_MAX];
    if (snprintf(jvm, sizeof jvm, "%s/fabw-jvm", self) >= (int)sizeof jvm) {
        exit(128);
    }
    original_argv[0] = jvm;
    execv(jvm, original_argv);
    fprintf(stderr, "fabw: cannot run %s: %s\n", jvm, strerror(errno));
    exit(128);
}

static void path_of(char *buf, const char *a, const char *b) {
    if (snprintf(buf, PATH_MAX, "%s/%s", a, b) >= PATH_MAX) {
        hand_over();
    }
}

/* Appends one tagged line to logs (LogSink: "O text\n"). */
static void log_line(const char *logs, const char *text) {
    int fd = open(logs, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    char line[1024];
    int n = snprintf(line, sizeof line, "O %s\n", text);
    if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) < 0) {
        /* A daemon never stops for a log line it could not write. */
    }
    close(fd);
}

static void put_u32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put_u64(unsigned char *p, uint64_t v) {
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* IpcFiles.replace: a sibling created exclusively, given mode, renamed over file. */
static void replace(const char *file, const unsigned char *bytes, size_t len, mode_t mode) {
    char tmp[PATH_MAX];
    const char *slash = strrchr(file, '/');
    if (slash == NULL || snprintf(tmp, sizeof tmp, "%.*s/.%s.%d.tmp", (int)(slash - file), file, slash + 1, (int)getpid()) >= (int)sizeof tmp) {
        return;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    bool ok = write(fd, bytes, len) == (ssize_t)len && fchmod(fd, mode) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, file) != 0) {
        unlink(tmp);
    }
}

/* The invocation id of a file starting with magic (args, fabd/exit), or false. */
static bool invocation_of(const char *file, const char *magic, uint64_t *id) {
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    unsigned char head[13];
    bool ok = read(fd, head, sizeof head) == (ssize_t)sizeof head && memcmp(head, magic, 4) == 0 && head[4] == 1;
    close(fd);
    if (ok) {
        *id = get_u64(head + 5);
    }
    return ok;
}

/* When fabd dies in the middle of a command, fabd/exit and fabd/error say so for that command. */
static void record_fabd_death(const char *project, pid_t pid, const char *why) {
    char args[PATH_MAX], exit_file[PATH_MAX], error_file[PATH_MAX];
    path_of(args, project, "args");
    path_of(exit_file, project, "fabd/exit");
    path_of(error_file, project, "fabd/error");
    uint64_t invocation, last;
    if (!invocation_of(args, "FABA", &invocation) || (invocation_of(exit_file, "FABX", &last) && last == invocation)) {
        return;
    }
    char message[512];
    int n = snprintf(message, sizeof message, "fabd (pid %d) ended abnormally (%s); the next fab starts a fresh one", (int)pid, why);
    if (n < 0 || (size_t)n >= sizeof message) {
        return;
    }
    unsigned char error[21 + sizeof message];
    memcpy(error, "FABE\1", 5);
    put_u64(error + 5, invocation);
    put_u32(error + 13, FABDFAIL);
    put_u32(error + 17, (uint32_t)n);
    memcpy(error + 21, message, (size_t)n);
    replace(error_file, error, 21 + (size_t)n, 0640);
    unsigned char exit_record[17];
    memcpy(exit_record, "FABX\1", 5);
    put_u64(exit_record + 5, invocation);
    put_u32(exit_record + 13, FABDFAIL);
    replace(exit_file, exit_record, sizeof exit_record, 0640);
}

/*
 * Removes name under the directory parent_fd, as IpcFiles.removeTree: every step through the
 * descriptor of the directory above it (fstatat, openat with O_NOFOLLOW, unlinkat), never through a
 * path, so a directory swapped for a link meanwhile loses the link, never what it points at.
 */
static void remove_at(int parent_fd, const char *name) {
    struct stat st;
    if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        unlinkat(parent_fd, name, 0);
        return;
    }
    int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        unlinkat(parent_fd, name, 0); /* swapped for a link or a file since the look above */
        return;
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            remove_at(dirfd(d), e->d_name);
        }
    }
    closedir(d);
    if (unlinkat(parent_fd, name, AT_REMOVEDIR) != 0 && errno == ENOTDIR) {
        unlinkat(parent_fd, name, 0);
    }
}

static int read_pid(const char *path) {
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    long v = strtol(buf, NULL, 10);
    return v > 0 && v <= INT_MAX ? (int)v : 0;
}

int main(int argc, char **argv) {
    original_argv = argv;
    const char *child = NULL, *project = NULL, *ipc_dir = NULL, *tmp_dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char **to = strcmp(argv[i], "--child") == 0     ? &child
                          : strcmp(argv[i], "--project") == 0 ? &project
                          : strcmp(argv[i], "--ipc-dir") == 0 ? &ipc_dir
                          : strcmp(argv[i], "--tmp-dir") == 0 ? &tmp_dir
                                                               : NULL;
        if (to == NULL || i + 1 >= argc) {
            hand_over(); /* --system, --user, and whatever the Java fabw answers with an error */
        }
        *to = argv[++i];
    }
    if (child == NULL || project == NULL || ipc_dir == NULL || tmp_dir == NULL
        || (strcmp(child, "fabd") != 0 && strcmp(child, "faba") != 0)) {
        hand_over();
    }
    bool fabd = strcmp(child, "fabd") == 0;
    setsid(); /* the client's Ctrl-C (to its process group) must not reach the daemons */

    char logs[PATH_MAX], lock[PATH_MAX], fab_pid[PATH_MAX];
    path_of(logs, project, "logs");
    path_of(lock, project, "fabd/lock");
    path_of(fab_pid, project, "fab/pid");
    if (fabd) {
        /* Held for fabw's whole life (never closed): while it is, a fabd pair runs for the project (Pairs). */
        int fd = open(lock, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "fabw: cannot lock %s: %s\n", lock, strerror(errno));
            return 128;
        }
        struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
        if (fcntl(fd, F_SETLK, &whole) != 0) {
            return 0; /* another fabd pair runs */
        }
    }
    char self[PATH_MAX], program[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        return 128;
    }
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    path_of(program, self, child);

    /* Taken with sigwaitinfo, never by a handler: no stop can fall between a check and a wait. */
    sigset_t waited, previous;
    sigemptyset(&waited);
    sigaddset(&waited, SIGTERM);
    sigaddset(&waited, SIGINT);
    sigaddset(&waited, SIGHUP);
    sigaddset(&waited, SIGCHLD);
    sigprocmask(SIG_BLOCK, &waited, &previous);
    int stop_signal = 0;

    for (;;) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "fabw: cannot start %s: %s\n", program, strerror(errno));
            return 128;
        }
        if (pid == 0) {
            int in = open("/dev/null", O_RDONLY);
            int out = open(logs, O_WRONLY | O_APPEND | O_CREAT, 0600);
            if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) {
                _exit(127);
            }
            char parent[24];
            snprintf(parent, sizeof parent, "%d", (int)getppid());
            setenv("FAB_PARENT_PID", parent, 1);
            sigprocmask(SIG_SETMASK, &previous, NULL);
            char *args[] = {program, "--project", (char *)project, "--ipc-dir", (char *)ipc_dir, "--tmp-dir", (char *)tmp_dir, NULL};
            execv(program, args);
            _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            int sig = sigwaitinfo(&waited, NULL);
            if (sig > 0 && sig != SIGCHLD && stop_signal == 0) {
                /* As the Java fabw's shutdown hook: the child goes first, then fabw. */
                stop_signal = sig;
                kill(pid, SIGTERM);
            }
        }
        char pids[PATH_MAX], name[16];
        path_of(pids, tmp_dir, "pid");
        int pids_fd = open(pids, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pids_fd >= 0) {
            snprintf(name, sizeof name, "%d", (int)pid);
            remove_at(pids_fd, name);
            close(pids_fd);
        }
        if (stop_signal != 0) {
            return 128 + stop_signal;
        }
        int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
        if (fabd && code == REEXEC) {
            continue;
        }
        char why[64];
        if (code > 128) {
            snprintf(why, sizeof why, "killed by signal %d", code - 128);
        } else {
            snprintf(why, sizeof why, "exit status %d", code);
        }
        if (fabd) {
            record_fabd_death(project, pid, why);
        }
        int fab = read_pid(fab_pid);
        if (fab > 0 && (kill(fab, 0) == 0 || errno == EPERM)) {
            char line[128];
            if (kill(fab, SIGCHLD) == 0) {
                snprintf(line, sizeof line, "fabw(%s) -> fab %d CHILD_DIED (SIGCHLD)", child, fab);
            } else {
                snprintf(line, sizeof line, "fabw(%s) -> fab %d CHILD_DIED not delivered: %s", child, fab, strerror(errno));
            }
            log_line(logs, line);
        }
        if (!fabd) {
            /* faba's commands are in this process group; with faba gone nobody would reap them. */
            kill(-getpid(), SIGKILL);
        }
        return 0;
    }
}
