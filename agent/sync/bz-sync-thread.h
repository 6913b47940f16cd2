/* SPDX-License-Identifier: GPL-3.0-or-later */
/* buzon's own worker threads. GIO's shared GTask pool also resolves host
 * names (GThreadedResolver) and serves ListMessages; a sync that blocks on
 * a slow server for minutes must not hold one of its few threads, or a
 * DNS lookup of the next account waits behind it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Runs @func (@task, its source object, task data, cancellable) in a new
 * thread of its own, which ends with it. The thread holds a reference on
 * @task until @func returns; @func must return the task's result. Callers
 * bound how many run at once (the daemon's max-parallel). If no thread can
 * be made, the task returns that error. */
void bz_sync_thread_run (GTask *task, GTaskThreadFunc func);

/* The same, but one after another in a single long-lived thread shared by
 * every caller: for short jobs that would only contend with each other
 * (the start-up recovery of each account), in FIFO order. */
void bz_sync_thread_run_serial (GTask *task, GTaskThreadFunc func);
/* Threads started by bz_sync_thread_run() from now on run @increment
 * nice levels below their creator (the threads they start inherit it),
 * so that a process's other work comes first. Errors are only logged. */
void bz_sync_thread_set_nice (int increment);

G_END_DECLS
