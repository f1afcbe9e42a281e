#define _GNU_SOURCE
#include "csystem.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <sys/stat.h>

int ccci_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int ccci_flock(int fd, int operation) { return flock(fd, operation); }
ssize_t ccci_getrandom(void *buffer, size_t length, unsigned int flags) { return getrandom(buffer, length, flags); }
int ccci_posix_openpt(int flags) { return posix_openpt(flags); }
int ccci_grantpt(int fd) { return grantpt(fd); }
int ccci_unlockpt(int fd) { return unlockpt(fd); }
int ccci_ptsname_r(int fd, char *buffer, size_t length) { return ptsname_r(fd, buffer, length); }
int ccci_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}
int ccci_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
short ccci_spawn_flag_setsid(void) { return POSIX_SPAWN_SETSID; }
int ccci_execvpe(const char *file, char *const argv[], char *const envp[]) { return execvpe(file, argv, envp); }

ssize_t ccci_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }
ssize_t ccci_lgetxattr(const char *path, const char *name, void *value, size_t size) { return lgetxattr(path, name, value, size); }
int ccci_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags) {
    return lsetxattr(path, name, value, size, flags);
}
ssize_t ccci_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }
ssize_t ccci_fgetxattr(int fd, const char *name, void *value, size_t size) { return fgetxattr(fd, name, value, size); }
int ccci_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}

int ccci_seek_data(void) { return SEEK_DATA; }
int ccci_seek_hole(void) { return SEEK_HOLE; }
ssize_t ccci_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len, unsigned int flags) {
    return copy_file_range(fd_in, (loff_t *)off_in, fd_out, (loff_t *)off_out, len, flags);
}
int ccci_sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags) {
    return sync_file_range(fd, offset, nbytes, flags);
}
unsigned int ccci_sync_file_range_write(void) { return SYNC_FILE_RANGE_WRITE; }
unsigned int ccci_sync_file_range_wait_before(void) { return SYNC_FILE_RANGE_WAIT_BEFORE; }
unsigned int ccci_sync_file_range_wait_after(void) { return SYNC_FILE_RANGE_WAIT_AFTER; }
int ccci_posix_fadvise(int fd, int64_t offset, int64_t len, int advice) { return posix_fadvise(fd, offset, len, advice); }
int ccci_fadv_dontneed(void) { return POSIX_FADV_DONTNEED; }
int ccci_fadv_sequential(void) { return POSIX_FADV_SEQUENTIAL; }
int ccci_syncfs(int fd) { return syncfs(fd); }

int ccci_o_noatime(void) { return O_NOATIME; }


static volatile sig_atomic_t ccci_caught_signal;
static struct sigaction ccci_saved_int, ccci_saved_term, ccci_saved_hup;
static int ccci_catching;

static void ccci_record_signal(int sig) {
    if (ccci_caught_signal == 0) ccci_caught_signal = sig;
}

void ccci_signals_catch(void) {
    if (ccci_catching) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ccci_record_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll(2) and friends return EINTR, the loop notices at once
    sigaction(SIGINT, &sa, &ccci_saved_int);
    sigaction(SIGTERM, &sa, &ccci_saved_term);
    sigaction(SIGHUP, &sa, &ccci_saved_hup);
    // A signal we were told to ignore (nohup) stays ignored.
    if (ccci_saved_int.sa_handler == SIG_IGN) sigaction(SIGINT, &ccci_saved_int, NULL);
    if (ccci_saved_term.sa_handler == SIG_IGN) sigaction(SIGTERM, &ccci_saved_term, NULL);
    if (ccci_saved_hup.sa_handler == SIG_IGN) sigaction(SIGHUP, &ccci_saved_hup, NULL);
    ccci_catching = 1;
}

void ccci_signals_restore(void) {
    if (!ccci_catching) return;
    sigaction(SIGINT, &ccci_saved_int, NULL);
    sigaction(SIGTERM, &ccci_saved_term, NULL);
    sigaction(SIGHUP, &ccci_saved_hup, NULL);
    ccci_catching = 0;
}

int ccci_signals_take(void) {
    int sig = ccci_caught_signal;
    ccci_caught_signal = 0;
    return sig;
}

int ccci_mount_id(int dirfd, const char *name, uint64_t *mount_id) {
    struct statx st;
    int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (name[0] == 0 ? AT_EMPTY_PATH : 0);
    if (statx(dirfd, name, flags, STATX_MNT_ID, &st) != 0) {
        if (errno != ENOSYS) return -1;
        *mount_id = 0;  /* no statx (before Linux 4.11): callers fall back on st_dev alone */
        return 0;
    }
    *mount_id = (st.stx_mask & STATX_MNT_ID) ? st.stx_mnt_id : 0;  /* 0 before Linux 5.8 */
    return 0;
}

#ifndef CCCI_VERSION
#define CCCI_VERSION "unknown"
#endif
#ifndef CCCI_COMMIT
#define CCCI_COMMIT "unknown"
#endif
const char *ccci_toolkit_version(void) { return CCCI_VERSION; }
const char *ccci_toolkit_commit(void) { return CCCI_COMMIT; }
