# Times a command's whole run (spawn to exit) with stdin from a file, N times after a warm-up,
# and prints the median in milliseconds. Used for both sides of every ratio, so its own spawn
# cost falls on both equally. usage: timer.py RUNS INPUT-FILE COMMAND [ARG...]
import os, statistics, sys, time

runs, infile, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
devnull = os.open(os.devnull, os.O_WRONLY)

def once():
    fd = os.open(infile, os.O_RDONLY)
    t = time.perf_counter_ns()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter_ns() - t
    os.close(fd)
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"timer: {' '.join(argv)} exited {code}")
    return elapsed / 1e6

for _ in range(max(3, runs // 10)):
    once()
print(f"{statistics.median(once() for _ in range(runs)):.2f}")
