// GNU and Linux-specific calls that the Glibc module does not expose (it is built without
// _GNU_SOURCE). Each is a plain function implemented in csystem.c; the Swift wrappers in
// Sources/CCCICore/System are the only callers.
#ifndef CCCI_CSYSTEM_H
#define CCCI_CSYSTEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>

int ccci_pipe2(int fds[2], int flags);
int ccci_flock(int fd, int operation);
ssize_t ccci_getrandom(void *buffer, size_t length, unsigned int flags);
int ccci_posix_openpt(int flags);
int ccci_grantpt(int fd);
int ccci_unlockpt(int fd);
int ccci_ptsname_r(int fd, char *buffer, size_t length);
int ccci_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
int ccci_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
short ccci_spawn_flag_setsid(void);
int ccci_execvpe(const char *file, char *const argv[], char *const envp[]);

// Extended attributes (no symlink following: the l* variants).
ssize_t ccci_llistxattr(const char *path, char *list, size_t size);
ssize_t ccci_lgetxattr(const char *path, const char *name, void *value, size_t size);
int ccci_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags);
ssize_t ccci_flistxattr(int fd, char *list, size_t size);
ssize_t ccci_fgetxattr(int fd, const char *name, void *value, size_t size);
int ccci_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);

// Sparse files, zero-copy and writeback.
int ccci_seek_data(void);
int ccci_seek_hole(void);
ssize_t ccci_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len, unsigned int flags);
int ccci_sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags);
unsigned int ccci_sync_file_range_write(void);
unsigned int ccci_sync_file_range_wait_before(void);
unsigned int ccci_sync_file_range_wait_after(void);
int ccci_posix_fadvise(int fd, int64_t offset, int64_t len, int advice);
int ccci_fadv_dontneed(void);
int ccci_fadv_sequential(void);
int ccci_syncfs(int fd);

// Termination signals (INT, TERM, HUP) caught while a child runs, so they can be forwarded to
// its process group: install saves the previous dispositions, restore puts them back, take
// returns the first signal caught since install (0 if none) and clears it.
void ccci_signals_catch(void);
void ccci_signals_restore(void);
int ccci_signals_take(void);

// Mounts: statx(2) with STATX_MNT_ID, no symlink following (AT_EMPTY_PATH when name is "").
// The id is 0 where the kernel cannot tell (no statx, or before Linux 5.8).
int ccci_mount_id(int dirfd, const char *name, uint64_t *mount_id);

// The toolkit's version and the commit it was built from (Package.swift defines both).
const char *ccci_toolkit_version(void);
const char *ccci_toolkit_commit(void);

// Open flags that need _GNU_SOURCE.
int ccci_o_noatime(void);

#endif
