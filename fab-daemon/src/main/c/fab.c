/*
 * fab, the native client (docs/fab.md, "The native client"). It does what the Java client
 * (dev.fabric.fab.cli.Client) does on the path every build and every no-op takes while the project's
 * daemons run, in a few milliseconds instead of a JVM's start:
 *
 *   take fab/lock, publish fab/{cwd,out,err,pid}, truncate logs, replace args under a fresh
 *   invocation id, ring START (SIGUSR1) to faba, print what the daemons append to logs while it
 *   waits for DONE (SIGUSR2) or CHILD_DIED (SIGCHLD), checking fabd's and faba's pids every 100 ms,
 *   and exit with the status fabd/exit records for that invocation (FABDFAIL, 14, when a daemon died)
 *   once a ring came (or faba is gone): fabd writes fabd/exit before faba has installed .fab/state and
 *   the -k buildscript, which faba does before it rings DONE.
 *
 * Everything else it hands to the Java client by exec'ing bin/fab-jvm with the same arguments: the
 * daemons are not running (or -B restarts fabd), the credential model (a system.sock), --shutdown,
 * --list-daemons, --help, --version, and any command line, environment or IPC layout that the Java
 * client would answer with an error or a repair (a bad argument, a missing fabfile, a bad
 * FAB_IDLE_TIMEOUT, a missing or foreign IPC directory, a stale or unexpected entry in the tmp
 * directory). So every message and exit status of those paths is the Java client's own, and the
 * native path only ever runs where the Java client would have found nothing to say but the build's.
 * FAB_CLIENT=jvm hands every command over.
 *
 * Files are created as the Java client creates them: a whole-file replacement is a temporary
 * sibling created exclusively (O_EXCL, never through a link planted under its name), given its mode
 * and renamed over the file; fab/lock is opened without following a link.
 */
#define _GNU_SOURCE
#include "sha256.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum { FABDFAIL = 14, BADIPC = 3, FSERROR = 128 };

/* How often the client looks at the daemons' pids and the logs between rings (Client.CHECK_MILLIS). */
enum { CHECK_MILLIS = 100 };
/* The most of logs read at once, as the Java client. */
enum { DRAIN_MAX = 1 << 24 };

static char **original_argv;

/* What the command line asks of the client; everything else goes to fabd through args untouched. */
struct request {
    const char *fabfile;
    const char *ipc_dir;
    const char *tmp_dir;
    bool error_on, info_on, ipc_on;
};

static struct request req = {.fabfile = "fabfile", .error_on = true, .info_on = true};
static bool terminal;
static bool progress_open;

static void ipc_log(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* An IPC category line (+IPC), as the Java client prints them: "fab: ..." on standard output. */
static void ipc_log(const char *format, ...) {
    if (!req.ipc_on) {
        return;
    }
    va_list ap;
    va_start(ap, format);
    fputs("fab: ", stdout);
    vfprintf(stdout, format, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

/* Replaces this process with the Java client (bin/fab-jvm beside this binary), same arguments. */
static void __attribute__((noreturn)) hand_over(const char *why) {
    ipc_log("the native client hands this command to the Java client (%s)", why);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || (size_t)n >= sizeof self - 1) {
        fprintf(stderr, "fab: cannot find this program's own path (/proc/self/exe): %s\n", strerror(errno));
        exit(FSERROR);
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash == NULL) {
        exit(FSERROR);
    }
    *slash = '\0';
    char jvm[PATH_MAX];
    if (snprintf(jvm, sizeof jvm, "%s/fab-jvm", self) >= (int)sizeof jvm) {
        exit(FSERROR);
    }
    original_argv[0] = jvm;
    execv(jvm, original_argv);
    fprintf(stderr, "fab: cannot run the Java client %s: %s (a complete distribution has bin/fab-jvm beside bin/fab)\n", jvm,
            strerror(errno));
    exit(FSERROR);
}

/* A path of at most PATH_MAX bytes made from a format, else the Java client takes over. */
static void path_of(char *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void path_of(char *buf, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(buf, PATH_MAX, format, ap);
    va_end(ap);
    if (n < 0 || n >= PATH_MAX) {
        hand_over("a path longer than PATH_MAX");
    }
}

/* ---- the command line: the same reading as Request.parse, or the Java client ---- */

static const char *const CATEGORIES[] = {"ERROR",  "WARN",   "INFO",    "BPINFO",  "BPEXEC", "BPCMD",  "SELECT",
                                         "INVOKE", "ARGS",   "NODE",    "BPEVAL",  "BPDUMP", "INVALID", "DSCINFO",
                                         "DSCEXEC", "DSCCMD", "DSCRES", "PARAMS",  "VAR",    "LISTS",  "IPC"};

/* Log.apply: +NAME/-NAME with NAME all upper case is a log category; true when arg is one. */
static bool log_category(const char *arg) {
    size_t n = strlen(arg);
    if (n < 3 || (arg[0] != '+' && arg[0] != '-')) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if ((unsigned char)arg[i] >= 0x80) {
            hand_over("a non-ASCII argument"); /* Java's isUpperCase knows more letters than A-Z */
        }
        if (!isupper((unsigned char)arg[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < sizeof CATEGORIES / sizeof *CATEGORIES; i++) {
        if (strcmp(arg + 1, CATEGORIES[i]) == 0) {
            bool on = arg[0] == '+';
            if (i == 0) {
                req.error_on = on;
            } else if (i == 2) {
                req.info_on = on;
            } else if (i == 20) {
                req.ipc_on = on;
            }
            return true;
        }
    }
    hand_over("an unknown log category");
}

/* -j's value as picocli and Request.of accept it: a decimal int of -1 or more. */
static bool valid_jobs(const char *v) {
    if (*v == '\0' || strlen(v) > 9) {
        return false;
    }
    for (const char *p = v; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
    }
    return true;
}

/* -v's value as VariableOverride.parse accepts it: NAME=VALUE or NAME+=VALUE, NAME a variable name. */
static bool valid_variable(const char *v) {
    const char *eq = strchr(v, '=');
    if (eq == NULL || eq == v) {
        return false;
    }
    const char *end = eq[-1] == '+' ? eq - 1 : eq;
    const char *start = v;
    while (start < end && isspace((unsigned char)*start)) {
        start++;
    }
    while (end > start && isspace((unsigned char)end[-1])) {
        end--;
    }
    if (start < end && *start == '$') {
        start++;
    }
    if (start == end || !(isalpha((unsigned char)*start) || *start == '_')) {
        return false;
    }
    for (const char *p = start; p < end; p++) {
        if (!(isalnum((unsigned char)*p) || *p == '_')) {
            return false;
        }
    }
    return true;
}

/*
 * The command line the native path understands: the options the Java client passes through to fabd,
 * with their values as separate arguments; anything else (help, version, --shutdown, -B, a value
 * picocli would refuse, an option given twice, @files) is the Java client's.
 */
static void parse(int argc, char **argv) {
    bool seen_f = false, seen_j = false, seen_k = false, seen_p = false, seen_cycles = false, seen_ipc = false, seen_tmp = false;
    /* Log categories first, wherever they stand (Request.parse): +IPC then shows why a command is handed over. */
    for (int i = 1; i < argc; i++) {
        log_category(argv[i]);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (log_category(a)) {
            continue;
        }
        bool *once = NULL;
        const char **value_to = NULL;
        bool takes_value = false;
        if (strcmp(a, "-f") == 0) {
            once = &seen_f;
            value_to = &req.fabfile;
            takes_value = true;
        } else if (strcmp(a, "-j") == 0) {
            once = &seen_j;
            takes_value = true;
        } else if (strcmp(a, "-k") == 0) {
            once = &seen_k;
            takes_value = true;
        } else if (strcmp(a, "--ipc-dir") == 0) {
            once = &seen_ipc;
            value_to = &req.ipc_dir;
            takes_value = true;
        } else if (strcmp(a, "--tmp-dir") == 0) {
            once = &seen_tmp;
            value_to = &req.tmp_dir;
            takes_value = true;
        } else if (strcmp(a, "-K") == 0 || strcmp(a, "-I") == 0 || strcmp(a, "-v") == 0) {
            takes_value = true;
        } else if (strcmp(a, "-p") == 0) {
            once = &seen_p;
        } else if (strcmp(a, "--cycles-warn") == 0 || strcmp(a, "--cycles-fail") == 0 || strcmp(a, "--cycles-deal") == 0) {
            once = &seen_cycles;
        } else if (a[0] == '@') {
            hand_over("an @ argument, which picocli may read as a file of arguments");
        } else if (a[0] == '-' && a[1] != '\0') {
            bool node_set = strlen(a) == 2 && strchr("txnbqidCF", a[1]) != NULL;
            if (!node_set) {
                hand_over(a); /* -B, --shutdown, --list-daemons, --help, attached values, and errors */
            }
            continue;
        } else {
            continue; /* a selector, a +node-set */
        }
        if (once != NULL) {
            if (*once) {
                hand_over("an option given twice");
            }
            *once = true;
        }
        if (takes_value) {
            if (i + 1 >= argc || argv[i + 1][0] == '-' || argv[i + 1][0] == '@' || log_category(argv[i + 1])) {
                hand_over("an option without a plain value");
            }
            const char *v = argv[++i];
            if (strcmp(a, "-j") == 0 && !valid_jobs(v)) {
                hand_over("-j");
            }
            if (strcmp(a, "-v") == 0 && !valid_variable(v)) {
                hand_over("-v");
            }
            if (value_to != NULL) {
                *value_to = v;
            }
        }
    }
}

/* FAB_IDLE_TIMEOUT as IdleTimeout.of accepts it (digits, then s, m or h); anything else: the Java client says why. */
static bool idle_timeout_valid(void) {
    const char *v = getenv("FAB_IDLE_TIMEOUT");
    if (v == NULL) {
        return true;
    }
    size_t n = strlen(v);
    if (n == 0 || n > 12) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        bool unit = i == n - 1 && i > 0 && strchr("smh", v[i]) != NULL;
        if (!isdigit((unsigned char)v[i]) && !unit) {
            return false;
        }
    }
    return true;
}

/* ---- paths ---- */

/* Path.toAbsolutePath().normalize(): joined to cwd when relative, "." and "x/.." removed, no links resolved. */
static void absolute_normal(char *out, const char *cwd, const char *path) {
    char joined[PATH_MAX];
    if (path[0] == '/') {
        path_of(joined, "%s", path);
    } else {
        path_of(joined, "%s/%s", cwd, path);
    }
    size_t len = 0;
    out[0] = '\0';
    char *save = NULL;
    for (char *part = strtok_r(joined, "/", &save); part != NULL; part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0) {
            continue;
        }
        if (strcmp(part, "..") == 0) {
            char *slash = strrchr(out, '/');
            if (slash != NULL) {
                *slash = '\0';
                len = (size_t)(slash - out);
            }
            continue;
        }
        size_t plen = strlen(part);
        if (len + 1 + plen >= PATH_MAX) {
            hand_over("a path longer than PATH_MAX");
        }
        out[len++] = '/';
        memcpy(out + len, part, plen + 1);
        len += plen;
    }
    if (len == 0) {
        strcpy(out, "/");
    }
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* IpcRoots.usable: the default root exists and is writable (or serves system.sock), or its parent is writable. */
static bool usable(const char *dir, const char *parent) {
    if (is_dir(dir)) {
        char sock[PATH_MAX];
        path_of(sock, "%s/system.sock", dir);
        return access(dir, W_OK) == 0 || access(sock, F_OK) == 0;
    }
    return is_dir(parent) && access(parent, W_OK) == 0;
}

/*
 * IpcRoots.resolve for one root: the option, the environment, the default, or the per-user fallback
 * /tmp/fab-<uid>/<sub>, used here only when it is already a directory of ours that only we may write
 * (creating it, and refusing a planted one, is the Java client's).
 */
static void root(char *out, const char *cwd, const char *option, const char *env, const char *fallback, const char *parent,
                 const char *sub) {
    const char *chosen = option != NULL ? option : getenv(env);
    char fallback_dir[PATH_MAX];
    if (chosen == NULL) {
        if (usable(fallback, parent)) {
            chosen = fallback;
        } else {
            char mine[PATH_MAX];
            path_of(mine, "/tmp/fab-%u", (unsigned)getuid());
            struct stat st;
            if (lstat(mine, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 022) != 0) {
                hand_over("fab's per-user directory in /tmp is missing or not as expected");
            }
            path_of(fallback_dir, "%s/%s", mine, sub);
            chosen = fallback_dir;
        }
    }
    absolute_normal(out, cwd, chosen);
}

/* ---- small file operations, as IpcFiles ---- */

static void __attribute__((noreturn)) fail(int status, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* An error the Java client would report from an exception: "fab: ..." on standard error (ERROR), then exit. */
static void fail(int status, const char *format, ...) {
    if (progress_open) {
        fputc('\n', stdout);
    }
    fflush(stdout);
    if (req.error_on) {
        va_list ap;
        va_start(ap, format);
        fputs("fab: ", stderr);
        vfprintf(stderr, format, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    exit(status);
}

/* Writes all of buf, or false. */
static bool write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* The temporary sibling ".<name>.<pid>.tmp" of path (IpcFiles' naming). */
static void temporary_of(char *tmp, const char *path) {
    const char *slash = strrchr(path, '/');
    int dir_len = (int)(slash - path);
    path_of(tmp, "%.*s/.%s.%d.tmp", dir_len, path, slash + 1, (int)getpid());
}

/* IpcFiles.replace: a sibling created exclusively, given mode, renamed over file. */
static void replace(const char *file, const void *bytes, size_t len, mode_t mode) {
    char tmp[PATH_MAX];
    temporary_of(tmp, file);
    if (unlink(tmp) != 0 && errno != ENOENT) {
        fail(FSERROR, "cannot write %s: %s", file, strerror(errno));
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        fail(FSERROR, "cannot write %s: %s", file, strerror(errno));
    }
    bool ok = write_all(fd, bytes, len) && fchmod(fd, mode) == 0;
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok || rename(tmp, file) != 0) {
        if (ok) {
            saved = errno;
        }
        unlink(tmp);
        fail(FSERROR, "cannot write %s: %s", file, strerror(saved));
    }
}

/* IpcFiles.link: the symbolic link file -> target, replaced at once. */
static void link_to(const char *file, const char *target) {
    char tmp[PATH_MAX];
    temporary_of(tmp, file);
    if ((unlink(tmp) != 0 && errno != ENOENT) || symlink(target, tmp) != 0 || rename(tmp, file) != 0) {
        fail(FSERROR, "cannot link %s to %s: %s", file, target, strerror(errno));
    }
}

/* The whole of a small file (at most cap bytes) into buf, NUL-terminated; its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    size_t len = 0;
    while (len < cap - 1) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

/* An ascii pid file (fabd/pgid, fabd/faba), or 0. */
static int read_pid(const char *path) {
    char buf[32];
    if (read_small(path, buf, sizeof buf) <= 0) {
        return 0;
    }
    char *end;
    long v = strtol(buf, &end, 10);
    while (*end == '\n' || *end == ' ' || *end == '\t' || *end == '\r') {
        end++;
    }
    return *end == '\0' && v > 0 && v <= INT_MAX ? (int)v : 0;
}

/* kill(pid, 0): EPERM still means the process exists (Libc.alive). */
static bool alive(int pid) {
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* ---- the state of the project's daemons ---- */

/* Whether fabd's fabw holds fabd/lock (Pairs.fabdPairRunning): a shared lock on it would conflict. */
static bool fabd_pair_running(const char *project) {
    char lock[PATH_MAX];
    path_of(lock, "%s/fabd/lock", project);
    int fd = open(lock, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    struct flock probe = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    bool held = fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
    close(fd);
    return held;
}

/* Pairs.isFabaOf: pid runs faba (the Java daemon) with --project <project>, from /proc/<pid>/cmdline. */
static bool is_faba_of(int pid, const char *project) {
    if (pid <= 0) {
        return false;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    static char cmdline[1 << 16];
    ssize_t n = read_small(path, cmdline, sizeof cmdline);
    if (n <= 0) {
        return false;
    }
    bool faba = false, ours = false;
    const char *previous = "";
    for (const char *p = cmdline; p < cmdline + n; p += strlen(p) + 1) {
        faba |= strcmp(p, "dev.fabric.fab.daemon.Faba") == 0;
        ours |= strcmp(previous, "--project") == 0 && strcmp(p, project) == 0;
        previous = p;
    }
    return faba && ours;
}

/* The pid a per-process link points into (<fabtmpdir>/pid/<pid>/dsc), or 0 (IpcDirectory.linkedPid). */
static int linked_pid(const char *link) {
    char target[PATH_MAX];
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) {
        return 0;
    }
    target[n] = '\0';
    char *slash = strrchr(target, '/');
    if (slash == NULL) {
        return 0;
    }
    *slash = '\0';
    char *name = strrchr(target, '/');
    return name == NULL ? 0 : (int)strtol(name + 1, NULL, 10);
}

/*
 * TmpDirectory.prepare finds nothing to do: <fabtmpdir> holds pid/ only, pid/ only directories of
 * running pids. Otherwise the Java client reports (BADTMP) or removes what is there.
 */
static bool tmp_clean(const char *tmp) {
    DIR *top = opendir(tmp);
    if (top == NULL) {
        return false;
    }
    bool clean = true;
    for (struct dirent *e; clean && (e = readdir(top)) != NULL;) {
        clean = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, "pid") == 0;
    }
    closedir(top);
    char pids[PATH_MAX];
    path_of(pids, "%s/pid", tmp);
    DIR *d = clean ? opendir(pids) : NULL;
    if (d == NULL) {
        return false;
    }
    for (struct dirent *e; clean && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        size_t n = strlen(e->d_name);
        bool numeric = n > 0 && n <= 10 && e->d_name[0] != '0' && strspn(e->d_name, "0123456789") == n;
        clean = numeric && e->d_type == DT_DIR && alive((int)strtol(e->d_name, NULL, 10));
    }
    closedir(d);
    return clean;
}

/* IpcDirectory.createPrivate finds nothing to do: the layout is there, ours, private, and links our fabfile. */
static bool laid_out(const char *project, const char *fabfile) {
    struct stat st;
    if (lstat(project, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 07777) != 0700) {
        return false;
    }
    const char *const dirs[] = {"fabd", "fab"};
    for (size_t i = 0; i < 2; i++) {
        char p[PATH_MAX];
        path_of(p, "%s/%s", project, dirs[i]);
        if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_mode & 07777) != 0700) {
            return false;
        }
    }
    const char *const files[] = {"fabd/lock", "fab/lock", "logs"};
    for (size_t i = 0; i < 3; i++) {
        char p[PATH_MAX];
        path_of(p, "%s/%s", project, files[i]);
        if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600) {
            return false;
        }
    }
    char link[PATH_MAX], target[PATH_MAX];
    path_of(link, "%s/fabfile", project);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) {
        return false;
    }
    target[n] = '\0';
    return strcmp(target, fabfile) == 0;
}

/* ---- IPC records (IpcCodec: magic, version 1, big-endian fields, strings as length and UTF-8) ---- */

struct buffer {
    unsigned char *bytes;
    size_t len, cap;
};

static void put(struct buffer *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap == 0 ? 256 : b->cap;
        while (cap < b->len + n) {
            cap *= 2;
        }
        unsigned char *grown = realloc(b->bytes, cap);
        if (grown == NULL) {
            fail(FSERROR, "out of memory");
        }
        b->bytes = grown;
        b->cap = cap;
    }
    memcpy(b->bytes + b->len, p, n);
    b->len += n;
}

static void put_u32(struct buffer *b, uint32_t v) {
    unsigned char be[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    put(b, be, 4);
}

static void put_u64(struct buffer *b, uint64_t v) {
    put_u32(b, (uint32_t)(v >> 32));
    put_u32(b, (uint32_t)v);
}

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(const unsigned char *p) {
    return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

/* The args record: FABA, the invocation id, the raw argv (fabd parses it again with the Java code). */
static struct buffer encode_args(uint64_t id, int argc, char **argv) {
    struct buffer b = {0};
    put(&b, "FABA\1", 5);
    put_u64(&b, id);
    put_u32(&b, (uint32_t)(argc - 1));
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        put_u32(&b, (uint32_t)n);
        put(&b, argv[i], n);
    }
    return b;
}

/* Well-formed UTF-8 as Java's strict decoder takes it: no overlong forms, surrogates or code points past U+10FFFF. */
static bool utf8(const unsigned char *s) {
    while (*s != 0) {
        unsigned c = *s++;
        int more;
        unsigned min, cp;
        if (c < 0x80) {
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, min = 0x80, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, min = 0x800, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        for (; more > 0; more--) {
            if ((*s & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (*s++ & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
    }
    return true;
}

/* fab/env (FABV id umask count, NAME=VALUE strings): what faba runs this invocation's formulas with. Entries that
 * are not UTF-8 are left out, as the Java client cannot pass them either. */
static struct buffer encode_env(uint64_t id, mode_t mask) {
    extern char **environ;
    uint32_t count = 0;
    for (char **e = environ; *e != NULL; e++) {
        count += utf8((const unsigned char *)*e);
    }
    struct buffer b = {0};
    put(&b, "FABV\1", 5);
    put_u64(&b, id);
    put_u32(&b, (uint32_t)mask);
    put_u32(&b, count);
    for (char **e = environ; *e != NULL; e++) {
        if (utf8((const unsigned char *)*e)) {
            size_t n = strlen(*e);
            put_u32(&b, (uint32_t)n);
            put(&b, *e, n);
        }
    }
    return b;
}

static void __attribute__((noreturn)) corrupt(const char *file, const char *what) {
    fail(BADIPC, "corrupt IPC file %s (%s): another program wrote it, or a different fab version; run fab again, or fab -B to restart the daemons",
         file, what);
}

/* fabd/exit (FABX id status); false when it is not there yet. */
static bool read_exit(const char *file, uint64_t *id, int *status) {
    unsigned char b[64];
    ssize_t n = read_small(file, (char *)b, sizeof b);
    if (n < 0) {
        return false;
    }
    if (n < 5 || memcmp(b, "FABX", 4) != 0) {
        corrupt(file, "not a FABX record");
    }
    if (b[4] != 1) {
        corrupt(file, "a version this fab does not read");
    }
    if (n != 17) {
        corrupt(file, n < 17 ? "truncated" : "unexpected trailing bytes");
    }
    *id = get_u64(b + 5);
    *status = (int)get_u32(b + 13);
    return true;
}

/* fabd/error's message for invocation id (FABE id code message), or NULL. */
static char *read_error(const char *file, uint64_t id) {
    static char b[(1 << 20) + 64];
    ssize_t n = read_small(file, b, sizeof b);
    if (n < 0) {
        return NULL;
    }
    if (n < 21 || memcmp(b, "FABE\1", 5) != 0) {
        corrupt(file, "not a FABE record");
    }
    uint32_t len = get_u32((unsigned char *)b + 17);
    if ((size_t)n != 21 + (size_t)len) {
        corrupt(file, "truncated or with trailing bytes");
    }
    if (get_u64((unsigned char *)b + 5) != id || len == 0) {
        return NULL;
    }
    b[n] = '\0';
    return b + 21;
}

/* ---- what the daemons say: logs ---- */

static void end_progress(void) {
    if (progress_open) {
        fputc('\n', stdout);
        progress_open = false;
    }
}

/* One logs line (LogLine.decode): P progress, O stdout, E (or untagged) stderr. */
static void print_line(const char *line, size_t len) {
    char channel = 'E';
    if (len >= 2 && line[1] == ' ' && strchr("POE", line[0]) != NULL && line[0] != '\0') {
        channel = line[0];
        line += 2;
        len -= 2;
    }
    if (channel == 'P') {
        if (terminal) {
            fputs("\r\033[K", stdout);
            fwrite(line, 1, len, stdout);
            fflush(stdout);
            progress_open = true;
        } else {
            fwrite(line, 1, len, stdout);
            fputc('\n', stdout);
        }
    } else if (channel == 'O') {
        end_progress();
        fwrite(line, 1, len, stdout);
        fputc('\n', stdout);
    } else {
        end_progress();
        fflush(stdout);
        fwrite(line, 1, len, stderr);
        fputc('\n', stderr);
    }
}

/* Prints the complete lines appended to logs since offset; returns the new offset. */
static off_t drain(const char *logs, off_t offset) {
    int fd = open(logs, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return offset;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return offset;
    }
    if (st.st_size < offset) {
        offset = 0;
    }
    if (st.st_size == offset) {
        close(fd);
        return offset;
    }
    size_t want = (size_t)(st.st_size - offset) < DRAIN_MAX ? (size_t)(st.st_size - offset) : DRAIN_MAX;
    char *buf = malloc(want);
    if (buf == NULL) {
        close(fd);
        return offset;
    }
    ssize_t got = pread(fd, buf, want, offset);
    close(fd);
    if (got <= 0) {
        free(buf);
        return offset;
    }
    char *last = memrchr(buf, '\n', (size_t)got);
    if (last != NULL) {
        for (char *line = buf; line <= last;) {
            char *nl = memchr(line, '\n', (size_t)(last - line) + 1);
            print_line(line, (size_t)(nl - line));
            line = nl + 1;
        }
        fflush(stdout);
        offset += last - buf + 1;
    }
    free(buf);
    return offset;
}

/* What descriptor fd is: a terminal or file path, else the /proc path to it (Client.terminalOf). */
static void terminal_of(char *out, int fd) {
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(self, out, PATH_MAX - 1);
    if (n > 0) {
        out[n] = '\0';
        if (out[0] == '/' && strstr(out, "(deleted)") == NULL) {
            return;
        }
    }
    path_of(out, "/proc/%d/fd/%d", (int)getpid(), fd);
}

static int daemon_died(const char *logs, const char *who, int pid) {
    end_progress();
    fflush(stdout);
    if (req.error_on) {
        fprintf(stderr, "fab: %s (pid %d) ended abnormally while this command waited for it; its log is in %s; the next fab starts a fresh one\n",
                who, pid, logs);
    }
    return FABDFAIL;
}

static const char *signal_name(int sig) {
    return sig == SIGUSR2 ? "DONE (SIGUSR2)" : "CHILD_DIED (SIGCHLD)";
}

/* One command: publish who waits, write args, ring START, wait for DONE or a daemon's death. */
static int command(const char *project, const char *cwd, int argc, char **argv) {
    char path[PATH_MAX], target[PATH_MAX], logs[PATH_MAX], exit_file[PATH_MAX], error_file[PATH_MAX];
    path_of(logs, "%s/logs", project);
    path_of(exit_file, "%s/fabd/exit", project);
    path_of(error_file, "%s/fabd/error", project);

    /* Blocked before the pid is published: a ring waits for sigtimedwait instead of killing the client. */
    sigset_t rings;
    sigemptyset(&rings);
    sigaddset(&rings, SIGUSR2);
    sigaddset(&rings, SIGCHLD);
    sigprocmask(SIG_BLOCK, &rings, NULL);

    path_of(path, "%s/fab/cwd", project);
    link_to(path, cwd);
    path_of(path, "%s/fab/out", project);
    terminal_of(target, 1);
    link_to(path, target);
    path_of(path, "%s/fab/err", project);
    terminal_of(target, 2);
    link_to(path, target);
    char pid[24];
    int pid_len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    path_of(path, "%s/fab/pid", project);
    replace(path, pid, (size_t)pid_len, 0644);
    int fd = open(logs, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 0) != 0) {
        fail(FSERROR, "cannot truncate %s: %s", logs, strerror(errno));
    }
    close(fd);

    uint64_t id;
    if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {
        id = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
    }
    /* The environment and umask this invocation's formulas run with, as under make; the developer's alone (it may
     * hold secrets), not in args, which fabd reads. */
    mode_t mask = umask(0);
    umask(mask);
    struct buffer env = encode_env(id, mask);
    path_of(path, "%s/fab/env", project);
    replace(path, env.bytes, env.len, 0600);
    free(env.bytes);
    struct buffer args = encode_args(id, argc, argv);
    path_of(path, "%s/args", project);
    replace(path, args.bytes, args.len, 0644);
    free(args.bytes);
    ipc_log("wrote %s (invocation %" PRIx64 ", %d argument(s))", path, id, argc - 1);

    path_of(path, "%s/fabd/faba", project);
    int faba = read_pid(path);
    path_of(path, "%s/fabd/pgid", project);
    int fabd = read_pid(path);
    if (kill(faba, SIGUSR1) != 0 || faba <= 0) {
        int e = faba <= 0 ? ESRCH : errno;
        ipc_log("fab -> faba %d START not delivered: kill failed: %s (%s)", faba, strerrorname_np(e), strerror(e));
        return daemon_died(logs, "faba", faba);
    }
    ipc_log("fab -> faba %d START (SIGUSR1)", faba);

    off_t offset = 0;
    const struct timespec check = {.tv_sec = 0, .tv_nsec = CHECK_MILLIS * 1000000L};
    for (;;) {
        int sig = sigtimedwait(&rings, NULL, &check);
        if (sig > 0) {
            ipc_log("fab <- %s", signal_name(sig));
        }
        offset = drain(logs, offset);
        uint64_t done;
        int status;
        /* fabd/exit alone is not the end: faba installs .fab/state and the -k buildscript after it, then rings
         * DONE (fabw rings CHILD_DIED after it records a death there). So it is read on a ring, or once faba is gone. */
        if ((sig > 0 || !alive(faba)) && read_exit(exit_file, &done, &status) && done == id) {
            ipc_log("read %s: status %d", exit_file, status);
            drain(logs, offset);
            end_progress();
            fflush(stdout);
            if (status != 0) {
                const char *message = read_error(error_file, id);
                if (message != NULL && req.error_on) {
                    fprintf(stderr, "fab: %s\n", message);
                }
            }
            return status;
        }
        if (!alive(fabd) && fabd_pair_running(project)) {
            /* fabd ended but its fabw holds on: re-executing it (a fabfile changed), or recording its death. */
            path_of(path, "%s/fabd/pgid", project);
            fabd = read_pid(path);
            continue;
        }
        if (!alive(fabd)) {
            drain(logs, offset);
            return daemon_died(logs, "fabd", fabd);
        }
        if (!alive(faba)) {
            drain(logs, offset);
            return daemon_died(logs, "faba", faba);
        }
    }
}

int main(int argc, char **argv) {
    original_argv = argv;
    const char *client = getenv("FAB_CLIENT");
    if (client != NULL && strcmp(client, "jvm") == 0) {
        hand_over("FAB_CLIENT=jvm");
    }
    parse(argc, argv);
    terminal = isatty(0) && isatty(1);

    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) {
        hand_over("no current directory");
    }
    char fabfile[PATH_MAX], canonical[PATH_MAX];
    absolute_normal(fabfile, cwd, req.fabfile);
    struct stat st;
    if (stat(fabfile, &st) != 0 || !S_ISREG(st.st_mode) || realpath(fabfile, canonical) == NULL) {
        hand_over("no fabfile"); /* NOINVOKE, with the Java client's words */
    }
    char ipc_root[PATH_MAX], tmp_root[PATH_MAX];
    root(ipc_root, cwd, req.ipc_dir, "FAB_IPC_DIR", "/var/run/fab", "/var/run", "run");
    root(tmp_root, cwd, req.tmp_dir, "FAB_TMP_DIR", "/var/tmp/fab", "/var/tmp", "tmp");
    if (!idle_timeout_valid()) {
        hand_over("FAB_IDLE_TIMEOUT");
    }
    unsigned char digest[32];
    sha256(canonical, strlen(canonical), digest);
    char project[PATH_MAX];
    path_of(project, "%s/%02x%02x%02x%02x%02x%02x%02x%02x", ipc_root, digest[0], digest[1], digest[2], digest[3], digest[4],
            digest[5], digest[6], digest[7]);
    ipc_log("project %s -> %s", canonical, project);

    char sock[PATH_MAX];
    path_of(sock, "%s/system.sock", ipc_root);
    if (lstat(sock, &st) == 0) {
        hand_over("the credential model: the system service starts the daemons");
    }
    if (!laid_out(project, canonical) || !tmp_clean(tmp_root)) {
        hand_over("the IPC or tmp directory needs laying out or cleaning");
    }

    char lock_path[PATH_MAX];
    path_of(lock_path, "%s/fab/lock", project);
    int lock = open(lock_path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (lock < 0) {
        hand_over("fab/lock cannot be opened");
    }
    struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    if (fcntl(lock, F_SETLK, &whole) != 0) {
        if (req.info_on) {
            puts("fab: waiting for another fab building this project to finish");
            fflush(stdout);
        }
        while (fcntl(lock, F_SETLKW, &whole) != 0) {
            if (errno != EINTR) {
                fail(FSERROR, "cannot lock %s: %s", lock_path, strerror(errno));
            }
        }
    }
    ipc_log("holds %s", lock_path);

    char faba_file[PATH_MAX], pgid_file[PATH_MAX], dsc[PATH_MAX];
    path_of(faba_file, "%s/fabd/faba", project);
    path_of(pgid_file, "%s/fabd/pgid", project);
    path_of(dsc, "%s/dsc", project);
    int fabd = read_pid(pgid_file);
    bool running = fabd_pair_running(project) && alive(fabd) && linked_pid(dsc) == fabd && is_faba_of(read_pid(faba_file), project);
    if (!running) {
        close(lock); /* the Java client takes the lock itself */
        hand_over("the daemons are not running: the Java client starts them");
    }
    int status = command(project, cwd, argc, argv);
    fflush(stdout);
    return status;
}
