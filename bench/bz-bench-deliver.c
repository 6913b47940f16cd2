/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A minimal maildir(5) MDA for fetchmail's --mda: stdin -> DIR/tmp/NAME,
 * fsync, rename to DIR/new/NAME. One exec per message, like procmail or
 * maildrop, but without their rule processing, so fetchmail is measured
 * with the cheapest delivery it can have into a Maildir.
 *
 *   bz-bench-deliver DIR < message */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  char tmp[4096], dst[4096], buf[65536];
  struct timeval tv;
  ssize_t n;
  int fd;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s MAILDIR < message\n", argv[0]);
      return 64;
    }
  gettimeofday (&tv, NULL);
  snprintf (tmp, sizeof tmp, "%s/tmp/%ld.M%ldP%d.bench", argv[1], (long) tv.tv_sec,
            (long) tv.tv_usec, (int) getpid ());
  snprintf (dst, sizeof dst, "%s/new/%ld.M%ldP%d.bench", argv[1], (long) tv.tv_sec,
            (long) tv.tv_usec, (int) getpid ());
  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0)
    {
      perror (tmp);
      return 75;
    }
  while ((n = read (0, buf, sizeof buf)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return 75;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (fd, buf + off, (size_t) (n - off));
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return 75;
          off += w;
        }
    }
  if (fsync (fd) != 0 || close (fd) != 0 || rename (tmp, dst) != 0)
    {
      perror (dst);
      return 75;
    }
  return 0;
}
