/* SPDX-License-Identifier: MIT */
/* spa_privsep.c - being written. */
#include "spa_daemon.h"
