/* SPDX-License-Identifier: MIT */
/* spa_daemon_worker.c - being written. */
#include "spa_daemon.h"
