/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-rss-helper OUTFILE PROGRAM [ARGS...]: runs PROGRAM and writes its
 * peak RSS (KiB, from wait4) to OUTFILE; exits with its status.
 *
 * Why a helper: Linux carries a process's peak RSS across exec(), so a
 * program forked straight from a large test process reports the test's
 * RSS as its own. Forked from this small process, it reports its own. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct rusage ru = { 0 };
  int status = 0;
  pid_t pid;
  FILE *f;

  if (argc < 3)
    {
      fprintf (stderr, "usage: %s OUTFILE PROGRAM [ARGS...]\n", argv[0]);
      return 125;
    }
  pid = fork ();
  if (pid < 0)
    {
      perror ("fork");
      return 125;
    }
  if (pid == 0)
    {
      /* Killed with us when the test gives up on us. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      execv (argv[2], argv + 2);
      perror (argv[2]);
      _exit (127);
    }
  while (wait4 (pid, &status, 0, &ru) < 0)
    {
      if (errno != EINTR)
        {
          perror ("wait4");
          return 125;
        }
    }
  f = fopen (argv[1], "w");
  if (f == NULL || fprintf (f, "%ld\n", ru.ru_maxrss) < 0 || fclose (f) != 0)
    {
      perror (argv[1]);
      return 125;
    }
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return 128 + WTERMSIG (status);
}
