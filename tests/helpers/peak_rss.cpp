// Test helper: peak_rss REPORT COMMAND [ARGS...] runs COMMAND, writes "max_rss_kb cpu_seconds" of it
// to REPORT as the kernel accounts them (wait4), and exits with its status.
//
// Why a helper: a process started by posix_spawn (vfork) from the test, which has LibTorch loaded,
// has the test's resident size counted into its ru_maxrss at exec. Forked from this small process,
// the command's peak starts from the helper's few MB and so measures the command alone.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: peak_rss REPORT COMMAND [ARGS...]\n");
    return 125;
  }
  pid_t pid = fork();
  if (pid < 0) return 126;
  if (pid == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) < 0) return 126;
  const double cpu = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  if (FILE* report = std::fopen(argv[1], "w")) {
    std::fprintf(report, "%ld %.3f\n", usage.ru_maxrss, cpu);
    std::fclose(report);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
